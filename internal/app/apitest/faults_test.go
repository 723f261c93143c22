package apitest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"configmarket/internal/cache"
	"configmarket/internal/dbtest"
	"configmarket/internal/factory"
	"configmarket/internal/ratelimit"
	"configmarket/internal/store"
)

// The fault tests break real servers: a Redis process of their own is
// frozen (SIGSTOP), killed and restarted; PostgreSQL is cut off behind a
// TCP proxy. The bounds asserted are the service's deadlines, generous
// against a noisy machine: the point is "answers instead of hanging".
const faultDeadline = 3 * time.Second

// faultServer is the handler on its own store and cache.
func faultServer(t *testing.T, st *store.Store, c cache.Cache, limiter *ratelimit.Limiter) *httptest.Server {
	t.Helper()
	d, _ := NewDeps(t, st, c)
	if limiter != nil {
		d.Limiter = limiter
	}
	srv, _ := Start(t, d)
	return srv
}

// timedDo runs a query and fails the test if it takes longer than the
// fault deadline.
func timedDo(t *testing.T, s *Server, token, query string, vars map[string]any) Response {
	t.Helper()
	start := time.Now()
	r := s.Do(t, token, query, vars)
	if took := time.Since(start); took > faultDeadline {
		t.Fatalf("%s took %v", query, took)
	}
	return r
}

// redisProcess is a redis-server of the test's own.
type redisProcess struct {
	port int
	cmd  *exec.Cmd
}

func startRedis(t *testing.T, port int) *redisProcess {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed") // make test installs it
	}
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &redisProcess{port: port, cmd: cmd}
	t.Cleanup(r.kill)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", r.addr()); err == nil {
			c.Close()
			return r
		}
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not start")
		}
	}
}

func (r *redisProcess) addr() string { return fmt.Sprintf("127.0.0.1:%d", r.port) }

func (r *redisProcess) signal(s os.Signal) { _ = r.cmd.Process.Signal(s) }

func (r *redisProcess) kill() {
	r.signal(syscall.SIGCONT)
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
}

func TestRedisHungOrDownEveryReadStillAnswers(t *testing.T) {
	redisSrv := startRedis(t, FreePort(t))
	client, err := cache.NewRedisClient("redis://" + redisSrv.addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	base := New(t) // for its database and accounts
	appPool, _ := dbtest.AppPool(t, dbtestURLOf(t, base))
	srv := faultServer(t, store.New(appPool), cache.NewRedis(client, "cm:"), ratelimit.New(client, "cm:rate:"))
	s := &Server{Server: srv, Pool: base.Pool, Store: base.Store}
	dev := factory.Developer(t, s.Store)
	factory.Configuration(t, s.Store, dev.OrgID, factory.ConfigurationOptions{})
	customer := factory.Customer(t, s.Store)

	const storefront = `{ tariffPlans { code } configurations(first: 5) { nodes { title developer { name } } } }`
	session := func(phase string) {
		t.Helper()
		if r := timedDo(t, s, "", storefront, nil); r.Code() != "" || len(get(r.Data, "configurations", "nodes").([]any)) != 1 {
			t.Fatalf("%s: storefront: %s", phase, r.Raw)
		}
		token, _ := s.LogIn(t, customer, nil) // login throttle counters live in Redis
		if r := timedDo(t, s, token, viewerQuery, nil); r.Code() != "" {
			t.Fatalf("%s: viewer: %s", phase, r.Raw)
		}
	}
	session("healthy")
	if n, err := client.DBSize(context.Background()).Result(); err != nil || n == 0 {
		t.Fatalf("nothing cached in Redis while healthy: %d, %v", n, err)
	}

	redisSrv.signal(syscall.SIGSTOP) // hung: accepts, never answers
	session("Redis hung")
	redisSrv.signal(syscall.SIGCONT)

	redisSrv.kill() // down: connections refused
	session("Redis down")
	res, err := http.Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("readiness %d with Redis down: the cache is optional", res.StatusCode)
	}

	restarted := startRedis(t, redisSrv.port)
	// After the 2 s circuit, the restarted Redis fills again.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		session("Redis back")
		c, _ := cache.NewRedisClient("redis://" + restarted.addr())
		n, _ := c.DBSize(context.Background()).Result()
		c.Close()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the restarted Redis is never used again")
		}
	}
}

// dbtestURLOf is the owner URL of a test server's database.
func dbtestURLOf(t *testing.T, s *Server) string {
	t.Helper()
	return s.Pool.Config().ConnString()
}

// tcpProxy forwards to a real server and can cut every connection.
type tcpProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  map[net.Conn]struct{}
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	t.Cleanup(func() { ln.Close(); p.setCut(true) })
	go p.serve()
	return p
}

func (p *tcpProxy) port() uint16 { return uint16(p.ln.Addr().(*net.TCPAddr).Port) }

func (p *tcpProxy) serve() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			client.Close()
			continue
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			client.Close()
			continue
		}
		p.conns[client], p.conns[server] = struct{}{}, struct{}{}
		p.mu.Unlock()
		go func() { _, _ = io.Copy(server, client); server.Close() }()
		go func() { _, _ = io.Copy(client, server); client.Close() }()
	}
}

// setCut drops every open connection and refuses new ones (true), or lets
// them through again (false).
func (p *tcpProxy) setCut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		for c := range p.conns {
			c.Close()
		}
		clear(p.conns)
	}
}

func TestPostgresOutageFailsFastAndRecovers(t *testing.T) {
	base := New(t)
	proxy := newTCPProxy(t, fmt.Sprintf("%s:%d", base.Pool.Config().ConnConfig.Host, base.Pool.Config().ConnConfig.Port))
	appPool, _ := dbtest.AppPool(t, dbtestURLOf(t, base), func(c *pgxpool.Config) {
		c.ConnConfig.Host, c.ConnConfig.Port = "127.0.0.1", proxy.port()
	})
	srv := faultServer(t, store.New(appPool), cache.NewMemory(100), nil)
	s := &Server{Server: srv, Pool: base.Pool, Store: base.Store}
	customer := factory.Customer(t, s.Store)
	token, _ := s.LogIn(t, customer, nil)
	const query = `{ viewer { user { email } } }`
	ready := func() int {
		res, err := http.Get(srv.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if r := timedDo(t, s, token, query, nil); r.Code() != "" || ready() != http.StatusOK {
		t.Fatalf("healthy: %s", r.Raw)
	}

	proxy.setCut(true)
	for _, q := range []string{query, `{ configurations(first: 3) { nodes { title } } }`} {
		if r := timedDo(t, s, token, q, nil); r.Code() != "UNAVAILABLE" {
			t.Fatalf("PostgreSQL down: %s", r.Raw)
		}
	}
	if code := ready(); code != http.StatusServiceUnavailable {
		t.Fatalf("readiness %d with PostgreSQL down", code)
	}

	proxy.setCut(false)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		r := s.Do(t, token, query, nil)
		if r.Code() == "" && ready() == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery: %s", r.Raw)
		}
	}
}

func TestPoolExhaustionAnsweredAtOnce(t *testing.T) {
	base := New(t)
	appPool, _ := dbtest.AppPool(t, dbtestURLOf(t, base), func(c *pgxpool.Config) { c.MaxConns = 2 })
	srv := faultServer(t, store.NewWithAcquireTimeout(appPool, 200*time.Millisecond), cache.NewMemory(100), nil)
	s := &Server{Server: srv, Pool: base.Pool, Store: base.Store}
	customer := factory.Customer(t, s.Store)
	token, _ := s.LogIn(t, customer, nil)

	var held []*pgxpool.Conn
	for range 2 {
		c, err := appPool.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	if r := timedDo(t, s, token, viewerQuery, nil); r.Code() != "UNAVAILABLE" {
		t.Fatalf("saturated pool: %s", r.Raw)
	}
	for _, c := range held {
		c.Release()
	}
	if r := timedDo(t, s, token, viewerQuery, nil); r.Code() != "" {
		t.Fatalf("after the pool drained: %s", r.Raw)
	}
}

// A mutation waiting on a lock longer than lock_timeout (3 s) gives up
// with UNAVAILABLE and leaves nothing behind.
func TestLockWaitEndsInUnavailable(t *testing.T) {
	s := New(t)
	ctx := context.Background()
	tx := lockUsers(t, s)
	before := s.Count(t, "customers")
	r := s.Do(t, "", signUpMutation, signUpInput(map[string]any{"email": "blocked@example.com"}))
	if r.Code() != "UNAVAILABLE" {
		t.Fatalf("blocked sign-up: %s", r.Raw)
	}
	tx.Rollback(ctx)
	if after := s.Count(t, "customers"); after != before {
		t.Fatalf("customers %d → %d after a failed sign-up", before, after)
	}
}

// Shutdown lets a mutation that is already running finish and answer.
func TestShutdownFinishesInFlightMutations(t *testing.T) {
	s := New(t)
	ctx := context.Background()
	tx := lockUsers(t, s)
	port := FreePort(t)
	httpSrv := &http.Server{Addr: fmt.Sprintf("127.0.0.1:%d", port), Handler: s.App.Handler()}
	runCtx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- s.App.Serve(runCtx, httpSrv, 10*time.Second) }()
	waitListening(t, httpSrv.Addr)

	inflight := &Server{Server: &httptest.Server{URL: "http://" + httpSrv.Addr}}
	answered := make(chan Response, 1)
	go func() {
		answered <- inflight.Do(t, "", signUpMutation, signUpInput(map[string]any{"email": "inflight@example.com"}))
	}()
	waitForLockWaiter(t, s)
	stop() // SIGTERM: drain and shut down while the sign-up waits
	time.Sleep(300 * time.Millisecond)
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	r := <-answered
	if r.Code() != "" || str(r.Data, "signUp", "session", "accessToken") == "" {
		t.Fatalf("in-flight sign-up during shutdown: %s", r.Raw)
	}
	if err := <-served; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

// lockUsers holds a lock that blocks every insert into users (sign-ups)
// until the returned transaction ends.
func lockUsers(t *testing.T, s *Server) pgx.Tx {
	t.Helper()
	ctx := context.Background()
	tx, err := s.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback(ctx) })
	if _, err := tx.Exec(ctx, `lock table users in exclusive mode`); err != nil {
		t.Fatal(err)
	}
	return tx
}

func waitListening(t *testing.T, addr string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("server never listened")
		}
	}
}

// waitForLockWaiter returns once a server session waits on a lock.
func waitForLockWaiter(t *testing.T, s *Server) {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var n int
		// pg_locks, unlike pg_stat_activity, shows other roles' waits.
		if err := s.Pool.QueryRow(context.Background(), `select count(*) from pg_locks where not granted`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the mutation never reached the lock")
		}
	}
}
