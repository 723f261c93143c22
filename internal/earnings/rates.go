package earnings

import (
	"context"
	"slices"

	"configmarket/internal/apperr"
	"configmarket/internal/audit"
	"configmarket/internal/clock"
	"configmarket/internal/identity"
	"configmarket/internal/money"
	"configmarket/internal/relay"
	"configmarket/internal/store"
)

// Rates keeps the two rate tables of SPEC §5 as data with history: a
// change applies to payments from then on; entries already written keep
// the rate they were computed with.
type Rates struct {
	store *store.Store
	clock clock.Clock
}

// NewRates builds the service.
func NewRates(st *store.Store, clk clock.Clock) *Rates { return &Rates{store: st, clock: clk} }

var (
	developerStatuses = []DeveloperStatus{StatusBasic, StatusStandard, StatusPremium}
	supportModes      = []store.SupportMode{store.SupportDeveloper, store.SupportPlatform}
	paidFors          = []store.PaidFor{store.PaidForRent, store.PaidForPurchase, store.PaidForPlan, store.PaidForServices}
)

// RateTables are the tables in force now.
type RateTables struct {
	Developer []store.RateRow
	Partner   []store.RateRow
}

// Current returns the rate tables in force; every logged-in party may read
// the terms it is paid by.
func (r *Rates) Current(ctx context.Context, v identity.Viewer) (RateTables, error) {
	// SECURITY: the rates are the platform's published terms (SPEC §5);
	// anonymous visitors are not party to them.
	if v.Anonymous() {
		return RateTables{}, apperr.Hidden(v, "")
	}
	now := r.clock.Now()
	dev, err := r.store.CurrentDeveloperRates(ctx, now)
	if err != nil {
		return RateTables{}, err
	}
	par, err := r.store.CurrentPartnerRates(ctx, now)
	return RateTables{Developer: dev, Partner: par}, err
}

// History returns every rate ever set, newest first (admins).
func (r *Rates) History(ctx context.Context, v identity.Viewer) (RateTables, error) {
	// SECURITY: past rates and who set them are the platform staff's
	// records; the parties read the rates in force (Current).
	if !v.IsAdmin() {
		return RateTables{}, apperr.Hidden(v, "only admins do this")
	}
	dev, par, err := r.store.RateHistory(ctx)
	return RateTables{Developer: dev, Partner: par}, err
}

// SetDeveloperRate sets the developer share for a status and support mode
// from now on.
func (r *Rates) SetDeveloperRate(ctx context.Context, v identity.Viewer, status DeveloperStatus, supportMode store.SupportMode, rate money.Rate) error {
	if err := ratesAdmin(v); err != nil {
		return err
	}
	var errs apperr.List
	if !slices.Contains(developerStatuses, status) {
		errs = append(errs, apperr.Invalid("input.status", "status must be basic, standard or premium"))
	}
	if !slices.Contains(supportModes, supportMode) {
		errs = append(errs, apperr.Invalid("input.supportMode", "support mode must be developer or platform"))
	}
	if rate < 0 || rate > money.Percent(100) {
		errs = append(errs, apperr.Invalid("input.rate", "a rate is 0 to 100 %%").WithCode("RATE_INVALID"))
	}
	if err := errs.Err(); err != nil {
		return err
	}
	// A rate is no object of its own: the target names the cell of the
	// table that changed.
	audit.SetTarget(ctx, relay.ID(relay.TypeDeveloperRate, string(status)+":"+string(supportMode)))
	return r.store.InsertDeveloperRate(ctx, store.RateRow{Status: string(status), Kind: string(supportMode), Rate: int64(rate), ValidFrom: ptr(r.clock.Now()), CreatedBy: &v.UserID})
}

// SetPartnerRate sets the partner commission for a status and what is
// paid for from now on.
func (r *Rates) SetPartnerRate(ctx context.Context, v identity.Viewer, status PartnerStatus, paidFor store.PaidFor, rate money.Rate) error {
	if err := ratesAdmin(v); err != nil {
		return err
	}
	var errs apperr.List
	if !status.Valid() {
		errs = append(errs, apperr.Invalid("input.status", "status must be agent, dealer or integrator"))
	}
	if !slices.Contains(paidFors, paidFor) {
		errs = append(errs, apperr.Invalid("input.paidFor", "paidFor must be rent, purchase, plan or services"))
	}
	if rate < 0 || rate > money.Percent(100) {
		errs = append(errs, apperr.Invalid("input.rate", "a rate is 0 to 100 %%").WithCode("RATE_INVALID"))
	}
	if err := errs.Err(); err != nil {
		return err
	}
	audit.SetTarget(ctx, relay.ID(relay.TypePartnerRate, string(status)+":"+string(paidFor)))
	return r.store.InsertPartnerRate(ctx, store.RateRow{Status: string(status), Kind: string(paidFor), Rate: int64(rate), ValidFrom: ptr(r.clock.Now()), CreatedBy: &v.UserID})
}

func ratesAdmin(v identity.Viewer) error {
	if v.Anonymous() {
		return apperr.Unauthenticated("log in first")
	}
	// SECURITY: rates, statuses and payouts are decided by platform staff.
	if !v.IsAdmin() {
		return apperr.Forbidden("only admins do this")
	}
	return nil
}
