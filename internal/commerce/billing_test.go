package commerce_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"configmarket/internal/clock"
	"configmarket/internal/commerce"
	"configmarket/internal/factory"
	"configmarket/internal/identity"
	"configmarket/internal/store"
)

// SPEC §3: a price change applies to running subscriptions from their next
// billing period; the price of a period already invoiced never changes; new
// subscriptions pay the new price at once.
func TestPriceChangeAppliesFromNextPeriod(t *testing.T) {
	e := newEnv(t)
	t0 := e.clk.Now()
	end1, end2 := clock.AddMonths(t0, 1), clock.AddMonths(t0, 2)
	cases := []struct {
		name                    string
		validFrom               time.Time
		wantSecond, wantThird   int64
		configuration, instance uuid.UUID
	}{
		{name: "mid-period", validFrom: t0.Add(15 * day), wantSecond: 70000, wantThird: 70000},
		{name: "exactly at the next period start", validFrom: end1, wantSecond: 70000, wantThird: 70000},
		{name: "a second after the next period start", validFrom: end1.Add(time.Second), wantSecond: 50000, wantThird: 70000},
		{name: "in the period after next", validFrom: end2.Add(time.Hour), wantSecond: 50000, wantThird: 50000},
	}
	for i := range cases {
		c := e.config(factory.ConfigurationOptions{})
		ch := e.rent(e.customer(), c.ID)
		e.pay(e.invoice(*ch.InvoiceID))
		cases[i].configuration, cases[i].instance = c.ID, *ch.InstallationID
		// The developer sets the new plan-B price now, in force from validFrom.
		e.setRent(c.ID, "B", 70000, cases[i].validFrom)
	}

	e.at(15 * day)
	e.bill()
	for _, tc := range cases {
		invs := e.invoices(tc.instance)
		if len(invs) != 1 || invs[0].Amount != rub(50000) {
			t.Errorf("%s: mid-period invoices %+v, want one of 500.00", tc.name, invs)
		}
	}
	// A new subscription after the change pays the new price at once.
	newcomer := e.invoice(*e.rent(e.customer(), cases[0].configuration).InvoiceID)
	if newcomer.Amount != rub(70000) {
		t.Errorf("new rental after the change invoiced %s, want 700.00", newcomer.Amount)
	}

	e.clk.Set(end1)
	e.bill()
	for _, tc := range cases {
		invs := e.invoices(tc.instance)
		if len(invs) != 2 {
			t.Fatalf("%s: %d invoices at the second period, want 2", tc.name, len(invs))
		}
		if invs[0].Amount != rub(50000) {
			t.Errorf("%s: first period re-priced to %s", tc.name, invs[0].Amount)
		}
		if invs[1].Amount != rub(tc.wantSecond) || !sameTime(invs[1].PeriodStart, end1) || !sameTime(invs[1].PeriodEnd, end2) {
			t.Errorf("%s: second invoice %s [%s, %s), want %d [%s, %s)", tc.name, invs[1].Amount,
				fmtTime(invs[1].PeriodStart), fmtTime(invs[1].PeriodEnd), tc.wantSecond, end1, end2)
		}
		e.pay(invs[1])
	}
	e.clk.Set(end2)
	e.bill()
	for _, tc := range cases {
		invs := e.invoices(tc.instance)
		if len(invs) != 3 || invs[2].Amount != rub(tc.wantThird) {
			t.Errorf("%s: third invoice %+v, want %d", tc.name, invs[len(invs)-1].Amount, tc.wantThird)
		}
	}
}

// SPEC §4: an invoice unpaid 7 days after the period start makes the
// rental past due, 14 days cancels it; paying in between brings it back.
func TestDunning(t *testing.T) {
	e := newEnv(t)
	c := e.config(factory.ConfigurationOptions{})
	type want struct {
		state   store.InstallationState
		invoice store.InvoiceState
	}
	scenarios := []struct {
		name  string
		payOn int // day offset from the period start; -1 never
		// expectations after each day's run (and payment)
		want func(d int) want
		cust factory.Account
		inst uuid.UUID
		inv  uuid.UUID
	}{
		{name: "never pays", payOn: -1, want: func(d int) want {
			switch {
			case d < 7:
				return want{store.InstallationActive, store.InvoiceOpen}
			case d < 14:
				return want{store.InstallationPastDue, store.InvoiceOpen}
			}
			return want{store.InstallationCanceled, store.InvoiceVoid}
		}},
		{name: "pays on day 8", payOn: 8, want: func(d int) want {
			if d == 7 {
				return want{store.InstallationPastDue, store.InvoiceOpen}
			}
			if d < 7 {
				return want{store.InstallationActive, store.InvoiceOpen}
			}
			return want{store.InstallationActive, store.InvoicePaid}
		}},
		{name: "pays on day 6", payOn: 6, want: func(d int) want {
			if d < 6 {
				return want{store.InstallationActive, store.InvoiceOpen}
			}
			return want{store.InstallationActive, store.InvoicePaid}
		}},
		{name: "pays on day 13", payOn: 13, want: func(d int) want {
			switch {
			case d < 7:
				return want{store.InstallationActive, store.InvoiceOpen}
			case d < 13:
				return want{store.InstallationPastDue, store.InvoiceOpen}
			}
			return want{store.InstallationActive, store.InvoicePaid}
		}},
	}
	// Dunning is for renewals: the first month is paid (pay before access),
	// the second month's invoice is the one left unpaid.
	for i := range scenarios {
		s := &scenarios[i]
		s.cust = e.customer()
		ch := e.rent(s.cust, c.ID)
		e.pay(e.invoice(*ch.InvoiceID))
		s.inst = *ch.InstallationID
	}
	second := clock.AddMonths(e.start, 1)
	e.clk.Set(second)
	e.bill()
	for i := range scenarios {
		s := &scenarios[i]
		invs := e.invoices(s.inst)
		if len(invs) != 2 || invs[1].ExpiresAt != nil {
			t.Fatalf("%s: %d invoices at the second period's start, want a renewal", s.name, len(invs))
		}
		s.inv = invs[1].ID
	}
	for d := 0; d <= 16; d++ {
		e.clk.Set(second.Add(time.Duration(d) * day))
		e.bill()
		for _, s := range scenarios {
			if d == s.payOn {
				e.pay(e.invoice(s.inv))
			}
			w := s.want(d)
			inst, inv := e.inst(s.inst), e.invoice(s.inv)
			if inst.State != w.state || inv.State != w.invoice {
				t.Errorf("%s, day %d: installation %s, invoice %s; want %s, %s", s.name, d, inst.State, inv.State, w.state, w.invoice)
			}
			valid := e.license(s.cust, inst.LicenseKey).Valid
			if valid != (w.state != store.InstallationCanceled) {
				t.Errorf("%s, day %d: license valid=%v in state %s", s.name, d, valid, inst.State)
			}
		}
	}
	never := scenarios[0]
	got := e.inst(never.inst)
	if !sameTime(got.CanceledAt, second.Add(14*day)) {
		t.Errorf("never pays: canceled at %s, want day 14", fmtTime(got.CanceledAt))
	}
	if inv := e.invoice(never.inv); !sameTime(inv.VoidedAt, second.Add(14*day)) {
		t.Errorf("never pays: invoice voided at %s", fmtTime(inv.VoidedAt))
	}
	// Paying a void invoice is refused.
	if _, err := e.svc.RecordPayment(e.ctx, e.admin.Viewer(), never.inv, rub(50000), "late", "late"); code(err) != "INVOICE_NOT_OPEN" {
		t.Errorf("paying a void invoice: %s, want INVOICE_NOT_OPEN", code(err))
	}

	// At the period end the paying ones move on and are invoiced again; the
	// canceled one is not.
	e.clk.Set(clock.AddMonths(e.start, 2))
	e.bill()
	for _, s := range scenarios {
		n, want := len(e.invoices(s.inst)), 3
		if s.payOn < 0 {
			want = 2
		}
		if n != want {
			t.Errorf("%s: %d invoices after the period end, want %d", s.name, n, want)
		}
	}
}

// SPEC §4: a canceled rental stays active to the end of the paid period.
func TestCancelKeepsAccessToPeriodEnd(t *testing.T) {
	e := newEnv(t)
	c := e.config(factory.ConfigurationOptions{SaleMinor: 3500000})
	cust := e.customer()
	ch := e.rent(cust, c.ID)
	e.pay(e.invoice(*ch.InvoiceID))
	periodEnd := clock.AddMonths(e.start, 1)

	e.at(3 * day)
	inst, err := e.svc.CancelRental(e.ctx, cust.Viewer(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !inst.CancelAtPeriodEnd || inst.State != store.InstallationActive {
		t.Fatalf("after cancel: %s cancel_at_period_end=%v", inst.State, inst.CancelAtPeriodEnd)
	}
	steps := []struct {
		name      string
		at        time.Time
		wantState store.InstallationState
		wantValid bool
	}{
		{"day 10", e.start.Add(10 * day), store.InstallationActive, true},
		{"a second before the period end", periodEnd.Add(-time.Second), store.InstallationActive, true},
		{"the period end", periodEnd, store.InstallationCanceled, false},
		{"two months on", clock.AddMonths(e.start, 3), store.InstallationCanceled, false},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			e.clk.Set(s.at)
			e.bill()
			got := e.inst(*ch.InstallationID)
			if got.State != s.wantState {
				t.Errorf("state %s, want %s", got.State, s.wantState)
			}
			lic := e.license(cust, got.LicenseKey)
			if lic.Valid != s.wantValid {
				t.Errorf("license valid=%v, want %v", lic.Valid, s.wantValid)
			}
			if lic.Valid && !sameTime(lic.ValidUntil, periodEnd) {
				t.Errorf("license valid until %s, want %s", fmtTime(lic.ValidUntil), periodEnd)
			}
			if n := len(e.invoices(got.ID)); n != 1 {
				t.Errorf("%d invoices, want 1", n)
			}
		})
	}
	if got := e.inst(*ch.InstallationID); !sameTime(got.CanceledAt, periodEnd) {
		t.Errorf("canceled at %s, want the period end %s", fmtTime(got.CanceledAt), periodEnd)
	}
	for _, tc := range []struct {
		name string
		v    identity.Viewer
		conf uuid.UUID
		want string
	}{
		{"cancel again", cust.Viewer(), c.ID, "NO_RUNNING_RENTAL"},
		{"nothing rented", e.customer().Viewer(), c.ID, "NO_RUNNING_RENTAL"},
		{"developer", e.dev.Viewer(), c.ID, "FORBIDDEN"},
	} {
		if _, err := e.svc.CancelRental(e.ctx, tc.v, tc.conf); code(err) != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, code(err), tc.want)
		}
	}
	// A purchase is not a rental to cancel.
	buyer := e.customer()
	if _, err := e.svc.Buy(e.ctx, buyer.Viewer(), c.ID, "b"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CancelRental(e.ctx, buyer.Viewer(), c.ID); code(err) != "NO_RUNNING_RENTAL" {
		t.Errorf("cancel a purchase: %s", code(err))
	}
}

func TestChangePlanRefusals(t *testing.T) {
	e := newEnv(t)
	cust := e.customer()
	for _, tc := range []struct {
		name string
		v    identity.Viewer
		plan string
		want string
	}{
		{"unknown plan", cust.Viewer(), "Z", "TARIFF_PLAN_UNKNOWN"},
		{"developer", e.dev.Viewer(), "C", "FORBIDDEN"},
		{"anonymous", anonymous, "C", "UNAUTHENTICATED"},
		{"customer to C", cust.Viewer(), "C", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.svc.ChangePlan(e.ctx, tc.v, tc.plan)
			if code(err) != tc.want {
				t.Fatalf("%s, want %q", code(err), tc.want)
			}
			if err == nil && got.TariffPlanID != e.plan(tc.plan).ID {
				t.Errorf("customer on plan %s", got.TariffPlanID)
			}
		})
	}
}

// Several instances running the billing job at once issue each period once.
func TestRunBillingConcurrently(t *testing.T) {
	e := newEnv(t)
	c := e.config(factory.ConfigurationOptions{})
	const rentals = 20
	var ids []uuid.UUID
	for range rentals {
		ch := e.rent(e.customer(), c.ID)
		e.pay(e.invoice(*ch.InvoiceID))
		ids = append(ids, *ch.InstallationID)
	}
	e.clk.Set(clock.AddMonths(e.start, 1))
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	reports := make([]commerce.BillingReport, 5)
	errs := make([]error, 5)
	for i := range reports {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reports[i], errs[i] = e.svc.RunBilling(ctx)
		}()
	}
	wg.Wait()
	var issued int64
	for i := range reports {
		if errs[i] != nil {
			t.Errorf("run %d: %v", i, errs[i])
		}
		issued += reports[i].InvoicesIssued
	}
	e.bill() // whatever a skipped run left
	if issued > rentals {
		t.Errorf("runs report %d invoices issued for %d rentals", issued, rentals)
	}
	for _, id := range ids {
		if n := len(e.invoices(id)); n != 2 {
			t.Errorf("installation %s has %d invoices, want 2", id, n)
		}
		if got := e.inst(id); got.PeriodNumber != 1 {
			t.Errorf("installation %s at period %d, want 1", id, got.PeriodNumber)
		}
	}
}

// A year of one rental through the moving clock: month-end anchor, a
// late payment, a price change and a tariff plan change.
func TestTwelveMonthsOfRent(t *testing.T) {
	start := time.Date(2026, 1, 31, 9, 0, 0, 0, time.UTC)
	e := newEnvWith(t, commerce.DefaultRules, start)
	c := e.config(factory.ConfigurationOptions{})
	// Replace the factory's prices (valid from the real now) with a history
	// that predates the simulated year.
	if _, err := e.pool.Exec(e.ctx, `delete from prices where configuration_id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	before := time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, p := range []struct {
		code  string
		minor int64
	}{{"A", 30000}, {"B", 50000}, {"C", 120000}, {"D", 300000}} {
		e.setRent(c.ID, p.code, p.minor, before)
	}
	priceChange := time.Date(2026, 5, 15, 9, 0, 0, 0, time.UTC)
	planChange := time.Date(2026, 8, 15, 9, 0, 0, 0, time.UTC)
	planB, planC := e.plan("B"), e.plan("C")

	cust := e.customer()
	ch := e.rent(cust, c.ID)
	e.pay(e.invoice(*ch.InvoiceID)) // pay before access: the first period starts now
	instID := *ch.InstallationID
	const latePeriod = 2 // the third invoice (Mar 31) is paid on day 9

	var pastDueDays []string
	for d := 0; d < 365; d++ {
		now := start.AddDate(0, 0, d)
		e.clk.Set(now)
		if now.Equal(priceChange) {
			e.setRent(c.ID, "B", 60000, priceChange)
		}
		if now.Equal(planChange) {
			if _, err := e.svc.ChangePlan(e.ctx, cust.Viewer(), "C"); err != nil {
				t.Fatal(err)
			}
		}
		e.bill()
		invs := e.invoices(instID)
		inst := e.inst(instID)
		for i, v := range invs {
			if v.State != store.InvoiceOpen {
				continue
			}
			age := int(now.Sub(*v.PeriodStart) / day)
			wantState := store.InstallationActive
			if age >= 7 {
				wantState = store.InstallationPastDue
			}
			if inst.State != wantState {
				t.Errorf("%s: invoice %d open for %d days, installation %s; want %s", now.Format("2006-01-02"), i+1, age, inst.State, wantState)
			}
			payAfter := 1
			if i == latePeriod {
				payAfter = 9
			}
			if age >= payAfter {
				e.pay(v)
			}
		}
		// Once nothing is owed the rental is active again.
		owed := false
		for _, v := range e.invoices(instID) {
			owed = owed || v.State == store.InvoiceOpen
		}
		if inst = e.inst(instID); !owed && inst.State != store.InstallationActive {
			t.Fatalf("%s: installation %s with nothing owed", now.Format("2006-01-02"), inst.State)
		}
		if inst.State == store.InstallationPastDue { // at the end of the day, after any payment
			pastDueDays = append(pastDueDays, now.Format("2006-01-02"))
		}
	}
	if want := []string{"2026-04-07", "2026-04-08"}; len(pastDueDays) != 2 || pastDueDays[0] != want[0] || pastDueDays[1] != want[1] {
		t.Errorf("past due on %v, want %v", pastDueDays, want)
	}

	invs := e.invoices(instID)
	if len(invs) != 12 {
		t.Fatalf("%d invoices in a year, want 12", len(invs))
	}
	wantEnds := []string{"2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31", "2026-06-30", "2026-07-31",
		"2026-08-31", "2026-09-30", "2026-10-31", "2026-11-30", "2026-12-31", "2027-01-31"}
	prevEnd := start
	for i, v := range invs {
		wantAmount, wantPlan := int64(50000), planB.ID
		switch {
		case i >= 7: // from the first period starting after the plan change (Aug 31)
			wantAmount, wantPlan = 120000, planC.ID
		case i >= 4: // from the first period starting after the price change (May 31)
			wantAmount = 60000
		}
		wantEnd, _ := time.Parse("2006-01-02", wantEnds[i])
		wantEnd = wantEnd.Add(9 * time.Hour)
		if !sameTime(v.PeriodStart, prevEnd) || !sameTime(v.PeriodEnd, wantEnd) || !v.IssuedAt.Equal(prevEnd) {
			t.Errorf("invoice %d: [%s, %s) issued %s; want [%s, %s)", i+1, fmtTime(v.PeriodStart), fmtTime(v.PeriodEnd),
				v.IssuedAt.UTC().Format(time.RFC3339), prevEnd.Format(time.RFC3339), wantEnd.Format(time.RFC3339))
		}
		if !wantEnd.Equal(clock.AddMonths(start, i+1)) {
			t.Errorf("invoice %d: the test's end %s disagrees with clock.AddMonths", i+1, wantEnd)
		}
		if v.Amount != rub(wantAmount) || v.TariffPlanID == nil || *v.TariffPlanID != wantPlan {
			t.Errorf("invoice %d [%s, %s): %s on plan %v; want %d", i+1, fmtTime(v.PeriodStart), fmtTime(v.PeriodEnd), v.Amount, v.TariffPlanID, wantAmount)
		}
		if v.State != store.InvoicePaid || v.PaidAt == nil {
			t.Errorf("invoice %d is %s", i+1, v.State)
		} else {
			wantPaid := v.PeriodStart.Add(day)
			if i == 0 {
				wantPaid = *v.PeriodStart // paid when rented: the period starts at the payment
			}
			if i == latePeriod {
				wantPaid = v.PeriodStart.Add(9 * day)
			}
			if !v.PaidAt.Equal(wantPaid) {
				t.Errorf("invoice %d paid at %s, want %s", i+1, fmtTime(v.PaidAt), wantPaid)
			}
		}
		prevEnd = wantEnd
	}
	inst := e.inst(instID)
	if inst.State != store.InstallationActive || inst.PeriodNumber != 11 || !sameTime(inst.CurrentPeriodEnd, clock.AddMonths(start, 12)) {
		t.Errorf("at the end: %s period %d ending %s", inst.State, inst.PeriodNumber, fmtTime(inst.CurrentPeriodEnd))
	}
	if n := e.count(`select count(*) from payments where customer_id = $1`, cust.OrgID); n != 12 {
		t.Errorf("%d payments, want 12", n)
	}
	var total int64
	if err := e.pool.QueryRow(e.ctx, `select sum(amount_minor) from payments where customer_id = $1`, cust.OrgID).Scan(&total); err != nil {
		t.Fatal(err)
	}
	if want := int64(4*50000 + 3*60000 + 5*120000); total != want {
		t.Errorf("paid %d in the year, want %d", total, want)
	}

}

// A rental whose next period has no rent price for the customer's plan (the
// customer moved to a plan the developer did not price) must not run on for
// free: either the plan change is refused, or the next period is invoiced,
// or the rental stops being licensed once its paid period is over.
func TestNoPriceForNewPlanDoesNotGiveFreeAccess(t *testing.T) {
	e := newEnv(t)
	c := e.config(factory.ConfigurationOptions{})
	if _, err := e.pool.Exec(e.ctx, `delete from prices where configuration_id = $1 and tariff_plan_id = $2`, c.ID, e.plan("A").ID); err != nil {
		t.Fatal(err)
	}
	cust := e.customer()
	ch := e.rent(cust, c.ID)
	e.pay(e.invoice(*ch.InvoiceID))
	e.at(10 * day)
	if _, err := e.svc.ChangePlan(e.ctx, cust.Viewer(), "A"); err != nil {
		t.Logf("plan change refused: %s", code(err))
		return
	}
	periodEnd := clock.AddMonths(e.start, 1)
	for d := 0; d <= 20; d++ {
		e.clk.Set(periodEnd.Add(time.Duration(d) * day))
		e.bill()
	}
	inst := e.inst(*ch.InstallationID)
	invs := e.invoices(inst.ID)
	lic := e.license(cust, inst.LicenseKey)
	if len(invs) == 1 && lic.Valid {
		t.Errorf("20 days after the paid period ended: installation %s, period [%s, %s), %d invoice(s), license valid until %s — free access",
			inst.State, fmtTime(inst.CurrentPeriodStart), fmtTime(inst.CurrentPeriodEnd), len(invs), fmtTime(lic.ValidUntil))
	}
}

// Period ends must not depend on the database session's time zone: the
// first period end is computed in Go (UTC, clock.AddMonths) and the later
// ones in SQL (timestamptz + interval, which uses the session TimeZone).
func TestBillingPeriodsDoNotDependOnDatabaseTimeZone(t *testing.T) {
	start := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 1, 0)
	// The 30th of a 31-day month, 22:00 UTC: already the 31st in Moscow.
	for start.Day() != 30 || clock.AddMonths(start, 1).Day() == 30 || start.AddDate(0, 0, 1).Day() != 31 {
		start = start.AddDate(0, 0, 1)
	}
	start = start.Add(22 * time.Hour)
	e := newEnvWith(t, commerce.DefaultRules, start)
	var db string
	if err := e.pool.QueryRow(e.ctx, `select current_database()`).Scan(&db); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pool.Exec(e.ctx, `alter database "`+db+`" set timezone to 'Europe/Moscow'`); err != nil {
		t.Fatal(err)
	}
	e.pool.Reset()
	c := e.config(factory.ConfigurationOptions{})
	e.setRent(c.ID, "B", 50000, start.AddDate(0, -1, 0))
	cust := e.customer()
	ch := e.rent(cust, c.ID)
	e.pay(e.invoice(*ch.InvoiceID))
	for k := 0; k < 4; k++ {
		e.clk.Set(clock.AddMonths(start, k))
		e.bill()
		invs := e.invoices(*ch.InstallationID)
		if len(invs) != k+1 {
			t.Fatalf("period %d: %d invoices (installation period [%s, %s))", k, len(invs),
				fmtTime(e.inst(*ch.InstallationID).CurrentPeriodStart), fmtTime(e.inst(*ch.InstallationID).CurrentPeriodEnd))
		}
		v := invs[k]
		if wantEnd := clock.AddMonths(start, k+1); !sameTime(v.PeriodEnd, wantEnd) {
			t.Errorf("period %d: [%s, %s), want it to end at %s (anchor %s + %d months)", k, fmtTime(v.PeriodStart),
				fmtTime(v.PeriodEnd), wantEnd.Format(time.RFC3339), start.Format(time.RFC3339), k+1)
		}
		if v.State == store.InvoiceOpen {
			e.pay(v)
		}
	}
}
