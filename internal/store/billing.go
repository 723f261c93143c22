package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"configmarket/internal/apperr"
)

// TryBillingLock takes the transaction-scoped advisory lock of the billing
// run; false means another instance is running it now.
func (q *Queries) TryBillingLock(ctx context.Context) (bool, error) {
	var ok bool
	err := q.db.QueryRow(ctx, `select pg_try_advisory_xact_lock(hashtext('configmarket:billing'))`).Scan(&ok)
	return ok, mapErr(err, "billing lock")
}

// The billing steps return the installations they changed, each of which
// the billing run audits as the system's action.

// ExpireUnpaidAcquisitions voids the first invoices of rentals and
// purchases whose payment window closed unpaid, and expires the
// installations still waiting for them (SPEC §4: pay before access). A
// purchase pending over a live trial or rental only loses its invoice.
func (q *Queries) ExpireUnpaidAcquisitions(ctx context.Context, now time.Time) ([]uuid.UUID, error) {
	const sql = `with voided as (
			update invoices v set state = 'void', voided_at = $1
			where v.state = 'open' and v.expires_at <= $1
			returning v.installation_id
		)
		update installations i set state = 'expired', expired_at = $1, updated_at = $1
		from voided o where i.id = o.installation_id and i.state = 'pending_payment'
		returning i.id`
	return installationIDs(ctx, q, "expire unpaid acquisitions", sql, now)
}

// ExpireTrials ends the trials whose time is up and that were not
// converted (or whose conversion was canceled): the installation is
// disabled and its data kept for retention.
func (q *Queries) ExpireTrials(ctx context.Context, now time.Time, retention time.Duration) ([]uuid.UUID, error) {
	const sql = `update installations set state = 'expired', expired_at = trial_ends_at,
			data_retained_until = trial_ends_at + $2::interval, updated_at = $1
		where state = 'trialing' and trial_ends_at <= $1 and (mode = 'trial' or cancel_at_period_end)
		returning id`
	return installationIDs(ctx, q, "expire trials", sql, now, retention)
}

// StartConvertedRentals turns trials converted to rentals into active
// rentals when the trial ends: their first period starts then.
func (q *Queries) StartConvertedRentals(ctx context.Context, now time.Time) ([]uuid.UUID, error) {
	const sql = `update installations set state = 'active', updated_at = $1
		where mode = 'rent' and state = 'trialing' and trial_ends_at <= $1 and not cancel_at_period_end
		returning id`
	return installationIDs(ctx, q, "start converted rentals", sql, now)
}

// EndCanceledRentals ends rentals canceled by the customer when their paid
// period is over.
func (q *Queries) EndCanceledRentals(ctx context.Context, now time.Time) ([]uuid.UUID, error) {
	const sql = `update installations set state = 'canceled', canceled_at = current_period_end, updated_at = $1
		where mode = 'rent' and state in ('active', 'past_due') and cancel_at_period_end and current_period_end <= $1
		returning id`
	return installationIDs(ctx, q, "end canceled rentals", sql, now)
}

// AdvancePaidPeriods starts the next period of rentals whose current
// period is over and paid, or free: no invoice for it and a rent of 0.00
// in force at its start on the customer's plan (a free configuration is
// never invoiced, SPEC §4). Periods are whole months from the anchor.
func (q *Queries) AdvancePaidPeriods(ctx context.Context, now time.Time) ([]uuid.UUID, error) {
	const sql = `update installations i set period_number = i.period_number + 1,
			current_period_start = i.current_period_end,
			-- Month arithmetic in UTC, like the Go side, whatever the
			-- session's time zone.
			current_period_end = ((i.billing_anchor at time zone 'UTC') + (i.period_number + 2) * interval '1 month') at time zone 'UTC',
			updated_at = $1
		where i.mode = 'rent' and i.state in ('active', 'past_due') and not i.cancel_at_period_end
			and i.current_period_end <= $1
			-- The period's invoice (one at most: invoices_one_per_period)
			-- is paid; with none, the rent IssueDueInvoices would have
			-- invoiced is 0.00.
			and coalesce(
				(select v.state = 'paid' from invoices v
					where v.installation_id = i.id and v.period_start = i.current_period_start),
				(select p.amount_minor = 0 from prices p join customers c on c.id = i.customer_id
					where p.configuration_id = i.configuration_id and p.kind = 'rent'
						and p.tariff_plan_id = c.tariff_plan_id and p.valid_from <= i.current_period_start
					order by p.valid_from desc limit 1),
				false)
		returning i.id`
	return installationIDs(ctx, q, "advance paid periods", sql, now)
}

// IssueDueInvoices invoices every started rental period not invoiced yet,
// at the rent in force when the period starts for the customer's plan then
// (SPEC §3: a price change applies from the next period). A period is
// invoiced once: invoices_one_per_period. A period whose rent is 0.00 is
// free and gets no invoice.
func (q *Queries) IssueDueInvoices(ctx context.Context, now time.Time) ([]uuid.UUID, error) {
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
			and p.amount_minor > 0
		on conflict (installation_id, period_start) do nothing
		returning installation_id`
	return installationIDs(ctx, q, "issue due invoices", sql, now)
}

// CancelUnpaid cancels installations whose renewal invoice is unpaid
// cancelAfter after its period start (or issue) and voids the invoice. A
// first invoice is not dunned: its payment window ends it
// (ExpireUnpaidAcquisitions).
func (q *Queries) CancelUnpaid(ctx context.Context, now time.Time, cancelAfter time.Duration) ([]uuid.UUID, error) {
	const sql = `with overdue as (
			update invoices v set state = 'void', voided_at = $1
			where v.state = 'open' and v.installation_id is not null and v.expires_at is null
				and coalesce(v.period_start, v.issued_at) + $2::interval <= $1
			returning v.installation_id
		)
		update installations i set state = 'canceled', canceled_at = $1, updated_at = $1
		from overdue o where i.id = o.installation_id and i.state in ('active', 'past_due')
		returning i.id`
	return installationIDs(ctx, q, "cancel unpaid", sql, now, cancelAfter)
}

// MarkPastDue marks installations whose renewal invoice is unpaid
// pastDueAfter after its period start (or issue).
func (q *Queries) MarkPastDue(ctx context.Context, now time.Time, pastDueAfter time.Duration) ([]uuid.UUID, error) {
	const sql = `update installations i set state = 'past_due', updated_at = $1
		where i.state = 'active' and exists (select 1 from invoices v
			where v.installation_id = i.id and v.state = 'open' and v.expires_at is null
				and coalesce(v.period_start, v.issued_at) + $2::interval <= $1)
		returning i.id`
	return installationIDs(ctx, q, "mark past due", sql, now, pastDueAfter)
}

func installationIDs(ctx context.Context, q *Queries, what, sql string, args ...any) ([]uuid.UUID, error) {
	return list(ctx, q.db, what, pgx.RowTo[uuid.UUID], sql, args...)
}

// ReactivatePaid puts a past-due installation back to active once it owes
// nothing for its periods (a purchase waiting for payment over it is not a
// debt).
func (q *Queries) ReactivatePaid(ctx context.Context, installationID uuid.UUID, now time.Time) error {
	const sql = `update installations i set state = 'active', updated_at = $2
		where i.id = $1 and i.state = 'past_due'
			and not exists (select 1 from invoices v where v.installation_id = i.id and v.state = 'open'
				and v.expires_at is null)`
	_, err := q.db.Exec(ctx, sql, installationID, now)
	return mapErr(err, "reactivate paid")
}

// VoidOpenInvoices voids an installation's unpaid invoices when what they
// were for is replaced (a rental bought outright, a pending rental given up
// for a trial or a purchase).
func (q *Queries) VoidOpenInvoices(ctx context.Context, installationID uuid.UUID, at time.Time) error {
	const sql = `update invoices set state = 'void', voided_at = $2 where installation_id = $1 and state = 'open'`
	_, err := q.db.Exec(ctx, sql, installationID, at)
	return mapErr(err, "void open invoices")
}

// HasOpenFirstInvoice reports whether an installation has an unpaid first
// invoice (one with a payment window) for paidFor.
func (q *Queries) HasOpenFirstInvoice(ctx context.Context, installationID uuid.UUID, paidFor PaidFor) (bool, error) {
	const sql = `select exists (select 1 from invoices where installation_id = $1 and paid_for = $2
		and state = 'open' and expires_at is not null)`
	var ok bool
	err := q.db.QueryRow(ctx, sql, installationID, paidFor).Scan(&ok)
	return ok, mapErr(err, "select open first invoice")
}

// StartPaidRental starts a pending rental's first period, on versionID, at
// the moment its first invoice was paid, and dates that invoice's period to
// match.
func (q *Queries) StartPaidRental(ctx context.Context, installationID, invoiceID, versionID uuid.UUID, start, end time.Time) error {
	const sql = `with started as (
			update installations set state = 'active', version_id = $5, billing_anchor = $3, period_number = 0,
				current_period_start = $3, current_period_end = $4, updated_at = $3
			where id = $1 and state = 'pending_payment' and mode = 'rent'
			returning id
		)
		update invoices set period_start = $3, period_end = $4
		where id = $2 and installation_id = (select id from started)`
	tag, err := q.db.Exec(ctx, sql, installationID, invoiceID, start, end, versionID)
	if err == nil && tag.RowsAffected() != 1 {
		return apperr.Internal(fmt.Errorf("start paid rental %s: not pending", installationID))
	}
	return mapErr(err, "start paid rental")
}

// LiveRentals lists a customer's rentals that are still billed.
func (q *Queries) LiveRentals(ctx context.Context, customerID uuid.UUID) ([]Installation, error) {
	const sql = `select ` + installationColumns + ` from installations i
		where i.customer_id = $1 and i.mode = 'rent' and i.state in ('trialing', 'active', 'past_due')`
	return list(ctx, q.db, "select live rentals", scanInstallation, sql, customerID)
}
