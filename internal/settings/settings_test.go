package settings_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"configmarket/internal/apperr"
	"configmarket/internal/clock"
	"configmarket/internal/commerce"
	"configmarket/internal/dbtest"
	"configmarket/internal/earnings"
	"configmarket/internal/factory"
	"configmarket/internal/identity"
	"configmarket/internal/pins"
	"configmarket/internal/settings"
	"configmarket/internal/store"
)

type env struct {
	ctx   context.Context
	st    *store.Store
	svc   *settings.Service
	admin identity.Viewer
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st := store.New(dbtest.Pool(t))
	clk := clock.NewManual(time.Now().UTC().Truncate(time.Second))
	return &env{ctx: context.Background(), st: st, svc: settings.New(st, clk), admin: factory.Admin(t, st).Viewer()}
}

// The migration seeds exactly the keys the code knows, with SPEC's defaults.
func TestSeedIsSPECDefaults(t *testing.T) {
	e := newEnv(t)
	rows, err := e.st.Settings(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	seeded := map[string]int64{}
	for _, r := range rows {
		seeded[r.Key] = r.Value
	}
	defs := settings.Defs()
	if len(rows) != len(defs) {
		t.Errorf("%d rows seeded, %d settings known", len(rows), len(defs))
	}
	for _, d := range defs {
		v, ok := seeded[d.Key]
		if !ok || v != d.Default {
			t.Errorf("%s seeded %d (present %v), default %d", d.Key, v, ok, d.Default)
		}
		if d.Default < d.Min || d.Default > d.Max || d.Description == "" {
			t.Errorf("%s: default %d outside %d..%d or undescribed", d.Key, d.Default, d.Min, d.Max)
		}
	}
}

// The constants the domains' own tests use are the settings' defaults.
func TestDefaultsAreTheDomainsDefaults(t *testing.T) {
	d := settings.Defaults()
	day := 24 * time.Hour
	checks := []struct {
		name      string
		got, want int64
	}{
		{"payout hold", int64(d.Duration(settings.PayoutHold)), int64(earnings.PayoutHold)},
		{"payout hold days", int64(d.Duration(settings.PayoutHold) / day), 14},
		{"minimum payout", d.Money(settings.PayoutMinimum).Minor, earnings.MinimumPayout},
		{"minimum payout kopecks", d.Money(settings.PayoutMinimum).Minor, 1_000_00},
		{"standard sales", d.Money(settings.StandardSales).Minor, earnings.StandardSalesMinor},
		{"premium sales", d.Money(settings.PremiumSales).Minor, earnings.PremiumSalesMinor},
		{"pin term", int64(d.Duration(settings.PinTerm)), int64(pins.DefaultRules.Term)},
		{"pin term days", int64(d.Duration(settings.PinTerm) / day), 90},
		{"pending pin expiry", int64(d.Duration(settings.PinPendingExpiry)), int64(pins.DefaultRules.PendingExpireAfter)},
		{"past due", int64(d.Duration(settings.RentalPastDue)), int64(commerce.DefaultRules.PastDueAfter)},
		{"past due days", int64(d.Duration(settings.RentalPastDue) / day), 7},
		{"cancel", int64(d.Duration(settings.RentalCancel)), int64(commerce.DefaultRules.CancelAfter)},
		{"payment window", int64(d.Duration(settings.PaymentWindow)), int64(commerce.DefaultRules.PaymentWindow)},
		{"payment window hours", int64(d.Duration(settings.PaymentWindow) / time.Hour), 48},
		{"trial retention", int64(d.Duration(settings.TrialRetention)), int64(commerce.DefaultRules.TrialRetention)},
		{"trial default days", d.Count(settings.TrialDefaultDays), 14},
		{"trial max days", d.Count(settings.TrialMaxDays), 30},
		{"login account failures", d.Count(settings.LoginAccountFailure), 10},
		{"login IP failures", d.Count(settings.LoginIPFailures), 50},
		{"login window", int64(d.Duration(settings.LoginFailureWindow)), int64(15 * time.Minute)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.name, c.got, c.want)
		}
	}
}

// This instance's own change applies at once; another instance's within
// the cache's TTL.
func TestCacheFollowsUpdates(t *testing.T) {
	e := newEnv(t)
	// Another instance whose cache outlives the test until its TTL is made
	// to run out: no assertion depends on how fast the machine is.
	other := settings.New(e.st, clock.System{})
	other.SetCacheTTL(time.Hour)
	hold := func(s *settings.Service) time.Duration {
		t.Helper()
		d, err := s.Duration(e.ctx, settings.PayoutHold)
		if err != nil {
			t.Fatal(err)
		}
		return d / (24 * time.Hour)
	}
	if hold(e.svc) != 14 || hold(other) != 14 {
		t.Fatal("not the seeded 14 days")
	}
	if _, err := e.svc.Update(e.ctx, e.admin, "payout.hold_days", "7"); err != nil {
		t.Fatal(err)
	}
	if got := hold(e.svc); got != 7 {
		t.Fatalf("the updating instance reads %d days, want 7 at once", got)
	}
	if got := hold(other); got != 14 {
		t.Fatalf("another instance read %d days before its TTL, want its cached 14", got)
	}
	other.SetCacheTTL(0)
	if got := hold(other); got != 7 {
		t.Fatalf("another instance reads %d days after its TTL, want 7", got)
	}
}

func TestStrangersGetNothing(t *testing.T) {
	e := newEnv(t)
	for name, v := range map[string]identity.Viewer{
		"anonymous": {}, "customer": factory.Customer(t, e.st).Viewer(),
		"developer": factory.Developer(t, e.st).Viewer(), "partner": factory.Partner(t, e.st).Viewer(),
	} {
		if list, err := e.svc.List(e.ctx, v); !apperr.IsHidden(err) || list != nil {
			t.Errorf("%s listed settings: %v, %v", name, list, err)
		}
		if _, err := e.svc.Update(e.ctx, v, "payout.hold_days", "7"); !apperr.IsHidden(err) {
			t.Errorf("%s updated a setting: %v", name, err)
		}
		if settings.MayRead(v) {
			t.Errorf("%s may read settings", name)
		}
	}
	history, err := e.st.SettingHistory(e.ctx)
	if err != nil || len(history) != 0 {
		t.Fatalf("history after strangers: %v, %v", history, err)
	}
}

// Concurrent changes run one at a time: each history row names the value
// the previous one set, and the last one is in force.
func TestConcurrentUpdatesChainTheirHistory(t *testing.T) {
	e := newEnv(t)
	var wg sync.WaitGroup
	for _, v := range []string{"20", "21", "22", "23", "24"} {
		wg.Go(func() {
			if _, err := e.svc.Update(e.ctx, e.admin, "pin.pending_expiry_days", v); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	entries, err := e.svc.List(e.ctx, e.admin)
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range entries {
		if en.Key != "pin.pending_expiry_days" {
			if len(en.History) != 0 {
				t.Errorf("%s has history", en.Key)
			}
			continue
		}
		h := en.History
		if len(h) != 5 || h[len(h)-1].OldValue != 14 || h[0].NewValue != en.Value {
			t.Fatalf("history %+v, value %d", h, en.Value)
		}
		for i := 0; i+1 < len(h); i++ {
			if h[i].OldValue != h[i+1].NewValue {
				t.Errorf("change %d replaced %d, the previous one set %d", i, h[i].OldValue, h[i+1].NewValue)
			}
		}
		if en.UpdatedBy == nil || *en.UpdatedBy != e.admin.UserID {
			t.Errorf("updated by %v", en.UpdatedBy)
		}
	}
}

func TestParseAndFormat(t *testing.T) {
	money, _ := settings.Lookup("payout.minimum")
	days, _ := settings.Lookup("payout.hold_days")
	if v, err := money.Parse("1000.50"); err != nil || v != 100050 || money.Format(v) != "1000.50" {
		t.Errorf("RUB: %d %v", v, err)
	}
	if v, err := days.Parse("7"); err != nil || v != 7 || days.Format(v) != "7" {
		t.Errorf("days: %d %v", v, err)
	}
	for _, bad := range []string{"7.0", "", "1e3", " 7"} {
		if _, err := days.Parse(bad); err == nil {
			t.Errorf("days parsed %q", bad)
		}
	}
	if _, ok := settings.Lookup("nope"); ok {
		t.Error("an unknown key was found")
	}
}
