package demo

import (
	"context"
	"testing"

	"configmarket/internal/dbtest"
)

func TestLoadIsIdempotentAndCoversEveryRoleAndStatus(t *testing.T) {
	pool := dbtest.Pool(t)
	ctx := context.Background()
	counts := func() map[string]int {
		out := map[string]int{}
		for _, q := range []string{
			"users", "role_grants", "developers", "partners", "customers", "configurations", "versions", "prices", "categories",
		} {
			var n int
			if err := pool.QueryRow(ctx, "select count(*) from "+q).Scan(&n); err != nil {
				t.Fatal(err)
			}
			out[q] = n
		}
		return out
	}
	if err := Load(ctx, pool); err != nil {
		t.Fatal(err)
	}
	first := counts()
	if err := Load(ctx, pool); err != nil {
		t.Fatal(err)
	}
	if second := counts(); len(second) != len(first) {
		t.Fatal("count mismatch")
	} else {
		for k, v := range first {
			if second[k] != v {
				t.Errorf("%s: %d after the second load, %d after the first", k, second[k], v)
			}
		}
	}
	if first["configurations"] < 20 {
		t.Errorf("%d configurations, want about 20", first["configurations"])
	}
	// Every configuration has a rent price on each of the 4 plans.
	var missing int
	if err := pool.QueryRow(ctx, `select count(*) from configurations c cross join tariff_plans t
		where not exists (select 1 from prices p where p.configuration_id = c.id and p.kind = 'rent' and p.tariff_plan_id = t.id)`).Scan(&missing); err != nil || missing != 0 {
		t.Errorf("%d configuration/plan pairs without a rent price (err %v)", missing, err)
	}
	for _, q := range []struct{ what, sql string }{
		{"developer statuses", `select count(distinct status) from developers`},
		{"partner statuses", `select count(distinct status) from partners`},
		{"roles", `select count(distinct role) from role_grants`},
		{"plans with customers", `select count(distinct tariff_plan_id) from customers`},
	} {
		var n int
		if err := pool.QueryRow(ctx, q.sql).Scan(&n); err != nil {
			t.Fatal(err)
		}
		want := map[string]int{"developer statuses": 3, "partner statuses": 3, "roles": 4, "plans with customers": 4}[q.what]
		if n != want {
			t.Errorf("%s: %d, want %d", q.what, n, want)
		}
	}
}
