// Package dataloaders batches the by-id reads of one GraphQL operation into
// one query per kind of object. Loaders are built per operation (never per
// connection: a WebSocket lives for many operations) and capture the viewer,
// so private rows are scoped in the batch itself.
package dataloaders

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/vikstrous/dataloadgen"

	"configmarket/internal/account"
	"configmarket/internal/catalog"
	"configmarket/internal/identity"
	"configmarket/internal/store"
)

// wait is how long a loader collects keys before it queries. Every nesting
// level pays it once, so it stays at a millisecond.
const wait = time.Millisecond

// Sources are the domain services the loaders read through.
type Sources struct {
	Accounts *account.Service
	Catalog  *catalog.Service
}

// Loaders are one operation's loaders.
type Loaders struct {
	tariffPlans *dataloadgen.Loader[uuid.UUID, store.TariffPlan]
	developers  *dataloadgen.Loader[uuid.UUID, store.Developer]
	customers   *dataloadgen.Loader[uuid.UUID, store.Customer]
	partners    *dataloadgen.Loader[uuid.UUID, store.Partner]
	users       *dataloadgen.Loader[uuid.UUID, store.User]

	configurations *dataloadgen.Loader[uuid.UUID, store.Configuration]
	versions       *dataloadgen.Loader[uuid.UUID, store.Version]
	reviews        *dataloadgen.Loader[uuid.UUID, store.Review]
	categories     *dataloadgen.Loader[uuid.UUID, store.Category]
	prices         *dataloadgen.Loader[uuid.UUID, []store.Price]
	newestVersions *dataloadgen.Loader[catalog.VersionsKey, []store.Version]
	newestReviews  *dataloadgen.Loader[catalog.ReviewsKey, []store.Review]
	moderation     *dataloadgen.Loader[uuid.UUID, []store.ModerationEvent]
}

// New builds fresh loaders for one operation of viewer v.
func New(src Sources, v identity.Viewer) *Loaders {
	return &Loaders{
		tariffPlans: newLoader(src.Catalog.TariffPlansByIDs, func(p store.TariffPlan) uuid.UUID { return p.ID }),
		developers:  newLoader(src.Catalog.DevelopersByIDs, func(d store.Developer) uuid.UUID { return d.ID }),
		customers: newLoader(func(ctx context.Context, ids []uuid.UUID) ([]store.Customer, error) {
			return src.Accounts.CustomersByIDs(ctx, v, ids)
		}, func(c store.Customer) uuid.UUID { return c.ID }),
		partners: newLoader(func(ctx context.Context, ids []uuid.UUID) ([]store.Partner, error) {
			return src.Accounts.PartnersByIDs(ctx, v, ids)
		}, func(p store.Partner) uuid.UUID { return p.ID }),
		users: newLoader(func(ctx context.Context, ids []uuid.UUID) ([]store.User, error) {
			return src.Accounts.UsersByIDs(ctx, v, ids)
		}, func(u store.User) uuid.UUID { return u.ID }),

		configurations: newLoader(func(ctx context.Context, ids []uuid.UUID) ([]store.Configuration, error) {
			return src.Catalog.ConfigurationsByIDs(ctx, v, ids)
		}, func(c store.Configuration) uuid.UUID { return c.ID }),
		versions: newLoader(func(ctx context.Context, ids []uuid.UUID) ([]store.Version, error) {
			return src.Catalog.VersionsByIDs(ctx, v, ids)
		}, func(x store.Version) uuid.UUID { return x.ID }),
		reviews: newLoader(func(ctx context.Context, ids []uuid.UUID) ([]store.Review, error) {
			return src.Catalog.ReviewsByIDs(ctx, v, ids)
		}, func(r store.Review) uuid.UUID { return r.ID }),
		categories: newLoader(src.Catalog.CategoriesByIDs, func(c store.Category) uuid.UUID { return c.ID }),
		prices: newGroupLoader(func(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID][]store.Price, error) {
			return groupBy(src.Catalog.CurrentPrices(ctx, ids))(func(p store.Price) uuid.UUID { return p.ConfigurationID })
		}),
		newestVersions: newGroupLoader(src.Catalog.NewestVersions),
		newestReviews:  newGroupLoader(src.Catalog.NewestReviews),
		moderation: newGroupLoader(func(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID][]store.ModerationEvent, error) {
			return groupBy(src.Catalog.ModerationEvents(ctx, ids))(func(e store.ModerationEvent) uuid.UUID { return e.ConfigurationID })
		}),
	}
}

// newGroupLoader batches one-to-many reads: each key maps to a list, and a
// key with no rows maps to an empty list.
func newGroupLoader[K comparable, V any](fetch func(context.Context, []K) (map[K][]V, error)) *dataloadgen.Loader[K, []V] {
	return dataloadgen.NewMappedLoader(fetch, dataloadgen.WithWait(wait))
}

// groupBy groups rows by their parent key.
func groupBy[V any](rows []V, err error) func(key func(V) uuid.UUID) (map[uuid.UUID][]V, error) {
	return func(key func(V) uuid.UUID) (map[uuid.UUID][]V, error) {
		if err != nil {
			return nil, err
		}
		out := map[uuid.UUID][]V{}
		for _, r := range rows {
			out[key(r)] = append(out[key(r)], r)
		}
		return out, nil
	}
}

// loadGroup returns the list of key, empty when it has no rows.
func loadGroup[K comparable, V any](ctx context.Context, l *dataloadgen.Loader[K, []V], key K) ([]V, error) {
	rows, err := l.Load(ctx, key)
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return nil, nil
	}
	return rows, err
}

func newLoader[V any](fetch func(context.Context, []uuid.UUID) ([]V, error), key func(V) uuid.UUID) *dataloadgen.Loader[uuid.UUID, V] {
	return dataloadgen.NewMappedLoader(func(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]V, error) {
		rows, err := fetch(ctx, ids)
		if err != nil {
			return nil, err
		}
		out := make(map[uuid.UUID]V, len(rows))
		for _, r := range rows {
			out[key(r)] = r
		}
		return out, nil
	}, dataloadgen.WithWait(wait))
}

// load returns nil for rows that do not exist or the viewer may not see:
// the two cases look the same to the client.
func load[V any](ctx context.Context, l *dataloadgen.Loader[uuid.UUID, V], id uuid.UUID) (*V, error) {
	v, err := l.Load(ctx, id)
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &v, nil
}

func (l *Loaders) TariffPlan(ctx context.Context, id uuid.UUID) (*store.TariffPlan, error) {
	return load(ctx, l.tariffPlans, id)
}

func (l *Loaders) Developer(ctx context.Context, id uuid.UUID) (*store.Developer, error) {
	return load(ctx, l.developers, id)
}

func (l *Loaders) Customer(ctx context.Context, id uuid.UUID) (*store.Customer, error) {
	return load(ctx, l.customers, id)
}

func (l *Loaders) Partner(ctx context.Context, id uuid.UUID) (*store.Partner, error) {
	return load(ctx, l.partners, id)
}

func (l *Loaders) User(ctx context.Context, id uuid.UUID) (*store.User, error) {
	return load(ctx, l.users, id)
}

func (l *Loaders) Configuration(ctx context.Context, id uuid.UUID) (*store.Configuration, error) {
	return load(ctx, l.configurations, id)
}

func (l *Loaders) Version(ctx context.Context, id uuid.UUID) (*store.Version, error) {
	return load(ctx, l.versions, id)
}

func (l *Loaders) Review(ctx context.Context, id uuid.UUID) (*store.Review, error) {
	return load(ctx, l.reviews, id)
}

func (l *Loaders) Category(ctx context.Context, id uuid.UUID) (*store.Category, error) {
	return load(ctx, l.categories, id)
}

// Prices are the prices in force of a configuration.
func (l *Loaders) Prices(ctx context.Context, configurationID uuid.UUID) ([]store.Price, error) {
	return loadGroup(ctx, l.prices, configurationID)
}

// NewestVersions are the first versions of a configuration's connection.
func (l *Loaders) NewestVersions(ctx context.Context, k catalog.VersionsKey) ([]store.Version, error) {
	return loadGroup(ctx, l.newestVersions, k)
}

// NewestReviews are the first reviews of a configuration's connection.
func (l *Loaders) NewestReviews(ctx context.Context, k catalog.ReviewsKey) ([]store.Review, error) {
	return loadGroup(ctx, l.newestReviews, k)
}

// ModerationEvents are a configuration's moderation history.
func (l *Loaders) ModerationEvents(ctx context.Context, configurationID uuid.UUID) ([]store.ModerationEvent, error) {
	return loadGroup(ctx, l.moderation, configurationID)
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
