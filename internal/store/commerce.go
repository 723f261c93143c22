package store

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"configmarket/internal/apperr"
	"configmarket/internal/money"
)

// InstallationMode is how a customer holds an installation.
type InstallationMode string

const (
	ModeTrial    InstallationMode = "trial"
	ModeRent     InstallationMode = "rent"
	ModePurchase InstallationMode = "purchase"
)

// InstallationState is where an installation stands.
type InstallationState string

const (
	InstallationPendingPayment InstallationState = "pending_payment"
	InstallationTrialing       InstallationState = "trialing"
	InstallationActive         InstallationState = "active"
	InstallationPastDue        InstallationState = "past_due"
	InstallationCanceled       InstallationState = "canceled"
	InstallationExpired        InstallationState = "expired"
)

// InvoiceState is where an invoice stands.
type InvoiceState string

const (
	InvoiceOpen InvoiceState = "open"
	InvoicePaid InvoiceState = "paid"
	InvoiceVoid InvoiceState = "void"
)

// PaidFor is what an invoice, a payment or a ledger entry is for; it sets
// the partner's commission rate.
type PaidFor string

const (
	PaidForRent     PaidFor = "rent"
	PaidForPurchase PaidFor = "purchase"
	PaidForPlan     PaidFor = "plan"
	PaidForServices PaidFor = "services"
)

// Installation is a customer's copy of a configuration.
type Installation struct {
	ID                 uuid.UUID
	CustomerID         uuid.UUID
	ConfigurationID    uuid.UUID
	Mode               InstallationMode
	State              InstallationState
	VersionID          uuid.UUID
	AutoUpdate         bool
	LicenseKey         string
	TrialEndsAt        *time.Time
	BillingAnchor      *time.Time
	PeriodNumber       int
	CurrentPeriodStart *time.Time
	CurrentPeriodEnd   *time.Time
	CancelAtPeriodEnd  bool
	BackupRef          *string
	CanceledAt         *time.Time
	ExpiredAt          *time.Time
	DataRetainedUntil  *time.Time
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

const installationColumns = `i.id, i.customer_id, i.configuration_id, i.mode, i.state, i.version_id, i.auto_update,
	i.license_key, i.trial_ends_at, i.billing_anchor, i.period_number, i.current_period_start, i.current_period_end,
	i.cancel_at_period_end, i.backup_ref, i.canceled_at, i.expired_at, i.data_retained_until, i.created_at, i.updated_at`

func scanInstallation(r pgx.CollectableRow) (Installation, error) {
	var i Installation
	err := r.Scan(&i.ID, &i.CustomerID, &i.ConfigurationID, &i.Mode, &i.State, &i.VersionID, &i.AutoUpdate,
		&i.LicenseKey, &i.TrialEndsAt, &i.BillingAnchor, &i.PeriodNumber, &i.CurrentPeriodStart, &i.CurrentPeriodEnd,
		&i.CancelAtPeriodEnd, &i.BackupRef, &i.CanceledAt, &i.ExpiredAt, &i.DataRetainedUntil, &i.CreatedAt, &i.UpdatedAt)
	return i, err
}

// LockInstallation reads a customer's installation of a configuration for
// a change; found is false when there is none.
func (q *Queries) LockInstallation(ctx context.Context, customerID, configurationID uuid.UUID) (Installation, bool, error) {
	const sql = `select ` + installationColumns + ` from installations i
		where i.customer_id = $1 and i.configuration_id = $2 for update`
	inst, err := one(ctx, q.db, "lock installation", scanInstallation, sql, customerID, configurationID)
	if apperr.Is(err, apperr.KindNotFound) {
		return Installation{}, false, nil
	}
	return inst, err == nil, err
}

// LockInstallationByID reads an installation for a change.
func (q *Queries) LockInstallationByID(ctx context.Context, id uuid.UUID) (Installation, error) {
	const sql = `select ` + installationColumns + ` from installations i where i.id = $1 for update`
	return one(ctx, q.db, "lock installation", scanInstallation, sql, id)
}

// SaveInstallation writes an installation: a new one, or a customer's
// earlier one (expired, canceled) taken up again — one row per customer
// and configuration.
func (q *Queries) SaveInstallation(ctx context.Context, in Installation) (Installation, error) {
	const sql = `insert into installations as i (customer_id, configuration_id, mode, state, version_id, license_key,
			trial_ends_at, billing_anchor, period_number, current_period_start, current_period_end, cancel_at_period_end,
			backup_ref, canceled_at, expired_at, data_retained_until, created_at, updated_at)
		values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17)
		on conflict (customer_id, configuration_id) do update set
			mode = excluded.mode, state = excluded.state, version_id = excluded.version_id,
			trial_ends_at = excluded.trial_ends_at, billing_anchor = excluded.billing_anchor,
			period_number = excluded.period_number, current_period_start = excluded.current_period_start,
			current_period_end = excluded.current_period_end, cancel_at_period_end = excluded.cancel_at_period_end,
			backup_ref = excluded.backup_ref, canceled_at = excluded.canceled_at, expired_at = excluded.expired_at,
			data_retained_until = excluded.data_retained_until, updated_at = excluded.updated_at
		returning ` + installationColumns
	return one(ctx, q.db, "save installation", scanInstallation, sql, in.CustomerID, in.ConfigurationID, in.Mode,
		in.State, in.VersionID, in.LicenseKey, in.TrialEndsAt, in.BillingAnchor, in.PeriodNumber, in.CurrentPeriodStart,
		in.CurrentPeriodEnd, in.CancelAtPeriodEnd, in.BackupRef, in.CanceledAt, in.ExpiredAt, in.DataRetainedUntil, in.UpdatedAt)
}

// InstallationsByIDs returns installations by id; the caller checks visibility.
func (q *Queries) InstallationsByIDs(ctx context.Context, ids []uuid.UUID) ([]Installation, error) {
	const sql = `select ` + installationColumns + ` from installations i where i.id = any($1)`
	return list(ctx, q.db, "select installations", scanInstallation, sql, ids)
}

// InstallationByLicenseKey finds the installation of a license key together
// with its customer's CRM account id.
func (q *Queries) InstallationByLicenseKey(ctx context.Context, key string) (Installation, *string, error) {
	const sql = `select ` + installationColumns + `, c.crm_account_id from installations i
		join customers c on c.id = i.customer_id where i.license_key = $1`
	var account *string
	inst, err := one(ctx, q.db, "select installation by license key", func(r pgx.CollectableRow) (Installation, error) {
		var i Installation
		err := r.Scan(&i.ID, &i.CustomerID, &i.ConfigurationID, &i.Mode, &i.State, &i.VersionID, &i.AutoUpdate,
			&i.LicenseKey, &i.TrialEndsAt, &i.BillingAnchor, &i.PeriodNumber, &i.CurrentPeriodStart, &i.CurrentPeriodEnd,
			&i.CancelAtPeriodEnd, &i.BackupRef, &i.CanceledAt, &i.ExpiredAt, &i.DataRetainedUntil, &i.CreatedAt, &i.UpdatedAt,
			&account)
		return i, err
	}, sql, key)
	return inst, account, err
}

// InstallationFilter narrows a list of installations.
type InstallationFilter struct {
	CustomerID      *uuid.UUID
	DeveloperID     *uuid.UUID
	ConfigurationID *uuid.UUID
	State           *InstallationState
	Mode            *InstallationMode
}

// InstallationsPage lists installations matching f, newest first. Only the
// filters in use are named, and the limit is written into the statement:
// each shape is its own prepared statement with a plan PostgreSQL keeps (a
// catch-all "$n is null or …" per filter was planned on every execution).
func (q *Queries) InstallationsPage(ctx context.Context, f InstallationFilter, after *TimeKey, limit int) ([]Installation, error) {
	var args sqlArgs
	var where []string
	if f.CustomerID != nil {
		where = append(where, "i.customer_id = "+args.add(*f.CustomerID))
	}
	if f.DeveloperID != nil {
		where = append(where, "c.developer_id = "+args.add(*f.DeveloperID))
	}
	if f.ConfigurationID != nil {
		where = append(where, "i.configuration_id = "+args.add(*f.ConfigurationID))
	}
	if f.State != nil {
		where = append(where, "i.state = "+args.add(*f.State))
	}
	if f.Mode != nil {
		where = append(where, "i.mode = "+args.add(*f.Mode))
	}
	if after != nil {
		where = append(where, "(i.created_at, i.id) < ("+args.add(after.At)+", "+args.add(after.ID)+")")
	}
	sql := `select ` + installationColumns + ` from installations i
		join configurations c on c.id = i.configuration_id` + whereClause(where) + `
		order by i.created_at desc, i.id desc
		limit ` + strconv.Itoa(limit)
	return list(ctx, q.db, "select installations page", scanInstallation, sql, args...)
}

// InsertTrial records that the customer used its one trial of the
// configuration; a second one violates trials_once_per_customer.
func (q *Queries) InsertTrial(ctx context.Context, customerID, configurationID uuid.UUID, startedAt, endsAt time.Time) error {
	const sql = `insert into trials (customer_id, configuration_id, started_at, ends_at) values ($1, $2, $3, $4)`
	_, err := q.db.Exec(ctx, sql, customerID, configurationID, startedAt, endsAt)
	return mapErr(err, "insert trial")
}

// PriceAt is the price in force at a moment: for rent on a plan, or the
// sale price (planID nil). found is false when none was set by then.
func (q *Queries) PriceAt(ctx context.Context, configurationID uuid.UUID, kind PriceKind, planID *uuid.UUID, at time.Time) (money.Money, bool, error) {
	const sql = `select amount_minor, currency from prices
		where configuration_id = $1 and kind = $2 and tariff_plan_id is not distinct from $3 and valid_from <= $4
		order by valid_from desc limit 1`
	var m money.Money
	err := q.db.QueryRow(ctx, sql, configurationID, kind, planID, at).Scan(&m.Minor, &m.Currency)
	if errors.Is(err, pgx.ErrNoRows) {
		return money.Money{}, false, nil
	}
	return m, err == nil, mapErr(err, "select price at")
}

// Invoice is a charge to a customer.
type Invoice struct {
	ID              uuid.UUID
	CustomerID      uuid.UUID
	InstallationID  *uuid.UUID
	ConfigurationID *uuid.UUID
	TariffPlanID    *uuid.UUID
	PaidFor         PaidFor
	Amount          money.Money
	PeriodStart     *time.Time
	PeriodEnd       *time.Time
	State           InvoiceState
	IssuedAt        time.Time
	PaidAt          *time.Time
	VoidedAt        *time.Time
	// ExpiresAt closes the payment window of a rental's or purchase's
	// first invoice; nil for renewals, which follow the dunning rules.
	ExpiresAt *time.Time
}

const invoiceColumns = `v.id, v.customer_id, v.installation_id, v.configuration_id, v.tariff_plan_id, v.paid_for,
	v.amount_minor, v.currency, v.period_start, v.period_end, v.state, v.issued_at, v.paid_at, v.voided_at, v.expires_at`

func scanInvoice(r pgx.CollectableRow) (Invoice, error) {
	var v Invoice
	err := r.Scan(&v.ID, &v.CustomerID, &v.InstallationID, &v.ConfigurationID, &v.TariffPlanID, &v.PaidFor,
		&v.Amount.Minor, &v.Amount.Currency, &v.PeriodStart, &v.PeriodEnd, &v.State, &v.IssuedAt, &v.PaidAt, &v.VoidedAt, &v.ExpiresAt)
	return v, err
}

// CreateInvoice issues an invoice; a second invoice for the same
// installation period is not created (created is false).
func (q *Queries) CreateInvoice(ctx context.Context, v Invoice) (inv Invoice, created bool, err error) {
	const sql = `insert into invoices as v (customer_id, installation_id, configuration_id, tariff_plan_id, paid_for,
			amount_minor, currency, period_start, period_end, issued_at, expires_at)
		values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		on conflict (installation_id, period_start) do nothing
		returning ` + invoiceColumns
	inv, err = one(ctx, q.db, "insert invoice", scanInvoice, sql, v.CustomerID, v.InstallationID, v.ConfigurationID,
		v.TariffPlanID, v.PaidFor, v.Amount.Minor, v.Amount.Currency, v.PeriodStart, v.PeriodEnd, v.IssuedAt, v.ExpiresAt)
	if apperr.Is(err, apperr.KindNotFound) {
		return Invoice{}, false, nil
	}
	return inv, err == nil, err
}

// InvoicesByIDs returns invoices by id; the caller checks visibility.
func (q *Queries) InvoicesByIDs(ctx context.Context, ids []uuid.UUID) ([]Invoice, error) {
	const sql = `select ` + invoiceColumns + ` from invoices v where v.id = any($1)`
	return list(ctx, q.db, "select invoices", scanInvoice, sql, ids)
}

// LockInvoice reads an invoice for a change.
func (q *Queries) LockInvoice(ctx context.Context, id uuid.UUID) (Invoice, error) {
	const sql = `select ` + invoiceColumns + ` from invoices v where v.id = $1 for update`
	return one(ctx, q.db, "lock invoice", scanInvoice, sql, id)
}

// InvoicesPage lists a customer's invoices, newest first, optionally in one state.
func (q *Queries) InvoicesPage(ctx context.Context, customerID uuid.UUID, state *InvoiceState, after *TimeKey, limit int) ([]Invoice, error) {
	const sql = `select ` + invoiceColumns + ` from invoices v
		where v.customer_id = $1 and ($2::text is null or v.state = $2)
			and ($3::boolean is not true or (v.issued_at, v.id) < ($4, $5))
		order by v.issued_at desc, v.id desc
		limit $6`
	k := after.OrZero()
	return list(ctx, q.db, "select invoices page", scanInvoice, sql, customerID, state, after != nil, k.At, k.ID, limit)
}

// InvoiceQueueFilter narrows the admins' list of every customer's
// invoices; a nil field does not narrow it.
type InvoiceQueueFilter struct {
	States []InvoiceState
	// Overdue: open past the due date (true), or not (false). An
	// acquisition's first invoice is due at its expiry; any other is due
	// Grace after its period start (or issue), when dunning begins.
	Overdue *bool
	Now     time.Time
	Grace   time.Duration
}

// invoiceQueueMatch reads an InvoiceQueueFilter as $1 to $4.
const invoiceQueueMatch = `($1::text[] is null or v.state = any($1))
	and ($2::boolean is null or (v.state = 'open'
		and coalesce(v.expires_at, coalesce(v.period_start, v.issued_at) + $4::bigint * interval '1 microsecond') < $3) = $2)`

func (f InvoiceQueueFilter) args() []any {
	return []any{f.States, f.Overdue, f.Now, f.Grace.Microseconds()}
}

// InvoiceQueue lists every customer's invoices by filter, newest first.
func (q *Queries) InvoiceQueue(ctx context.Context, f InvoiceQueueFilter, after *TimeKey, limit int) ([]Invoice, error) {
	const sql = `select ` + invoiceColumns + ` from invoices v
		where ` + invoiceQueueMatch + ` and ($5::boolean is not true or (v.issued_at, v.id) < ($6, $7))
		order by v.issued_at desc, v.id desc
		limit $8`
	k := after.OrZero()
	return list(ctx, q.db, "select invoice queue", scanInvoice, sql, append(f.args(), after != nil, k.At, k.ID, limit)...)
}

// InvoiceQueueCount counts the invoices by filter.
func (q *Queries) InvoiceQueueCount(ctx context.Context, f InvoiceQueueFilter) (int, error) {
	return q.count(ctx, "count invoice queue", `select count(*) from invoices v where `+invoiceQueueMatch, f.args()...)
}

// InstallationInvoices lists an installation's invoices, oldest first.
func (q *Queries) InstallationInvoices(ctx context.Context, installationID uuid.UUID) ([]Invoice, error) {
	const sql = `select ` + invoiceColumns + ` from invoices v where v.installation_id = $1 order by v.issued_at, v.id`
	return list(ctx, q.db, "select installation invoices", scanInvoice, sql, installationID)
}

// MarkInvoicePaid records that an open invoice was paid.
func (q *Queries) MarkInvoicePaid(ctx context.Context, id uuid.UUID, at time.Time) error {
	const sql = `update invoices set state = 'paid', paid_at = $2 where id = $1 and state = 'open'`
	_, err := q.db.Exec(ctx, sql, id, at)
	return mapErr(err, "mark invoice paid")
}

// Payment is money received for an invoice.
type Payment struct {
	ID                uuid.UUID
	CustomerID        uuid.UUID
	InvoiceID         *uuid.UUID
	ConfigurationID   *uuid.UUID
	PaidFor           PaidFor
	Amount            money.Money
	Provider          string
	ProviderPaymentID string
	RecordedBy        *uuid.UUID
	ReceivedAt        time.Time
}

const paymentColumns = `p.id, p.customer_id, p.invoice_id, p.configuration_id, p.paid_for, p.amount_minor, p.currency,
	p.provider, p.provider_payment_id, p.recorded_by, p.received_at`

func scanPayment(r pgx.CollectableRow) (Payment, error) {
	var p Payment
	err := r.Scan(&p.ID, &p.CustomerID, &p.InvoiceID, &p.ConfigurationID, &p.PaidFor, &p.Amount.Minor, &p.Amount.Currency,
		&p.Provider, &p.ProviderPaymentID, &p.RecordedBy, &p.ReceivedAt)
	return p, err
}

// InsertPayment records a payment; the provider's payment id is unique.
func (q *Queries) InsertPayment(ctx context.Context, p Payment) (Payment, error) {
	const sql = `insert into payments as p (customer_id, invoice_id, configuration_id, paid_for, amount_minor, currency,
			provider, provider_payment_id, recorded_by, received_at)
		values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		returning ` + paymentColumns
	return one(ctx, q.db, "insert payment", scanPayment, sql, p.CustomerID, p.InvoiceID, p.ConfigurationID, p.PaidFor,
		p.Amount.Minor, p.Amount.Currency, p.Provider, p.ProviderPaymentID, p.RecordedBy, p.ReceivedAt)
}

// PaymentsByIDs returns payments by id; the caller checks visibility.
func (q *Queries) PaymentsByIDs(ctx context.Context, ids []uuid.UUID) ([]Payment, error) {
	const sql = `select ` + paymentColumns + ` from payments p where p.id = any($1)`
	return list(ctx, q.db, "select payments", scanPayment, sql, ids)
}

// LockPayment reads a payment for a refund.
func (q *Queries) LockPayment(ctx context.Context, id uuid.UUID) (Payment, error) {
	const sql = `select ` + paymentColumns + ` from payments p where p.id = $1 for update`
	return one(ctx, q.db, "lock payment", scanPayment, sql, id)
}

// PaymentFilter narrows a list of payments.
type PaymentFilter struct {
	CustomerID      *uuid.UUID
	DeveloperID     *uuid.UUID
	ConfigurationID *uuid.UUID
}

// PaymentsPage lists payments matching f, newest first, named and limited
// as InstallationsPage is.
func (q *Queries) PaymentsPage(ctx context.Context, f PaymentFilter, after *TimeKey, limit int) ([]Payment, error) {
	var args sqlArgs
	var where []string
	if f.CustomerID != nil {
		where = append(where, "p.customer_id = "+args.add(*f.CustomerID))
	}
	if f.DeveloperID != nil {
		where = append(where, "c.developer_id = "+args.add(*f.DeveloperID))
	}
	if f.ConfigurationID != nil {
		where = append(where, "p.configuration_id = "+args.add(*f.ConfigurationID))
	}
	if after != nil {
		where = append(where, "(p.received_at, p.id) < ("+args.add(after.At)+", "+args.add(after.ID)+")")
	}
	sql := `select ` + paymentColumns + ` from payments p
		left join configurations c on c.id = p.configuration_id` + whereClause(where) + `
		order by p.received_at desc, p.id desc
		limit ` + strconv.Itoa(limit)
	return list(ctx, q.db, "select payments page", scanPayment, sql, args...)
}

// RefundedTotal is how much of a payment was refunded so far.
func (q *Queries) RefundedTotal(ctx context.Context, paymentID uuid.UUID) (int64, error) {
	const sql = `select coalesce(sum(amount_minor), 0) from refunds where payment_id = $1`
	var n int64
	err := q.db.QueryRow(ctx, sql, paymentID).Scan(&n)
	return n, mapErr(err, "select refunded total")
}

// InsertRefund records a refund of part or all of a payment.
func (q *Queries) InsertRefund(ctx context.Context, paymentID uuid.UUID, amount money.Money, reason string, by *uuid.UUID, at time.Time) (uuid.UUID, error) {
	const sql = `insert into refunds (payment_id, amount_minor, currency, reason, recorded_by, created_at)
		values ($1, $2, $3, $4, $5, $6) returning id`
	var id uuid.UUID
	err := q.db.QueryRow(ctx, sql, paymentID, amount.Minor, amount.Currency, reason, by, at).Scan(&id)
	return id, mapErr(err, "insert refund")
}

// IdempotentCall is a stored money-moving request and its result.
type IdempotentCall struct {
	Operation   string
	RequestHash []byte
	Response    json.RawMessage
	// AuditTarget is what the first call's audit row named, for the
	// rows of its replays.
	AuditTarget string
}

// ClaimIdempotencyKey claims key for a request; when the key was claimed
// before (by a committed request) it returns that call. A concurrent claim
// of the same key waits here for the first one to commit.
func (q *Queries) ClaimIdempotencyKey(ctx context.Context, userID uuid.UUID, key, operation string, hash []byte) (*IdempotentCall, error) {
	const claim = `insert into idempotency_keys (user_id, key, operation, request_hash) values ($1, $2, $3, $4)
		on conflict (user_id, key) do nothing`
	tag, err := q.db.Exec(ctx, claim, userID, key, operation, hash)
	if err != nil {
		return nil, mapErr(err, "claim idempotency key")
	}
	if tag.RowsAffected() == 1 {
		return nil, nil
	}
	const sql = `select operation, request_hash, response, coalesce(audit_target, '') from idempotency_keys where user_id = $1 and key = $2`
	var c IdempotentCall
	err = q.db.QueryRow(ctx, sql, userID, key).Scan(&c.Operation, &c.RequestHash, &c.Response, &c.AuditTarget)
	return &c, mapErr(err, "select idempotency key")
}

// SaveIdempotentResponse stores the result of the call that claimed key,
// and the target its audit row names.
func (q *Queries) SaveIdempotentResponse(ctx context.Context, userID uuid.UUID, key string, response any, auditTarget string) error {
	b, err := json.Marshal(response)
	if err != nil {
		return err
	}
	const sql = `update idempotency_keys set response = $3, audit_target = nullif($4, '') where user_id = $1 and key = $2`
	_, err = q.db.Exec(ctx, sql, userID, key, b, auditTarget)
	return mapErr(err, "save idempotent response")
}

// SetCustomerPlan moves a customer to another tariff plan.
func (q *Queries) SetCustomerPlan(ctx context.Context, customerID, planID uuid.UUID) error {
	const sql = `update customers set tariff_plan_id = $2 where id = $1`
	_, err := q.db.Exec(ctx, sql, customerID, planID)
	return mapErr(err, "set customer plan")
}
