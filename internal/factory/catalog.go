package factory

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"configmarket/internal/money"
	"configmarket/internal/store"
)

// ConfigurationOptions adjust a factory configuration; zero values take
// the defaults: public, published, rent only, versions 1.0.0, rent
// 500.00 RUB on every plan.
type ConfigurationOptions struct {
	Title      string
	Visibility store.Visibility
	// State is the configuration state; a draft leaves its one version a draft.
	State     store.ConfigurationState
	Versions  []store.VersionKey
	RentMinor int64
	// SaleMinor > 0 also sells it for that price.
	SaleMinor int64
	Tags      []string
	TrialDays *int
}

// Configuration creates a configuration of developerID through the store.
func Configuration(t testing.TB, st *store.Store, developerID uuid.UUID, o ConfigurationOptions) store.Configuration {
	t.Helper()
	ctx := context.Background()
	n := next()
	if o.Title == "" {
		o.Title = fmt.Sprintf("Configuration %d", n)
	}
	if o.Visibility == "" {
		o.Visibility = store.VisibilityPublic
	}
	if o.State == "" {
		o.State = store.ConfigurationPublished
	}
	if len(o.Versions) == 0 {
		o.Versions = []store.VersionKey{{Major: 1}}
	}
	if o.RentMinor == 0 {
		o.RentMinor = 50000
	}
	trial := 14
	if o.TrialDays != nil {
		trial = *o.TrialDays
	}
	if o.Tags == nil {
		o.Tags = []string{}
	}
	c, err := st.CreateConfiguration(ctx, developerID, store.ConfigurationFields{
		Slug: fmt.Sprintf("conf-%d-%s", n, uuid.NewString()[:6]), Title: o.Title, Summary: "Summary of " + o.Title,
		Description: "About " + o.Title, Tags: o.Tags, Screenshots: []string{}, Visibility: o.Visibility,
		SellsRent: true, SellsPurchase: o.SaleMinor > 0, SupportMode: store.SupportDeveloper, TrialDays: trial,
	})
	if err != nil {
		t.Fatalf("factory configuration: %v", err)
	}
	for _, k := range o.Versions {
		v, err := st.CreateVersion(ctx, c.ID, k, fmt.Sprintf("Release %d.%d.%d", k.Major, k.Minor, k.Patch))
		if err != nil {
			t.Fatal(err)
		}
		if o.State != store.ConfigurationDraft {
			if _, err := st.DecideVersion(ctx, v.ID, store.VersionApproved, nil, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	plans, err := st.TariffPlans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range plans {
		if err := st.InsertPrice(ctx, store.Price{ConfigurationID: c.ID, Kind: store.PriceRent, TariffPlanID: &p.ID, Amount: money.New(o.RentMinor, money.RUB)}); err != nil {
			t.Fatal(err)
		}
	}
	if o.SaleMinor > 0 {
		if err := st.InsertPrice(ctx, store.Price{ConfigurationID: c.ID, Kind: store.PriceSale, Amount: money.New(o.SaleMinor, money.RUB)}); err != nil {
			t.Fatal(err)
		}
	}
	if o.State != store.ConfigurationDraft {
		if c, err = st.SetConfigurationState(ctx, c.ID, o.State, nil); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// Installation gives a customer a trialing installation of a configuration
// on its newest approved version, so it may review it.
func Installation(t testing.TB, st *store.Store, customerID uuid.UUID, c store.Configuration) {
	t.Helper()
	ctx := context.Background()
	trialEnds := time.Now().Add(14 * 24 * time.Hour)
	vs, err := st.NewestVersions(ctx, []uuid.UUID{c.ID}, []store.VersionState{store.VersionApproved}, 1)
	if err != nil || len(vs) == 0 {
		t.Fatalf("installation needs an approved version: %v", err)
	}
	if _, err := st.CreateInstallation(ctx, store.NewInstallation{
		CustomerID: customerID, ConfigurationID: c.ID, Mode: store.ModeTrial, State: store.InstallationTrialing,
		VersionID: vs[0].ID, LicenseKey: "CM-TEST-" + uuid.NewString(), TrialEndsAt: &trialEnds,
	}); err != nil {
		t.Fatal(err)
	}
}
