package commerce_test

import (
	"testing"

	"configmarket/internal/factory"
	"configmarket/internal/store"
)

// BenchmarkProcessUpdates moves 2,000 renting installations to a newly
// approved version in batches of 500 (the default): one short transaction
// per batch, so no customer's row stays locked for the whole move.
func BenchmarkProcessUpdates(b *testing.B) {
	e := newEnv(b)
	c := e.config(factory.ConfigurationOptions{})
	v1 := e.versionOf(c.ID)
	// Customers and their rentals, seeded in bulk.
	if _, err := e.pool.Exec(e.ctx, `
		with plan as (select id from tariff_plans where is_default),
		cust as (
			insert into customers (name, crm_account_id, tariff_plan_id) select 'Bench ' || g, 'crm-bench-' || g, plan.id from generate_series(1, 2000) g, plan
			returning id
		)
		insert into installations (customer_id, configuration_id, mode, state, version_id, license_key,
			billing_anchor, current_period_start, current_period_end)
		select cust.id, $1, 'rent', 'active', $2, 'BENCH-' || cust.id, now(), now(), now() + interval '1 month' from cust`,
		c.ID, v1.ID); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		v := e.newVersion(c.ID, store.VersionKey{Major: 2 + i})
		moved, err := e.svc.ProcessUpdates(e.ctx)
		if err != nil || moved != 2000 {
			b.Fatalf("moved %d of 2000 to %s: %v", moved, v.ID, err)
		}
	}
	b.ReportMetric(2000, "installations/op")
}
