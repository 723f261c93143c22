package migrations_test

import (
	"context"
	"errors"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/tern/v2/migrate"

	"configmarket/internal/dbtest"
	"configmarket/internal/store"
	"configmarket/migrations"
)

// emptyDatabase creates a database with no schema at all, dropped when t
// ends, and returns its URL.
func emptyDatabase(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	admin := os.Getenv("DATABASE_URL")
	if admin == "" {
		t.Fatal("DATABASE_URL is not set: run the tests with `make test`")
	}
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	name := "audit_chain_" + strings.ReplaceAll(uuid.NewString(), "-", "")
	if _, err := conn.Exec(ctx, "create database "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), admin)
		if err == nil {
			_, _ = c.Exec(context.Background(), "drop database if exists "+name+" with (force)")
			c.Close(context.Background())
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// Migration 0023 adds the amount and the provider event id to the audit
// log, inside the hash chain: rows written before it still verify, unchanged,
// and a changed amount or event id on a later row breaks the chain there.
func TestAuditAmountsJoinTheChainWithoutRewritingIt(t *testing.T) {
	ctx := context.Background()
	dbURL := emptyDatabase(t)
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	m, err := migrate.NewMigrator(ctx, conn, "public.schema_version")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.LoadMigrations(os.DirFS(".")); err != nil {
		t.Fatal(err)
	}
	var amounts int32
	for _, mig := range m.Migrations {
		if strings.HasSuffix(mig.Name, "_audit_amounts.sql") {
			amounts = mig.Sequence
		}
	}
	if amounts == 0 {
		t.Fatal("no audit_amounts migration")
	}
	if err := m.MigrateTo(ctx, amounts-1); err != nil {
		t.Fatal(err)
	}
	// Rows of every shape the old code wrote: with and without actor,
	// role, target and request id.
	if _, err := conn.Exec(ctx, `insert into audit_log (actor_user_id, role, action, target, result, request_id) values
		(gen_random_uuid(), 'admin', 'recordPayment', 'UGF5bWVudDox', 'ok', 'req-1'),
		(null, null, 'logIn', null, 'failed', null),
		(gen_random_uuid(), 'customer', 'rentConfiguration', null, 'denied', 'req-3')`); err != nil {
		t.Fatal(err)
	}
	before := hashes(t, conn)
	if err := migrations.Migrate(ctx, conn); err != nil {
		t.Fatal(err)
	}
	after := hashes(t, conn)
	if strings.Join(before, ",") != strings.Join(after, ",") {
		t.Fatalf("the migration rewrote the chain: %v → %v", before, after)
	}
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	st := store.New(pool)
	if broken, err := st.BrokenAuditRow(ctx); err != nil || broken != 0 {
		t.Fatalf("old rows after the migration: broken at %d, %v", broken, err)
	}

	// New rows carry the amount and the event id, and the chain holds them.
	var withAmount, withEvent int64
	if err := conn.QueryRow(ctx, `insert into audit_log (role, action, target, result, amount_minor, currency)
		values ('admin', 'refundPayment', 'UGF5bWVudDox', 'ok', 12050, 'RUB') returning id`).Scan(&withAmount); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `insert into audit_log (role, action, target, result, event_id)
		values ('system', 'payment.refunded', 'UGF5bWVudDox', 'ok', 'evt_1') returning id`).Scan(&withEvent); err != nil {
		t.Fatal(err)
	}
	if broken, err := st.BrokenAuditRow(ctx); err != nil || broken != 0 {
		t.Fatalf("new rows: broken at %d, %v", broken, err)
	}
	tamper := func(set string) {
		t.Helper()
		if _, err := conn.Exec(ctx, `alter table audit_log disable trigger audit_log_append_only;
			update audit_log set `+set+`;
			alter table audit_log enable trigger audit_log_append_only`); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		id          int64
		set, revert string
	}{
		{withAmount, `amount_minor = 1`, `amount_minor = 12050`},
		{withAmount, `currency = 'USD'`, `currency = 'RUB'`},
		{withEvent, `event_id = 'evt_2'`, `event_id = 'evt_1'`},
		// A value moved to another column is caught too: the new columns
		// are tagged in the hashed text.
		{withEvent, `request_id = 'evt_1', event_id = null`, `request_id = null, event_id = 'evt_1'`},
	} {
		where := ` where id = ` + strconv.FormatInt(c.id, 10)
		tamper(c.set + where)
		if broken, err := st.BrokenAuditRow(ctx); err != nil || broken != c.id {
			t.Errorf("set %s: broken at %d (%v), want %d", c.set, broken, err, c.id)
		}
		tamper(c.revert + where)
		if broken, err := st.BrokenAuditRow(ctx); err != nil || broken != 0 {
			t.Fatalf("reverted %s: broken at %d, %v", c.set, broken, err)
		}
	}
}

func hashes(t *testing.T, conn *pgx.Conn) []string {
	t.Helper()
	rows, err := conn.Query(context.Background(), `select encode(hash, 'hex') from audit_log order by id`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// An audit row's amount always has its currency, and an event id is never
// empty.
func TestAuditAmountConstraints(t *testing.T) {
	pool := dbtest.Pool(t)
	for _, c := range []struct{ sql, constraint string }{
		{`insert into audit_log (action, result, amount_minor) values ('refundPayment', 'ok', 100)`, "audit_log_amount_check"},
		{`insert into audit_log (action, result, currency) values ('refundPayment', 'ok', 'RUB')`, "audit_log_amount_check"},
		{`insert into audit_log (action, result, amount_minor, currency) values ('refundPayment', 'ok', 100, 'rub')`, "audit_log_currency_check"},
		{`insert into audit_log (action, result, event_id) values ('payment.refunded', 'ok', '')`, "audit_log_event_id_check"},
	} {
		_, err := pool.Exec(context.Background(), c.sql)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.ConstraintName != c.constraint {
			t.Errorf("%s: %v, want %s", c.sql, err, c.constraint)
		}
	}
}

// Two writers at once: B draws its id, then waits for the chain's lock
// while A, holding it, writes another row. The chain must still follow the
// ids, or auditLogBrokenAt would report tampering that never happened.
func TestConcurrentAuditWritersKeepTheChainInIDOrder(t *testing.T) {
	ctx := context.Background()
	dbURL := dbtest.URL(t)
	a, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(ctx)
	b, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(ctx)
	const insert = `insert into audit_log (role, action, result) values ('system', $1, 'ok')`
	txA, err := a.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := txA.Exec(ctx, insert, "a1"); err != nil {
		t.Fatal(err)
	}
	var bPID int
	if err := b.QueryRow(ctx, `select pg_backend_pid()`).Scan(&bPID); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := b.Exec(ctx, insert, "b")
		done <- err
	}()
	// Wait until B is blocked on the chain's lock.
	for waiting := false; !waiting; {
		if err := a.QueryRow(ctx, `select exists (select from pg_locks where pid = $1 and not granted and locktype = 'advisory')`, bPID).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := txA.Exec(ctx, insert, "a2"); err != nil {
		t.Fatal(err)
	}
	if err := txA.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if broken, err := store.New(pool).BrokenAuditRow(ctx); err != nil || broken != 0 {
		t.Fatalf("chain broken at %d (%v)", broken, err)
	}
}
