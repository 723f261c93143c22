package resolvers

import (
	"context"

	"github.com/google/uuid"

	"configmarket/dataloaders"
	"configmarket/graph/model"
	"configmarket/internal/apperr"
	"configmarket/internal/catalog"
	"configmarket/internal/identity"
	"configmarket/internal/relay"
)

const (
	typeConfiguration = "Configuration"
	typeVersion       = "Version"
	typeReview        = "Review"
	typeCategory      = "Category"
)

func toConfiguration(c *catalog.Configuration) *model.Configuration {
	if c == nil {
		return nil
	}
	return new(configurationModel).fill(c)
}

// configurationModel is a configuration's model with what it points to
// (its rating, the rating's average, its sale modes) in one allocation; a
// page allocates all of its own at once.
type configurationModel struct {
	model.Configuration
	rating    model.Rating
	average   float64
	saleModes [2]model.SaleMode
}

func (m *configurationModel) fill(c *catalog.Configuration) *model.Configuration {
	m.rating = model.Rating{Count: c.RatingCount}
	m.Configuration = model.Configuration{
		ID: model.NodeID{Type: typeConfiguration, UUID: c.ID}, Slug: c.Slug, Title: c.Title, Summary: c.Summary,
		Description: c.Description, Tags: c.Tags, Screenshots: c.Screenshots,
		Visibility: toEnum[model.Visibility](c.Visibility), SupportMode: toEnum[model.SupportMode](c.SupportMode),
		TrialDays: c.TrialDays, State: toEnum[model.ConfigurationState](c.State),
		Rating: &m.rating, SaleModes: m.saleModes[:0], CreatedAt: c.CreatedAt, PublishedAt: c.PublishedAt, Row: *c,
	}
	if average, ok := catalog.RatingAverage(*c); ok {
		m.average = average
		m.rating.Average = &m.average
	}
	if c.SellsRent {
		m.SaleModes = append(m.SaleModes, model.SaleModeRent)
	}
	if c.SellsPurchase {
		m.SaleModes = append(m.SaleModes, model.SaleModeSale)
	}
	return &m.Configuration
}

func toVersion(v *catalog.Version) *model.Version {
	if v == nil {
		return nil
	}
	return versionIn(new(model.Version), v)
}

// versionIn maps v into dst, for callers that allocate many at once.
func versionIn(dst *model.Version, v *catalog.Version) *model.Version {
	*dst = model.Version{
		ID: model.NodeID{Type: typeVersion, UUID: v.ID}, Number: catalog.VersionNumber(*v), Changelog: v.Changelog,
		State: toEnum[model.VersionState](v.State), CreatedAt: v.CreatedAt,
		SubmittedAt: v.SubmittedAt, DecidedAt: v.DecidedAt, Row: *v,
	}
	return dst
}

func toReview(r *catalog.Review) *model.Review {
	if r == nil {
		return nil
	}
	return &model.Review{
		ID: globalID(typeReview, r.ID), Rating: r.Rating, Body: r.Body, AuthorName: r.AuthorName,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, ConfigurationID: r.ConfigurationID,
	}
}

func toCategory(c *catalog.Category) *model.Category {
	if c == nil {
		return nil
	}
	return &model.Category{ID: globalID(typeCategory, c.ID), Slug: c.Slug, Name: c.Name}
}

// toConfigurationConnection maps a page of configurations after loading
// what the query selects on them; cards, when not nil, are what the page
// statement already read of it, row by row.
func toConfigurationConnection(ctx context.Context, sel configurationFields, p catalog.ConfigurationPage, cards []catalog.CardRows) (*model.ConfigurationConnection, error) {
	if err := prefetchConfigurations(ctx, sel, p.Rows, cards); err != nil {
		return nil, err
	}
	models, next := make([]configurationModel, len(p.Rows)), 0
	toConfiguration := func(c *catalog.Configuration) *model.Configuration {
		next++
		return models[next-1].fill(c)
	}
	edges, nodes := connection(p.Rows, p.Cursors, toConfiguration,
		func(c string, n *model.Configuration) model.ConfigurationEdge {
			return model.ConfigurationEdge{Cursor: c, Node: n}
		})
	return &model.ConfigurationConnection{Edges: edges, Nodes: nodes, PageInfo: pageInfo(p.Cursors, p.HasNext)}, nil
}

func toVersionConnection(p catalog.VersionPage) *model.VersionConnection {
	// One allocation for the page's versions: a storefront page maps 200.
	versions, next := make([]model.Version, len(p.Rows)), 0
	toVersion := func(v *catalog.Version) *model.Version {
		next++
		return versionIn(&versions[next-1], v)
	}
	edges, nodes := connection(p.Rows, p.Cursors, toVersion,
		func(c string, n *model.Version) model.VersionEdge { return model.VersionEdge{Cursor: c, Node: n} })
	return &model.VersionConnection{Edges: edges, Nodes: nodes, PageInfo: pageInfo(p.Cursors, p.HasNext)}
}

// firstVersions is a configuration's first page of versions, through the
// operation's loaders: the versions of a page of configurations are read
// in one statement. A document that selects no cursor gets none encoded.
func firstVersions(ctx context.Context, v identity.Viewer, c catalog.Configuration, limit int) (*model.VersionConnection, error) {
	key := catalog.VersionsKey{ConfigurationID: c.ID, Private: catalog.MayReadPrivate(v, c.DeveloperID), First: limit + lookahead(ctx)}
	rows, err := dataloaders.From(ctx).NewestVersions(ctx, key)
	if err != nil {
		return nil, err
	}
	cursor := catalog.VersionCursor
	if !documentSelectsCursors(ctx) {
		cursor = noCursor
	}
	return toVersionConnection(relay.Cut(rows, limit, cursor)), nil
}

func toReviewConnection(p catalog.ReviewPage) *model.ReviewConnection {
	edges, nodes := connection(p.Rows, p.Cursors, toReview,
		func(c string, n *model.Review) model.ReviewEdge { return model.ReviewEdge{Cursor: c, Node: n} })
	return &model.ReviewConnection{Edges: edges, Nodes: nodes, PageInfo: pageInfo(p.Cursors, p.HasNext)}
}

// toPlanPrices maps a configuration's rent prices, its plans once per
// operation (tariffPlanOnce).
func toPlanPrices(l *dataloaders.Loaders, rent []catalog.RentOnPlan) []*model.PlanPrice {
	out := make([]*model.PlanPrice, len(rent))
	// One allocation for all of a card's prices, not two per price.
	type planPrice struct {
		model.PlanPrice
		money model.Money
	}
	each := make([]planPrice, len(rent))
	for i, p := range rent {
		pp := &each[i]
		pp.PlanPrice = model.PlanPrice{Price: moneyIn(&pp.money, p.Amount), TariffPlan: tariffPlanOnce(l, p.Plan)}
		out[i] = &pp.PlanPrice
	}
	return out
}

// connection maps a page of rows to a Relay connection's edges and nodes
// (never nil: clients get empty lists). The edges share one allocation: a
// storefront page has 200 of its versions'.
func connection[R, N, E any](rows []R, cursors []string, node func(*R) N, edge func(string, N) E) ([]*E, []N) {
	all, edges, nodes := make([]E, len(rows)), make([]*E, 0, len(rows)), make([]N, 0, len(rows))
	for i := range rows {
		n := node(&rows[i])
		all[i] = edge(cursors[i], n)
		edges = append(edges, &all[i])
		nodes = append(nodes, n)
	}
	return edges, nodes
}

func pageInfo(cursors []string, hasNext bool) *model.PageInfo {
	pi := &model.PageInfo{HasNextPage: hasNext}
	if n := len(cursors); n > 0 {
		pi.StartCursor, pi.EndCursor = &cursors[0], &cursors[n-1]
	}
	return pi
}

// idArg decodes a global id argument of the wanted type.
func idArg(field, global, typeName string) (uuid.UUID, error) {
	id, err := relay.ParseUUIDOf(global, typeName)
	if err != nil {
		return uuid.Nil, apperr.Wrap(apperr.KindInvalid, field, err)
	}
	return id, nil
}

func saleModeNames(modes []model.SaleMode) []catalog.PriceKind {
	if modes == nil {
		return nil
	}
	out := []catalog.PriceKind{}
	for _, m := range modes {
		out = append(out, fromEnum[catalog.PriceKind](m))
	}
	return out
}

// storefrontArgs translates the storefront's GraphQL arguments.
func storefrontArgs(first *int, after *string, f *model.ConfigurationFilter, o *model.ConfigurationOrder) (catalog.StorefrontArgs, error) {
	a := catalog.StorefrontArgs{First: first, After: after}
	if f != nil {
		a.Search, a.Category, a.Tags, a.HasTrial = deref(f.Search), deref(f.Category), f.Tags, f.HasTrial
		if f.SaleMode != nil {
			a.SaleMode = fromEnum[catalog.PriceKind](*f.SaleMode)
		}
		if f.Price != nil {
			a.PricePlan = deref(f.Price.Plan)
			a.MinPrice, a.MaxPrice = (*string)(f.Price.Min), (*string)(f.Price.Max)
		}
		if f.Developer != nil {
			id, err := idArg("filter.developer", *f.Developer, typeDeveloper)
			if err != nil {
				return a, err
			}
			a.Developer = &id
		}
	}
	if o != nil {
		a.Order = fromEnum[string](o.Field)
		if o.Direction != nil {
			desc := *o.Direction == model.OrderDirectionDesc
			a.Desc = &desc
		}
		if o.Plan != nil {
			if a.PricePlan != "" && a.PricePlan != *o.Plan {
				return a, apperr.Invalid("orderBy.plan", "orderBy.plan and filter.price.plan name different plans")
			}
			a.PricePlan = *o.Plan
		}
	}
	return a, nil
}

// optionalConfiguration loads the configuration an object may name.
func optionalConfiguration(ctx context.Context, id *uuid.UUID) (*model.Configuration, error) {
	if id == nil {
		return nil, nil
	}
	c, err := dataloaders.From(ctx).Configuration(ctx, *id)
	return toConfiguration(c), err
}

// noCursor stands in for a cursor the document does not select
// (documentSelectsCursors): it is never written.
func noCursor(catalog.Version) string { return "" }
