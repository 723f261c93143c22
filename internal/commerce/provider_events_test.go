package commerce_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"configmarket/internal/commerce"
	"configmarket/internal/factory"
	"configmarket/internal/identity"
	"configmarket/internal/money"
	"configmarket/internal/relay"
	"configmarket/internal/store"
)

// payAs pays inv through the provider with the provider payment id paymentID.
func (e *env) payAs(inv store.Invoice, paymentID string) {
	e.t.Helper()
	out, err := e.svc.HandleProviderEvent(e.ctx, commerce.ProviderPayment{
		Provider: "testpay", EventID: "evt-" + paymentID, PaymentID: paymentID, InvoiceID: inv.ID,
		Amount: inv.Amount, PaidAt: e.clk.Now(),
	}.Event())
	if err != nil || !out.Applied {
		e.t.Fatalf("pay %s: %+v %v", inv.ID, out, err)
	}
}

// takeBack sends a refund or chargeback event of the provider.
func (e *env) takeBack(kind store.EventKind, event, paymentID, refundID string, amount money.Money) commerce.EventOutcome {
	e.t.Helper()
	out, err := e.svc.HandleProviderEvent(e.ctx, commerce.ProviderEvent{
		Provider: "testpay", EventID: event, Type: "payment." + string(kind), Kind: kind,
		PaymentID: paymentID, RefundID: refundID, Amount: amount, At: e.clk.Now(),
		Raw: json.RawMessage(fmt.Sprintf(`{"id": %q}`, event)),
	})
	if err != nil {
		e.t.Fatalf("%s %s: %v", kind, event, err)
	}
	return out
}

// reversals are a refund's ledger entries, party by party.
func (e *env) reversals(refundID uuid.UUID) []string {
	e.t.Helper()
	rows, err := e.pool.Query(e.ctx, `select party || ' ' || amount_minor from ledger_entries where refund_id = $1 order by party`, refundID)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func (e *env) providerRefund(kind store.EventKind, refundID string) uuid.UUID {
	e.t.Helper()
	var id uuid.UUID
	if err := e.pool.QueryRow(e.ctx, `select id from refunds where kind = $1 and provider_refund_id = $2`, string(kind), refundID).Scan(&id); err != nil {
		e.t.Fatalf("refund %s: %v", refundID, err)
	}
	return id
}

// Issue 19: a provider refund is applied once per refundId, whatever event
// carries it, with the reversal entries an admin's refund writes; one the
// books cannot take is kept, with its reason.
func TestProviderRefunds(t *testing.T) {
	e := newEnv(t)
	c := e.config(factory.ConfigurationOptions{})
	a, b := e.customer(), e.customer()
	invA := e.invoice(*e.rent(a, c.ID).InvoiceID)
	invB := e.invoice(*e.rent(b, c.ID).InvoiceID)
	e.payAs(invA, "pay-a")
	e.payAs(invB, "pay-b")

	steps := []struct {
		name      string
		event     string
		payment   string
		refund    string
		amount    money.Money
		applied   bool
		kept      store.UnappliedReason
		refundsOf int // refunds of pay-a after the step
	}{
		{"refund 100.00", "evt-r1", "pay-a", "re-1", rub(10000), true, "", 1},
		{"replayed event", "evt-r1", "pay-a", "re-1", rub(10000), false, "", 1},
		{"same refundId, new event id", "evt-r2", "pay-a", "re-1", rub(10000), false, "", 1},
		{"unknown payment", "evt-r3", "pay-x", "re-3", rub(10000), false, store.ReasonPaymentUnknown, 1},
		{"other currency", "evt-r4", "pay-a", "re-4", money.New(10000, "USD"), false, store.ReasonCurrencyMismatch, 1},
		{"zero", "evt-r5", "pay-a", "re-5", rub(0), false, store.ReasonAmountInvalid, 1},
		{"more than the 400.00 left", "evt-r6", "pay-a", "re-6", rub(40001), false, store.ReasonRefundExceedsPayment, 1},
		{"kept refundId, new event id", "evt-r7", "pay-a", "re-6", rub(100), false, "", 1},
		{"the 400.00 left", "evt-r8", "pay-a", "re-8", rub(40000), true, "", 2},
		{"one kopeck more", "evt-r9", "pay-a", "re-9", rub(1), false, store.ReasonRefundExceedsPayment, 2},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			out := e.takeBack(store.EventRefund, s.event, s.payment, s.refund, s.amount)
			if out.Applied != s.applied {
				t.Errorf("applied=%v, want %v", out.Applied, s.applied)
			}
			var kept store.UnappliedReason
			if out.Unapplied != nil {
				kept = out.Unapplied.Reason
				if out.Unapplied.Kind != store.EventRefund || *out.Unapplied.ProviderRefundID != s.refund || out.Unapplied.State != store.UnappliedOpen {
					t.Errorf("kept %+v", out.Unapplied)
				}
			}
			if kept != s.kept {
				t.Errorf("kept as %q, want %q", kept, s.kept)
			}
			if n := e.count(`select count(*) from refunds r join payments p on p.id = r.payment_id where p.provider_payment_id = 'pay-a'`); n != s.refundsOf {
				t.Errorf("%d refunds, want %d", n, s.refundsOf)
			}
		})
	}
	if n := e.count(`select count(*) from unapplied_payments where kind = 'refund'`); n != 5 {
		t.Errorf("%d kept refunds, want 5", n)
	}

	// The provider's 100.00 refund wrote what an admin's 100.00 refund of
	// the same payment writes.
	var payB uuid.UUID
	if err := e.pool.QueryRow(e.ctx, `select id from payments where provider_payment_id = 'pay-b'`).Scan(&payB); err != nil {
		t.Fatal(err)
	}
	ch, err := e.svc.Refund(e.ctx, e.admin.Viewer(), payB, rub(10000), "admin", "refund-b")
	if err != nil {
		t.Fatal(err)
	}
	provider, admin := e.reversals(e.providerRefund(store.EventRefund, "re-1")), e.reversals(*ch.RefundID)
	if len(provider) == 0 || !slices.Equal(provider, admin) {
		t.Errorf("provider refund reversals %v, admin refund reversals %v", provider, admin)
	}
}

// Issue 19: a chargeback reverses the payment like a refund, once per
// chargebackId, and the license of the installation it paid for answers
// invalid until an admin restores it.
func TestChargebackHoldsTheLicenseUntilRestored(t *testing.T) {
	e := newEnv(t)
	c := e.config(factory.ConfigurationOptions{})
	cust, other := e.customer(), e.customer()
	ch := e.rent(cust, c.ID)
	inv := e.invoice(*ch.InvoiceID)
	e.payAs(inv, "pay-1")
	key := e.inst(*ch.InstallationID).LicenseKey
	if !e.license(cust, key).Valid {
		t.Fatal("paid rental not licensed")
	}
	// Another customer's installation is not touched.
	otherCh := e.rent(other, c.ID)
	e.payAs(e.invoice(*otherCh.InvoiceID), "pay-2")

	out := e.takeBack(store.EventChargeback, "evt-c1", "pay-1", "cb-1", rub(50000))
	if !out.Applied {
		t.Fatalf("chargeback: %+v", out)
	}
	if e.license(cust, key).Valid {
		t.Fatal("license valid after a chargeback")
	}
	if !e.license(other, e.inst(*otherCh.InstallationID).LicenseKey).Valid {
		t.Fatal("another customer's license held")
	}
	if got := e.reversals(e.providerRefund(store.EventChargeback, "cb-1")); len(got) == 0 {
		t.Fatal("no reversal entries")
	}
	if out := e.takeBack(store.EventChargeback, "evt-c2", "pay-1", "cb-1", rub(50000)); out.Applied || out.Unapplied != nil {
		t.Fatalf("same chargebackId again: %+v", out)
	}
	if n := e.count(`select count(*) from refunds where kind = 'chargeback'`); n != 1 {
		t.Fatalf("%d chargebacks, want 1", n)
	}

	instID := *ch.InstallationID
	for _, s := range []struct {
		name string
		v    identity.Viewer
		note string
		want string
	}{
		{"anonymous", anonymous, "settled", "UNAUTHENTICATED"},
		{"the customer", cust.Viewer(), "settled", "FORBIDDEN"},
		{"another customer", other.Viewer(), "settled", "FORBIDDEN"},
		{"the developer", e.dev.Viewer(), "settled", "FORBIDDEN"},
		{"another developer", factory.Developer(t, e.st).Viewer(), "settled", "FORBIDDEN"},
		{"a partner", factory.Partner(t, e.st).Viewer(), "settled", "FORBIDDEN"},
		{"an admin without a note", e.admin.Viewer(), "  ", "NOTE_REQUIRED"},
		{"an admin, unknown installation", e.admin.Viewer(), "settled", "NOT_FOUND"},
	} {
		id := instID
		if s.want == "NOT_FOUND" {
			id = uuid.New()
		}
		if _, err := e.svc.RestoreLicense(e.ctx, s.v, id, s.note); code(err) != s.want {
			t.Errorf("%s: %s, want %s", s.name, code(err), s.want)
		}
		if e.license(cust, key).Valid {
			t.Fatalf("%s restored the license", s.name)
		}
	}
	if _, err := e.svc.RestoreLicense(e.ctx, e.admin.Viewer(), instID, "the payer settled by bank transfer"); err != nil {
		t.Fatal(err)
	}
	if !e.license(cust, key).Valid {
		t.Fatal("license invalid after restoreLicense")
	}
	if n := e.count(`select count(*) from license_holds where installation_id = $1 and restored_by = $2
		and note = 'the payer settled by bank transfer' and restored_at is not null`, instID, e.admin.UserID); n != 1 {
		t.Fatalf("restoration not recorded (%d rows)", n)
	}
	if _, err := e.svc.RestoreLicense(e.ctx, e.admin.Viewer(), instID, "again"); code(err) != "LICENSE_NOT_HELD" {
		t.Fatalf("second restore: %s", code(err))
	}
}

// Issue 19, rule "5 minutes": a paidAt more than 5 minutes after now, or
// before the invoice was issued, is kept unapplied; 4 minutes ahead is
// applied.
func TestProviderPaidAtBounds(t *testing.T) {
	if commerce.PaidAtLeeway != 5*time.Minute {
		t.Fatalf("PaidAtLeeway is %s, the rule says 5 minutes", commerce.PaidAtLeeway)
	}
	e := newEnv(t)
	c := e.config(factory.ConfigurationOptions{})
	cust := e.customer()
	inv := e.invoice(*e.rent(cust, c.ID).InvoiceID)
	now := e.clk.Now()
	for _, s := range []struct {
		name    string
		paidAt  time.Time
		applied bool
		kept    store.UnappliedReason
	}{
		{"6 minutes ahead", now.Add(6 * time.Minute), false, store.ReasonPaidInFuture},
		{"5 minutes and a second ahead", now.Add(5*time.Minute + time.Second), false, store.ReasonPaidInFuture},
		{"a second before issue", inv.IssuedAt.Add(-time.Second), false, store.ReasonPaidBeforeIssue},
		{"4 minutes ahead", now.Add(4 * time.Minute), true, ""},
	} {
		t.Run(s.name, func(t *testing.T) {
			id := uuid.NewString()
			out, err := e.svc.HandleProviderEvent(e.ctx, commerce.ProviderPayment{
				Provider: "testpay", EventID: id, PaymentID: id, InvoiceID: inv.ID, Amount: inv.Amount, PaidAt: s.paidAt,
			}.Event())
			if err != nil {
				t.Fatal(err)
			}
			var kept store.UnappliedReason
			if out.Unapplied != nil {
				kept = out.Unapplied.Reason
				if !out.Unapplied.OccurredAt.Equal(s.paidAt) || out.Unapplied.InvoiceID == nil || *out.Unapplied.InvoiceID != inv.ID {
					t.Errorf("kept %+v", out.Unapplied)
				}
			}
			if out.Applied != s.applied || kept != s.kept {
				t.Errorf("applied=%v kept=%q, want %v %q", out.Applied, kept, s.applied, s.kept)
			}
		})
	}
	if got := e.invoice(inv.ID); got.State != store.InvoicePaid {
		t.Errorf("invoice %s after the 4-minute payment", got.State)
	}
}

// keepVoidPayment voids inv and sends a payment for it, which is kept.
func (e *env) keepVoidPayment(inv store.Invoice, paymentID string) store.UnappliedPayment {
	e.t.Helper()
	if _, err := e.pool.Exec(e.ctx, `update invoices set state = 'void', voided_at = $2 where id = $1`, inv.ID, e.clk.Now()); err != nil {
		e.t.Fatal(err)
	}
	out, err := e.svc.HandleProviderEvent(e.ctx, commerce.ProviderPayment{
		Provider: "testpay", EventID: "evt-" + paymentID, PaymentID: paymentID, InvoiceID: inv.ID,
		Amount: inv.Amount, PaidAt: e.clk.Now(),
	}.Event())
	if err != nil || out.Unapplied == nil || out.Unapplied.Reason != store.ReasonInvoiceNotOpen {
		e.t.Fatalf("payment of a void invoice: %+v %v", out, err)
	}
	return *out.Unapplied
}

// Issue 19: admins resolve each unapplied payment exactly once: applied to
// an open invoice of its amount (paid like any payment) or returned.
func TestResolvingUnappliedPayments(t *testing.T) {
	e := newEnv(t)
	c := e.config(factory.ConfigurationOptions{})
	pricier := e.config(factory.ConfigurationOptions{RentMinor: 70000})
	cust, other := e.customer(), e.customer()
	voided := e.invoice(*e.rent(cust, c.ID).InvoiceID)
	u := e.keepVoidPayment(voided, "pay-late")
	target := e.rent(other, c.ID)
	open := e.invoice(*target.InvoiceID)
	wrongAmount := e.invoice(*e.rent(other, pricier.ID).InvoiceID)
	paid := e.invoice(*e.rent(cust, pricier.ID).InvoiceID)
	e.payAs(paid, "pay-paid")
	admin := e.admin.Viewer()

	page, err := e.svc.UnappliedPayments(e.ctx, admin, ptr(store.UnappliedOpen), relay.PageArgs{})
	if err != nil || len(page.Rows) != 1 || page.Rows[0].ID != u.ID || string(page.Rows[0].Event) == "" {
		t.Fatalf("open unapplied payments: %+v %v", page, err)
	}
	for _, v := range []identity.Viewer{anonymous, cust.Viewer(), e.dev.Viewer(), factory.Partner(t, e.st).Viewer()} {
		if _, err := e.svc.UnappliedPayments(e.ctx, v, nil, relay.PageArgs{}); code(err) != "UNAUTHENTICATED" && code(err) != "FORBIDDEN" {
			t.Errorf("%s lists unapplied payments: %v", v.Role, err)
		}
		if rows, err := e.svc.UnappliedPaymentsByIDs(e.ctx, v, []uuid.UUID{u.ID}); err != nil || len(rows) != 0 {
			t.Errorf("%s reads an unapplied payment: %v %v", v.Role, rows, err)
		}
		if _, err := e.svc.ApplyUnapplied(e.ctx, v, u.ID, open.ID, "n", "k-stranger"); code(err) != "UNAUTHENTICATED" && code(err) != "FORBIDDEN" {
			t.Errorf("%s applies: %v", v.Role, err)
		}
		if _, err := e.svc.ReturnUnapplied(e.ctx, v, u.ID, "n", "k-stranger"); code(err) != "UNAUTHENTICATED" && code(err) != "FORBIDDEN" {
			t.Errorf("%s returns: %v", v.Role, err)
		}
	}

	for _, s := range []struct {
		name    string
		invoice uuid.UUID
		note    string
		want    string
	}{
		{"no note", open.ID, "", "NOTE_REQUIRED"},
		{"unknown invoice", uuid.New(), "n", "NOT_FOUND"},
		{"the void invoice", voided.ID, "n", "INVOICE_NOT_OPEN"},
		{"a paid invoice", paid.ID, "n", "INVOICE_NOT_OPEN"},
		{"another amount", wrongAmount.ID, "n", "AMOUNT_MISMATCH"},
	} {
		if _, err := e.svc.ApplyUnapplied(e.ctx, admin, u.ID, s.invoice, s.note, "k-"+s.name); code(err) != s.want {
			t.Errorf("apply to %s: %s, want %s", s.name, code(err), s.want)
		}
	}
	res, err := e.svc.ApplyUnapplied(e.ctx, admin, u.ID, open.ID, "the customer paid the late invoice of another", "k-apply")
	if err != nil || res.PaymentID == nil {
		t.Fatalf("apply: %+v %v", res, err)
	}
	again, err := e.svc.ApplyUnapplied(e.ctx, admin, u.ID, open.ID, "the customer paid the late invoice of another", "k-apply")
	if err != nil || *again.PaymentID != *res.PaymentID {
		t.Fatalf("replayed key: %+v %v", again, err)
	}
	if _, err := e.svc.ApplyUnapplied(e.ctx, admin, u.ID, open.ID, "once more", "k-apply-2"); code(err) != "UNAPPLIED_ALREADY_RESOLVED" {
		t.Fatalf("second apply: %s", code(err))
	}
	if _, err := e.svc.ReturnUnapplied(e.ctx, admin, u.ID, "and back", "k-return"); code(err) != "UNAPPLIED_ALREADY_RESOLVED" {
		t.Fatalf("return after apply: %s", code(err))
	}
	if got := e.invoice(open.ID); got.State != store.InvoicePaid {
		t.Fatalf("target invoice %s", got.State)
	}
	if n := e.count(`select count(*) from payments where invoice_id = $1 and provider_payment_id = 'pay-late' and recorded_by = $2`, open.ID, e.admin.UserID); n != 1 {
		t.Fatalf("%d payments of the applied money", n)
	}
	if n := e.count(`select count(*) from ledger_entries where payment_id = $1`, *res.PaymentID); n == 0 {
		t.Fatal("the applied payment has no ledger split")
	}
	rows, err := e.svc.UnappliedPaymentsByIDs(e.ctx, admin, []uuid.UUID{u.ID})
	if err != nil || len(rows) != 1 {
		t.Fatal(rows, err)
	}
	if r := rows[0]; r.State != store.UnappliedApplied || *r.ResolvedBy != e.admin.UserID || *r.AppliedInvoiceID != open.ID ||
		*r.AppliedPaymentID != *res.PaymentID || *r.Note != "the customer paid the late invoice of another" {
		t.Fatalf("resolved row %+v", r)
	}

	// Another one goes back to the payer; a refund the books could not
	// take cannot be applied to an invoice.
	second := e.invoice(*e.rent(e.customer(), c.ID).InvoiceID)
	e.clk.Advance(time.Second)
	back := e.keepVoidPayment(second, "pay-back")
	first, err := e.svc.ReturnUnapplied(e.ctx, admin, back.ID, "returned to the card", "k-back")
	if err != nil {
		t.Fatal(err)
	}
	// The same key again is the first answer, and changes nothing.
	if again, err := e.svc.ReturnUnapplied(e.ctx, admin, back.ID, "returned to the card", "k-back"); err != nil || again.UnappliedID != first.UnappliedID {
		t.Fatalf("replayed return: %+v %v", again, err)
	}
	if _, err := e.svc.ApplyUnapplied(e.ctx, admin, back.ID, open.ID, "n", "k-back-apply"); code(err) != "UNAPPLIED_ALREADY_RESOLVED" {
		t.Fatalf("apply after return: %s", code(err))
	}
	e.clk.Advance(time.Second)
	refund := e.takeBack(store.EventRefund, "evt-orphan", "pay-nobody", "re-orphan", rub(100))
	if _, err := e.svc.ApplyUnapplied(e.ctx, admin, refund.Unapplied.ID, open.ID, "n", "k-refund"); code(err) != "UNAPPLIED_NOT_A_PAYMENT" {
		t.Fatalf("apply a refund: %s", code(err))
	}
	returned, err := e.svc.UnappliedPayments(e.ctx, admin, ptr(store.UnappliedReturned), relay.PageArgs{})
	if err != nil || len(returned.Rows) != 1 || returned.Rows[0].ID != back.ID {
		t.Fatalf("returned: %+v %v", returned, err)
	}
	all, err := e.svc.UnappliedPayments(e.ctx, admin, nil, relay.PageArgs{})
	if err != nil || len(all.Rows) != 3 || all.Rows[0].ID != refund.Unapplied.ID {
		t.Fatalf("all, newest first: %+v %v", all, err)
	}
}

func ptr[T any](v T) *T { return &v }

// A savepoint undoes only what ran inside it, even a statement the
// database refused, and the transaction goes on: the webhook keeps an event
// the payment path refused in the transaction that tried it.
func TestSavepointUndoesOnlyItsOwnWrites(t *testing.T) {
	e := newEnv(t)
	c := e.config(factory.ConfigurationOptions{})
	e.payAs(e.invoice(*e.rent(e.customer(), c.ID).InvoiceID), "pay-1")
	var paymentID uuid.UUID
	if err := e.pool.QueryRow(e.ctx, `select id from payments where provider_payment_id = 'pay-1'`).Scan(&paymentID); err != nil {
		t.Fatal(err)
	}
	r := store.NewRefund{PaymentID: paymentID, Amount: rub(100), Kind: store.EventRefund, Provider: "testpay",
		ProviderRefundID: "re-1", At: e.clk.Now()}
	err := e.st.InTx(e.ctx, func(q *store.Queries) error {
		if _, err := q.AddRefund(e.ctx, r); err != nil {
			return err
		}
		err := q.Savepoint(e.ctx, func(q *store.Queries) error {
			if _, err := q.InsertProviderEvent(e.ctx, "testpay", "inner", "x", json.RawMessage(`{}`)); err != nil {
				return err
			}
			_, err := q.AddRefund(e.ctx, r) // refunds_provider_key refuses it
			return err
		})
		if err == nil {
			return fmt.Errorf("a provider refund id applied twice")
		}
		_, err = q.InsertProviderEvent(e.ctx, "testpay", "outer", "x", json.RawMessage(`{}`))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := e.count(`select count(*) from refunds where provider_refund_id = 're-1'`); n != 1 {
		t.Errorf("%d refunds, want 1", n)
	}
	if n := e.count(`select count(*) from provider_events where event_id in ('inner', 'outer')`); n != 1 ||
		e.count(`select count(*) from provider_events where event_id = 'outer'`) != 1 {
		t.Errorf("the savepoint's write survived, or the transaction's was lost")
	}
	if err := e.st.Savepoint(e.ctx, func(*store.Queries) error { return nil }); err == nil {
		t.Error("a savepoint outside a transaction")
	}
}
