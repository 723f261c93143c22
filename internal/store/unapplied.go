package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"configmarket/internal/apperr"
	"configmarket/internal/money"
)

// Provider events, the refunds and chargebacks they carry, the unapplied
// payments an admin resolves and the license holds of chargebacks
// (migration 0021).

// EventKind is what a provider event reports about money.
type EventKind string

const (
	EventPayment    EventKind = "payment"
	EventRefund     EventKind = "refund"
	EventChargeback EventKind = "chargeback"
)

// UnappliedState is where an unapplied payment stands.
type UnappliedState string

const (
	UnappliedOpen     UnappliedState = "open"
	UnappliedApplied  UnappliedState = "applied"
	UnappliedReturned UnappliedState = "returned"
)

// UnappliedReason says why the books could not take an event's money.
type UnappliedReason string

const (
	ReasonInvoiceUnknown       UnappliedReason = "invoice_unknown"
	ReasonInvoiceNotOpen       UnappliedReason = "invoice_not_open"
	ReasonAmountMismatch       UnappliedReason = "amount_mismatch"
	ReasonCurrencyMismatch     UnappliedReason = "currency_mismatch"
	ReasonAmountInvalid        UnappliedReason = "amount_invalid"
	ReasonPaidBeforeIssue      UnappliedReason = "paid_before_issue"
	ReasonPaidInFuture         UnappliedReason = "paid_in_future"
	ReasonDuplicatePayment     UnappliedReason = "duplicate_payment"
	ReasonPaymentUnknown       UnappliedReason = "payment_unknown"
	ReasonRefundExceedsPayment UnappliedReason = "refund_exceeds_payment"
	// ReasonRefused: the payment path refused the event for a reason not
	// named above (its text says which).
	ReasonRefused UnappliedReason = "refused"
)

// InsertProviderEvent records a provider event with its raw body; applied
// is false when the event was seen before (a replay).
func (q *Queries) InsertProviderEvent(ctx context.Context, provider, eventID, typ string, payload json.RawMessage) (applied bool, err error) {
	const sql = `insert into provider_events (provider, event_id, type, payload) values ($1, $2, $3, $4)
		on conflict do nothing`
	tag, err := q.db.Exec(ctx, sql, provider, eventID, typ, payload)
	return tag.RowsAffected() == 1, mapErr(err, "insert provider event")
}

// Savepoint runs fn inside a savepoint of the transaction: when fn fails,
// what it wrote is undone and the transaction goes on (the caller decides
// what the failure means). Outside InTx it refuses.
func (q *Queries) Savepoint(ctx context.Context, fn func(q *Queries) error) error {
	tx, ok := q.db.(pgx.Tx)
	if !ok {
		return apperr.Internal(errNotInTx)
	}
	sp, err := tx.Begin(ctx)
	if err != nil {
		return mapErr(err, "savepoint")
	}
	inner := &Queries{db: sp, subjectSet: q.subjectSet}
	if err := fn(inner); err != nil {
		// The row-level-security subject, if fn named it, is undone too.
		if rerr := sp.Rollback(ctx); rerr != nil {
			return mapErr(rerr, "rollback to savepoint")
		}
		return err
	}
	if err := sp.Commit(ctx); err != nil {
		return mapErr(err, "release savepoint")
	}
	q.subjectSet = inner.subjectSet
	return nil
}

var errNotInTx = errors.New("savepoint outside a transaction")

// LockPaymentByProviderID reads the payment with the provider's id for a
// refund.
func (q *Queries) LockPaymentByProviderID(ctx context.Context, provider, providerPaymentID string) (Payment, error) {
	const sql = `select ` + paymentColumns + ` from payments p
		where p.provider = $1 and p.provider_payment_id = $2 for update`
	return one(ctx, q.db, "lock payment by provider id", scanPayment, sql, provider, providerPaymentID)
}

// ProviderMoneySeen reports whether the provider's money an event carries
// was taken before, under any event id: a payment by its payment id, a
// refund or chargeback by its own id, applied or kept unapplied.
func (q *Queries) ProviderMoneySeen(ctx context.Context, provider string, kind EventKind, paymentID, refundID string) (bool, error) {
	const sql = `select case when $2 = 'payment' then
			exists (select 1 from payments where provider = $1 and provider_payment_id = $3)
			or exists (select 1 from unapplied_payments where provider = $1 and kind = 'payment' and provider_payment_id = $3)
		else
			exists (select 1 from refunds where provider = $1 and kind = $2 and provider_refund_id = $4)
			or exists (select 1 from unapplied_payments where provider = $1 and kind = $2 and provider_refund_id = $4)
		end`
	var seen bool
	err := q.withSubject(ctx, "select provider money", func(db dbtx) error {
		return mapErr(db.QueryRow(ctx, sql, provider, string(kind), paymentID, refundID).Scan(&seen), "select provider money")
	})
	return seen, err
}

// NewRefund is money given back on a payment: an admin's refund, or a
// refund or chargeback the provider reported (Provider and
// ProviderRefundID set).
type NewRefund struct {
	PaymentID        uuid.UUID
	Amount           money.Money
	Kind             EventKind
	Reason           string
	RecordedBy       *uuid.UUID
	Provider         string
	ProviderRefundID string
	At               time.Time
}

// AddRefund records a refund; a provider's refund id applies once
// (refunds_provider_key).
func (q *Queries) AddRefund(ctx context.Context, r NewRefund) (uuid.UUID, error) {
	const sql = `insert into refunds (payment_id, amount_minor, currency, reason, recorded_by, created_at, kind,
			provider, provider_refund_id)
		values ($1, $2, $3, $4, $5, $6, $7, nullif($8, ''), nullif($9, '')) returning id`
	var id uuid.UUID
	err := q.db.QueryRow(ctx, sql, r.PaymentID, r.Amount.Minor, r.Amount.Currency, r.Reason, r.RecordedBy, r.At,
		string(r.Kind), r.Provider, r.ProviderRefundID).Scan(&id)
	return id, mapErr(err, "insert refund")
}

// HoldLicense holds an installation's license because of a chargeback.
func (q *Queries) HoldLicense(ctx context.Context, installationID, refundID uuid.UUID, at time.Time) error {
	const sql = `insert into license_holds (installation_id, refund_id, held_at) values ($1, $2, $3)`
	_, err := q.db.Exec(ctx, sql, installationID, refundID, at)
	return mapErr(err, "insert license hold")
}

// LicenseHeld reports whether an installation's license is held.
func (q *Queries) LicenseHeld(ctx context.Context, installationID uuid.UUID) (bool, error) {
	const sql = `select exists (select 1 from license_holds where installation_id = $1 and restored_at is null)`
	var held bool
	err := q.db.QueryRow(ctx, sql, installationID).Scan(&held)
	return held, mapErr(err, "select license hold")
}

// RestoreLicense ends every hold of an installation's license; it returns
// how many were live.
func (q *Queries) RestoreLicense(ctx context.Context, installationID, by uuid.UUID, note string, at time.Time) (int64, error) {
	const sql = `update license_holds set restored_at = $3, restored_by = $2, note = $4
		where installation_id = $1 and restored_at is null`
	tag, err := q.db.Exec(ctx, sql, installationID, by, at, note)
	return tag.RowsAffected(), mapErr(err, "restore license")
}

// UnappliedPayment is a provider event whose money the books could not
// take, kept until an admin resolves it.
type UnappliedPayment struct {
	ID                uuid.UUID
	Provider          string
	EventID           string
	Kind              EventKind
	ProviderPaymentID string
	ProviderRefundID  *string
	Amount            money.Money
	InvoiceID         *uuid.UUID
	PaymentID         *uuid.UUID
	OccurredAt        time.Time
	Reason            UnappliedReason
	ReasonText        string
	Event             json.RawMessage
	ReceivedAt        time.Time
	State             UnappliedState
	ResolvedAt        *time.Time
	ResolvedBy        *uuid.UUID
	Note              *string
	AppliedPaymentID  *uuid.UUID
	AppliedInvoiceID  *uuid.UUID
}

const unappliedColumns = `u.id, u.provider, u.event_id, u.kind, u.provider_payment_id, u.provider_refund_id,
	u.amount_minor, u.currency, u.invoice_id, u.payment_id, u.occurred_at, u.reason, u.reason_text, u.event,
	u.received_at, u.state, u.resolved_at, u.resolved_by, u.note, u.applied_payment_id, u.applied_invoice_id`

func scanUnapplied(r pgx.CollectableRow) (UnappliedPayment, error) {
	var u UnappliedPayment
	var kind, reason, state string
	err := r.Scan(&u.ID, &u.Provider, &u.EventID, &kind, &u.ProviderPaymentID, &u.ProviderRefundID,
		&u.Amount.Minor, &u.Amount.Currency, &u.InvoiceID, &u.PaymentID, &u.OccurredAt, &reason, &u.ReasonText, &u.Event,
		&u.ReceivedAt, &state, &u.ResolvedAt, &u.ResolvedBy, &u.Note, &u.AppliedPaymentID, &u.AppliedInvoiceID)
	u.Kind, u.Reason, u.State = EventKind(kind), UnappliedReason(reason), UnappliedState(state)
	return u, err
}

// InsertUnapplied keeps an event whose money the books could not take.
func (q *Queries) InsertUnapplied(ctx context.Context, u UnappliedPayment) (UnappliedPayment, error) {
	const sql = `insert into unapplied_payments as u (provider, event_id, kind, provider_payment_id, provider_refund_id,
			amount_minor, currency, invoice_id, payment_id, occurred_at, reason, reason_text, event, received_at)
		values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		returning ` + unappliedColumns
	var out UnappliedPayment
	err := q.withSubject(ctx, "insert unapplied payment", func(db dbtx) error {
		var err error
		out, err = one(ctx, db, "insert unapplied payment", scanUnapplied, sql, u.Provider, u.EventID, string(u.Kind),
			u.ProviderPaymentID, u.ProviderRefundID, u.Amount.Minor, u.Amount.Currency, u.InvoiceID, u.PaymentID,
			u.OccurredAt, string(u.Reason), u.ReasonText, u.Event, u.ReceivedAt)
		return err
	})
	return out, err
}

// UnappliedByIDs returns unapplied payments by id; the caller checks
// visibility (and row-level security lets only the platform and admins
// read any).
func (q *Queries) UnappliedByIDs(ctx context.Context, ids []uuid.UUID) ([]UnappliedPayment, error) {
	const sql = `select ` + unappliedColumns + ` from unapplied_payments u where u.id = any($1)`
	var out []UnappliedPayment
	err := q.withSubject(ctx, "select unapplied payments", func(db dbtx) error {
		var err error
		out, err = list(ctx, db, "select unapplied payments", scanUnapplied, sql, ids)
		return err
	})
	return out, err
}

// LockUnapplied reads an unapplied payment for its resolution.
func (q *Queries) LockUnapplied(ctx context.Context, id uuid.UUID) (UnappliedPayment, error) {
	const sql = `select ` + unappliedColumns + ` from unapplied_payments u where u.id = $1 for update`
	var out UnappliedPayment
	err := q.withSubject(ctx, "lock unapplied payment", func(db dbtx) error {
		var err error
		out, err = one(ctx, db, "lock unapplied payment", scanUnapplied, sql, id)
		return err
	})
	return out, err
}

// UnappliedResolution is how an admin resolved an unapplied payment.
type UnappliedResolution struct {
	State            UnappliedState
	By               uuid.UUID
	Note             string
	At               time.Time
	AppliedPaymentID *uuid.UUID
	AppliedInvoiceID *uuid.UUID
}

// ResolveUnapplied records the resolution of an open unapplied payment;
// resolved is false when it was not open.
func (q *Queries) ResolveUnapplied(ctx context.Context, id uuid.UUID, r UnappliedResolution) (resolved bool, err error) {
	const sql = `update unapplied_payments set state = $2, resolved_by = $3, note = $4, resolved_at = $5,
			applied_payment_id = $6, applied_invoice_id = $7
		where id = $1 and state = 'open'`
	err = q.withSubject(ctx, "resolve unapplied payment", func(db dbtx) error {
		tag, err := db.Exec(ctx, sql, id, string(r.State), r.By, r.Note, r.At, r.AppliedPaymentID, r.AppliedInvoiceID)
		resolved = tag.RowsAffected() == 1
		return mapErr(err, "resolve unapplied payment")
	})
	return resolved, err
}

// UnappliedPage lists unapplied payments newest first, optionally in one
// state.
func (q *Queries) UnappliedPage(ctx context.Context, state *UnappliedState, after *TimeKey, limit int) ([]UnappliedPayment, error) {
	const sql = `select ` + unappliedColumns + ` from unapplied_payments u
		where ($1::text is null or u.state = $1)
			and ($2::boolean is not true or (u.received_at, u.id) < ($3, $4))
		order by u.received_at desc, u.id desc
		limit $5`
	var st *string
	if state != nil {
		s := string(*state)
		st = &s
	}
	k := after.OrZero()
	var out []UnappliedPayment
	err := q.withSubject(ctx, "select unapplied payments page", func(db dbtx) error {
		var err error
		out, err = list(ctx, db, "select unapplied payments page", scanUnapplied, sql, st, after != nil, k.At, k.ID, limit)
		return err
	})
	return out, err
}

// UnappliedCount counts unapplied payments, optionally in one state.
func (q *Queries) UnappliedCount(ctx context.Context, state *UnappliedState) (int, error) {
	const sql = `select count(*) from unapplied_payments u where ($1::text is null or u.state = $1)`
	var st *string
	if state != nil {
		s := string(*state)
		st = &s
	}
	var n int
	err := q.scanMoney(ctx, "count unapplied payments", sql, []any{st}, &n)
	return n, err
}
