package catalog

import (
	"context"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/identity"
	"configmarket/internal/relay"
	"configmarket/internal/store"
)

// ConfigurationBySlug returns the configuration if v may see it, else nil.
func (s *Service) ConfigurationBySlug(ctx context.Context, v identity.Viewer, slug string, cards Cards) (*store.Configuration, store.CardRows, error) {
	// What anonymous visitors may see, everyone may: only such answers
	// are cached and shared; anything else is read for this viewer.
	with := cards.rows()
	key := struct {
		Slug string
		With store.CardRowsWanted
	}{slug, with}
	c, err := remember(ctx, s, "slug", key, func(ctx context.Context) (configurationCard, error) {
		return s.configurationBySlug(ctx, store.Scope{}, slug, with)
	})
	if err != nil || c.Configuration != nil {
		return c.Configuration, c.Card, err
	}
	if scope := scopeFor(v); scope != (store.Scope{}) {
		c, err = s.configurationBySlug(ctx, scope, slug, with)
		return c.Configuration, c.Card, err
	}
	return nil, store.CardRows{}, nil
}

// configurationCard is a configuration and the rows its page shows, as
// cached; no configuration: none by that slug in scope.
type configurationCard struct {
	Configuration *store.Configuration
	Card          store.CardRows
}

func (s *Service) configurationBySlug(ctx context.Context, scope store.Scope, slug string, with store.CardRowsWanted) (configurationCard, error) {
	c, card, err := s.store.ConfigurationCardBySlug(ctx, slug, scope, with)
	if apperr.Is(err, apperr.KindNotFound) {
		return configurationCard{}, nil
	}
	if err != nil {
		return configurationCard{}, err
	}
	return configurationCard{Configuration: &c, Card: card}, nil
}

// ConfigurationsByIDs returns the configurations among ids v may see.
func (s *Service) ConfigurationsByIDs(ctx context.Context, v identity.Viewer, ids []uuid.UUID) ([]store.Configuration, error) {
	return s.store.ConfigurationsByIDs(ctx, ids, scopeFor(v))
}

// DeveloperConfigurations pages through a developer's configurations that
// v may see, newest first: the developer's dashboard for its owner, its
// public portfolio for everyone else.
func (s *Service) DeveloperConfigurations(ctx context.Context, v identity.Viewer, developerID uuid.UUID, first *int, after *string) (ConfigurationPage, error) {
	limit, key, err := relay.TimePage(first, after)
	if err != nil {
		return ConfigurationPage{}, err
	}
	rows, err := s.store.DeveloperConfigurationsPage(ctx, developerID, scopeFor(v), key, limit+1)
	if err != nil {
		return ConfigurationPage{}, err
	}
	return relay.Cut(rows, limit, func(c store.Configuration) string { return relay.EncodeCursor(c.CreatedAt, c.ID) }), nil
}

// CurrentPrices returns the prices in force for configurations the caller
// already holds. SECURITY: prices are public facts of a configuration; this
// is only reached through a Configuration the viewer was allowed to load.
func (s *Service) CurrentPrices(ctx context.Context, configurationIDs []uuid.UUID) ([]store.Price, error) {
	return s.store.CurrentPrices(ctx, configurationIDs)
}

// PriceHistory lists every price the configuration ever had.
func (s *Service) PriceHistory(ctx context.Context, v identity.Viewer, c store.Configuration) ([]store.Price, error) {
	// SECURITY: price history is the developer's business data (SPEC §1).
	if !MayReadPrivate(v, c.DeveloperID) {
		return nil, hiddenPrivate(v)
	}
	return s.store.PriceHistory(ctx, c.ID)
}

// ModerationEvents lists the moderation history of configurations the
// caller already checked with MayReadPrivate.
func (s *Service) ModerationEvents(ctx context.Context, configurationIDs []uuid.UUID) ([]store.ModerationEvent, error) {
	return s.store.ModerationEvents(ctx, configurationIDs)
}

// VersionsKey asks for the newest versions of one configuration in a set
// of states (see VersionStates).
type VersionsKey struct {
	ConfigurationID uuid.UUID
	Private         bool
	First           int
}

// NewestVersions serves a batch of VersionsKey in one statement per set of
// states: keys asking for fewer versions (currentVersion asks for one, a
// page of versions for its size + 1) take the newest of the longest list.
func (s *Service) NewestVersions(ctx context.Context, keys []VersionsKey) (map[VersionsKey][]store.Version, error) {
	type group struct {
		ids   []uuid.UUID
		first int
	}
	groups := map[bool]*group{}
	for _, k := range keys {
		g := groups[k.Private]
		if g == nil {
			g = &group{}
			groups[k.Private] = g
		}
		g.ids = append(g.ids, k.ConfigurationID)
		g.first = max(g.first, k.First)
	}
	newest := map[bool]map[uuid.UUID][]store.Version{}
	for private, g := range groups {
		states := publicStates
		if private {
			states = privateStates
		}
		rows, err := s.store.NewestVersions(ctx, g.ids, states, g.first)
		if err != nil {
			return nil, err
		}
		byConfiguration := map[uuid.UUID][]store.Version{}
		for _, r := range rows {
			byConfiguration[r.ConfigurationID] = append(byConfiguration[r.ConfigurationID], r)
		}
		newest[private] = byConfiguration
	}
	out := make(map[VersionsKey][]store.Version, len(keys))
	for _, k := range keys {
		vs := newest[k.Private][k.ConfigurationID]
		out[k] = append([]store.Version{}, vs[:min(k.First, len(vs))]...)
	}
	return out, nil
}

// VersionPage is a page of versions.
type VersionPage = relay.Connection[store.Version]

// Versions pages through the versions of c that v may see, newest first.
// The first page goes through the batched loader; later pages are read here.
func (s *Service) Versions(ctx context.Context, v identity.Viewer, c store.Configuration, limit int, after string) (VersionPage, error) {
	var k store.VersionKey
	if err := relay.DecodeCursor(after, &k.Major, &k.Minor, &k.Patch); err != nil {
		return VersionPage{}, apperr.Wrap(apperr.KindInvalid, "after", err)
	}
	rows, err := s.store.VersionsPage(ctx, c.ID, VersionStates(v, c), &k, limit+1)
	if err != nil {
		return VersionPage{}, err
	}
	return relay.Cut(rows, limit, VersionCursor), nil
}

// VersionCursor is a version's cursor in newest-first order.
func VersionCursor(v store.Version) string { return relay.EncodeCursor(v.Major, v.Minor, v.Patch) }

// VersionsByIDs returns the versions among ids that v may see: approved
// versions of configurations v sees, and the rest only to owner and admins.
func (s *Service) VersionsByIDs(ctx context.Context, v identity.Viewer, ids []uuid.UUID) ([]store.Version, error) {
	versions, err := s.store.VersionsByIDs(ctx, ids)
	if err != nil || len(versions) == 0 {
		return nil, err
	}
	configs, err := s.visibleParents(ctx, v, len(versions), func(i int) uuid.UUID { return versions[i].ConfigurationID })
	if err != nil {
		return nil, err
	}
	var out []store.Version
	for _, ver := range versions {
		c, ok := configs[ver.ConfigurationID]
		// SECURITY: a version is seen through its configuration, and only
		// approved ones unless v sees the private side.
		if ok && (ver.State == store.VersionApproved || MayReadPrivate(v, c.DeveloperID)) {
			out = append(out, ver)
		}
	}
	return out, nil
}

// visibleParents loads, in one statement, the configurations of rows that
// v may see, by id.
func (s *Service) visibleParents(ctx context.Context, v identity.Viewer, n int, parent func(int) uuid.UUID) (map[uuid.UUID]store.Configuration, error) {
	ids := make([]uuid.UUID, n)
	for i := range n {
		ids[i] = parent(i)
	}
	configs, err := s.ConfigurationsByIDs(ctx, v, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID]store.Configuration, len(configs))
	for _, c := range configs {
		out[c.ID] = c
	}
	return out, nil
}

// ReviewsKey asks for the newest reviews of one configuration.
type ReviewsKey struct {
	ConfigurationID uuid.UUID
	First           int
}

// NewestReviews serves a batch of ReviewsKey, one statement per distinct
// page size. SECURITY: reviews are public (SPEC §1); this is only reached
// through a Configuration the viewer was allowed to load.
func (s *Service) NewestReviews(ctx context.Context, keys []ReviewsKey) (map[ReviewsKey][]store.Review, error) {
	byFirst := map[int][]uuid.UUID{}
	for _, k := range keys {
		byFirst[k.First] = append(byFirst[k.First], k.ConfigurationID)
	}
	out := make(map[ReviewsKey][]store.Review, len(keys))
	for first, ids := range byFirst {
		rows, err := s.store.NewestReviews(ctx, ids, first)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			out[ReviewsKey{id, first}] = []store.Review{}
		}
		for _, r := range rows {
			k := ReviewsKey{r.ConfigurationID, first}
			out[k] = append(out[k], r)
		}
	}
	return out, nil
}

// ReviewPage is a page of reviews.
type ReviewPage = relay.Connection[store.Review]

// ReviewCursor is a review's cursor in newest-first order.
func ReviewCursor(r store.Review) string { return relay.EncodeCursor(r.CreatedAt, r.ID) }

// Reviews reads a later page of a configuration's reviews.
func (s *Service) Reviews(ctx context.Context, c store.Configuration, limit int, after string) (ReviewPage, error) {
	var k store.TimeKey
	if err := relay.DecodeCursor(after, &k.At, &k.ID); err != nil {
		return ReviewPage{}, apperr.Wrap(apperr.KindInvalid, "after", err)
	}
	rows, err := s.store.ReviewsPage(ctx, c.ID, &k, limit+1)
	if err != nil {
		return ReviewPage{}, err
	}
	return relay.Cut(rows, limit, ReviewCursor), nil
}

// ReviewsByIDs returns the reviews among ids whose configuration v may see.
func (s *Service) ReviewsByIDs(ctx context.Context, v identity.Viewer, ids []uuid.UUID) ([]store.Review, error) {
	reviews, err := s.store.ReviewsByIDs(ctx, ids)
	if err != nil || len(reviews) == 0 {
		return nil, err
	}
	configs, err := s.visibleParents(ctx, v, len(reviews), func(i int) uuid.UUID { return reviews[i].ConfigurationID })
	if err != nil {
		return nil, err
	}
	var out []store.Review
	for _, r := range reviews {
		// SECURITY: a review is as visible as its configuration.
		if _, ok := configs[r.ConfigurationID]; ok {
			out = append(out, r)
		}
	}
	return out, nil
}
