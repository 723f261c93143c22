package earnings_test

import (
	"testing"
	"time"

	"configmarket/internal/apperr"
	"configmarket/internal/clock"
	"configmarket/internal/earnings"
	"configmarket/internal/factory"
	"configmarket/internal/money"
	"configmarket/internal/store"
)

// A rate change applies to payments from then on; entries already written
// keep the rate they were computed with.
func TestRateChangeAppliesToLaterPaymentsOnly(t *testing.T) {
	e := newLedgerEnv(t, false)
	admin := factory.Admin(t, e.st)
	rates := earnings.NewRates(e.st, clock.NewManual(time.Now().UTC().Add(-time.Second)))

	before := e.pay(50000, "before")
	if err := rates.SetDeveloperRate(e.ctx, admin.Viewer(), "premium", "developer", money.Percent(80)); err != nil {
		t.Fatal(err)
	}
	after := e.pay(50000, "after")
	if got := e.entries(before)[store.PartyDeveloper]; got != 37500 {
		t.Fatalf("earlier payment's developer share became %d", got)
	}
	if got := e.entries(after)[store.PartyDeveloper]; got != 40000 {
		t.Fatalf("later payment's developer share %d, want 400.00 at 80%%", got)
	}
	tables, err := rates.Current(e.ctx, admin.Viewer())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range tables.Developer {
		if r.Status == "premium" && r.Kind == "developer" && r.Rate != 8000 {
			t.Fatalf("current premium/developer rate %d", r.Rate)
		}
	}
	hist, err := rates.History(e.ctx, admin.Viewer())
	if err != nil || len(hist.Developer) != 7 {
		t.Fatalf("history has %d developer rates (err %v), want the 6 defaults and the change", len(hist.Developer), err)
	}
}

func TestOnlyAdminsSetRates(t *testing.T) {
	e := newLedgerEnv(t, false)
	rates := earnings.NewRates(e.st, clock.System{})
	dev := factory.Developer(t, e.st)
	if err := rates.SetDeveloperRate(e.ctx, dev.Viewer(), "basic", "developer", money.Percent(99)); !apperr.Is(err, apperr.KindForbidden) {
		t.Fatalf("developer set a rate: %v", err)
	}
	admin := factory.Admin(t, e.st)
	if err := rates.SetPartnerRate(e.ctx, admin.Viewer(), "dealer", "rent", money.Percent(101)); !apperr.Is(err, apperr.KindInvalid) {
		t.Fatalf("101%% accepted: %v", err)
	}
	if _, err := rates.History(e.ctx, dev.Viewer()); !apperr.Is(err, apperr.KindForbidden) {
		t.Fatalf("developer read the rate history: %v", err)
	}
}
