// Package apitest holds the API tests: the real HTTP handler (internal/app)
// on a fresh database, driven over HTTP, WebSockets and the real npm
// clients. The harness is Server, built by New; the tests are this
// package's _test.go files. It is a package of its own, not package main's
// tests, so the composition root stays small and the tests reach the
// application only through what internal/app exports.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
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

// Server is the real HTTP handler on a fresh database.
type Server struct {
	*httptest.Server
	// Pool and Store act as the database's owner, for test setup; the
	// server itself connects as migrations.AppRole.
	Pool    *pgxpool.Pool
	Store   *store.Store
	Cache   cache.Cache
	Counter *dbtest.Counter
	// KeySpec is the server's signing key, so tests can forge tokens that
	// are correctly signed but break one rule.
	KeySpec string
	Health  interface{ Drain() }
	// Commerce and Clock let tests run the billing jobs at a moved time.
	Commerce *commerce.Service
	Clock    *clock.Offset
	App      *app.App
	// Deps built this server; a second instance copies them.
	Deps app.Deps
	// visitors numbers the client addresses postRaw sends from.
	visitors int
}

// The server's token issuer and audience, the one origin its CORS allows,
// and the payment provider's signing secret.
const (
	Issuer   = "config-market"
	Audience = "config-market-api"
	Origin   = "https://shop.example"
	// WebhookSecret signs the payment provider's test events.
	WebhookSecret = "test-webhook-secret"
)

// New serves the application on a fresh database and the suite's cache
// until the test ends.
func New(t *testing.T) *Server {
	t.Helper()
	return NewWithCache(t, NewCache(t))
}

// NewWithCache builds the server on a given cache (a dead Redis,
// say).
func NewWithCache(t testing.TB, c cache.Cache) *Server {
	t.Helper()
	return NewWith(t, c, nil)
}

// NewWith builds the server on cache c with its dependencies
// adjusted by adjust (package storage, limits), when given.
func NewWith(t testing.TB, c cache.Cache, adjust func(*app.Deps)) *Server {
	t.Helper()
	// The server runs as its own role, bound by row-level security; the
	// test sets up and inspects data as the owner.
	url := dbtest.URL(t)
	pool := dbtest.OwnerPool(t, url)
	appPool, counter := dbtest.AppPool(t, url)
	st := store.New(pool)
	d, spec := NewDeps(t, store.New(appPool), c)
	if adjust != nil {
		adjust(&d)
	}
	clk := d.Clock.(*clock.Offset)
	srv, a := Start(t, d)
	return &Server{Server: srv, Pool: pool, Store: st, Cache: c, Counter: counter, KeySpec: spec, Health: a.Health(), Commerce: a.Commerce(), Clock: clk, App: a, Deps: d}
}

// Start serves an app built from d on a real listener, with its live hub
// running, until the test ends.
func Start(t testing.TB, d app.Deps) (*httptest.Server, *app.App) {
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

// NewDeps returns the handler's dependencies for tests and benchmarks: a fresh
// signing key (returned as its spec), cheap password hashing and c.
func NewDeps(tb testing.TB, st *store.Store, c cache.Cache) (app.Deps, string) {
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
			Issuer: Issuer, Audience: Audience, AccessTTL: 15 * time.Minute, Leeway: 30 * time.Second,
		}),
		RefreshTTL:     24 * time.Hour,
		CORSOrigins:    []string{Origin},
		MaxBodyBytes:   64 << 10,
		RequestTimeout: 10 * time.Second,
		LoginBackoff:   time.Millisecond,
		// Business time is real time (prices are stamped by the database
		// clock) until a test moves it ahead.
		Clock:          &clock.Offset{},
		Limiter:        ratelimit.New(nil, ""),
		WebhookSecrets: []string{WebhookSecret},
		WebhookSkew:    5 * time.Minute,
	}, spec
}

// NewCache is Redis when the suite runs under `make test`, so the handler
// is exercised with the shared cache as in production.
func NewCache(t testing.TB) cache.Cache {
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

// Response is a GraphQL response with errors decoded for assertions.
type Response struct {
	Status int
	Data   map[string]any `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Path       []any          `json:"path"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
	Raw string
}

// Code is the extensions.code of the first error, or "" when none.
func (r Response) Code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// Do posts a GraphQL document with vars, as the bearer of token when one is
// given, and decodes the answer.
func (s *Server) Do(t testing.TB, token, query string, vars map[string]any) Response {
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
	out := Response{Status: res.StatusCode, Raw: buf.String()}
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

// LogIn logs a factory account in and returns its access and refresh tokens.
func (s *Server) LogIn(t testing.TB, a factory.Account, extra map[string]any) (access, refresh string) {
	t.Helper()
	input := map[string]any{"email": a.Email, "password": factory.Password}
	for k, v := range extra {
		input[k] = v
	}
	res := s.Do(t, "", logInMutation, map[string]any{"input": input})
	access, refresh = str(res.Data, "logIn", "session", "accessToken"), str(res.Data, "logIn", "session", "refreshToken")
	if access == "" || refresh == "" {
		t.Fatalf("log in failed: %s", res.Raw)
	}
	return access, refresh
}

// Count is the number of rows in table, read as the database's owner.
func (s *Server) Count(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := s.Pool.QueryRow(context.Background(), "select count(*) from "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// FreePort is a TCP port on the loopback that nothing listens on.
func FreePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Root is the module's root directory: tests read schema.graphqls and
// operations/ there, and run the node scripts of clients/, e2e/ and
// graphiql/ from it.
var Root = sync.OnceValue(func() string {
	dir, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			panic("no go.mod above " + dir)
		}
	}
})
