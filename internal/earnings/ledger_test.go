package earnings_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"configmarket/internal/dbtest"
	"configmarket/internal/earnings"
	"configmarket/internal/factory"
	"configmarket/internal/money"
	"configmarket/internal/store"
)

type ledgerEnv struct {
	t     *testing.T
	ctx   context.Context
	st    *store.Store
	pool  *pgxpool.Pool
	conf  store.Configuration
	buyer factory.Account
}

// newLedgerEnv: a premium developer supporting its customers, a 500.00
// rent, and a customer (pinned by a dealer when pinned is true).
func newLedgerEnv(t *testing.T, pinned bool) *ledgerEnv {
	t.Helper()
	pool := dbtest.Pool(t)
	e := &ledgerEnv{t: t, ctx: context.Background(), st: store.New(pool), pool: pool}
	dev := factory.Developer(t, e.st)
	e.conf = factory.Configuration(t, e.st, dev.OrgID, factory.ConfigurationOptions{})
	e.buyer = factory.Customer(t, e.st)
	if _, err := pool.Exec(e.ctx, `update developers set status = 'premium' where id = $1`, dev.OrgID); err != nil {
		t.Fatal(err)
	}
	if pinned {
		partner := factory.Partner(t, e.st)
		if _, err := pool.Exec(e.ctx, `update partners set status = 'dealer' where id = $1;`, partner.OrgID); err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(e.ctx, `insert into pins (partner_id, customer_id, state, starts_at, expires_at)
			values ($1, $2, 'active', now() - interval '1 day', now() + interval '89 days')`, partner.OrgID, e.buyer.OrgID); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func (e *ledgerEnv) pay(minor int64, ref string) store.Payment {
	e.t.Helper()
	var p store.Payment
	err := e.st.InTx(e.ctx, func(q *store.Queries) error {
		var err error
		p, err = q.InsertPayment(e.ctx, store.Payment{
			CustomerID: e.buyer.OrgID, ConfigurationID: &e.conf.ID, PaidFor: "rent", Amount: money.New(minor, money.RUB),
			Provider: "test", ProviderPaymentID: ref, ReceivedAt: time.Now().UTC(),
		})
		if err != nil {
			return err
		}
		return earnings.RecordPayment(e.ctx, q, p)
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *ledgerEnv) entries(p store.Payment) map[store.Party]int64 {
	e.t.Helper()
	rows, err := e.st.PaymentEntries(e.ctx, p.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[store.Party]int64{}
	for _, r := range rows {
		out[r.Party] += r.Amount.Minor
	}
	return out
}

func TestSpecExampleInTheLedger(t *testing.T) {
	e := newLedgerEnv(t, true)
	got := e.entries(e.pay(50000, "p1"))
	if got[store.PartyDeveloper] != 37500 || got[store.PartyPartner] != 3125 || got[store.PartyPlatform] != 9375 {
		t.Fatalf("entries %v, want developer 375.00, partner 31.25, platform 93.75", got)
	}
}

func TestNoPinNoCommission(t *testing.T) {
	e := newLedgerEnv(t, false)
	got := e.entries(e.pay(50000, "p1"))
	if _, ok := got[store.PartyPartner]; ok || got[store.PartyDeveloper] != 37500 || got[store.PartyPlatform] != 12500 {
		t.Fatalf("entries %v", got)
	}
}

func TestRefundReversesExactly(t *testing.T) {
	e := newLedgerEnv(t, true)
	p := e.pay(50000, "p1")
	refund := func(minor, before int64) {
		err := e.st.InTx(e.ctx, func(q *store.Queries) error {
			id, err := q.InsertRefund(e.ctx, p.ID, money.New(minor, money.RUB), "test", nil, time.Now().UTC())
			if err != nil {
				return err
			}
			return earnings.RecordRefund(e.ctx, q, p, id, money.New(minor, money.RUB), before, time.Now().UTC())
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	refund(10001, 0)
	refund(39999, 10001)
	if got := e.entries(p); got[store.PartyDeveloper] != 0 || got[store.PartyPartner] != 0 || got[store.PartyPlatform] != 0 {
		t.Fatalf("after a full refund in two parts the shares are %v, want all zero", got)
	}
}

func TestLedgerIsAppendOnlyAndBalanced(t *testing.T) {
	e := newLedgerEnv(t, false)
	p := e.pay(50000, "p1")
	for _, sql := range []string{
		`update ledger_entries set amount_minor = amount_minor + 1`,
		`delete from ledger_entries`,
		`truncate ledger_entries`,
	} {
		if _, err := e.pool.Exec(e.ctx, sql); err == nil {
			t.Errorf("%q was allowed", sql)
		}
	}
	// An entry that unbalances the payment is refused at commit.
	err := e.st.InTx(e.ctx, func(q *store.Queries) error {
		return q.InsertLedgerEntries(e.ctx, []store.LedgerEntry{{
			PaymentID: p.ID, Party: store.PartyPlatform, Amount: money.New(1, money.RUB), PaidFor: "rent",
			CustomerID: e.buyer.OrgID, OccurredAt: time.Now(),
		}})
	})
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.ConstraintName != "ledger_entries_balanced" {
		t.Fatalf("unbalanced commit: %v", err)
	}
	if got := e.entries(p); got[store.PartyDeveloper]+got[store.PartyPlatform] != 50000 {
		t.Fatalf("entries changed: %v", got)
	}
}
