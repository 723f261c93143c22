// Package commerce is how customers acquire configurations and pay for
// them (SPEC §4, §5 intake): trials, rentals, purchases, invoices, payments,
// refunds, license checks, the billing cycle and automatic updates.
// Prices always come from the catalog's price history inside the
// transaction, never from the client.
package commerce

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/cache"
	"configmarket/internal/catalog"
	"configmarket/internal/clock"
	"configmarket/internal/identity"
	"configmarket/internal/settings"
	"configmarket/internal/store"
)

// Rules are the numbers of SPEC §4; tests use these defaults. Once the
// service UseSettings, every rule but UpdateBatch is read from the settings
// each time it is applied.
type Rules struct {
	// TrialRetention is how long an expired trial's data is kept.
	TrialRetention time.Duration
	// PastDueAfter and CancelAfter count from a period's start (a
	// purchase's issue) while its invoice stays unpaid.
	PastDueAfter time.Duration
	CancelAfter  time.Duration
	// PaymentWindow is how long a new rental or purchase waits for its
	// first payment before its invoice is void and it expires.
	PaymentWindow time.Duration
	// UpdateBatch is how many installations one update transaction moves.
	UpdateBatch int
}

// DefaultRules are SPEC §4's: data kept 30 days, past due after 7 days
// unpaid, canceled after 14, a first payment awaited 48 hours.
var DefaultRules = Rules{
	TrialRetention: 30 * 24 * time.Hour,
	PastDueAfter:   7 * 24 * time.Hour,
	CancelAfter:    14 * 24 * time.Hour,
	PaymentWindow:  48 * time.Hour,
	UpdateBatch:    500,
}

// Service is the commerce domain.
type Service struct {
	store   *store.Store
	catalog *catalog.Service
	clock   clock.Clock
	rules   Rules
	// public is bumped when installations change a configuration's
	// popularity, which the cached storefront shows.
	public *cache.Generation
	// licenseLimit, when set, rate-limits license checks.
	licenseLimit LicenseLimiter
	// settings, when set, overrides rules (UseSettings).
	settings settings.Source
}

// UseSettings makes the dunning days, the payment window and the trial
// retention come from src, read each time a rule is applied.
func (s *Service) UseSettings(src settings.Source) { s.settings = src }

// rulesNow are the rules in force (settings.Overlay).
func (s *Service) rulesNow(ctx context.Context) (Rules, error) {
	return settings.Overlay(ctx, s.settings, s.rules, func(set settings.Snapshot, r Rules) Rules {
		r.TrialRetention = set.Duration(settings.TrialRetention)
		r.PastDueAfter = set.Duration(settings.RentalPastDue)
		r.CancelAfter = set.Duration(settings.RentalCancel)
		r.PaymentWindow = set.Duration(settings.PaymentWindow)
		return r
	})
}

// LimitLicenseChecks rate-limits CheckLicense with limit.
func (s *Service) LimitLicenseChecks(limit LicenseLimiter) { s.licenseLimit = limit }

// New builds the service.
func New(st *store.Store, cat *catalog.Service, clk clock.Clock, rules Rules, public *cache.Generation) *Service {
	return &Service{store: st, catalog: cat, clock: clk, rules: rules, public: public}
}

// Now is the service's business time.
func (s *Service) Now() time.Time { return s.clock.Now() }

func requireCustomer(v identity.Viewer) error {
	if v.Anonymous() {
		return apperr.Unauthenticated("log in first")
	}
	// SECURITY: only a customer acquires configurations, for the CRM
	// account it acts for (SPEC §1).
	if v.Role != identity.RoleCustomer {
		return apperr.Forbidden("only customers install configurations")
	}
	return nil
}

func requireAdmin(v identity.Viewer) error {
	if v.Anonymous() {
		return apperr.Unauthenticated("log in first")
	}
	// SECURITY: recording payments and refunds is the platform's job.
	if !v.IsAdmin() {
		return apperr.Forbidden("only admins record payments")
	}
	return nil
}

// installable returns the configuration v may newly install: one it can see
// (private ones only when invited) that is on the storefront.
func (s *Service) installable(ctx context.Context, q *store.Queries, v identity.Viewer, configurationID uuid.UUID) (store.Configuration, error) {
	// Read in this transaction: a second pool connection per request
	// would deadlock a full pool.
	cs, err := catalog.VisibleIn(ctx, q, v, []uuid.UUID{configurationID})
	if err != nil {
		return store.Configuration{}, err
	}
	if len(cs) == 0 {
		return store.Configuration{}, apperr.NotFound("no such configuration").WithField("input", "configurationId")
	}
	// Lock it so a concurrent suspension or price change orders before or after us.
	c, err := q.LockConfiguration(ctx, configurationID)
	if err != nil {
		return store.Configuration{}, err
	}
	if c.State != store.ConfigurationPublished {
		return store.Configuration{}, apperr.FailedPrecondition("the configuration is %s and cannot be installed", c.State).WithCode("NOT_INSTALLABLE")
	}
	return c, nil
}

// currentVersion is the newest approved version, the one new installations get.
func currentVersion(ctx context.Context, q *store.Queries, configurationID uuid.UUID) (store.Version, error) {
	vs, err := q.NewestVersions(ctx, []uuid.UUID{configurationID}, []store.VersionState{store.VersionApproved}, 1)
	if err != nil {
		return store.Version{}, err
	}
	if len(vs) == 0 {
		return store.Version{}, apperr.FailedPrecondition("the configuration has no approved version").WithCode("NOT_INSTALLABLE")
	}
	return vs[0], nil
}

// live reports whether an installation is in use (a new acquisition of the
// same configuration must then go through its own mutation).
func live(i store.Installation) bool {
	return i.State == store.InstallationTrialing || i.State == store.InstallationActive || i.State == store.InstallationPastDue
}

func newLicenseKey() string {
	b := make([]byte, 10)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return "CM-" + strings.ToUpper(hex.EncodeToString(b))
}

func ptrTime(t time.Time) *time.Time { return &t }
