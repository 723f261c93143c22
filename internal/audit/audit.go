// Package audit carries what a mutation is, so that its audit row can be
// written by the transaction that makes its effect (store.InTx), or after
// the fact when it failed.
package audit

import (
	"context"
	"sync/atomic"
)

// Pending is the audit row of the mutation running in a context.
type Pending struct {
	Action string
	Target string
	// WithoutIP leaves the request's address out of the row: an erasure
	// must not record anew the IP history it erases.
	WithoutIP bool
	// written is set once a row for this mutation is committed.
	written atomic.Bool
}

// Written reports whether the row is already committed.
func (p *Pending) Written() bool { return p.written.Load() }

// MarkWritten records that the row is committed.
func (p *Pending) MarkWritten() { p.written.Store(true) }

type key struct{}

// With attaches a mutation's pending row to ctx.
func With(ctx context.Context, p *Pending) context.Context { return context.WithValue(ctx, key{}, p) }

// From returns the pending row of ctx's mutation, or nil outside one.
func From(ctx context.Context) *Pending {
	p, _ := ctx.Value(key{}).(*Pending)
	return p
}
