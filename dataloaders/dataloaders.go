// Package dataloaders batches the by-id reads of one GraphQL operation into
// one query per kind of object. Loaders are built per operation (never per
// connection: a WebSocket lives for many operations) and capture the viewer,
// so private rows are scoped in the batch itself.
package dataloaders

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/vikstrous/dataloadgen"

	"configmarket/internal/account"
	"configmarket/internal/catalog"
	"configmarket/internal/commerce"
	"configmarket/internal/earnings"
	"configmarket/internal/identity"
	"configmarket/internal/packages"
	"configmarket/internal/pins"
	"configmarket/internal/store"
)

// wait is how long a loader collects keys before it queries. Every nesting
// level pays it once, so it stays at a millisecond; pages prefetch their
// nested level instead of relying on the window (see Prefetch).
const wait = time.Millisecond

// Sources are the domain services the loaders read through.
type Sources struct {
	Accounts *account.Service
	Catalog  *catalog.Service
	Commerce *commerce.Service
	Payouts  *earnings.Payouts
	Ledger   *earnings.Ledger
	Pins     *pins.Service
	Packages *packages.Service
}

// batched is a loader with its fetch function, so a page can also run the
// fetch itself and prime the loader. The loader is made when first used:
// an operation uses few of the kinds, and making them all was 1.5 % of a
// loaded storefront server's CPU.
type batched[K comparable, V any] struct {
	fetch func(context.Context, []K) (map[K]V, error)
	once  sync.Once
	made  *dataloadgen.Loader[K, V]
}

func newBatched[K comparable, V any](fetch func(context.Context, []K) (map[K]V, error)) *batched[K, V] {
	return &batched[K, V]{fetch: fetch}
}

func (b *batched[K, V]) loader() *dataloadgen.Loader[K, V] {
	b.once.Do(func() { b.made = dataloadgen.NewMappedLoader(b.fetch, dataloadgen.WithWait(wait)) })
	return b.made
}

// byID adapts a "rows among ids" read to a mapped fetch.
func byID[V any](fetch func(context.Context, []uuid.UUID) ([]V, error), key func(V) uuid.UUID) func(context.Context, []uuid.UUID) (map[uuid.UUID]V, error) {
	return func(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]V, error) {
		rows, err := fetch(ctx, ids)
		if err != nil {
			return nil, err
		}
		out := make(map[uuid.UUID]V, len(rows))
		for _, r := range rows {
			out[key(r)] = r
		}
		return out, nil
	}
}

// groupedByParent adapts a "children of parents" read to a mapped fetch in
// which every parent has a list, empty when it has no children.
func groupedByParent[V any](fetch func(context.Context, []uuid.UUID) ([]V, error), parent func(V) uuid.UUID) func(context.Context, []uuid.UUID) (map[uuid.UUID][]V, error) {
	return func(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID][]V, error) {
		rows, err := fetch(ctx, ids)
		if err != nil {
			return nil, err
		}
		out := make(map[uuid.UUID][]V, len(ids))
		for _, id := range ids {
			out[id] = []V{}
		}
		for _, r := range rows {
			out[parent(r)] = append(out[parent(r)], r)
		}
		return out, nil
	}
}

// load returns nil for rows that do not exist or the viewer may not see:
// the two cases look the same to the client.
func (b *batched[K, V]) load(ctx context.Context, key K) (*V, error) {
	v, found, err := b.value(ctx, key)
	if !found {
		return nil, err
	}
	return &v, nil
}

// value is load without copying the row to the heap, for lists (a nil
// list when not found): their values are references already, and a
// storefront page reads 150 of them.
func (b *batched[K, V]) value(ctx context.Context, key K) (v V, found bool, err error) {
	v, err = b.loader().Load(ctx, key)
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return v, false, nil
	}
	return v, err == nil, err
}

// alone fetches one key at once, without waiting out the batch window, and
// primes the loader: for the one object a request starts from (the viewer's
// own organisation), which no other key would join in that window.
func (b *batched[K, V]) alone(ctx context.Context, key K) (*V, error) {
	if err := b.prefetch(ctx, []K{key}); err != nil {
		return nil, err
	}
	return b.load(ctx, key)
}

// prefetch fetches keys now, in one statement, and primes the loader.
func (b *batched[K, V]) prefetch(ctx context.Context, keys []K) error {
	if len(keys) == 0 {
		return nil
	}
	rows, err := b.fetch(ctx, keys)
	if err != nil {
		return err
	}
	for k, v := range rows {
		b.loader().Prime(k, v)
	}
	return nil
}

// Loaders are one operation's loaders.
type Loaders struct {
	// plans are the few tariff plans, read once per operation.
	plans          *memo[[]store.TariffPlan]
	developers     *batched[uuid.UUID, store.Developer]
	customers      *batched[uuid.UUID, store.Customer]
	partners       *batched[uuid.UUID, store.Partner]
	users          *batched[uuid.UUID, store.User]
	configurations *batched[uuid.UUID, store.Configuration]
	versions       *batched[uuid.UUID, store.Version]
	reviews        *batched[uuid.UUID, store.Review]
	categories     *batched[uuid.UUID, store.Category]
	prices         *batched[uuid.UUID, []store.Price]
	newestVersions *batched[catalog.VersionsKey, []store.Version]
	newestReviews  *batched[catalog.ReviewsKey, []store.Review]
	moderation     *batched[uuid.UUID, []store.ModerationEvent]
	installations  *batched[uuid.UUID, store.Installation]
	invoices       *batched[uuid.UUID, store.Invoice]
	payments       *batched[uuid.UUID, store.Payment]
	updates        *batched[uuid.UUID, []store.InstallationUpdate]
	pins           *batched[uuid.UUID, store.Pin]
	payouts        *batched[uuid.UUID, store.Payout]
	unapplied      *batched[uuid.UUID, store.UnappliedPayment]
	packages       *batched[uuid.UUID, store.VersionPackage]
	downloads      *batched[uuid.UUID, int64]
	// totals are summed once per filter: see EntryTotals.
	ledger   *earnings.Ledger
	viewer   identity.Viewer
	totalsMu sync.Mutex
	totals   map[earnings.TotalsKey]*memo[map[earnings.TotalsKey][]store.EntryTotal]
	// mapped are values resolvers built once for the operation (Mapped).
	mappedMu sync.Mutex
	mapped   map[any]any
}

// Mapped returns the value built for key in this operation, building it
// the first time: a page maps the same few rows (the tariff plans) on every
// card, and once is enough. Values must not be changed after they are built.
func (l *Loaders) Mapped(key any, build func() any) any {
	l.mappedMu.Lock()
	defer l.mappedMu.Unlock()
	if v, ok := l.mapped[key]; ok {
		return v
	}
	if l.mapped == nil {
		l.mapped = map[any]any{}
	}
	v := build()
	l.mapped[key] = v
	return v
}

// New builds fresh loaders for one operation of viewer v.
func New(src Sources, v identity.Viewer) *Loaders {
	acc, cat, com := src.Accounts, src.Catalog, src.Commerce
	return &Loaders{
		plans:      &memo[[]store.TariffPlan]{load: cat.TariffPlans},
		developers: newBatched(byID(cat.DevelopersByIDs, func(d store.Developer) uuid.UUID { return d.ID })),
		customers: newBatched(byID(func(ctx context.Context, ids []uuid.UUID) ([]store.Customer, error) {
			return acc.CustomersByIDs(ctx, v, ids)
		}, func(c store.Customer) uuid.UUID { return c.ID })),
		partners: newBatched(byID(func(ctx context.Context, ids []uuid.UUID) ([]store.Partner, error) {
			return acc.PartnersByIDs(ctx, v, ids)
		}, func(p store.Partner) uuid.UUID { return p.ID })),
		users: newBatched(byID(func(ctx context.Context, ids []uuid.UUID) ([]store.User, error) {
			return acc.UsersByIDs(ctx, v, ids)
		}, func(u store.User) uuid.UUID { return u.ID })),
		configurations: newBatched(byID(func(ctx context.Context, ids []uuid.UUID) ([]store.Configuration, error) {
			return cat.ConfigurationsByIDs(ctx, v, ids)
		}, func(c store.Configuration) uuid.UUID { return c.ID })),
		versions: newBatched(byID(func(ctx context.Context, ids []uuid.UUID) ([]store.Version, error) {
			return cat.VersionsByIDs(ctx, v, ids)
		}, func(x store.Version) uuid.UUID { return x.ID })),
		reviews: newBatched(byID(func(ctx context.Context, ids []uuid.UUID) ([]store.Review, error) {
			return cat.ReviewsByIDs(ctx, v, ids)
		}, func(r store.Review) uuid.UUID { return r.ID })),
		categories:     newBatched(byID(cat.CategoriesByIDs, func(c store.Category) uuid.UUID { return c.ID })),
		prices:         newBatched(groupedByParent(cat.CurrentPrices, func(p store.Price) uuid.UUID { return p.ConfigurationID })),
		newestVersions: newBatched(cat.NewestVersions),
		newestReviews:  newBatched(cat.NewestReviews),
		moderation:     newBatched(groupedByParent(cat.ModerationEvents, func(e store.ModerationEvent) uuid.UUID { return e.ConfigurationID })),
		installations: newBatched(byID(func(ctx context.Context, ids []uuid.UUID) ([]store.Installation, error) {
			return com.InstallationsByIDs(ctx, v, ids)
		}, func(i store.Installation) uuid.UUID { return i.ID })),
		invoices: newBatched(byID(func(ctx context.Context, ids []uuid.UUID) ([]store.Invoice, error) {
			return com.InvoicesByIDs(ctx, v, ids)
		}, func(i store.Invoice) uuid.UUID { return i.ID })),
		payments: newBatched(byID(func(ctx context.Context, ids []uuid.UUID) ([]store.Payment, error) {
			return com.PaymentsByIDs(ctx, v, ids)
		}, func(p store.Payment) uuid.UUID { return p.ID })),
		updates: newBatched(groupedByParent(com.Updates, func(u store.InstallationUpdate) uuid.UUID { return u.InstallationID })),
		pins: newBatched(byID(func(ctx context.Context, ids []uuid.UUID) ([]store.Pin, error) {
			return src.Pins.PinsByIDs(ctx, v, ids)
		}, func(p store.Pin) uuid.UUID { return p.ID })),
		payouts: newBatched(byID(func(ctx context.Context, ids []uuid.UUID) ([]store.Payout, error) {
			return src.Payouts.PayoutsByIDs(ctx, v, ids)
		}, func(p store.Payout) uuid.UUID { return p.ID })),
		unapplied: newBatched(byID(func(ctx context.Context, ids []uuid.UUID) ([]store.UnappliedPayment, error) {
			return com.UnappliedPaymentsByIDs(ctx, v, ids)
		}, func(u store.UnappliedPayment) uuid.UUID { return u.ID })),
		packages: newBatched(byID(func(ctx context.Context, ids []uuid.UUID) ([]store.VersionPackage, error) {
			return src.Packages.OfVersions(ctx, v, ids)
		}, func(p store.VersionPackage) uuid.UUID { return p.VersionID })),
		downloads: newBatched(func(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]int64, error) {
			return com.PackageDownloads(ctx, v, ids)
		}),
		ledger: src.Ledger,
		viewer: v,
		totals: map[earnings.TotalsKey]*memo[map[earnings.TotalsKey][]store.EntryTotal]{},
	}
}

// memo reads a small, viewer-independent list once per operation.
type memo[T any] struct {
	once  sync.Once
	load  func(context.Context) (T, error)
	value T
	err   error
}

func (m *memo[T]) get(ctx context.Context) (T, error) {
	m.once.Do(func() {
		// Shared by every resolver of the operation: not cancelled with
		// the first caller alone.
		m.value, m.err = m.load(context.WithoutCancel(ctx))
	})
	return m.value, m.err
}

// TariffPlans are all plans, smallest first.
func (l *Loaders) TariffPlans(ctx context.Context) ([]store.TariffPlan, error) {
	return l.plans.get(ctx)
}

func (l *Loaders) TariffPlan(ctx context.Context, id uuid.UUID) (*store.TariffPlan, error) {
	plans, err := l.plans.get(ctx)
	for i := range plans {
		if plans[i].ID == id {
			return &plans[i], nil
		}
	}
	return nil, err
}

func (l *Loaders) Developer(ctx context.Context, id uuid.UUID) (*store.Developer, error) {
	return l.developers.load(ctx, id)
}

func (l *Loaders) Customer(ctx context.Context, id uuid.UUID) (*store.Customer, error) {
	return l.customers.load(ctx, id)
}

func (l *Loaders) Partner(ctx context.Context, id uuid.UUID) (*store.Partner, error) {
	return l.partners.load(ctx, id)
}

// OwnDeveloper, OwnCustomer and OwnPartner read the viewer's own
// organisation at once: a request rooted at the viewer has nothing to batch
// it with, and the batch window would add a millisecond to every dashboard.
func (l *Loaders) OwnDeveloper(ctx context.Context, id uuid.UUID) (*store.Developer, error) {
	return l.developers.alone(ctx, id)
}

func (l *Loaders) OwnCustomer(ctx context.Context, id uuid.UUID) (*store.Customer, error) {
	return l.customers.alone(ctx, id)
}

func (l *Loaders) OwnPartner(ctx context.Context, id uuid.UUID) (*store.Partner, error) {
	return l.partners.alone(ctx, id)
}

func (l *Loaders) User(ctx context.Context, id uuid.UUID) (*store.User, error) {
	return l.users.load(ctx, id)
}

func (l *Loaders) Configuration(ctx context.Context, id uuid.UUID) (*store.Configuration, error) {
	return l.configurations.load(ctx, id)
}

func (l *Loaders) Version(ctx context.Context, id uuid.UUID) (*store.Version, error) {
	return l.versions.load(ctx, id)
}

func (l *Loaders) Review(ctx context.Context, id uuid.UUID) (*store.Review, error) {
	return l.reviews.load(ctx, id)
}

func (l *Loaders) Category(ctx context.Context, id uuid.UUID) (*store.Category, error) {
	return l.categories.load(ctx, id)
}

// Prices are the prices in force of a configuration. Their ValidFrom and
// CreatedBy may be zero: a storefront page primes them from its cards,
// which read only what a price is (store.CardRows).
func (l *Loaders) Prices(ctx context.Context, configurationID uuid.UUID) ([]store.Price, error) {
	rows, _, err := l.prices.value(ctx, configurationID)
	return rows, err
}

// NewestVersions are the first versions of a configuration's connection.
func (l *Loaders) NewestVersions(ctx context.Context, k catalog.VersionsKey) ([]store.Version, error) {
	rows, _, err := l.newestVersions.value(ctx, k)
	return rows, err
}

// NewestReviews are the first reviews of a configuration's connection.
func (l *Loaders) NewestReviews(ctx context.Context, k catalog.ReviewsKey) ([]store.Review, error) {
	rows, _, err := l.newestReviews.value(ctx, k)
	return rows, err
}

// ModerationEvents are a configuration's moderation history.
func (l *Loaders) ModerationEvents(ctx context.Context, configurationID uuid.UUID) ([]store.ModerationEvent, error) {
	rows, _, err := l.moderation.value(ctx, configurationID)
	return rows, err
}

func (l *Loaders) Installation(ctx context.Context, id uuid.UUID) (*store.Installation, error) {
	return l.installations.load(ctx, id)
}

func (l *Loaders) Invoice(ctx context.Context, id uuid.UUID) (*store.Invoice, error) {
	return l.invoices.load(ctx, id)
}

func (l *Loaders) Payment(ctx context.Context, id uuid.UUID) (*store.Payment, error) {
	return l.payments.load(ctx, id)
}

// Updates are an installation's automatic updates, oldest first.
func (l *Loaders) Updates(ctx context.Context, installationID uuid.UUID) ([]store.InstallationUpdate, error) {
	rows, _, err := l.updates.value(ctx, installationID)
	return rows, err
}

func (l *Loaders) Pin(ctx context.Context, id uuid.UUID) (*store.Pin, error) {
	return l.pins.load(ctx, id)
}

func (l *Loaders) Payout(ctx context.Context, id uuid.UUID) (*store.Payout, error) {
	return l.payouts.load(ctx, id)
}

// UnappliedPayment is nil for anyone but an admin.
func (l *Loaders) UnappliedPayment(ctx context.Context, id uuid.UUID) (*store.UnappliedPayment, error) {
	return l.unapplied.load(ctx, id)
}

// Prefetch names what a page of configurations will ask of its loaders.
type Prefetch struct {
	Developers []uuid.UUID
	Prices     []uuid.UUID
	Versions   []catalog.VersionsKey
	Reviews    []catalog.ReviewsKey
	Moderation []uuid.UUID
}

// VersionPackage is a version's package, nil when it has none or the
// viewer may not see it.
func (l *Loaders) VersionPackage(ctx context.Context, versionID uuid.UUID) (*store.VersionPackage, error) {
	return l.packages.load(ctx, versionID)
}

// PackageDownloads is how many times an installation's package was
// fetched, nil when the viewer may not read the installation.
func (l *Loaders) PackageDownloads(ctx context.Context, installationID uuid.UUID) (*int64, error) {
	return l.downloads.load(ctx, installationID)
}

// PrimeDeveloper, PrimePrices, PrimeNewestVersions and PrimeNewestReviews
// give the loaders rows a page statement already read, so they run no
// statement of their own for them.
func (l *Loaders) PrimeDeveloper(d store.Developer) { l.developers.loader().Prime(d.ID, d) }

func (l *Loaders) PrimePrices(configurationID uuid.UUID, prices []store.Price) {
	l.prices.loader().Prime(configurationID, prices)
}

func (l *Loaders) PrimeNewestVersions(k catalog.VersionsKey, versions []store.Version) {
	l.newestVersions.loader().Prime(k, versions)
}

func (l *Loaders) PrimeNewestReviews(k catalog.ReviewsKey, reviews []store.Review) {
	l.newestReviews.loader().Prime(k, reviews)
}

// Prefetch loads a page's nested level now, one statement per kind, all
// in parallel, and primes the loaders. Batching by time window alone splits
// a large page into several batches when its resolvers start slower than
// the window; prefetching makes the statement count independent of timing.
func (l *Loaders) Prefetch(ctx context.Context, p Prefetch) error {
	var jobs []func() error
	add := func(n int, job func() error) {
		if n > 0 {
			jobs = append(jobs, job)
		}
	}
	add(len(p.Developers), func() error { return l.developers.prefetch(ctx, p.Developers) })
	add(len(p.Prices), func() error { return l.prices.prefetch(ctx, p.Prices) })
	add(len(p.Versions), func() error { return l.newestVersions.prefetch(ctx, p.Versions) })
	add(len(p.Reviews), func() error { return l.newestReviews.prefetch(ctx, p.Reviews) })
	add(len(p.Moderation), func() error { return l.moderation.prefetch(ctx, p.Moderation) })
	if len(jobs) == 1 {
		return jobs[0]()
	}
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, job := range jobs {
		wg.Go(func() { errs[i] = job() })
	}
	wg.Wait()
	return errors.Join(errs...)
}

type ctxKey struct{}

// With attaches loaders to ctx.
func With(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// From returns the operation's loaders. Their absence is a wiring bug.
func From(ctx context.Context) *Loaders {
	l, ok := ctx.Value(ctxKey{}).(*Loaders)
	if !ok {
		panic("dataloaders: no loaders in context; is the operation middleware installed?")
	}
	return l
}

// EntryTotals are a party's totals by k's grouping. siblings are the other
// groupings the query asks of the same filter beside it (by month and by
// what was paid for, say): whichever of those fields runs first sums them
// all in one statement and the others wait for it, so the statement count
// does not depend on how the fields' goroutines happen to be scheduled.
func (l *Loaders) EntryTotals(ctx context.Context, k earnings.TotalsKey, siblings []store.Grouping) ([]store.EntryTotal, error) {
	filter := k
	filter.Grouping = ""
	l.totalsMu.Lock()
	m := l.totals[filter]
	if m == nil {
		keys := []earnings.TotalsKey{k}
		for _, g := range siblings {
			sk := filter
			sk.Grouping = g
			keys = append(keys, sk)
		}
		m = &memo[map[earnings.TotalsKey][]store.EntryTotal]{load: func(ctx context.Context) (map[earnings.TotalsKey][]store.EntryTotal, error) {
			return l.ledger.Totals(ctx, l.viewer, keys)
		}}
		l.totals[filter] = m
	}
	l.totalsMu.Unlock()
	sets, err := m.get(ctx)
	if totals, ok := sets[k]; ok || err != nil {
		return totals, err
	}
	// A grouping the first field did not know of (another filter spelling).
	sets, err = l.ledger.Totals(ctx, l.viewer, []earnings.TotalsKey{k})
	return sets[k], err
}
