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
	}
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
