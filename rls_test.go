package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"

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
	app := w.s.deps.store // connects as the server's role
	otherPartner := factory.Partner(t, w.s.store)
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
		"an admin, the dealer's commission":        {as(factory.Admin(t, w.s.store)), dealerEntries, 1},
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
	if err := w.s.pool.QueryRow(context.Background(), `select id from payments`).Scan(&paymentID); err != nil {
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
