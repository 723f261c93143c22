package apitest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"configmarket/internal/app"
	"configmarket/internal/cache"
	"configmarket/internal/dbtest"
	"configmarket/internal/factory"
	"configmarket/internal/jobs"
	"configmarket/internal/obs"
	"configmarket/internal/store"
	"configmarket/migrations"
)

// newObservedServer is the real handler wired to tel the way run() wires
// it: SQL through tel's pgx tracer, Redis (under `make test`) through its
// hook.
func newObservedServer(t *testing.T, tel *obs.Telemetry) *Server {
	t.Helper()
	// As in New: the server runs as its own role, bound by
	// row-level security; the test sets data up as the owner.
	url := dbtest.URL(t)
	owner := dbtest.OwnerPool(t, url)
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.User, cfg.ConnConfig.Password = migrations.AppRole, dbtest.AppPassword
	cfg.ConnConfig.Tracer = tel.SQLTracer()
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	tel.WatchPool(pool)
	var c cache.Cache = cache.NewMemory(1000)
	if url := os.Getenv("REDIS_URL"); url != "" {
		client, err := cache.NewRedisClient(url)
		if err != nil {
			t.Fatal(err)
		}
		client.AddHook(tel.RedisHook())
		t.Cleanup(func() { client.Close() })
		c = cache.NewRedis(client, "test:"+uuid.NewString()+":")
	}
	st := store.New(owner)
	d, spec := NewDeps(t, store.New(pool), c)
	d.Telemetry, d.GraphiQL = tel, true
	a := app.New(d)
	hubCtx, stopHub := context.WithCancel(context.Background())
	go a.Hub().Run(hubCtx)
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() { a.Streams().CloseAll(); srv.Close(); stopHub() })
	return &Server{Server: srv, Pool: owner, Store: st, Cache: c, KeySpec: spec, Health: a.Health(), Commerce: a.Commerce(), App: a, Deps: d}
}

// post sends one GraphQL request with extra headers.
func (s *Server) post(t *testing.T, query string, vars map[string]any, headers map[string]string) rawResponse {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return s.raw(t, http.MethodPost, "/graphql", "application/json", string(body), headers)
}

// lockedBuffer is a log sink written by the server's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestRequestLog: one JSON line per request with its request id, operation,
// cost and error codes; a password, tokens, the Authorization header and
// the e-mail address never reach the log, from any logger in the process.
func TestRequestLog(t *testing.T) {
	var out lockedBuffer
	logger := slog.New(obs.NewLogHandler(slog.NewJSONHandler(&out, obs.LogOptions(slog.LevelDebug))))
	previous := slog.Default()
	slog.SetDefault(logger)
	t.Cleanup(func() { slog.SetDefault(previous) })
	s := newObservedServer(t, obs.New(obs.Options{Logger: logger}))
	acc := factory.Customer(t, s.Store)

	const logIn = `mutation LogIn($input: LogInInput!) { logIn(input: $input) { session { accessToken refreshToken } userErrors { code } } }`
	login := s.post(t, logIn, map[string]any{"input": map[string]any{"email": acc.Email, "password": factory.Password}}, nil)
	access, refresh := str(decode(t, login.body), "data", "logIn", "session", "accessToken"), str(decode(t, login.body), "data", "logIn", "session", "refreshToken")
	if access == "" || refresh == "" {
		t.Fatalf("log in: %s", login.body)
	}
	const wrongPassword = "wrong-password-7f3a"
	s.post(t, logIn, map[string]any{"input": map[string]any{"email": acc.Email, "password": wrongPassword}}, nil)
	viewer := s.post(t, `query Viewer { viewer { role } }`, nil, map[string]string{"Authorization": "Bearer " + access})
	if !strings.Contains(viewer.body, `"role":"CUSTOMER"`) {
		t.Fatalf("viewer: %s", viewer.body)
	}
	const forged = "forged-token-c0ffee"
	s.post(t, `query Viewer { viewer { role } }`, nil, map[string]string{"Authorization": "Bearer " + forged})
	s.post(t, `query Broken { noSuchField }`, nil, nil)

	text := out.String()
	for name, secret := range map[string]string{
		"password": factory.Password, "wrong password": wrongPassword, "access token": access,
		"refresh token": refresh, "forged token": forged, "e-mail": acc.Email, "Authorization header": "Bearer ",
	} {
		if strings.Contains(text, secret) {
			t.Errorf("the log holds the %s", name)
		}
	}

	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		var l map[string]any
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("log line is not JSON: %s", sc.Text())
		}
		if l["msg"] == "request" {
			lines = append(lines, l)
		}
	}
	if len(lines) != 5 {
		t.Fatalf("want 5 request lines, got %d:\n%s", len(lines), text)
	}
	want := []struct {
		operation, role, codes string
		requestID              string
	}{
		{"LogIn", "anonymous", "", login.header.Get("X-Request-Id")},
		{"LogIn", "anonymous", "", ""}, // a wrong password is a userError, not a failed request
		{"Viewer", "customer", "", viewer.header.Get("X-Request-Id")},
		{"Viewer", "", "[UNAUTHENTICATED]", ""},
		{"Broken", "", "[GRAPHQL_VALIDATION_FAILED]", ""},
	}
	for i, w := range want {
		l := lines[i]
		codes, _ := json.Marshal(l["error_codes"])
		if l["operation"] != w.operation || (w.role != "" && l["role"] != w.role) ||
			(w.codes == "" && l["error_codes"] != nil) || (w.codes != "" && strings.ReplaceAll(string(codes), `"`, "") != w.codes) {
			t.Errorf("line %d: %v; want operation %s, role %q, codes %q", i, l, w.operation, w.role, w.codes)
		}
		if id, _ := l["request_id"].(string); id == "" || (w.requestID != "" && id != w.requestID) {
			t.Errorf("line %d: request_id %v, want the response's X-Request-Id %q", i, l["request_id"], w.requestID)
		}
		if _, ok := l["duration_ms"].(float64); !ok || l["route"] != "/graphql" || l["status"] == nil {
			t.Errorf("line %d lacks route, status or duration: %v", i, l)
		}
	}
	if cost, _ := lines[2]["cost"].(float64); cost < 1 {
		t.Errorf("the viewer query's line has cost %v", lines[2]["cost"])
	}
}

func decode(t *testing.T, body string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("not JSON: %s", body)
	}
	return m
}

// sample is one series of a Prometheus text exposition.
var sample = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$`)

// metric returns the value of the series name with exactly these labels
// (0 when the series is absent).
func metric(t *testing.T, exposition, name string, labels map[string]string) float64 {
	t.Helper()
	for _, line := range strings.Split(exposition, "\n") {
		m := sample.FindStringSubmatch(line)
		if m == nil || m[1] != name {
			continue
		}
		got := map[string]string{}
		for _, pair := range regexp.MustCompile(`(\w+)="((?:[^"\\]|\\.)*)"`).FindAllStringSubmatch(m[2], -1) {
			got[pair[1]] = pair[2]
		}
		if len(got) != len(labels) {
			continue
		}
		match := true
		for k, v := range labels {
			match = match && got[k] == v
		}
		if match {
			v, err := strconv.ParseFloat(m[3], 64)
			if err != nil {
				t.Fatalf("series %s: %v", line, err)
			}
			return v
		}
	}
	return 0
}

// TestMetrics: /metrics exposes operations by name and outcome, latency,
// SQL and Redis timings, cache hits, active subscriptions and job runs,
// and they move with the traffic.
func TestMetrics(t *testing.T) {
	tel := obs.New(obs.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	s := newObservedServer(t, tel)
	scrapeServer := httptest.NewServer(tel.MetricsHandler())
	t.Cleanup(scrapeServer.Close)
	scrape := func() string {
		res, err := http.Get(scrapeServer.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	plans := map[string]string{"operation": "Plans", "type": "query", "outcome": "ok"}
	if v := metric(t, scrape(), "cm_graphql_operations_total", plans); v != 0 {
		t.Fatalf("Plans counted before it ran: %v", v)
	}
	for range 2 {
		if r := s.post(t, `query Plans { tariffPlans { code } }`, nil, nil); r.status != 200 || !strings.Contains(r.body, `"code":"D"`) {
			t.Fatalf("%d %s", r.status, r.body)
		}
	}
	s.post(t, `query Broken { noSuchField }`, nil, nil)
	m := scrape()
	checks := []struct {
		name   string
		labels map[string]string
		min    float64
	}{
		{"cm_graphql_operations_total", plans, 2},
		{"cm_graphql_operation_duration_seconds_count", map[string]string{"operation": "Plans", "type": "query"}, 2},
		{"cm_graphql_operations_total", map[string]string{"operation": "Broken", "type": "invalid", "outcome": "GRAPHQL_VALIDATION_FAILED"}, 1},
		{"cm_graphql_errors_total", map[string]string{"code": "GRAPHQL_VALIDATION_FAILED"}, 1},
		{"cm_http_requests_total", map[string]string{"route": "/graphql", "code": "200"}, 3},
		{"cm_sql_duration_seconds_count", map[string]string{"verb": "SELECT", "outcome": "ok"}, 1},
		{"cm_db_pool_acquires_total", nil, 1},
		{"cm_db_pool_max_connections", nil, 1},
		// The second Plans was answered from the response cache.
		{"cm_cache_lookups_total", map[string]string{"family": "response", "result": "miss"}, 1},
		{"cm_cache_lookups_total", map[string]string{"family": "response", "result": "hit"}, 1},
	}
	if os.Getenv("REDIS_URL") != "" {
		// The answer stored; the second Plans came from the process's
		// copy of it (cache.Near), not from Redis.
		checks = append(checks, struct {
			name   string
			labels map[string]string
			min    float64
		}{"cm_redis_duration_seconds_count", map[string]string{"command": "SET", "outcome": "ok"}, 1})
	}
	for _, c := range checks {
		if v := metric(t, m, c.name, c.labels); v < c.min {
			t.Errorf("%s%v = %v, want ≥ %v", c.name, c.labels, v, c.min)
		}
	}
	if v := metric(t, m, "cm_graphql_operations_total", plans); v != 2 {
		t.Errorf("Plans ran twice, counted %v", v)
	}

	// A job run through the wrapper run() uses.
	billing := tel.Jobs(jobs.Task{Name: "billing", Run: func(ctx context.Context) error { _, err := s.Commerce.RunBilling(ctx); return err }})
	if err := billing[0].Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if v := metric(t, scrape(), "cm_job_runs_total", map[string]string{"job": "billing", "outcome": "ok"}); v != 1 {
		t.Errorf("billing runs = %v, want 1", v)
	}

	// A subscription is active while it runs.
	token, _ := s.LogIn(t, factory.Partner(t, s.Store), nil)
	ws, _, err := dialWS(t, s.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	ws.init(token)
	ws.send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": commissionSubscription}})
	if snap, err := ws.next(5 * time.Second); err != nil || snap["type"] != "next" {
		t.Fatalf("snapshot: %v %v", snap, err)
	}
	if v := metric(t, scrape(), "cm_graphql_active_subscriptions", nil); v != 1 {
		t.Errorf("active subscriptions = %v during one", v)
	}
	ws.send(map[string]any{"id": "1", "type": "complete"})
	deadline := time.Now().Add(5 * time.Second)
	for metric(t, scrape(), "cm_graphql_active_subscriptions", nil) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the completed subscription is still counted as active")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTracing: with a tracer provider, one request is one trace: the HTTP
// span, the GraphQL operation under it, the root field under that, and
// the SQL (and Redis) statements under the field. A caller's traceparent
// is continued.
func TestTracing(t *testing.T) {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	s := newObservedServer(t, obs.New(obs.Options{Tracing: tp, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))

	const callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	r := s.post(t, `query Storefront { categories { name } tariffPlans { code } }`, nil,
		map[string]string{"traceparent": "00-" + callerTrace + "-00f067aa0ba902b7-01"})
	if r.status != 200 || strings.Contains(r.body, "errors") {
		t.Fatalf("%d %s", r.status, r.body)
	}

	byID := map[trace.SpanID]tracetest.SpanStub{}
	for _, sp := range spans.GetSpans() {
		byID[sp.SpanContext.SpanID()] = sp
		if got := sp.SpanContext.TraceID().String(); got != callerTrace {
			t.Errorf("span %q is in trace %s, not the caller's", sp.Name, got)
		}
	}
	find := func(name string) tracetest.SpanStub {
		for _, sp := range byID {
			if sp.Name == name {
				return sp
			}
		}
		var names []string
		for _, sp := range byID {
			names = append(names, sp.Name)
		}
		t.Fatalf("no span %q among %v", name, names)
		return tracetest.SpanStub{}
	}
	// ancestors lists the names from sp's parent up to the root.
	ancestors := func(sp tracetest.SpanStub) []string {
		var out []string
		for p, ok := byID[sp.Parent.SpanID()]; ok; p, ok = byID[p.Parent.SpanID()] {
			out = append(out, p.Name)
		}
		return out
	}
	httpSpan := find("POST /graphql")
	if httpSpan.SpanKind != trace.SpanKindServer || httpSpan.Parent.SpanID().String() != "00f067aa0ba902b7" {
		t.Errorf("HTTP span: kind %v, parent %s", httpSpan.SpanKind, httpSpan.Parent.SpanID())
	}
	if got := ancestors(find("query Storefront")); strings.Join(got, " < ") != "POST /graphql" {
		t.Errorf("operation span's ancestors: %v", got)
	}
	if got := ancestors(find("Query.categories")); strings.Join(got, " < ") != "query Storefront < POST /graphql" {
		t.Errorf("root field span's ancestors: %v", got)
	}
	var sqlUnderField, redisSpans int
	for _, sp := range byID {
		chain := strings.Join(ancestors(sp), " < ")
		switch {
		case sp.Name == "SELECT" && strings.HasSuffix(chain, "query Storefront < POST /graphql") && strings.HasPrefix(chain, "Query."):
			sqlUnderField++
		case strings.HasPrefix(sp.Name, "redis ") && strings.HasSuffix(chain, "POST /graphql"):
			redisSpans++
		}
	}
	if sqlUnderField < 2 {
		t.Errorf("%d SELECT spans under the root fields, want one per field", sqlUnderField)
	}
	if os.Getenv("REDIS_URL") != "" && redisSpans == 0 {
		t.Error("no Redis span in the request's trace")
	}
}
