// Package audit carries what a mutation is, so that its audit row can be
// written by the transaction that makes its effect (the domain hands it to
// store.InTx as store.Audit(audit.From(ctx))), or after the fact when it
// failed.
package audit

import (
	"context"
	"sync/atomic"

	"configmarket/internal/money"
)

// Result is how an audited action ended.
type Result string

const (
	OK Result = "ok"
	// Denied: the actor was not authenticated or not allowed.
	Denied Result = "denied"
	// Failed: the action was refused for its input or state, or broke.
	Failed Result = "failed"
)

// Pending is the audit row of the mutation (or system action) running in a
// context.
type Pending struct {
	Action string
	// Target is the global id of what the action acts on, named by the
	// code that runs it (SetTarget), never guessed from its input.
	Target string
	// Amount is the money the action moved, when it moved money.
	Amount *money.Money
	// EventID is the payment provider's event id of a webhook action.
	EventID string
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

// SetTarget names what the running mutation acts on (a global id); outside
// a mutation it does nothing.
func SetTarget(ctx context.Context, target string) {
	if p := From(ctx); p != nil {
		p.Target = target
	}
}

// SetAmount records the money the running mutation moves.
func SetAmount(ctx context.Context, m money.Money) {
	if p := From(ctx); p != nil {
		p.Amount = &m
	}
}

// System starts the audit row of an action the platform takes on its own
// (a provider's webhook event, a job): the transaction that makes its
// effect writes it (store.Audit), with the system as the actor.
func System(ctx context.Context, action, target, eventID string) context.Context {
	return With(ctx, &Pending{Action: action, Target: target, EventID: eventID})
}
