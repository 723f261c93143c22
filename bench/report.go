package main

import (
	"fmt"
	"runtime"
	"strings"
	"time"

	"configmarket/internal/benchdata"
)

// formatReport is the one table (markdown, readable as text), the targets
// checked against it, and the growth table.
func formatReport(results []measurement, scen []scenario, growth []measurement, sizes benchdata.Sizes, o options) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n## Benchmark %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "Data: %s. %d CPUs. %d s per system and load: at a concurrency in %d turns taken in rotation by the systems compared (p50 and p99 of all the turns' requests); load generators wrk (HTTP at a concurrency), autocannon (HTTP at a fixed rate) and pgbench -M prepared (SQL floor).\n\n",
		sizes, runtime.NumCPU(), o.seconds, o.rounds)
	fmt.Fprintln(&b, "Ratios: at a concurrency, our requests/s ÷ theirs; at a fixed rate, their p50 ÷ ours. Above 1 means faster than them.")
	fmt.Fprintln(&b, "CPU per request: the serving process (app), all PostgreSQL backends (db) and the load generator (client). autocannon reports latency in whole milliseconds.")
	fmt.Fprintln(&b)
	fmt.Fprintln(&b, "| scenario | load | system | req/s | p50 ms | p99 ms | errors | app CPU ms/req | db CPU ms/req | client CPU ms/req | peak RSS MB | × PostGraphile | × SQL floor |")
	fmt.Fprintln(&b, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	find := func(scenario, system string, l load) *measurement {
		for i := range results {
			m := &results[i]
			if m.scenario == scenario && m.system == system && m.load == l {
				return m
			}
		}
		return nil
	}
	ratio := func(ours, theirs *measurement) string {
		switch {
		case ours == nil || theirs == nil:
			return "—"
		case ours.load.rate > 0 && ours.p50 > 0:
			return fmt.Sprintf("%.2f", theirs.p50/ours.p50)
		case ours.load.rate == 0 && theirs.rps > 0:
			return fmt.Sprintf("%.2f", ours.rps/theirs.rps)
		}
		return "—"
	}
	row := func(m *measurement, peer, floor string) {
		rss := "—"
		if m.peakRSS > 0 {
			rss = fmt.Sprintf("%.0f", float64(m.peakRSS)/(1<<20))
		}
		app := "—"
		if m.system != "sql floor" {
			app = fmt.Sprintf("%.2f", ms(m.appCPU))
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %.0f | %.2f | %.2f | %d | %s | %.2f | %.2f | %s | %s | %s |\n",
			m.scenario, m.load, m.system, m.rps, m.p50, m.p99, m.errors, app, ms(m.dbCPU), ms(m.clientCPU), rss, peer, floor)
	}
	for _, s := range scen {
		for i := range results {
			m := &results[i]
			if m.scenario != s.name || m.system != "configmarket" {
				continue
			}
			row(m, ratio(m, find(s.group, "postgraphile", m.load)), ratio(m, find(s.group, "sql floor", m.load)))
		}
		// The peer and the floor once per group, after its last scenario.
		last := true
		for _, t := range scen[indexOf(scen, s)+1:] {
			if t.group == s.group {
				last = false
			}
		}
		if !last {
			continue
		}
		for i := range results {
			m := &results[i]
			if m.scenario == s.group && m.system != "configmarket" {
				row(m, "", "")
			}
		}
	}
	fmt.Fprintln(&b)
	b.WriteString(targets(results, scen))
	if len(growth) > 0 {
		fmt.Fprintln(&b, "\n### Growth: the uncached listing at 8 connections")
		fmt.Fprintln(&b)
		fmt.Fprintln(&b, "| catalog, page | req/s | p50 ms | p99 ms | errors | app CPU ms/req | db CPU ms/req |")
		fmt.Fprintln(&b, "|---|---:|---:|---:|---:|---:|---:|")
		for _, m := range growth {
			fmt.Fprintf(&b, "| %s | %.0f | %.2f | %.2f | %d | %.2f | %.2f |\n",
				strings.TrimPrefix(m.scenario, "growth "), m.rps, m.p50, m.p99, m.errors, ms(m.appCPU), ms(m.dbCPU))
		}
	}
	return b.String()
}

func indexOf(scen []scenario, s scenario) int {
	for i := range scen {
		if scen[i].name == s.name {
			return i
		}
	}
	return -1
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// targets checks the targets on this run's numbers.
func targets(results []measurement, scen []scenario) string {
	var b strings.Builder
	get := func(scenario, system string, l load) *measurement {
		for i := range results {
			if results[i].scenario == scenario && results[i].system == system && results[i].load == l {
				return &results[i]
			}
		}
		return nil
	}
	verdict := func(ok bool) string {
		if ok {
			return "holds"
		}
		return "does NOT hold"
	}
	fmt.Fprintln(&b, "### Targets")
	fmt.Fprintln(&b)
	for _, c := range []int{8, 32} {
		l := load{connections: c}
		cold, cached := get("a listing (cache off)", "configmarket", l), get("a listing (cached)", "configmarket", l)
		peer, floor := get("a", "postgraphile", l), get("a", "sql floor", l)
		if cold == nil || peer == nil || floor == nil || cached == nil {
			continue
		}
		fmt.Fprintf(&b, "- listing, cache off, c=%d: %.2f× PostGraphile (≥ 3×: %s), %.0f%% of the SQL floor (≥ 50%%: %s)\n",
			c, cold.rps/peer.rps, verdict(cold.rps >= 3*peer.rps), 100*cold.rps/floor.rps, verdict(cold.rps >= floor.rps/2))
		// The same comparison in CPU, which the machine's other work
		// moves less than requests/s: what one answer costs all the
		// processes it runs through, the load generator included.
		ours, theirs := cold.appCPU+cold.dbCPU+cold.clientCPU, floor.dbCPU+floor.clientCPU
		if ours > 0 {
			fmt.Fprintf(&b, "  - CPU per answer, c=%d: ours %.2f ms (app + db + client), the floor's %.2f ms (db + client): %.0f%%\n",
				c, ms(ours), ms(theirs), 100*float64(theirs)/float64(ours))
		}
		fmt.Fprintf(&b, "- listing, cached, c=%d: %.1f× PostGraphile (≥ 20×: %s)\n", c, cached.rps/peer.rps, verdict(cached.rps >= 20*peer.rps))
	}
	l8 := load{connections: 8}
	if cold, peer := get("a listing (cache off)", "configmarket", l8), get("a", "postgraphile", l8); cold != nil && peer != nil {
		fmt.Fprintf(&b, "- listing p99 at c=8: ours %.2f ms (cache off) vs PostGraphile's p50 %.2f ms: %s\n",
			cold.p99, peer.p50, verdict(cold.p99 < peer.p50))
	}
	for _, c := range []int{1, 8, 32} {
		l := load{connections: c}
		if ours, floor := get("e partner earnings totals", "configmarket", l), get("e", "sql floor", l); ours != nil && floor != nil {
			fmt.Fprintf(&b, "- partner totals, c=%d: %.0f%% of the SQL floor (≥ 50%%: %s)\n", c, 100*ours.rps/floor.rps, verdict(ours.rps >= floor.rps/2))
		}
	}
	errs := 0
	for _, m := range results {
		errs += m.errors
	}
	fmt.Fprintf(&b, "- errors in all runs: %d (zero: %s)\n", errs, verdict(errs == 0))
	return b.String()
}
