package apitest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"configmarket/internal/app"
	"configmarket/internal/benchdata"
	"configmarket/internal/cache"
	"configmarket/internal/dbtest"
	"configmarket/internal/factory"
	"configmarket/internal/password"
	"configmarket/internal/store"
)

// statementLog records the statements a pool sends, with their arguments,
// so the test can ask PostgreSQL how it runs each one.
type statementLog struct {
	mu    sync.Mutex
	on    bool
	stmts []loggedStatement
}

type loggedStatement struct {
	sql  string
	args []any
}

func (l *statementLog) add(sql string, args []any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.on {
		l.stmts = append(l.stmts, loggedStatement{sql, args})
	}
}

func (l *statementLog) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	l.add(d.SQL, d.Args)
	return ctx
}
func (l *statementLog) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (l *statementLog) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}
func (l *statementLog) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	l.add(d.SQL, d.Args)
}
func (l *statementLog) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// record runs fn and returns the statements it sent.
func (l *statementLog) record(fn func()) []loggedStatement {
	l.mu.Lock()
	l.on, l.stmts = true, nil
	l.mu.Unlock()
	fn()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.on = false
	return l.stmts
}

// bigTables are the tables that grow with the marketplace: a plan may
// read them only through an index.
var bigTables = map[string]bool{
	"configurations": true, "versions": true, "prices": true, "reviews": true, "installations": true,
	"payments": true, "ledger_entries": true, "invoices": true, "customers": true, "users": true, "pins": true,
}

// seqScans lists the big tables a JSON plan reads whole.
func seqScans(node map[string]any) []string {
	return planNodes(node, func(n map[string]any) (string, bool) {
		rel, _ := n["Relation Name"].(string)
		return rel, n["Node Type"] == "Seq Scan" && bigTables[rel]
	})
}

// indexOnlyScans are the indexes a plan reads without visiting their table.
func indexOnlyScans(node map[string]any) []string {
	return planNodes(node, func(n map[string]any) (string, bool) {
		index, _ := n["Index Name"].(string)
		return index, n["Node Type"] == "Index Only Scan"
	})
}

// planNodes names the nodes of a plan that pick picks, depth first.
func planNodes(node map[string]any, pick func(map[string]any) (string, bool)) []string {
	var out []string
	if name, ok := pick(node); ok {
		out = append(out, name)
	}
	children, _ := node["Plans"].([]any)
	for _, c := range children {
		if m, ok := c.(map[string]any); ok {
			out = append(out, planNodes(m, pick)...)
		}
	}
	return out
}

// TestMainQueriesUseIndexesAtScale serves a generated marketplace (a few
// thousand configurations, tens of thousands of installations, payments
// and ledger entries) and asks PostgreSQL for the plan of every statement
// the main read paths send — the storefront listing in each order and page
// size, search, the developer dashboard and partner totals — with the
// arguments the server sent. None may read a big table whole, and the
// listing sends as many statements for 100 rows as for 10.
func TestMainQueriesUseIndexesAtScale(t *testing.T) {
	if testing.Short() {
		t.Skip("loads a marketplace")
	}
	ctx := context.Background()
	log := &statementLog{}
	url := dbtest.URL(t)
	pool := dbtest.OwnerPool(t, url) // loads the data
	// The server runs as in production: its own role, under row-level
	// security; its statements are recorded.
	appPool, _ := dbtest.AppPool(t, url, func(c *pgxpool.Config) { c.ConnConfig.Tracer = log })

	hasher, err := password.NewHasher(factory.CheapHash)
	if err != nil {
		t.Fatal(err)
	}
	hash, err := hasher.Hash(benchdata.Password)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sizes := benchdata.Sizes{
		Customers: 3_000, FreshCustomers: 100, Developers: 300, Partners: 30, Admins: 1,
		Configurations: 3_000, VersionsPerConfiguration: 10, Installations: 20_000, Payments: 40_000,
	}
	start := time.Now()
	if _, err := benchdata.Load(ctx, conn.Conn(), sizes, hash, time.Now().UTC().Truncate(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	conn.Release()
	t.Logf("marketplace loaded in %s", time.Since(start).Round(time.Millisecond))

	d, _ := NewDeps(t, store.New(appPool), &cache.None{})
	srv := httptest.NewServer(app.New(d).Handler())
	t.Cleanup(srv.Close)
	s := &Server{Server: srv}
	logIn := func(email, role string) string {
		res := s.Do(t, "", logInMutation, map[string]any{"input": map[string]any{"email": email, "password": benchdata.Password, "role": role}})
		token := str(res.Data, "logIn", "session", "accessToken")
		if token == "" {
			t.Fatalf("log in %s: %s", email, res.Raw)
		}
		return token
	}
	developer, partner := logIn("developer-7@bench.test", "DEVELOPER"), logIn("partner-3@bench.test", "PARTNER")
	// The tariff plans are kept in the process from their first read on.
	s.Do(t, "", `{ tariffPlans { code } }`, nil)

	listing := func(first int, orderBy string) string {
		return fmt.Sprintf(`{ configurations(first: %d%s) { nodes { slug title developer { name } currentVersion { number }
			versions(first: 3) { nodes { number } } rentPrices { tariffPlan { code } price { amount } } salePrice { amount }
			rating { average count } } } }`, first, orderBy)
	}
	cases := []struct {
		name, token, query string
		vars               map[string]any
		// wholeRead names the one big table a case may still read whole.
		wholeRead string
		// cards: a storefront page whose cards show none of their
		// configurations' details, and read their versions' summaries.
		cards bool
	}{
		{name: "listing 10", query: listing(10, ""), cards: true},
		{name: "listing 50", query: listing(50, ""), cards: true},
		{name: "listing 100", query: listing(100, ""), cards: true},
		{name: "listing newest", query: listing(50, ", orderBy: {field: NEWEST}"), cards: true},
		{name: "listing rating", query: listing(50, ", orderBy: {field: RATING}"), cards: true},
		// Known and measured (docs/performance.md): sorting by the price
		// in force on a plan reads every public configuration's current
		// price; no single index holds that order.
		{"listing price", "", listing(50, `, orderBy: {field: PRICE, plan: "B", direction: ASC}`), nil, "configurations", false},
		{name: "search", query: `query ($q: String!) { configurations(first: 20, filter: {search: $q}, orderBy: {field: RELEVANCE}) {
			nodes { slug title rating { average } rentPrice(plan: "B") { amount } } } }`, vars: map[string]any{"q": "складской"}},
		{name: "search typo", query: `query ($q: String!) { configurations(first: 20, filter: {search: $q}) { nodes { slug } } }`,
			vars: map[string]any{"q": "acounting"}},
		{name: "developer dashboard", token: developer, query: `{ viewer { developer {
			installations(first: 50) { nodes { id state configuration { title } } }
			payments(first: 50) { nodes { id amount { amount } configuration { title } } } } } }`},
		{name: "partner totals", token: partner, query: `{ viewer { partner {
			byMonth: commissionTotals(groupBy: MONTH) { key share { amount } }
			byKind: commissionTotals(groupBy: PAID_FOR) { key share { amount } } } } }`},
	}
	statements := map[string]int{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var res Response
			stmts := log.record(func() { res = s.Do(t, c.token, c.query, c.vars) })
			if len(res.Errors) > 0 || res.Status != 200 {
				t.Fatalf("%d %s", res.Status, res.Raw)
			}
			statements[c.name] = len(stmts)
			// Explained as the server ran them: as its role, in one
			// transaction that replays the row-level-security subject.
			tx, err := appPool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(ctx)
			for _, st := range stmts {
				switch {
				case strings.HasPrefix(st.sql, "begin"), st.sql == "commit", st.sql == "rollback":
					continue
				case strings.Contains(st.sql, "set_config('cm.subject'"):
					if _, err := tx.Exec(ctx, `select set_config('cm.subject', $1, true), set_config('cm.user', $2, true)`, st.args...); err != nil {
						t.Fatal(err)
					}
					continue
				}
				var raw []byte
				if err := tx.QueryRow(ctx, "explain (format json) "+st.sql, st.args...).Scan(&raw); err != nil {
					t.Fatalf("explain %s: %v", st.sql, err)
				}
				var plans []struct{ Plan map[string]any }
				if err := json.Unmarshal(raw, &plans); err != nil {
					t.Fatal(err)
				}
				if scans := slices.DeleteFunc(seqScans(plans[0].Plan), func(s string) bool { return s == c.wholeRead }); len(scans) > 0 {
					t.Errorf("reads %s whole:\n%s\nplan: %s", strings.Join(scans, ", "), st.sql, raw)
				}
				if c.cards && strings.Contains(st.sql, "array_agg") {
					// The cards' columns only, and their versions from the index alone.
					if strings.Contains(st.sql, "c.summary") {
						t.Errorf("a page of cards reads details:\n%s", st.sql)
					}
					if !slices.Contains(indexOnlyScans(plans[0].Plan), "versions_configuration_summary_idx") {
						t.Errorf("a page of cards reads its versions from the table:\n%s\nplan: %s", st.sql, raw)
					}
				}
			}
		})
	}
	if a, b, c := statements["listing 10"], statements["listing 50"], statements["listing 100"]; a != b || b != c || a == 0 {
		t.Errorf("statements per listing of 10/50/100: %d/%d/%d, want equal", a, b, c)
	}
}
