package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"configmarket/internal/app"
	"configmarket/internal/auth"
	"configmarket/internal/cache"
	"configmarket/internal/clock"
	"configmarket/internal/commerce"
	"configmarket/internal/dbtest"
	"configmarket/internal/factory"
	"configmarket/internal/password"
	"configmarket/internal/ratelimit"
	"configmarket/internal/store"
)

// testServer is the real HTTP handler on a fresh database.
type testServer struct {
	*httptest.Server
	// pool and store act as the database's owner, for test setup; the
	// server itself connects as migrations.AppRole.
	pool    *pgxpool.Pool
	store   *store.Store
	cache   cache.Cache
	counter *dbtest.Counter
	// keySpec is the server's signing key, so tests can forge tokens that
	// are correctly signed but break one rule.
	keySpec string
	health  interface{ Drain() }
	// commerce and clock let tests run the billing jobs at a moved time.
	commerce *commerce.Service
	clock    *clock.Offset
	app      *app.App
	// deps built this server; a second instance copies them.
	deps app.Deps
}

const (
	testIssuer   = "config-market"
	testAudience = "config-market-api"
	testOrigin   = "https://shop.example"
	// testWebhookSecret signs the payment provider's test events.
	testWebhookSecret = "test-webhook-secret"
)

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	return newTestServerWithCache(t, testCache(t))
}

// newTestServerWithCache builds the server on a given cache (a dead Redis,
// say).
func newTestServerWithCache(t testing.TB, c cache.Cache) *testServer {
	t.Helper()
	return newTestServerWith(t, c, nil)
}

// newTestServerWith builds the server on cache c with its dependencies
// adjusted by adjust (package storage, limits), when given.
func newTestServerWith(t testing.TB, c cache.Cache, adjust func(*app.Deps)) *testServer {
	t.Helper()
	// The server runs as its own role, bound by row-level security; the
	// test sets up and inspects data as the owner.
	url := dbtest.URL(t)
	pool := dbtest.OwnerPool(t, url)
	appPool, counter := dbtest.AppPool(t, url)
	st := store.New(pool)
	d, spec := testDeps(t, store.New(appPool), c)
	if adjust != nil {
		adjust(&d)
	}
	clk := d.Clock.(*clock.Offset)
	srv, a := startApp(t, d)
	return &testServer{Server: srv, pool: pool, store: st, cache: c, counter: counter, keySpec: spec, health: a.Health(), commerce: a.Commerce(), clock: clk, app: a, deps: d}
}

// startApp serves an app built from d on a real listener, with its live hub
// running, until the test ends.
func startApp(t testing.TB, d app.Deps) (*httptest.Server, *app.App) {
	t.Helper()
	a := app.New(d)
	hubCtx, stopHub := context.WithCancel(context.Background())
	go a.Hub().Run(hubCtx)
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() {
		a.Streams().CloseAll()
		srv.Close()
		stopHub()
	})
	return srv, a
}

// testDeps are the handler's dependencies for tests and benchmarks: a fresh
// signing key (returned as its spec), cheap password hashing and c.
func testDeps(tb testing.TB, st *store.Store, c cache.Cache) (app.Deps, string) {
	tb.Helper()
	spec, err := auth.NewSeed("test-key")
	if err != nil {
		tb.Fatal(err)
	}
	keys, err := auth.ParseKeyset(spec)
	if err != nil {
		tb.Fatal(err)
	}
	hasher, err := password.NewHasher(factory.CheapHash)
	if err != nil {
		tb.Fatal(err)
	}
	return app.Deps{
		Store:  st,
		Cache:  c,
		Hasher: hasher,
		Tokens: auth.NewTokens(keys, auth.Config{
			Issuer: testIssuer, Audience: testAudience, AccessTTL: 15 * time.Minute, Leeway: 30 * time.Second,
		}),
		RefreshTTL:     24 * time.Hour,
		CORSOrigins:    []string{testOrigin},
		MaxBodyBytes:   64 << 10,
		RequestTimeout: 10 * time.Second,
		LoginBackoff:   time.Millisecond,
		// Business time is real time (prices are stamped by the database
		// clock) until a test moves it ahead.
		Clock:          &clock.Offset{},
		Limiter:        ratelimit.New(nil, ""),
		WebhookSecrets: []string{testWebhookSecret},
		WebhookSkew:    5 * time.Minute,
	}, spec
}

// testCache is Redis when the suite runs under `make test`, so the handler
// is exercised with the shared cache as in production.
func testCache(t testing.TB) cache.Cache {
	url := os.Getenv("REDIS_URL")
	if url == "" {
		return cache.NewMemory(1000)
	}
	client, err := cache.NewRedisClient(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	// Each test server has its own database, so its own key space too.
	return cache.NewRedis(client, "test:"+uuid.NewString()+":")
}

// gqlResponse is a GraphQL response with errors decoded for assertions.
type gqlResponse struct {
	Status int
	Data   map[string]any `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Path       []any          `json:"path"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
	Raw string
}

// code is the extensions.code of the first error, or "" when none.
func (r gqlResponse) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

func (s *testServer) do(t testing.TB, token, query string, vars map[string]any) gqlResponse {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(res.Body)
	out := gqlResponse{Status: res.StatusCode, Raw: buf.String()}
	if err := json.Unmarshal(buf.Bytes(), &out); err != nil {
		t.Fatalf("response is not JSON (%d): %s", res.StatusCode, buf.String())
	}
	return out
}

// get walks a decoded JSON value by keys and indexes.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func str(v any, path ...any) string {
	s, _ := get(v, path...).(string)
	return s
}

const logInMutation = `mutation($input: LogInInput!) {
	logIn(input: $input) {
		session { accessToken refreshToken role accessTokenExpiresAt refreshTokenExpiresAt }
		userErrors { field message code }
	}
}`

// logIn logs a factory account in and returns its access and refresh tokens.
func (s *testServer) logIn(t testing.TB, a factory.Account, extra map[string]any) (access, refresh string) {
	t.Helper()
	input := map[string]any{"email": a.Email, "password": factory.Password}
	for k, v := range extra {
		input[k] = v
	}
	res := s.do(t, "", logInMutation, map[string]any{"input": input})
	access, refresh = str(res.Data, "logIn", "session", "accessToken"), str(res.Data, "logIn", "session", "refreshToken")
	if access == "" || refresh == "" {
		t.Fatalf("log in failed: %s", res.Raw)
	}
	return access, refresh
}

func (s *testServer) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := s.pool.QueryRow(context.Background(), "select count(*) from "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
