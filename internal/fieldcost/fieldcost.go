// Package fieldcost is the one table of what reading a field costs: for
// each GraphQL type a page of configurations reads with its cards, what
// each of its fields needs beyond the row the page already has, and
// whether the storefront listing's fast path (internal/fastpath) writes
// it. The resolvers' prefetch (resolvers/prefetch.go) reads the costs to
// decide what a page's statement reads; the fast path reads which fields
// it writes, and takes each field's type and each type's interfaces from
// the executable schema.
//
// TestEveryFieldIsClassified walks the schema's fields of every type here
// and fails on one the table leaves out: a new field is classified here,
// once, or nothing builds a page with it. The store's column sets (a
// configuration's card, a developer's summary, a version's number and
// summary) must answer every field whose cost leaves them enough:
// internal/fastpath's TestStoreColumnSetsAnswerWhatFieldcostSays reads each
// field with the option its cost chooses and whole, and compares.
package fieldcost

import (
	"maps"

	"github.com/vektah/gqlparser/v2/ast"
)

// Cost is what reading a field needs beyond its object's summary row, as
// a set of reads.
type Cost uint16

const (
	// Detail: columns the object's summary row leaves out — a
	// configuration's card (store.StorefrontQuery without Details), a
	// developer's summary (id, slug, name), a version's summary (id,
	// number, state) — or, on a developer or version, a field of its own
	// resolver, which may read the row again through the loaders.
	Detail Cost = 1 << iota
	// Summary: a version's summary row, more than its number alone
	// (store.VersionNumber).
	Summary
	// Description: a configuration's long description.
	Description
	// Developer: the configuration's developer.
	Developer
	// Prices: the configuration's prices in force.
	Prices
	// CurrentVersion: the configuration's newest public version.
	CurrentVersion
	// VersionsPage: a page of the configuration's versions.
	VersionsPage
	// ReviewsPage: a page of the configuration's reviews.
	ReviewsPage
	// ModerationHistory: the configuration's moderation records.
	ModerationHistory
)

// Row costs nothing beyond the object's summary row: its columns answer
// the field, or its own resolver reads what it shows.
const Row Cost = 0

// unknown is what a field the table does not know is taken to cost: every
// column of its own row. TestEveryFieldIsClassified keeps it unused.
const unknown = Detail | Summary

// Field is one field's entry.
type Field struct {
	Cost Cost
	// Fast: the listing's fast path writes it.
	Fast bool
}

func fast(c Cost) Field       { return Field{Cost: c, Fast: true} }
func gqlgenOnly(c Cost) Field { return Field{Cost: c} }

var table = map[string]map[string]Field{
	"ConfigurationConnection": {"edges": fast(Row), "nodes": fast(Row), "pageInfo": fast(Row)},
	"ConfigurationEdge":       {"cursor": fast(Row), "node": fast(Row)},
	"PageInfo":                {"hasNextPage": fast(Row), "hasPreviousPage": fast(Row), "startCursor": fast(Row), "endCursor": fast(Row)},
	"Configuration": {
		"id": fast(Row), "slug": fast(Row), "title": fast(Row), "visibility": fast(Row), "saleModes": fast(Row),
		"state": fast(Row), "rating": fast(Row),
		"summary": fast(Detail), "description": fast(Detail | Description), "category": fast(Detail),
		"tags": fast(Detail), "screenshots": fast(Detail), "supportMode": fast(Detail), "trialDays": fast(Detail),
		"createdAt": fast(Detail), "publishedAt": fast(Detail),
		"developer": fast(Developer), "currentVersion": fast(CurrentVersion), "versions": fast(VersionsPage),
		"rentPrices": fast(Prices), "rentPrice": fast(Prices), "salePrice": fast(Prices), "isFree": fast(Prices),
		"reviews":             gqlgenOnly(ReviewsPage),
		"moderationHistory":   gqlgenOnly(ModerationHistory),
		"activeInstallations": gqlgenOnly(Row), "priceHistory": gqlgenOnly(Row),
		"suspendedReason": gqlgenOnly(Detail),
	},
	"Rating":   {"average": fast(Row), "count": fast(Row)},
	"Category": {"id": fast(Row), "slug": fast(Row), "name": fast(Row)},
	"Developer": {
		"id": fast(Row), "slug": fast(Row), "name": fast(Row),
		"bio": fast(Detail), "website": fast(Detail), "status": fast(Detail), "createdAt": fast(Detail),
		"configurations": gqlgenOnly(Detail), "installations": gqlgenOnly(Detail), "payments": gqlgenOnly(Detail),
		"earnings": gqlgenOnly(Detail), "earningsTotals": gqlgenOnly(Detail), "statement": gqlgenOnly(Detail),
		"balance": gqlgenOnly(Detail), "statusProgress": gqlgenOnly(Detail), "payouts": gqlgenOnly(Detail),
	},
	"VersionConnection": {"edges": fast(Row), "nodes": fast(Row), "pageInfo": fast(Row)},
	"VersionEdge":       {"cursor": fast(Row), "node": fast(Row)},
	"Version": {
		// A card's versions know whose they are: configuration costs nothing.
		"number": fast(Row), "configuration": gqlgenOnly(Row),
		"id": fast(Summary), "state": fast(Summary),
		"changelog": fast(Summary | Detail), "createdAt": fast(Summary | Detail), "submittedAt": fast(Summary | Detail),
		"decidedAt": fast(Summary | Detail), "rejectionReason": gqlgenOnly(Summary | Detail), "package": gqlgenOnly(Summary | Detail),
	},
	"PlanPrice": {"tariffPlan": fast(Row), "price": fast(Row)},
	"TariffPlan": {
		"id": fast(Row), "code": fast(Row), "name": fast(Row), "maxUsers": fast(Row), "monthlyPrice": fast(Row),
		"isDefault": fast(Row),
	},
	"Money": {"amount": fast(Row), "currencyCode": fast(Row)},
}

// Of is what reading typ.field costs. __typename costs nothing; a field
// the table does not know costs every column of its row.
func Of(typ, field string) Cost {
	if field == "__typename" {
		return Row
	}
	f, ok := table[typ][field]
	if !ok {
		return unknown
	}
	return f.Cost
}

// Table is the whole table, by type and field: a copy.
func Table() map[string]map[string]Field {
	out := make(map[string]map[string]Field, len(table))
	for typ, fields := range table {
		out[typ] = maps.Clone(fields)
	}
	return out
}

// Has reports whether c needs any of the reads of r.
func (c Cost) Has(r Cost) bool { return c&r != 0 }

// Implementors are the type conditions a fragment may name to select
// fields of the object type typ in schema: typ and every interface and
// union it belongs to, as gqlgen's generated implementors list them.
func Implementors(schema *ast.Schema, typ string) []string {
	out := []string{typ}
	if def := schema.Types[typ]; def != nil {
		for _, d := range schema.GetImplements(def) {
			out = append(out, d.Name)
		}
	}
	return out
}
