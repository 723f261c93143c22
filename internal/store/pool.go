package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"configmarket/internal/apperr"
)

// DefaultAcquireTimeout bounds the wait for a pooled connection.
const DefaultAcquireTimeout = time.Second

// ConfigureSessions sets what every server session of the pool runs with.
func ConfigureSessions(pc *pgxpool.Config) {
	// Business time is UTC everywhere; the session agrees.
	pc.ConnConfig.RuntimeParams["timezone"] = "UTC"
	// No statement, lock wait or forgotten transaction may hold a
	// connection for long: a stuck request fails (UNAVAILABLE) instead of
	// starving the pool. LISTEN waits on a hijacked connection, outside
	// statements.
	pc.ConnConfig.RuntimeParams["statement_timeout"] = "10s"
	pc.ConnConfig.RuntimeParams["lock_timeout"] = "3s"
	pc.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = "15s"
	// A database that does not answer a connect is down, not slow.
	pc.ConnConfig.ConnectTimeout = 2 * time.Second
	afterConnect := pc.AfterConnect
	pc.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
		registerUUID(conn.TypeMap())
		if afterConnect != nil {
			return afterConnect(ctx, conn)
		}
		return nil
	}
}

// PoolConfig says how the server's pool connects.
type PoolConfig struct {
	URL string
	// URLFrom names where URL came from (an environment variable), for
	// errors.
	URLFrom string
	// User and Password, when User is set, replace the role of URL: the
	// server connects as a role that owns nothing (migrations.AppRole).
	User, Password string
	MaxConns       int32
	Tracer         pgx.QueryTracer
}

// OpenPool connects a pool whose sessions run as ConfigureSessions sets
// them, and checks that PostgreSQL answers as the pool's role.
func OpenPool(ctx context.Context, c PoolConfig) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(c.URL)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", c.URLFrom, err)
	}
	if c.User != "" {
		pc.ConnConfig.User, pc.ConnConfig.Password = c.User, c.Password
	}
	pc.MaxConns = c.MaxConns
	ConfigureSessions(pc)
	pc.ConnConfig.Tracer = c.Tracer
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("connect postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect postgres as %s: %w", pc.ConnConfig.User, err)
	}
	return pool, nil
}

// boundedPool runs statements on pooled connections but waits at most
// timeout for one. pgxpool's own helpers wait as long as the statement's
// context allows, so a saturated pool (or a database that does not answer
// connects) would hold every request until its client gives up; here they
// fail fast with UNAVAILABLE instead.
type boundedPool struct {
	pool    *pgxpool.Pool
	timeout time.Duration
}

func (p *boundedPool) acquire(ctx context.Context) (*pgxpool.Conn, error) {
	actx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	c, err := p.pool.Acquire(actx)
	if err != nil {
		if ctx.Err() != nil {
			// The caller's own deadline or cancellation, not ours.
			return nil, ctx.Err()
		}
		return nil, apperr.Unavailable(err)
	}
	return c, nil
}

func (p *boundedPool) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	c, err := p.acquire(ctx)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	defer c.Release()
	return c.Exec(ctx, sql, args...)
}

func (p *boundedPool) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	c, err := p.acquire(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := c.Query(ctx, sql, args...)
	if err != nil {
		c.Release()
		return nil, err
	}
	return &connRows{Rows: rows, conn: c}, nil
}

// QueryRow's row must be scanned: Scan gives the connection back.
func (p *boundedPool) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	c, err := p.acquire(ctx)
	if err != nil {
		return errRow{err}
	}
	return connRow{Row: c.QueryRow(ctx, sql, args...), conn: c}
}

func (p *boundedPool) BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error) {
	c, err := p.acquire(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := c.BeginTx(ctx, opts)
	if err != nil {
		c.Release()
		return nil, err
	}
	return &connTx{Tx: tx, conn: c}, nil
}

// connRows gives its connection back once the rows are read or closed.
type connRows struct {
	pgx.Rows
	conn *pgxpool.Conn
}

func (r *connRows) release() {
	if r.conn != nil {
		r.conn.Release()
		r.conn = nil
	}
}

func (r *connRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.release()
	return false
}

func (r *connRows) Close() {
	r.Rows.Close()
	r.release()
}

type connRow struct {
	pgx.Row
	conn *pgxpool.Conn
}

func (r connRow) Scan(dest ...any) error {
	defer r.conn.Release()
	return r.Row.Scan(dest...)
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// connTx gives its connection back when it ends.
type connTx struct {
	pgx.Tx
	conn *pgxpool.Conn
}

func (t *connTx) end(err error) error {
	if t.conn != nil {
		t.conn.Release()
		t.conn = nil
	}
	return err
}

func (t *connTx) Commit(ctx context.Context) error { return t.end(t.Tx.Commit(ctx)) }

func (t *connTx) Rollback(ctx context.Context) error { return t.end(t.Tx.Rollback(ctx)) }

// unavailable reports whether err means the database could not be reached
// or refused to work right now, as opposed to a fault in the statement.
func unavailable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "57014", // statement_timeout
			"55P03",                   // lock_timeout
			"57P01", "57P02", "57P03", // shutting down, crashed, starting up
			"53300", "53400": // too many connections, configuration limit
			return true
		}
		return false
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || errors.As(err, &netErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || pgconn.SafeToRetry(err)
}
