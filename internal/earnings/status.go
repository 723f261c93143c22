package earnings

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/audit"
	"configmarket/internal/clock"
	"configmarket/internal/identity"
	"configmarket/internal/money"
	"configmarket/internal/relay"
	"configmarket/internal/settings"
	"configmarket/internal/store"
)

// DeveloperStatus is a developer's status (SPEC §6); it sets the
// developer's share of later payments (SPEC §5).
type DeveloperStatus string

const (
	StatusBasic    DeveloperStatus = "basic"
	StatusStandard DeveloperStatus = "standard"
	StatusPremium  DeveloperStatus = "premium"
)

// Monthly sales, in kopecks of StatusSalesCurrency, that standard and
// premium need in the last calendar month (SPEC §6): the defaults of the
// settings status.standard_sales and status.premium_sales, which decide.
const (
	StandardSalesMinor int64 = 5_000_00
	PremiumSalesMinor  int64 = 25_000_00
)

// StatusSalesCurrency is the currency of the thresholds; sales in other
// currencies are not converted and do not count.
const StatusSalesCurrency = money.RUB

// Reasons recorded in the status history.
const (
	ReasonMonthlyRecompute = "monthly recompute"
	// ReasonOnDemandRecompute is followed by " by developer" or " by admin":
	// the history has no actor column, so the reason says who asked.
	ReasonOnDemandRecompute = "on-demand recompute"
	ReasonRecompute         = "recompute"
)

// Requirement codes, in the order Missing lists them.
const (
	RequirementSales         = "sales"
	RequirementKnowledgeTest = "knowledge_test"
	RequirementWebsiteInfo   = "website_info"
	RequirementContract      = "contract"
)

// StatusFlags are the facts the admin attests (SPEC §6).
type StatusFlags struct {
	KnowledgeTestPassed bool
	// WebsiteInfo: the developer's website informs about the platform.
	WebsiteInfo    bool
	ContractSigned bool
}

// FlagsUpdate sets some flags; a nil field is left as it is.
type FlagsUpdate struct {
	KnowledgeTestPassed *bool
	WebsiteInfo         *bool
	ContractSigned      *bool
}

// Requirement is one condition of a status that is not met.
type Requirement struct {
	Code string
	// Text is a short human description, e.g. "sales 3,200.00 of 5,000.00 RUB".
	Text string
}

// nextStatus is the status above s; false at premium.
func nextStatus(s DeveloperStatus) (DeveloperStatus, bool) {
	switch s {
	case StatusBasic:
		return StatusStandard, true
	case StatusStandard:
		return StatusPremium, true
	}
	return "", false
}

// Thresholds are the monthly sales, in kopecks of StatusSalesCurrency,
// that standard and premium need.
type Thresholds struct {
	Standard, Premium int64
}

// DefaultThresholds are SPEC §6's.
var DefaultThresholds = Thresholds{Standard: StandardSalesMinor, Premium: PremiumSalesMinor}

func thresholdsOf(set settings.Snapshot) Thresholds {
	return Thresholds{Standard: set.Money(settings.StandardSales).Minor, Premium: set.Money(settings.PremiumSales).Minor}
}

// salesThreshold is the monthly sales target needs; zero for basic.
func (th Thresholds) salesThreshold(target DeveloperStatus) money.Money {
	switch target {
	case StatusStandard:
		return money.New(th.Standard, StatusSalesCurrency)
	case StatusPremium:
		return money.New(th.Premium, StatusSalesCurrency)
	}
	return money.New(0, StatusSalesCurrency)
}

// missingFor lists what target needs that the sales of the last calendar
// month and the flags do not give: premium is standard's requirements with
// the higher sales target. Basic needs nothing.
func (th Thresholds) missingFor(target DeveloperStatus, sales money.Money, f StatusFlags) []Requirement {
	if target == StatusBasic {
		return nil
	}
	var out []Requirement
	if need := th.salesThreshold(target); sales.Minor < need.Minor {
		out = append(out, Requirement{RequirementSales, fmt.Sprintf("sales %s of %s %s",
			groupedAmount(sales), groupedAmount(need), need.Currency)})
	}
	if !f.KnowledgeTestPassed {
		out = append(out, Requirement{RequirementKnowledgeTest, "knowledge test"})
	}
	if !f.WebsiteInfo {
		out = append(out, Requirement{RequirementWebsiteInfo, "information about the platform on the website"})
	}
	if !f.ContractSigned {
		out = append(out, Requirement{RequirementContract, "signed contract"})
	}
	return out
}

// EligibleStatus is the highest status the sales of the last calendar
// month (in StatusSalesCurrency) and the flags qualify for (SPEC §6), at
// the default thresholds.
func EligibleStatus(sales money.Money, f StatusFlags) DeveloperStatus {
	return DefaultThresholds.Eligible(sales, f)
}

// Eligible is EligibleStatus at th.
func (th Thresholds) Eligible(sales money.Money, f StatusFlags) DeveloperStatus {
	for _, s := range []DeveloperStatus{StatusPremium, StatusStandard} {
		if len(th.missingFor(s, sales, f)) == 0 {
			return s
		}
	}
	return StatusBasic
}

// groupedAmount formats m with thousands separators: "25,000.00".
func groupedAmount(m money.Money) string {
	s := m.Amount()
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, dot := strings.Cut(s, ".")
	var b strings.Builder
	b.WriteString(sign)
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if dot {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}

// statusMonths are the first instants (UTC) of the last, the current and
// the next calendar month at now.
func statusMonths(now time.Time) (last, current, next time.Time) {
	now = now.UTC()
	current = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	return current.AddDate(0, -1, 0), current, current.AddDate(0, 1, 0)
}

func standingFlags(d store.DeveloperStanding) StatusFlags {
	return StatusFlags{KnowledgeTestPassed: d.KnowledgeTestPassed, WebsiteInfo: d.WebsiteInfo, ContractSigned: d.ContractSigned}
}

// Statuses decides developers' statuses from the ledger and the admin's
// flags, monthly and on demand, and shows developers their progress.
type Statuses struct {
	store    *store.Store
	clock    clock.Clock
	settings settings.Source
}

// NewStatuses builds the service; clk is the business clock that says
// which month is "last". It runs on SPEC's thresholds until UseSettings.
func NewStatuses(st *store.Store, clk clock.Clock) *Statuses {
	return &Statuses{store: st, clock: clk, settings: settings.Fixed(settings.Defaults())}
}

// UseSettings makes the thresholds come from src, read at each decision.
func (s *Statuses) UseSettings(src settings.Source) { s.settings = src }

func (s *Statuses) thresholds(ctx context.Context) (Thresholds, error) {
	set, err := s.settings.Snapshot(ctx)
	if err != nil {
		return Thresholds{}, err
	}
	return thresholdsOf(set), nil
}

// StatusDecision is the outcome of one recompute for one developer.
type StatusDecision struct {
	DeveloperID uuid.UUID
	From, To    DeveloperStatus
	// Changed is From != To; only a change updates the developer (and,
	// outside the monthly run, only a change is recorded in the history).
	Changed bool
	// SalesMonth is the first day of the month the decision is based on.
	SalesMonth time.Time
	Sales      money.Money
	Flags      StatusFlags
	Reason     string
}

func decide(th Thresholds, d store.DeveloperStanding, salesMinor int64, month time.Time, reason string) StatusDecision {
	sales := money.New(salesMinor, StatusSalesCurrency)
	flags := standingFlags(d)
	to := th.Eligible(sales, flags)
	from := DeveloperStatus(d.Status)
	return StatusDecision{
		DeveloperID: d.ID, From: from, To: to, Changed: from != to,
		SalesMonth: month, Sales: sales, Flags: flags, Reason: reason,
	}
}

func (d StatusDecision) historyRow(at time.Time) store.StatusHistoryEntry {
	month := d.SalesMonth
	return store.StatusHistoryEntry{
		DeveloperID: d.DeveloperID, Status: string(d.To), SalesMinor: d.Sales.Minor,
		SalesMonth: &month, Reason: d.Reason, DecidedAt: at,
	}
}

// Recompute decides the developer's status from the sales of the last
// calendar month (by the clock) and the flags and, if it differs from the
// current one, sets it and records the change with its sales figure. The
// new status applies to payments recorded from then on; past entries keep
// the rates they were written with. It checks no viewer: it is for trusted
// callers (jobs, code that has authorized already); the API uses
// RecomputeOnDemand.
func (s *Statuses) Recompute(ctx context.Context, developerID uuid.UUID) (StatusDecision, error) {
	return s.recompute(ctx, developerID, ReasonRecompute, true)
}

// RecomputeOnDemand is Recompute asked for by the developer itself or an
// admin (SPEC §6: "recomputed ... on demand").
func (s *Statuses) RecomputeOnDemand(ctx context.Context, v identity.Viewer, developerID uuid.UUID) (StatusDecision, error) {
	audit.SetTarget(ctx, relay.UUIDID(relay.TypeDeveloper, developerID))
	if v.Anonymous() {
		return StatusDecision{}, apperr.Unauthenticated("log in first")
	}
	// SECURITY: the developer itself and admins may ask for a recompute;
	// it only applies the rules to the ledger and the admin's flags, so
	// asking can never raise a status beyond what was earned. Nobody else
	// may touch another developer's status.
	if !v.IsAdmin() && !v.IsDeveloper(developerID) {
		return StatusDecision{}, apperr.Forbidden("only the developer itself or an admin may recompute its status")
	}
	return s.recompute(ctx, developerID, ReasonOnDemandRecompute+" by "+string(v.Role), false)
}

// ActionChangeStatus is the audit action of a status change the platform
// makes on its own (the monthly run, a trusted Recompute); one row per
// developer whose status changed, the developer as its target.
const ActionChangeStatus = "changeDeveloperStatus"

// recompute decides and applies one developer's status; byPlatform says
// that no one asked for it in a mutation (whose own audit row covers it),
// so a change gets a system audit row of its own.
func (s *Statuses) recompute(ctx context.Context, developerID uuid.UUID, reason string, byPlatform bool) (StatusDecision, error) {
	// Gross sales span every party's ledger rows: a platform aggregate.
	ctx = identity.AsSystem(ctx)
	th, err := s.thresholds(ctx)
	if err != nil {
		return StatusDecision{}, err
	}
	now := s.clock.Now()
	from, to, _ := statusMonths(now)
	var d StatusDecision
	err = s.store.InTx(ctx, func(q *store.Queries) error {
		// The row lock orders this decision with the monthly run, other
		// recomputes and flag changes of the same developer.
		dev, err := q.LockDeveloperStanding(ctx, developerID)
		if apperr.Is(err, apperr.KindNotFound) {
			return apperr.NotFound("developer not found")
		}
		if err != nil {
			return err
		}
		sales, err := q.DeveloperSales(ctx, developerID, from, to, StatusSalesCurrency)
		if err != nil {
			return err
		}
		d = decide(th, dev, sales, from, reason)
		if !d.Changed {
			return nil
		}
		if err := q.SetDeveloperStatuses(ctx, []store.StatusChange{{DeveloperID: d.DeveloperID, Status: string(d.To)}}); err != nil {
			return err
		}
		if byPlatform {
			if err := q.InsertSystemAudits(ctx, ActionChangeStatus, []string{relay.UUIDID(relay.TypeDeveloper, d.DeveloperID)}); err != nil {
				return err
			}
		}
		return q.InsertStatusHistory(ctx, []store.StatusHistoryEntry{d.historyRow(now)})
	}, store.Audit(audit.From(ctx)))
	if err != nil {
		return StatusDecision{}, fmt.Errorf("recompute developer status: %w", err)
	}
	return d, nil
}

// MonthlyStatusReport says what one RunMonthly call did.
type MonthlyStatusReport struct {
	// Month is the first day of the month whose sales were used.
	Month time.Time
	// Skipped: another instance was running it at that moment.
	Skipped bool
	// AlreadyDone: the recompute for Month had already run.
	AlreadyDone bool
	Evaluated   int
	// Changes are the decisions that changed a status.
	Changes []StatusDecision
}

// RunMonthly is the monthly recompute of every developer (SPEC §6), for the
// job runner: call it as often as you like (every tick); it does the work
// once per calendar month, for the sales of the month before.
//
// Idempotence: the run is one transaction under an advisory lock (a second
// instance skips) and records a "monthly recompute" history row for every
// developer it evaluated, changed or not, with the month and sales figure.
// That row is the month's marker: once any exists for the month the run
// does nothing, even when it changed no status. A developer registered
// later in the month is first evaluated by the next month's run (or on
// demand).
func (s *Statuses) RunMonthly(ctx context.Context) (MonthlyStatusReport, error) {
	ctx = identity.AsSystem(ctx)
	th, err := s.thresholds(ctx)
	if err != nil {
		return MonthlyStatusReport{}, err
	}
	now := s.clock.Now()
	from, to, _ := statusMonths(now)
	var r MonthlyStatusReport
	err = s.store.InTx(ctx, func(q *store.Queries) error {
		r = MonthlyStatusReport{Month: from}
		locked, err := q.TryStatusRecomputeLock(ctx)
		if err != nil || !locked {
			r.Skipped = !locked
			return err
		}
		// Read after taking the lock: a run that held it before has
		// committed its rows, and read committed sees them.
		done, err := q.StatusHistoryRecorded(ctx, ReasonMonthlyRecompute, from)
		if err != nil || done {
			r.AlreadyDone = done
			return err
		}
		devs, err := q.LockAllDeveloperStandings(ctx)
		if err != nil {
			return err
		}
		sales, err := q.SalesByDeveloper(ctx, from, to, StatusSalesCurrency)
		if err != nil {
			return err
		}
		var changes []store.StatusChange
		var changed []string
		history := make([]store.StatusHistoryEntry, 0, len(devs))
		for _, dev := range devs {
			d := decide(th, dev, sales[dev.ID], from, ReasonMonthlyRecompute)
			if d.Changed {
				changes = append(changes, store.StatusChange{DeveloperID: d.DeveloperID, Status: string(d.To)})
				changed = append(changed, relay.UUIDID(relay.TypeDeveloper, d.DeveloperID))
				r.Changes = append(r.Changes, d)
			}
			history = append(history, d.historyRow(now))
		}
		r.Evaluated = len(devs)
		if err := q.SetDeveloperStatuses(ctx, changes); err != nil {
			return err
		}
		// Each change is the platform's own action: one audit row per
		// developer whose status changed, in the same transaction.
		if err := q.InsertSystemAudits(ctx, ActionChangeStatus, changed); err != nil {
			return err
		}
		return q.InsertStatusHistory(ctx, history)
	})
	if err != nil {
		return MonthlyStatusReport{}, fmt.Errorf("monthly status recompute: %w", err)
	}
	if r.Evaluated > 0 {
		slog.InfoContext(ctx, "monthly developer status recompute", "month", r.Month.Format("2006-01"),
			"evaluated", r.Evaluated, "changed", len(r.Changes))
	}
	return r, nil
}

// SetFlags sets the admin-attested flags of a developer and returns them.
//
// Flags alone never change the status: statuses change only at a recompute
// (monthly, or on demand by the developer or an admin), the points where
// the decision is recorded with the sales figure it was based on, so the
// history explains every change and a payment's rate never depends on the
// order of an admin's clicks. An admin who wants a flag to take effect now
// follows it with RecomputeOnDemand.
func (s *Statuses) SetFlags(ctx context.Context, v identity.Viewer, developerID uuid.UUID, f FlagsUpdate) (StatusFlags, error) {
	audit.SetTarget(ctx, relay.UUIDID(relay.TypeDeveloper, developerID))
	if v.Anonymous() {
		return StatusFlags{}, apperr.Unauthenticated("log in first")
	}
	// SECURITY: only admins set the flags: they attest facts the platform
	// checks (test passed, website, signed contract); a developer setting
	// them would grant itself a higher share.
	if !v.IsAdmin() {
		return StatusFlags{}, apperr.Forbidden("only admins set developer status flags")
	}
	dev, err := s.store.SetDeveloperFlags(ctx, developerID, store.DeveloperStandingFlags{
		KnowledgeTestPassed: f.KnowledgeTestPassed, WebsiteInfo: f.WebsiteInfo, ContractSigned: f.ContractSigned,
	})
	if apperr.Is(err, apperr.KindNotFound) {
		return StatusFlags{}, apperr.NotFound("developer not found")
	}
	if err != nil {
		return StatusFlags{}, fmt.Errorf("set developer flags: %w", err)
	}
	return standingFlags(dev), nil
}

// StatusProgress is a developer's way towards its next status.
type StatusProgress struct {
	DeveloperID uuid.UUID
	Status      DeveloperStatus
	// Eligible is what a recompute now would set.
	Eligible DeveloperStatus
	// Next is the status above Status; nil at premium.
	Next  *DeveloperStatus
	Flags StatusFlags
	// LastMonth and CurrentMonth are first days; the current month's sales
	// are so far and count only from the next month's recompute on.
	LastMonth         time.Time
	LastMonthSales    money.Money
	CurrentMonth      time.Time
	CurrentMonthSales money.Money
	// Threshold is the monthly sales Next needs; nil at premium.
	Threshold *money.Money
	// Missing is what Next still needs, judged on the last month's sales;
	// empty means a recompute would grant it.
	Missing []Requirement
}

// Progress shows a developer its status and what the next one needs.
func (s *Statuses) Progress(ctx context.Context, v identity.Viewer, developerID uuid.UUID) (StatusProgress, error) {
	// SECURITY: a developer's sales and flags are its own business and
	// the platform's: the developer itself and admins only (MayReadParty).
	if !MayReadParty(v, store.PartyDeveloper, developerID) {
		return StatusProgress{}, apperr.Hidden(v, "only the developer itself or an admin may see its status progress")
	}
	// Sales are gross: they include the partner's and platform's shares,
	// which row-level security hides from the developer. The check above
	// allowed the aggregate, so it is read as the platform.
	ctx = identity.AsSystem(ctx)
	th, err := s.thresholds(ctx)
	if err != nil {
		return StatusProgress{}, err
	}
	devs, err := s.store.DevelopersByIDs(ctx, []uuid.UUID{developerID})
	if err != nil {
		return StatusProgress{}, fmt.Errorf("status progress: %w", err)
	}
	if len(devs) == 0 {
		return StatusProgress{}, apperr.NotFound("developer not found")
	}
	dev := devs[0]
	last, current, next := statusMonths(s.clock.Now())
	lastSales, err := s.store.DeveloperSales(ctx, developerID, last, current, StatusSalesCurrency)
	if err != nil {
		return StatusProgress{}, fmt.Errorf("status progress: %w", err)
	}
	currentSales, err := s.store.DeveloperSales(ctx, developerID, current, next, StatusSalesCurrency)
	if err != nil {
		return StatusProgress{}, fmt.Errorf("status progress: %w", err)
	}
	p := StatusProgress{
		DeveloperID: dev.ID,
		Status:      DeveloperStatus(dev.Status),
		Flags: StatusFlags{
			KnowledgeTestPassed: dev.KnowledgeTestPassed, WebsiteInfo: dev.WebsiteInfo, ContractSigned: dev.ContractSigned,
		},
		LastMonth:         last,
		LastMonthSales:    money.New(lastSales, StatusSalesCurrency),
		CurrentMonth:      current,
		CurrentMonthSales: money.New(currentSales, StatusSalesCurrency),
	}
	p.Eligible = th.Eligible(p.LastMonthSales, p.Flags)
	if n, ok := nextStatus(p.Status); ok {
		threshold := th.salesThreshold(n)
		p.Next, p.Threshold = &n, &threshold
		p.Missing = th.missingFor(n, p.LastMonthSales, p.Flags)
	}
	return p, nil
}
