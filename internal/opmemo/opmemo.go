// Package opmemo remembers what is computed from a GraphQL operation alone.
// A storefront sends the same document with no variables on every request;
// what follows from its text (its cost, its cache key) need not be worked
// out again each time.
package opmemo

import (
	"github.com/99designs/gqlgen/graphql"
	lru "github.com/hashicorp/golang-lru/v2"
)

// Memo keeps values of V by operation, for the most recent documents.
type Memo[V any] struct {
	known *lru.Cache[string, entry[V]]
}

type entry[V any] struct {
	operation string
	value     V
}

// New keeps the values of up to size documents.
func New[V any](size int) *Memo[V] {
	known, err := lru.New[string, entry[V]](size)
	if err != nil {
		panic(err) // size <= 0: a programming error
	}
	return &Memo[V]{known: known}
}

// Of returns compute(op), remembered for operations without variables:
// with none, the operation is all in its document's text and name.
func (m *Memo[V]) Of(op *graphql.OperationContext, compute func(*graphql.OperationContext) V) V {
	if op == nil || op.Operation == nil || len(op.Variables) > 0 || len(op.Operation.VariableDefinitions) > 0 {
		return compute(op)
	}
	if e, ok := m.known.Get(op.RawQuery); ok && e.operation == op.OperationName {
		return e.value
	}
	v := compute(op)
	m.known.Add(op.RawQuery, entry[V]{operation: op.OperationName, value: v})
	return v
}
