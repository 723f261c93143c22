package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// RateRow is one rate of a table in force from ValidFrom.
type RateRow struct {
	// Status is the developer's or partner's status; Kind the support mode
	// (developer rates) or what was paid for (partner rates).
	Status string
	Kind   string
	Rate   int64
	// ValidFrom is nil for the defaults, in force since the beginning.
	ValidFrom *time.Time
	CreatedBy *uuid.UUID
}

// validFrom reads '-infinity' (the seeded defaults) as NULL.
const validFrom = `nullif(valid_from, '-infinity')`

func scanRate(r pgx.CollectableRow) (RateRow, error) {
	var x RateRow
	err := r.Scan(&x.Status, &x.Kind, &x.Rate, &x.ValidFrom, &x.CreatedBy)
	return x, err
}

// CurrentDeveloperRates is the developer rate table in force at a moment.
func (q *Queries) CurrentDeveloperRates(ctx context.Context, at time.Time) ([]RateRow, error) {
	const sql = `select distinct on (developer_status, support_mode) developer_status, support_mode, rate, ` + validFrom + `, created_by
		from developer_rates where valid_from <= $1
		order by developer_status, support_mode, valid_from desc`
	return list(ctx, q.db, "select developer rates", scanRate, sql, at)
}

// CurrentPartnerRates is the partner rate table in force at a moment.
func (q *Queries) CurrentPartnerRates(ctx context.Context, at time.Time) ([]RateRow, error) {
	const sql = `select distinct on (partner_status, paid_for) partner_status, paid_for, rate, ` + validFrom + `, created_by
		from partner_rates where valid_from <= $1
		order by partner_status, paid_for, valid_from desc`
	return list(ctx, q.db, "select partner rates", scanRate, sql, at)
}

// InsertDeveloperRate appends a developer rate in force from validFrom.
func (q *Queries) InsertDeveloperRate(ctx context.Context, r RateRow) error {
	const sql = `insert into developer_rates (developer_status, support_mode, rate, valid_from, created_by) values ($1, $2, $3, $4, $5)`
	_, err := q.db.Exec(ctx, sql, r.Status, r.Kind, r.Rate, r.ValidFrom, r.CreatedBy)
	return mapErr(err, "insert developer rate")
}

// InsertPartnerRate appends a partner rate in force from validFrom.
func (q *Queries) InsertPartnerRate(ctx context.Context, r RateRow) error {
	const sql = `insert into partner_rates (partner_status, paid_for, rate, valid_from, created_by) values ($1, $2, $3, $4, $5)`
	_, err := q.db.Exec(ctx, sql, r.Status, r.Kind, r.Rate, r.ValidFrom, r.CreatedBy)
	return mapErr(err, "insert partner rate")
}

// RateHistory lists every developer and partner rate, newest first.
func (q *Queries) RateHistory(ctx context.Context) (developer, partner []RateRow, err error) {
	const dev = `select developer_status, support_mode, rate, ` + validFrom + `, created_by from developer_rates
		order by valid_from desc, developer_status, support_mode`
	const par = `select partner_status, paid_for, rate, ` + validFrom + `, created_by from partner_rates
		order by valid_from desc, partner_status, paid_for`
	if developer, err = list(ctx, q.db, "select developer rate history", scanRate, dev); err != nil {
		return nil, nil, err
	}
	partner, err = list(ctx, q.db, "select partner rate history", scanRate, par)
	return developer, partner, err
}
