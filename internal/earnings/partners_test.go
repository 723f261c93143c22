package earnings_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/clock"
	"configmarket/internal/earnings"
	"configmarket/internal/factory"
	"configmarket/internal/identity"
	"configmarket/internal/store"
)

type partnerStatusEnv struct {
	*ledgerEnv
	svc     *earnings.PartnerStatuses
	clk     *clock.Manual
	partner factory.Account
	admin   factory.Account
}

// newPartnerStatusEnv: ledgerEnv's premium developer and 500.00 rent, and
// the buyer pinned by a new partner, an agent.
func newPartnerStatusEnv(t *testing.T) *partnerStatusEnv {
	t.Helper()
	e := &partnerStatusEnv{ledgerEnv: newLedgerEnv(t, false)}
	e.clk = clock.NewManual(time.Now().UTC().Truncate(time.Microsecond))
	e.svc = earnings.NewPartnerStatuses(e.st, e.clk)
	e.partner, e.admin = factory.Partner(t, e.st), factory.Admin(t, e.st)
	if _, err := e.pool.Exec(e.ctx, `insert into pins (partner_id, customer_id, state, starts_at, expires_at)
		values ($1, $2, 'active', now() - interval '1 day', now() + interval '89 days')`, e.partner.OrgID, e.buyer.OrgID); err != nil {
		t.Fatal(err)
	}
	return e
}

// partnerEntry is the payment's commission entry: its amount and rate.
func (e *partnerStatusEnv) partnerEntry(p store.Payment) (int64, int64) {
	e.t.Helper()
	rows, err := e.st.PaymentEntries(e.ctx, p.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, r := range rows {
		if r.Party == store.PartyPartner && r.RefundID == nil {
			if r.PartnerID == nil || *r.PartnerID != e.partner.OrgID || r.Rate == nil {
				e.t.Fatalf("partner entry %+v", r)
			}
			return r.Amount.Minor, *r.Rate
		}
	}
	e.t.Fatalf("payment %s has no partner entry", p.ID)
	return 0, 0
}

func (e *partnerStatusEnv) history() []store.PartnerStatusChange {
	e.t.Helper()
	h, err := e.svc.StatusHistory(e.ctx, e.admin.Viewer(), e.partner.OrgID)
	if err != nil {
		e.t.Fatal(err)
	}
	return h
}

func wantPartnerCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if e, ok := apperr.As(err); !ok || e.PublicCode() != code {
		t.Fatalf("%s: %v, want %s", what, err, code)
	}
}

// Issue 19 item 7 with SPEC §5's numbers: an agent earns 10% of the
// platform's part of a 500.00 rent (12.50 of 125.00); made a dealer, it
// earns 25% (31.25) of the next one, and the earlier entry keeps 10%.
func TestPartnerMadeDealerEarns25PercentFromTheNextPayment(t *testing.T) {
	e := newPartnerStatusEnv(t)
	first := e.pay(50000, "before")
	if amount, rate := e.partnerEntry(first); amount != 1250 || rate != 1000 {
		t.Fatalf("agent: %d at %d bp, want 12.50 at 10%%", amount, rate)
	}

	decided := e.clk.Now()
	p, err := e.svc.SetStatus(e.ctx, e.admin.Viewer(), e.partner.OrgID, earnings.PartnerDealer, "  runs presentations  ")
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != e.partner.OrgID || p.Status != string(earnings.PartnerDealer) {
		t.Fatalf("partner = %+v", p)
	}

	second := e.pay(50000, "after")
	if amount, rate := e.partnerEntry(second); amount != 3125 || rate != 2500 {
		t.Fatalf("dealer: %d at %d bp, want 31.25 at 25%%", amount, rate)
	}
	if got := e.entries(second); got[store.PartyDeveloper] != 37500 || got[store.PartyPlatform] != 9375 {
		t.Fatalf("second payment's split %v, want developer 375.00, platform 93.75", got)
	}
	// The past never changes.
	if amount, rate := e.partnerEntry(first); amount != 1250 || rate != 1000 {
		t.Fatalf("earlier entry became %d at %d bp, want 12.50 at 10%%", amount, rate)
	}

	h := e.history()
	if len(h) != 2 {
		t.Fatalf("history %+v, want the change and the first status", h)
	}
	if h[0].Status != "dealer" || h[0].Reason != "runs presentations" || h[0].DecidedBy == nil ||
		*h[0].DecidedBy != e.admin.UserID || !h[0].DecidedAt.Equal(decided) {
		t.Fatalf("newest row %+v", h[0])
	}
	if h[1].Status != "agent" || h[1].Reason != store.PartnerSignedUpReason || h[1].DecidedBy != nil {
		t.Fatalf("first row %+v", h[1])
	}
}

// A no-op change is refused and records nothing; bad input is a typed
// error on its field and writes nothing.
func TestSetPartnerStatusRefusesNoOpsAndBadInput(t *testing.T) {
	e := newPartnerStatusEnv(t)
	admin := e.admin.Viewer()
	_, err := e.svc.SetStatus(e.ctx, admin, e.partner.OrgID, earnings.PartnerAgent, "again")
	wantPartnerCode(t, "no-op", err, "PARTNER_STATUS_UNCHANGED")
	for name, c := range map[string]struct {
		status earnings.PartnerStatus
		reason string
		code   string
		field  string
	}{
		"blank reason":   {earnings.PartnerDealer, " \n ", "REASON_REQUIRED", "input.reason"},
		"NUL in reason":  {earnings.PartnerDealer, "ok\x00", "BAD_USER_INPUT", "input.reason"},
		"long reason":    {earnings.PartnerDealer, strings.Repeat("ы", 2001), "BAD_USER_INPUT", "input.reason"},
		"unknown status": {"reseller", "why", "BAD_USER_INPUT", "input.status"},
	} {
		_, err := e.svc.SetStatus(e.ctx, admin, e.partner.OrgID, c.status, c.reason)
		ae, ok := apperr.As(err)
		if !ok || ae.PublicCode() != c.code || strings.Join(ae.Field, ".") != c.field {
			t.Errorf("%s: %v (field %v), want %s on %s", name, err, ae, c.code, c.field)
		}
	}
	_, err = e.svc.SetStatus(e.ctx, admin, uuid.New(), earnings.PartnerDealer, "why")
	if !apperr.Is(err, apperr.KindNotFound) {
		t.Fatalf("unknown partner: %v", err)
	}
	if h := e.history(); len(h) != 1 || h[0].Status != "agent" {
		t.Fatalf("history after refusals: %+v", h)
	}
	// Line breaks are fine, and 2,000 characters.
	if _, err := e.svc.SetStatus(e.ctx, admin, e.partner.OrgID, earnings.PartnerIntegrator, "certified\n"+strings.Repeat("ы", 1990)); err != nil {
		t.Fatal(err)
	}
}

// Only admins set statuses; the history is the partner's and the admins'.
func TestPartnerStatusStrangers(t *testing.T) {
	e := newPartnerStatusEnv(t)
	other := factory.Partner(t, e.st)
	dev := factory.Developer(t, e.st)
	strangers := map[string]identity.Viewer{
		"anonymous":       {},
		"customer":        e.buyer.Viewer(),
		"developer":       dev.Viewer(),
		"another partner": other.Viewer(),
		// The partner's id under another role is not the partner.
		"same id other role": {UserID: e.partner.UserID, Role: identity.RoleCustomer, ActingFor: e.partner.OrgID},
	}
	for name, v := range strangers {
		h, err := e.svc.StatusHistory(e.ctx, v, e.partner.OrgID)
		if h != nil || !(apperr.Is(err, apperr.KindForbidden) || apperr.Is(err, apperr.KindUnauthenticated)) {
			t.Errorf("%s read the history: %v, %v", name, h, err)
		}
	}
	// Nobody but an admin sets a status, the partner itself included.
	strangers["the partner itself"] = e.partner.Viewer()
	for name, v := range strangers {
		_, err := e.svc.SetStatus(e.ctx, v, e.partner.OrgID, earnings.PartnerIntegrator, "promote me")
		if !(apperr.Is(err, apperr.KindForbidden) || apperr.Is(err, apperr.KindUnauthenticated)) {
			t.Errorf("%s set the status: %v", name, err)
		}
	}
	for name, v := range map[string]identity.Viewer{"the partner itself": e.partner.Viewer(), "admin": e.admin.Viewer()} {
		if h, err := e.svc.StatusHistory(e.ctx, v, e.partner.OrgID); err != nil || len(h) != 1 || h[0].Status != "agent" {
			t.Errorf("%s: history %+v, %v", name, h, err)
		}
	}
	var status string
	if err := e.pool.QueryRow(context.Background(), `select status from partners where id = $1`, e.partner.OrgID).Scan(&status); err != nil || status != "agent" {
		t.Fatalf("status %q (%v) after strangers' attempts", status, err)
	}
}

// Two admins setting statuses at once: each change is one row, in order,
// and the partner ends with the status of the last history row.
func TestConcurrentPartnerStatusChangesStayInOrder(t *testing.T) {
	e := newPartnerStatusEnv(t)
	statuses := []earnings.PartnerStatus{earnings.PartnerDealer, earnings.PartnerIntegrator, earnings.PartnerDealer, earnings.PartnerIntegrator}
	done := make(chan error, len(statuses))
	for _, s := range statuses {
		go func() {
			_, err := e.svc.SetStatus(e.ctx, e.admin.Viewer(), e.partner.OrgID, s, "race")
			done <- err
		}()
	}
	changed := 0
	for range statuses {
		if err := <-done; err == nil {
			changed++
		} else if e, ok := apperr.As(err); !ok || e.PublicCode() != "PARTNER_STATUS_UNCHANGED" {
			t.Fatalf("unexpected error %v", err)
		}
	}
	h := e.history()
	if len(h) != changed+1 {
		t.Fatalf("%d changes, %d history rows", changed, len(h))
	}
	var status string
	if err := e.pool.QueryRow(e.ctx, `select status from partners where id = $1`, e.partner.OrgID).Scan(&status); err != nil {
		t.Fatal(err)
	}
	if h[0].Status != status {
		t.Fatalf("partner is %s, newest history row says %s", status, h[0].Status)
	}
	for i := 0; i+1 < len(h); i++ {
		if h[i].Status == h[i+1].Status {
			t.Fatalf("history repeats a status: %+v", h)
		}
	}
}
