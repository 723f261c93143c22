// Package catalog is the storefront's domain: tariff plans, developers'
// public profiles and (as it grows) configurations, versions and prices.
package catalog

import (
	"context"
	"time"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/cache"
	"configmarket/internal/identity"
	"configmarket/internal/relay"
	"configmarket/internal/settings"
	"configmarket/internal/store"
)

// Service is the catalog domain.
type Service struct {
	store *store.Store
	cache cache.Cache
	// public is bumped by every write that can change what anonymous
	// visitors see; cached storefront answers are keyed by it.
	public *cache.Generation
	// plans are kept in the process: every card with prices reads them,
	// and only migrations write them.
	plans *cache.Reference[[]store.TariffPlan]
	// packageMaxSize is the largest package a version may be submitted with.
	packageMaxSize int64
	// settings, when set, give the trial limits (UseSettings).
	settings settings.Source
}

// New builds the service.
func New(st *store.Store, public *cache.Generation) *Service {
	return &Service{store: st, cache: public.Cache(), public: public,
		plans: cache.NewReference(referenceTTL, st.TariffPlans), packageMaxSize: DefaultPackageMaxSize}
}

// Versioned keys: a change of the cached shape bumps the version instead of
// reading old values.
const (
	categoriesKey = "v1:catalog:categories"
	referenceTTL  = 5 * time.Minute
)

// TariffPlans lists the plans, smallest first. Plans are public and no
// request writes them, so each process keeps them for referenceTTL (with
// the cache disabled too: they are reference data, not a cached answer).
func (s *Service) TariffPlans(ctx context.Context) ([]store.TariffPlan, error) {
	return s.plans.Get(ctx)
}

// TariffPlanByCode finds a plan by its letter among the cached plans.
func (s *Service) TariffPlanByCode(ctx context.Context, code string) (*store.TariffPlan, error) {
	plans, err := s.TariffPlans(ctx)
	if err != nil {
		return nil, err
	}
	for i := range plans {
		if plans[i].Code == code {
			return &plans[i], nil
		}
	}
	return nil, nil
}

// Categories lists the storefront's categories; they are public.
func (s *Service) Categories(ctx context.Context) ([]store.Category, error) {
	return cache.Remember(ctx, s.cache, categoriesKey, referenceTTL, s.store.Categories)
}

// CategoriesByIDs returns categories from the cached list.
func (s *Service) CategoriesByIDs(ctx context.Context, ids []uuid.UUID) ([]store.Category, error) {
	all, err := s.Categories(ctx)
	if err != nil {
		return nil, err
	}
	return pick(all, ids, func(c store.Category) uuid.UUID { return c.ID }), nil
}

// TariffPlansByIDs returns the plans among ids; plans are public, and the
// few of them are served from the cached list without a query.
func (s *Service) TariffPlansByIDs(ctx context.Context, ids []uuid.UUID) ([]store.TariffPlan, error) {
	plans, err := s.TariffPlans(ctx)
	if err != nil {
		return nil, err
	}
	return pick(plans, ids, func(p store.TariffPlan) uuid.UUID { return p.ID }), nil
}

// pick keeps the rows whose id is among ids.
func pick[T any](rows []T, ids []uuid.UUID, id func(T) uuid.UUID) []T {
	want := make(map[uuid.UUID]bool, len(ids))
	for _, i := range ids {
		want[i] = true
	}
	var out []T
	for _, r := range rows {
		if want[id(r)] {
			out = append(out, r)
		}
	}
	return out
}

// DevelopersByIDs returns developers' public profiles.
func (s *Service) DevelopersByIDs(ctx context.Context, ids []uuid.UUID) ([]store.Developer, error) {
	// SECURITY: anyone may read a developer's public profile (SPEC §1); the
	// profile fields are all the GraphQL type exposes.
	return s.store.DevelopersByIDs(ctx, ids)
}

// DeveloperPage is one page of the developer directory.
type DeveloperPage = relay.Connection[store.Developer]

// Developers pages through the public developer directory by name. Only
// admins search it (search: any part of a name, handle, or a user's
// e-mail or name).
func (s *Service) Developers(ctx context.Context, v identity.Viewer, search *string, args relay.PageArgs) (DeveloperPage, error) {
	// SECURITY: anyone may page the directory, whose rows are public
	// profiles; only admins search it, because a search matches the
	// private e-mails and names of the developers' users.
	if search != nil && !v.IsAdmin() {
		return DeveloperPage{}, apperr.Hidden(v, "only admins search developers")
	}
	term, err := relay.SearchTerm(search)
	if err != nil {
		return DeveloperPage{}, err
	}
	limit, key, err := relay.NamePage(args.First, args.After)
	if err != nil {
		return DeveloperPage{}, err
	}
	pattern := store.Contains(term)
	rows, err := s.store.DevelopersPage(ctx, pattern, key, limit+1)
	if err != nil {
		return DeveloperPage{}, err
	}
	page := relay.Cut(rows, limit, func(d store.Developer) string { return relay.EncodeCursor(d.Name, d.ID) })
	return page.Counted(args, func() (int, error) { return s.store.DevelopersCount(ctx, pattern) })
}

// DeveloperBySlug is the developer with the public handle slug, for its
// storefront page; nil when there is none.
func (s *Service) DeveloperBySlug(ctx context.Context, slug string) (*store.Developer, error) {
	// SECURITY: anyone may read a developer's public profile (SPEC §1); the
	// Developer type's private fields hide themselves (MayReadPrivate).
	d, err := s.store.DeveloperBySlug(ctx, slug)
	if apperr.Is(err, apperr.KindNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &d, nil
}
