package resolvers

import (
	"context"
	"reflect"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"

	"configmarket/dataloaders"
	"configmarket/graph/model"
	"configmarket/internal/catalog"
	"configmarket/internal/identity"
	"configmarket/internal/relay"
	"configmarket/internal/store"
)

// nodeFields are the fields the query selects on the nodes of the
// connection being resolved, through `nodes` or `edges { node }`.
func nodeFields(ctx context.Context) []graphql.CollectedField {
	op := graphql.GetOperationContext(ctx)
	var out []graphql.CollectedField
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		switch f.Name {
		case "nodes":
			out = append(out, graphql.CollectFields(op, f.Selections, []string{"Configuration", "Node"})...)
		case "edges":
			for _, e := range graphql.CollectFields(op, f.Selections, nil) {
				if e.Name == "node" {
					out = append(out, graphql.CollectFields(op, e.Selections, []string{"Configuration", "Node"})...)
				}
			}
		}
	}
	return out
}

// prefetchConfigurations loads, for a page of configurations, the nested
// fields the query asks for, one statement per kind, so the page costs the
// same number of statements whatever its size.
func prefetchConfigurations(ctx context.Context, rows []store.Configuration) error {
	if len(rows) == 0 {
		return nil
	}
	v := identity.FromContext(ctx)
	vars := graphql.GetOperationContext(ctx).Variables
	ids := make([]uuid.UUID, len(rows))
	for i, c := range rows {
		ids[i] = c.ID
	}
	var p dataloaders.Prefetch
	for _, f := range nodeFields(ctx) {
		args := f.ArgumentMap(vars)
		switch f.Name {
		case "developer":
			for _, c := range rows {
				p.Developers = append(p.Developers, c.DeveloperID)
			}
		case "rentPrices", "rentPrice", "salePrice":
			p.Prices = ids
		case "currentVersion":
			for _, id := range ids {
				p.Versions = append(p.Versions, catalog.VersionsKey{ConfigurationID: id, First: 1})
			}
		case "versions":
			limit, ok := firstPage(args)
			for _, c := range rows {
				if ok {
					p.Versions = append(p.Versions, catalog.VersionsKey{ConfigurationID: c.ID, Private: catalog.CanSeePrivate(v, c), First: limit + 1})
				}
			}
		case "reviews":
			if limit, ok := firstPage(args); ok {
				for _, id := range ids {
					p.Reviews = append(p.Reviews, catalog.ReviewsKey{ConfigurationID: id, First: limit + 1})
				}
			}
		case "moderationHistory":
			for _, c := range rows {
				if catalog.CanSeePrivate(v, c) {
					p.Moderation = append(p.Moderation, c.ID)
				}
			}
		}
	}
	return dataloaders.From(ctx).Prefetch(ctx, p)
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
func siblingGroupings(ctx context.Context) []store.Grouping {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Parent == nil || fc.Parent.Field.Field == nil {
		return nil
	}
	op := graphql.GetOperationContext(ctx)
	mine := fc.Field.ArgumentMap(op.Variables)
	var out []store.Grouping
	for _, f := range graphql.CollectFields(op, fc.Parent.Field.Selections, []string{fc.Object, "Node"}) {
		if f.Name != fc.Field.Name || f.Alias == fc.Field.Alias {
			continue
		}
		args := f.ArgumentMap(op.Variables)
		if !reflect.DeepEqual(args["filter"], mine["filter"]) {
			continue
		}
		if g, ok := args["groupBy"].(string); ok {
			if sg, ok := groupings[model.EarningsGrouping(g)]; ok {
				out = append(out, sg)
			}
		}
	}
	return out
}
