package fastpath

import (
	"bytes"
	"maps"
	"slices"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2/ast"

	"configmarket/graph"
	"configmarket/graph/model"
	"configmarket/internal/catalog"
	"configmarket/internal/fieldcost"
	"configmarket/internal/money"
	"configmarket/internal/relay"
	"configmarket/internal/store"
)

// objectType is what the fast path knows of a GraphQL object type: the
// types a fragment on it may name (gqlgen's implementors) and its fields
// it can write, each with the object type of its value ("" for scalars and
// enums). A selection naming any other field goes to gqlgen.
type objectType struct {
	implements []string
	fields     map[string]string
}

// types are built once from the table of field costs (which fields the
// fast path writes: internal/fieldcost) and the executable schema (each
// field's type, each type's interfaces), so neither is copied here.
var types = objectTypes(graph.NewExecutableSchema(graph.Config{}).Schema(), fieldcost.Table())

// objectTypes are the object types of table in schema, with the fields
// the fast path writes. A field it writes whose value is neither an
// object, a scalar nor an enum is a mistake in the table: it panics
// (TestEveryFieldIsClassified fails first).
func objectTypes(schema *ast.Schema, table map[string]map[string]fieldcost.Field) map[string]objectType {
	out := make(map[string]objectType, len(table))
	for name, fields := range table {
		def := schema.Types[name]
		if def == nil || def.Kind != ast.Object {
			panic("fastpath: " + name + " is not an object type of the schema")
		}
		t := objectType{implements: fieldcost.Implementors(schema, name), fields: map[string]string{}}
		for field, f := range fields {
			if !f.Fast {
				continue
			}
			fd := def.Fields.ForName(field)
			if fd == nil {
				panic("fastpath: " + name + "." + field + " is not in the schema")
			}
			switch child := schema.Types[fd.Type.Name()]; child.Kind {
			case ast.Scalar, ast.Enum:
				t.fields[field] = ""
			case ast.Object:
				t.fields[field] = child.Name
			default:
				panic("fastpath: " + name + "." + field + " is a " + string(child.Kind))
			}
		}
		out[name] = t
	}
	return out
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
// one the fast path writes, and notes whether a configuration's versions
// are. The fields it collects are the ones the writer then writes
// (w.collect keeps them).
func (w *writer) supported(sel ast.SelectionSet, typ string) bool {
	t := types[typ]
	for _, f := range w.collect(sel, typ).fields {
		if f.Name == "__typename" {
			continue
		}
		child, ok := t.fields[f.Name]
		if !ok || (child != "" && !w.supported(f.Selections, child)) {
			return false
		}
		if typ == "Configuration" && f.Name == "versions" {
			w.versions = true
		}
	}
	return true
}

func (w *writer) configurationConnection(p catalog.StorefrontPage, sel ast.SelectionSet) bool {
	return connection(w, "ConfigurationConnection", "ConfigurationEdge", sel, len(p.Rows),
		func(i int) string { return p.Cursors[i] }, p.HasNext,
		func(i int, sel ast.SelectionSet) bool { return w.configuration(&p.Rows[i], &p.Cards[i], sel) })
}

// connection writes a Relay connection of typ with n nodes: its edges (of
// edgeType: cursor and node), its nodes and its page info, each node
// through node. Cursors are made only when written.
func connection(w *writer, typ, edgeType string, sel ast.SelectionSet, n int, cursor func(i int) string, hasNext bool,
	node func(i int, sel ast.SelectionSet) bool) bool {
	return w.object(typ, sel, func(f graphql.CollectedField) bool {
		switch f.Name {
		case "edges":
			return w.list(n, func(i int) bool {
				return w.object(edgeType, f.Selections, func(g graphql.CollectedField) bool {
					switch g.Name {
					case "cursor":
						return w.string(cursor(i))
					case "node":
						return node(i, g.Selections)
					}
					return false
				})
			})
		case "nodes":
			return w.list(n, func(i int) bool { return node(i, f.Selections) })
		case "pageInfo":
			return w.object("PageInfo", f.Selections, func(g graphql.CollectedField) bool {
				switch g.Name {
				case "hasNextPage":
					return w.bool(hasNext)
				case "hasPreviousPage":
					return w.bool(false)
				case "startCursor":
					if n == 0 {
						return w.null()
					}
					return w.string(cursor(0))
				case "endCursor":
					if n == 0 {
						return w.null()
					}
					return w.string(cursor(n - 1))
				}
				return false
			})
		}
		return false
	})
}

func (w *writer) configuration(c *store.Configuration, card *store.CardRows, sel ast.SelectionSet) bool {
	return w.object("Configuration", sel, func(f graphql.CollectedField) bool {
		switch f.Name {
		case "id":
			return w.nodeID(model.NodeID{Type: "Configuration", UUID: c.ID})
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
			return w.enum(string(c.Visibility))
		case "saleModes":
			return w.saleModes(c)
		case "supportMode":
			return w.enum(string(c.SupportMode))
		case "trialDays":
			return w.int(c.TrialDays)
		case "state":
			return w.enum(string(c.State))
		case "createdAt":
			return w.time(graphql.MarshalTime(c.CreatedAt))
		case "publishedAt":
			return w.optionalTime(c.PublishedAt)
		case "rating":
			return w.rating(c, f.Selections)
		case "category":
			return w.category(c.CategoryID, f.Selections)
		case "developer":
			return card.Developer != nil && w.developer(card.Developer, f.Selections)
		case "currentVersion":
			if card.Versions == nil {
				return false
			}
			if len(card.Versions) == 0 {
				return w.null()
			}
			return w.version(&card.Versions[0], f.Selections)
		case "versions":
			return w.versionConnection(c, card.Versions, f)
		case "rentPrices":
			return w.rentPrices(c, card.Prices, f.Selections)
		case "rentPrice":
			return w.rentPrice(c, card.Prices, f)
		case "salePrice":
			if card.Prices == nil {
				return false
			}
			m, ok := catalog.SalePrice(*c, card.Prices)
			return w.optionalMoney(m, ok, f.Selections)
		case "isFree":
			if card.Prices == nil {
				return false
			}
			return w.bool(catalog.IsFree(*c, card.Prices))
		}
		return false
	})
}

func (w *writer) saleModes(c *store.Configuration) bool {
	w.buf = append(w.buf, '[')
	if c.SellsRent {
		w.enum(string(store.PriceRent))
	}
	if c.SellsPurchase {
		if c.SellsRent {
			w.buf = append(w.buf, ',')
		}
		w.enum(string(store.PriceSale))
	}
	w.buf = append(w.buf, ']')
	return true
}

func (w *writer) rating(c *store.Configuration, sel ast.SelectionSet) bool {
	return w.object("Rating", sel, func(f graphql.CollectedField) bool {
		switch f.Name {
		case "average":
			average, ok := catalog.RatingAverage(*c)
			if !ok {
				return w.null()
			}
			return w.float(average)
		case "count":
			return w.int(c.RatingCount)
		}
		return false
	})
}

func (w *writer) category(id *uuid.UUID, sel ast.SelectionSet) bool {
	if id == nil {
		return w.null()
	}
	if w.categories == nil {
		cats, err := w.cat.Categories(w.ctx)
		if err != nil {
			return false
		}
		w.categories = cats
	}
	i := slices.IndexFunc(w.categories, func(c store.Category) bool { return c.ID == *id })
	if i < 0 {
		return w.null()
	}
	c := &w.categories[i]
	return w.object("Category", sel, func(f graphql.CollectedField) bool {
		switch f.Name {
		case "id":
			return w.nodeID(model.NodeID{Type: "Category", UUID: c.ID})
		case "slug":
			return w.string(c.Slug)
		case "name":
			return w.string(c.Name)
		}
		return false
	})
}

func (w *writer) developer(d *store.Developer, sel ast.SelectionSet) bool {
	return w.object("Developer", sel, func(f graphql.CollectedField) bool {
		switch f.Name {
		case "id":
			return w.nodeID(model.NodeID{Type: "Developer", UUID: d.ID})
		case "slug":
			return w.string(d.Slug)
		case "name":
			return w.string(d.Name)
		case "bio":
			return w.string(d.Bio)
		case "website":
			return w.optionalString(d.Website)
		case "status":
			return w.enum(d.Status)
		case "createdAt":
			return w.time(graphql.MarshalTime(d.CreatedAt))
		}
		return false
	})
}

// versionConnection writes the first page of a card's versions, which
// the page read newest first, one more than the longest page asked for
// (resolvers' cards). A later page, or a viewer who also sees the
// configuration's drafts, goes back to gqlgen.
func (w *writer) versionConnection(c *store.Configuration, versions []store.Version, f graphql.CollectedField) bool {
	a, ok := fieldArgs[struct {
		First *int    `json:"first"`
		After *string `json:"after"`
	}](w, f)
	if !ok || a.After != nil || versions == nil || catalog.MayReadPrivate(w.viewer, c.DeveloperID) {
		return false
	}
	limit, err := relay.PageSize(a.First)
	if err != nil {
		return false
	}
	page, hasNext := relay.Page(versions, limit)
	return connection(w, "VersionConnection", "VersionEdge", f.Selections, len(page),
		func(i int) string { return catalog.VersionCursor(page[i]) }, hasNext,
		func(i int, sel ast.SelectionSet) bool { return w.version(&page[i], sel) })
}

func (w *writer) version(v *store.Version, sel ast.SelectionSet) bool {
	return w.object("Version", sel, func(f graphql.CollectedField) bool {
		switch f.Name {
		case "id":
			return w.nodeID(model.NodeID{Type: "Version", UUID: v.ID})
		case "number":
			w.buf = append(w.buf, '"')
			w.buf = catalog.AppendVersionNumber(w.buf, *v)
			w.buf = append(w.buf, '"')
			return true
		case "changelog":
			return w.string(v.Changelog)
		case "state":
			return w.enum(string(v.State))
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

// tariffPlans are the plans, read once per answer.
func (w *writer) tariffPlans() bool {
	if w.plans != nil {
		return true
	}
	plans, err := w.cat.TariffPlans(w.ctx)
	w.plans = plans
	return err == nil && plans != nil
}

func (w *writer) rentPrices(c *store.Configuration, prices []store.Price, sel ast.SelectionSet) bool {
	if prices == nil || !w.tariffPlans() {
		return false
	}
	w.rent = catalog.AppendRentPrices(w.rent[:0], *c, prices, w.plans)
	return w.list(len(w.rent), func(i int) bool {
		p := w.rent[i]
		return w.object("PlanPrice", sel, func(f graphql.CollectedField) bool {
			switch f.Name {
			case "tariffPlan":
				return w.tariffPlan(p.Plan, f.Selections)
			case "price":
				return w.money(p.Amount, f.Selections)
			}
			return false
		})
	})
}

func (w *writer) rentPrice(c *store.Configuration, prices []store.Price, f graphql.CollectedField) bool {
	a, ok := fieldArgs[struct {
		Plan *string `json:"plan"`
	}](w, f)
	if !ok || a.Plan == nil || prices == nil {
		return false
	}
	if !c.SellsRent {
		return w.null()
	}
	plan, err := w.cat.TariffPlanByCode(w.ctx, *a.Plan)
	if err != nil {
		return false
	}
	if plan == nil {
		return w.null()
	}
	m, found := catalog.RentPrice(*c, prices, plan.ID)
	return w.optionalMoney(m, found, f.Selections)
}

// tariffPlan writes a plan; every card prices the same few plans, so each
// is written once per selection and its bytes copied after that.
func (w *writer) tariffPlan(t *store.TariffPlan, sel ast.SelectionSet) bool {
	var first *ast.Selection
	if len(sel) > 0 {
		first = &sel[0]
	}
	for _, p := range w.plansWritten {
		if p.plan == t && p.sel == first {
			w.buf = append(w.buf, p.json...)
			return true
		}
	}
	start := len(w.buf)
	if !w.writeTariffPlan(t, sel) {
		return false
	}
	w.plansWritten = append(w.plansWritten, writtenPlan{t, first, bytes.Clone(w.buf[start:])})
	return true
}

// writtenPlan is a plan's object as written for one selection.
type writtenPlan struct {
	plan *store.TariffPlan
	sel  *ast.Selection
	json []byte
}

func (w *writer) writeTariffPlan(t *store.TariffPlan, sel ast.SelectionSet) bool {
	return w.object("TariffPlan", sel, func(f graphql.CollectedField) bool {
		switch f.Name {
		case "id":
			return w.nodeID(model.NodeID{Type: "TariffPlan", UUID: t.ID})
		case "code":
			return w.string(t.Code)
		case "name":
			return w.string(t.Name)
		case "maxUsers":
			return w.int(t.MaxUsers)
		case "monthlyPrice":
			return w.money(t.MonthlyPrice, f.Selections)
		case "isDefault":
			return w.bool(t.IsDefault)
		}
		return false
	})
}

func (w *writer) optionalMoney(m money.Money, ok bool, sel ast.SelectionSet) bool {
	if !ok {
		return w.null()
	}
	return w.money(m, sel)
}

func (w *writer) money(m money.Money, sel ast.SelectionSet) bool {
	return w.object("Money", sel, func(f graphql.CollectedField) bool {
		switch f.Name {
		case "amount":
			return w.amount(m)
		case "currencyCode":
			return w.string(m.Currency)
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
