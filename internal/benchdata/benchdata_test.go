package benchdata

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"configmarket/internal/dbtest"
	"configmarket/internal/earnings"
	"configmarket/internal/money"
)

var small = Sizes{
	Customers: 300, FreshCustomers: 20, Developers: 12, Partners: 6, Admins: 2,
	Configurations: 60, VersionsPerConfiguration: 4, Installations: 900, Payments: 3000,
}

var anchor = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func TestLoadFillsEveryTableAndKeepsTheRulesTheTriggersKeep(t *testing.T) {
	pool := dbtest.Pool(t)
	ctx := context.Background()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := Load(ctx, conn.Conn(), small, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g", anchor); err != nil {
		t.Fatal(err)
	}

	count := func(q string) int {
		t.Helper()
		var n int
		if err := pool.QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	for q, want := range map[string]int{
		"select count(*) from customers":      small.Customers,
		"select count(*) from developers":     small.Developers,
		"select count(*) from partners":       small.Partners,
		"select count(*) from configurations": small.Configurations,
		"select count(*) from versions":       small.Configurations * small.VersionsPerConfiguration,
		"select count(*) from installations":  small.Installations,
		"select count(*) from payments":       small.Payments,
		// Every rent on every plan is priced.
		"select count(*) from configurations c where sells_rent and (select count(*) from prices p where p.configuration_id = c.id and kind = 'rent') <> 4": 0,
		// Both languages.
		"select count(*) from configurations where title ~ '[а-я]'": small.Configurations / 2,
		// The row triggers are back on.
		"select count(*) from pg_trigger where not tgisinternal and tgenabled <> 'O'": 0,
		// What the counter triggers would have kept.
		"select count(*) from configurations c where active_installations <> (select count(*) from installations i where i.configuration_id = c.id and i.state in ('trialing', 'active', 'past_due'))": 0,
		"select count(*) from configurations c where (rating_count, rating_sum) <> (select count(*), coalesce(sum(rating), 0) from reviews r where r.configuration_id = c.id)":                         0,
		// Fresh customers have nothing yet.
		"select count(*) from installations i join customers c on c.id = i.customer_id where c.crm_account_id in (select 'crm-' || g from generate_series(280, 299) g)": 0,
	} {
		if got := count(q); got != want {
			t.Errorf("%s = %d, want %d", q, got, want)
		}
	}
	if n := count("select count(*) from ledger_entries where party = 'partner'"); n == 0 {
		t.Error("no partner commissions: no payment fell under a pin")
	}
	if n := count("select count(*) from invoices where state = 'open'"); n == 0 {
		t.Error("no open invoices for the mutation scenario")
	}

	// Every payment's entries are exactly what the real split computes.
	rows, err := pool.Query(ctx, `select p.id, p.amount_minor, dr.rate, pr.rate,
			coalesce(max(e.amount_minor) filter (where e.party = 'developer'), 0),
			coalesce(max(e.amount_minor) filter (where e.party = 'partner'), 0),
			max(e.amount_minor) filter (where e.party = 'platform'),
			count(*) filter (where e.party = 'partner')
		from payments p
		join ledger_entries e on e.payment_id = p.id
		left join configurations c on c.id = p.configuration_id
		left join developers d on d.id = c.developer_id
		left join developer_rates dr on dr.developer_status = d.status and dr.support_mode = c.support_mode
		left join pins pin on pin.customer_id = p.customer_id and pin.starts_at <= p.received_at and pin.expires_at > p.received_at
		left join partners pa on pa.id = pin.partner_id
		left join partner_rates pr on pr.partner_status = pa.status and pr.paid_for = p.paid_for
		group by p.id, p.amount_minor, dr.rate, pr.rate`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id uuid.UUID
		var amount, dev, partner, platform int64
		var devRate, partnerRate *int64
		var partnerEntries int
		if err := rows.Scan(&id, &amount, &devRate, &partnerRate, &dev, &partner, &platform, &partnerEntries); err != nil {
			t.Fatal(err)
		}
		var pr *money.Rate
		if partnerRate != nil {
			r := money.Rate(*partnerRate)
			pr = &r
		}
		var dr money.Rate
		if devRate != nil {
			dr = money.Rate(*devRate)
		}
		want, err := earnings.Split(money.New(amount, "RUB"), dr, pr)
		if err != nil {
			t.Fatal(err)
		}
		if want.Developer.Minor != dev || want.Partner.Minor != partner || want.Platform.Minor != platform || (pr != nil) != (partnerEntries == 1) {
			t.Fatalf("payment %s of %d: entries %d/%d/%d, split says %+v", id, amount, dev, partner, platform, want)
		}
		n++
	}
	if rows.Err() != nil || n != small.Payments {
		t.Fatalf("%d payments checked, want %d (%v)", n, small.Payments, rows.Err())
	}
}

func TestLoadIsDeterministic(t *testing.T) {
	ctx := context.Background()
	fingerprint := func() string {
		pool := dbtest.Pool(t)
		conn, err := pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Release()
		if _, err := Load(ctx, conn.Conn(), small.Scaled(3), "hash", anchor); err != nil {
			t.Fatal(err)
		}
		var s string
		err = conn.QueryRow(ctx, `select md5(
			(select string_agg(concat_ws('|', id, slug, title, active_installations, rating_sum), ',' order by id) from configurations) ||
			(select string_agg(concat_ws('|', id, amount_minor, received_at), ',' order by id) from payments) ||
			(select string_agg(concat_ws('|', payment_id, party, amount_minor), ',' order by payment_id, party) from ledger_entries))`).Scan(&s)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if a, b := fingerprint(), fingerprint(); a != b {
		t.Fatalf("two loads differ: %s vs %s", a, b)
	}
}
