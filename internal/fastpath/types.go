package fastpath

import (
	"maps"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"configmarket/graph/model"
)

// objectType is what the fast path knows of a GraphQL object type: the
// types a fragment on it may name (gqlgen's implementors) and its fields
// it can write, each with the object type of its value ("" for scalars and
// enums). A selection naming any other field goes to gqlgen.
type objectType struct {
	implements []string
	fields     map[string]string
}

var types = map[string]objectType{
	"ConfigurationConnection": {[]string{"ConfigurationConnection"}, map[string]string{
		"edges": "ConfigurationEdge", "nodes": "Configuration", "pageInfo": "PageInfo",
	}},
	"ConfigurationEdge": {[]string{"ConfigurationEdge"}, map[string]string{"cursor": "", "node": "Configuration"}},
	"PageInfo": {[]string{"PageInfo"}, map[string]string{
		"hasNextPage": "", "hasPreviousPage": "", "startCursor": "", "endCursor": "",
	}},
	"Configuration": {[]string{"Configuration", "Node"}, map[string]string{
		"id": "", "slug": "", "title": "", "summary": "", "description": "", "tags": "", "screenshots": "",
		"visibility": "", "saleModes": "", "supportMode": "", "trialDays": "", "state": "",
		"createdAt": "", "publishedAt": "", "rating": "Rating", "category": "Category", "developer": "Developer",
		"currentVersion": "Version", "versions": "VersionConnection",
		"rentPrices": "PlanPrice", "rentPrice": "Money", "salePrice": "Money",
	}},
	"Rating":   {[]string{"Rating"}, map[string]string{"average": "", "count": ""}},
	"Category": {[]string{"Category", "Node"}, map[string]string{"id": "", "slug": "", "name": ""}},
	"Developer": {[]string{"Developer", "Node"}, map[string]string{
		"id": "", "slug": "", "name": "", "bio": "", "website": "", "status": "", "createdAt": "",
	}},
	"VersionConnection": {[]string{"VersionConnection"}, map[string]string{
		"edges": "VersionEdge", "nodes": "Version", "pageInfo": "PageInfo",
	}},
	"VersionEdge": {[]string{"VersionEdge"}, map[string]string{"cursor": "", "node": "Version"}},
	"Version": {[]string{"Version", "Node"}, map[string]string{
		"id": "", "number": "", "changelog": "", "state": "", "createdAt": "", "submittedAt": "", "decidedAt": "",
	}},
	"PlanPrice": {[]string{"PlanPrice"}, map[string]string{"tariffPlan": "TariffPlan", "price": "Money"}},
	"TariffPlan": {[]string{"TariffPlan", "Node"}, map[string]string{
		"id": "", "code": "", "name": "", "maxUsers": "", "monthlyPrice": "Money", "isDefault": "",
	}},
	"Money": {[]string{"Money"}, map[string]string{"amount": "", "currencyCode": ""}},
}

// Fields lists, by object type, the fields the fast path writes and the
// object type of each one's value ("" for scalars and enums), so tests can
// ask for every one of them.
func Fields() map[string]map[string]string {
	out := make(map[string]map[string]string, len(types))
	for name, t := range types {
		out[name] = maps.Clone(t.fields)
	}
	return out
}

// supported tells whether every field selected on typ, at any depth, is
// one the fast path writes. The fields it collects are the ones the writer
// then writes (w.collect keeps them).
func (w *writer) supported(sel ast.SelectionSet, typ string) bool {
	t := types[typ]
	for _, f := range w.collect(sel, typ) {
		if f.Name == "__typename" {
			continue
		}
		child, ok := t.fields[f.Name]
		if !ok || (child != "" && !w.supported(f.Selections, child)) {
			return false
		}
	}
	return true
}

func (w *writer) configurationConnection(c *model.ConfigurationConnection, sel ast.SelectionSet) bool {
	return connection(w, "ConfigurationConnection", "ConfigurationEdge", sel, c.Edges,
		func(e *model.ConfigurationEdge) (string, *model.Configuration) { return e.Cursor, e.Node },
		c.Nodes, c.PageInfo, w.configuration)
}

// connection writes a Relay connection of typ: its edges (of edgeType:
// cursor and node), its nodes and its page info, each node through node.
func connection[E, N any](w *writer, typ, edgeType string, sel ast.SelectionSet, edges []*E, edge func(*E) (string, N),
	nodes []N, page *model.PageInfo, node func(N, ast.SelectionSet) bool) bool {
	return w.object(typ, sel, func(f graphql.CollectedField) bool {
		switch f.Name {
		case "edges":
			return w.list(len(edges), func(i int) bool {
				if edges[i] == nil {
					return false
				}
				cursor, n := edge(edges[i])
				return w.object(edgeType, f.Selections, func(g graphql.CollectedField) bool {
					switch g.Name {
					case "cursor":
						return w.string(cursor)
					case "node":
						return node(n, g.Selections)
					}
					return false
				})
			})
		case "nodes":
			return w.list(len(nodes), func(i int) bool { return node(nodes[i], f.Selections) })
		case "pageInfo":
			return w.pageInfo(page, f.Selections)
		}
		return false
	})
}

func (w *writer) pageInfo(p *model.PageInfo, sel ast.SelectionSet) bool {
	return p != nil && w.object("PageInfo", sel, func(f graphql.CollectedField) bool {
		switch f.Name {
		case "hasNextPage":
			return w.bool(p.HasNextPage)
		case "hasPreviousPage":
			return w.bool(p.HasPreviousPage)
		case "startCursor":
			return w.optionalString(p.StartCursor)
		case "endCursor":
			return w.optionalString(p.EndCursor)
		}
		return false
	})
}

func (w *writer) configuration(c *model.Configuration, sel ast.SelectionSet) bool {
	if c == nil {
		return false
	}
	r := w.root.Configuration()
	return w.object("Configuration", sel, func(f graphql.CollectedField) bool {
		switch f.Name {
		case "id":
			return w.nodeID(c.ID)
		case "slug":
			return w.string(c.Slug)
		case "title":
			return w.string(c.Title)
		case "summary":
			return w.string(c.Summary)
		case "description":
			return w.string(c.Description)
		case "tags":
			return w.strings(c.Tags)
		case "screenshots":
			return w.strings(c.Screenshots)
		case "visibility":
			return w.marshal(c.Visibility)
		case "saleModes":
			return w.list(len(c.SaleModes), func(i int) bool { return w.marshal(c.SaleModes[i]) })
		case "supportMode":
			return w.marshal(c.SupportMode)
		case "trialDays":
			return w.int(c.TrialDays)
		case "state":
			return w.marshal(c.State)
		case "createdAt":
			return w.time(graphql.MarshalTime(c.CreatedAt))
		case "publishedAt":
			return w.optionalTime(c.PublishedAt)
		case "rating":
			return w.rating(c.Rating, f.Selections)
		case "category":
			cat, err := r.Category(w.ctx, c)
			return err == nil && w.category(cat, f.Selections)
		case "developer":
			d, err := r.Developer(w.ctx, c)
			return err == nil && d != nil && w.developer(d, f.Selections)
		case "currentVersion":
			v, err := r.CurrentVersion(w.ctx, c)
			if err != nil {
				return false
			}
			if v == nil {
				return w.null()
			}
			return w.version(v, f.Selections)
		case "versions":
			a, ok := fieldArgs[struct {
				First *int    `json:"first"`
				After *string `json:"after"`
			}](w, f)
			if !ok {
				return false
			}
			vs, err := r.Versions(w.ctx, c, a.First, a.After)
			return err == nil && w.versionConnection(vs, f.Selections)
		case "rentPrices":
			ps, err := r.RentPrices(w.ctx, c)
			return err == nil && ps != nil && w.list(len(ps), func(i int) bool { return w.planPrice(ps[i], f.Selections) })
		case "rentPrice":
			a, ok := fieldArgs[struct {
				Plan *string `json:"plan"`
			}](w, f)
			if !ok || a.Plan == nil {
				return false
			}
			m, err := r.RentPrice(w.ctx, c, *a.Plan)
			return err == nil && w.optionalMoney(m, f.Selections)
		case "salePrice":
			m, err := r.SalePrice(w.ctx, c)
			return err == nil && w.optionalMoney(m, f.Selections)
		}
		return false
	})
}

func (w *writer) rating(r *model.Rating, sel ast.SelectionSet) bool {
	return r != nil && w.object("Rating", sel, func(f graphql.CollectedField) bool {
		switch f.Name {
		case "average":
			if r.Average == nil {
				return w.null()
			}
			return graphql.MarshalFloatContext(*r.Average).MarshalGQLContext(w.ctx, &w.buf) == nil
		case "count":
			return w.int(r.Count)
		}
		return false
	})
}

func (w *writer) category(c *model.Category, sel ast.SelectionSet) bool {
	if c == nil {
		return w.null()
	}
	return w.object("Category", sel, func(f graphql.CollectedField) bool {
		switch f.Name {
		case "id":
			return w.id(c.ID)
		case "slug":
			return w.string(c.Slug)
		case "name":
			return w.string(c.Name)
		}
		return false
	})
}

func (w *writer) developer(d *model.Developer, sel ast.SelectionSet) bool {
	return w.object("Developer", sel, func(f graphql.CollectedField) bool {
		switch f.Name {
		case "id":
			return w.nodeID(d.ID)
		case "slug":
			return w.string(d.Slug)
		case "name":
			return w.string(d.Name)
		case "bio":
			return w.string(d.Bio)
		case "website":
			return w.optionalString(d.Website)
		case "status":
			return w.marshal(d.Status)
		case "createdAt":
			return w.time(graphql.MarshalTime(d.CreatedAt))
		}
		return false
	})
}

func (w *writer) versionConnection(c *model.VersionConnection, sel ast.SelectionSet) bool {
	return c != nil && connection(w, "VersionConnection", "VersionEdge", sel, c.Edges,
		func(e *model.VersionEdge) (string, *model.Version) { return e.Cursor, e.Node },
		c.Nodes, c.PageInfo, func(v *model.Version, sel ast.SelectionSet) bool { return v != nil && w.version(v, sel) })
}

func (w *writer) version(v *model.Version, sel ast.SelectionSet) bool {
	return w.object("Version", sel, func(f graphql.CollectedField) bool {
		switch f.Name {
		case "id":
			return w.nodeID(v.ID)
		case "number":
			return w.string(v.Number)
		case "changelog":
			return w.string(v.Changelog)
		case "state":
			return w.marshal(v.State)
		case "createdAt":
			return w.time(graphql.MarshalTime(v.CreatedAt))
		case "submittedAt":
			return w.optionalTime(v.SubmittedAt)
		case "decidedAt":
			return w.optionalTime(v.DecidedAt)
		}
		return false
	})
}

func (w *writer) planPrice(p *model.PlanPrice, sel ast.SelectionSet) bool {
	return p != nil && w.object("PlanPrice", sel, func(f graphql.CollectedField) bool {
		switch f.Name {
		case "tariffPlan":
			return w.tariffPlan(p.TariffPlan, f.Selections)
		case "price":
			return p.Price != nil && w.money(p.Price, f.Selections)
		}
		return false
	})
}

func (w *writer) tariffPlan(t *model.TariffPlan, sel ast.SelectionSet) bool {
	return t != nil && w.object("TariffPlan", sel, func(f graphql.CollectedField) bool {
		switch f.Name {
		case "id":
			return w.id(t.ID)
		case "code":
			return w.string(t.Code)
		case "name":
			return w.string(t.Name)
		case "maxUsers":
			return w.int(t.MaxUsers)
		case "monthlyPrice":
			return t.MonthlyPrice != nil && w.money(t.MonthlyPrice, f.Selections)
		case "isDefault":
			return w.bool(t.IsDefault)
		}
		return false
	})
}

func (w *writer) optionalMoney(m *model.Money, sel ast.SelectionSet) bool {
	if m == nil {
		return w.null()
	}
	return w.money(m, sel)
}

func (w *writer) money(m *model.Money, sel ast.SelectionSet) bool {
	return w.object("Money", sel, func(f graphql.CollectedField) bool {
		switch f.Name {
		case "amount":
			m.Amount.MarshalGQL(&w.buf)
			return true
		case "currencyCode":
			return w.string(m.CurrencyCode)
		}
		return false
	})
}

func (w *writer) optionalTime(t *time.Time) bool {
	if t == nil {
		return w.null()
	}
	return w.marshal(graphql.MarshalTime(*t))
}
