// Package store is the only code that speaks SQL. Each method runs one
// statement (or one small fixed set) written next to it; domain packages
// compose them inside InTx.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"configmarket/internal/apperr"
	"configmarket/internal/audit"
)

// dbtx is what both the pool and a transaction offer.
type dbtx interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Queries runs statements on the pool or, inside InTx, on one transaction.
type Queries struct {
	db dbtx
	// pool is set outside InTx; inside, subjectSet records that the
	// transaction has named its row-level-security subject (withSubject).
	pool       *boundedPool
	subjectSet bool
}

// Store owns the pool.
type Store struct {
	*Queries
	pool    *pgxpool.Pool
	bounded *boundedPool
}

// New wraps a pool; statements wait at most DefaultAcquireTimeout for a
// connection.
func New(pool *pgxpool.Pool) *Store {
	return NewWithAcquireTimeout(pool, DefaultAcquireTimeout)
}

// NewWithAcquireTimeout wraps a pool whose statements wait at most timeout
// for a connection, then fail with UNAVAILABLE.
func NewWithAcquireTimeout(pool *pgxpool.Pool, timeout time.Duration) *Store {
	b := &boundedPool{pool: pool, timeout: timeout}
	return &Store{Queries: &Queries{db: b, pool: b}, pool: pool, bounded: b}
}

// Pool is the connection pool, for the one listener that needs a
// dedicated connection (LISTEN).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Ping reports whether PostgreSQL answers.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// TxOption adjusts a transaction.
type TxOption func(*txConfig)

type txConfig struct {
	pgx   pgx.TxOptions
	audit *audit.Pending
}

// Serializable runs the transaction at SERIALIZABLE isolation; InTx retries
// it on serialization failures.
func Serializable(c *txConfig) { c.pgx.IsoLevel = pgx.Serializable }

// Audit makes the transaction carry the audit row of the action it is the
// effect of: InTx writes p just before it commits, so the row commits with
// the effect or not at all, and marks p written once committed, so neither
// a later transaction of the same action nor the mutation middleware writes
// it again. A nil p (no action being audited) writes nothing.
func Audit(p *audit.Pending) TxOption {
	return func(c *txConfig) { c.audit = p }
}

const maxTxAttempts = 4

// InTx runs fn in one transaction, committing if fn returns nil. A
// serialization failure or deadlock reruns fn from the start, so fn must not
// have effects outside the transaction. The audit row it writes is the one
// its caller names (Audit), never one it finds in ctx.
func (s *Store) InTx(ctx context.Context, fn func(q *Queries) error, opts ...TxOption) error {
	var cfg txConfig
	for _, o := range opts {
		o(&cfg)
	}
	var err error
	for attempt := 1; attempt <= maxTxAttempts; attempt++ {
		err = pgx.BeginTxFunc(ctx, s.bounded, cfg.pgx, func(tx pgx.Tx) error {
			q := &Queries{db: tx}
			if err := fn(q); err != nil {
				return err
			}
			return q.auditInTx(ctx, cfg.audit)
		})
		if err == nil && cfg.audit != nil {
			cfg.audit.MarkWritten()
		}
		if !retryable(err) {
			// A lost or refused connection becomes UNAVAILABLE here too.
			return mapErr(err, "transaction")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt*attempt) * 5 * time.Millisecond):
		}
	}
	return fmt.Errorf("transaction gave up after %d attempts: %w", maxTxAttempts, err)
}

func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "40001" || pgErr.Code == "40P01"
	}
	return false
}

// badText reports PostgreSQL refusing a text value it cannot hold: NUL in
// text (22021, character_not_in_repertoire) or in jsonb's \u0000 (22P05,
// untranslatable_character). Only a client's value can carry one; the
// GraphQL edge refuses NUL before any statement (resolvers.RefuseNUL), so
// this is the second wall, for paths that do not pass through it.
func badText(pgErr *pgconn.PgError) bool {
	return pgErr.Code == "22021" || pgErr.Code == "22P05"
}

// constraintErrors turns the violations clients can cause into their
// classified errors. Constraint names never reach the client.
var constraintErrors = map[string]*apperr.Error{
	"users_email_key":                 apperr.Conflict("an account with this email already exists").WithCode("EMAIL_TAKEN"),
	"users_email_check":               apperr.Invalid("", "email is not valid").WithCode("EMAIL_INVALID"),
	"customers_inn_key":               apperr.Conflict("a customer with this tax number already exists").WithCode("INN_TAKEN"),
	"customers_inn_check":             apperr.Invalid("", "tax number must have 10 or 12 digits").WithCode("INN_INVALID"),
	"customers_crm_account_id_key":    apperr.Conflict("a customer with this CRM account id already exists").WithCode("CRM_ACCOUNT_TAKEN"),
	"version_packages_frozen":         apperr.FailedPrecondition("the package of a submitted version cannot change").WithCode("PACKAGE_FROZEN"),
	"customers_crm_account_id_check":  apperr.Invalid("", "the CRM account id must be 1 to 200 characters without control characters").WithCode("CRM_ACCOUNT_INVALID"),
	"partners_inn_key":                apperr.Conflict("a partner with this tax number already exists").WithCode("INN_TAKEN"),
	"developers_slug_key":             apperr.Conflict("this developer slug is taken").WithCode("SLUG_TAKEN"),
	"developers_slug_check":           apperr.Invalid("", "slug may hold lower-case letters, digits and inner dashes").WithCode("SLUG_INVALID"),
	"configurations_slug_key":         apperr.Conflict("this configuration slug is taken").WithCode("SLUG_TAKEN"),
	"configurations_slug_check":       apperr.Invalid("", "slug may hold lower-case letters, digits and inner dashes").WithCode("SLUG_INVALID"),
	"configurations_trial_days_check": apperr.Invalid("", "trial days must be between 0 and 30").WithCode("TRIAL_DAYS_INVALID"),
	"versions_number_key":             apperr.Conflict("this version number already exists").WithCode("VERSION_EXISTS"),
	"trials_once_per_customer":        apperr.Conflict("a trial of this configuration was already used").WithCode("TRIAL_ALREADY_USED"),
	"installations_one_per_customer":  apperr.Conflict("this configuration is already installed").WithCode("ALREADY_INSTALLED"),
	"reviews_one_per_customer":        apperr.Conflict("this customer already reviewed the configuration").WithCode("ALREADY_REVIEWED"),
	"pins_one_live_per_customer":      apperr.Conflict("the customer is already pinned").WithCode("ALREADY_PINNED"),
	"payments_provider_key":           apperr.Conflict("this payment was already recorded").WithCode("DUPLICATE_PAYMENT"),
	"role_grants_unique":              apperr.Conflict("the user already holds this role").WithCode("ROLE_EXISTS"),
}

// mapErr classifies err. Known constraint violations become their client
// error; every other database error becomes internal, keeping its text for
// the log only.
func mapErr(err error, op string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return &apperr.Error{Kind: apperr.KindNotFound, Message: "not found", Err: err}
	}
	if _, ok := apperr.As(err); ok {
		return err
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		if known, ok := constraintErrors[pgErr.ConstraintName]; ok {
			e := *known
			e.Err = err
			return &e
		}
		if retryable(err) {
			// InTx must see the original error to retry.
			return err
		}
		if badText(pgErr) {
			return &apperr.Error{Kind: apperr.KindInvalid, Message: "text must not contain NUL characters", Err: fmt.Errorf("%s: %w", op, err)}
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if unavailable(err) {
		return apperr.Unavailable(fmt.Errorf("%s: %w", op, err))
	}
	return apperr.Internal(fmt.Errorf("%s: %w", op, err))
}

// list runs a query and scans every row with scan.
func list[T any](ctx context.Context, db dbtx, op string, scan pgx.RowToFunc[T], sql string, args ...any) ([]T, error) {
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, mapErr(err, op)
	}
	out, err := pgx.CollectRows(rows, scan)
	return out, mapErr(err, op)
}

// one runs a query that must return exactly one row; none is NotFound.
func one[T any](ctx context.Context, db dbtx, op string, scan pgx.RowToFunc[T], sql string, args ...any) (T, error) {
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		var zero T
		return zero, mapErr(err, op)
	}
	out, err := pgx.CollectExactlyOneRow(rows, scan)
	return out, mapErr(err, op)
}
