package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"configmarket/internal/blob"
)

// blobChunk is the most one blob_chunks row holds.
const blobChunk = 1 << 20

// Blobs is the default package storage (blob.Store): objects in PostgreSQL,
// in chunks of at most 1 MiB (migration 0024).
type Blobs struct{ db *boundedPool }

// Blobs returns the PostgreSQL object store on this pool.
func (s *Store) Blobs() *Blobs { return &Blobs{db: s.bounded} }

var _ blob.Store = (*Blobs)(nil)

// Put writes r under key chunk by chunk, each chunk its own statement, and
// marks the object complete at the end: an upload as slow as its client
// holds no transaction open. On any failure the partial object is deleted
// (with a context of its own: the request's may be what failed).
func (b *Blobs) Put(ctx context.Context, key string, r io.Reader) (size int64, err error) {
	if _, err := b.db.Exec(ctx, `insert into blobs (key) values ($1)`, key); err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" {
			return 0, fmt.Errorf("put blob %s: %w", key, blob.ErrExists)
		}
		return 0, mapErr(err, "insert blob")
	}
	defer func() {
		if err != nil {
			cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			_, _ = b.db.Exec(cleanup, `delete from blobs where key = $1`, key)
		}
	}()
	buf := make([]byte, blobChunk)
	for n := 0; ; n++ {
		got, rerr := io.ReadFull(r, buf)
		if got > 0 {
			if _, err := b.db.Exec(ctx, `insert into blob_chunks (key, n, data) values ($1, $2, $3)`, key, n, buf[:got]); err != nil {
				return 0, mapErr(err, "insert blob chunk")
			}
			size += int64(got)
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return 0, fmt.Errorf("read blob %s: %w", key, rerr)
		}
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if _, err := b.db.Exec(ctx, `update blobs set size = $2, complete = true where key = $1`, key, size); err != nil {
		return 0, mapErr(err, "complete blob")
	}
	return size, nil
}

// Open reads a complete object.
func (b *Blobs) Open(ctx context.Context, key string) (blob.Reader, error) {
	var size int64
	err := b.db.QueryRow(ctx, `select size from blobs where key = $1 and complete`, key).Scan(&size)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, blob.ErrNotFound
	}
	if err != nil {
		return nil, mapErr(err, "select blob")
	}
	return &blobReader{ctx: ctx, db: b.db, key: key, size: size}, nil
}

// Delete removes an object and its chunks.
func (b *Blobs) Delete(ctx context.Context, key string) error {
	_, err := b.db.Exec(ctx, `delete from blobs where key = $1`, key)
	return mapErr(err, "delete blob")
}

// DeleteAbandoned removes objects left incomplete for longer than age (a
// process that died mid-upload); it returns how many.
func (b *Blobs) DeleteAbandoned(ctx context.Context, now time.Time, age time.Duration) (int64, error) {
	tag, err := b.db.Exec(ctx, `delete from blobs where not complete and created_at < $1`, now.Add(-age))
	return tag.RowsAffected(), mapErr(err, "delete abandoned blobs")
}

// blobReader reads an object one chunk at a time, fetching a chunk when
// the position enters it, so a range request reads only its chunks.
type blobReader struct {
	ctx   context.Context
	db    *boundedPool
	key   string
	size  int64
	pos   int64
	chunk []byte // the chunk holding pos, when loaded
	first int64  // offset of chunk's first byte
}

func (r *blobReader) Size() int64 { return r.size }

func (r *blobReader) Read(p []byte) (int, error) {
	if r.pos >= r.size {
		return 0, io.EOF
	}
	if r.chunk == nil || r.pos < r.first || r.pos >= r.first+int64(len(r.chunk)) {
		n := r.pos / blobChunk
		var data []byte
		err := r.db.QueryRow(r.ctx, `select data from blob_chunks where key = $1 and n = $2`, r.key, n).Scan(&data)
		if err != nil {
			return 0, mapErr(err, "select blob chunk")
		}
		r.chunk, r.first = data, n*blobChunk
	}
	n := copy(p, r.chunk[r.pos-r.first:])
	r.pos += int64(n)
	return n, nil
}

func (r *blobReader) Seek(offset int64, whence int) (int64, error) {
	var pos int64
	switch whence {
	case io.SeekStart:
		pos = offset
	case io.SeekCurrent:
		pos = r.pos + offset
	case io.SeekEnd:
		pos = r.size + offset
	default:
		return 0, errors.New("blob: bad whence")
	}
	if pos < 0 {
		return 0, errors.New("blob: negative position")
	}
	r.pos = pos
	return pos, nil
}

func (r *blobReader) Close() error { r.chunk = nil; return nil }
