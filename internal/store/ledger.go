package store

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"configmarket/internal/money"
)

// DeveloperRateAt is the developer's share (hundredths of a percent) in
// force at a moment for a status and support mode.
func (q *Queries) DeveloperRateAt(ctx context.Context, status string, supportMode SupportMode, at time.Time) (int64, error) {
	const sql = `select rate from developer_rates
		where developer_status = $1 and support_mode = $2 and valid_from <= $3
		order by valid_from desc limit 1`
	var r int64
	err := q.db.QueryRow(ctx, sql, status, supportMode, at).Scan(&r)
	return r, mapErr(err, "select developer rate")
}

// PartnerRateAt is the partner's commission rate in force at a moment for
// a status and what was paid for.
func (q *Queries) PartnerRateAt(ctx context.Context, status string, paidFor PaidFor, at time.Time) (int64, error) {
	const sql = `select rate from partner_rates
		where partner_status = $1 and paid_for = $2 and valid_from <= $3
		order by valid_from desc limit 1`
	var r int64
	err := q.db.QueryRow(ctx, sql, status, paidFor, at).Scan(&r)
	return r, mapErr(err, "select partner rate")
}

// PinHolder is the partner a customer was pinned to at a moment.
type PinHolder struct {
	PartnerID uuid.UUID
	Status    string
}

// ActivePinAt returns the partner whose pin on the customer was active at
// a moment; found is false for a customer that came on its own.
func (q *Queries) ActivePinAt(ctx context.Context, customerID uuid.UUID, at time.Time) (PinHolder, bool, error) {
	const sql = `select p.partner_id, pa.status from pins p join partners pa on pa.id = p.partner_id
		where p.customer_id = $1 and p.state in ('active', 'expired', 'refused') and p.starts_at is not null
			and p.starts_at <= $2 and p.expires_at > $2
		order by p.starts_at desc limit 1`
	var h PinHolder
	err := q.db.QueryRow(ctx, sql, customerID, at).Scan(&h.PartnerID, &h.Status)
	if errors.Is(err, pgx.ErrNoRows) {
		return PinHolder{}, false, nil
	}
	return h, err == nil, mapErr(err, "select active pin")
}

// ConfigurationEarner is what the split needs of a configuration.
type ConfigurationEarner struct {
	DeveloperID     uuid.UUID
	DeveloperStatus string
	SupportMode     SupportMode
}

// EarnerOf reads the developer and support mode of a configuration.
func (q *Queries) EarnerOf(ctx context.Context, configurationID uuid.UUID) (ConfigurationEarner, error) {
	const sql = `select d.id, d.status, c.support_mode from configurations c join developers d on d.id = c.developer_id
		where c.id = $1`
	var e ConfigurationEarner
	err := q.db.QueryRow(ctx, sql, configurationID).Scan(&e.DeveloperID, &e.DeveloperStatus, &e.SupportMode)
	return e, mapErr(err, "select earner")
}

// Party is who a ledger entry or payout belongs to.
type Party string

const (
	PartyDeveloper Party = "developer"
	PartyPartner   Party = "partner"
	PartyPlatform  Party = "platform"
)

// LedgerEntry is one party's share of a payment or refund.
type LedgerEntry struct {
	ID              int64
	PaymentID       uuid.UUID
	RefundID        *uuid.UUID
	Party           Party
	DeveloperID     *uuid.UUID
	PartnerID       *uuid.UUID
	Amount          money.Money
	Rate            *int64
	PaidFor         PaidFor
	ConfigurationID *uuid.UUID
	CustomerID      uuid.UUID
	OccurredAt      time.Time
}

// InsertLedgerEntries appends entries; the deferred balance check runs at
// commit.
func (q *Queries) InsertLedgerEntries(ctx context.Context, entries []LedgerEntry) error {
	const sql = `insert into ledger_entries (payment_id, refund_id, party, developer_id, partner_id, amount_minor,
			currency, rate, paid_for, configuration_id, customer_id, occurred_at)
		values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`
	return q.withSubject(ctx, "insert ledger entry", func(db dbtx) error {
		for _, e := range entries {
			if _, err := db.Exec(ctx, sql, e.PaymentID, e.RefundID, e.Party, e.DeveloperID, e.PartnerID, e.Amount.Minor,
				e.Amount.Currency, e.Rate, e.PaidFor, e.ConfigurationID, e.CustomerID, e.OccurredAt); err != nil {
				return mapErr(err, "insert ledger entry")
			}
		}
		return nil
	})
}

// PaymentEntries lists a payment's entries, its refunds' reversals included.
func (q *Queries) PaymentEntries(ctx context.Context, paymentID uuid.UUID) ([]LedgerEntry, error) {
	const sql = `select id, payment_id, refund_id, party, developer_id, partner_id, amount_minor, currency, rate,
			coalesce(paid_for, ''), configuration_id, customer_id, occurred_at
		from ledger_entries where payment_id = $1 order by id`
	return listMoney(ctx, q, "select payment entries", func(r pgx.CollectableRow) (LedgerEntry, error) {
		var e LedgerEntry
		var customer *uuid.UUID
		var at *time.Time
		err := r.Scan(&e.ID, &e.PaymentID, &e.RefundID, &e.Party, &e.DeveloperID, &e.PartnerID, &e.Amount.Minor,
			&e.Amount.Currency, &e.Rate, &e.PaidFor, &e.ConfigurationID, &customer, &at)
		if customer != nil {
			e.CustomerID = *customer
		}
		if at != nil {
			e.OccurredAt = *at
		}
		return e, err
	}, sql, paymentID)
}

// PaymentsWithoutEntries lists payments that have no ledger entries yet
// (seed data written before the split existed).
func (q *Queries) PaymentsWithoutEntries(ctx context.Context) ([]Payment, error) {
	const sql = `select ` + paymentColumns + ` from payments p
		where not exists (select 1 from ledger_entries e where e.payment_id = p.id)
		order by p.received_at, p.id`
	return listMoney(ctx, q, "select payments without entries", scanPayment, sql)
}
