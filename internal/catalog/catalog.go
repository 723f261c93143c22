// Package catalog is the storefront's domain: tariff plans, developers'
// public profiles and (as it grows) configurations, versions and prices.
package catalog

import (
	"context"
	"time"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/cache"
	"configmarket/internal/relay"
	"configmarket/internal/store"
)

// Service is the catalog domain.
type Service struct {
	store *store.Store
	cache cache.Cache
}

// New builds the service.
func New(st *store.Store, c cache.Cache) *Service {
	return &Service{store: st, cache: c}
}

// Versioned keys: a change of the cached shape bumps the version instead of
// reading old values.
const (
	tariffPlansKey = "v1:catalog:tariff_plans"
	tariffPlansTTL = 5 * time.Minute
)

// TariffPlans lists the plans, smallest first. Plans are public and change
// rarely, so every viewer shares one cached copy.
func (s *Service) TariffPlans(ctx context.Context) ([]store.TariffPlan, error) {
	return cache.Remember(ctx, s.cache, tariffPlansKey, tariffPlansTTL, s.store.TariffPlans)
}

// TariffPlansByIDs returns the plans among ids; plans are public.
func (s *Service) TariffPlansByIDs(ctx context.Context, ids []uuid.UUID) ([]store.TariffPlan, error) {
	return s.store.TariffPlansByIDs(ctx, ids)
}

// DevelopersByIDs returns developers' public profiles.
func (s *Service) DevelopersByIDs(ctx context.Context, ids []uuid.UUID) ([]store.Developer, error) {
	// SECURITY: anyone may read a developer's public profile (SPEC §1); the
	// profile fields are all the GraphQL type exposes.
	return s.store.DevelopersByIDs(ctx, ids)
}

// DeveloperPage is one page of the developer directory.
type DeveloperPage struct {
	Developers []store.Developer
	Cursors    []string
	HasNext    bool
}

// Developers pages through the public developer directory by name.
func (s *Service) Developers(ctx context.Context, first *int, after *string) (DeveloperPage, error) {
	limit, err := relay.PageSize(first)
	if err != nil {
		return DeveloperPage{}, apperr.Wrap(apperr.KindInvalid, "first", err)
	}
	var key *store.DeveloperKey
	if after != nil {
		var k store.DeveloperKey
		if err := relay.DecodeCursor(*after, &k.Name, &k.ID); err != nil {
			return DeveloperPage{}, apperr.Wrap(apperr.KindInvalid, "after", err)
		}
		key = &k
	}
	rows, err := s.store.DevelopersPage(ctx, key, limit+1)
	if err != nil {
		return DeveloperPage{}, err
	}
	page, hasNext := relay.Page(rows, limit)
	cursors := make([]string, len(page))
	for i, d := range page {
		cursors[i] = relay.EncodeCursor(d.Name, d.ID)
	}
	return DeveloperPage{Developers: page, Cursors: cursors, HasNext: hasNext}, nil
}
