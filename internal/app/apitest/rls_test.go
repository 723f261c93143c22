package apitest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"

	"configmarket/internal/dbtest"
	"configmarket/internal/factory"
	"configmarket/internal/identity"
	"configmarket/internal/money"
	"configmarket/internal/store"
)

// TestRowSecurityHoldsWhenApplicationChecksDoNot calls the server's store
// directly, skipping every domain check, as a buggy resolver would: the
// database itself still returns a party only its own money rows.
func TestRowSecurityHoldsWhenApplicationChecksDoNot(t *testing.T) {
	w := newCommerceWorld(t)
	dealer, _ := w.premiumDeveloperAndDealer(t)
	w.payRent(t)
	app := w.s.Deps.Store // connects as the server's role
	otherPartner := factory.Partner(t, w.s.Store)
	as := func(a factory.Account) context.Context {
		return identity.WithViewer(context.Background(), a.Viewer())
	}
	dealerEntries := store.EntryFilter{Party: "partner", PartyID: dealer.OrgID}
	devEntries := store.EntryFilter{Party: "developer", PartyID: w.dev.OrgID}

	for name, c := range map[string]struct {
		ctx    context.Context
		filter store.EntryFilter
		want   int
	}{
		"the dealer, its own commission":           {as(dealer), dealerEntries, 1},
		"the developer, its own share":             {as(w.dev), devEntries, 1},
		"another partner, the dealer's commission": {as(otherPartner), dealerEntries, 0},
		"the developer, the dealer's commission":   {as(w.dev), dealerEntries, 0},
		"the dealer, the developer's share":        {as(dealer), devEntries, 0},
		"a customer, the developer's share":        {as(w.buyer), devEntries, 0},
		"anonymous, the developer's share":         {context.Background(), devEntries, 0},
		"an admin, the dealer's commission":        {as(factory.Admin(t, w.s.Store)), dealerEntries, 1},
		"the platform, the developer's share":      {identity.AsSystem(context.Background()), devEntries, 1},
	} {
		rows, err := app.EntriesPage(c.ctx, c.filter, nil, 100)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(rows) != c.want {
			t.Errorf("%s: %d rows, want %d", name, len(rows), c.want)
		}
	}

	total, _, _, _, err := app.Balance(as(otherPartner), "partner", dealer.OrgID, time.Now())
	if err != nil || total != 0 {
		t.Fatalf("another partner reads the dealer's balance: %d, %v", total, err)
	}
	if total, _, _, _, _ := app.Balance(as(dealer), "partner", dealer.OrgID, time.Now()); total != 3125 {
		t.Fatalf("the dealer's own balance %d, want 31.25", total)
	}
	var paymentID uuid.UUID
	if err := w.s.Pool.QueryRow(context.Background(), `select id from payments`).Scan(&paymentID); err != nil {
		t.Fatal(err)
	}
	forged := []store.LedgerEntry{{PaymentID: paymentID, Party: "partner", PartnerID: &dealer.OrgID,
		Amount: money.New(100, "RUB"), CustomerID: w.buyer.OrgID, OccurredAt: time.Now()}}
	err = app.InTx(as(dealer), func(q *store.Queries) error { return q.InsertLedgerEntries(as(dealer), forged) })
	if !refusedByPolicy(err) {
		t.Fatalf("a partner writes a ledger entry: %v", err)
	}
	err = app.InTx(as(otherPartner), func(q *store.Queries) error {
		_, err := q.InsertPayout(as(otherPartner), store.Payout{Party: "partner", PartnerID: &dealer.OrgID,
			Amount: money.New(100, "RUB"), Method: "e_wallet", RequestedAt: time.Now()})
		return err
	})
	if !refusedByPolicy(err) {
		t.Fatalf("a partner requests a payout of another partner's balance: %v", err)
	}

	// The role itself: no table of its own, no way around the policies.
	var user string
	var super, bypass bool
	var owned int
	if err := app.Pool().QueryRow(context.Background(), `select current_user, rolsuper, rolbypassrls,
			(select count(*) from pg_tables where tableowner = current_user)
		from pg_roles where rolname = current_user`).Scan(&user, &super, &bypass, &owned); err != nil {
		t.Fatal(err)
	}
	if user != "cm_app" || super || bypass || owned != 0 {
		t.Fatalf("server connects as %s (superuser %v, bypasses RLS %v, owns %d tables)", user, super, bypass, owned)
	}
	for _, sql := range []string{
		`alter table ledger_entries disable row level security`,
		`set role postgres`,
		`set role pgtdbuser`,
		`update ledger_entries set amount_minor = 0`,
		`delete from payouts`,
	} {
		if _, err := app.Pool().Exec(context.Background(), sql); err == nil {
			t.Errorf("the server's role may %q", sql)
		}
	}
}

// refusedByPolicy reports whether PostgreSQL refused err's statement for
// lack of privilege (a row-level security policy or a grant).
func refusedByPolicy(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "42501"
}

// BenchmarkRowSecurity reads a partner's newest 50 entries and its monthly
// totals over 20,000 payments (60,000 entries, a third the partner's) as
// the owner without row-level security (no transaction, no subject) and as
// the server's role (a read-only transaction naming the subject, policies
// on every row): the ratio is what the defence in depth costs.
func BenchmarkRowSecurity(b *testing.B) {
	url := dbtest.URL(b)
	owner := dbtest.OwnerPool(b, url)
	app, _ := dbtest.AppPool(b, url)
	st := store.New(owner)
	dev, partner, customer := factory.Developer(b, st), factory.Partner(b, st), factory.Customer(b, st)
	conf := factory.Configuration(b, st, dev.OrgID, factory.ConfigurationOptions{})
	ctx := context.Background()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`insert into payments (customer_id, configuration_id, paid_for, amount_minor, provider, provider_payment_id, received_at)
		select $1, $2, 'rent', 50000, 'bench', g::text, now() - make_interval(mins => g) from generate_series(1, 20000) g`,
			[]any{customer.OrgID, conf.ID}},
		{`insert into ledger_entries (payment_id, party, developer_id, partner_id, amount_minor, currency, paid_for,
			configuration_id, customer_id, occurred_at)
		select p.id, s.party, case when s.party = 'developer' then $3::uuid end, case when s.party = 'partner' then $4::uuid end,
			s.amount, 'RUB', 'rent', $2, $1, p.received_at
		from payments p cross join (values ('developer', 37500), ('partner', 3125), ('platform', 9375)) s(party, amount)`,
			[]any{customer.OrgID, conf.ID, dev.OrgID, partner.OrgID}},
		{`analyze`, nil},
	} {
		if _, err := owner.Exec(ctx, q.sql, q.args...); err != nil {
			b.Fatal(err)
		}
	}
	viewer := identity.WithViewer(ctx, partner.Viewer())
	f := store.EntryFilter{Party: "partner", PartyID: partner.OrgID}
	for name, s := range map[string]*store.Store{"owner without RLS": store.New(owner), "cm_app with RLS": store.New(app)} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				rows, err := s.EntriesPage(viewer, f, nil, 50)
				if err != nil || len(rows) != 50 {
					b.Fatalf("%d rows, %v", len(rows), err)
				}
				totals, err := s.EntryTotals(viewer, f, store.ByMonth)
				if err != nil || len(totals) == 0 {
					b.Fatalf("totals %v, %v", totals, err)
				}
			}
		})
	}
}
