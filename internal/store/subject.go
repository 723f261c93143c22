package store

import (
	"context"

	"github.com/jackc/pgx/v5"

	"configmarket/internal/identity"
)

// subjectOf names ctx's subject for the row-level security of money data
// (migration 0014): the platform itself, an admin, or the organisation a
// viewer acts for. Anonymous contexts name none and see no money rows.
func subjectOf(ctx context.Context) string {
	if identity.IsSystem(ctx) {
		return "system"
	}
	v := identity.FromContext(ctx)
	switch {
	case v.Anonymous():
		return ""
	case v.IsAdmin():
		return "admin"
	default:
		return string(v.Role) + ":" + v.ActingFor.String()
	}
}

const setSubject = `select set_config('cm.subject', $1, true)`

// withSubject runs fn where row-level security sees ctx's subject. The
// setting is transaction-local, so it can never leak to the next user of a
// pooled connection: inside InTx it is set once per transaction, outside
// one the read gets a short read-only transaction of its own (money is only
// written inside InTx, which also writes the audit row).
func (q *Queries) withSubject(ctx context.Context, op string, fn func(db dbtx) error) error {
	if q.pool == nil {
		if !q.subjectSet {
			if _, err := q.db.Exec(ctx, setSubject, subjectOf(ctx)); err != nil {
				return mapErr(err, op+": set subject")
			}
			q.subjectSet = true
		}
		return fn(q.db)
	}
	return pgx.BeginTxFunc(ctx, q.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, setSubject, subjectOf(ctx)); err != nil {
			return mapErr(err, op+": set subject")
		}
		return fn(tx)
	})
}

// listMoney is list under ctx's row-level-security subject.
func listMoney[T any](ctx context.Context, q *Queries, op string, scan pgx.RowToFunc[T], sql string, args ...any) ([]T, error) {
	var out []T
	err := q.withSubject(ctx, op, func(db dbtx) (err error) {
		out, err = list(ctx, db, op, scan, sql, args...)
		return err
	})
	return out, err
}

// oneMoney is one under ctx's row-level-security subject.
func oneMoney[T any](ctx context.Context, q *Queries, op string, scan pgx.RowToFunc[T], sql string, args ...any) (T, error) {
	var out T
	err := q.withSubject(ctx, op, func(db dbtx) (err error) {
		out, err = one(ctx, db, op, scan, sql, args...)
		return err
	})
	return out, err
}

// scanMoney scans the one row of a query under ctx's row-level-security
// subject.
func (q *Queries) scanMoney(ctx context.Context, op, sql string, args []any, dest ...any) error {
	return q.withSubject(ctx, op, func(db dbtx) error {
		return mapErr(db.QueryRow(ctx, sql, args...).Scan(dest...), op)
	})
}
