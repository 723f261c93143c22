package obs

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// WatchPool exposes the connection pool's state at each scrape: a pool
// that is always fully acquired, or whose acquires keep waiting, is the
// first sign that DATABASE_MAX_CONNS is too small or a query too slow.
func (t *Telemetry) WatchPool(pool *pgxpool.Pool) { t.registry.MustRegister(poolCollector{pool}) }

type poolCollector struct{ pool *pgxpool.Pool }

var (
	poolConns = prometheus.NewDesc("cm_db_pool_connections",
		"PostgreSQL pool connections by state.", []string{"state"}, nil)
	poolMax = prometheus.NewDesc("cm_db_pool_max_connections",
		"PostgreSQL pool size (DATABASE_MAX_CONNS).", nil, nil)
	poolAcquires = prometheus.NewDesc("cm_db_pool_acquires_total",
		"Connections acquired from the pool.", nil, nil)
	poolWaits = prometheus.NewDesc("cm_db_pool_empty_acquires_total",
		"Acquires that had to wait for a connection.", nil, nil)
	poolWaitSeconds = prometheus.NewDesc("cm_db_pool_acquire_wait_seconds_total",
		"Time spent acquiring connections.", nil, nil)
)

func (poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolConns, poolMax, poolAcquires, poolWaits, poolWaitSeconds} {
		ch <- d
	}
}

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.AcquiredConns()), "acquired")
	ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.IdleConns()), "idle")
	ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.ConstructingConns()), "constructing")
	ch <- prometheus.MustNewConstMetric(poolMax, prometheus.GaugeValue, float64(s.MaxConns()))
	ch <- prometheus.MustNewConstMetric(poolAcquires, prometheus.CounterValue, float64(s.AcquireCount()))
	ch <- prometheus.MustNewConstMetric(poolWaits, prometheus.CounterValue, float64(s.EmptyAcquireCount()))
	ch <- prometheus.MustNewConstMetric(poolWaitSeconds, prometheus.CounterValue, s.AcquireDuration().Seconds())
}
