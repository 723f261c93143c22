package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// load is one point of a scenario: a concurrency, or a fixed offered rate.
type load struct {
	connections int
	rate        int // 0: as fast as the connections go
}

func (l load) String() string {
	if l.rate > 0 {
		return fmt.Sprintf("%d/s", l.rate)
	}
	return fmt.Sprintf("c=%d", l.connections)
}

// measurement is one row of the table.
type measurement struct {
	scenario, system string
	load             load
	requests         int
	rps, p50, p99    float64 // p50, p99 in milliseconds
	errors           int
	firstError       string
	// quantiles are the latency distribution as [percentile, ms] pairs in
	// rising order, 0 the fastest and 100 the slowest; nil: not reported.
	quantiles     [][2]float64
	appCPU, dbCPU time.Duration // per request
	clientCPU     time.Duration // per request, of the load generator (wrk, autocannon or pgbench)
	peakRSS       int64
}

// runner drives loads and measures the processes serving them.
type runner struct {
	nodeBin, loadScript string // autocannon, for the fixed-rate runs
	wrkScript           string
	seconds             int
	workDir             string
	postmaster          int
}

type loadResult struct {
	Requests   int          `json:"requests"`
	RPS        float64      `json:"rps"`
	P50        float64      `json:"p50"`
	P99        float64      `json:"p99"`
	Errors     int          `json:"errors"`
	FirstError string       `json:"firstError"`
	Quantiles  [][2]float64 `json:"quantiles"`
	// ClientCPU is the load generator's own CPU time for the whole run.
	ClientCPU time.Duration `json:"-"`
}

// measure runs fn while watching the app process (pid 0: none, as for
// pgbench) and the PostgreSQL backends.
func (r *runner) measure(scenario, system string, l load, appPID int, fn func() (loadResult, error)) (measurement, error) {
	m := measurement{scenario: scenario, system: system, load: l}
	var app0 time.Duration
	if appPID != 0 {
		app0, _ = cpuOf(appPID)
		resetPeakRSS(appPID)
	}
	db0 := treeCPU(r.postmaster)
	res, err := fn()
	if err != nil {
		return m, fmt.Errorf("%s %s %s: %w", scenario, system, l, err)
	}
	db1 := treeCPU(r.postmaster)
	m.requests, m.rps, m.p50, m.p99, m.errors, m.firstError = res.Requests, res.RPS, res.P50, res.P99, res.Errors, res.FirstError
	m.quantiles = res.Quantiles
	if res.Requests > 0 {
		m.dbCPU = (db1 - db0) / time.Duration(res.Requests)
		m.clientCPU = res.ClientCPU / time.Duration(res.Requests)
		if appPID != 0 {
			app1, _ := cpuOf(appPID)
			m.appCPU = (app1 - app0) / time.Duration(res.Requests)
		}
	}
	if appPID != 0 {
		m.peakRSS = peakRSS(appPID)
	}
	return m, nil
}

// turn is one system's part at a load: run drives it for r.seconds.
type turn struct {
	scenario, system string
	pid              int // the serving process; 0: none (pgbench)
	run              func(r *runner) (loadResult, error)
}

// measureInTurns measures each turn at l: with rounds > 1 the turns take
// their seconds in that many short runs, round after round (ours,
// PostGraphile, the floor, ours again…), so a ratio between two of them
// compares the same minutes of a shared machine whose speed drifts, not
// whichever minute each happened to run in. The runs of a turn merge
// into one measurement (mergeRuns).
func (r *runner) measureInTurns(l load, rounds int, turns []turn) ([]measurement, error) {
	short := *r
	short.seconds = max(1, r.seconds/rounds)
	runs := make([][]measurement, len(turns))
	for range rounds {
		for i, t := range turns {
			m, err := short.measure(t.scenario, t.system, l, t.pid, func() (loadResult, error) { return t.run(&short) })
			if err != nil {
				return nil, err
			}
			runs[i] = append(runs[i], m)
		}
	}
	out := make([]measurement, len(turns))
	for i := range runs {
		out[i] = mergeRuns(runs[i])
	}
	return out, nil
}

// mergeRuns makes one measurement of a turn's runs: requests/s over their
// whole time, CPU per request over all their requests, and the p50 and
// p99 of all their requests (mergedPercentile). A run that reported no
// distribution leaves the median of the runs' p50s and the largest of
// their p99s, which does not flatter.
func mergeRuns(runs []measurement) measurement {
	if len(runs) == 1 {
		return runs[0]
	}
	m := measurement{scenario: runs[0].scenario, system: runs[0].system, load: runs[0].load}
	var seconds float64
	var app, db, client time.Duration
	var p50s []float64
	for _, r := range runs {
		m.requests += r.requests
		if r.rps > 0 {
			seconds += float64(r.requests) / r.rps
		}
		n := time.Duration(r.requests)
		app, db, client = app+r.appCPU*n, db+r.dbCPU*n, client+r.clientCPU*n
		p50s = append(p50s, r.p50)
		m.p99 = max(m.p99, r.p99)
		m.errors += r.errors
		if m.firstError == "" {
			m.firstError = r.firstError
		}
		m.peakRSS = max(m.peakRSS, r.peakRSS)
	}
	if seconds > 0 {
		m.rps = float64(m.requests) / seconds
	}
	if n := time.Duration(m.requests); n > 0 {
		m.appCPU, m.dbCPU, m.clientCPU = app/n, db/n, client/n
	}
	slices.Sort(p50s)
	m.p50 = p50s[len(p50s)/2]
	if len(p50s)%2 == 0 {
		m.p50 = (p50s[len(p50s)/2-1] + p50s[len(p50s)/2]) / 2
	}
	if !slices.ContainsFunc(runs, func(r measurement) bool { return len(r.quantiles) < 2 }) {
		m.p50, m.p99 = mergedPercentile(runs, 50), mergedPercentile(runs, 99)
	}
	return m
}

// mergedPercentile is the latency at percentile p of all the runs'
// requests together: the latency x at which the runs' distributions,
// each interpolated between its reported percentiles and weighed by its
// requests, reach p.
func mergedPercentile(runs []measurement, p float64) float64 {
	var total float64
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range runs {
		total += float64(r.requests)
		lo, hi = min(lo, r.quantiles[0][1]), max(hi, r.quantiles[len(r.quantiles)-1][1])
	}
	below := func(x float64) float64 {
		var sum float64
		for _, r := range runs {
			sum += float64(r.requests) * rankOf(r.quantiles, x)
		}
		return sum / total
	}
	for range 60 {
		mid := (lo + hi) / 2
		if below(mid) >= p {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// rankOf is the percentile of latency x in the distribution q.
func rankOf(q [][2]float64, x float64) float64 {
	if x < q[0][1] {
		return 0
	}
	for k := 1; k < len(q); k++ {
		if x < q[k][1] {
			p0, v0, p1, v1 := q[k-1][0], q[k-1][1], q[k][0], q[k][1]
			return p0 + (p1-p0)*(x-v0)/(v1-v0)
		}
	}
	return 100
}

// quantilesOf is the distribution of the sorted latencies as the pairs
// load.lua reports.
func quantilesOf(sorted []float64) [][2]float64 {
	at := func(p float64) [2]float64 {
		return [2]float64{p, sorted[min(int(float64(len(sorted))*p/100), len(sorted)-1)]}
	}
	q := [][2]float64{{0, sorted[0]}}
	for p := 1; p <= 99; p++ {
		q = append(q, at(float64(p)))
	}
	for p := 99.1; p < 99.95; p += 0.1 {
		q = append(q, at(p))
	}
	return append(q, at(99.99), [2]float64{100, sorted[len(sorted)-1]})
}

// warmSeconds is how long each system answers a scenario, unmeasured,
// before its first measured run.
const warmSeconds = 2

// warm runs a scenario briefly against each system that will be measured
// on it, so the first measured run of none of them pays for reading the
// scenario's data into PostgreSQL's buffers (the partner totals read ledger
// entries and payments scattered over a million rows: the first system to
// ask would otherwise measure the disk). Mutations are not replayed: each
// input is used once.
func (r *runner) warm(ctx context.Context, s scenario, url, dbURL string) error {
	w := *r
	w.seconds = warmSeconds
	l := load{connections: 8}
	if s.perRun == 0 {
		if _, err := w.http(ctx, url, l, s.ours); err != nil {
			return fmt.Errorf("warm %s: %w", s.name, err)
		}
	}
	if s.peer != nil {
		if _, err := w.http(ctx, "http://127.0.0.1:"+peerPort+"/graphql", l, s.peer); err != nil {
			return fmt.Errorf("warm %s on the peer: %w", s.name, err)
		}
	}
	if s.floor != nil {
		if _, err := w.pgbench(ctx, dbURL, l, s.floor); err != nil {
			return fmt.Errorf("warm %s floor: %w", s.name, err)
		}
	}
	return nil
}

// http runs one load against url: wrk at a fixed concurrency, autocannon
// at a fixed offered rate (wrk has no such mode). wrk is the lighter
// client by far, and the client shares the machine's two cores with the
// systems it measures, as pgbench does for the floor: autocannon spent
// about as much CPU per uncached listing as our server did.
func (r *runner) http(ctx context.Context, url string, l load, reqs []request) (loadResult, error) {
	if l.rate == 0 {
		return r.wrk(ctx, url, l, reqs)
	}
	spec, err := json.Marshal(map[string]any{
		"url": url, "connections": l.connections, "seconds": r.seconds, "rate": l.rate, "requests": reqs,
	})
	if err != nil {
		return loadResult{}, err
	}
	f := filepath.Join(r.workDir, "load-spec.json")
	if err := os.WriteFile(f, spec, 0o600); err != nil {
		return loadResult{}, err
	}
	return runLoad(ctx, "autocannon", exec.CommandContext(ctx, r.nodeBin, r.loadScript, f))
}

// wrk runs bench/load.lua: the requests go to it written out whole, each
// after a line with its length.
func (r *runner) wrk(ctx context.Context, url string, l load, reqs []request) (loadResult, error) {
	u, err := neturl.Parse(url)
	if err != nil {
		return loadResult{}, err
	}
	var file bytes.Buffer
	for _, req := range reqs {
		var raw bytes.Buffer
		fmt.Fprintf(&raw, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", u.RequestURI(), u.Host, len(req.Body))
		for _, k := range slices.Sorted(maps.Keys(req.Headers)) {
			fmt.Fprintf(&raw, "%s: %s\r\n", k, req.Headers[k])
		}
		raw.WriteString("\r\n")
		raw.WriteString(req.Body)
		fmt.Fprintf(&file, "%d\n", raw.Len())
		file.Write(raw.Bytes())
	}
	f := filepath.Join(r.workDir, "load-requests")
	if err := os.WriteFile(f, file.Bytes(), 0o600); err != nil {
		return loadResult{}, err
	}
	threads := strconv.Itoa(min(l.connections, 2))
	return runLoad(ctx, "wrk", exec.CommandContext(ctx, "wrk", "-t", threads, "-c", strconv.Itoa(l.connections),
		"-d", strconv.Itoa(r.seconds)+"s", "--timeout", "10s", "-s", r.wrkScript, url, "--", f, threads))
}

// runLoad runs a load generator that prints its result as its last line of
// JSON, and adds the CPU it spent.
func runLoad(ctx context.Context, name string, cmd *exec.Cmd) (loadResult, error) {
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return loadResult{}, fmt.Errorf("%s: %w: %s", name, err, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var res loadResult
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		return loadResult{}, fmt.Errorf("%s output %q: %w", name, out.String(), err)
	}
	res.ClientCPU = cpuSpent(cmd)
	return res, nil
}

// cpuSpent is the CPU time a command that has exited spent.
func cpuSpent(cmd *exec.Cmd) time.Duration {
	return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

var (
	tpsLine    = regexp.MustCompile(`(?m)^tps = ([0-9.]+)`)
	failedLine = regexp.MustCompile(`(?m)^number of failed transactions: (\d+)`)
)

// pgbench runs the scripts (equal weights) with prepared statements at
// the load, against dbURL as its owner, and reads the per-transaction
// log for the latency percentiles.
func (r *runner) pgbench(ctx context.Context, dbURL string, l load, scripts []string) (loadResult, error) {
	dir, err := os.MkdirTemp(r.workDir, "pgbench-")
	if err != nil {
		return loadResult{}, err
	}
	defer os.RemoveAll(dir)
	args := []string{"-n", "-M", "prepared", "-c", strconv.Itoa(l.connections), "-j", strconv.Itoa(min(l.connections, 2)),
		"-T", strconv.Itoa(r.seconds), "-l", "--log-prefix", filepath.Join(dir, "log")}
	if l.rate > 0 {
		args = append(args, "-R", strconv.Itoa(l.rate))
	}
	for i, s := range scripts {
		f := filepath.Join(dir, fmt.Sprintf("script%d.sql", i))
		if err := os.WriteFile(f, []byte(s), 0o600); err != nil {
			return loadResult{}, err
		}
		args = append(args, "-f", f+"@1")
	}
	args = append(args, dbURL)
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, pgbenchPath(), args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return loadResult{}, fmt.Errorf("pgbench: %w: %s", err, out.String())
	}
	res := loadResult{ClientCPU: cpuSpent(cmd)}
	if m := tpsLine.FindStringSubmatch(out.String()); m != nil {
		res.RPS, _ = strconv.ParseFloat(m[1], 64)
	}
	if m := failedLine.FindStringSubmatch(out.String()); m != nil {
		res.Errors, _ = strconv.Atoi(m[1])
	}
	var lat []float64
	logs, _ := filepath.Glob(filepath.Join(dir, "log*"))
	for _, lf := range logs {
		f, err := os.Open(lf)
		if err != nil {
			return loadResult{}, err
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 3 {
				continue
			}
			if fields[2] == "failed" || fields[2] == "skipped" {
				continue
			}
			us, err := strconv.ParseFloat(fields[2], 64)
			if err == nil {
				lat = append(lat, us/1000)
			}
		}
		f.Close()
	}
	res.Requests = len(lat)
	if len(lat) > 0 {
		slices.Sort(lat)
		res.P50 = lat[len(lat)*50/100]
		res.P99 = lat[min(len(lat)*99/100, len(lat)-1)]
		res.Quantiles = quantilesOf(lat)
	}
	if res.Requests == 0 {
		return res, fmt.Errorf("pgbench ran no transaction: %s", out.String())
	}
	return res, nil
}

// pgbenchPath finds pgbench on PATH or beside the PostgreSQL server.
func pgbenchPath() string {
	if p, err := exec.LookPath("pgbench"); err == nil {
		return p
	}
	if found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pgbench"); len(found) > 0 {
		return found[len(found)-1]
	}
	return "pgbench"
}
