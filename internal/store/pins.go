package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Pin is a partner's deal protection on a customer (SPEC §7). StartsAt and
// ExpiresAt are set once the pin is active; the ledger reads them to decide
// commissions (ActivePinAt).
type Pin struct {
	ID         uuid.UUID
	PartnerID  uuid.UUID
	CustomerID uuid.UUID
	// PartnerName is who pinned the customer, for the customer's own view.
	PartnerName string
	State       PinState
	RequestedAt time.Time
	RequestedBy *uuid.UUID
	// RequestedVia is how the partner named the customer.
	RequestedVia *PinVia
	StartsAt     *time.Time
	ExpiresAt    *time.Time
	DecidedAt    *time.Time
	Reason       *string
}

// PinState is where a pin stands. Pending and active pins are live: a
// customer has at most one (index pins_one_live_per_customer).
type PinState string

// The states of a pin.
const (
	PinPending  PinState = "pending"
	PinActive   PinState = "active"
	PinDeclined PinState = "declined"
	PinExpired  PinState = "expired"
	PinRefused  PinState = "refused"
	PinReleased PinState = "released"
)

// PinVia is how a partner names the customer it pins: by tax number or by
// CRM account id.
type PinVia string

const (
	PinViaINN        PinVia = "inn"
	PinViaCRMAccount PinVia = "crm_account_id"
)

const pinColumns = `p.id, p.partner_id, p.customer_id, pa.name, p.state, p.requested_at, p.requested_by,
	p.requested_via, p.starts_at, p.expires_at, p.decided_at, p.reason`

func scanPin(r pgx.CollectableRow) (Pin, error) {
	var p Pin
	err := r.Scan(&p.ID, &p.PartnerID, &p.CustomerID, &p.PartnerName, &p.State, &p.RequestedAt, &p.RequestedBy,
		&p.RequestedVia, &p.StartsAt, &p.ExpiresAt, &p.DecidedAt, &p.Reason)
	return p, err
}

// PinCandidate is a customer a partner named for a pin.
type PinCandidate struct {
	CustomerID uuid.UUID
	// Paying is whether the customer ever paid on the platform; a paying
	// customer confirms a pin before it starts.
	Paying bool
}

// FindPinCandidate finds the customer with the tax number (PinViaINN) or
// CRM account id (PinViaCRMAccount); none is NotFound.
func (q *Queries) FindPinCandidate(ctx context.Context, via PinVia, value string) (PinCandidate, error) {
	const byINN = `select c.id, exists (select 1 from payments pm where pm.customer_id = c.id)
		from customers c where c.inn = $1`
	const byCRM = `select c.id, exists (select 1 from payments pm where pm.customer_id = c.id)
		from customers c where c.crm_account_id = $1`
	sql := byINN
	switch via {
	case PinViaINN:
	case PinViaCRMAccount:
		sql = byCRM
	default:
		return PinCandidate{}, fmt.Errorf("find pin candidate: unknown lookup %q", via)
	}
	return one(ctx, q.db, "select pin candidate", func(r pgx.CollectableRow) (PinCandidate, error) {
		var c PinCandidate
		err := r.Scan(&c.CustomerID, &c.Paying)
		return c, err
	}, sql, value)
}

// LivePin returns the customer's pending or active pin; found is false if
// it has none.
func (q *Queries) LivePin(ctx context.Context, customerID uuid.UUID) (Pin, bool, error) {
	const sql = `select ` + pinColumns + ` from pins p join partners pa on pa.id = p.partner_id
		where p.customer_id = $1 and p.state in ('pending', 'active')`
	p, err := one(ctx, q.db, "select live pin", scanPin, sql, customerID)
	if errors.Is(err, pgx.ErrNoRows) {
		return Pin{}, false, nil
	}
	return p, err == nil, err
}

// NewPin is a pin request to insert.
type NewPin struct {
	PartnerID    uuid.UUID
	CustomerID   uuid.UUID
	State        PinState
	RequestedAt  time.Time
	RequestedBy  uuid.UUID
	RequestedVia PinVia
	StartsAt     *time.Time
	ExpiresAt    *time.Time
	DecidedAt    *time.Time
}

// InsertPin records a pin. A second live pin of the customer violates
// pins_one_live_per_customer, which the caller sees as ALREADY_PINNED.
func (q *Queries) InsertPin(ctx context.Context, n NewPin) (Pin, error) {
	const sql = `with p as (
			insert into pins (partner_id, customer_id, state, requested_at, requested_by, requested_via,
				starts_at, expires_at, decided_at)
			values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			returning *)
		select ` + pinColumns + ` from p join partners pa on pa.id = p.partner_id`
	return one(ctx, q.db, "insert pin", scanPin, sql, n.PartnerID, n.CustomerID, n.State, n.RequestedAt, n.RequestedBy,
		n.RequestedVia, n.StartsAt, n.ExpiresAt, n.DecidedAt)
}

// LockPin reads a pin for a change.
func (q *Queries) LockPin(ctx context.Context, id uuid.UUID) (Pin, error) {
	const sql = `select ` + pinColumns + ` from pins p join partners pa on pa.id = p.partner_id
		where p.id = $1 for update of p`
	return one(ctx, q.db, "lock pin", scanPin, sql, id)
}

// PinChange is a pin's move to a new state; nil fields keep their value.
type PinChange struct {
	State     PinState
	StartsAt  *time.Time
	ExpiresAt *time.Time
	DecidedAt *time.Time
	Reason    *string
}

// UpdatePin applies a change to a pin the caller locked.
func (q *Queries) UpdatePin(ctx context.Context, id uuid.UUID, c PinChange) (Pin, error) {
	const sql = `with p as (
			update pins set state = $2, starts_at = coalesce($3, starts_at), expires_at = coalesce($4, expires_at),
				decided_at = coalesce($5, decided_at), reason = coalesce($6, reason)
			where id = $1
			returning *)
		select ` + pinColumns + ` from p join partners pa on pa.id = p.partner_id`
	return one(ctx, q.db, "update pin", scanPin, sql, id, c.State, c.StartsAt, c.ExpiresAt, c.DecidedAt, c.Reason)
}

// ExpireDuePins expires, in one statement, the active pins whose term
// ended by now and the pending pins requested at or before pendingBefore
// (the customer never answered), and records an "expired" event for each;
// customerID, if given, limits it to one customer. An unanswered request's
// decided_at is the moment it expired. It returns the expired pins' ids.
func (q *Queries) ExpireDuePins(ctx context.Context, now, pendingBefore time.Time, customerID *uuid.UUID) ([]uuid.UUID, error) {
	const sql = `with due as (
			update pins p set state = 'expired',
				decided_at = case when p.state = 'pending' then p.requested_at + ($1::timestamptz - $2::timestamptz)
					else p.decided_at end
			where (p.state = 'active' and p.expires_at <= $1 or p.state = 'pending' and p.requested_at <= $2)
				and ($3::uuid is null or p.customer_id = $3)
			returning p.id, p.expires_at),
		events as (
			insert into pin_events (pin_id, action, expires_at, created_at)
			select id, 'expired', expires_at, $1 from due)
		select id from due order by id`
	return list(ctx, q.db, "expire due pins", pgx.RowTo[uuid.UUID], sql, now, pendingBefore, customerID)
}

// PinsByIDs returns pins by id; the caller checks visibility.
func (q *Queries) PinsByIDs(ctx context.Context, ids []uuid.UUID) ([]Pin, error) {
	const sql = `select ` + pinColumns + ` from pins p join partners pa on pa.id = p.partner_id
		where p.id = any($1)`
	return list(ctx, q.db, "select pins", scanPin, sql, ids)
}

// PartnerPinsPage lists a partner's pins, newest request first, in any of
// states (nil for all).
func (q *Queries) PartnerPinsPage(ctx context.Context, partnerID uuid.UUID, states []PinState, after *TimeKey, limit int) ([]Pin, error) {
	const sql = `select ` + pinColumns + ` from pins p join partners pa on pa.id = p.partner_id
		where p.partner_id = $1 and ($2::text[] is null or p.state = any($2))
			and ($3::boolean is not true or (p.requested_at, p.id) < ($4, $5))
		order by p.requested_at desc, p.id desc
		limit $6`
	k := after.OrZero()
	return list(ctx, q.db, "select partner pins page", scanPin, sql, partnerID, states, after != nil, k.At, k.ID, limit)
}

// pinQueueMatch filters the admins' pin queue by the states $1 (null:
// every state).
const pinQueueMatch = `($1::text[] is null or p.state = any($1))`

// PinQueue lists every partner's pins in the states (nil: all), the
// oldest requested first: the admins' queue.
func (q *Queries) PinQueue(ctx context.Context, states []PinState, after *TimeKey, limit int) ([]Pin, error) {
	const sql = `select ` + pinColumns + ` from pins p join partners pa on pa.id = p.partner_id
		where ` + pinQueueMatch + ` and ($2::boolean is not true or (p.requested_at, p.id) > ($3, $4))
		order by p.requested_at, p.id
		limit $5`
	k := after.OrZero()
	return list(ctx, q.db, "select pin queue", scanPin, sql, states, after != nil, k.At, k.ID, limit)
}

// PinQueueCount counts the pins in the states (nil: all).
func (q *Queries) PinQueueCount(ctx context.Context, states []PinState) (int, error) {
	return q.count(ctx, "count pin queue", `select count(*) from pins p where `+pinQueueMatch, states)
}

// CustomerPins lists every pin ever requested on a customer, newest first.
func (q *Queries) CustomerPins(ctx context.Context, customerID uuid.UUID) ([]Pin, error) {
	const sql = `select ` + pinColumns + ` from pins p join partners pa on pa.id = p.partner_id
		where p.customer_id = $1
		order by p.requested_at desc, p.id desc`
	return list(ctx, q.db, "select customer pins", scanPin, sql, customerID)
}

// PinAction is one step in a pin's life.
type PinAction string

const (
	PinEventRequested PinAction = "requested"
	PinEventActivated PinAction = "activated"
	PinEventConfirmed PinAction = "confirmed"
	PinEventDeclined  PinAction = "declined"
	PinEventRenewed   PinAction = "renewed"
	PinEventRefused   PinAction = "refused"
	PinEventExpired   PinAction = "expired"
)

// PinEvent is one step in a pin's life.
type PinEvent struct {
	ID     uuid.UUID
	PinID  uuid.UUID
	Action PinAction
	// Actor is the user who acted; nil for the platform itself.
	Actor *uuid.UUID
	// Reason is the admin's, for a refusal.
	Reason *string
	// ExpiresAt is the pin's expiry after the step, where it has one.
	ExpiresAt *time.Time
	CreatedAt time.Time
}

// InsertPinEvent appends a step to a pin's history.
func (q *Queries) InsertPinEvent(ctx context.Context, e PinEvent) error {
	const sql = `insert into pin_events (pin_id, action, actor, reason, expires_at, created_at)
		values ($1, $2, $3, $4, $5, $6)`
	_, err := q.db.Exec(ctx, sql, e.PinID, e.Action, e.Actor, e.Reason, e.ExpiresAt, e.CreatedAt)
	return mapErr(err, "insert pin event")
}

// PinEvents lists a pin's history, oldest first. Steps stamped with the
// same instant (a request and its immediate activation) keep their
// lifecycle order.
func (q *Queries) PinEvents(ctx context.Context, pinID uuid.UUID) ([]PinEvent, error) {
	const sql = `select id, pin_id, action, actor, reason, expires_at, created_at from pin_events
		where pin_id = $1
		order by created_at,
			array_position(array['requested', 'activated', 'confirmed', 'declined', 'renewed', 'refused', 'expired'], action),
			id`
	return list(ctx, q.db, "select pin events", func(r pgx.CollectableRow) (PinEvent, error) {
		var e PinEvent
		err := r.Scan(&e.ID, &e.PinID, &e.Action, &e.Actor, &e.Reason, &e.ExpiresAt, &e.CreatedAt)
		return e, err
	}, sql, pinID)
}
