package earnings_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"configmarket/internal/earnings"
	"configmarket/internal/factory"
	"configmarket/internal/identity"
	"configmarket/internal/store"
)

func TestPartyViewsAndStatements(t *testing.T) {
	e := newLedgerEnv(t, true)
	e.pay(50000, "p1")
	e.pay(3500000, "p2")
	ledger := earnings.NewLedger(e.st)

	var partnerID, devID uuid.UUID
	if err := e.pool.QueryRow(e.ctx, `select partner_id from pins limit 1`).Scan(&partnerID); err != nil {
		t.Fatal(err)
	}
	devID = e.conf.DeveloperID
	partner := identity.Viewer{UserID: uuid.New(), Role: identity.RolePartner, ActingFor: partnerID}
	dev := identity.Viewer{UserID: uuid.New(), Role: identity.RoleDeveloper, ActingFor: devID}

	page, err := ledger.Entries(e.ctx, partner, earnings.EntryFilter{Party: store.PartyPartner, PartyID: partnerID}, nil, nil)
	if err != nil || len(page.Rows) != 2 {
		t.Fatalf("partner commissions: %d (err %v)", len(page.Rows), err)
	}
	// 500.00 → 31.25; 35,000.00 → (35,000 − 26,250) × 25% = 2,187.50.
	byCustomer := earnings.TotalsKey{Party: store.PartyPartner, PartyID: partnerID, Grouping: store.ByCustomer}
	byPaidFor := earnings.TotalsKey{Party: store.PartyPartner, PartyID: partnerID, Grouping: store.ByPaidFor}
	sets, err := ledger.Totals(e.ctx, partner, []earnings.TotalsKey{byCustomer, byPaidFor})
	if totals := sets[byCustomer]; err != nil || len(totals) != 1 || totals[0].Share != 3125+218750 || totals[0].Gross != 3550000 {
		t.Fatalf("per-customer totals %+v (err %v)", totals, err)
	}
	// Both payments were rent; summed in the same statement as above.
	if paid := sets[byPaidFor]; len(paid) != 1 || paid[0].Key != "rent" || paid[0].Share != 3125+218750 || paid[0].Entries != 2 {
		t.Fatalf("per-payment-kind totals %+v", paid)
	}
	byConfKey := earnings.TotalsKey{Party: store.PartyDeveloper, PartyID: devID, Grouping: store.ByConfiguration}
	sets, err = ledger.Totals(e.ctx, dev, []earnings.TotalsKey{byConfKey})
	if byConf := sets[byConfKey]; err != nil || len(byConf) != 1 || byConf[0].Share != 37500+2625000 {
		t.Fatalf("developer by configuration %+v (err %v)", byConf, err)
	}
	st, err := ledger.MonthStatement(e.ctx, dev, store.PartyDeveloper, devID, time.Now().UTC())
	if err != nil || st == nil || len(st.Entries) != 2 || st.Share != 37500+2625000 || st.Gross != 3550000 {
		t.Fatalf("statement %+v (err %v)", st, err)
	}
	var sum int64
	for _, en := range st.Entries {
		sum += en.Amount.Minor
	}
	if sum != st.Share {
		t.Fatalf("statement total %d differs from its entries %d", st.Share, sum)
	}

	// Nobody else reads them: another partner, another developer, the customer.
	otherPartner := factory.Partner(t, e.st)
	otherDev := factory.Developer(t, e.st)
	for name, v := range map[string]identity.Viewer{
		"other partner": otherPartner.Viewer(), "other developer": otherDev.Viewer(), "customer": e.buyer.Viewer(),
		"developer as partner": {UserID: uuid.New(), Role: identity.RolePartner, ActingFor: devID},
	} {
		p, _ := ledger.Entries(e.ctx, v, earnings.EntryFilter{Party: store.PartyPartner, PartyID: partnerID}, nil, nil)
		d, _ := ledger.Entries(e.ctx, v, earnings.EntryFilter{Party: store.PartyDeveloper, PartyID: devID}, nil, nil)
		s, _ := ledger.MonthStatement(e.ctx, v, store.PartyDeveloper, devID, time.Now().UTC())
		totals, _ := ledger.Totals(e.ctx, v, []earnings.TotalsKey{byCustomer})
		if len(p.Rows) != 0 || len(d.Rows) != 0 || s != nil || len(totals[byCustomer]) != 0 {
			t.Errorf("%s read someone else's ledger", name)
		}
	}
}
