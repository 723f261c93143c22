// Package dbtest gives each test its own freshly migrated PostgreSQL
// database, cloned from a template that is migrated once per schema hash.
package dbtest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for pgtestdb
	"github.com/peterldowns/pgtestdb"

	"configmarket/migrations"
)

// migrator adapts the embedded tern migrations to pgtestdb.
type migrator struct{}

func (migrator) Hash() (string, error) { return migrations.Hash() }

func (migrator) Migrate(ctx context.Context, _ *sql.DB, conf pgtestdb.Config) error {
	conn, err := pgx.Connect(ctx, conf.URL())
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return migrations.Migrate(ctx, conn)
}

func serverConfig(t testing.TB) pgtestdb.Config {
	t.Helper()
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		t.Fatal("DATABASE_URL is not set: run the tests with `make test`")
	}
	cc, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatalf("parse DATABASE_URL: %v", err)
	}
	return pgtestdb.Config{
		DriverName: "pgx",
		Host:       cc.Host,
		Port:       strconv.Itoa(int(cc.Port)),
		User:       cc.User,
		Password:   cc.Password,
		Database:   cc.Database,
		Options:    "sslmode=disable",
		// A test that fails mid-way may leave its pool open; do not let
		// that turn into a second failure at cleanup.
		ForceTerminateConnections: true,
	}
}

// URL returns the connection string of a new migrated database for t.
func URL(t testing.TB) string {
	t.Helper()
	return pgtestdb.Custom(t, serverConfig(t), migrator{}).URL()
}

// Pool returns a pool on a new migrated database, closed when t ends.
func Pool(t testing.TB) *pgxpool.Pool {
	pool, _ := CountingPool(t)
	return pool
}

// Counter counts the statements a pool sends, so loader tests can prove a
// query's statement count does not grow with the number of rows.
type Counter struct{ n atomic.Int64 }

// Count is the number of statements sent so far.
func (c *Counter) Count() int64 { return c.n.Load() }

func (c *Counter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}

func (c *Counter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// CountingPool is Pool with a statement counter.
func CountingPool(t testing.TB) (*pgxpool.Pool, *Counter) {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(URL(t))
	if err != nil {
		t.Fatal(err)
	}
	counter := &Counter{}
	cfg.ConnConfig.Tracer = counter
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(fmt.Errorf("connect test database: %w", err))
	}
	t.Cleanup(pool.Close)
	return pool, counter
}
