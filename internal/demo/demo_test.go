package demo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"testing"

	"configmarket/internal/dbtest"
	"configmarket/internal/identity"
	"configmarket/internal/inn"
	"configmarket/internal/store"
)

func TestLoadIsIdempotentAndCoversEveryRoleAndStatus(t *testing.T) {
	pool := dbtest.Pool(t)
	ctx := context.Background()
	// Row counts, plus fingerprints of the rows a reload must not touch.
	snapshot := func() map[string]string {
		out := map[string]string{}
		for _, q := range []string{
			"users", "role_grants", "developers", "partners", "customers", "configurations", "versions", "prices", "categories",
			"installations", "trials", "reviews", "configuration_invites", "invoices", "payments", "ledger_entries",
		} {
			var n string
			if err := pool.QueryRow(ctx, "select count(*)::text from "+q).Scan(&n); err != nil {
				t.Fatal(err)
			}
			out[q] = n
		}
		for name, q := range map[string]string{
			"configuration rows": `select coalesce(md5(string_agg(concat_ws('|', slug, description, screenshots::text, visibility, state, published_at), ',' order by slug)), '') from configurations`,
			"installation rows":  `select coalesce(md5(string_agg(concat_ws('|', license_key, mode, state, version_id, trial_ends_at, current_period_start, current_period_end, created_at), ',' order by license_key)), '') from installations`,
			"review rows":        `select coalesce(md5(string_agg(concat_ws('|', configuration_id, customer_id, author_user_id, rating, body, created_at), ',' order by configuration_id, customer_id)), '') from reviews`,
		} {
			var s string
			if err := pool.QueryRow(ctx, q).Scan(&s); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			out[name] = s
		}
		return out
	}
	if err := Load(ctx, pool); err != nil {
		t.Fatal(err)
	}
	first := snapshot()
	if err := Load(ctx, pool); err != nil {
		t.Fatal(err)
	}
	if second := snapshot(); len(second) != len(first) {
		t.Fatal("count mismatch")
	} else {
		for k, v := range first {
			if second[k] != v {
				t.Errorf("%s: %s after the second load, %s after the first", k, second[k], v)
			}
		}
	}
	t.Logf("rows after loading: %v", first)

	// Where the schema keeps rating and popularity counters (triggers on
	// reviews and installations), two loads leave them equal to the rows.
	var counters bool
	if err := pool.QueryRow(ctx, `select count(*) = 3 from information_schema.columns where table_schema = current_schema()
		and table_name = 'configurations' and column_name in ('rating_count', 'rating_sum', 'active_installations')`).Scan(&counters); err != nil {
		t.Fatal(err)
	}
	if counters {
		var wrong int
		if err := pool.QueryRow(ctx, `select count(*) from configurations c
			where (c.rating_count, c.rating_sum) <> (select count(*), coalesce(sum(r.rating), 0) from reviews r where r.configuration_id = c.id)
				or c.active_installations <> (select count(*) from installations i
					where i.configuration_id = c.id and i.state in ('trialing', 'active', 'past_due'))`).Scan(&wrong); err != nil {
			t.Fatal(err)
		}
		if wrong != 0 {
			t.Errorf("%d configurations whose counters disagree with their reviews or installations", wrong)
		}
	}

	// Every INN passes its check digit.
	rows, err := pool.Query(ctx, `select name, inn from customers where inn is not null
		union all select name, inn from partners where inn is not null`)
	if err != nil {
		t.Fatal(err)
	}
	var withINN int
	for rows.Next() {
		var name, number string
		if err := rows.Scan(&name, &number); err != nil {
			t.Fatal(err)
		}
		if !inn.Valid(number) {
			t.Errorf("%s: INN %s fails its check digit", name, number)
		}
		withINN++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if withINN < 8 {
		t.Errorf("%d customers and partners with an INN, want at least 8", withINN)
	}

	const cyrillic = `'[А-Яа-яЁё]'`
	for _, q := range []struct {
		what string
		sql  string
		min  int
		max  int
	}{
		{"configurations", `select count(*) from configurations`, 20, 24},
		{"developer statuses", `select count(distinct status) from developers`, 3, 3},
		{"partner statuses", `select count(distinct status) from partners`, 3, 3},
		{"roles", `select count(distinct role) from role_grants`, 4, 4},
		{"plans with customers", `select count(distinct tariff_plan_id) from customers`, 4, 4},
		{"customers", `select count(*) from customers`, 9, 12},
		// Every configuration has a rent price on each of the 4 plans.
		{"configuration/plan pairs without a rent price", `select count(*) from configurations c cross join tariff_plans t
			where not exists (select 1 from prices p where p.configuration_id = c.id and p.kind = 'rent' and p.tariff_plan_id = t.id)`, 0, 0},

		// Storefront content.
		{"configurations without 2-4 screenshots of their own", `select count(*) from configurations c
			where cardinality(c.screenshots) not between 2 and 4
				or exists (select 1 from unnest(c.screenshots) s where s not like 'https://cdn.configmarket.test/screenshots/' || c.slug || '/%.png')`, 0, 0},
		{"configurations without a long markdown description", `select count(*) from configurations
			where length(description) < 250 or description not like '## %' or description not like '%' || E'\n\n' || '%' || E'\n\n' || '%'`, 0, 0},
		{"descriptions in another language than the title", `select count(*) from configurations
			where (title ~ ` + cyrillic + `) <> (description ~ ` + cyrillic + `)`, 0, 0},

		// Visibility and moderation cases.
		{"unlisted published configurations", `select count(*) from configurations where visibility = 'unlisted' and state = 'published'`, 1, 1},
		{"private published configurations with an invite", `select count(*) from configurations c where visibility = 'private' and state = 'published'
			and exists (select 1 from configuration_invites i where i.configuration_id = c.id)`, 1, 1},
		{"draft configurations of alfa-solutions with only draft versions", `select count(*) from configurations c join developers d on d.id = c.developer_id
			where d.slug = 'alfa-solutions' and c.state = 'draft' and c.published_at is null
				and exists (select 1 from versions v where v.configuration_id = c.id)
				and not exists (select 1 from versions v where v.configuration_id = c.id and v.state <> 'draft')`, 1, 1},
		{"published configurations without an approved version", `select count(*) from configurations c where state = 'published'
			and not exists (select 1 from versions v where v.configuration_id = c.id and v.state = 'approved')`, 0, 0},
		{"in-review versions newer than the current one", `select count(*) from versions v join configurations c on c.id = v.configuration_id
			where v.state = 'in_review' and c.state = 'published' and v.submitted_at is not null and v.decided_at is null
				and (v.major, v.minor, v.patch) > all (select a.major, a.minor, a.patch from versions a where a.configuration_id = c.id and a.state = 'approved')`, 1, 1},
		{"rejected versions with a reason", `select count(*) from versions v join configurations c on c.id = v.configuration_id
			where v.state = 'rejected' and c.state = 'published' and length(v.rejection_reason) > 20 and v.decided_at is not null`, 1, 1},

		// Customers and installations.
		{"customers without a demo user", `select count(*) from customers c where not exists (select 1 from role_grants g join users u on u.id = g.user_id
			where g.role = 'customer' and g.customer_id = c.id and u.email like '%@configmarket.test')`, 0, 0},
		{"customers without 2-5 installations", `select count(*) from customers c
			where (select count(*) from installations i where i.customer_id = c.id) not between 2 and 5`, 0, 0},
		{"installation modes", `select count(distinct mode) from installations`, 3, 3},
		{"installation states", `select count(distinct state) from installations`, 5, 5},
		{"installations whose state, dates or trial row do not fit the mode", `select count(*) from installations i where not case i.mode
			when 'trial' then i.state in ('trialing', 'expired') and (i.state = 'trialing') = (i.trial_ends_at > now())
				and i.current_period_start is null and i.current_period_end is null
				and exists (select 1 from trials t where t.customer_id = i.customer_id and t.configuration_id = i.configuration_id
					and t.ends_at = i.trial_ends_at)
			when 'rent' then i.state in ('active', 'past_due', 'canceled') and i.trial_ends_at is null
				and i.current_period_start <= now() and (i.state = 'canceled') = (i.current_period_end < now())
			else i.state = 'active' and i.trial_ends_at is null and i.current_period_start is null
			end`, 0, 0},
		{"installations on an unfit version", `select count(*) from installations i join versions v on v.id = i.version_id
			where v.configuration_id <> i.configuration_id or v.state <> 'approved'
				or (i.mode <> 'purchase' and exists (select 1 from versions n where n.configuration_id = i.configuration_id
					and n.state = 'approved' and (n.major, n.minor, n.patch) > (v.major, v.minor, v.patch)))
				or (i.mode = 'purchase' and v.decided_at > i.created_at)`, 0, 0},
		{"installations the customer could not have made", `select count(*) from installations i join configurations c on c.id = i.configuration_id
			where c.state <> 'published' or i.created_at < c.published_at or i.license_key !~ '^CM-[0-9A-F]{20}$'
				or (c.visibility = 'private' and not exists (select 1 from configuration_invites v
					where v.configuration_id = c.id and v.customer_id = i.customer_id))
				or (i.mode = 'purchase' and not c.sells_purchase)`, 0, 0},
		{"trials without an installation", `select count(*) from trials t where not exists
			(select 1 from installations i where i.customer_id = t.customer_id and i.configuration_id = t.configuration_id)`, 0, 0},
		{"rentals that began as a trial", `select count(*) from installations i join trials t using (customer_id, configuration_id) where i.mode = 'rent'`, 1, 100},

		// Reviews.
		{"reviews per 100 installations", `select (select count(*) from reviews) * 100 / (select count(*) from installations)`, 35, 65},
		{"reviews without an installation or by a stranger", `select count(*) from reviews r
			where not exists (select 1 from installations i where i.customer_id = r.customer_id and i.configuration_id = r.configuration_id)
				or not exists (select 1 from role_grants g where g.user_id = r.author_user_id and g.role = 'customer' and g.customer_id = r.customer_id)`, 0, 0},
		{"reviews in another language than the configuration", `select count(*) from reviews r join configurations c on c.id = r.configuration_id
			where (c.title ~ ` + cyrillic + `) <> (r.body ~ ` + cyrillic + `) or length(r.body) < 20`, 0, 0},
		{"distinct ratings", `select count(distinct rating) from reviews`, 5, 5},
		{"distinct average ratings", `select count(distinct a) from (select avg(rating) a from reviews group by configuration_id) s`, 4, 100},
	} {
		var n int
		if err := pool.QueryRow(ctx, q.sql).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q.what, err)
		}
		if n < q.min || n > q.max {
			t.Errorf("%s: %d, want %d..%d", q.what, n, q.min, q.max)
		}
	}
}

// The demo must survive its first billing run: active rentals and
// purchases have paid for what they use.
func TestDemoActiveInstallationsOweNothing(t *testing.T) {
	pool := dbtest.Pool(t)
	ctx := context.Background()
	if err := Load(ctx, pool); err != nil {
		t.Fatal(err)
	}
	var unpaid int
	err := pool.QueryRow(ctx, `select count(*) from installations i where i.state = 'active' and i.mode in ('rent', 'purchase')
		and not exists (select 1 from invoices v where v.installation_id = i.id and v.state = 'paid'
			and (i.mode = 'purchase' or v.period_start = i.current_period_start))`).Scan(&unpaid)
	if err != nil || unpaid != 0 {
		t.Fatalf("%d active installations without a paid invoice (err %v)", unpaid, err)
	}
	var unanchored int
	if err := pool.QueryRow(ctx, `select count(*) from installations where mode = 'rent' and billing_anchor is null`).Scan(&unanchored); err != nil || unanchored != 0 {
		t.Fatalf("%d rentals without a billing anchor (err %v)", unanchored, err)
	}
}

// Every demo version that reached moderation carries a small real package
// (issue 20): well-formed, its manifest naming its configuration and
// version, its bytes where the record says; loading twice adds nothing.
func TestDemoPackages(t *testing.T) {
	ctx := identity.AsSystem(context.Background())
	pool := dbtest.Pool(t)
	if err := Load(ctx, pool); err != nil {
		t.Fatal(err)
	}
	st := store.New(pool)
	blobs := st.Blobs()
	for range 2 {
		if err := LoadPackages(ctx, st, blobs); err != nil {
			t.Fatal(err)
		}
	}
	var missing, total int
	if err := pool.QueryRow(ctx, `select count(*) filter (where p.version_id is null), count(*) from versions v
		left join version_packages p on p.version_id = v.id where v.state in ('in_review', 'approved')`).Scan(&missing, &total); err != nil {
		t.Fatal(err)
	}
	if missing != 0 || total < 20 {
		t.Fatalf("%d of %d moderated demo versions without a package", missing, total)
	}
	rows, err := pool.Query(ctx, `select p.blob_key, p.sha256, p.manifest->>'slug', p.manifest->>'version', c.slug,
			v.major || '.' || v.minor || '.' || v.patch, p.problem
		from version_packages p join versions v on v.id = p.version_id join configurations c on c.id = v.configuration_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var key, mSlug, mVersion, slug, number string
		var sum []byte
		var problem *string
		if err := rows.Scan(&key, &sum, &mSlug, &mVersion, &slug, &number, &problem); err != nil {
			t.Fatal(err)
		}
		if problem != nil || mSlug != slug || mVersion != number {
			t.Errorf("%s %s: manifest %s %s, problem %v", slug, number, mSlug, mVersion, problem)
		}
		r, err := blobs.Open(ctx, key)
		if err != nil {
			t.Fatalf("%s %s: %v", slug, number, err)
		}
		h := sha256.New()
		if _, err := io.Copy(h, r); err != nil || !bytes.Equal(h.Sum(nil), sum) {
			t.Errorf("%s %s: stored bytes do not match their SHA-256 (%v)", slug, number, err)
		}
		r.Close()
	}
}
