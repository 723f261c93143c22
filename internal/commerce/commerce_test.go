package commerce_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/clock"
	"configmarket/internal/commerce"
	"configmarket/internal/factory"
	"configmarket/internal/identity"
	"configmarket/internal/money"
	"configmarket/internal/store"
)

// SPEC §4: a 14-day trial, one per customer and configuration ever; it
// expires through the billing run, keeping data 30 days; the license is
// valid during the trial only.
func TestTrialLifecycle(t *testing.T) {
	e := newEnv(t)
	c := e.config(factory.ConfigurationOptions{})
	cust := e.customer()
	t0 := e.clk.Now()

	inst, err := e.svc.StartTrial(e.ctx, cust.Viewer(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	trialEnd := t0.Add(14 * day)
	if inst.Mode != store.ModeTrial || inst.State != store.InstallationTrialing || !sameTime(inst.TrialEndsAt, trialEnd) {
		t.Fatalf("trial = mode %s state %s ends %s; want trial/trialing ending %s", inst.Mode, inst.State, fmtTime(inst.TrialEndsAt), trialEnd)
	}
	if !inst.AutoUpdate || inst.LicenseKey == "" {
		t.Errorf("trial auto_update=%v key=%q", inst.AutoUpdate, inst.LicenseKey)
	}

	// A second trial while the first runs is an installed configuration.
	if _, err := e.svc.StartTrial(e.ctx, cust.Viewer(), c.ID); code(err) != "ALREADY_INSTALLED" {
		t.Errorf("second trial while running: %v, want ALREADY_INSTALLED", code(err))
	}

	steps := []struct {
		name      string
		at        time.Duration
		wantState store.InstallationState
		wantValid bool
	}{
		{"day 1", 0, store.InstallationTrialing, true},
		{"day 8", 7 * day, store.InstallationTrialing, true},
		{"day 14, a second before the end", 14*day - time.Second, store.InstallationTrialing, true},
		{"day 15, the trial end", 14 * day, store.InstallationExpired, false},
		{"day 20", 19 * day, store.InstallationExpired, false},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			e.at(s.at)
			e.bill()
			got := e.inst(inst.ID)
			if got.State != s.wantState {
				t.Errorf("state %s, want %s", got.State, s.wantState)
			}
			lic := e.license(cust, inst.LicenseKey)
			if lic.Valid != s.wantValid {
				t.Errorf("license valid=%v, want %v", lic.Valid, s.wantValid)
			}
			if lic.Valid && (!sameTime(lic.ValidUntil, trialEnd) || lic.Mode != store.ModeTrial || lic.ConfigurationID != c.ID) {
				t.Errorf("license = %+v, want trial until %s", lic, trialEnd)
			}
		})
	}

	got := e.inst(inst.ID)
	if !sameTime(got.ExpiredAt, trialEnd) {
		t.Errorf("expired_at %s, want %s", fmtTime(got.ExpiredAt), trialEnd)
	}
	if want := trialEnd.Add(30 * day); !sameTime(got.DataRetainedUntil, want) {
		t.Errorf("data retained until %s, want trial end + 30 days = %s", fmtTime(got.DataRetainedUntil), want)
	}
	if n := e.count(`select count(*) from invoices where installation_id = $1`, inst.ID); n != 0 {
		t.Errorf("an expired trial has %d invoices", n)
	}

	// One trial ever.
	if _, err := e.svc.StartTrial(e.ctx, cust.Viewer(), c.ID); code(err) != "TRIAL_ALREADY_USED" {
		t.Errorf("second trial after expiry: %v, want TRIAL_ALREADY_USED", code(err))
	}
	// Another customer still gets its own.
	if _, err := e.svc.StartTrial(e.ctx, e.customer().Viewer(), c.ID); err != nil {
		t.Errorf("another customer's trial: %v", err)
	}
	// A license key of the wrong account is invalid.
	if lic := e.license(e.customer(), inst.LicenseKey); lic.Valid {
		t.Errorf("license valid for another account")
	}

	// Renting after the trial expired keeps the license key the CRM holds.
	ch := e.rent(cust, c.ID)
	if *ch.InstallationID != inst.ID {
		t.Errorf("rent after trial made installation %s, want the same row %s", *ch.InstallationID, inst.ID)
	}
	r := e.inst(inst.ID)
	if r.Mode != store.ModeRent || r.State != store.InstallationPendingPayment || r.LicenseKey != inst.LicenseKey || r.TrialEndsAt != nil {
		t.Errorf("rent after trial = %s/%s key kept %v trial_ends_at %s", r.Mode, r.State, r.LicenseKey == inst.LicenseKey, fmtTime(r.TrialEndsAt))
	}
	if e.license(cust, inst.LicenseKey).Valid {
		t.Errorf("license valid before the rental is paid")
	}
	e.pay(e.invoice(*ch.InvoiceID))
	if r := e.inst(inst.ID); r.State != store.InstallationActive {
		t.Errorf("paid rental is %s", r.State)
	}
	if !e.license(cust, inst.LicenseKey).Valid {
		t.Errorf("license invalid after paying the rental")
	}
}

func TestTrialRefusals(t *testing.T) {
	e := newEnv(t)
	zero := 0
	noTrial := e.config(factory.ConfigurationOptions{TrialDays: &zero})
	c := e.config(factory.ConfigurationOptions{})
	cases := []struct {
		name   string
		viewer identity.Viewer
		conf   uuid.UUID
		want   string
	}{
		{"anonymous", anonymous, c.ID, "UNAUTHENTICATED"},
		{"developer", e.dev.Viewer(), c.ID, "FORBIDDEN"},
		{"admin", e.admin.Viewer(), c.ID, "FORBIDDEN"},
		{"no trial days", e.customer().Viewer(), noTrial.ID, "NO_TRIAL"},
		{"unknown configuration", e.customer().Viewer(), uuid.New(), "NOT_FOUND"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.svc.StartTrial(e.ctx, tc.viewer, tc.conf); code(err) != tc.want {
				t.Errorf("StartTrial: %s, want %s", code(err), tc.want)
			}
		})
	}
}

// SPEC §4: a trial converted on day 10 is billed from day 15, the day the
// trial ends; nothing is invoiced before.
func TestConvertTrialBillsFromTrialEnd(t *testing.T) {
	e := newEnv(t)
	c := e.config(factory.ConfigurationOptions{})
	cust := e.customer()
	t0 := e.clk.Now() // day 1
	trial, err := e.svc.StartTrial(e.ctx, cust.Viewer(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	trialEnd := t0.Add(14 * day) // day 15

	// Nothing to convert for a customer without a trial.
	if _, err := e.svc.ConvertTrial(e.ctx, e.customer().Viewer(), c.ID, "conv-x"); code(err) != "NO_RUNNING_TRIAL" {
		t.Errorf("convert without trial: %s, want NO_RUNNING_TRIAL", code(err))
	}

	e.at(9 * day) // day 10
	ch, err := e.svc.ConvertTrial(e.ctx, cust.Viewer(), c.ID, "convert-1")
	if err != nil {
		t.Fatal(err)
	}
	if ch.InstallationID == nil || *ch.InstallationID != trial.ID || ch.InvoiceID != nil {
		t.Fatalf("convert charge %+v, want installation %s and no invoice", ch, trial.ID)
	}
	again, err := e.svc.ConvertTrial(e.ctx, cust.Viewer(), c.ID, "convert-1")
	if err != nil || again.InstallationID == nil || *again.InstallationID != trial.ID {
		t.Errorf("repeated convert with the same key: %+v %v", again, err)
	}
	if _, err := e.svc.ConvertTrial(e.ctx, cust.Viewer(), c.ID, "convert-2"); code(err) != "NO_RUNNING_TRIAL" {
		t.Errorf("second convert with a new key: %s, want NO_RUNNING_TRIAL", code(err))
	}
	inst := e.inst(trial.ID)
	periodEnd := clock.AddMonths(trialEnd, 1)
	if inst.Mode != store.ModeRent || inst.State != store.InstallationTrialing || !sameTime(inst.CurrentPeriodStart, trialEnd) ||
		!sameTime(inst.CurrentPeriodEnd, periodEnd) || !sameTime(inst.BillingAnchor, trialEnd) {
		t.Fatalf("converted = %s/%s period [%s, %s) anchor %s; want rent/trialing [%s, %s)", inst.Mode, inst.State,
			fmtTime(inst.CurrentPeriodStart), fmtTime(inst.CurrentPeriodEnd), fmtTime(inst.BillingAnchor), trialEnd, periodEnd)
	}

	for d := 10; d <= 15; d++ {
		e.at(time.Duration(d-1) * day)
		e.bill()
		inst := e.inst(trial.ID)
		invs := e.invoices(trial.ID)
		if !e.license(cust, inst.LicenseKey).Valid {
			t.Errorf("day %d: license invalid", d)
		}
		if d < 15 {
			if len(invs) != 0 || inst.State != store.InstallationTrialing {
				t.Errorf("day %d: state %s with %d invoices; want trialing, none", d, inst.State, len(invs))
			}
			continue
		}
		if inst.State != store.InstallationActive {
			t.Errorf("day 15: state %s, want active", inst.State)
		}
		if len(invs) != 1 {
			t.Fatalf("day 15: %d invoices, want 1", len(invs))
		}
		v := invs[0]
		if v.Amount != rub(50000) || v.PaidFor != "rent" || v.State != store.InvoiceOpen || !sameTime(v.PeriodStart, trialEnd) ||
			!sameTime(v.PeriodEnd, periodEnd) || !v.IssuedAt.Equal(trialEnd) {
			t.Errorf("day 15 invoice = %s %s %s [%s, %s) issued %s; want 500.00 rent open [%s, %s)", v.Amount, v.PaidFor,
				v.State, fmtTime(v.PeriodStart), fmtTime(v.PeriodEnd), v.IssuedAt, trialEnd, periodEnd)
		}
	}
	// A second run the same day changes nothing.
	e.bill()
	if n := len(e.invoices(trial.ID)); n != 1 {
		t.Errorf("after a second run: %d invoices", n)
	}
}

// A converted trial canceled before it ends expires at the trial end and
// is never billed.
func TestConvertedTrialCanceledBeforeEnd(t *testing.T) {
	e := newEnv(t)
	c := e.config(factory.ConfigurationOptions{})
	cust := e.customer()
	trial, err := e.svc.StartTrial(e.ctx, cust.Viewer(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	e.at(5 * day)
	if _, err := e.svc.ConvertTrial(e.ctx, cust.Viewer(), c.ID, "k"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CancelRental(e.ctx, cust.Viewer(), c.ID); err != nil {
		t.Fatal(err)
	}
	e.at(14 * day)
	e.bill()
	e.at(20 * day)
	e.bill()
	got := e.inst(trial.ID)
	if got.State != store.InstallationExpired || len(e.invoices(trial.ID)) != 0 {
		t.Errorf("state %s with %d invoices; want expired, none", got.State, len(e.invoices(trial.ID)))
	}
	if e.license(cust, got.LicenseKey).Valid {
		t.Errorf("license still valid")
	}
}

// SPEC §5: every money-moving mutation takes an idempotency key; a repeat
// returns the first result, another request under the key is refused.
func TestRentIdempotency(t *testing.T) {
	e := newEnv(t)
	c := e.config(factory.ConfigurationOptions{SaleMinor: 3500000})
	other := e.config(factory.ConfigurationOptions{})
	cust := e.customer()

	first, err := e.svc.Rent(e.ctx, cust.Viewer(), c.ID, "key-1")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		viewer identity.Viewer
		run    func(v identity.Viewer) (commerce.Charge, error)
		want   string
		same   bool
	}{
		{"same request", cust.Viewer(), func(v identity.Viewer) (commerce.Charge, error) { return e.svc.Rent(e.ctx, v, c.ID, "key-1") }, "", true},
		{"same key, other configuration", cust.Viewer(), func(v identity.Viewer) (commerce.Charge, error) { return e.svc.Rent(e.ctx, v, other.ID, "key-1") }, "IDEMPOTENCY_KEY_REUSED", false},
		{"same key, other operation", cust.Viewer(), func(v identity.Viewer) (commerce.Charge, error) { return e.svc.Buy(e.ctx, v, c.ID, "key-1") }, "IDEMPOTENCY_KEY_REUSED", false},
		{"empty key", cust.Viewer(), func(v identity.Viewer) (commerce.Charge, error) { return e.svc.Rent(e.ctx, v, other.ID, "") }, "IDEMPOTENCY_KEY_INVALID", false},
		{"201-character key", cust.Viewer(), func(v identity.Viewer) (commerce.Charge, error) {
			return e.svc.Rent(e.ctx, v, other.ID, string(make([]byte, 201)))
		}, "IDEMPOTENCY_KEY_INVALID", false},
		{"new key, payment pending", cust.Viewer(), func(v identity.Viewer) (commerce.Charge, error) { return e.svc.Rent(e.ctx, v, c.ID, "key-2") }, "PAYMENT_PENDING", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.run(tc.viewer)
			if code(err) != tc.want {
				t.Fatalf("error %s, want %q", code(err), tc.want)
			}
			if tc.same && (got.InstallationID == nil || got.InvoiceID == nil ||
				*got.InstallationID != *first.InstallationID || *got.InvoiceID != *first.InvoiceID) {
				t.Errorf("repeat returned %+v, want %+v", got, first)
			}
		})
	}
	if n := e.count(`select count(*) from invoices where customer_id = $1`, cust.OrgID); n != 1 {
		t.Errorf("%d invoices, want 1", n)
	}
	// Keys belong to their user: another customer's "key-1" is its own.
	if _, err := e.svc.Rent(e.ctx, e.customer().Viewer(), c.ID, "key-1"); err != nil {
		t.Errorf("another user's key-1: %v", err)
	}
	// A failed request leaves its key free.
	if _, err := e.svc.Rent(e.ctx, cust.Viewer(), c.ID, "key-3"); code(err) != "PAYMENT_PENDING" {
		t.Fatalf("rent again: %s", code(err))
	}
	if _, err := e.svc.Rent(e.ctx, cust.Viewer(), other.ID, "key-3"); err != nil {
		t.Errorf("key of a failed request reused: %v", err)
	}
}

func TestRentIdempotencyConcurrent(t *testing.T) {
	e := newEnv(t)
	c := e.config(factory.ConfigurationOptions{})

	t.Run("same key", func(t *testing.T) {
		// A deadlock must fail the test, not hang the suite.
		ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
		defer cancel()
		cust := e.customer()
		const n = 10
		var wg sync.WaitGroup
		charges := make([]commerce.Charge, n)
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				charges[i], errs[i] = e.svc.Rent(ctx, cust.Viewer(), c.ID, "concurrent")
			}()
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Errorf("call %d: %v", i, errs[i])
				continue
			}
			if charges[0].InvoiceID == nil {
				t.Fatalf("call 0 returned %+v", charges[0])
			}
			if *charges[i].InvoiceID != *charges[0].InvoiceID || *charges[i].InstallationID != *charges[0].InstallationID {
				t.Errorf("call %d returned %+v, call 0 %+v", i, charges[i], charges[0])
			}
		}
		if k := e.count(`select count(*) from invoices where customer_id = $1`, cust.OrgID); k != 1 {
			t.Errorf("%d invoices, want 1", k)
		}
	})

	t.Run("different keys", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
		defer cancel()
		cust := e.customer()
		const n = 10
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = e.svc.Rent(ctx, cust.Viewer(), c.ID, fmt.Sprintf("k-%d", i))
			}()
		}
		wg.Wait()
		ok := 0
		for i, err := range errs {
			switch code(err) {
			case "":
				ok++
			case "PAYMENT_PENDING":
			default:
				t.Errorf("call %d: %v", i, err)
			}
		}
		if ok != 1 {
			t.Errorf("%d rentals succeeded, want 1", ok)
		}
		if k := e.count(`select count(*) from invoices where customer_id = $1`, cust.OrgID); k != 1 {
			t.Errorf("%d invoices, want 1", k)
		}
	})
}

// SPEC §5: a repeated provider event is applied once; a payment must match
// an open invoice exactly, and one that does not is kept unapplied (issue
// 19), never refused.
func TestProviderPayments(t *testing.T) {
	e := newEnv(t)
	c := e.config(factory.ConfigurationOptions{})
	a, b := e.customer(), e.customer()
	invA := e.invoice(*e.rent(a, c.ID).InvoiceID)
	invB := e.invoice(*e.rent(b, c.ID).InvoiceID)
	now := e.clk.Now()
	pp := func(event, payment string, inv uuid.UUID, minor int64, cur string) commerce.ProviderPayment {
		return commerce.ProviderPayment{Provider: "testpay", EventID: event, PaymentID: payment, InvoiceID: inv,
			Amount: money.New(minor, cur), PaidAt: now}
	}

	cases := []struct {
		name        string
		p           commerce.ProviderPayment
		wantApplied bool
		// wantKept is the reason the event is kept unapplied; "" when not kept.
		wantKept store.UnappliedReason
	}{
		{"first event", pp("evt-1", "pay-1", invA.ID, 50000, "RUB"), true, ""},
		{"replayed event", pp("evt-1", "pay-1", invA.ID, 50000, "RUB"), false, ""},
		{"replayed event, other payload", pp("evt-1", "pay-9", invB.ID, 50000, "RUB"), false, ""},
		{"new event for a paid invoice", pp("evt-2", "pay-2", invA.ID, 50000, "RUB"), false, store.ReasonInvoiceNotOpen},
		{"amount too small", pp("evt-3", "pay-3", invB.ID, 49999, "RUB"), false, store.ReasonAmountMismatch},
		{"amount too large", pp("evt-4", "pay-4", invB.ID, 50001, "RUB"), false, store.ReasonAmountMismatch},
		{"other currency", pp("evt-usd", "pay-usd", invB.ID, 50000, "USD"), false, store.ReasonCurrencyMismatch},
		{"unknown invoice", pp("evt-5", "pay-5", uuid.New(), 50000, "RUB"), false, store.ReasonInvoiceUnknown},
		// The provider's payment id names the money: taken once.
		{"provider payment id reused", pp("evt-6", "pay-1", invB.ID, 50000, "RUB"), false, ""},
		{"kept payment id reused", pp("evt-8", "pay-3", invB.ID, 50000, "RUB"), false, ""},
		{"second invoice paid", pp("evt-7", "pay-7", invB.ID, 50000, "RUB"), true, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := e.svc.HandleProviderEvent(e.ctx, tc.p.Event())
			if err != nil {
				t.Fatalf("error %v", err)
			}
			if out.Applied != tc.wantApplied {
				t.Errorf("applied=%v, want %v", out.Applied, tc.wantApplied)
			}
			var kept store.UnappliedReason
			if out.Unapplied != nil {
				kept = out.Unapplied.Reason
				if out.Unapplied.EventID != tc.p.EventID || out.Unapplied.Amount != tc.p.Amount {
					t.Errorf("kept %+v", out.Unapplied)
				}
			}
			if kept != tc.wantKept {
				t.Errorf("kept as %q, want %q", kept, tc.wantKept)
			}
		})
	}
	if n := e.count(`select count(*) from unapplied_payments`); n != 5 {
		t.Errorf("%d unapplied payments, want 5", n)
	}
	for _, inv := range []store.Invoice{invA, invB} {
		if n := e.count(`select count(*) from payments where invoice_id = $1`, inv.ID); n != 1 {
			t.Errorf("invoice %s has %d payments, want 1", inv.ID, n)
		}
		if got := e.invoice(inv.ID); got.State != store.InvoicePaid || !sameTime(got.PaidAt, now) {
			t.Errorf("invoice %s is %s paid at %s", inv.ID, got.State, fmtTime(got.PaidAt))
		}
	}
	var p store.Payment
	if err := e.pool.QueryRow(e.ctx, `select customer_id, configuration_id, paid_for, amount_minor, currency, provider, provider_payment_id
		from payments where invoice_id = $1`, invA.ID).Scan(&p.CustomerID, &p.ConfigurationID, &p.PaidFor, &p.Amount.Minor,
		&p.Amount.Currency, &p.Provider, &p.ProviderPaymentID); err != nil {
		t.Fatal(err)
	}
	if p.CustomerID != a.OrgID || p.ConfigurationID == nil || *p.ConfigurationID != c.ID || p.PaidFor != "rent" ||
		p.Amount != rub(50000) || p.Provider != "testpay" || p.ProviderPaymentID != "pay-1" {
		t.Errorf("payment row = %+v", p)
	}
}

func TestProviderEventReplayedConcurrently(t *testing.T) {
	e := newEnv(t)
	c := e.config(factory.ConfigurationOptions{})
	cust := e.customer()
	inv := e.invoice(*e.rent(cust, c.ID).InvoiceID)
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	const n = 10
	var wg sync.WaitGroup
	applied := make([]bool, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			applied[i], errs[i] = e.svc.ApplyProviderPayment(ctx, commerce.ProviderPayment{
				Provider: "testpay", EventID: "evt-same", PaymentID: "pay-same", InvoiceID: inv.ID,
				Amount: inv.Amount, PaidAt: e.clk.Now(),
			})
		}()
	}
	wg.Wait()
	count := 0
	for i := range n {
		if errs[i] != nil {
			t.Errorf("call %d: %v", i, errs[i])
		}
		if applied[i] {
			count++
		}
	}
	if count != 1 {
		t.Errorf("applied %d times, want 1", count)
	}
	if k := e.count(`select count(*) from payments where invoice_id = $1`, inv.ID); k != 1 {
		t.Errorf("%d payments, want 1", k)
	}
}

// An admin records a payment by hand, once per idempotency key.
func TestRecordPayment(t *testing.T) {
	e := newEnv(t)
	c := e.config(factory.ConfigurationOptions{})
	cust := e.customer()
	inv := e.invoice(*e.rent(cust, c.ID).InvoiceID)
	admin := e.admin.Viewer()
	cases := []struct {
		name   string
		viewer identity.Viewer
		amount int64
		ref    string
		key    string
		want   string
	}{
		{"customer", cust.Viewer(), 50000, "bank 1", "r1", "FORBIDDEN"},
		{"developer", e.dev.Viewer(), 50000, "bank 1", "r1", "FORBIDDEN"},
		{"anonymous", anonymous, 50000, "bank 1", "r1", "UNAUTHENTICATED"},
		{"no reference", admin, 50000, "  ", "r1", "BAD_USER_INPUT"},
		{"wrong amount", admin, 40000, "bank 1", "r1", "AMOUNT_MISMATCH"},
		{"exact amount", admin, 50000, "bank 1", "r2", ""},
		{"same key again", admin, 50000, "bank 1", "r2", ""},
		{"new key, invoice paid", admin, 50000, "bank 2", "r3", "INVOICE_NOT_OPEN"},
	}
	var paymentID uuid.UUID
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ch, err := e.svc.RecordPayment(e.ctx, tc.viewer, inv.ID, rub(tc.amount), tc.ref, tc.key)
			if code(err) != tc.want {
				t.Fatalf("error %s, want %q", code(err), tc.want)
			}
			if err != nil {
				return
			}
			if ch.PaymentID == nil || ch.InvoiceID == nil || *ch.InvoiceID != inv.ID {
				t.Fatalf("charge %+v", ch)
			}
			if paymentID == uuid.Nil {
				paymentID = *ch.PaymentID
			} else if *ch.PaymentID != paymentID {
				t.Errorf("repeat made payment %s, first %s", *ch.PaymentID, paymentID)
			}
		})
	}
	if n := e.count(`select count(*) from payments where invoice_id = $1 and provider = 'manual' and recorded_by = $2`, inv.ID, e.admin.UserID); n != 1 {
		t.Errorf("%d manual payments, want 1", n)
	}
	if got := e.invoice(inv.ID); got.State != store.InvoicePaid {
		t.Errorf("invoice %s", got.State)
	}
}

// Partial refunds up to the payment; more is refused.
func TestRefunds(t *testing.T) {
	e := newEnv(t)
	c := e.config(factory.ConfigurationOptions{})
	cust := e.customer()
	inv := e.invoice(*e.rent(cust, c.ID).InvoiceID)
	ch, err := e.svc.RecordPayment(e.ctx, e.admin.Viewer(), inv.ID, inv.Amount, "bank", "pay")
	if err != nil {
		t.Fatal(err)
	}
	pay := *ch.PaymentID
	admin := e.admin.Viewer()
	usd := rub(100)
	usd.Currency = "USD"
	steps := []struct {
		name    string
		viewer  identity.Viewer
		payment uuid.UUID
		minor   int64
		usd     bool
		key     string
		want    string
		refunds int // refund rows after the step
	}{
		{"customer may not refund", cust.Viewer(), pay, 100, false, "f0", "FORBIDDEN", 0},
		{"developer may not refund", e.dev.Viewer(), pay, 100, false, "f0", "FORBIDDEN", 0},
		{"zero", admin, pay, 0, false, "f1", "AMOUNT_MISMATCH", 0},
		{"negative", admin, pay, -100, false, "f1", "AMOUNT_MISMATCH", 0},
		{"more than paid", admin, pay, 50001, false, "f1", "AMOUNT_MISMATCH", 0},
		{"other currency", admin, pay, 100, true, "f1", "AMOUNT_MISMATCH", 0},
		{"unknown payment", admin, uuid.New(), 100, false, "f1", "NOT_FOUND", 0},
		{"partial 200.00", admin, pay, 20000, false, "f2", "", 1},
		{"same key again", admin, pay, 20000, false, "f2", "", 1},
		{"partial 250.00", admin, pay, 25000, false, "f3", "", 2},
		{"50.01 is more than left", admin, pay, 5001, false, "f4", "AMOUNT_MISMATCH", 2},
		{"the rest, 50.00", admin, pay, 5000, false, "f5", "", 3},
		{"one kopeck more", admin, pay, 1, false, "f6", "AMOUNT_MISMATCH", 3},
	}
	var firstRefund *uuid.UUID
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			amt := rub(s.minor)
			if s.usd {
				amt = usd
			}
			ch, err := e.svc.Refund(e.ctx, s.viewer, s.payment, amt, "reason", s.key)
			if code(err) != s.want {
				t.Errorf("error %s, want %q", code(err), s.want)
			}
			if err == nil && s.key == "f2" {
				if firstRefund == nil {
					firstRefund = ch.RefundID
				} else if *firstRefund != *ch.RefundID {
					t.Errorf("repeat refund %s, first %s", *ch.RefundID, *firstRefund)
				}
			}
			if n := e.count(`select count(*) from refunds where payment_id = $1`, pay); n != s.refunds {
				t.Errorf("%d refunds, want %d", n, s.refunds)
			}
		})
	}
	if n := e.count(`select coalesce(sum(amount_minor), 0) from refunds where payment_id = $1`, pay); n != 50000 {
		t.Errorf("refunded %d, want 50000", n)
	}
}

func TestRefundsConcurrentNeverExceedPayment(t *testing.T) {
	e := newEnv(t)
	c := e.config(factory.ConfigurationOptions{})
	cust := e.customer()
	inv := e.invoice(*e.rent(cust, c.ID).InvoiceID)
	ch, err := e.svc.RecordPayment(e.ctx, e.admin.Viewer(), inv.ID, inv.Amount, "bank", "pay")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	const n = 10 // 10 × 100.00 against 500.00
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.svc.Refund(ctx, e.admin.Viewer(), *ch.PaymentID, rub(10000), "r", fmt.Sprintf("rf-%d", i))
		}()
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch code(err) {
		case "":
			ok++
		case "AMOUNT_MISMATCH":
		default:
			t.Errorf("refund %d: %v", i, err)
		}
	}
	if ok != 5 {
		t.Errorf("%d refunds of 100.00 succeeded against 500.00, want 5", ok)
	}
	if sum := e.count(`select coalesce(sum(amount_minor), 0) from refunds where payment_id = $1`, *ch.PaymentID); sum != 50000 {
		t.Errorf("refunded %d, want 50000", sum)
	}
}

// SPEC §4: a purchase installs the current version for good, with a
// backup and no automatic updates, for the sale price.
func TestBuy(t *testing.T) {
	e := newEnv(t)
	c := e.config(factory.ConfigurationOptions{SaleMinor: 3500000, Versions: []store.VersionKey{{Major: 1}, {Major: 1, Minor: 1}}})
	rentOnly := e.config(factory.ConfigurationOptions{})
	cust := e.customer()
	cur := e.versionOf(c.ID)
	if cur.Major != 1 || cur.Minor != 1 {
		t.Fatalf("current version %d.%d", cur.Major, cur.Minor)
	}

	ch, err := e.svc.Buy(e.ctx, cust.Viewer(), c.ID, "buy-1")
	if err != nil {
		t.Fatal(err)
	}
	inst := e.inst(*ch.InstallationID)
	if inst.Mode != store.ModePurchase || inst.State != store.InstallationPendingPayment || inst.BackupRef != nil {
		t.Errorf("unpaid purchase = %+v, want pending with no backup", inst)
	}
	if e.license(cust, inst.LicenseKey).Valid {
		t.Errorf("license valid before the purchase is paid")
	}
	inv := e.invoice(*ch.InvoiceID)
	if inv.Amount != rub(3500000) || inv.PaidFor != "purchase" || inv.State != store.InvoiceOpen || inv.PeriodStart != nil ||
		inv.ConfigurationID == nil || *inv.ConfigurationID != c.ID || inv.InstallationID == nil || *inv.InstallationID != inst.ID ||
		!sameTime(inv.ExpiresAt, e.clk.Now().Add(48*time.Hour)) {
		t.Errorf("purchase invoice = %+v", inv)
	}
	if _, err := e.svc.Buy(e.ctx, cust.Viewer(), c.ID, "buy-again-unpaid"); code(err) != "PAYMENT_PENDING" {
		t.Errorf("buying again before paying: %s, want PAYMENT_PENDING", code(err))
	}
	e.pay(inv)
	inst = e.inst(*ch.InstallationID)
	if inst.Mode != store.ModePurchase || inst.State != store.InstallationActive || inst.AutoUpdate || inst.VersionID != cur.ID ||
		inst.BackupRef == nil || *inst.BackupRef == "" || inst.CurrentPeriodEnd != nil || inst.TrialEndsAt != nil {
		t.Errorf("purchase = %+v", inst)
	}
	lic := e.license(cust, inst.LicenseKey)
	if !lic.Valid || lic.Mode != store.ModePurchase || lic.ValidUntil != nil {
		t.Errorf("purchase license = %+v, want valid forever", lic)
	}
	// Long after, still valid and never billed again.
	e.at(400 * day)
	e.bill()
	if got := e.inst(inst.ID); got.State != store.InstallationActive || len(e.invoices(inst.ID)) != 1 || !e.license(cust, inst.LicenseKey).Valid {
		t.Errorf("a year on: %s with %d invoices", got.State, len(e.invoices(inst.ID)))
	}

	for _, tc := range []struct {
		name string
		conf uuid.UUID
		key  string
		want string
	}{
		{"buy again", c.ID, "buy-2", "ALREADY_INSTALLED"},
		{"not for sale", rentOnly.ID, "buy-3", "NOT_FOR_SALE"},
		{"same key again", c.ID, "buy-1", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.svc.Buy(e.ctx, cust.Viewer(), tc.conf, tc.key); code(err) != tc.want {
				t.Errorf("error %s, want %q", code(err), tc.want)
			}
		})
	}
	// The same configuration sells any number of times.
	if _, err := e.svc.Buy(e.ctx, e.customer().Viewer(), c.ID, "buy-1"); err != nil {
		t.Errorf("another customer's purchase: %v", err)
	}
}

// Buying during a trial or rental replaces it (acquire.go). A purchase paid
// in full must not be made past due or canceled by the replaced rental's
// unpaid invoice (SPEC §4: a one-off payment gives a perpetual installation).
func TestBuyDuringUnpaidRental(t *testing.T) {
	e := newEnv(t)
	c := e.config(factory.ConfigurationOptions{SaleMinor: 3500000})
	cust := e.customer()
	rentCh := e.rent(cust, c.ID) // rent invoice left open
	e.at(2 * day)
	buyCh, err := e.svc.Buy(e.ctx, cust.Viewer(), c.ID, "buy")
	if err != nil {
		t.Fatal(err)
	}
	if *buyCh.InstallationID != *rentCh.InstallationID {
		t.Fatalf("purchase made a new installation row")
	}
	e.pay(e.invoice(*buyCh.InvoiceID))
	for _, d := range []int{7, 14, 20} {
		e.at(time.Duration(d) * day)
		e.bill()
		got := e.inst(*buyCh.InstallationID)
		if got.State != store.InstallationActive {
			t.Errorf("day %d after renting: the paid purchase is %s (rent invoice %s is %s)", d, got.State,
				*rentCh.InvoiceID, e.invoice(*rentCh.InvoiceID).State)
		}
	}
}

// SPEC §4: every installation and payment of a configuration is visible to
// its developer; invoices only to the customer (and admins); the license
// key only to the customer (and admins).
func TestReadVisibility(t *testing.T) {
	e := newEnv(t)
	c := e.config(factory.ConfigurationOptions{})
	owner := e.customer()
	ch := e.rent(owner, c.ID)
	inv := e.invoice(*ch.InvoiceID)
	e.pay(inv)
	var paymentID uuid.UUID
	if err := e.pool.QueryRow(e.ctx, `select id from payments where invoice_id = $1`, inv.ID).Scan(&paymentID); err != nil {
		t.Fatal(err)
	}
	inst := e.inst(*ch.InstallationID)
	otherCustomer := e.customer()
	otherDev := factory.Developer(t, e.st)
	devID, custID := e.dev.OrgID, owner.OrgID

	cases := []struct {
		name                          string
		v                             identity.Viewer
		installations, invoices, pays int
		key                           bool
	}{
		{"owning customer", owner.Viewer(), 1, 1, 1, true},
		{"another customer", otherCustomer.Viewer(), 0, 0, 0, false},
		{"the configuration's developer", e.dev.Viewer(), 1, 0, 1, false},
		{"another developer", otherDev.Viewer(), 0, 0, 0, false},
		{"admin", e.admin.Viewer(), 1, 1, 1, true},
		{"anonymous", anonymous, 0, 0, 0, false},
		{"a partner", factory.Partner(t, e.st).Viewer(), 0, 0, 0, false},
		// The developer's user id acting as a customer of another account.
		{"developer's user as other role", identity.Viewer{UserID: e.dev.UserID, Role: identity.RoleCustomer, ActingFor: devID}, 0, 0, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			is, err := e.svc.InstallationsByIDs(e.ctx, tc.v, []uuid.UUID{inst.ID})
			if err != nil || len(is) != tc.installations {
				t.Errorf("InstallationsByIDs: %d rows (%v), want %d", len(is), err, tc.installations)
			}
			vs, err := e.svc.InvoicesByIDs(e.ctx, tc.v, []uuid.UUID{inv.ID})
			if err != nil || len(vs) != tc.invoices {
				t.Errorf("InvoicesByIDs: %d rows (%v), want %d", len(vs), err, tc.invoices)
			}
			ps, err := e.svc.PaymentsByIDs(e.ctx, tc.v, []uuid.UUID{paymentID})
			if err != nil || len(ps) != tc.pays {
				t.Errorf("PaymentsByIDs: %d rows (%v), want %d", len(ps), err, tc.pays)
			}
			if got := commerce.MayReadLicenseKey(tc.v, inst.CustomerID); got != tc.key {
				t.Errorf("MayReadLicenseKey = %v, want %v", got, tc.key)
			}

			// Pages: by customer and by developer; a filter the viewer may
			// not read for yields nothing (apperr.Hidden).
			pageInst := 0
			for _, f := range []commerce.InstallationFilter{{CustomerID: &custID}, {DeveloperID: &devID}} {
				p, err := e.svc.Installations(e.ctx, tc.v, f, nil, nil)
				if err != nil && !apperr.IsHidden(err) {
					t.Fatal(err)
				}
				pageInst = max(pageInst, len(p.Rows))
			}
			if pageInst != tc.installations {
				t.Errorf("Installations pages: %d rows, want %d", pageInst, tc.installations)
			}
			p, err := e.svc.Invoices(e.ctx, tc.v, custID, nil, nil, nil)
			if (tc.invoices > 0 && err != nil) || (tc.invoices == 0 && !apperr.IsHidden(err)) || len(p.Rows) != tc.invoices {
				t.Errorf("Invoices page: %d rows (%v), want %d", len(p.Rows), err, tc.invoices)
			}
			pagePay := 0
			for _, f := range []commerce.PaymentFilter{{CustomerID: &custID}, {DeveloperID: &devID}} {
				p, err := e.svc.Payments(e.ctx, tc.v, f, nil, nil)
				if err != nil && !apperr.IsHidden(err) {
					t.Fatal(err)
				}
				pagePay = max(pagePay, len(p.Rows))
			}
			if pagePay != tc.pays {
				t.Errorf("Payments pages: %d rows, want %d", pagePay, tc.pays)
			}
		})
	}

	// A developer's filter narrows to its own configurations even when it
	// names a customer too; a customer cannot widen with a developer id.
	p, err := e.svc.Installations(e.ctx, otherDev.Viewer(), commerce.InstallationFilter{CustomerID: &custID, DeveloperID: &otherDev.OrgID}, nil, nil)
	if err != nil || len(p.Rows) != 0 {
		t.Errorf("other developer naming the customer: %d rows (%v)", len(p.Rows), err)
	}
	p, err = e.svc.Installations(e.ctx, otherCustomer.Viewer(), commerce.InstallationFilter{CustomerID: &otherCustomer.OrgID, ConfigurationID: &c.ID}, nil, nil)
	if err != nil || len(p.Rows) != 0 {
		t.Errorf("other customer filtering by configuration: %d rows (%v)", len(p.Rows), err)
	}
	pp, err := e.svc.Payments(e.ctx, otherDev.Viewer(), commerce.PaymentFilter{DeveloperID: &otherDev.OrgID, CustomerID: &custID}, nil, nil)
	if err != nil || len(pp.Rows) != 0 {
		t.Errorf("other developer's payments naming the customer: %d rows (%v)", len(pp.Rows), err)
	}
}

func TestPagesAreNewestFirstAndResume(t *testing.T) {
	e := newEnv(t)
	cust := e.customer()
	var confs []uuid.UUID
	for i := range 5 {
		c := e.config(factory.ConfigurationOptions{})
		e.at(time.Duration(i) * time.Hour)
		e.rent(cust, c.ID)
		confs = append(confs, c.ID)
	}
	two := 2
	var seen []uuid.UUID
	var after *string
	for range 5 {
		p, err := e.svc.Invoices(e.ctx, cust.Viewer(), cust.OrgID, nil, &two, after)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Rows {
			seen = append(seen, *r.ConfigurationID)
		}
		if !p.HasNext {
			break
		}
		after = &p.Cursors[len(p.Cursors)-1]
	}
	if len(seen) != 5 {
		t.Fatalf("paged %d invoices, want 5", len(seen))
	}
	for i := range seen {
		if seen[i] != confs[4-i] {
			t.Errorf("page position %d: invoice of configuration %s, want %s", i, seen[i], confs[4-i])
		}
	}
}
