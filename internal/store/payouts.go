package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"configmarket/internal/apperr"
	"configmarket/internal/money"
)

// PayoutState is where a payout stands.
type PayoutState string

const (
	PayoutRequested PayoutState = "requested"
	PayoutPaid      PayoutState = "paid"
	PayoutFailed    PayoutState = "failed"
)

// PayoutMethod is how a payout is paid.
type PayoutMethod string

const (
	PayoutEWallet     PayoutMethod = "e_wallet"
	PayoutBankCard    PayoutMethod = "bank_card"
	PayoutBankAccount PayoutMethod = "bank_account"
)

// Payout is a developer's or partner's request to be paid out of its
// available balance, and what the admin decided.
type Payout struct {
	ID            uuid.UUID
	Party         Party
	DeveloperID   *uuid.UUID
	PartnerID     *uuid.UUID
	Amount        money.Money
	Method        PayoutMethod
	State         PayoutState
	FailureReason *string
	RequestedBy   *uuid.UUID
	RequestedAt   time.Time
	DecidedAt     *time.Time
}

// PartyID is the developer or partner the payout is for.
func (p Payout) PartyID() uuid.UUID {
	switch {
	case p.DeveloperID != nil:
		return *p.DeveloperID
	case p.PartnerID != nil:
		return *p.PartnerID
	}
	return uuid.Nil
}

const payoutColumns = `o.id, o.party, o.developer_id, o.partner_id, o.amount_minor, o.currency, o.method, o.state,
	o.failure_reason, o.requested_by, o.requested_at, o.decided_at`

func scanPayout(r pgx.CollectableRow) (Payout, error) {
	var p Payout
	err := r.Scan(&p.ID, &p.Party, &p.DeveloperID, &p.PartnerID, &p.Amount.Minor, &p.Amount.Currency, &p.Method,
		&p.State, &p.FailureReason, &p.RequestedBy, &p.RequestedAt, &p.DecidedAt)
	return p, err
}

// partyColumns gives the developer_id and partner_id arguments of a party:
// statements match `developer_id = $1 or partner_id = $2`, and the NULL of
// the other party matches nothing. Anything but a developer or a partner is
// a programming error.
func partyColumns(party Party, id uuid.UUID) (developerID, partnerID *uuid.UUID, err error) {
	switch party {
	case PartyDeveloper:
		return &id, nil, nil
	case PartyPartner:
		return nil, &id, nil
	}
	return nil, nil, apperr.Internal(fmt.Errorf("unknown payout party %q", party))
}

// Balance sums a party's ledger entries and payouts. Positive entries that
// occurred at or before holdUntil are available, newer ones are on hold;
// negative entries (a refund's or chargeback's reversals) count at once,
// so refunded money can never be paid out (SPEC §8). available = settled
// entries − payouts requested or paid (a failed payout no longer counts, so
// its amount is available again). Every figure is in minor units of the
// settlement currency. Called after LockParty, the figures cannot change
// under the caller except by new entries.
func (q *Queries) Balance(ctx context.Context, party Party, partyID uuid.UUID, holdUntil time.Time) (ledgerTotal, available, onHold, paidOrRequested int64, err error) {
	dev, partner, err := partyColumns(party, partyID)
	if err != nil {
		return 0, 0, 0, 0, err
	}
	// Entries written before occurred_at existed fall back to created_at.
	const sql = `with e as (
			select coalesce(sum(amount_minor), 0) as total,
				coalesce(sum(amount_minor) filter (where amount_minor < 0 or coalesce(occurred_at, created_at) <= $3), 0) as settled
			from ledger_entries
			where developer_id = $1 or partner_id = $2
		), o as (
			select coalesce(sum(amount_minor), 0) as out
			from payouts
			where (developer_id = $1 or partner_id = $2) and state in ('requested', 'paid')
		)
		select e.total, e.settled - o.out, e.total - e.settled, o.out from e, o`
	err = q.scanMoney(ctx, "select balance", sql, []any{dev, partner, holdUntil}, &ledgerTotal, &available, &onHold, &paidOrRequested)
	return ledgerTotal, available, onHold, paidOrRequested, err
}

// LockParty locks a developer's or partner's row for the rest of the
// transaction and returns its status, so that the payouts of one party run
// one at a time: the next request reads the balance only after the previous
// one committed. FOR NO KEY UPDATE conflicts with itself but not with the
// key-share locks that inserting ledger entries takes through their foreign
// keys, so payments keep flowing while a payout is decided.
func (q *Queries) LockParty(ctx context.Context, party Party, id uuid.UUID) (status string, err error) {
	var sql string
	switch party {
	case PartyDeveloper:
		sql = `select status from developers where id = $1 for no key update`
	case PartyPartner:
		sql = `select status from partners where id = $1 for no key update`
	default:
		return "", apperr.Internal(fmt.Errorf("unknown payout party %q", party))
	}
	err = q.db.QueryRow(ctx, sql, id).Scan(&status)
	return status, mapErr(err, "lock "+string(party))
}

// InsertPayout records a requested payout.
func (q *Queries) InsertPayout(ctx context.Context, p Payout) (Payout, error) {
	dev, partner, err := partyColumns(p.Party, p.PartyID())
	if err != nil {
		return Payout{}, err
	}
	const sql = `insert into payouts as o (party, developer_id, partner_id, amount_minor, currency, method, state,
			requested_by, requested_at)
		values ($1, $2, $3, $4, $5, $6, 'requested', $7, $8)
		returning ` + payoutColumns
	return oneMoney(ctx, q, "insert payout", scanPayout, sql, p.Party, dev, partner, p.Amount.Minor, p.Amount.Currency,
		p.Method, p.RequestedBy, p.RequestedAt)
}

// LockPayout reads a payout for a decision.
func (q *Queries) LockPayout(ctx context.Context, id uuid.UUID) (Payout, error) {
	const sql = `select ` + payoutColumns + ` from payouts o where o.id = $1 for update`
	return oneMoney(ctx, q, "lock payout", scanPayout, sql, id)
}

// DecidePayout moves a requested payout to paid or failed; a payout that is
// no longer requested is NotFound here, so the caller locks and checks it
// first.
func (q *Queries) DecidePayout(ctx context.Context, id uuid.UUID, state PayoutState, reason *string, at time.Time) (Payout, error) {
	const sql = `update payouts as o set state = $2, failure_reason = $3, decided_at = $4
		where o.id = $1 and o.state = 'requested'
		returning ` + payoutColumns
	return oneMoney(ctx, q, "decide payout", scanPayout, sql, id, state, reason, at)
}

// PayoutsPage lists a party's payouts, newest first.
func (q *Queries) PayoutsPage(ctx context.Context, party Party, id uuid.UUID, after *TimeKey, limit int) ([]Payout, error) {
	dev, partner, err := partyColumns(party, id)
	if err != nil {
		return nil, err
	}
	const sql = `select ` + payoutColumns + ` from payouts o
		where (o.developer_id = $1 or o.partner_id = $2)
			and ($3::boolean is not true or (o.requested_at, o.id) < ($4, $5))
		order by o.requested_at desc, o.id desc
		limit $6`
	k := after.OrZero()
	return listMoney(ctx, q, "select payouts page", scanPayout, sql, dev, partner, after != nil, k.At, k.ID, limit)
}

// PayoutsByIDs returns payouts by id; the caller checks visibility.
func (q *Queries) PayoutsByIDs(ctx context.Context, ids []uuid.UUID) ([]Payout, error) {
	const sql = `select ` + payoutColumns + ` from payouts o where o.id = any($1)`
	return listMoney(ctx, q, "select payouts", scanPayout, sql, ids)
}

// PayoutsRequestedIn lists a party's payouts requested in [from, to), oldest first.
func (q *Queries) PayoutsRequestedIn(ctx context.Context, party Party, id uuid.UUID, from, to time.Time) ([]Payout, error) {
	dev, partner, err := partyColumns(party, id)
	if err != nil {
		return nil, err
	}
	const sql = `select ` + payoutColumns + ` from payouts o
		where (o.developer_id = $1 or o.partner_id = $2) and o.requested_at >= $3 and o.requested_at < $4
		order by o.requested_at, o.id`
	return listMoney(ctx, q, "select payouts in period", scanPayout, sql, dev, partner, from, to)
}

// payoutQueueMatch filters the admins' payout queue by the states $1
// (null: every state).
const payoutQueueMatch = `($1::text[] is null or o.state = any($1))`

// PayoutQueue lists every party's payouts in the states (nil: all), the
// oldest requested first: the admins' queue.
func (q *Queries) PayoutQueue(ctx context.Context, states []PayoutState, after *TimeKey, limit int) ([]Payout, error) {
	const sql = `select ` + payoutColumns + ` from payouts o
		where ` + payoutQueueMatch + ` and ($2::boolean is not true or (o.requested_at, o.id) > ($3, $4))
		order by o.requested_at, o.id
		limit $5`
	k := after.OrZero()
	return listMoney(ctx, q, "select payout queue", scanPayout, sql, states, after != nil, k.At, k.ID, limit)
}

// PayoutQueueCount counts the payouts in the states (nil: all).
func (q *Queries) PayoutQueueCount(ctx context.Context, states []PayoutState) (int, error) {
	const sql = `select count(*) from payouts o where ` + payoutQueueMatch
	var n int
	err := q.scanMoney(ctx, "count payout queue", sql, []any{states}, &n)
	return n, err
}
