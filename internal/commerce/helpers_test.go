package commerce_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"configmarket/internal/apperr"
	"configmarket/internal/cache"
	"configmarket/internal/catalog"
	"configmarket/internal/clock"
	"configmarket/internal/commerce"
	"configmarket/internal/dbtest"
	"configmarket/internal/factory"
	"configmarket/internal/identity"
	"configmarket/internal/money"
	"configmarket/internal/store"
)

const day = 24 * time.Hour

// env is one test's database, clock and services.
type env struct {
	t     testing.TB
	ctx   context.Context
	pool  *pgxpool.Pool
	st    *store.Store
	cat   *catalog.Service
	clk   *clock.Manual
	svc   *commerce.Service
	dev   factory.Account
	admin factory.Account
	start time.Time
}

// newEnv builds the services on a fresh database. The clock starts a minute
// after the real now (whole seconds), so prices the factory inserts with the
// database's now() are already in force.
func newEnv(t testing.TB) *env { return newEnvWith(t, commerce.DefaultRules, time.Time{}) }

func newEnvWith(t testing.TB, rules commerce.Rules, start time.Time) *env {
	t.Helper()
	pool := dbtest.Pool(t)
	st := store.New(pool)
	public := cache.NewGeneration(cache.NewMemory(1000), "public")
	cat := catalog.New(st, public)
	if start.IsZero() {
		start = time.Now().UTC().Truncate(time.Second).Add(time.Minute)
	}
	clk := clock.NewManual(start)
	e := &env{
		t: t, ctx: context.Background(), pool: pool, st: st, cat: cat, clk: clk,
		svc: commerce.New(st, cat, clk, rules, public), start: start,
	}
	e.dev = factory.Developer(t, st)
	e.admin = factory.Admin(t, st)
	return e
}

// at moves the clock to start+d.
func (e *env) at(d time.Duration) time.Time {
	e.clk.Set(e.start.Add(d))
	return e.clk.Now()
}

// customer creates a customer with a CRM account id (for license checks).
func (e *env) customer() factory.Account {
	e.t.Helper()
	a := factory.Customer(e.t, e.st)
	if _, err := e.pool.Exec(e.ctx, `update customers set crm_account_id = $2 where id = $1`, a.OrgID, crmAccount(a)); err != nil {
		e.t.Fatal(err)
	}
	return a
}

func crmAccount(a factory.Account) string { return "crm-" + a.OrgID.String() }

func (e *env) config(o factory.ConfigurationOptions) store.Configuration {
	e.t.Helper()
	return factory.Configuration(e.t, e.st, e.dev.OrgID, o)
}

func (e *env) bill() commerce.BillingReport {
	e.t.Helper()
	r, err := e.svc.RunBilling(e.ctx)
	if err != nil {
		e.t.Fatalf("RunBilling at %s: %v", e.clk.Now(), err)
	}
	return r
}

func (e *env) inst(id uuid.UUID) store.Installation {
	e.t.Helper()
	rows, err := e.st.InstallationsByIDs(e.ctx, []uuid.UUID{id})
	if err != nil || len(rows) != 1 {
		e.t.Fatalf("installation %s: %v (%d rows)", id, err, len(rows))
	}
	return rows[0]
}

func (e *env) invoices(installationID uuid.UUID) []store.Invoice {
	e.t.Helper()
	rows, err := e.st.InstallationInvoices(e.ctx, installationID)
	if err != nil {
		e.t.Fatal(err)
	}
	return rows
}

func (e *env) invoice(id uuid.UUID) store.Invoice {
	e.t.Helper()
	rows, err := e.st.InvoicesByIDs(e.ctx, []uuid.UUID{id})
	if err != nil || len(rows) != 1 {
		e.t.Fatalf("invoice %s: %v (%d rows)", id, err, len(rows))
	}
	return rows[0]
}

func (e *env) count(sql string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.pool.QueryRow(e.ctx, sql, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

var eventSeq atomic.Int64

// pay settles an invoice through the provider webhook path with its exact amount.
func (e *env) pay(inv store.Invoice) {
	e.t.Helper()
	n := eventSeq.Add(1)
	applied, err := e.svc.ApplyProviderPayment(e.ctx, commerce.ProviderPayment{
		Provider: "testpay", EventID: fmt.Sprintf("evt-%d-%s", n, uuid.NewString()[:8]),
		PaymentID: fmt.Sprintf("pay-%d-%s", n, uuid.NewString()[:8]), InvoiceID: inv.ID,
		Amount: inv.Amount, PaidAt: e.clk.Now(),
	})
	if err != nil || !applied {
		e.t.Fatalf("pay invoice %s at %s: applied=%v err=%v", inv.ID, e.clk.Now(), applied, err)
	}
}

// rent rents configurationID for a and returns the charge.
func (e *env) rent(a factory.Account, configurationID uuid.UUID) commerce.Charge {
	e.t.Helper()
	ch, err := e.svc.Rent(e.ctx, a.Viewer(), configurationID, "rent-"+uuid.NewString())
	if err != nil {
		e.t.Fatalf("rent: %v", err)
	}
	if ch.InstallationID == nil || ch.InvoiceID == nil {
		e.t.Fatalf("rent returned %+v", ch)
	}
	return ch
}

// rentPaid rents configurationID for a and pays the first invoice now: an
// active rental whose first period starts now.
func (e *env) rentPaid(a factory.Account, configurationID uuid.UUID) commerce.Charge {
	e.t.Helper()
	ch := e.rent(a, configurationID)
	e.pay(e.invoice(*ch.InvoiceID))
	return ch
}

func (e *env) license(a factory.Account, key string) commerce.LicenseStatus {
	e.t.Helper()
	st, err := e.svc.CheckLicense(e.ctx, key, crmAccount(a))
	if err != nil {
		e.t.Fatalf("check license: %v", err)
	}
	return st
}

// plan returns the tariff plan with code.
func (e *env) plan(code string) store.TariffPlan {
	e.t.Helper()
	p, err := e.st.TariffPlanByCode(e.ctx, code)
	if err != nil {
		e.t.Fatalf("plan %s: %v", code, err)
	}
	return p
}

// setRent appends a rent price for a plan from validFrom.
func (e *env) setRent(configurationID uuid.UUID, planCode string, minor int64, validFrom time.Time) {
	e.t.Helper()
	p := e.plan(planCode)
	if err := e.st.InsertPrice(e.ctx, store.Price{
		ConfigurationID: configurationID, Kind: "rent", TariffPlanID: &p.ID,
		Amount: money.New(minor, money.RUB), ValidFrom: validFrom,
	}); err != nil {
		e.t.Fatal(err)
	}
}

// newVersion creates, submits and approves (as admin) a version.
func (e *env) newVersion(configurationID uuid.UUID, k store.VersionKey) store.Version {
	e.t.Helper()
	v, err := e.st.CreateVersion(e.ctx, configurationID, k, fmt.Sprintf("Release %d.%d.%d", k.Major, k.Minor, k.Patch))
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.st.SubmitVersion(e.ctx, v.ID); err != nil {
		e.t.Fatal(err)
	}
	v, err = e.cat.ApproveVersion(e.ctx, e.admin.Viewer(), v.ID)
	if err != nil {
		e.t.Fatalf("approve: %v", err)
	}
	return v
}

func (e *env) versionOf(configurationID uuid.UUID) store.Version {
	e.t.Helper()
	vs, err := e.st.NewestVersions(e.ctx, []uuid.UUID{configurationID}, []store.VersionState{store.VersionApproved}, 1)
	if err != nil || len(vs) != 1 {
		e.t.Fatalf("newest version: %v", err)
	}
	return vs[0]
}

// code is err's public code, "" for nil, "<unclassified>" otherwise.
func code(err error) string {
	if err == nil {
		return ""
	}
	if ae, ok := apperr.As(err); ok {
		return ae.PublicCode()
	}
	return "<unclassified: " + err.Error() + ">"
}

func rub(minor int64) money.Money { return money.New(minor, money.RUB) }

func sameTime(a *time.Time, b time.Time) bool { return a != nil && a.Equal(b) }

func fmtTime(t *time.Time) string {
	if t == nil {
		return "<nil>"
	}
	return t.UTC().Format(time.RFC3339)
}

var anonymous = identity.Viewer{}

var zeroTime time.Time
