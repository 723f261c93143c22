package obs

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"configmarket/internal/cache"
	"configmarket/internal/jobs"
)

// metrics are the service's Prometheus collectors. Label values come from
// small closed sets (routes, statement verbs, Redis commands, error codes,
// job names) or are capped (operation names, see names), so a client
// cannot grow the series without bound.
type metrics struct {
	operations    *prometheus.CounterVec
	opDuration    *prometheus.HistogramVec
	errors        *prometheus.CounterVec
	subscriptions prometheus.Gauge
	httpRequests  *prometheus.CounterVec
	httpDuration  *prometheus.HistogramVec
	sqlDuration   *prometheus.HistogramVec
	redisDuration *prometheus.HistogramVec
	cacheLookups  *prometheus.CounterVec
	jobRuns       *prometheus.CounterVec
	jobDuration   *prometheus.HistogramVec
	names         *nameSet
}

// Buckets from a cache hit (sub-millisecond) to a statement timeout (10 s).
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		operations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cm_graphql_operations_total",
			Help: "GraphQL operations by name, type and outcome (ok or the first error code).",
		}, []string{"operation", "type", "outcome"}),
		opDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "cm_graphql_operation_duration_seconds", Help: "GraphQL operation latency.", Buckets: latencyBuckets,
		}, []string{"operation", "type"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cm_graphql_errors_total", Help: "GraphQL errors by extensions.code.",
		}, []string{"code"}),
		subscriptions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cm_graphql_active_subscriptions", Help: "Subscriptions running now on this instance.",
		}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cm_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "cm_http_request_duration_seconds", Help: "HTTP request latency (WebSockets excluded).", Buckets: latencyBuckets,
		}, []string{"route"}),
		sqlDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "cm_sql_duration_seconds", Help: "PostgreSQL statement latency by verb and outcome.", Buckets: latencyBuckets,
		}, []string{"verb", "outcome"}),
		redisDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "cm_redis_duration_seconds", Help: "Redis command latency by command and outcome.", Buckets: latencyBuckets,
		}, []string{"command", "outcome"}),
		cacheLookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cm_cache_lookups_total",
			Help: "Cache reads by key family and result (hit, miss, error); hit ratio = hit / (hit + miss).",
		}, []string{"family", "result"}),
		jobRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cm_job_runs_total", Help: "Periodic job runs by job and outcome.",
		}, []string{"job", "outcome"}),
		jobDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "cm_job_duration_seconds", Help: "Periodic job run time.",
			Buckets: []float64{.01, .05, .1, .5, 1, 5, 10, 30, 60, 300},
		}, []string{"job"}),
		names: &nameSet{max: maxOperationNames, seen: map[string]bool{}},
	}
	reg.MustRegister(m.operations, m.opDuration, m.errors, m.subscriptions, m.httpRequests, m.httpDuration,
		m.sqlDuration, m.redisDuration, m.cacheLookups, m.jobRuns, m.jobDuration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// MetricsHandler serves the registry in Prometheus' text format.
func (t *Telemetry) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(t.registry, promhttp.HandlerOpts{Registry: t.registry})
}

// maxOperationNames bounds the operation label: client apps use a few
// dozen names; past the cap, new names are counted as "other".
const maxOperationNames = 500

type nameSet struct {
	mu   sync.Mutex
	max  int
	seen map[string]bool
}

func (s *nameSet) label(name string) string {
	if name == "" {
		return "anonymous"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.seen[name] {
		if len(s.seen) >= s.max {
			return "other"
		}
		s.seen[name] = true
	}
	return name
}

// operation counts a finished operation; the caller holds rec.mu.
func (m *metrics) operation(rec *record, elapsed time.Duration) {
	name, opType := m.names.label(rec.operation), rec.opType
	if opType == "" {
		opType = "invalid" // never parsed or validated
	}
	outcome := "ok"
	codes := rec.errorCodes()
	if len(codes) > 0 {
		outcome = codes[0]
	}
	for _, c := range codes {
		m.errors.WithLabelValues(c).Inc()
	}
	m.operations.WithLabelValues(name, opType, outcome).Inc()
	if opType != "subscription" {
		m.opDuration.WithLabelValues(name, opType).Observe(elapsed.Seconds())
	}
}

func (m *metrics) httpRequest(route string, status int, elapsed time.Duration) {
	m.httpRequests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	if status != http.StatusSwitchingProtocols {
		m.httpDuration.WithLabelValues(route).Observe(elapsed.Seconds())
	}
}

// Cache counts c's reads by key family ("catalog", "response",
// "generation", ...: the second part of the versioned key) and result.
func (t *Telemetry) Cache(c cache.Cache) cache.Cache { return countingCache{c, t.metrics.cacheLookups} }

type countingCache struct {
	cache.Cache
	lookups *prometheus.CounterVec
}

func (c countingCache) Get(ctx context.Context, key string) ([]byte, bool, error) {
	b, ok, err := c.Cache.Get(ctx, key)
	result := "miss"
	switch {
	case err != nil:
		result = "error"
	case ok:
		result = "hit"
	}
	c.lookups.WithLabelValues(family(key), result).Inc()
	return b, ok, err
}

// family is "catalog" for "v1:catalog:…": key names are versioned,
// then name their kind.
func family(key string) string {
	parts := strings.SplitN(key, ":", 3)
	if len(parts) < 3 {
		return "other"
	}
	return parts[1]
}

// Jobs wraps tasks so each run is counted, timed and traced.
func (t *Telemetry) Jobs(tasks ...jobs.Task) []jobs.Task {
	out := make([]jobs.Task, len(tasks))
	for i, task := range tasks {
		run := task.Run
		name := task.Name
		out[i] = jobs.Task{Name: name, Run: func(ctx context.Context) error {
			start := time.Now()
			ctx, span := t.tracer.Start(ctx, "job "+name)
			err := run(ctx)
			outcome := "ok"
			if err != nil {
				outcome = "error"
				span.RecordError(err)
			}
			span.End()
			t.metrics.jobRuns.WithLabelValues(name, outcome).Inc()
			t.metrics.jobDuration.WithLabelValues(name).Observe(time.Since(start).Seconds())
			return err
		}}
	}
	return out
}
