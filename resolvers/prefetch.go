package resolvers

import (
	"context"
	"reflect"
	"slices"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"configmarket/dataloaders"
	"configmarket/graph"
	"configmarket/graph/model"
	"configmarket/internal/catalog"
	"configmarket/internal/earnings"
	"configmarket/internal/fieldcost"
	"configmarket/internal/identity"
	"configmarket/internal/relay"
)

// schema is the executable schema, and configurationImplementors the type
// conditions a fragment may name to select a configuration's fields.
var (
	schema                    = graph.NewExecutableSchema(graph.Config{}).Schema()
	configurationImplementors = fieldcost.Implementors(schema, "Configuration")
)

// nodeFields are the fields the query selects on the nodes of the
// connection being resolved, through `nodes` or `edges { node }`.
func nodeFields(ctx context.Context) []graphql.CollectedField {
	op := graphql.GetOperationContext(ctx)
	var out []graphql.CollectedField
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		switch f.Name {
		case "nodes":
			out = append(out, graphql.CollectFields(op, f.Selections, configurationImplementors)...)
		case "edges":
			for _, e := range graphql.CollectFields(op, f.Selections, nil) {
				if e.Name == "node" {
					out = append(out, graphql.CollectFields(op, e.Selections, configurationImplementors)...)
				}
			}
		}
	}
	return out
}

// configurationFields are the fields a query selects on a page of
// configurations that cost a read: other tables, and the long description.
type configurationFields struct {
	description, developer, prices, currentVersion, moderation bool
	// details: a field the card's columns (store.StorefrontQuery without
	// Details) do not answer (fieldcost.Detail).
	details bool
	// versions and reviews are the rows to read for the first pages of
	// those connections the query selects: their sizes + lookahead.
	versions, reviews []int
}

// selectedConfigurationFields reads them off the nodes of the connection
// being resolved.
func selectedConfigurationFields(ctx context.Context) configurationFields {
	return configurationFieldsOf(ctx, nodeFields(ctx))
}

func configurationFieldsOf(ctx context.Context, fields []graphql.CollectedField) configurationFields {
	vars := graphql.GetOperationContext(ctx).Variables
	var sel configurationFields
	for _, f := range fields {
		cost := fieldcost.Of("Configuration", f.Name)
		sel.details = sel.details || cost.Has(fieldcost.Detail)
		sel.description = sel.description || cost.Has(fieldcost.Description)
		sel.developer = sel.developer || cost.Has(fieldcost.Developer)
		sel.prices = sel.prices || cost.Has(fieldcost.Prices)
		sel.currentVersion = sel.currentVersion || cost.Has(fieldcost.CurrentVersion)
		sel.moderation = sel.moderation || cost.Has(fieldcost.ModerationHistory)
		if !cost.Has(fieldcost.VersionsPage | fieldcost.ReviewsPage) {
			continue
		}
		limit, ok := firstPage(f.ArgumentMap(vars))
		switch {
		case !ok:
		case cost.Has(fieldcost.VersionsPage):
			sel.versions = append(sel.versions, limit+lookahead(ctx))
		default:
			sel.reviews = append(sel.reviews, limit+lookahead(ctx))
		}
	}
	return sel
}

// StorefrontPage reads the page Query.configurations answers, with the
// same arguments, checks and card rows as its resolver, for the listing's
// fast path: it writes the page from these rows itself, without the models
// and loaders the field resolvers go through.
func (r *Resolver) StorefrontPage(ctx context.Context, first *int, after *string, filter *model.ConfigurationFilter, orderBy *model.ConfigurationOrder) (catalog.StorefrontPage, error) {
	page, _, err := storefrontPage(ctx, r.CatalogService, first, after, filter, orderBy)
	return page, err
}

func storefrontPage(ctx context.Context, cat *catalog.Service, first *int, after *string, filter *model.ConfigurationFilter, orderBy *model.ConfigurationOrder) (catalog.StorefrontPage, configurationFields, error) {
	args, err := storefrontArgs(first, after, filter, orderBy)
	if err != nil {
		return catalog.StorefrontPage{}, configurationFields{}, err
	}
	v := identity.FromContext(ctx)
	sel := selectedConfigurationFields(ctx)
	args.Cards = sel.cards(ctx, v)
	args.SkipCursors = !documentSelectsCursors(ctx)
	args.SkipHasNext = lookahead(ctx) == 0
	page, err := cat.Storefront(ctx, v, args)
	return page, sel, err
}

// configurationBySlug reads the configuration and what its page selects
// of other tables in one statement, and primes the loaders with it. Each
// nested field of one object would otherwise wait out the loaders' batch
// window, with nothing to batch.
func configurationBySlug(ctx context.Context, cat *catalog.Service, slug string) (*model.Configuration, error) {
	v := identity.FromContext(ctx)
	sel := configurationFieldsOf(ctx, graphql.CollectFieldsCtx(ctx, configurationImplementors))
	cards := sel.cards(ctx, v)
	// One configuration's reviews come with it; a page's are batched.
	cards.Reviews = slices.Max(append(sel.reviews, 0))
	c, card, err := cat.ConfigurationBySlug(ctx, v, slug, cards)
	if err != nil || c == nil {
		return nil, err
	}
	if err := prefetchConfigurations(ctx, sel, []catalog.Configuration{*c}, []catalog.CardRows{card}); err != nil {
		return nil, err
	}
	return toConfiguration(c), nil
}

// cards are what a storefront page reads with its configurations for
// these fields. Its versions are the public ones: an admin sees every
// configuration's private versions, so its page reads none.
func (sel configurationFields) cards(ctx context.Context, v identity.Viewer) catalog.Cards {
	c := catalog.Cards{Description: sel.description, Details: sel.details, Developer: sel.developer, Prices: sel.prices}
	if sel.currentVersion {
		c.Versions = 1
	}
	if !v.IsAdmin() {
		c.Versions = max(c.Versions, slices.Max(append(sel.versions, 0)))
	}
	switch {
	case c.Versions == 0:
	case documentSelectsVersionDetail(ctx):
		c.VersionColumns = catalog.VersionDetailColumns
	case !documentSelectsVersionSummary(ctx):
		c.VersionColumns = catalog.VersionNumberColumns
	}
	c.DeveloperDetail = c.Developer && documentSelectsDeveloperDetail(ctx)
	return c
}

// prefetchConfigurations loads, for a page of configurations, the nested
// fields the query asks for, one statement per kind, so the page costs the
// same number of statements whatever its size. What the page statement
// already read (cards, row by row; nil when it read none) primes the
// loaders instead.
func prefetchConfigurations(ctx context.Context, sel configurationFields, rows []catalog.Configuration, cards []catalog.CardRows) error {
	v := identity.FromContext(ctx)
	l := dataloaders.From(ctx)
	var p dataloaders.Prefetch
	for i, c := range rows {
		var card catalog.CardRows
		if cards != nil {
			card = cards[i]
		}
		if sel.developer {
			if card.Developer != nil {
				l.PrimeDeveloper(*card.Developer)
			} else {
				p.Developers = append(p.Developers, c.DeveloperID)
			}
		}
		if sel.prices {
			if card.Prices != nil {
				l.PrimePrices(c.ID, card.Prices)
			} else {
				p.Prices = append(p.Prices, c.ID)
			}
		}
		var versionKeys []catalog.VersionsKey
		if sel.currentVersion {
			versionKeys = append(versionKeys, catalog.VersionsKey{ConfigurationID: c.ID, First: 1})
		}
		for _, first := range sel.versions {
			versionKeys = append(versionKeys, catalog.VersionsKey{ConfigurationID: c.ID, Private: catalog.MayReadPrivate(v, c.DeveloperID), First: first})
		}
		for _, k := range versionKeys {
			// The card read as many public versions as the longest of
			// these asks for (cards), so its newest are the key's.
			if card.Versions != nil && !k.Private {
				l.PrimeNewestVersions(k, card.Versions[:min(k.First, len(card.Versions))])
			} else {
				p.Versions = append(p.Versions, k)
			}
		}
		for _, first := range sel.reviews {
			k := catalog.ReviewsKey{ConfigurationID: c.ID, First: first}
			// The card read as many as the longest of these asks for.
			if card.Reviews != nil {
				l.PrimeNewestReviews(k, card.Reviews[:min(first, len(card.Reviews))])
			} else {
				p.Reviews = append(p.Reviews, k)
			}
		}
		if sel.moderation && catalog.MayReadPrivate(v, c.DeveloperID) {
			p.Moderation = append(p.Moderation, c.ID)
		}
	}
	return l.Prefetch(ctx, p)
}

// firstPage reads a nested connection's page size when it asks for the
// first page (the only one loaders batch); a bad size is left for the
// field's own resolver to report.
func firstPage(args map[string]any) (int, bool) {
	if args["after"] != nil {
		return 0, false
	}
	var first *int
	switch n := args["first"].(type) {
	case int64:
		i := int(n)
		first = &i
	case int:
		first = &n
	}
	limit, err := relay.PageSize(first)
	return limit, err == nil
}

// siblingGroupings are the groupings of the other fields like the one being
// resolved (commissionTotals, earningsTotals) that the query selects on the
// same object with the same filter, so their totals can be summed together.
func siblingGroupings(ctx context.Context) []earnings.Grouping {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Parent == nil || fc.Parent.Field.Field == nil {
		return nil
	}
	op := graphql.GetOperationContext(ctx)
	mine := fc.Field.ArgumentMap(op.Variables)
	var out []earnings.Grouping
	for _, f := range graphql.CollectFields(op, fc.Parent.Field.Selections, fieldcost.Implementors(schema, fc.Object)) {
		if f.Name != fc.Field.Name || f.Alias == fc.Field.Alias {
			continue
		}
		args := f.ArgumentMap(op.Variables)
		if !reflect.DeepEqual(args["filter"], mine["filter"]) {
			continue
		}
		if g, ok := args["groupBy"].(string); ok && model.EarningsGrouping(g).IsValid() {
			out = append(out, fromEnum[earnings.Grouping](model.EarningsGrouping(g)))
		}
	}
	return out
}

// documentSelectsCursors reports whether the operation's document asks for
// a cursor anywhere (an edge's cursor, a page's start or end cursor), so a
// nested connection of every card (a storefront page's versions: 200
// cursors) can skip encoding cursors nobody reads. Read once per operation.
func documentSelectsCursors(ctx context.Context) bool {
	type key struct{}
	return documentSelects(ctx, key{}, func(f *ast.Field) bool {
		return f.Name == "cursor" || f.Name == "startCursor" || f.Name == "endCursor"
	})
}

// lookahead is how many rows past a first page to read: one, which tells
// whether another page follows, when the operation's document asks any
// connection's hasNextPage; none otherwise (a storefront page's versions
// read a quarter fewer rows, its statement a fiftieth).
func lookahead(ctx context.Context) int {
	type key struct{}
	if documentSelects(ctx, key{}, func(f *ast.Field) bool { return f.Name == "hasNextPage" }) {
		return 1
	}
	return 0
}

// documentSelectsDeveloperDetail reports whether the operation's document
// asks, anywhere, for a field of a developer its summary row leaves empty:
// a page's developers prime the loaders, which any developer field of the
// same document may read again.
func documentSelectsDeveloperDetail(ctx context.Context) bool {
	type key struct{}
	return documentSelects(ctx, key{}, func(f *ast.Field) bool {
		return f.ObjectDefinition != nil && f.ObjectDefinition.Name == "Developer" && fieldcost.Of("Developer", f.Name).Has(fieldcost.Detail)
	})
}

// documentSelectsVersionSummary reports whether the operation's document
// asks, anywhere, for a field of a version its number alone does not
// answer. Any node's id counts: "... on Node { id }" may name a version's.
func documentSelectsVersionSummary(ctx context.Context) bool {
	type key struct{}
	return documentSelects(ctx, key{}, func(f *ast.Field) bool {
		switch {
		case f.ObjectDefinition == nil:
			return false
		case f.ObjectDefinition.Name == "Node":
			return f.Name == "id"
		}
		return f.ObjectDefinition.Name == "Version" && fieldcost.Of("Version", f.Name).Has(fieldcost.Summary)
	})
}

// documentSelectsVersionDetail reports whether the operation's document
// asks, anywhere, for a field of a version its summary row leaves empty.
// The whole document counts: a page's versions prime the loaders, which a
// version connection deeper in the same document may read again.
func documentSelectsVersionDetail(ctx context.Context) bool {
	type key struct{}
	return documentSelects(ctx, key{}, func(f *ast.Field) bool {
		return f.ObjectDefinition != nil && f.ObjectDefinition.Name == "Version" && fieldcost.Of("Version", f.Name).Has(fieldcost.Detail)
	})
}

// documentSelects reports whether any field of the operation's document,
// in its operations or fragments, satisfies selects; the answer is kept
// under key for the rest of the operation.
func documentSelects(ctx context.Context, key any, selects func(*ast.Field) bool) bool {
	return dataloaders.From(ctx).Mapped(key, func() any {
		doc := graphql.GetOperationContext(ctx).Doc
		for _, op := range doc.Operations {
			if anySelected(op.SelectionSet, selects) {
				return true
			}
		}
		for _, f := range doc.Fragments {
			if anySelected(f.SelectionSet, selects) {
				return true
			}
		}
		return false
	}).(bool)
}

func anySelected(set ast.SelectionSet, selects func(*ast.Field) bool) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if selects(s) || anySelected(s.SelectionSet, selects) {
				return true
			}
		case *ast.InlineFragment:
			if anySelected(s.SelectionSet, selects) {
				return true
			}
		}
	}
	return false
}
