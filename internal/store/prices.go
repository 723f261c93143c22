package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"configmarket/internal/money"
)

// PriceKind is what a price is for: rent (monthly, per plan) or sale
// (one-off). A configuration's sale modes are the same two words.
type PriceKind string

const (
	PriceRent PriceKind = "rent"
	PriceSale PriceKind = "sale"
)

// Price is one row of price history: it applies from ValidFrom until the
// next row of the same configuration, kind and plan.
type Price struct {
	ConfigurationID uuid.UUID
	Kind            PriceKind
	TariffPlanID    *uuid.UUID
	Amount          money.Money
	ValidFrom       time.Time
	CreatedBy       *uuid.UUID
}

const priceColumns = `configuration_id, kind, tariff_plan_id, amount_minor, currency, valid_from, created_by`

// cardPriceColumns are what a storefront card shows of a price in force:
// not whose it is (the card knows), nor since when or by whom it was set.
// Those two fields cost a fifth of a storefront page statement's CPU
// (binary timestamps and uuids in 300 records).
const cardPriceColumns = `kind, tariff_plan_id, amount_minor, currency`

func (p *Price) cardTargets(dst []any) []any {
	return append(dst, (*string)(&p.Kind), &p.TariffPlanID, &p.Amount.Minor, &p.Amount.Currency)
}

func (p *Price) scanTargets(dst []any) []any {
	return append(dst, &p.ConfigurationID, (*string)(&p.Kind), &p.TariffPlanID, &p.Amount.Minor, &p.Amount.Currency, &p.ValidFrom, &p.CreatedBy)
}

func scanPrice(r pgx.CollectableRow) (Price, error) {
	var p Price
	err := r.Scan(p.scanTargets(nil)...)
	return p, err
}

// pricesInForce selects the prices in force now of the configuration whose
// id is the SQL expression id: one of each kind and plan, the rows whose
// span (valid_from until the next row's start, kept by a trigger) holds now.
func pricesInForce(id string) string {
	return `select ` + priceColumns + `
		from prices
		where configuration_id = ` + id + ` and valid_from <= now() and (valid_until is null or valid_until > now())`
}

// One index range per configuration (a lateral join): the cost follows the
// page, never the size of the price table.
var currentPricesSQL = `select p.* from (select distinct unnest($1::uuid[]) as id) ids
	cross join lateral (` + pricesInForce("ids.id") + `) p
	order by p.configuration_id, p.kind, p.tariff_plan_id`

// CurrentPrices returns the prices in force now for each configuration:
// one rent price per plan and the sale price, where set, by kind and plan
// id (not by plan size: ordering by a joined plan cost a third of the
// statement, and the few plans are at hand wherever prices are shown).
func (q *Queries) CurrentPrices(ctx context.Context, configurationIDs []uuid.UUID) ([]Price, error) {
	return list(ctx, q.db, "select current prices", scanPrice, currentPricesSQL, configurationIDs)
}

// PriceHistory lists every price of a configuration, newest first.
func (q *Queries) PriceHistory(ctx context.Context, configurationID uuid.UUID) ([]Price, error) {
	const sql = `select ` + priceColumns + `
		from prices where configuration_id = $1
		order by valid_from desc, kind, tariff_plan_id`
	return list(ctx, q.db, "select price history", scanPrice, sql, configurationID)
}

// InsertPrice appends a price to the history; rows are never updated. A
// zero ValidFrom means from the transaction's start, by the database clock
// that CurrentPrices compares with.
func (q *Queries) InsertPrice(ctx context.Context, p Price) error {
	const sql = `insert into prices (configuration_id, kind, tariff_plan_id, amount_minor, currency, valid_from, created_by)
		values ($1, $2, $3, $4, $5, coalesce($6, now()), $7)`
	var validFrom *time.Time
	if !p.ValidFrom.IsZero() {
		validFrom = &p.ValidFrom
	}
	_, err := q.db.Exec(ctx, sql, p.ConfigurationID, p.Kind, p.TariffPlanID, p.Amount.Minor, p.Amount.Currency, validFrom, p.CreatedBy)
	return mapErr(err, "insert price")
}
