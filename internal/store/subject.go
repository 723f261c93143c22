package store

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"configmarket/internal/identity"
)

// subjectOf names ctx's subject for the row-level security of money data
// (migration 0014): the platform itself, an admin, or the organisation a
// viewer acts for. Anonymous contexts name none and see no money rows.
func subjectOf(ctx context.Context) string {
	if identity.IsSystem(ctx) {
		return string(identity.RoleSystem)
	}
	v := identity.FromContext(ctx)
	switch {
	case v.Anonymous():
		return ""
	case v.IsAdmin():
		return string(identity.RoleAdmin)
	default:
		return string(v.Role) + ":" + v.ActingFor.String()
	}
}

// userOf names ctx's user for the row-level security of per-user rows (API
// tokens, migration 0027): the viewer's user, or none.
func userOf(ctx context.Context) string {
	v := identity.FromContext(ctx)
	if v.Anonymous() {
		return ""
	}
	return v.UserID.String()
}

const setSubject = `select set_config('cm.subject', $1, true), set_config('cm.user', $2, true)`

// withSubject runs fn where row-level security sees ctx's subject. The
// setting is transaction-local, so it can never leak to the next user of a
// pooled connection: inside InTx it is set once per transaction; outside
// one each statement goes out in a pipelined batch behind the setting, and
// the batch runs as one implicit, read-only transaction (money is only
// written inside InTx, which also writes the audit row) — one round trip
// instead of BEGIN, subject, statement and COMMIT.
func (q *Queries) withSubject(ctx context.Context, op string, fn func(db dbtx) error) error {
	if q.pool == nil {
		if !q.subjectSet {
			if _, err := q.db.Exec(ctx, setSubject, subjectOf(ctx), userOf(ctx)); err != nil {
				return mapErr(err, op+": set subject")
			}
			q.subjectSet = true
		}
		return fn(q.db)
	}
	return fn(subjectBatch{pool: q.pool, subject: subjectOf(ctx), user: userOf(ctx)})
}

// readOnlySubject opens a batch: the implicit transaction becomes read-only
// and names its subject.
const readOnlySubject = `select set_config('transaction_read_only', 'on', true), set_config('cm.subject', $1, true),
	set_config('cm.user', $2, true)`

// subjectBatch sends every statement after readOnlySubject in one batch.
type subjectBatch struct {
	pool    *boundedPool
	subject string
	user    string
}

func (b subjectBatch) send(ctx context.Context, sql string, args []any) (*batchRows, error) {
	c, err := b.pool.acquire(ctx)
	if err != nil {
		return nil, err
	}
	batch := &pgx.Batch{}
	batch.Queue(readOnlySubject, b.subject, b.user)
	batch.Queue(sql, args...)
	br := c.SendBatch(ctx, batch)
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		c.Release()
		return nil, err
	}
	return &batchRows{results: br, conn: c}, nil
}

func (b subjectBatch) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	r, err := b.send(ctx, sql, args)
	if err != nil {
		return nil, err
	}
	if r.Rows, err = r.results.Query(); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

func (b subjectBatch) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, err := b.Query(ctx, sql, args...)
	if err != nil {
		return errRow{err}
	}
	return firstRow{rows}
}

func (b subjectBatch) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	r, err := b.send(ctx, sql, args)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := r.results.Exec()
	r.Close()
	if err == nil {
		err = r.closeErr
	}
	return tag, err
}

// batchRows are a batch's result rows; reading them to the end or closing
// them ends the batch and gives the connection back.
type batchRows struct {
	pgx.Rows
	results  pgx.BatchResults
	conn     *pgxpool.Conn
	closeErr error
}

func (r *batchRows) end() {
	if r.conn == nil {
		return
	}
	if r.Rows != nil {
		r.Rows.Close()
	}
	r.closeErr = r.results.Close()
	r.conn.Release()
	r.conn = nil
}

func (r *batchRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.end()
	return false
}

func (r *batchRows) Close() { r.end() }

func (r *batchRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.closeErr
}

// firstRow is QueryRow over rows: the first row, or pgx.ErrNoRows.
type firstRow struct{ rows pgx.Rows }

func (r firstRow) Scan(dest ...any) error {
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}

// listMoney is list under ctx's row-level-security subject.
func listMoney[T any](ctx context.Context, q *Queries, op string, scan pgx.RowToFunc[T], sql string, args ...any) ([]T, error) {
	var out []T
	err := q.withSubject(ctx, op, func(db dbtx) (err error) {
		out, err = list(ctx, db, op, scan, sql, args...)
		return err
	})
	return out, err
}

// oneMoney is one under ctx's row-level-security subject.
func oneMoney[T any](ctx context.Context, q *Queries, op string, scan pgx.RowToFunc[T], sql string, args ...any) (T, error) {
	var out T
	err := q.withSubject(ctx, op, func(db dbtx) (err error) {
		out, err = one(ctx, db, op, scan, sql, args...)
		return err
	})
	return out, err
}

// scanMoney scans the one row of a query under ctx's row-level-security
// subject.
func (q *Queries) scanMoney(ctx context.Context, op, sql string, args []any, dest ...any) error {
	return q.withSubject(ctx, op, func(db dbtx) error {
		return mapErr(db.QueryRow(ctx, sql, args...).Scan(dest...), op)
	})
}
