package migrations_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"configmarket/internal/dbtest"
)

// The invariants the database holds by itself, whatever the application
// does. Each case is one statement that must fail with the named constraint
// after the fixture rows were inserted.
func TestSchemaConstraints(t *testing.T) {
	pool := dbtest.Pool(t)
	ctx := context.Background()
	mustExec(t, pool, `
		insert into users (id, email, password_hash, name) values ('00000000-0000-0000-0000-0000000aa001', 'u@example.test', 'x', 'U');
		insert into developers (id, slug, name) values ('00000000-0000-0000-0000-00000000d001', 'dev-one', 'Dev One');
		insert into customers (id, name, tariff_plan_id) select '00000000-0000-0000-0000-00000000c001', 'Cust', id from tariff_plans where code = 'B';
		insert into configurations (id, developer_id, slug, title) values ('00000000-0000-0000-0000-0000000cf001', '00000000-0000-0000-0000-00000000d001', 'conf-one', 'Conf One');
		insert into versions (id, configuration_id, major, minor, patch, state) values ('00000000-0000-0000-0000-0000000ee001', '00000000-0000-0000-0000-0000000cf001', 1, 0, 0, 'approved');
		insert into trials (customer_id, configuration_id, ends_at) values ('00000000-0000-0000-0000-00000000c001', '00000000-0000-0000-0000-0000000cf001', now() + interval '14 days');
		insert into installations (id, customer_id, configuration_id, mode, state, version_id, license_key, trial_ends_at)
			values ('00000000-0000-0000-0000-0000000a1001', '00000000-0000-0000-0000-00000000c001', '00000000-0000-0000-0000-0000000cf001', 'trial', 'trialing', '00000000-0000-0000-0000-0000000ee001', 'key-1', now() + interval '14 days');
		insert into invoices (customer_id, installation_id, paid_for, amount_minor, period_start, period_end)
			values ('00000000-0000-0000-0000-00000000c001', '00000000-0000-0000-0000-0000000a1001', 'rent', 50000, '2026-01-01', '2026-02-01');
	`)
	const (
		dev  = `'00000000-0000-0000-0000-00000000d001'`
		cust = `'00000000-0000-0000-0000-00000000c001'`
		conf = `'00000000-0000-0000-0000-0000000cf001'`
	)
	cases := []struct {
		name, sql, constraint string
	}{
		{"slug unique", `insert into configurations (developer_id, slug, title) values (` + dev + `, 'conf-one', 'Other')`, "configurations_slug_key"},
		{"slug format", `insert into configurations (developer_id, slug, title) values (` + dev + `, 'Bad Slug', 'Other')`, "configurations_slug_check"},
		{"trial days at most 30", `insert into configurations (developer_id, slug, title, trial_days) values (` + dev + `, 'c31', 'C', 31)`, "configurations_trial_days_check"},
		{"trial days not negative", `insert into configurations (developer_id, slug, title, trial_days) values (` + dev + `, 'cneg', 'C', -1)`, "configurations_trial_days_check"},
		{"at least one sale mode", `insert into configurations (developer_id, slug, title, sells_rent, sells_purchase) values (` + dev + `, 'c-none', 'C', false, false)`, "configurations_sale_mode_check"},
		{"visibility values", `insert into configurations (developer_id, slug, title, visibility) values (` + dev + `, 'c-vis', 'C', 'secret')`, "configurations_visibility_check"},
		{"state values", `update configurations set state = 'deleted'`, "configurations_state_check"},
		{"one trial per customer and configuration, ever", `insert into trials (customer_id, configuration_id, ends_at) values (` + cust + `, ` + conf + `, now() + interval '1 day')`, "trials_once_per_customer"},
		{"one installation per customer and configuration", `insert into installations (customer_id, configuration_id, mode, state, version_id, license_key, current_period_start) select ` + cust + `, ` + conf + `, 'rent', 'active', id, 'key-2', now() from versions`, "installations_one_per_customer"},
		{"installation state values", `update installations set state = 'paused'`, "installations_mode_state_check"},
		{"a trial is never past due", `update installations set state = 'past_due'`, "installations_mode_state_check"},
		{"a rental has a period", `update installations set mode = 'rent', state = 'active'`, "installations_rent_period_check"},
		{"a period is invoiced once", `insert into invoices (customer_id, installation_id, paid_for, amount_minor, period_start, period_end) select customer_id, installation_id, 'rent', 50000, period_start, period_end from invoices`, "invoices_one_per_period"},
		{"an invoice is not negative", `update invoices set amount_minor = -1`, "invoices_amount_check"},
		{"semver unique per configuration", `insert into versions (configuration_id, major, minor, patch) values (` + conf + `, 1, 0, 0)`, "versions_number_key"},
		{"rejected version needs a reason", `update versions set state = 'rejected'`, "versions_rejection_reason_check"},
		{"price not negative", `insert into prices (configuration_id, kind, amount_minor) values (` + conf + `, 'sale', -1)`, "prices_amount_check"},
		{"rent price names a plan", `insert into prices (configuration_id, kind, amount_minor) values (` + conf + `, 'rent', 50000)`, "prices_plan_check"},
		{"payment positive", `insert into payments (customer_id, paid_for, amount_minor, provider, provider_payment_id) values (` + cust + `, 'rent', 0, 'manual', 'p1')`, "payments_amount_check"},
		{"payout positive", `insert into payouts (party, developer_id, amount_minor, method) values ('developer', ` + dev + `, -100, 'bank_account')`, "payouts_amount_check"},
		{"rating 1 to 5", `insert into reviews (configuration_id, customer_id, rating) values (` + conf + `, ` + cust + `, 6)`, "reviews_rating_check"},
		{"developer status values", `update developers set status = 'gold'`, "developers_status_check"},
		{"rate at most 100%", `insert into developer_rates (developer_status, support_mode, rate) values ('basic', 'developer', 10001)`, "developer_rates_rate_check"},
		{"customer INN format", `update customers set inn = '12345'`, "customers_inn_check"},
		{"customer role names its customer", `insert into role_grants (user_id, role) select id, 'customer' from users`, "role_grants_subject_check"},
		{"admin names no organisation", `insert into role_grants (user_id, role, developer_id) select id, 'admin', ` + dev + ` from users`, "role_grants_subject_check"},
		{"email stored lower-case", `insert into users (email, password_hash, name) values ('Mixed@Example.test', 'x', 'M')`, "users_email_check"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := pool.Exec(ctx, tc.sql)
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) {
				t.Fatalf("statement succeeded or failed oddly: %v", err)
			}
			if pgErr.ConstraintName != tc.constraint {
				t.Fatalf("violated %q (%s), want %q", pgErr.ConstraintName, pgErr.Message, tc.constraint)
			}
		})
	}
}

func TestOneLivePinPerCustomer(t *testing.T) {
	pool := dbtest.Pool(t)
	mustExec(t, pool, `
		insert into customers (id, name, tariff_plan_id) select '00000000-0000-0000-0000-00000000c001', 'Cust', id from tariff_plans where code = 'B';
		insert into partners (id, name) values ('00000000-0000-0000-0000-00000000a001', 'P1'), ('00000000-0000-0000-0000-00000000a002', 'P2');
		insert into pins (partner_id, customer_id, state, starts_at, expires_at)
			values ('00000000-0000-0000-0000-00000000a001', '00000000-0000-0000-0000-00000000c001', 'active', now(), now() + interval '90 days');
	`)
	_, err := pool.Exec(context.Background(), `insert into pins (partner_id, customer_id, state)
		values ('00000000-0000-0000-0000-00000000a002', '00000000-0000-0000-0000-00000000c001', 'pending')`)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.ConstraintName != "pins_one_live_per_customer" {
		t.Fatalf("second live pin: %v", err)
	}
	// A lapsed pin does not block a new one.
	mustExec(t, pool, `update pins set state = 'expired';
		insert into pins (partner_id, customer_id, state) values ('00000000-0000-0000-0000-00000000a002', '00000000-0000-0000-0000-00000000c001', 'pending')`)
}

func TestDefaultRatesAreTheSpecTables(t *testing.T) {
	pool := dbtest.Pool(t)
	ctx := context.Background()
	dev := map[string]int{}
	rows, _ := pool.Query(ctx, `select developer_status || '/' || support_mode, rate from developer_rates`)
	for rows.Next() {
		var k string
		var r int
		_ = rows.Scan(&k, &r)
		dev[k] = r
	}
	want := map[string]int{
		"basic/developer": 3500, "basic/platform": 2500,
		"standard/developer": 5000, "standard/platform": 2500,
		"premium/developer": 7500, "premium/platform": 2500,
	}
	for k, v := range want {
		if dev[k] != v {
			t.Errorf("developer rate %s = %d, want %d", k, dev[k], v)
		}
	}
	partner := map[string]int{}
	rows, _ = pool.Query(ctx, `select partner_status || '/' || paid_for, rate from partner_rates`)
	for rows.Next() {
		var k string
		var r int
		_ = rows.Scan(&k, &r)
		partner[k] = r
	}
	wantPartner := map[string]int{
		"agent/rent": 1000, "dealer/rent": 2500, "integrator/rent": 5000,
		"agent/purchase": 1000, "dealer/purchase": 2000, "integrator/purchase": 3000,
		"agent/plan": 1000, "dealer/plan": 2500, "integrator/plan": 5000,
		"agent/services": 1000, "dealer/services": 1000, "integrator/services": 1000,
	}
	for k, v := range wantPartner {
		if partner[k] != v {
			t.Errorf("partner rate %s = %d, want %d", k, partner[k], v)
		}
	}
}

func TestDefaultTariffPlans(t *testing.T) {
	pool := dbtest.Pool(t)
	rows, err := pool.Query(context.Background(), `select code, max_users, is_default from tariff_plans order by code`)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		code  string
		users int
		def   bool
	}{{"A", 3, false}, {"B", 10, true}, {"C", 30, false}, {"D", 100, false}}
	i := 0
	for rows.Next() {
		var code string
		var users int
		var def bool
		if err := rows.Scan(&code, &users, &def); err != nil {
			t.Fatal(err)
		}
		if i >= len(want) || want[i].code != code || want[i].users != users || want[i].def != def {
			t.Fatalf("plan %d = %s/%d/%v", i, code, users, def)
		}
		i++
	}
	if i != 4 {
		t.Fatalf("%d plans", i)
	}
}

func mustExec(t *testing.T, pool *pgxpool.Pool, sql string) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), sql); err != nil {
		t.Fatal(err)
	}
}
