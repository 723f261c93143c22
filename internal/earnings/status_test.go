package earnings_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"configmarket/internal/apperr"
	"configmarket/internal/clock"
	"configmarket/internal/dbtest"
	"configmarket/internal/earnings"
	"configmarket/internal/factory"
	"configmarket/internal/identity"
	"configmarket/internal/money"
	"configmarket/internal/store"
)

// The business clock stands on 10 March 2026: the last calendar month is
// February, the current one March.
var (
	statusNow  = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	february   = time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	march      = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	april      = time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	allFlagsOn = earnings.FlagsUpdate{KnowledgeTestPassed: ptrTo(true), WebsiteInfo: ptrTo(true), ContractSigned: ptrTo(true)}
)

func ptrTo[T any](v T) *T { return &v }

type statusEnv struct {
	t     *testing.T
	ctx   context.Context
	st    *store.Store
	pool  *pgxpool.Pool
	clk   *clock.Manual
	svc   *earnings.Statuses
	admin factory.Account
	buyer factory.Account
}

func newStatusEnv(t *testing.T) *statusEnv {
	t.Helper()
	pool := dbtest.Pool(t)
	st := store.New(pool)
	clk := clock.NewManual(statusNow)
	return &statusEnv{
		t: t, ctx: context.Background(), st: st, pool: pool, clk: clk,
		svc: earnings.NewStatuses(st, clk), admin: factory.Admin(t, st), buyer: factory.Customer(t, st),
	}
}

// seller is a developer with one configuration.
type seller struct {
	factory.Account
	conf uuid.UUID
}

func (e *statusEnv) seller() seller {
	e.t.Helper()
	dev := factory.Developer(e.t, e.st)
	return seller{dev, factory.Configuration(e.t, e.st, dev.OrgID, factory.ConfigurationOptions{}).ID}
}

func (e *statusEnv) setFlags(s seller, f earnings.FlagsUpdate) {
	e.t.Helper()
	if _, err := e.svc.SetFlags(e.ctx, e.admin.Viewer(), s.OrgID, f); err != nil {
		e.t.Fatal(err)
	}
}

// sell records a paid rent of s's configuration at `at` and its balanced
// entries in one statement (the ledger's balance check runs at commit):
// developer 35%, a partner 10% of the rest if partner is given, platform
// the remainder.
func (e *statusEnv) sell(s seller, minor int64, at time.Time, partner *uuid.UUID) uuid.UUID {
	e.t.Helper()
	const sql = `with p as (
			insert into payments (customer_id, configuration_id, paid_for, amount_minor, provider, provider_payment_id, received_at)
			values ($1, $2, 'rent', $3, 'test', gen_random_uuid()::text, $4) returning id
		), shares (party, developer_id, partner_id, amount) as (
			values ('developer', $5::uuid, null::uuid, $6::bigint),
				('partner', null, $7::uuid, $8::bigint),
				('platform', null, null, $3::bigint - $6::bigint - $8::bigint)
		), ins as (
			insert into ledger_entries (payment_id, party, developer_id, partner_id, amount_minor, currency, paid_for,
				configuration_id, customer_id, occurred_at)
			select p.id, s.party, s.developer_id, s.partner_id, s.amount, 'RUB', 'rent', $2, $1, $4
			from p, shares s where s.party <> 'partner' or s.partner_id is not null
			returning 1
		)
		select id from p`
	dev := minor * 35 / 100
	var part int64
	if partner != nil {
		part = (minor - dev) / 10
	}
	var id uuid.UUID
	if err := e.pool.QueryRow(e.ctx, sql, e.buyer.OrgID, s.conf, minor, at, s.OrgID, dev, partner, part).Scan(&id); err != nil {
		e.t.Fatalf("sell: %v", err)
	}
	return id
}

// refund records a refund of part of a payment at `at` with its reversing
// entries in one statement.
func (e *statusEnv) refund(s seller, paymentID uuid.UUID, minor int64, at time.Time) {
	e.t.Helper()
	const sql = `with r as (
			insert into refunds (payment_id, amount_minor, created_at) values ($1, $2, $3) returning id
		), ins as (
			insert into ledger_entries (payment_id, refund_id, party, developer_id, amount_minor, currency, paid_for,
				configuration_id, customer_id, occurred_at)
			select $1, r.id, s.party, s.developer_id, s.amount, 'RUB', 'rent', p.configuration_id, p.customer_id, $3
			from r, payments p,
				(values ('developer', $4::uuid, -$5::bigint), ('platform', null::uuid, $5::bigint - $2::bigint)) as s (party, developer_id, amount)
			where p.id = $1
			returning 1
		)
		select id from r`
	var id uuid.UUID
	if err := e.pool.QueryRow(e.ctx, sql, paymentID, minor, at, s.OrgID, minor*35/100).Scan(&id); err != nil {
		e.t.Fatalf("refund: %v", err)
	}
}

func (e *statusEnv) status(s seller) earnings.DeveloperStatus {
	e.t.Helper()
	var status string
	if err := e.pool.QueryRow(e.ctx, `select status from developers where id = $1`, s.OrgID).Scan(&status); err != nil {
		e.t.Fatal(err)
	}
	return earnings.DeveloperStatus(status)
}

func (e *statusEnv) history(s seller) []store.StatusHistoryEntry {
	e.t.Helper()
	h, err := e.st.DeveloperStatusHistory(e.ctx, s.OrgID)
	if err != nil {
		e.t.Fatal(err)
	}
	return h
}

func (e *statusEnv) recompute(s seller) earnings.StatusDecision {
	e.t.Helper()
	d, err := e.svc.Recompute(e.ctx, s.OrgID)
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

func TestEligibleStatusRules(t *testing.T) {
	all := earnings.StatusFlags{KnowledgeTestPassed: true, WebsiteInfo: true, ContractSigned: true}
	rub := func(minor int64) money.Money { return money.New(minor, money.RUB) }
	for _, tc := range []struct {
		sales int64
		flags earnings.StatusFlags
		want  earnings.DeveloperStatus
	}{
		{0, all, earnings.StatusBasic},
		{4_999_99, all, earnings.StatusBasic},
		{5_000_00, all, earnings.StatusStandard},
		{24_999_99, all, earnings.StatusStandard},
		{25_000_00, all, earnings.StatusPremium},
		{-1_00, all, earnings.StatusBasic},
		{25_000_00, earnings.StatusFlags{WebsiteInfo: true, ContractSigned: true}, earnings.StatusBasic},
		{25_000_00, earnings.StatusFlags{KnowledgeTestPassed: true, ContractSigned: true}, earnings.StatusBasic},
		{25_000_00, earnings.StatusFlags{KnowledgeTestPassed: true, WebsiteInfo: true}, earnings.StatusBasic},
	} {
		if got := earnings.EligibleStatus(rub(tc.sales), tc.flags); got != tc.want {
			t.Errorf("sales %d, flags %+v: %s, want %s", tc.sales, tc.flags, got, tc.want)
		}
	}
}

// The thresholds are settings: an admin lowering standard's to 1,000.00
// and premium's to 2,000.00 makes those sales enough.
func TestEligibleStatusAtChangedThresholds(t *testing.T) {
	all := earnings.StatusFlags{KnowledgeTestPassed: true, WebsiteInfo: true, ContractSigned: true}
	th := earnings.Thresholds{Standard: 1_000_00, Premium: 2_000_00}
	for _, tc := range []struct {
		sales int64
		want  earnings.DeveloperStatus
	}{{999_99, earnings.StatusBasic}, {1_000_00, earnings.StatusStandard}, {1_999_99, earnings.StatusStandard}, {2_000_00, earnings.StatusPremium}} {
		if got := th.Eligible(money.New(tc.sales, money.RUB), all); got != tc.want {
			t.Errorf("sales %d at 1,000.00/2,000.00: %s, want %s", tc.sales, got, tc.want)
		}
	}
	if earnings.DefaultThresholds != (earnings.Thresholds{Standard: 5_000_00, Premium: 25_000_00}) {
		t.Errorf("default thresholds %+v", earnings.DefaultThresholds)
	}
}

// The SPEC thresholds, to the kopeck, on the last calendar month only:
// the month's first and last instants count, the month before and the
// current month do not, and every party's entry counts (gross sales).
func TestStatusThresholdsOfTheLastCalendarMonth(t *testing.T) {
	e := newStatusEnv(t)
	partner := factory.Partner(t, e.st).OrgID
	for _, tc := range []struct {
		name  string
		sales int64
		want  earnings.DeveloperStatus
	}{
		{"4,999.99 stays basic", 4_999_99, earnings.StatusBasic},
		{"5,000.00 is standard", 5_000_00, earnings.StatusStandard},
		{"24,999.99 is standard", 24_999_99, earnings.StatusStandard},
		{"25,000.00 is premium", 25_000_00, earnings.StatusPremium},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := e.seller()
			e.setFlags(s, allFlagsOn)
			e.sell(s, 1_000_00, february, &partner)
			e.sell(s, tc.sales-1_000_00, march.Add(-time.Microsecond), nil)
			// Outside February: large enough to change any outcome.
			e.sell(s, 100_000_00, february.Add(-time.Microsecond), nil)
			e.sell(s, 100_000_00, march, nil)

			got, err := e.st.DeveloperSales(e.ctx, s.OrgID, february, march, money.RUB)
			if err != nil || got != tc.sales {
				t.Fatalf("February sales %d (err %v), want %d", got, err, tc.sales)
			}
			d := e.recompute(s)
			if d.To != tc.want || e.status(s) != tc.want || d.Sales.Minor != tc.sales || !d.SalesMonth.Equal(february) {
				t.Fatalf("decision %+v, stored status %s; want %s on February's %d", d, e.status(s), tc.want, tc.sales)
			}
			h := e.history(s)
			if tc.want == earnings.StatusBasic {
				if len(h) != 0 || d.Changed {
					t.Fatalf("no change, yet history %+v / changed %v", h, d.Changed)
				}
				return
			}
			if len(h) != 1 || h[0].Status != string(tc.want) || h[0].SalesMinor != tc.sales ||
				h[0].SalesMonth == nil || !h[0].SalesMonth.Equal(february) || h[0].Reason != earnings.ReasonRecompute ||
				!h[0].DecidedAt.Equal(statusNow) {
				t.Fatalf("history %+v", h)
			}
			// Nothing changed since: a second recompute records nothing.
			if d := e.recompute(s); d.Changed || len(e.history(s)) != 1 {
				t.Fatalf("repeat recompute changed something: %+v", d)
			}
		})
	}
}

// Standard and premium need all three flags; flags alone change nothing
// until a recompute.
func TestStatusFlagsGateStandardAndPremium(t *testing.T) {
	e := newStatusEnv(t)
	s := e.seller()
	e.sell(s, 25_000_00, february.Add(5*24*time.Hour), nil)
	t0, f0 := ptrTo(true), ptrTo(false)
	for _, step := range []struct {
		name  string
		flags earnings.FlagsUpdate
		want  earnings.DeveloperStatus
	}{
		{"no flags", earnings.FlagsUpdate{}, earnings.StatusBasic},
		{"no contract", earnings.FlagsUpdate{KnowledgeTestPassed: t0, WebsiteInfo: t0}, earnings.StatusBasic},
		{"no website info", earnings.FlagsUpdate{WebsiteInfo: f0, ContractSigned: t0}, earnings.StatusBasic},
		{"no knowledge test", earnings.FlagsUpdate{KnowledgeTestPassed: f0, WebsiteInfo: t0}, earnings.StatusBasic},
		{"all three", earnings.FlagsUpdate{KnowledgeTestPassed: t0}, earnings.StatusPremium},
		{"contract withdrawn", earnings.FlagsUpdate{ContractSigned: f0}, earnings.StatusBasic},
	} {
		e.clk.Advance(time.Minute) // the history orders by decision time
		before := e.status(s)
		e.setFlags(s, step.flags)
		if got := e.status(s); got != before {
			t.Fatalf("%s: setting flags changed the status %s → %s", step.name, before, got)
		}
		if d := e.recompute(s); d.To != step.want {
			t.Fatalf("%s: %s (flags %+v), want %s", step.name, d.To, d.Flags, step.want)
		}
	}
	// basic → premium → basic: two recorded changes.
	if h := e.history(s); len(h) != 2 || h[0].Status != "basic" || h[1].Status != "premium" {
		t.Fatalf("history %+v", h)
	}
}

func TestSetFlagsOnlyAdmins(t *testing.T) {
	e := newStatusEnv(t)
	s := e.seller()
	for _, tc := range []struct {
		name string
		v    identity.Viewer
		want apperr.Kind
	}{
		{"anonymous", identity.Viewer{}, apperr.KindUnauthenticated},
		{"the developer itself", s.Viewer(), apperr.KindForbidden},
		{"a customer", e.buyer.Viewer(), apperr.KindForbidden},
	} {
		if _, err := e.svc.SetFlags(e.ctx, tc.v, s.OrgID, allFlagsOn); !apperr.Is(err, tc.want) {
			t.Errorf("%s set flags: %v, want %v", tc.name, err, tc.want.Code())
		}
	}
	var n int
	if err := e.pool.QueryRow(e.ctx, `select count(*) from developers where knowledge_test_passed or website_info or contract_signed`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d developers got flags (err %v)", n, err)
	}
	got, err := e.svc.SetFlags(e.ctx, e.admin.Viewer(), s.OrgID, earnings.FlagsUpdate{ContractSigned: ptrTo(true)})
	if err != nil || got != (earnings.StatusFlags{ContractSigned: true}) {
		t.Fatalf("admin set flags: %+v, %v", got, err)
	}
	if _, err := e.svc.SetFlags(e.ctx, e.admin.Viewer(), uuid.New(), allFlagsOn); !apperr.Is(err, apperr.KindNotFound) {
		t.Fatalf("flags of a missing developer: %v", err)
	}
}

// Refunds reduce the sales of the month they occur in, not the month of
// the payment.
func TestStatusRefundsReduceSales(t *testing.T) {
	e := newStatusEnv(t)
	refundedInFebruary, refundedInMarch := e.seller(), e.seller()
	for _, s := range []seller{refundedInFebruary, refundedInMarch} {
		e.setFlags(s, allFlagsOn)
	}
	p := e.sell(refundedInFebruary, 5_000_00, february.Add(24*time.Hour), nil)
	e.refund(refundedInFebruary, p, 1, february.Add(48*time.Hour))
	if d := e.recompute(refundedInFebruary); d.To != earnings.StatusBasic || d.Sales.Minor != 4_999_99 {
		t.Fatalf("after a 0.01 refund: %+v", d)
	}

	p = e.sell(refundedInMarch, 5_000_00, february.Add(24*time.Hour), nil)
	e.refund(refundedInMarch, p, 100_00, march.Add(24*time.Hour))
	if d := e.recompute(refundedInMarch); d.To != earnings.StatusStandard || d.Sales.Minor != 5_000_00 {
		t.Fatalf("a March refund counted in February: %+v", d)
	}
	pr, err := e.svc.Progress(e.ctx, refundedInMarch.Viewer(), refundedInMarch.OrgID)
	if err != nil || pr.CurrentMonthSales.Minor != -100_00 {
		t.Fatalf("March sales so far %v (err %v), want -100.00", pr.CurrentMonthSales, err)
	}
}

// The monthly run changes things once per month, on one instance, and a
// status follows the sales down as well as up.
func TestRunMonthlyIdempotentAndDemotes(t *testing.T) {
	e := newStatusEnv(t)
	rising, idle := e.seller(), e.seller()
	e.setFlags(rising, allFlagsOn)
	e.sell(rising, 25_000_00, february.Add(3*24*time.Hour), nil)
	e.sell(rising, 6_000_00, march.Add(14*24*time.Hour), nil)

	// Two instances at once: one does the work, the other skips or finds
	// it done; then a third call later the same month finds it done.
	var wg sync.WaitGroup
	reports := make([]earnings.MonthlyStatusReport, 3)
	errs := make([]error, 3)
	for i := range 2 {
		wg.Go(func() { reports[i], errs[i] = e.svc.RunMonthly(e.ctx) })
	}
	wg.Wait()
	e.clk.Advance(5 * 24 * time.Hour)
	reports[2], errs[2] = e.svc.RunMonthly(e.ctx)
	worked := 0
	for i, r := range reports {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if r.Evaluated > 0 {
			worked++
			if r.Evaluated != 2 || len(r.Changes) != 1 || r.Changes[0].DeveloperID != rising.OrgID ||
				r.Changes[0].To != earnings.StatusPremium || !r.Month.Equal(february) {
				t.Fatalf("monthly report %+v", r)
			}
		} else if !r.Skipped && !r.AlreadyDone {
			t.Fatalf("run %d neither worked nor skipped: %+v", i, r)
		}
	}
	if worked != 1 || !reports[2].AlreadyDone {
		t.Fatalf("%d runs did the work; reports %+v", worked, reports)
	}
	h := e.history(rising)
	if len(h) != 1 || h[0].Status != "premium" || h[0].Reason != earnings.ReasonMonthlyRecompute ||
		h[0].SalesMinor != 25_000_00 || !h[0].SalesMonth.Equal(february) {
		t.Fatalf("history after two runs: %+v", h)
	}
	// The idle developer's unchanged status is recorded once too: the
	// month's decision with its sales figure.
	if h := e.history(idle); len(h) != 1 || h[0].Status != "basic" || h[0].SalesMinor != 0 || e.status(idle) != "basic" {
		t.Fatalf("idle developer's history %+v", h)
	}

	// April: March's 6,000.00 keeps standard only.
	e.clk.Set(april.Add(time.Hour))
	r, err := e.svc.RunMonthly(e.ctx)
	if err != nil || len(r.Changes) != 1 || r.Changes[0].From != earnings.StatusPremium || r.Changes[0].To != earnings.StatusStandard {
		t.Fatalf("April run %+v, %v", r, err)
	}
	if r, err := e.svc.RunMonthly(e.ctx); err != nil || !r.AlreadyDone || len(e.history(rising)) != 2 {
		t.Fatalf("second April run %+v, %v", r, err)
	}
	// May: nothing sold in April.
	e.clk.Set(april.AddDate(0, 1, 0))
	if r, err := e.svc.RunMonthly(e.ctx); err != nil || len(r.Changes) != 1 || r.Changes[0].To != earnings.StatusBasic {
		t.Fatalf("May run %+v, %v", r, err)
	}
	if got := e.status(rising); got != earnings.StatusBasic {
		t.Fatalf("status %s after a month without sales", got)
	}
	if h := e.history(rising); len(h) != 3 || h[0].Status != "basic" || !h[0].SalesMonth.Equal(april) {
		t.Fatalf("history %+v", h)
	}
}

func TestRecomputeOnDemand(t *testing.T) {
	e := newStatusEnv(t)
	s, other := e.seller(), e.seller()
	e.setFlags(s, allFlagsOn)
	e.sell(s, 5_000_00, february.Add(24*time.Hour), nil)

	for _, tc := range []struct {
		name string
		v    identity.Viewer
		want apperr.Kind
	}{
		{"anonymous", identity.Viewer{}, apperr.KindUnauthenticated},
		{"another developer", other.Viewer(), apperr.KindForbidden},
		{"a customer", e.buyer.Viewer(), apperr.KindForbidden},
	} {
		if _, err := e.svc.RecomputeOnDemand(e.ctx, tc.v, s.OrgID); !apperr.Is(err, tc.want) {
			t.Errorf("%s recomputed: %v, want %v", tc.name, err, tc.want.Code())
		}
	}
	if e.status(s) != earnings.StatusBasic || len(e.history(s)) != 0 {
		t.Fatal("a refused recompute changed the status")
	}

	d, err := e.svc.RecomputeOnDemand(e.ctx, s.Viewer(), s.OrgID)
	if err != nil || !d.Changed || d.To != earnings.StatusStandard || e.status(s) != earnings.StatusStandard {
		t.Fatalf("developer's own recompute %+v, %v", d, err)
	}
	if h := e.history(s); len(h) != 1 || h[0].Reason != "on-demand recompute by developer" {
		t.Fatalf("history %+v", h)
	}
	d, err = e.svc.RecomputeOnDemand(e.ctx, e.admin.Viewer(), s.OrgID)
	if err != nil || d.Changed || len(e.history(s)) != 1 {
		t.Fatalf("admin's repeat recompute %+v, %v", d, err)
	}
	if _, err := e.svc.RecomputeOnDemand(e.ctx, e.admin.Viewer(), uuid.New()); !apperr.Is(err, apperr.KindNotFound) {
		t.Fatalf("recompute of a missing developer: %v", err)
	}
}

func TestStatusProgress(t *testing.T) {
	e := newStatusEnv(t)
	s, other := e.seller(), e.seller()
	e.setFlags(s, earnings.FlagsUpdate{KnowledgeTestPassed: ptrTo(true)})
	e.sell(s, 3_200_00, february.Add(24*time.Hour), nil)
	e.sell(s, 1_000_00, march.Add(24*time.Hour), nil)

	for _, tc := range []struct {
		name string
		v    identity.Viewer
		want apperr.Kind
	}{
		{"anonymous", identity.Viewer{}, apperr.KindUnauthenticated},
		{"another developer", other.Viewer(), apperr.KindForbidden},
		{"a customer", e.buyer.Viewer(), apperr.KindForbidden},
	} {
		if _, err := e.svc.Progress(e.ctx, tc.v, s.OrgID); !apperr.Is(err, tc.want) {
			t.Errorf("%s read the progress: %v, want %v", tc.name, err, tc.want.Code())
		}
	}

	codes := func(rs []earnings.Requirement) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Code)
		}
		return out
	}
	for _, v := range []identity.Viewer{s.Viewer(), e.admin.Viewer()} {
		p, err := e.svc.Progress(e.ctx, v, s.OrgID)
		if err != nil {
			t.Fatal(err)
		}
		if p.Status != earnings.StatusBasic || p.Next == nil || *p.Next != earnings.StatusStandard ||
			p.Threshold == nil || *p.Threshold != money.New(5_000_00, money.RUB) ||
			p.LastMonthSales.Minor != 3_200_00 || p.CurrentMonthSales.Minor != 1_000_00 ||
			!p.LastMonth.Equal(february) || !p.CurrentMonth.Equal(march) || p.Eligible != earnings.StatusBasic {
			t.Fatalf("progress %+v", p)
		}
		if got := codes(p.Missing); !slices.Equal(got, []string{"sales", "website_info", "contract"}) {
			t.Fatalf("missing %v", got)
		}
		if p.Missing[0].Text != "sales 3,200.00 of 5,000.00 RUB" {
			t.Fatalf("sales requirement %q", p.Missing[0].Text)
		}
	}

	// Standard, on the way to premium.
	e.setFlags(s, allFlagsOn)
	e.sell(s, 1_800_00, february.Add(2*24*time.Hour), nil)
	e.recompute(s)
	p, err := e.svc.Progress(e.ctx, s.Viewer(), s.OrgID)
	if err != nil || p.Status != earnings.StatusStandard || *p.Next != earnings.StatusPremium ||
		len(p.Missing) != 1 || p.Missing[0].Text != "sales 5,000.00 of 25,000.00 RUB" {
		t.Fatalf("standard progress %+v, %v", p, err)
	}

	// Premium: nothing further.
	e.sell(s, 20_000_00, february.Add(3*24*time.Hour), nil)
	e.recompute(s)
	p, err = e.svc.Progress(e.ctx, s.Viewer(), s.OrgID)
	if err != nil || p.Status != earnings.StatusPremium || p.Next != nil || p.Threshold != nil || len(p.Missing) != 0 {
		t.Fatalf("premium progress %+v, %v", p, err)
	}

	if _, err := e.svc.Progress(e.ctx, e.admin.Viewer(), uuid.New()); !apperr.Is(err, apperr.KindNotFound) {
		t.Fatalf("progress of a missing developer: %v", err)
	}
}
