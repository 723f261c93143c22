package earnings_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"configmarket/internal/apperr"
	"configmarket/internal/clock"
	"configmarket/internal/dbtest"
	"configmarket/internal/earnings"
	"configmarket/internal/factory"
	"configmarket/internal/identity"
	"configmarket/internal/money"
	"configmarket/internal/store"
)

const day = 24 * time.Hour

type payoutEnv struct {
	t     *testing.T
	ctx   context.Context
	st    *store.Store
	pool  *pgxpool.Pool
	clk   *clock.Manual
	svc   *earnings.Payouts
	buyer factory.Account
	admin factory.Account
	seq   int
	mu    sync.Mutex
}

func newPayoutEnv(t *testing.T) *payoutEnv {
	t.Helper()
	pool := dbtest.Pool(t)
	st := store.New(pool)
	// PostgreSQL keeps microseconds; a clock on a whole second compares
	// equal to what it reads back.
	clk := clock.NewManual(time.Now().UTC().Truncate(time.Second))
	return &payoutEnv{
		t: t, ctx: context.Background(), st: st, pool: pool, clk: clk, svc: earnings.NewPayouts(st, clk),
		buyer: factory.Customer(t, st), admin: factory.Admin(t, st),
	}
}

func (e *payoutEnv) ref() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.seq++
	return fmt.Sprintf("payout-test-%d", e.seq)
}

// creditSQL writes a rent payment and its balanced entries in one
// statement (the balance trigger checks them at commit): share to the
// party, the rest of amount to the platform.
const creditSQL = `with p as (
		insert into payments (customer_id, paid_for, amount_minor, provider, provider_payment_id, received_at)
		values ($1, 'rent', $2, 'test', $3, $4) returning id
	)
	insert into ledger_entries (payment_id, party, developer_id, partner_id, amount_minor, currency, paid_for, customer_id, occurred_at)
	select p.id, $5, $6::uuid, $7::uuid, $8, 'RUB', 'rent', $1, $4 from p
	union all
	select p.id, 'platform', null, null, $2 - $8, 'RUB', 'rent', $1, $4 from p
	returning payment_id`

// credit gives the party (an account of a developer or partner) share
// kopecks of a payment twice that size that occurred age ago.
func (e *payoutEnv) credit(a factory.Account, share int64, age time.Duration) uuid.UUID {
	e.t.Helper()
	id, err := e.tryCredit(a, share, age)
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *payoutEnv) tryCredit(a factory.Account, share int64, age time.Duration) (uuid.UUID, error) {
	party, dev, partner := partyOf(a)
	var id uuid.UUID
	err := e.pool.QueryRow(e.ctx, creditSQL, e.buyer.OrgID, 2*share, e.ref(), e.clk.Now().Add(-age),
		party, dev, partner, share).Scan(&id)
	return id, err
}

// refund reverses a credit in full, age ago.
func (e *payoutEnv) refund(a factory.Account, paymentID uuid.UUID, share int64, age time.Duration) {
	e.t.Helper()
	party, dev, partner := partyOf(a)
	const sql = `with r as (
			insert into refunds (payment_id, amount_minor, reason, created_at) values ($1, $2, 'test', $3) returning id
		)
		insert into ledger_entries (payment_id, refund_id, party, developer_id, partner_id, amount_minor, currency, paid_for, customer_id, occurred_at)
		select $1, r.id, $4, $5::uuid, $6::uuid, -$7::bigint, 'RUB', 'rent', $8::uuid, $3 from r
		union all
		select $1, r.id, 'platform', null, null, -($2 - $7::bigint), 'RUB', 'rent', $8::uuid, $3 from r`
	if _, err := e.pool.Exec(e.ctx, sql, paymentID, 2*share, e.clk.Now().Add(-age), party, dev, partner, share, e.buyer.OrgID); err != nil {
		e.t.Fatal(err)
	}
}

func partyOf(a factory.Account) (party store.Party, dev, partner *uuid.UUID) {
	id := a.OrgID
	if a.Role == identity.RolePartner {
		return store.PartyPartner, nil, &id
	}
	return store.PartyDeveloper, &id, nil
}

func (e *payoutEnv) setStatus(a factory.Account, status string) {
	e.t.Helper()
	sql := `update developers set status = $2 where id = $1`
	if a.Role == identity.RolePartner {
		sql = `update partners set status = $2 where id = $1`
	}
	if _, err := e.pool.Exec(e.ctx, sql, a.OrgID, status); err != nil {
		e.t.Fatal(err)
	}
}

func (e *payoutEnv) balance(a factory.Account) earnings.PartyBalance {
	e.t.Helper()
	party, _, _ := partyOf(a)
	b, err := e.svc.Balance(e.ctx, a.Viewer(), party, a.OrgID)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

func (e *payoutEnv) request(a factory.Account, amount, method string) (store.Payout, error) {
	m, err := money.Parse(amount, money.RUB)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.svc.RequestPayout(e.ctx, a.Viewer(), m, store.PayoutMethod(method), uuid.NewString())
}

func (e *payoutEnv) payoutCount(a factory.Account) int {
	e.t.Helper()
	var n int
	if err := e.pool.QueryRow(e.ctx, `select count(*) from payouts where developer_id = $1 or partner_id = $1`, a.OrgID).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func wantPayoutCode(t *testing.T, err error, code string) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.PublicCode() != code {
		t.Fatalf("want %s, got %v", code, err)
	}
}

func wantAvailable(t *testing.T, b earnings.PartyBalance, minor int64) {
	t.Helper()
	if b.Available != money.New(minor, money.RUB) {
		t.Fatalf("available = %s, want %s", b.Available, money.New(minor, money.RUB))
	}
}

// SPEC §8: the minimum payout is 1,000.00 RUB.
func TestPayoutMinimum(t *testing.T) {
	e := newPayoutEnv(t)
	dev := factory.Developer(t, e.st)
	e.credit(dev, 500000, 20*day)

	_, err := e.request(dev, "999.99", "bank_account")
	wantPayoutCode(t, err, "PAYOUT_BELOW_MINIMUM")
	p, err := e.request(dev, "1000.00", "bank_account")
	if err != nil {
		t.Fatal(err)
	}
	if p.State != store.PayoutRequested || p.Amount != money.New(100000, money.RUB) || p.DecidedAt != nil || *p.DeveloperID != dev.OrgID || *p.RequestedBy != dev.UserID {
		t.Fatalf("payout = %+v", p)
	}
	b := e.balance(dev)
	wantAvailable(t, b, 400000)
	if b.PaidOrRequested.Minor != 100000 || b.Total.Minor != 500000 {
		t.Fatalf("balance = %+v", b)
	}
	_, err = e.svc.RequestPayout(e.ctx, dev.Viewer(), money.New(100000, "USD"), "bank_account", "usd")
	wantPayoutCode(t, err, "PAYOUT_CURRENCY_INVALID")
	_, err = e.svc.RequestPayout(e.ctx, dev.Viewer(), money.New(100000, money.RUB), "bank_account", "")
	wantPayoutCode(t, err, "IDEMPOTENCY_KEY_INVALID")
}

// SPEC §8: entries count as available 14 days after they occurred.
func TestPayoutHold(t *testing.T) {
	e := newPayoutEnv(t)
	dev := factory.Developer(t, e.st)
	e.credit(dev, 300000, 13*day) // on hold
	e.credit(dev, 150000, 15*day) // available
	e.credit(dev, 10000, 14*day)  // exactly 14 days: available

	b := e.balance(dev)
	wantAvailable(t, b, 160000)
	if b.OnHold.Minor != 300000 || b.Total.Minor != 460000 || !b.HoldUntil.Equal(e.clk.Now().Add(-earnings.PayoutHold)) {
		t.Fatalf("balance = %+v", b)
	}
	_, err := e.request(dev, "1600.01", "bank_account")
	wantPayoutCode(t, err, "INSUFFICIENT_BALANCE")
	if _, err := e.request(dev, "1600.00", "bank_account"); err != nil {
		t.Fatal(err)
	}
	wantAvailable(t, e.balance(dev), 0)

	// Two days later the 13-day-old entry is 15 days old.
	e.clk.Advance(2 * day)
	b = e.balance(dev)
	wantAvailable(t, b, 300000)
	if b.OnHold.Minor != 0 {
		t.Fatalf("on hold = %s", b.OnHold)
	}
}

// SPEC §6: basic developers are paid by e-wallet, bank card or bank
// account; standard and premium by bank account only; partners by bank
// account only.
func TestPayoutMethodsPerStatus(t *testing.T) {
	e := newPayoutEnv(t)
	cases := []struct {
		partner bool
		status  string
		method  string
		code    string // empty: allowed
	}{
		{false, "basic", "e_wallet", ""},
		{false, "basic", "bank_card", ""},
		{false, "basic", "bank_account", ""},
		{false, "standard", "e_wallet", "PAYOUT_METHOD_NOT_ALLOWED"},
		{false, "standard", "bank_card", "PAYOUT_METHOD_NOT_ALLOWED"},
		{false, "standard", "bank_account", ""},
		{false, "premium", "e_wallet", "PAYOUT_METHOD_NOT_ALLOWED"},
		{false, "premium", "bank_card", "PAYOUT_METHOD_NOT_ALLOWED"},
		{false, "premium", "bank_account", ""},
		{false, "basic", "cash", "PAYOUT_METHOD_INVALID"},
		{true, "agent", "e_wallet", "PAYOUT_METHOD_NOT_ALLOWED"},
		{true, "dealer", "bank_card", "PAYOUT_METHOD_NOT_ALLOWED"},
		{true, "agent", "bank_account", ""},
		{true, "dealer", "bank_account", ""},
		{true, "integrator", "bank_account", ""},
	}
	for _, c := range cases {
		kind := store.PartyDeveloper
		if c.partner {
			kind = store.PartyPartner
		}
		t.Run(string(kind)+"/"+c.status+"/"+c.method, func(t *testing.T) {
			a := factory.Developer(t, e.st)
			if c.partner {
				a = factory.Partner(t, e.st)
			}
			e.setStatus(a, c.status)
			e.credit(a, 100000, 20*day)
			p, err := e.request(a, "1000.00", c.method)
			if c.code != "" {
				wantPayoutCode(t, err, c.code)
				if n := e.payoutCount(a); n != 0 {
					t.Fatalf("%d payouts after a refusal", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(p.Method) != c.method || p.Party != kind || p.PartyID() != a.OrgID {
				t.Fatalf("payout = %+v", p)
			}
		})
	}
	if got := earnings.PayoutMethods(store.PartyDeveloper, "basic"); len(got) != 3 {
		t.Fatalf("basic methods = %v", got)
	}
}

// Every money-moving mutation takes an idempotency key (SPEC §5).
func TestPayoutIdempotency(t *testing.T) {
	e := newPayoutEnv(t)
	dev := factory.Developer(t, e.st)
	e.credit(dev, 300000, 20*day)
	v := dev.Viewer()
	amount := money.New(100000, money.RUB)

	first, err := e.svc.RequestPayout(e.ctx, v, amount, "bank_card", "key-1")
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.svc.RequestPayout(e.ctx, v, amount, "bank_card", "key-1")
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != first.ID || e.payoutCount(dev) != 1 {
		t.Fatalf("repeat made another payout: %s vs %s, %d payouts", again.ID, first.ID, e.payoutCount(dev))
	}
	wantAvailable(t, e.balance(dev), 200000)

	// The same key for another request is refused.
	_, err = e.svc.RequestPayout(e.ctx, v, money.New(150000, money.RUB), "bank_card", "key-1")
	wantPayoutCode(t, err, "IDEMPOTENCY_KEY_REUSED")

	// A refused request leaves its key free for the retry.
	_, err = e.svc.RequestPayout(e.ctx, v, money.New(250000, money.RUB), "bank_card", "key-2")
	wantPayoutCode(t, err, "INSUFFICIENT_BALANCE")
	e.credit(dev, 50000, 20*day)
	if _, err := e.svc.RequestPayout(e.ctx, v, money.New(250000, money.RUB), "bank_card", "key-2"); err != nil {
		t.Fatal(err)
	}
	wantAvailable(t, e.balance(dev), 0)

	// Concurrent repeats of one key make one payout.
	e.credit(dev, 100000, 20*day)
	var wg sync.WaitGroup
	ids := make([]uuid.UUID, 10)
	errs := make([]error, 10)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := e.svc.RequestPayout(e.ctx, v, amount, "e_wallet", "key-3")
			ids[i], errs[i] = p.ID, err
		}()
	}
	wg.Wait()
	for i := range ids {
		if errs[i] != nil || ids[i] != ids[0] {
			t.Fatalf("repeat %d: %s, %v (first %s)", i, ids[i], errs[i], ids[0])
		}
	}
	if n := e.payoutCount(dev); n != 3 {
		t.Fatalf("%d payouts, want 3", n)
	}
	wantAvailable(t, e.balance(dev), 0)

	// A repeat after the decision returns the payout as it stands.
	if _, err := e.svc.DecidePayout(e.ctx, e.admin.Viewer(), first.ID, true, ""); err != nil {
		t.Fatal(err)
	}
	again, err = e.svc.RequestPayout(e.ctx, v, amount, "bank_card", "key-1")
	if err != nil || again.ID != first.ID || again.State != store.PayoutPaid {
		t.Fatalf("repeat after payment: %+v, %v", again, err)
	}
}

// SPEC §8: the admin marks a payout paid or failed; failed returns the
// amount to the balance.
func TestDecidePayout(t *testing.T) {
	e := newPayoutEnv(t)
	dev := factory.Developer(t, e.st)
	e.credit(dev, 300000, 20*day)
	p, err := e.request(dev, "3000.00", "bank_account")
	if err != nil {
		t.Fatal(err)
	}
	wantAvailable(t, e.balance(dev), 0)
	admin := e.admin.Viewer()

	// Only admins decide: the developer itself, another developer, a
	// customer and the anonymous are refused.
	other := factory.Developer(t, e.st)
	for _, v := range []identity.Viewer{dev.Viewer(), other.Viewer(), e.buyer.Viewer()} {
		_, err := e.svc.DecidePayout(e.ctx, v, p.ID, true, "")
		if !apperr.Is(err, apperr.KindForbidden) {
			t.Fatalf("%s decided a payout: %v", v.Role, err)
		}
	}
	_, err = e.svc.DecidePayout(e.ctx, identity.Viewer{}, p.ID, true, "")
	if !apperr.Is(err, apperr.KindUnauthenticated) {
		t.Fatalf("anonymous: %v", err)
	}
	_, err = e.svc.DecidePayout(e.ctx, admin, uuid.New(), true, "")
	if !apperr.Is(err, apperr.KindNotFound) {
		t.Fatalf("unknown payout: %v", err)
	}
	_, err = e.svc.DecidePayout(e.ctx, admin, p.ID, false, "  ")
	wantPayoutCode(t, err, "REASON_REQUIRED")

	e.clk.Advance(time.Hour)
	failed, err := e.svc.DecidePayout(e.ctx, admin, p.ID, false, "bank rejected the account number")
	if err != nil {
		t.Fatal(err)
	}
	if failed.State != store.PayoutFailed || failed.FailureReason == nil || *failed.FailureReason != "bank rejected the account number" ||
		failed.DecidedAt == nil || !failed.DecidedAt.Equal(e.clk.Now()) {
		t.Fatalf("failed payout = %+v", failed)
	}
	b := e.balance(dev)
	wantAvailable(t, b, 300000)
	if b.PaidOrRequested.Minor != 0 {
		t.Fatalf("paid or requested = %s", b.PaidOrRequested)
	}
	// The same decision again changes nothing; the other is refused.
	if again, err := e.svc.DecidePayout(e.ctx, admin, p.ID, false, "again"); err != nil || *again.FailureReason != *failed.FailureReason {
		t.Fatalf("repeat: %+v, %v", again, err)
	}
	_, err = e.svc.DecidePayout(e.ctx, admin, p.ID, true, "")
	wantPayoutCode(t, err, "PAYOUT_ALREADY_DECIDED")

	// The returned amount can be requested again; paid keeps it out.
	p2, err := e.request(dev, "3000.00", "bank_account")
	if err != nil {
		t.Fatal(err)
	}
	paid, err := e.svc.DecidePayout(e.ctx, admin, p2.ID, true, "ignored for a payment")
	if err != nil || paid.State != store.PayoutPaid || paid.FailureReason != nil || paid.DecidedAt == nil {
		t.Fatalf("paid payout = %+v, %v", paid, err)
	}
	b = e.balance(dev)
	wantAvailable(t, b, 0)
	if b.PaidOrRequested.Minor != 300000 {
		t.Fatalf("paid or requested = %s", b.PaidOrRequested)
	}
	_, err = e.svc.DecidePayout(e.ctx, admin, p2.ID, false, "too late")
	wantPayoutCode(t, err, "PAYOUT_ALREADY_DECIDED")
}

// SPEC §5, §8: a refund after a payout can make the balance negative; a
// request then fails, and later earnings net against it.
func TestNegativeBalanceBlocksPayouts(t *testing.T) {
	e := newPayoutEnv(t)
	dev := factory.Developer(t, e.st)
	pay := e.credit(dev, 200000, 30*day)
	p, err := e.request(dev, "2000.00", "bank_account")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.DecidePayout(e.ctx, e.admin.Viewer(), p.ID, true, ""); err != nil {
		t.Fatal(err)
	}
	e.refund(dev, pay, 200000, 20*day)
	b := e.balance(dev)
	wantAvailable(t, b, -200000)
	if b.Total.Minor != 0 {
		t.Fatalf("total = %s", b.Total)
	}
	_, err = e.request(dev, "1000.00", "bank_account")
	wantPayoutCode(t, err, "INSUFFICIENT_BALANCE")

	e.credit(dev, 250000, 16*day)
	wantAvailable(t, e.balance(dev), 50000)
	_, err = e.request(dev, "1000.00", "bank_account")
	wantPayoutCode(t, err, "INSUFFICIENT_BALANCE")

	e.credit(dev, 50000, 15*day)
	if _, err := e.request(dev, "1000.00", "bank_account"); err != nil {
		t.Fatal(err)
	}
	wantAvailable(t, e.balance(dev), 0)
}

// SPEC §8: a refund's reversal counts against the available balance the
// moment it is written, not 14 days later: refunded money can never be paid
// out, not even by a payout requested in the same second.
func TestRefundBitesAtOnce(t *testing.T) {
	e := newPayoutEnv(t)
	dev := factory.Developer(t, e.st)
	matured := e.credit(dev, 300000, 20*day) // 3,000.00, past the 14-day hold
	e.credit(dev, 100000, 2*day)             // 1,000.00 on hold
	wantAvailable(t, e.balance(dev), 300000)

	e.refund(dev, matured, 300000, 0) // refunded just now
	b := e.balance(dev)
	wantAvailable(t, b, 0)
	if b.OnHold.Minor != 100000 || b.Total.Minor != 100000 {
		t.Fatalf("after the refund: on hold %s, total %s; want 1000.00 and 1000.00", b.OnHold, b.Total)
	}
	// The old available amount, or any of it, is refused.
	_, err := e.request(dev, "3000.00", "bank_account")
	wantPayoutCode(t, err, "INSUFFICIENT_BALANCE")
	_, err = e.request(dev, "1000.00", "bank_account")
	wantPayoutCode(t, err, "INSUFFICIENT_BALANCE")
	// Fourteen days on, the refund is still counted once.
	e.clk.Advance(14 * day)
	wantAvailable(t, e.balance(dev), 100000)
}

// SPEC §8: concurrent requests can never pay out more than the balance.
func TestConcurrentPayoutsNeverExceedBalance(t *testing.T) {
	e := newPayoutEnv(t)
	cases := []struct {
		name    string
		account factory.Account
		balance int64
		want    int
	}{
		{"developer covers exactly one", factory.Developer(t, e.st), 100000, 1},
		{"partner covers exactly two", factory.Partner(t, e.st), 299999, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.credit(c.account, c.balance, 20*day)
			const n = 50
			errs := make([]error, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, errs[i] = e.svc.RequestPayout(e.ctx, c.account.Viewer(), money.New(100000, money.RUB), "bank_account", fmt.Sprint("race-", i))
				}()
			}
			close(start)
			wg.Wait()
			ok := 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case apperr.Is(err, apperr.KindFailedPrecondition):
					wantPayoutCode(t, err, "INSUFFICIENT_BALANCE")
				default:
					t.Fatalf("unexpected error: %v", err)
				}
			}
			if ok != c.want || e.payoutCount(c.account) != c.want {
				t.Fatalf("%d succeeded, %d payouts; want %d", ok, e.payoutCount(c.account), c.want)
			}
			wantAvailable(t, e.balance(c.account), c.balance-int64(c.want)*100000)
		})
	}
}

// New entries only add to a balance: payments landing while payouts are
// requested never let the available balance go below zero, and nothing
// deadlocks.
func TestPayoutsRaceWithPayments(t *testing.T) {
	e := newPayoutEnv(t)
	dev := factory.Developer(t, e.st)
	e.credit(dev, 100000, 20*day)

	const payers, paymentsEach, requesters, requestsEach = 5, 6, 10, 5
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []error
	succeeded := 0
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		failures = append(failures, err)
	}
	for range payers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range paymentsEach {
				// Half settled, half on hold.
				if _, err := e.tryCredit(dev, 100000, 20*day); err != nil {
					fail(err)
				}
				if _, err := e.tryCredit(dev, 100000, day); err != nil {
					fail(err)
				}
			}
		}()
	}
	for r := range requesters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range requestsEach {
				_, err := e.svc.RequestPayout(e.ctx, dev.Viewer(), money.New(100000, money.RUB), "bank_account", fmt.Sprint("mix-", r, "-", i))
				switch {
				case err == nil:
					mu.Lock()
					succeeded++
					mu.Unlock()
				case apperr.Is(err, apperr.KindFailedPrecondition):
				default:
					fail(err)
				}
				// Checked by the party itself mid-way, never negative.
				b, err := e.svc.Balance(e.ctx, dev.Viewer(), store.PartyDeveloper, dev.OrgID)
				if err != nil {
					fail(err)
				} else if b.Available.Minor < 0 {
					fail(fmt.Errorf("available went negative: %s", b.Available))
				}
			}
		}()
	}
	wg.Wait()
	if len(failures) > 0 {
		t.Fatal(failures)
	}
	settled := int64(1+payers*paymentsEach) * 100000
	b := e.balance(dev)
	if b.Available.Minor < 0 || b.Available.Minor != settled-int64(succeeded)*100000 || b.OnHold.Minor != payers*paymentsEach*100000 {
		t.Fatalf("balance = %+v after %d payouts", b, succeeded)
	}
	if succeeded == 0 || e.payoutCount(dev) != succeeded {
		t.Fatalf("%d succeeded, %d payouts", succeeded, e.payoutCount(dev))
	}
}

// SPEC §1: a party's balance and payouts are its own and the admins'.
// Each allowed viewer has its refused twins.
func TestPayoutVisibility(t *testing.T) {
	e := newPayoutEnv(t)
	dev := factory.Developer(t, e.st)
	partner := factory.Partner(t, e.st)
	// One human who is the developer's user, acting as a partner.
	devAsPartner := factory.AlsoPartner(t, e.st, dev)
	otherDev := factory.Developer(t, e.st)
	otherPartner := factory.Partner(t, e.st)
	e.credit(dev, 200000, 20*day)
	e.credit(partner, 200000, 20*day)
	devPayout, err := e.request(dev, "1000.00", "bank_account")
	if err != nil {
		t.Fatal(err)
	}
	partnerPayout, err := e.request(partner, "1000.00", "bank_account")
	if err != nil {
		t.Fatal(err)
	}

	owners := []struct {
		party   store.Party
		account factory.Account
		payout  store.Payout
	}{{store.PartyDeveloper, dev, devPayout}, {store.PartyPartner, partner, partnerPayout}}
	for _, o := range owners {
		allowed := map[string]identity.Viewer{"itself": o.account.Viewer(), "admin": e.admin.Viewer()}
		refused := map[string]identity.Viewer{
			"other developer": otherDev.Viewer(), "other partner": otherPartner.Viewer(), "customer": e.buyer.Viewer(),
			"anonymous": {}, "same id other role": {UserID: o.account.UserID, Role: identity.RoleCustomer, ActingFor: o.account.OrgID},
		}
		if o.party == store.PartyDeveloper {
			refused["its user acting as a partner"] = devAsPartner.Viewer()
		}
		for name, v := range allowed {
			t.Run(string(o.party)+"/"+name, func(t *testing.T) {
				b, err := e.svc.Balance(e.ctx, v, o.party, o.account.OrgID)
				if err != nil || b.Available.Minor != 100000 {
					t.Fatalf("balance = %+v, %v", b, err)
				}
				page, err := e.svc.Payouts(e.ctx, v, o.party, o.account.OrgID, nil, nil)
				if err != nil || len(page.Rows) != 1 || page.Rows[0].ID != o.payout.ID {
					t.Fatalf("payouts = %+v, %v", page, err)
				}
				got, err := e.svc.PayoutsByIDs(e.ctx, v, []uuid.UUID{o.payout.ID})
				if err != nil || len(got) != 1 {
					t.Fatalf("by ids = %+v, %v", got, err)
				}
			})
		}
		for name, v := range refused {
			t.Run(string(o.party)+"/"+name, func(t *testing.T) {
				_, err := e.svc.Balance(e.ctx, v, o.party, o.account.OrgID)
				want := apperr.KindForbidden
				if v.Anonymous() {
					want = apperr.KindUnauthenticated
				}
				if !apperr.Is(err, want) {
					t.Fatalf("balance: %v", err)
				}
				page, err := e.svc.Payouts(e.ctx, v, o.party, o.account.OrgID, nil, nil)
				if !apperr.IsHidden(err) || len(page.Rows) != 0 {
					t.Fatalf("payouts = %+v, %v", page, err)
				}
				got, err := e.svc.PayoutsByIDs(e.ctx, v, []uuid.UUID{o.payout.ID})
				if err != nil || len(got) != 0 {
					t.Fatalf("by ids = %+v, %v", got, err)
				}
			})
		}
	}
	// The party named must match the role: a developer's id asked for as
	// a partner reads nothing, even for its own user.
	if _, err := e.svc.Balance(e.ctx, dev.Viewer(), store.PartyPartner, dev.OrgID); !apperr.Is(err, apperr.KindForbidden) {
		t.Fatalf("wrong party: %v", err)
	}
	if _, err := e.svc.Balance(e.ctx, e.admin.Viewer(), store.PartyPlatform, uuid.Nil); !apperr.Is(err, apperr.KindInvalid) {
		t.Fatalf("platform: %v", err)
	}

	// Payouts are requested only for the party the viewer acts for.
	for name, v := range map[string]identity.Viewer{"customer": e.buyer.Viewer(), "admin": e.admin.Viewer()} {
		_, err := e.svc.RequestPayout(e.ctx, v, money.New(100000, money.RUB), "bank_account", "k")
		if !apperr.Is(err, apperr.KindForbidden) {
			t.Fatalf("%s requested a payout: %v", name, err)
		}
	}
	_, err = e.svc.RequestPayout(e.ctx, identity.Viewer{}, money.New(100000, money.RUB), "bank_account", "k")
	if !apperr.Is(err, apperr.KindUnauthenticated) {
		t.Fatalf("anonymous requested a payout: %v", err)
	}
	// The developer's user acting as its (empty) partner draws on the
	// partner's balance, not the developer's.
	_, err = e.request(devAsPartner, "1000.00", "bank_account")
	wantPayoutCode(t, err, "INSUFFICIENT_BALANCE")
	wantAvailable(t, e.balance(dev), 100000)
}

// Payouts list newest first in pages with cursors.
func TestPayoutsPages(t *testing.T) {
	e := newPayoutEnv(t)
	dev := factory.Developer(t, e.st)
	e.credit(dev, 500000, 20*day)
	var made []store.Payout
	for range 3 {
		p, err := e.request(dev, "1000.00", "bank_account")
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, p)
		e.clk.Advance(time.Minute)
	}
	two := 2
	page, err := e.svc.Payouts(e.ctx, dev.Viewer(), store.PartyDeveloper, dev.OrgID, &two, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !page.HasNext || len(page.Rows) != 2 || page.Rows[0].ID != made[2].ID || page.Rows[1].ID != made[1].ID {
		t.Fatalf("first page = %+v", page)
	}
	rest, err := e.svc.Payouts(e.ctx, dev.Viewer(), store.PartyDeveloper, dev.OrgID, &two, &page.Cursors[1])
	if err != nil {
		t.Fatal(err)
	}
	if rest.HasNext || len(rest.Rows) != 1 || rest.Rows[0].ID != made[0].ID {
		t.Fatalf("second page = %+v", rest)
	}
	bad := "not-a-cursor"
	if _, err := e.svc.Payouts(e.ctx, dev.Viewer(), store.PartyDeveloper, dev.OrgID, nil, &bad); !apperr.Is(err, apperr.KindInvalid) {
		t.Fatalf("bad cursor: %v", err)
	}
	zero := 0
	if _, err := e.svc.Payouts(e.ctx, dev.Viewer(), store.PartyDeveloper, dev.OrgID, &zero, nil); !apperr.Is(err, apperr.KindInvalid) {
		t.Fatalf("first 0: %v", err)
	}
}
