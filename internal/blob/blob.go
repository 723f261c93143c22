// Package blob keeps large immutable byte objects — the configurations'
// packages — on an engine operators already run: PostgreSQL by default (in
// chunks, so no row is ever hundreds of megabytes), or an S3-compatible
// object store at scale. Callers never see which.
package blob

import (
	"context"
	"errors"
	"io"
)

// ErrNotFound: no object under the key.
var ErrNotFound = errors.New("blob: not found")

// ErrExists: Put on a key that already holds an object.
var ErrExists = errors.New("blob: key exists")

// Store holds objects by key.
type Store interface {
	// Put stores everything r yields under key, atomically: a failed or
	// interrupted Put (an error from r, a canceled ctx) leaves no object
	// and no part of one under key. A key is written once; Put on an
	// existing key fails.
	Put(ctx context.Context, key string, r io.Reader) (size int64, err error)
	// Open reads the object under key from its start; the reader seeks
	// (for HTTP range requests) and knows its size. ErrNotFound when
	// there is none. The caller closes it.
	Open(ctx context.Context, key string) (Reader, error)
	// Delete removes the object under key; deleting a missing key is not
	// an error.
	Delete(ctx context.Context, key string) error
}

// Reader is an open object.
type Reader interface {
	io.ReadSeekCloser
	Size() int64
}
