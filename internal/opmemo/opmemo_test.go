package opmemo

import (
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

func TestOnlyOperationsWithoutVariablesAreRemembered(t *testing.T) {
	m := New[int](10)
	calls := 0
	compute := func(*graphql.OperationContext) int { calls++; return calls }
	plain := func(name string) *graphql.OperationContext {
		return &graphql.OperationContext{RawQuery: "query A { a } query B { b }", OperationName: name, Operation: &ast.OperationDefinition{}}
	}
	withVars := &graphql.OperationContext{RawQuery: "query ($n: Int) { a(n: $n) }", Variables: map[string]any{"n": 1},
		Operation: &ast.OperationDefinition{VariableDefinitions: ast.VariableDefinitionList{{Variable: "n"}}}}
	for _, step := range []struct {
		op   *graphql.OperationContext
		want int
	}{
		{plain("A"), 1}, {plain("A"), 1}, // remembered
		{plain("B"), 2},              // another operation of the same document
		{plain("A"), 3},              // B took the document's place
		{withVars, 4}, {withVars, 5}, // never remembered
		{&graphql.OperationContext{RawQuery: "{ a }", Variables: map[string]any{"unused": 1}, Operation: &ast.OperationDefinition{}}, 6},
	} {
		if got := m.Of(step.op, compute); got != step.want {
			t.Fatalf("%s %q: %d, want %d", step.op.RawQuery, step.op.OperationName, got, step.want)
		}
	}
}
