// Package demo loads the demo marketplace `make run` serves: developers of
// each status, partners of each status, customers on every plan, an admin
// and about twenty published configurations with versions and prices.
// Loading twice changes nothing: every row is keyed by a natural key.
package demo

import (
	"context"
	_ "embed"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"configmarket/internal/earnings"
	"configmarket/internal/password"
	"configmarket/internal/store"
)

// Password is every demo user's password (README lists the accounts).
const Password = "demo-password"

//go:embed demo.sql
var script string

// Load inserts what is missing of the demo data, in one transaction.
func Load(ctx context.Context, pool *pgxpool.Pool) error {
	h, err := password.NewHasher(password.Default)
	if err != nil {
		return err
	}
	hash, err := h.Hash(Password)
	if err != nil {
		return err
	}
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		// The script is plain SQL run in one round trip; it reads the
		// hash from a transaction-local setting.
		if _, err := tx.Exec(ctx, `select set_config('demo.password_hash', $1, true)`, hash); err != nil {
			return fmt.Errorf("set demo password: %w", err)
		}
		if _, err := tx.Exec(ctx, script); err != nil {
			return fmt.Errorf("run demo script: %w", err)
		}
		return nil
	}); err != nil {
		return err
	}
	// The demo's payments are split like real ones, by the real code.
	st := store.New(pool)
	return st.InTx(ctx, func(q *store.Queries) error {
		payments, err := q.PaymentsWithoutEntries(ctx)
		if err != nil {
			return err
		}
		for _, p := range payments {
			if err := earnings.RecordPayment(ctx, q, p); err != nil {
				return fmt.Errorf("split demo payment %s: %w", p.ID, err)
			}
		}
		return nil
	})
}
