package store

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// TryBillingLock takes the transaction-scoped advisory lock of the billing
// run; false means another instance is running it now.
func (q *Queries) TryBillingLock(ctx context.Context) (bool, error) {
	var ok bool
	err := q.db.QueryRow(ctx, `select pg_try_advisory_xact_lock(hashtext('configmarket:billing'))`).Scan(&ok)
	return ok, mapErr(err, "billing lock")
}

// ExpireTrials ends the trials whose time is up and that were not
// converted (or whose conversion was canceled): the installation is
// disabled and its data kept for retention.
func (q *Queries) ExpireTrials(ctx context.Context, now time.Time, retention time.Duration) (int64, error) {
	const sql = `update installations set state = 'expired', expired_at = trial_ends_at,
			data_retained_until = trial_ends_at + $2::interval, updated_at = $1
		where state = 'trialing' and trial_ends_at <= $1 and (mode = 'trial' or cancel_at_period_end)`
	tag, err := q.db.Exec(ctx, sql, now, retention)
	return tag.RowsAffected(), mapErr(err, "expire trials")
}

// StartConvertedRentals turns trials converted to rentals into active
// rentals when the trial ends: their first period starts then.
func (q *Queries) StartConvertedRentals(ctx context.Context, now time.Time) (int64, error) {
	const sql = `update installations set state = 'active', updated_at = $1
		where mode = 'rent' and state = 'trialing' and trial_ends_at <= $1 and not cancel_at_period_end`
	tag, err := q.db.Exec(ctx, sql, now)
	return tag.RowsAffected(), mapErr(err, "start converted rentals")
}

// EndCanceledRentals ends rentals canceled by the customer when their paid
// period is over.
func (q *Queries) EndCanceledRentals(ctx context.Context, now time.Time) (int64, error) {
	const sql = `update installations set state = 'canceled', canceled_at = current_period_end, updated_at = $1
		where mode = 'rent' and state in ('active', 'past_due') and cancel_at_period_end and current_period_end <= $1`
	tag, err := q.db.Exec(ctx, sql, now)
	return tag.RowsAffected(), mapErr(err, "end canceled rentals")
}

// AdvancePaidPeriods starts the next period of rentals whose current
// period is over and paid. Periods are whole months from the anchor.
func (q *Queries) AdvancePaidPeriods(ctx context.Context, now time.Time) (int64, error) {
	const sql = `update installations i set period_number = i.period_number + 1,
			current_period_start = i.current_period_end,
			-- Month arithmetic in UTC, like the Go side, whatever the
			-- session's time zone.
			current_period_end = ((i.billing_anchor at time zone 'UTC') + (i.period_number + 2) * interval '1 month') at time zone 'UTC',
			updated_at = $1
		where i.mode = 'rent' and i.state in ('active', 'past_due') and not i.cancel_at_period_end
			and i.current_period_end <= $1
			and exists (select 1 from invoices v where v.installation_id = i.id
				and v.period_start = i.current_period_start and v.state = 'paid')`
	tag, err := q.db.Exec(ctx, sql, now)
	return tag.RowsAffected(), mapErr(err, "advance paid periods")
}

// IssueDueInvoices invoices every started rental period not invoiced yet,
// at the rent in force when the period starts for the customer's plan then
// (SPEC §3: a price change applies from the next period). A period is
// invoiced once: invoices_one_per_period.
func (q *Queries) IssueDueInvoices(ctx context.Context, now time.Time) (int64, error) {
	const sql = `insert into invoices (customer_id, installation_id, configuration_id, tariff_plan_id, paid_for,
			amount_minor, currency, period_start, period_end, issued_at)
		select i.customer_id, i.id, i.configuration_id, c.tariff_plan_id, 'rent',
			p.amount_minor, p.currency, i.current_period_start, i.current_period_end, i.current_period_start
		from installations i
		join customers c on c.id = i.customer_id
		join lateral (
			select amount_minor, currency from prices
			where configuration_id = i.configuration_id and kind = 'rent' and tariff_plan_id = c.tariff_plan_id
				and valid_from <= i.current_period_start
			order by valid_from desc limit 1
		) p on true
		where i.mode = 'rent' and i.state in ('active', 'past_due') and i.current_period_start <= $1
		on conflict (installation_id, period_start) do nothing`
	tag, err := q.db.Exec(ctx, sql, now)
	return tag.RowsAffected(), mapErr(err, "issue due invoices")
}

// CancelUnpaid cancels installations whose invoice is unpaid cancelAfter
// after its period start (or issue, for purchases) and voids the invoice.
func (q *Queries) CancelUnpaid(ctx context.Context, now time.Time, cancelAfter time.Duration) (int64, error) {
	const sql = `with overdue as (
			update invoices v set state = 'void', voided_at = $1
			where v.state = 'open' and v.installation_id is not null
				and coalesce(v.period_start, v.issued_at) + $2::interval <= $1
			returning v.installation_id
		)
		update installations i set state = 'canceled', canceled_at = $1, updated_at = $1
		from overdue o where i.id = o.installation_id and i.state in ('active', 'past_due')`
	tag, err := q.db.Exec(ctx, sql, now, cancelAfter)
	return tag.RowsAffected(), mapErr(err, "cancel unpaid")
}

// MarkPastDue marks installations whose invoice is unpaid pastDueAfter
// after its period start (or issue).
func (q *Queries) MarkPastDue(ctx context.Context, now time.Time, pastDueAfter time.Duration) (int64, error) {
	const sql = `update installations i set state = 'past_due', updated_at = $1
		where i.state = 'active' and exists (select 1 from invoices v
			where v.installation_id = i.id and v.state = 'open'
				and coalesce(v.period_start, v.issued_at) + $2::interval <= $1)`
	tag, err := q.db.Exec(ctx, sql, now, pastDueAfter)
	return tag.RowsAffected(), mapErr(err, "mark past due")
}

// ReactivatePaid puts a past-due installation back to active once it owes
// nothing.
func (q *Queries) ReactivatePaid(ctx context.Context, installationID uuid.UUID, now time.Time) error {
	const sql = `update installations i set state = 'active', updated_at = $2
		where i.id = $1 and i.state = 'past_due'
			and not exists (select 1 from invoices v where v.installation_id = i.id and v.state = 'open')`
	_, err := q.db.Exec(ctx, sql, installationID, now)
	return mapErr(err, "reactivate paid")
}

// VoidOpenInvoices voids an installation's unpaid invoices when what they
// were for is replaced (a rental bought outright).
func (q *Queries) VoidOpenInvoices(ctx context.Context, installationID uuid.UUID, at time.Time) error {
	const sql = `update invoices set state = 'void', voided_at = $2 where installation_id = $1 and state = 'open'`
	_, err := q.db.Exec(ctx, sql, installationID, at)
	return mapErr(err, "void open invoices")
}

// LiveRentals lists a customer's rentals that are still billed.
func (q *Queries) LiveRentals(ctx context.Context, customerID uuid.UUID) ([]Installation, error) {
	const sql = `select ` + installationColumns + ` from installations i
		where i.customer_id = $1 and i.mode = 'rent' and i.state in ('trialing', 'active', 'past_due')`
	return list(ctx, q.db, "select live rentals", scanInstallation, sql, customerID)
}
