package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"configmarket/internal/app"
	"configmarket/internal/cache"
	"configmarket/internal/dbtest"
	"configmarket/internal/store"
)

// The storefront's first page through the real handler, with every cache
// missing (cold) and with the shared cache answering (cached).
//
//	go test -run '^$' -bench Storefront -benchtime 200x .

const storefrontBenchQuery = `{ configurations(first: 50) { nodes {
	slug title developer { name } currentVersion { number } versions(first: 3) { nodes { number } }
	rentPrices { tariffPlan { code } price { amount } } salePrice { amount } rating { average count }
} } }`

// benchServer is a seeded database; handler builds the real HTTP handler
// on it with a given cache.
type benchServer struct {
	store   *store.Store
	counter *dbtest.Counter
}

// newBenchServer migrates a fresh database and seeds 100 published public
// configurations of 10 developers, each with approved versions
// 1.0.0..1.3.0, rent on every plan, a sale price, installs and ratings.
func newBenchServer(b *testing.B) *benchServer {
	b.Helper()
	url := dbtest.URL(b)
	pool := dbtest.OwnerPool(b, url)
	appPool, counter := dbtest.AppPool(b, url)
	st := store.New(pool)
	ctx := context.Background()
	for i := range 10 {
		if _, err := st.CreateDeveloper(ctx, fmt.Sprintf("bench-dev-%d", i), fmt.Sprintf("Bench Developer %d", i)); err != nil {
			b.Fatal(err)
		}
	}
	for _, sql := range []string{
		`with devs as (select id, row_number() over (order by id) - 1 as n from developers)
		insert into configurations (developer_id, slug, title, summary, description, tags, state, published_at,
			sells_rent, sells_purchase, active_installations, rating_count, rating_sum)
		select d.id, format('bench-%s', g), format('Bench configuration %s', g), 'A ready-made sales pipeline',
			'Long description', array['crm', 'sales'], 'published', now() - make_interval(mins => g),
			true, true, g % 37, g % 11, (g % 11) * 4
		from generate_series(1, 100) g join devs d on d.n = g % 10`,
		`insert into versions (configuration_id, major, minor, patch, changelog, state, submitted_at, decided_at)
		select c.id, 1, m, 0, format('Release 1.%s.0', m), 'approved', now(), now()
		from configurations c cross join generate_series(0, 3) m`,
		`insert into prices (configuration_id, kind, tariff_plan_id, amount_minor)
		select c.id, 'rent', t.id, 50000 * t.max_users / 10 from configurations c cross join tariff_plans t`,
		`insert into prices (configuration_id, kind, amount_minor) select c.id, 'sale', 3500000 from configurations c`,
		`analyze`,
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			b.Fatal(err)
		}
	}
	return &benchServer{store: store.New(appPool), counter: counter}
}

func (bs *benchServer) handler(b *testing.B, c cache.Cache, byGqlgen bool) *httptest.Server {
	b.Helper()
	d, _ := NewDeps(b, bs.store, c)
	d.ListingByGqlgen = byGqlgen
	// Requests come from many visitors (X-Forwarded-For from the loopback
	// proxy), so no one address spends its query budget.
	d.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	srv := httptest.NewServer(app.New(d).Handler())
	b.Cleanup(srv.Close)
	return srv
}

func BenchmarkStorefrontListing(b *testing.B) {
	bs := newBenchServer(b)
	body, _ := json.Marshal(map[string]any{"query": storefrontBenchQuery})
	caches := []struct {
		name     string
		make     func(b *testing.B) cache.Cache
		byGqlgen bool
	}{
		// cold-gqlgen is the baseline of the fast path: the same page
		// through gqlgen's own execution.
		{"cold-gqlgen", func(*testing.B) cache.Cache { return &cache.None{} }, true},
		{"cold", func(*testing.B) cache.Cache { return &cache.None{} }, false},
		{"cached", func(b *testing.B) cache.Cache { return NewCache(b) }, false},
		{"cached-memory", func(*testing.B) cache.Cache { return cache.NewMemory(10_000) }, false},
	}
	for _, c := range caches {
		b.Run(c.name, func(b *testing.B) {
			srv := bs.handler(b, c.make(b), c.byGqlgen)
			client := srv.Client()
			visitor := 0
			post := func() []byte {
				visitor++
				req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", visitor>>16&255, visitor>>8&255, visitor&255))
				res, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				out, err := io.ReadAll(res.Body)
				res.Body.Close()
				if err != nil || res.StatusCode != http.StatusOK {
					b.Fatalf("status %d: %v %s", res.StatusCode, err, out)
				}
				return out
			}
			checkStorefrontPage(b, post())
			before := bs.counter.Count()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				post()
			}
			b.StopTimer()
			b.ReportMetric(float64(bs.counter.Count()-before)/float64(b.N), "stmts/op")
		})
	}
}

// checkStorefrontPage makes sure the benchmark measures a full, correct page.
func checkStorefrontPage(b *testing.B, raw []byte) {
	b.Helper()
	var res Response
	if err := json.Unmarshal(raw, &res); err != nil || len(res.Errors) > 0 {
		b.Fatalf("bad response: %v %s", err, raw)
	}
	nodes, _ := get(res.Data, "configurations", "nodes").([]any)
	if len(nodes) != 50 {
		b.Fatalf("%d nodes, want 50", len(nodes))
	}
	for _, n := range nodes {
		if str(n, "currentVersion", "number") != "1.3.0" || len(get(n, "versions", "nodes").([]any)) != 3 ||
			len(get(n, "rentPrices").([]any)) != 4 || str(n, "salePrice", "amount") != "35000.00" || str(n, "developer", "name") == "" {
			b.Fatalf("incomplete node: %v", n)
		}
	}
}
