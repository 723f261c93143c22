// Package limits bounds what one GraphQL document may ask: depth, aliases,
// cost (connections multiply their children by `first`), and how many
// sensitive mutations it carries. The numbers and their reasons are in
// Defaults.
package limits

import (
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"configmarket/internal/apperr"
	"configmarket/internal/relay"
)

// Limits are the bounds of one document.
type Limits struct {
	MaxDepth   int
	MaxAliases int
	MaxCost    int
	// MaxSelections bounds the fields and fragment spreads the document
	// expands to, counted per occurrence: duplicated fields cost nothing
	// by the cost rule but still parse, validate and merge, and fragments
	// that spread each other twice per level grow exponentially.
	MaxSelections int
	// Sensitive mutations (logging in, asking for money, making an API
	// token) may appear once per document, so one request cannot try many
	// passwords or payouts, or mint many secrets.
	Sensitive map[string]bool
}

// Defaults: the deepest real client query (viewer → customer →
// installations → configuration → versions → …) nests 7 levels, so 12
// leaves room; 30 aliases cover dashboards that ask for a few variants;
// a full storefront page of 100 configurations with every nested field
// costs about 2,000, so 5,000 allows it twice and stops floods; the
// largest client document (operations/) selects under 100 fields, so 400
// selections leave room and refuse graphql-cop's 500 duplicated fields.
var Defaults = Limits{
	MaxDepth:      12,
	MaxAliases:    30,
	MaxCost:       5000,
	MaxSelections: 400,
	Sensitive: map[string]bool{
		"logIn": true, "signUp": true, "refreshToken": true, "changePassword": true, "erasePersonalData": true, "requestPayout": true,
		// Aliases would otherwise mint dozens of secrets in one request.
		"createApiToken": true,
	},
}

// Measure is what a document asks for.
type Measure struct {
	Cost      int
	Depth     int
	Aliases   int
	Sensitive int
	// Selections counts fields and spreads as expanded; counting stops
	// just past the limit.
	Selections int
	// Introspection is set when the document asks for __schema or __type.
	Introspection bool
}

// Of measures the operation about to run.
func Of(op *graphql.OperationContext) Measure {
	var m Measure
	if op == nil || op.Operation == nil {
		return m
	}
	w := walker{op: op, m: &m}
	m.Cost = w.set(op.Operation.SelectionSet, 1, op.Operation.Operation == ast.Mutation)
	return m
}

type walker struct {
	op *graphql.OperationContext
	m  *Measure
}

// set returns the cost of a selection set at depth.
func (w walker) set(ss ast.SelectionSet, depth int, topMutation bool) int {
	cost := 0
	for _, sel := range ss {
		if w.m.Selections > Defaults.MaxSelections {
			return cost // refused anyway: do not expand the rest
		}
		w.m.Selections++
		switch s := sel.(type) {
		case *ast.Field:
			if s.Alias != "" && s.Alias != s.Name {
				w.m.Aliases++
			}
			if s.Name == "__typename" {
				continue
			}
			if s.Name == "__schema" || s.Name == "__type" {
				w.m.Introspection = true
			}
			if depth > w.m.Depth {
				w.m.Depth = depth
			}
			if topMutation && Defaults.Sensitive[s.Name] {
				w.m.Sensitive++
			}
			cost += 1 + w.multiplier(s)*w.set(s.SelectionSet, depth+1, false)
		case *ast.InlineFragment:
			cost += w.set(s.SelectionSet, depth, topMutation)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				cost += w.set(s.Definition.SelectionSet, depth, topMutation)
			}
		}
	}
	return cost
}

// multiplier is how many children a field returns at most: `first` for a
// connection (its default page when absent), the number of ids of nodes().
func (w walker) multiplier(f *ast.Field) int {
	if f.Definition == nil {
		return 1
	}
	args := f.ArgumentMap(w.op.Variables)
	if f.Definition.Arguments.ForName("first") != nil {
		switch n := args["first"].(type) {
		case int64:
			return clamp(int(n))
		case int:
			return clamp(n)
		}
		return relay.DefaultFirst
	}
	if ids, ok := args["ids"].([]any); ok {
		return clamp(len(ids))
	}
	return 1
}

func clamp(n int) int { return max(1, min(n, relay.MaxFirst)) }

// Check refuses a document past the limits.
func (l Limits) Check(m Measure) error {
	switch {
	case m.Depth > l.MaxDepth:
		return apperr.Invalid("", "the query nests %d levels; at most %d", m.Depth, l.MaxDepth).WithCode("MAX_DEPTH_EXCEEDED")
	case m.Aliases > l.MaxAliases:
		return apperr.Invalid("", "the query has %d aliases; at most %d", m.Aliases, l.MaxAliases).WithCode("MAX_ALIASES_EXCEEDED")
	case m.Cost > l.MaxCost:
		return apperr.Invalid("", "the query costs %d; at most %d", m.Cost, l.MaxCost).WithCode("MAX_COST_EXCEEDED")
	case m.Selections > l.MaxSelections:
		return apperr.Invalid("", "the query selects more than %d fields and fragments", l.MaxSelections).WithCode("MAX_SELECTIONS_EXCEEDED")
	case m.Sensitive > 1:
		return apperr.Invalid("", "at most one login, payout request or new API token per document").WithCode("SENSITIVE_MUTATION_REPEATED")
	}
	return nil
}
