package pins_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"configmarket/internal/apperr"
	"configmarket/internal/clock"
	"configmarket/internal/dbtest"
	"configmarket/internal/factory"
	"configmarket/internal/identity"
	"configmarket/internal/pins"
	"configmarket/internal/relay"
	"configmarket/internal/store"
)

const day = 24 * time.Hour

// Valid tax numbers (check digits match); each test has its own database.
const (
	innA = "7707083893"
	innB = "7728168971"
	innC = "7710140679"
	innD = "500100732259"
)

type env struct {
	t     *testing.T
	ctx   context.Context
	pool  *pgxpool.Pool
	st    *store.Store
	clk   *clock.Manual
	svc   *pins.Service
	admin factory.Account
	start time.Time
}

func newEnv(t *testing.T) *env {
	t.Helper()
	pool := dbtest.Pool(t)
	st := store.New(pool)
	start := time.Date(2031, 3, 1, 10, 0, 0, 0, time.UTC)
	clk := clock.NewManual(start)
	return &env{
		t: t, ctx: context.Background(), pool: pool, st: st, clk: clk,
		svc: pins.New(st, clk, pins.DefaultRules), admin: factory.Admin(t, st), start: start,
	}
}

// at moves the clock to start+d.
func (e *env) at(d time.Duration) time.Time {
	e.clk.Set(e.start.Add(d))
	return e.clk.Now()
}

func (e *env) exec(sql string, args ...any) {
	e.t.Helper()
	if _, err := e.pool.Exec(e.ctx, sql, args...); err != nil {
		e.t.Fatal(err)
	}
}

// customer creates a customer with a tax number (empty for none) and a
// CRM account id.
func (e *env) customer(taxNumber string) factory.Account {
	e.t.Helper()
	a := factory.Customer(e.t, e.st)
	var innArg *string
	if taxNumber != "" {
		innArg = &taxNumber
	}
	e.exec(`update customers set inn = $2, crm_account_id = $3 where id = $1`, a.OrgID, innArg, crm(a))
	return a
}

func crm(a factory.Account) string { return "crm-" + a.OrgID.String() }

// paying makes the customer an existing paying customer of the platform.
func (e *env) paying(a factory.Account) {
	e.t.Helper()
	e.exec(`insert into payments (customer_id, paid_for, amount_minor, provider, provider_payment_id)
		values ($1, 'plan', 450000, 'manual', gen_random_uuid()::text)`, a.OrgID)
}

func (e *env) pin(partner, customer factory.Account) store.Pin {
	e.t.Helper()
	p, err := e.svc.PinCustomer(e.ctx, partner.Viewer(), pins.PinTarget{CRMAccountID: crm(customer)})
	if err != nil {
		e.t.Fatalf("pin: %v", err)
	}
	return p
}

func (e *env) actions(pinID uuid.UUID) string {
	e.t.Helper()
	evs, err := e.svc.Events(e.ctx, e.admin.Viewer(), pinID)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		out = append(out, string(ev.Action))
	}
	return strings.Join(out, ",")
}

// holder is the partner the ledger would pay commission to at t.
func (e *env) holder(customer factory.Account, t time.Time) uuid.UUID {
	e.t.Helper()
	h, found, err := e.st.ActivePinAt(e.ctx, customer.OrgID, t)
	if err != nil {
		e.t.Fatal(err)
	}
	if !found {
		return uuid.Nil
	}
	return h.PartnerID
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok {
		t.Fatalf("got %v, want a classified error with code %s", err, code)
	}
	if e.PublicCode() != code {
		t.Fatalf("got %s (%v), want %s", e.PublicCode(), err, code)
	}
}

func wantTime(t *testing.T, what string, got *time.Time, want time.Time) {
	t.Helper()
	if got == nil || !got.Equal(want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

func TestNewCustomerIsPinnedAtOnceFor90Days(t *testing.T) {
	e := newEnv(t)
	partner, cust := factory.Partner(t, e.st), e.customer(innA)
	now := e.at(0)

	p, err := e.svc.PinCustomer(e.ctx, partner.Viewer(), pins.PinTarget{INN: innA})
	if err != nil {
		t.Fatal(err)
	}
	if p.State != store.PinActive || p.PartnerID != partner.OrgID || p.CustomerID != cust.OrgID {
		t.Fatalf("pin = %+v, want active for the partner on the customer", p)
	}
	wantTime(t, "starts_at", p.StartsAt, now)
	wantTime(t, "expires_at", p.ExpiresAt, now.Add(90*day))
	if p.RequestedVia == nil || *p.RequestedVia != "inn" || p.RequestedBy == nil || *p.RequestedBy != partner.UserID {
		t.Fatalf("requested via %v by %v", p.RequestedVia, p.RequestedBy)
	}
	if got := e.actions(p.ID); got != "requested,activated" {
		t.Fatalf("events = %s", got)
	}
	// The ledger's reading: commission from now until the 90th day.
	if e.holder(cust, now) != partner.OrgID || e.holder(cust, now.Add(90*day-time.Second)) != partner.OrgID {
		t.Fatal("pin should be active for 90 days")
	}
	if e.holder(cust, now.Add(90*day)) != uuid.Nil || e.holder(cust, now.Add(-time.Second)) != uuid.Nil {
		t.Fatal("pin should not cover outside its term")
	}
}

func TestPayingCustomerIsPinnedOnlyAfterItConfirms(t *testing.T) {
	e := newEnv(t)
	partner, other := factory.Partner(t, e.st), factory.Partner(t, e.st)
	cust, stranger := e.customer(innA), e.customer(innB)
	e.paying(cust)
	requested := e.at(0)

	p, err := e.svc.PinCustomer(e.ctx, partner.Viewer(), pins.PinTarget{INN: innA})
	if err != nil {
		t.Fatal(err)
	}
	if p.State != store.PinPending || p.StartsAt != nil || p.ExpiresAt != nil {
		t.Fatalf("pin = %+v, want pending without a term", p)
	}
	if e.holder(cust, requested) != uuid.Nil {
		t.Fatal("a pending pin earns no commission")
	}
	// A pending pin already holds the customer.
	_, err = e.svc.PinCustomer(e.ctx, other.Viewer(), pins.PinTarget{INN: innA})
	wantCode(t, err, "ALREADY_PINNED")

	// Only the pinned customer confirms.
	_, err = e.svc.ConfirmPin(e.ctx, stranger.Viewer(), p.ID)
	wantCode(t, err, "PIN_NOT_FOUND")
	_, err = e.svc.ConfirmPin(e.ctx, partner.Viewer(), p.ID)
	wantCode(t, err, "FORBIDDEN")
	_, err = e.svc.ConfirmPin(e.ctx, identity.Viewer{}, p.ID)
	wantCode(t, err, "UNAUTHENTICATED")

	confirmed := e.at(5 * day)
	p, err = e.svc.ConfirmPin(e.ctx, cust.Viewer(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.State != store.PinActive {
		t.Fatalf("state = %s, want active", p.State)
	}
	wantTime(t, "starts_at", p.StartsAt, confirmed)
	wantTime(t, "expires_at", p.ExpiresAt, confirmed.Add(90*day))
	wantTime(t, "decided_at", p.DecidedAt, confirmed)
	if e.holder(cust, confirmed.Add(-time.Second)) != uuid.Nil || e.holder(cust, confirmed) != partner.OrgID {
		t.Fatal("commission accrues from confirmation on")
	}
	if got := e.actions(p.ID); got != "requested,confirmed" {
		t.Fatalf("events = %s", got)
	}
	_, err = e.svc.ConfirmPin(e.ctx, cust.Viewer(), p.ID)
	wantCode(t, err, "PIN_NOT_PENDING")
	_, err = e.svc.ConfirmPin(e.ctx, cust.Viewer(), uuid.New())
	wantCode(t, err, "PIN_NOT_FOUND")
}

func TestCustomerDeclines(t *testing.T) {
	e := newEnv(t)
	partner, other := factory.Partner(t, e.st), factory.Partner(t, e.st)
	cust := e.customer(innA)
	e.paying(cust)

	p := e.pin(partner, cust)
	_, err := e.svc.DeclinePin(e.ctx, other.Viewer(), p.ID)
	wantCode(t, err, "FORBIDDEN")
	e.at(day)
	p, err = e.svc.DeclinePin(e.ctx, cust.Viewer(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.State != store.PinDeclined || p.StartsAt != nil {
		t.Fatalf("pin = %+v, want declined", p)
	}
	if got := e.actions(p.ID); got != "requested,declined" {
		t.Fatalf("events = %s", got)
	}
	_, err = e.svc.DeclinePin(e.ctx, cust.Viewer(), p.ID)
	wantCode(t, err, "PIN_NOT_PENDING")

	// The customer is free again: another partner may ask.
	q := e.pin(other, cust)
	if q.State != store.PinPending {
		t.Fatalf("state = %s, want pending", q.State)
	}
	// An active pin is not the customer's to decline.
	fresh := e.customer(innB)
	a := e.pin(partner, fresh)
	_, err = e.svc.DeclinePin(e.ctx, fresh.Viewer(), a.ID)
	wantCode(t, err, "PIN_NOT_PENDING")
}

func TestRenewalBeforeLapseExtendsBy90Days(t *testing.T) {
	e := newEnv(t)
	partner, other := factory.Partner(t, e.st), factory.Partner(t, e.st)
	cust := e.customer("")
	start := e.at(0)
	p := e.pin(partner, cust)

	e.at(80 * day)
	_, err := e.svc.RenewPin(e.ctx, other.Viewer(), p.ID)
	wantCode(t, err, "PIN_NOT_FOUND")
	_, err = e.svc.RenewPin(e.ctx, cust.Viewer(), p.ID)
	wantCode(t, err, "FORBIDDEN")

	p, err = e.svc.RenewPin(e.ctx, partner.Viewer(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantTime(t, "starts_at", p.StartsAt, start)
	wantTime(t, "expires_at", p.ExpiresAt, start.Add(180*day))
	// One term ahead at a time.
	_, err = e.svc.RenewPin(e.ctx, partner.Viewer(), p.ID)
	wantCode(t, err, "PIN_ALREADY_RENEWED")

	e.at(179 * day)
	p, err = e.svc.RenewPin(e.ctx, partner.Viewer(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantTime(t, "expires_at", p.ExpiresAt, start.Add(270*day))
	if got := e.actions(p.ID); got != "requested,activated,renewed,renewed" {
		t.Fatalf("events = %s", got)
	}
	if e.holder(cust, start.Add(269*day)) != partner.OrgID {
		t.Fatal("renewed pin should cover its extension")
	}
	evs, err := e.svc.Events(e.ctx, partner.Viewer(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantTime(t, "renewed event expiry", evs[3].ExpiresAt, start.Add(270*day))
}

func TestAfterLapseNoRenewalAndAnotherPartnerMayPin(t *testing.T) {
	e := newEnv(t)
	partner, other := factory.Partner(t, e.st), factory.Partner(t, e.st)
	cust := e.customer(innA)
	start := e.at(0)
	p := e.pin(partner, cust)

	// Lapsed, before the expiry job ran.
	e.at(90 * day)
	_, err := e.svc.RenewPin(e.ctx, partner.Viewer(), p.ID)
	wantCode(t, err, "PIN_LAPSED")
	q, err := e.svc.PinCustomer(e.ctx, other.Viewer(), pins.PinTarget{INN: innA})
	if err != nil {
		t.Fatalf("pin after lapse: %v", err)
	}
	if q.State != store.PinActive || q.PartnerID != other.OrgID {
		t.Fatalf("new pin = %+v", q)
	}
	old, err := e.svc.PinsByIDs(e.ctx, e.admin.Viewer(), []uuid.UUID{p.ID})
	if err != nil || len(old) != 1 || old[0].State != store.PinExpired {
		t.Fatalf("old pin = %+v, %v; want expired", old, err)
	}
	if got := e.actions(p.ID); got != "requested,activated,expired" {
		t.Fatalf("events = %s", got)
	}
	_, err = e.svc.RenewPin(e.ctx, partner.Viewer(), p.ID)
	wantCode(t, err, "PIN_NOT_ACTIVE")
	// The ledger still credits the first partner for its term.
	if e.holder(cust, start.Add(10*day)) != partner.OrgID || e.holder(cust, start.Add(95*day)) != other.OrgID {
		t.Fatal("each pin covers its own term")
	}
}

func TestExpireJob(t *testing.T) {
	e := newEnv(t)
	partner, other := factory.Partner(t, e.st), factory.Partner(t, e.st)
	c1, c2, c3 := e.customer(""), e.customer(""), e.customer("")
	e.paying(c3)
	e.at(0)
	p1 := e.pin(partner, c1)
	e.at(10 * day)
	p2 := e.pin(partner, c2)
	p3 := e.pin(partner, c3) // pending: the customer never answers

	e.at(90*day - time.Second)
	// Only the request left unanswered since day 10 is due.
	if n, err := e.svc.ExpirePins(e.ctx); err != nil || n != 1 {
		t.Fatalf("expired %d, %v; want 1", n, err)
	}
	e.at(90 * day)
	if n, err := e.svc.ExpirePins(e.ctx); err != nil || n != 1 {
		t.Fatalf("expired %d, %v; want 1", n, err)
	}
	if n, err := e.svc.ExpirePins(e.ctx); err != nil || n != 0 {
		t.Fatalf("second run expired %d, %v; want 0", n, err)
	}
	got, err := e.svc.PinsByIDs(e.ctx, e.admin.Viewer(), []uuid.UUID{p1.ID, p2.ID, p3.ID})
	if err != nil {
		t.Fatal(err)
	}
	states := map[uuid.UUID]store.PinState{}
	for _, p := range got {
		states[p.ID] = p.State
	}
	if states[p1.ID] != store.PinExpired || states[p2.ID] != store.PinActive || states[p3.ID] != store.PinExpired {
		t.Fatalf("states = %v", states)
	}
	// Lapsed: another partner may pin the customer, and so may the old
	// partner anew.
	if q := e.pin(other, c1); q.State != store.PinActive {
		t.Fatalf("state = %s", q.State)
	}
	e.at(100 * day)
	if n, err := e.svc.ExpirePins(e.ctx); err != nil || n != 1 {
		t.Fatalf("expired %d, %v; want 1", n, err)
	}
	if q := e.pin(partner, c2); q.State != store.PinActive {
		t.Fatalf("state = %s", q.State)
	}
}

func TestAlreadyPinnedBySamePartnerOrAnother(t *testing.T) {
	e := newEnv(t)
	partner, other := factory.Partner(t, e.st), factory.Partner(t, e.st)
	cust := e.customer(innA)
	e.pin(partner, cust)

	_, errSelf := e.svc.PinCustomer(e.ctx, partner.Viewer(), pins.PinTarget{INN: innA})
	wantCode(t, errSelf, "ALREADY_PINNED")
	_, errOther := e.svc.PinCustomer(e.ctx, other.Viewer(), pins.PinTarget{CRMAccountID: crm(cust)})
	wantCode(t, errOther, "ALREADY_PINNED")
	if apperr.KindOf(errSelf) != apperr.KindConflict || apperr.KindOf(errOther) != apperr.KindConflict {
		t.Fatal("ALREADY_PINNED is a conflict")
	}
	self, _ := apperr.As(errSelf)
	oth, _ := apperr.As(errOther)
	if self.Message == oth.Message {
		t.Fatalf("same message %q for own and other partner's pin", self.Message)
	}
	if strings.Contains(oth.Message, partner.OrgID.String()) {
		t.Fatal("the other partner must not be named")
	}
}

func TestAdminRefuses(t *testing.T) {
	e := newEnv(t)
	partner, other := factory.Partner(t, e.st), factory.Partner(t, e.st)
	active, pending := e.customer(innA), e.customer(innB)
	e.paying(pending)
	start := e.at(0)
	a := e.pin(partner, active)
	p := e.pin(partner, pending)

	refused := e.at(10 * day)
	_, err := e.svc.RefusePin(e.ctx, partner.Viewer(), a.ID, "no")
	wantCode(t, err, "FORBIDDEN")
	_, err = e.svc.RefusePin(e.ctx, active.Viewer(), a.ID, "no")
	wantCode(t, err, "FORBIDDEN")
	_, err = e.svc.RefusePin(e.ctx, e.admin.Viewer(), a.ID, "  ")
	wantCode(t, err, "REASON_REQUIRED")
	_, err = e.svc.RefusePin(e.ctx, e.admin.Viewer(), uuid.New(), "duplicate request")
	wantCode(t, err, "PIN_NOT_FOUND")

	a, err = e.svc.RefusePin(e.ctx, e.admin.Viewer(), a.ID, "the customer came on its own")
	if err != nil {
		t.Fatal(err)
	}
	if a.State != store.PinRefused || a.Reason == nil || *a.Reason != "the customer came on its own" {
		t.Fatalf("pin = %+v", a)
	}
	wantTime(t, "starts_at", a.StartsAt, start)
	wantTime(t, "expires_at", a.ExpiresAt, refused)
	wantTime(t, "decided_at", a.DecidedAt, refused)
	if e.holder(active, refused.Add(time.Hour)) != uuid.Nil {
		t.Fatal("a refused pin earns nothing after refusal")
	}
	evs, err := e.svc.Events(e.ctx, partner.Viewer(), a.ID)
	if err != nil || len(evs) != 3 || evs[2].Action != "refused" || evs[2].Reason == nil || evs[2].Actor == nil || *evs[2].Actor != e.admin.UserID {
		t.Fatalf("events = %+v, %v", evs, err)
	}

	p, err = e.svc.RefusePin(e.ctx, e.admin.Viewer(), p.ID, "suspicious")
	if err != nil {
		t.Fatal(err)
	}
	if p.State != store.PinRefused || p.ExpiresAt != nil {
		t.Fatalf("pin = %+v", p)
	}
	_, err = e.svc.ConfirmPin(e.ctx, pending.Viewer(), p.ID)
	wantCode(t, err, "PIN_NOT_PENDING")
	_, err = e.svc.RefusePin(e.ctx, e.admin.Viewer(), p.ID, "again")
	wantCode(t, err, "PIN_NOT_LIVE")
	_, err = e.svc.RenewPin(e.ctx, partner.Viewer(), a.ID)
	wantCode(t, err, "PIN_NOT_ACTIVE")

	// Both customers are free for other partners.
	e.pin(other, active)
	e.pin(other, pending)
}

func TestTargetValidation(t *testing.T) {
	e := newEnv(t)
	partner := factory.Partner(t, e.st)
	e.customer(innA)
	twelve := e.customer(innD)

	for _, tc := range []struct {
		name   string
		target pins.PinTarget
		code   string
	}{
		{"bad check digit", pins.PinTarget{INN: "7707083894"}, "INN_INVALID"},
		{"too short", pins.PinTarget{INN: "770708389"}, "INN_INVALID"},
		{"letters", pins.PinTarget{INN: "77070838a3"}, "INN_INVALID"},
		{"bad 12-digit", pins.PinTarget{INN: "500100732258"}, "INN_INVALID"},
		{"unknown valid inn", pins.PinTarget{INN: innC}, "CUSTOMER_NOT_FOUND"},
		{"unknown crm account", pins.PinTarget{CRMAccountID: "crm-nobody"}, "CUSTOMER_NOT_FOUND"},
		{"nothing", pins.PinTarget{}, "PIN_TARGET_INVALID"},
		{"both", pins.PinTarget{INN: innA, CRMAccountID: "crm-x"}, "PIN_TARGET_INVALID"},
		{"huge crm id", pins.PinTarget{CRMAccountID: strings.Repeat("x", 201)}, "PIN_TARGET_INVALID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.PinCustomer(e.ctx, partner.Viewer(), tc.target)
			wantCode(t, err, tc.code)
		})
	}
	// A 12-digit number (an individual) with valid check digits works.
	p, err := e.svc.PinCustomer(e.ctx, partner.Viewer(), pins.PinTarget{INN: innD})
	if err != nil || p.CustomerID != twelve.OrgID {
		t.Fatalf("pin = %+v, %v", p, err)
	}
	var n int
	if err := e.pool.QueryRow(e.ctx, `select count(*) from pins`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("pins = %d, %v; refused requests must leave nothing", n, err)
	}
}

func TestPinByCRMAccountID(t *testing.T) {
	e := newEnv(t)
	partner := factory.Partner(t, e.st)
	cust := e.customer("")
	p, err := e.svc.PinCustomer(e.ctx, partner.Viewer(), pins.PinTarget{CRMAccountID: " " + crm(cust) + " "})
	if err != nil {
		t.Fatal(err)
	}
	if p.CustomerID != cust.OrgID || p.RequestedVia == nil || *p.RequestedVia != "crm_account_id" || p.State != store.PinActive {
		t.Fatalf("pin = %+v", p)
	}
}

func TestOnlyPartnersPin(t *testing.T) {
	e := newEnv(t)
	cust := e.customer(innA)
	dev := factory.Developer(t, e.st)
	for _, tc := range []struct {
		name string
		v    identity.Viewer
		code string
	}{
		{"anonymous", identity.Viewer{}, "UNAUTHENTICATED"},
		{"customer", cust.Viewer(), "FORBIDDEN"},
		{"developer", dev.Viewer(), "FORBIDDEN"},
		{"admin", e.admin.Viewer(), "FORBIDDEN"},
		{"partner without organisation", identity.Viewer{UserID: uuid.New(), Role: identity.RolePartner}, "FORBIDDEN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.PinCustomer(e.ctx, tc.v, pins.PinTarget{INN: innA})
			wantCode(t, err, tc.code)
		})
	}
}

func TestVisibility(t *testing.T) {
	e := newEnv(t)
	partner, other := factory.Partner(t, e.st), factory.Partner(t, e.st)
	cust, otherCust := e.customer(innA), e.customer(innB)
	dev := factory.Developer(t, e.st)
	p := e.pin(partner, cust)
	e.pin(other, otherCust)

	for _, tc := range []struct {
		name string
		v    identity.Viewer
		sees bool
	}{
		{"the pin's partner", partner.Viewer(), true},
		{"the pinned customer", cust.Viewer(), true},
		{"admin", e.admin.Viewer(), true},
		{"another partner", other.Viewer(), false},
		{"another customer", otherCust.Viewer(), false},
		{"a developer", dev.Viewer(), false},
		{"anonymous", identity.Viewer{}, false},
		// The partner's user in another role does not carry the partner's rights.
		{"partner's user as customer", identity.Viewer{UserID: partner.UserID, Role: identity.RoleCustomer, ActingFor: partner.OrgID}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			byID, err := e.svc.PinsByIDs(e.ctx, tc.v, []uuid.UUID{p.ID})
			if err != nil {
				t.Fatal(err)
			}
			// A stranger's answer is apperr.Hidden; the pin's partner does
			// not list the customer's pins, nor the customer the partner's.
			evs, err := e.svc.Events(e.ctx, tc.v, p.ID)
			if (tc.sees && err != nil) || (!tc.sees && !apperr.IsHidden(err)) {
				t.Fatal(err)
			}
			listed, err := e.svc.PartnerPins(e.ctx, tc.v, partner.OrgID, nil, nil, nil)
			if err != nil && !apperr.IsHidden(err) {
				t.Fatal(err)
			}
			ofCustomer, err := e.svc.CustomerPins(e.ctx, tc.v, cust.OrgID)
			if err != nil && !apperr.IsHidden(err) {
				t.Fatal(err)
			}
			if got := len(byID) == 1; got != tc.sees {
				t.Errorf("PinsByIDs sees = %v, want %v", got, tc.sees)
			}
			if got := len(evs) == 2; got != tc.sees {
				t.Errorf("Events sees = %v (%d), want %v", got, len(evs), tc.sees)
			}
			if !tc.sees && (len(byID) > 0 || len(evs) > 0 || len(listed.Rows) > 0 || len(ofCustomer) > 0) {
				t.Errorf("leak: byID %d, events %d, partner list %d, customer list %d", len(byID), len(evs), len(listed.Rows), len(ofCustomer))
			}
		})
	}

	// The partner lists its pins; the customer sees who pinned it.
	listed, err := e.svc.PartnerPins(e.ctx, partner.Viewer(), partner.OrgID, nil, nil, nil)
	if err != nil || len(listed.Rows) != 1 || listed.Rows[0].ID != p.ID {
		t.Fatalf("partner pins = %+v, %v", listed, err)
	}
	mine, err := e.svc.CustomerPins(e.ctx, cust.Viewer(), cust.OrgID)
	if err != nil || len(mine) != 1 {
		t.Fatalf("customer pins = %+v, %v", mine, err)
	}
	var name string
	if err := e.pool.QueryRow(e.ctx, `select name from partners where id = $1`, partner.OrgID).Scan(&name); err != nil {
		t.Fatal(err)
	}
	if got := mine[0]; got.PartnerID != partner.OrgID || got.PartnerName != name || got.State != store.PinActive || got.StartsAt == nil || got.ExpiresAt == nil {
		t.Fatalf("customer's view = %+v, want partner %s %q with dates", got, partner.OrgID, name)
	}
	// A partner does not read the customer's pin history, even its own
	// customer's (it may hold other partners' old pins).
	if got, err := e.svc.CustomerPins(e.ctx, partner.Viewer(), cust.OrgID); !apperr.IsHidden(err) || len(got) != 0 {
		t.Fatalf("partner reads customer pins: %d, %v", len(got), err)
	}
	// Admins list any partner's pins.
	if got, err := e.svc.PartnerPins(e.ctx, e.admin.Viewer(), other.OrgID, nil, nil, nil); err != nil || len(got.Rows) != 1 {
		t.Fatalf("admin lists %d, %v", len(got.Rows), err)
	}
}

func TestPartnerPinsPagesAndFilters(t *testing.T) {
	e := newEnv(t)
	partner := factory.Partner(t, e.st)
	var want []uuid.UUID
	for i := range 3 {
		c := e.customer("")
		if i == 1 {
			e.paying(c)
		}
		e.at(time.Duration(i) * time.Hour)
		want = append([]uuid.UUID{e.pin(partner, c).ID}, want...) // newest first
	}
	v := partner.Viewer()
	two := 2
	page1, err := e.svc.PartnerPins(e.ctx, v, partner.OrgID, nil, &two, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(page1.Rows) != 2 || !page1.HasNext || page1.Rows[0].ID != want[0] || page1.Rows[1].ID != want[1] {
		t.Fatalf("page 1 = %+v", page1)
	}
	page2, err := e.svc.PartnerPins(e.ctx, v, partner.OrgID, nil, &two, &page1.Cursors[1])
	if err != nil {
		t.Fatal(err)
	}
	if len(page2.Rows) != 1 || page2.HasNext || page2.Rows[0].ID != want[2] {
		t.Fatalf("page 2 = %+v", page2)
	}
	pending, err := e.svc.PartnerPins(e.ctx, v, partner.OrgID, []store.PinState{store.PinPending}, nil, nil)
	if err != nil || len(pending.Rows) != 1 || pending.Rows[0].ID != want[1] {
		t.Fatalf("pending = %+v, %v", pending, err)
	}
	_, err = e.svc.PartnerPins(e.ctx, v, partner.OrgID, []store.PinState{"bogus"}, nil, nil)
	wantCode(t, err, "BAD_USER_INPUT")
	bad := "not-a-cursor"
	_, err = e.svc.PartnerPins(e.ctx, v, partner.OrgID, nil, nil, &bad)
	wantCode(t, err, "BAD_USER_INPUT")
	zero := 0
	_, err = e.svc.PartnerPins(e.ctx, v, partner.OrgID, nil, &zero, nil)
	wantCode(t, err, "BAD_USER_INPUT")
}

// TestConcurrentPins races n partners for one customer: exactly one pin
// wins and every loser gets the typed ALREADY_PINNED conflict.
func TestConcurrentPins(t *testing.T) {
	for _, tc := range []struct {
		n      int
		paying bool
	}{{2, false}, {20, false}, {20, true}} {
		t.Run(fmt.Sprintf("%d partners, paying=%v", tc.n, tc.paying), func(t *testing.T) {
			e := newEnv(t)
			cust := e.customer(innA)
			if tc.paying {
				e.paying(cust)
			}
			partners := make([]factory.Account, tc.n)
			for i := range partners {
				partners[i] = factory.Partner(t, e.st)
			}
			var wg sync.WaitGroup
			startGun := make(chan struct{})
			errs := make([]error, tc.n)
			got := make([]store.Pin, tc.n)
			for i, p := range partners {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-startGun
					got[i], errs[i] = e.svc.PinCustomer(e.ctx, p.Viewer(), pins.PinTarget{INN: innA})
				}()
			}
			close(startGun)
			wg.Wait()

			winners := 0
			var winner store.Pin
			for i, err := range errs {
				if err == nil {
					winners++
					winner = got[i]
					continue
				}
				if apperr.KindOf(err) != apperr.KindConflict {
					t.Errorf("partner %d: %v (kind %v), want a conflict", i, err, apperr.KindOf(err))
				}
				wantCode(t, err, "ALREADY_PINNED")
			}
			if winners != 1 {
				t.Fatalf("%d winners, want exactly 1", winners)
			}
			var n int
			if err := e.pool.QueryRow(e.ctx, `select count(*) from pins where customer_id = $1`, cust.OrgID).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Fatalf("%d pins stored, want 1", n)
			}
			if got := e.actions(winner.ID); got != map[bool]string{false: "requested,activated", true: "requested"}[tc.paying] {
				t.Fatalf("winner's events = %s", got)
			}
		})
	}
}

// TestConcurrentPinsBySamePartner is a double click: one pin, and the
// other request is told the partner already holds it.
func TestConcurrentPinsBySamePartner(t *testing.T) {
	e := newEnv(t)
	cust := e.customer(innA)
	partner := factory.Partner(t, e.st)
	const n = 8
	var wg sync.WaitGroup
	startGun := make(chan struct{})
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-startGun
			_, errs[i] = e.svc.PinCustomer(e.ctx, partner.Viewer(), pins.PinTarget{CRMAccountID: crm(cust)})
		}()
	}
	close(startGun)
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
			continue
		}
		wantCode(t, err, "ALREADY_PINNED")
		if ae, _ := apperr.As(err); !strings.Contains(ae.Message, "you already") {
			t.Errorf("message %q, want the own-pin message", ae.Message)
		}
	}
	if ok != 1 {
		t.Fatalf("%d successes, want 1", ok)
	}
}

// pinState reads a pin's state as an admin sees it.
func (e *env) pinState(id uuid.UUID) store.Pin {
	e.t.Helper()
	got, err := e.svc.PinsByIDs(e.ctx, e.admin.Viewer(), []uuid.UUID{id})
	if err != nil || len(got) != 1 {
		e.t.Fatalf("pin %s: %v %v", id, got, err)
	}
	return got[0]
}

// expiryAudits are the audit rows of pins the platform expired: their
// targets, oldest first, each checked to name no actor.
func (e *env) expiryAudits() []string {
	e.t.Helper()
	rows, err := e.pool.Query(e.ctx, `select target, actor_user_id is null and coalesce(role, 'system') = 'system'
		from audit_log where action = $1 order by id`, pins.AuditExpire)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var target string
		var system bool
		if err := rows.Scan(&target, &system); err != nil {
			e.t.Fatal(err)
		}
		if !system {
			e.t.Fatalf("expiry of %s audited with a person as the actor", target)
		}
		out = append(out, target)
	}
	return out
}

func pinGlobalID(id uuid.UUID) string { return relay.UUIDID("Pin", id) }

// SPEC §7, issue 19 item 6: a request the customer leaves unanswered for
// 14 days expires, with an event and an audit row of the system, and the
// customer is free for another partner. Day 13 it still holds.
func TestUnansweredPinExpiresOnDay14(t *testing.T) {
	e := newEnv(t)
	if pins.DefaultRules.PendingExpireAfter != 14*day {
		t.Fatalf("default window %v, want 14 days (SPEC §7)", pins.DefaultRules.PendingExpireAfter)
	}
	partner, other := factory.Partner(t, e.st), factory.Partner(t, e.st)
	cust := e.customer(innA)
	e.paying(cust)
	requested := e.at(0)
	p := e.pin(partner, cust)

	e.at(13 * day)
	if n, err := e.svc.ExpirePins(e.ctx); err != nil || n != 0 {
		t.Fatalf("day 13: expired %d, %v; want 0", n, err)
	}
	if got := e.pinState(p.ID); got.State != store.PinPending {
		t.Fatalf("day 13: state %s, want pending", got.State)
	}
	_, err := e.svc.PinCustomer(e.ctx, other.Viewer(), pins.PinTarget{INN: innA})
	wantCode(t, err, "ALREADY_PINNED")

	e.at(14 * day)
	if n, err := e.svc.ExpirePins(e.ctx); err != nil || n != 1 {
		t.Fatalf("day 14: expired %d, %v; want 1", n, err)
	}
	if n, err := e.svc.ExpirePins(e.ctx); err != nil || n != 0 {
		t.Fatalf("second run expired %d, %v; want 0", n, err)
	}
	got := e.pinState(p.ID)
	if got.State != store.PinExpired || got.StartsAt != nil || got.ExpiresAt != nil {
		t.Fatalf("day 14: pin %+v, want expired without a term", got)
	}
	wantTime(t, "decided_at", got.DecidedAt, requested.Add(14*day))
	if a := e.actions(p.ID); a != "requested,expired" {
		t.Fatalf("events = %s", a)
	}
	if a := e.expiryAudits(); len(a) != 1 || a[0] != pinGlobalID(p.ID) {
		t.Fatalf("audit targets %v, want the pin", a)
	}
	// Too late to answer.
	_, err = e.svc.ConfirmPin(e.ctx, cust.Viewer(), p.ID)
	wantCode(t, err, "PIN_NOT_PENDING")
	if e.holder(cust, e.clk.Now()) != uuid.Nil {
		t.Fatal("an expired request earns no commission")
	}
	// The customer is free: another partner may ask.
	q, err := e.svc.PinCustomer(e.ctx, other.Viewer(), pins.PinTarget{INN: innA})
	if err != nil || q.State != store.PinPending || q.PartnerID != other.OrgID {
		t.Fatalf("another partner's pin: %+v, %v", q, err)
	}
}

// A request answered on day 13 is an ordinary active pin: the expiry of
// unanswered requests never touches it.
func TestPinConfirmedOnDay13StaysActive(t *testing.T) {
	e := newEnv(t)
	partner := factory.Partner(t, e.st)
	cust := e.customer(innA)
	e.paying(cust)
	e.at(0)
	p := e.pin(partner, cust)
	confirmed := e.at(13 * day)
	if _, err := e.svc.ConfirmPin(e.ctx, cust.Viewer(), p.ID); err != nil {
		t.Fatal(err)
	}
	for _, d := range []time.Duration{14 * day, 30 * day} {
		e.at(d)
		if n, err := e.svc.ExpirePins(e.ctx); err != nil || n != 0 {
			t.Fatalf("day %d: expired %d, %v; want 0", d/day, n, err)
		}
	}
	got := e.pinState(p.ID)
	if got.State != store.PinActive {
		t.Fatalf("state %s, want active", got.State)
	}
	wantTime(t, "expires_at", got.ExpiresAt, confirmed.Add(90*day))
	if e.holder(cust, e.clk.Now()) != partner.OrgID {
		t.Fatal("the confirmed pin earns commission")
	}
	if a := e.expiryAudits(); len(a) != 0 {
		t.Fatalf("audit rows %v for a pin that did not expire", a)
	}
}

// On day 14 the request is over even before the job runs: the customer can
// no longer answer it, the admin no longer refuse it, and another partner's
// request expires it on the spot (audited as the system, not as that
// partner).
func TestUnansweredPinIsOverBeforeTheJobRuns(t *testing.T) {
	e := newEnv(t)
	partner, other := factory.Partner(t, e.st), factory.Partner(t, e.st)
	cust := e.customer(innA)
	e.paying(cust)
	e.at(0)
	p := e.pin(partner, cust)

	e.at(14*day - time.Second)
	_, err := e.svc.PinCustomer(e.ctx, other.Viewer(), pins.PinTarget{INN: innA})
	wantCode(t, err, "ALREADY_PINNED")

	e.at(14 * day)
	_, err = e.svc.ConfirmPin(e.ctx, cust.Viewer(), p.ID)
	wantCode(t, err, "PIN_NOT_PENDING")
	_, err = e.svc.DeclinePin(e.ctx, cust.Viewer(), p.ID)
	wantCode(t, err, "PIN_NOT_PENDING")
	_, err = e.svc.RefusePin(e.ctx, e.admin.Viewer(), p.ID, "too late")
	wantCode(t, err, "PIN_NOT_LIVE")
	if got := e.pinState(p.ID); got.State != store.PinPending {
		t.Fatalf("refused answers changed the pin: %s", got.State)
	}

	q, err := e.svc.PinCustomer(e.ctx, other.Viewer(), pins.PinTarget{INN: innA})
	if err != nil || q.State != store.PinPending {
		t.Fatalf("another partner's pin: %+v, %v", q, err)
	}
	if got := e.pinState(p.ID); got.State != store.PinExpired {
		t.Fatalf("old request: %s, want expired", got.State)
	}
	if a := e.actions(p.ID); a != "requested,expired" {
		t.Fatalf("events = %s", a)
	}
	if a := e.expiryAudits(); len(a) != 1 || a[0] != pinGlobalID(p.ID) {
		t.Fatalf("audit targets %v, want the old pin", a)
	}
}

// One run of the job expires both kinds: lapsed terms and unanswered
// requests, each with its own event and audit row.
func TestExpiryRunTakesLapsedAndUnansweredPinsTogether(t *testing.T) {
	e := newEnv(t)
	if pins.DefaultRules.Term != 90*day {
		t.Fatalf("default term %v, want 90 days", pins.DefaultRules.Term)
	}
	partner := factory.Partner(t, e.st)
	fresh, paying := e.customer(""), e.customer("")
	e.paying(paying)
	e.at(0)
	active := e.pin(partner, fresh)
	e.at(80 * day)
	pending := e.pin(partner, paying)
	e.at(95 * day)
	if n, err := e.svc.ExpirePins(e.ctx); err != nil || n != 2 {
		t.Fatalf("expired %d, %v; want 2", n, err)
	}
	for _, id := range []uuid.UUID{active.ID, pending.ID} {
		if got := e.pinState(id); got.State != store.PinExpired {
			t.Fatalf("pin %s: %s, want expired", id, got.State)
		}
	}
	if a := e.actions(active.ID); a != "requested,activated,expired" {
		t.Fatalf("active pin's events = %s", a)
	}
	want := map[string]bool{pinGlobalID(active.ID): true, pinGlobalID(pending.ID): true}
	if a := e.expiryAudits(); len(a) != 2 || !want[a[0]] || !want[a[1]] || a[0] == a[1] {
		t.Fatalf("audit targets %v, want one per pin", a)
	}
}

// The window is a setting.
func TestPendingExpiryWindowIsASetting(t *testing.T) {
	e := newEnv(t)
	svc := pins.New(e.st, e.clk, pins.Rules{Term: 90 * day, PendingExpireAfter: 3 * day})
	partner := factory.Partner(t, e.st)
	cust := e.customer(innA)
	e.paying(cust)
	e.at(0)
	p, err := svc.PinCustomer(e.ctx, partner.Viewer(), pins.PinTarget{INN: innA})
	if err != nil {
		t.Fatal(err)
	}
	e.at(3*day - time.Second)
	if n, err := svc.ExpirePins(e.ctx); err != nil || n != 0 {
		t.Fatalf("expired %d, %v; want 0", n, err)
	}
	e.at(3 * day)
	if n, err := svc.ExpirePins(e.ctx); err != nil || n != 1 {
		t.Fatalf("expired %d, %v; want 1", n, err)
	}
	if got := e.pinState(p.ID); got.State != store.PinExpired {
		t.Fatalf("state %s", got.State)
	}
}
