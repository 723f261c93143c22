// Package dbtest gives each test its own freshly migrated PostgreSQL
// database, cloned from a template that is migrated once per schema hash.
package dbtest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for pgtestdb
	"github.com/peterldowns/pgtestdb"

	"configmarket/internal/store"
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

// AppPassword is the test clusters' password of the server's role.
const AppPassword = "cm-app-test"

var appRole sync.Once

// ensureAppRole creates the server's role once per process, as the
// cluster's admin: the migrations run as pgtestdb's role, which may not
// create roles.
func ensureAppRole(t testing.TB) {
	t.Helper()
	var err error
	appRole.Do(func() {
		ctx := context.Background()
		var conn *pgx.Conn
		if conn, err = pgx.Connect(ctx, os.Getenv("DATABASE_URL")); err != nil {
			return
		}
		defer conn.Close(ctx)
		// Test binaries of several packages run at once: the lock keeps
		// their role changes from colliding ("tuple concurrently updated").
		_, err = conn.Exec(ctx, `do $$ begin
			perform pg_advisory_xact_lock(hashtext('configmarket:app-role'));
			if not exists (select from pg_roles where rolname = '`+migrations.AppRole+`') then
				create role `+migrations.AppRole+` login;
			end if;
			alter role `+migrations.AppRole+` login password '`+AppPassword+`';
		end $$`)
	})
	if err != nil {
		t.Fatalf("create the server's database role: %v", err)
	}
}

// URL returns the connection string of a new migrated database for t; it
// connects as the database's owner.
func URL(t testing.TB) string {
	t.Helper()
	ensureAppRole(t)
	return pgtestdb.Custom(t, serverConfig(t), migrator{}).URL()
}

// AppPool connects to the database at ownerURL as the server's own role,
// bound by row-level security, with a statement counter; closed when t
// ends.
func AppPool(t testing.TB, ownerURL string, adjust ...func(*pgxpool.Config)) (*pgxpool.Pool, *Counter) {
	t.Helper()
	return connect(t, ownerURL, func(cfg *pgxpool.Config) {
		cfg.ConnConfig.User, cfg.ConnConfig.Password = migrations.AppRole, AppPassword
		store.ConfigureSessions(cfg)
		for _, a := range adjust {
			a(cfg)
		}
	})
}

// Pool returns a pool on a new migrated database, closed when t ends.
func Pool(t testing.TB) *pgxpool.Pool {
	pool, _ := CountingPool(t)
	return pool
}

// Counter counts the statements a pool sends, so loader tests can prove a
// query's statement count does not grow with the number of rows, and the
// rows they returned.
type Counter struct{ n, rows atomic.Int64 }

// Count is the number of statements sent so far.
func (c *Counter) Count() int64 { return c.n.Load() }

// Rows is the number of rows the statements returned or changed so far.
func (c *Counter) Rows() int64 { return c.rows.Load() }

func (c *Counter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}

func (c *Counter) TraceQueryEnd(_ context.Context, _ *pgx.Conn, d pgx.TraceQueryEndData) {
	c.rows.Add(d.CommandTag.RowsAffected())
}

// Batches count each statement they carry.
func (c *Counter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

func (c *Counter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) { c.n.Add(1) }

func (c *Counter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// OwnerPool connects to the database at url as its owner, which row-level
// security does not bind: for setting up and inspecting test data.
func OwnerPool(t testing.TB, url string) *pgxpool.Pool {
	t.Helper()
	pool, _ := connect(t, url, nil)
	return pool
}

// CountingPool is Pool with a statement counter.
func CountingPool(t testing.TB) (*pgxpool.Pool, *Counter) {
	t.Helper()
	return connect(t, URL(t), nil)
}

func connect(t testing.TB, url string, adjust func(*pgxpool.Config)) (*pgxpool.Pool, *Counter) {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	counter := &Counter{}
	cfg.ConnConfig.Tracer = counter
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	if adjust != nil {
		adjust(cfg) // last, so a test may trace with its own tracer
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(fmt.Errorf("connect test database: %w", err))
	}
	t.Cleanup(pool.Close)
	return pool, counter
}
