package resolvers

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"configmarket/internal/apperr"
)

// RefuseNUL is an operation middleware, the first wall against a NUL
// character in any argument of the operation (a literal's "\u0000" or a
// variable's), in any field at any depth: the whole operation is refused
// as BAD_USER_INPUT naming the argument, before any resolver (or the
// storefront's fast path) runs. PostgreSQL cannot hold NUL in text, so the
// value would otherwise fail its statement and answer INTERNAL; no field
// of the API has a use for it. (The store maps PostgreSQL's refusal to
// bad input too, as the second wall.)
func RefuseNUL(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	if oc == nil || oc.Operation == nil || !mayHoldNUL(oc) {
		return next(ctx)
	}
	w := nulWalker{oc: oc, seen: map[string]bool{}}
	if !w.selections(oc.Operation.SelectionSet, nil) {
		return next(ctx)
	}
	err := &gqlerror.Error{
		Err:  apperr.Invalid(strings.Join(w.arg, "."), "%s must not contain NUL characters", strings.Join(w.arg, ".")),
		Path: append(append(ast.Path{}, w.at...), argPath(w.arg)...),
	}
	if w.field.Position != nil {
		err.Locations = []gqlerror.Location{{Line: w.field.Position.Line, Column: w.field.Position.Column}}
	}
	return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{PresentError(ctx, err)}})
}

// mayHoldNUL is the cheap test every operation pays: a literal can only
// carry NUL as the escape \u0000 (the lexer refuses a raw control
// character in a string), and variables are few and small. Only when it
// says yes is the document walked to name the argument.
func mayHoldNUL(oc *graphql.OperationContext) bool {
	return strings.Contains(oc.RawQuery, `\u`) || hasNUL(oc.Variables)
}

func hasNUL(v any) bool {
	switch v := v.(type) {
	case string:
		return strings.IndexByte(v, 0) >= 0
	case []any:
		for _, e := range v {
			if hasNUL(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range v {
			if hasNUL(e) {
				return true
			}
		}
	}
	return false
}

// nulWalker finds the first argument holding NUL: at is the response path
// of its field (aliases as the answer would name them), arg the argument's
// own path (argument, input fields, list indexes).
type nulWalker struct {
	oc    *graphql.OperationContext
	seen  map[string]bool
	field *ast.Field
	at    ast.Path
	arg   []string
}

func (w *nulWalker) selections(set ast.SelectionSet, at ast.Path) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			here := append(at[:len(at):len(at)], ast.PathName(s.Alias))
			for _, a := range s.Arguments {
				if path, ok := w.value(a.Value, []string{a.Name}); ok {
					w.field, w.at, w.arg = s, here, path
					return true
				}
			}
			if w.selections(s.SelectionSet, here) {
				return true
			}
		case *ast.InlineFragment:
			if w.selections(s.SelectionSet, at) {
				return true
			}
		case *ast.FragmentSpread:
			// Validation refuses cycles; a fragment spread twice is
			// walked once.
			if s.Definition != nil && !w.seen[s.Name] {
				w.seen[s.Name] = true
				if w.selections(s.Definition.SelectionSet, at) {
					return true
				}
			}
		}
	}
	return false
}

// value walks a literal, following variables into their coerced values.
func (w *nulWalker) value(v *ast.Value, path []string) ([]string, bool) {
	if v == nil {
		return nil, false
	}
	switch v.Kind {
	case ast.Variable:
		return goValue(w.oc.Variables[v.Raw], path)
	case ast.StringValue, ast.BlockValue:
		return path, strings.IndexByte(v.Raw, 0) >= 0
	case ast.ListValue:
		for i, c := range v.Children {
			if p, ok := w.value(c.Value, append(path[:len(path):len(path)], strconv.Itoa(i))); ok {
				return p, true
			}
		}
	case ast.ObjectValue:
		for _, c := range v.Children {
			if p, ok := w.value(c.Value, append(path[:len(path):len(path)], c.Name)); ok {
				return p, true
			}
		}
	}
	return nil, false
}

func goValue(v any, path []string) ([]string, bool) {
	switch v := v.(type) {
	case string:
		return path, strings.IndexByte(v, 0) >= 0
	case []any:
		for i, e := range v {
			if p, ok := goValue(e, append(path[:len(path):len(path)], strconv.Itoa(i))); ok {
				return p, true
			}
		}
	case map[string]any:
		// In key order, so the same request always names the same field.
		for _, k := range slices.Sorted(maps.Keys(v)) {
			if p, ok := goValue(v[k], append(path[:len(path):len(path)], k)); ok {
				return p, true
			}
		}
	}
	return nil, false
}

// argPath is an argument's path as path elements, list indexes as indexes.
func argPath(arg []string) ast.Path {
	out := make(ast.Path, 0, len(arg))
	for _, p := range arg {
		if i, err := strconv.Atoi(p); err == nil {
			out = append(out, ast.PathIndex(i))
		} else {
			out = append(out, ast.PathName(p))
		}
	}
	return out
}
