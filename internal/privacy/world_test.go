package privacy

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"configmarket/internal/account"
	"configmarket/internal/auditlog"
	"configmarket/internal/auth"
	"configmarket/internal/cache"
	"configmarket/internal/catalog"
	"configmarket/internal/clock"
	"configmarket/internal/commerce"
	"configmarket/internal/dbtest"
	"configmarket/internal/earnings"
	"configmarket/internal/factory"
	"configmarket/internal/identity"
	"configmarket/internal/money"
	"configmarket/internal/packages"
	"configmarket/internal/password"
	"configmarket/internal/pins"
	"configmarket/internal/settings"
	"configmarket/internal/store"
)

// world is one database with every kind of private data: a developer with a
// sold configuration (a package, a rejected version, a draft, a suspended
// one with a review), a customer who bought it while pinned by a partner,
// both parties' ledger entries and payouts, and an unapplied payment.
type world struct {
	ctx context.Context
	st  *store.Store
	clk *clock.Manual

	catalog  *catalog.Service
	commerce *commerce.Service
	ledger   *earnings.Ledger
	payouts  *earnings.Payouts
	statuses *earnings.Statuses
	partners *earnings.PartnerStatuses
	rates    *earnings.Rates
	pins     *pins.Service
	packages *packages.Service
	accounts *account.Service
	audit    *auditlog.Service
	settings *settings.Service

	// The owners, and the strangers every read is tried as besides them.
	admin, customer, developer, partner factory.Account
	strangers                           map[string]identity.Viewer

	sold      store.Configuration // published, bought by customer
	draft     store.Configuration // never published
	suspended store.Configuration // suspended; customer has it installed and reviewed it
	version   uuid.UUID           // sold's approved version, with its package
	rejected  uuid.UUID           // sold's rejected version
	review    uuid.UUID           // customer's review of suspended

	installation, invoice, payment, pin uuid.UUID
	soldAt                              time.Time
	devPayout, partnerPayout            uuid.UUID
	devEntry                            int64
	unapplied                           uuid.UUID
	customerToken                       uuid.UUID // an API token of customer's user
}

func newWorld(t *testing.T) *world {
	t.Helper()
	st := store.New(dbtest.Pool(t))
	public := cache.NewGeneration(cache.NewMemory(1000), "public")
	// A minute ahead, so the prices the factory stamps with the database's
	// now() are in force.
	start := time.Now().UTC().Truncate(time.Second).Add(time.Minute)
	clk := clock.NewManual(start)
	cat := catalog.New(st, public)
	w := &world{
		ctx: context.Background(), st: st, clk: clk, catalog: cat,
		commerce: commerce.New(st, cat, clk, commerce.DefaultRules, public),
		ledger:   earnings.NewLedger(st), payouts: earnings.NewPayouts(st, clk), statuses: earnings.NewStatuses(st, clk),
		partners: earnings.NewPartnerStatuses(st, clk), rates: earnings.NewRates(st, clk),
		pins:     pins.New(st, clk, pins.DefaultRules),
		packages: packages.New(st, st.Blobs(), clk, packages.DefaultRules, []byte("privacy-test-link-key-32-bytes!!")),
		accounts: newAccounts(t, st, public), audit: auditlog.New(st), settings: settings.New(st, clk),
		admin: factory.Admin(t, st), customer: factory.Customer(t, st), developer: factory.Developer(t, st), partner: factory.Partner(t, st),
	}
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("building the world: %v", r)
		}
	}()
	w.strangers = map[string]identity.Viewer{
		"anonymous":          {},
		"another customer":   factory.Customer(t, st).Viewer(),
		"another developer":  factory.Developer(t, st).Viewer(),
		"another partner":    factory.Partner(t, st).Viewer(),
		"developer as other": {UserID: w.developer.UserID, Role: identity.RoleCustomer, ActingFor: w.developer.OrgID},
	}
	w.catalogue(t)
	w.sell(t)
	w.customerToken = must(w.accounts.CreateAPIToken(w.ctx, w.customer.Viewer(), account.CreateAPITokenInput{
		Name: "CI", Role: identity.RoleCustomer, ExpiresAt: time.Now().Add(time.Hour)})).Token.ID
	return w
}

func newAccounts(t *testing.T, st *store.Store, public *cache.Generation) *account.Service {
	t.Helper()
	spec, err := auth.NewSeed("k")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := auth.ParseKeyset(spec)
	if err != nil {
		t.Fatal(err)
	}
	hasher, err := password.NewHasher(factory.CheapHash)
	if err != nil {
		t.Fatal(err)
	}
	tokens := auth.NewTokens(keys, auth.Config{Issuer: "i", Audience: "a", AccessTTL: 15 * time.Minute, Leeway: time.Second})
	return account.New(st, hasher, tokens, time.Hour, public)
}

// must keeps the world's setup one call a line; newWorld turns its panic
// into the test's failure.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// catalogue builds the developer's configurations.
func (w *world) catalogue(t *testing.T) {
	t.Helper()
	ctx, dev := w.ctx, w.developer
	// Sold: a draft whose version gets its package, then approved and
	// published the way moderation would.
	w.sold = factory.Configuration(t, w.st, dev.OrgID, factory.ConfigurationOptions{State: "draft", SaleMinor: 3_500_000})
	v := must(w.st.NewestVersions(ctx, []uuid.UUID{w.sold.ID}, []store.VersionState{store.VersionDraft}, 1))[0]
	w.version = v.ID
	must(w.packages.Upload(ctx, dev.Viewer(), v.ID, bytes.NewReader(factory.Package(w.sold.Slug, "1.0.0"))))
	must(w.st.DecideVersion(ctx, v.ID, "approved", nil, nil))
	w.sold = must(w.st.SetConfigurationState(ctx, w.sold.ID, "published", nil))
	reason := "the manifest names another product"
	w.rejected = must(w.st.CreateVersion(ctx, w.sold.ID, store.VersionKey{Major: 2}, "Release 2")).ID
	must(w.st.DecideVersion(ctx, w.rejected, "rejected", &reason, &w.admin.UserID))

	// A draft whose version waits for moderation.
	w.draft = factory.Configuration(t, w.st, dev.OrgID, factory.ConfigurationOptions{State: "draft"})
	inReview := must(w.st.NewestVersions(ctx, []uuid.UUID{w.draft.ID}, []store.VersionState{store.VersionDraft}, 1))[0]
	must(w.st.SubmitVersion(ctx, inReview.ID))

	// Suspended after the customer installed and reviewed it: the customer
	// keeps seeing it, strangers no longer do.
	w.suspended = factory.Configuration(t, w.st, dev.OrgID, factory.ConfigurationOptions{})
	factory.Installation(t, w.st, w.customer.OrgID, w.suspended)
	w.review = must(w.catalog.CreateReview(ctx, w.customer.Viewer(), w.suspended.ID, 4, "Does what it says")).ID
	w.suspended = must(w.catalog.SuspendConfiguration(ctx, w.admin.Viewer(), w.suspended.ID, "copied content"))
}

// sell pins the customer, sells it the configuration, moves past the hold
// and pays both parties out.
func (w *world) sell(t *testing.T) {
	t.Helper()
	ctx := w.ctx
	w.pin = must(w.pins.PinCustomer(ctx, w.partner.Viewer(), pins.PinTarget{CRMAccountID: w.customer.CRMAccountID})).ID
	charge := must(w.commerce.Buy(ctx, w.customer.Viewer(), w.sold.ID, "buy"))
	w.installation, w.invoice = *charge.InstallationID, *charge.InvoiceID
	paid := must(w.commerce.RecordPayment(ctx, w.admin.Viewer(), w.invoice, money.New(3_500_000, money.RUB), "bank transfer 1", "pay"))
	w.payment, w.soldAt = *paid.PaymentID, w.clk.Now()
	entries := must(w.ledger.Entries(ctx, w.developer.Viewer(), earnings.EntryFilter{Party: store.PartyDeveloper, PartyID: w.developer.OrgID}, nil, nil))
	if len(entries.Rows) == 0 {
		t.Fatal("the sale earned the developer nothing")
	}
	w.devEntry = entries.Rows[0].ID

	w.clk.Set(w.clk.Now().Add(earnings.PayoutHold + 24*time.Hour))
	w.devPayout = must(w.payouts.RequestPayout(ctx, w.developer.Viewer(), money.New(100_000, money.RUB), "bank_account", "payout-d")).ID
	w.partnerPayout = must(w.payouts.RequestPayout(ctx, w.partner.Viewer(), money.New(100_000, money.RUB), "bank_account", "payout-p")).ID

	// A provider's payment for an invoice that is not ours: kept unapplied
	// (and audited as the platform's own action).
	out := must(w.commerce.HandleProviderEvent(ctx, commerce.ProviderPayment{
		Provider: "test", EventID: "evt-unknown", PaymentID: "pay-unknown", InvoiceID: uuid.New(),
		Amount: money.New(50_000, money.RUB), PaidAt: w.clk.Now(),
	}.Event()))
	if out.Unapplied == nil {
		t.Fatal("the unknown invoice's payment was not kept unapplied")
	}
	w.unapplied = out.Unapplied.ID
}

// viewerOf is the world account a reader names.
func (w *world) viewerOf(reader string) identity.Viewer {
	return map[string]factory.Account{
		"admin": w.admin, "customer": w.customer, "developer": w.developer, "partner": w.partner,
	}[reader].Viewer()
}
