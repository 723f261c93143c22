package apitest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"configmarket/internal/factory"
	"configmarket/internal/identity"
	"configmarket/internal/relay"
)

// Issue 19, "every provider event is kept", through the real handler.

// send signs and posts a provider event of type typ now.
func (w *commerceWorld) send(t *testing.T, typ, id string, data map[string]any) rawResponse {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"id": id, "type": typ, "data": data})
	return w.s.webhook(t, string(b), w.s.Clock.Now(), WebhookSecret)
}

// payEvent is a payment.succeeded event's data.
func payEvent(paymentID, invoiceID, amount string, paidAt time.Time) map[string]any {
	return map[string]any{"paymentId": paymentID, "invoiceId": invoiceID, "amount": amount, "currency": "RUB",
		"paidAt": paidAt.Format(time.RFC3339)}
}

// answered fails unless the webhook answered 200 with want in its body.
func answered(t *testing.T, r rawResponse, want string) {
	t.Helper()
	if r.status != 200 || !strings.Contains(r.body, want) {
		t.Fatalf("webhook answered %d %s, want 200 with %s", r.status, r.body, want)
	}
}

// rentInvoice rents the configuration for the customer with token and
// returns the invoice's global id.
func (w *commerceWorld) rentInvoice(t *testing.T, token, key string) string {
	t.Helper()
	res := w.s.Do(t, token, rentMutation, map[string]any{"c": globalIDOf("Configuration", w.conf.ID), "k": key})
	id := str(res.Data, "rentConfiguration", "invoice", "id")
	if id == "" {
		t.Fatalf("rent: %s", res.Raw)
	}
	return id
}

func (w *commerceWorld) licenseValid(t *testing.T, key, account string) bool {
	t.Helper()
	r := w.s.Do(t, "", `query($k: String!, $a: String!) { licenseCheck(key: $k, accountId: $a) { valid } }`,
		map[string]any{"k": key, "a": account})
	if r.Code() != "" {
		t.Fatal(r.Raw)
	}
	return get(r.Data, "licenseCheck", "valid") == true
}

func (w *commerceWorld) idOf(t *testing.T, sql string, args ...any) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	if err := w.s.Pool.QueryRow(context.Background(), sql, args...).Scan(&id); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return id
}

// strangers are every viewer but an admin.
var strangers = []string{"anonymous", "buyer", "other customer", "developer", "other developer", "partner"}

func refusedAsStranger(r Response) bool {
	return r.Code() == "UNAUTHENTICATED" || r.Code() == "FORBIDDEN"
}

const restoreLicenseMutation = `mutation($i: ID!, $n: String!) { restoreLicense(input: {installationId: $i, note: $n}) {
	installation { id state } userErrors { field code } } }`

func TestWebhookRefundsAndChargebacksApplyOnce(t *testing.T) {
	w := newCommerceWorld(t)
	ctx := context.Background()
	rent := w.rent(t, w.tokens["buyer"], "order-1")
	invoiceID := str(rent.Data, "rentConfiguration", "invoice", "id")
	installationID := str(rent.Data, "rentConfiguration", "installation", "id")
	key := str(rent.Data, "rentConfiguration", "installation", "licenseKey")
	if _, err := w.s.Pool.Exec(ctx, `update customers set crm_account_id = 'crm-buyer' where id = $1`, w.buyer.OrgID); err != nil {
		t.Fatal(err)
	}
	answered(t, w.send(t, "payment.succeeded", "evt_p1", payEvent("pay_1", invoiceID, "500.00", w.s.Clock.Now())), `"applied":true`)
	if !w.licenseValid(t, key, "crm-buyer") {
		t.Fatal("paid rental not licensed")
	}
	paymentID := w.idOf(t, `select id from payments where provider_payment_id = 'pay_1'`)
	now := w.s.Clock.Now().Format(time.RFC3339)

	refund := func(event, refundID, amount string) rawResponse {
		return w.send(t, "payment.refunded", event, map[string]any{"paymentId": "pay_1", "refundId": refundID,
			"amount": amount, "currency": "RUB", "refundedAt": now})
	}
	answered(t, refund("evt_r1", "re_1", "100.00"), `"applied":true`)
	answered(t, refund("evt_r1", "re_1", "100.00"), `{"applied":false}`)
	answered(t, refund("evt_r2", "re_1", "100.00"), `{"applied":false}`)
	if n := w.s.Count(t, "refunds"); n != 1 {
		t.Fatalf("%d refunds after one refundId under two event ids, want 1", n)
	}
	var reversed int64
	if err := w.s.Pool.QueryRow(ctx, `select sum(e.amount_minor) from ledger_entries e join refunds r on r.id = e.refund_id
		where r.provider_refund_id = 're_1'`).Scan(&reversed); err != nil || reversed != -10000 {
		t.Fatalf("refund reversals sum to %d (%v), want -100.00", reversed, err)
	}
	answered(t, refund("evt_r3", "re_3", "400.01"), `"unapplied":"REFUND_EXCEEDS_PAYMENT"`)
	answered(t, w.send(t, "payment.refunded", "evt_r4", map[string]any{"paymentId": "pay_nobody", "refundId": "re_4",
		"amount": "1.00", "currency": "RUB", "refundedAt": now}), `"unapplied":"PAYMENT_UNKNOWN"`)
	if r := w.send(t, "payment.refunded", "evt_r5", map[string]any{"paymentId": "pay_1", "amount": "1.00", "currency": "RUB", "refundedAt": now}); r.status != 400 {
		t.Fatalf("refund without refundId: %d %s", r.status, r.body)
	}

	chargeback := func(event, id string) rawResponse {
		return w.send(t, "payment.chargeback", event, map[string]any{"paymentId": "pay_1", "chargebackId": id,
			"amount": "400.00", "currency": "RUB", "at": now})
	}
	answered(t, chargeback("evt_c1", "cb_1"), `"applied":true`)
	if w.licenseValid(t, key, "crm-buyer") {
		t.Fatal("license valid after a chargeback")
	}
	answered(t, chargeback("evt_c2", "cb_1"), `{"applied":false}`)
	if n := w.s.Count(t, "refunds"); n != 2 {
		t.Fatalf("%d refunds after one chargebackId under two event ids, want 2", n)
	}

	for _, role := range strangers {
		r := w.s.Do(t, w.tokens[role], restoreLicenseMutation, map[string]any{"i": installationID, "n": "settled"})
		if !refusedAsStranger(r) || get(r.Data, "restoreLicense") != nil {
			t.Errorf("%s restores a license: %s", role, r.Raw)
		}
	}
	if w.licenseValid(t, key, "crm-buyer") {
		t.Fatal("a stranger restored the license")
	}
	r := w.s.Do(t, w.tokens["admin"], restoreLicenseMutation, map[string]any{"i": installationID, "n": "the payer settled"})
	if str(r.Data, "restoreLicense", "installation", "id") != installationID || len(get(r.Data, "restoreLicense", "userErrors").([]any)) != 0 {
		t.Fatalf("admin restore: %s", r.Raw)
	}
	if !w.licenseValid(t, key, "crm-buyer") {
		t.Fatal("license invalid after restoreLicense")
	}
	r = w.s.Do(t, w.tokens["admin"], restoreLicenseMutation, map[string]any{"i": installationID, "n": "again"})
	if str(r.Data, "restoreLicense", "userErrors", 0, "code") != "LICENSE_NOT_HELD" {
		t.Fatalf("second restore: %s", r.Raw)
	}

	// Each event the books took or kept is audited as the platform, with
	// what it acted on; a replay leaves no row.
	rows, err := w.s.Pool.Query(ctx, `select action, result, coalesce(target, ''), actor_user_id is null from audit_log
		where (action like 'payment.%' or action = 'restoreLicense') and result <> 'denied' order by id`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var action, result, target string
		var system bool
		if err := rows.Scan(&action, &result, &target, &system); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(action, "payment.") != system {
			t.Errorf("%s: system actor %v", action, system)
		}
		typ, _, err := relay.ParseID(target)
		if err != nil {
			t.Errorf("%s: target %q", action, target)
		}
		if typ == "Payment" && target != globalIDOf("Payment", paymentID) || typ == "Installation" && target != installationID {
			t.Errorf("%s: target %q", action, target)
		}
		got = append(got, action+" "+result+" "+typ)
	}
	want := []string{
		"payment.succeeded ok Payment", "payment.refunded ok Payment", "payment.refunded ok UnappliedPayment",
		"payment.refunded ok UnappliedPayment", "payment.chargeback ok Payment",
		"restoreLicense ok Installation", "restoreLicense failed Installation",
	}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Fatalf("audit rows\n%v\nwant\n%v", got, want)
	}
}

const unappliedQuery = `query($s: UnappliedPaymentState) { unappliedPayments(first: 10, state: $s) {
	nodes { id kind eventId providerPaymentId amount { amount currencyCode } reason reasonText event state note
		invoice { id } resolvedBy { id } appliedInvoice { id } appliedPayment { id amount { amount } } }
	pageInfo { hasNextPage } } }`

const applyUnappliedMutation = `mutation($id: ID!, $inv: ID!, $n: String!, $k: String!) {
	applyUnappliedPayment(input: {id: $id, invoiceId: $inv, note: $n, idempotencyKey: $k}) {
		unappliedPayment { id state note appliedInvoice { id } } payment { id amount { amount } } userErrors { field code } } }`

const returnUnappliedMutation = `mutation($id: ID!, $n: String!, $k: String!) {
	returnUnappliedPayment(input: {id: $id, note: $n, idempotencyKey: $k}) {
		unappliedPayment { id state note resolvedAt } userErrors { field code } } }`

func TestWebhookKeepsAVoidInvoicesPaymentUntilAnAdminAppliesIt(t *testing.T) {
	w := newCommerceWorld(t)
	ctx := context.Background()
	voided := w.rentInvoice(t, w.tokens["buyer"], "order-1")
	voidedID, err := relay.ParseUUIDOf(voided, "Invoice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.Pool.Exec(ctx, `update invoices set state = 'void', voided_at = now() where id = $1`, voidedID); err != nil {
		t.Fatal(err)
	}
	late := w.send(t, "payment.succeeded", "evt_late", payEvent("pay_late", voided, "500.00", w.s.Clock.Now()))
	answered(t, late, `{"applied":false,"unapplied":"INVOICE_NOT_OPEN"}`)
	answered(t, w.send(t, "payment.succeeded", "evt_late", payEvent("pay_late", voided, "500.00", w.s.Clock.Now())), `{"applied":false}`)
	if n := w.s.Count(t, "unapplied_payments"); n != 1 {
		t.Fatalf("%d unapplied payments after a replay, want 1", n)
	}

	list := w.s.Do(t, w.tokens["admin"], unappliedQuery, map[string]any{"s": "OPEN"})
	node := get(list.Data, "unappliedPayments", "nodes", 0)
	id := str(node, "id")
	if id == "" || str(node, "kind") != "PAYMENT" || str(node, "reason") != "INVOICE_NOT_OPEN" || str(node, "eventId") != "evt_late" ||
		str(node, "providerPaymentId") != "pay_late" || str(node, "amount", "amount") != "500.00" || str(node, "invoice", "id") != voided ||
		str(node, "state") != "OPEN" || !strings.Contains(str(node, "event"), `"evt_late"`) || !strings.Contains(str(node, "reasonText"), "void") {
		t.Fatalf("admin's list: %s", list.Raw)
	}
	target := w.rentInvoice(t, w.tokens["other customer"], "order-2")

	// Strangers neither list, read, apply nor return it.
	for _, role := range strangers {
		if r := w.s.Do(t, w.tokens[role], unappliedQuery, nil); !refusedAsStranger(r) || get(r.Data, "unappliedPayments") != nil {
			t.Errorf("%s lists unapplied payments: %s", role, r.Raw)
		}
		if r := w.s.Do(t, w.tokens[role], `query($id: ID!) { node(id: $id) { id } nodes(ids: [$id]) { id } }`, map[string]any{"id": id}); r.Code() != "" ||
			get(r.Data, "node") != nil || get(r.Data, "nodes", 0) != nil {
			t.Errorf("%s reads the unapplied payment by id: %s", role, r.Raw)
		}
		if r := w.s.Do(t, w.tokens[role], applyUnappliedMutation, map[string]any{"id": id, "inv": target, "n": "mine", "k": "k-" + role}); !refusedAsStranger(r) {
			t.Errorf("%s applies it: %s", role, r.Raw)
		}
		if r := w.s.Do(t, w.tokens[role], returnUnappliedMutation, map[string]any{"id": id, "n": "mine", "k": "k-" + role}); !refusedAsStranger(r) {
			t.Errorf("%s returns it: %s", role, r.Raw)
		}
	}
	if r := w.s.Do(t, w.tokens["admin"], `query($id: ID!) { node(id: $id) { id ... on UnappliedPayment { state } } }`, map[string]any{"id": id}); str(r.Data, "node", "state") != "OPEN" {
		t.Fatalf("admin reads it by id: %s", r.Raw)
	}

	vars := map[string]any{"id": id, "inv": target, "n": "paid the other customer's invoice", "k": "apply-1"}
	applied := w.s.Do(t, w.tokens["admin"], applyUnappliedMutation, vars)
	paymentID := str(applied.Data, "applyUnappliedPayment", "payment", "id")
	if paymentID == "" || str(applied.Data, "applyUnappliedPayment", "unappliedPayment", "state") != "APPLIED" ||
		str(applied.Data, "applyUnappliedPayment", "unappliedPayment", "appliedInvoice", "id") != target ||
		str(applied.Data, "applyUnappliedPayment", "payment", "amount", "amount") != "500.00" {
		t.Fatalf("apply: %s", applied.Raw)
	}
	if again := w.s.Do(t, w.tokens["admin"], applyUnappliedMutation, vars); str(again.Data, "applyUnappliedPayment", "payment", "id") != paymentID {
		t.Fatalf("replayed key: %s", again.Raw)
	}
	inv := w.s.Do(t, w.tokens["other customer"], `query($i: ID!) { node(id: $i) { ... on Invoice { state } } }`, map[string]any{"i": target})
	if str(inv.Data, "node", "state") != "PAID" {
		t.Fatalf("target invoice: %s", inv.Raw)
	}
	if n := w.s.Count(t, "payments"); n != 1 {
		t.Fatalf("%d payments, want 1", n)
	}
	vars["k"] = "apply-2"
	if r := w.s.Do(t, w.tokens["admin"], applyUnappliedMutation, vars); str(r.Data, "applyUnappliedPayment", "userErrors", 0, "code") != "UNAPPLIED_ALREADY_RESOLVED" {
		t.Fatalf("second apply: %s", r.Raw)
	}
	if r := w.s.Do(t, w.tokens["admin"], returnUnappliedMutation, map[string]any{"id": id, "n": "back", "k": "return-1"}); str(r.Data, "returnUnappliedPayment", "userErrors", 0, "code") != "UNAPPLIED_ALREADY_RESOLVED" {
		t.Fatalf("return after apply: %s", r.Raw)
	}
	list = w.s.Do(t, w.tokens["admin"], unappliedQuery, map[string]any{"s": "APPLIED"})
	node = get(list.Data, "unappliedPayments", "nodes", 0)
	if str(node, "appliedPayment", "id") != paymentID || str(node, "resolvedBy", "id") == "" || str(node, "note") != "paid the other customer's invoice" {
		t.Fatalf("applied: %s", list.Raw)
	}

	// An unknown invoice's payment goes back to the payer.
	w.s.Clock.Advance(time.Second)
	answered(t, w.send(t, "payment.succeeded", "evt_stray", payEvent("pay_stray", "inv_not_ours", "42.00", w.s.Clock.Now())), `"unapplied":"INVOICE_UNKNOWN"`)
	list = w.s.Do(t, w.tokens["admin"], unappliedQuery, map[string]any{"s": "OPEN"})
	stray := str(list.Data, "unappliedPayments", "nodes", 0, "id")
	if r := w.s.Do(t, w.tokens["admin"], applyUnappliedMutation, map[string]any{"id": stray, "inv": target, "n": "x", "k": "apply-stray"}); str(r.Data, "applyUnappliedPayment", "userErrors", 0, "code") != "INVOICE_NOT_OPEN" {
		t.Fatalf("apply to a paid invoice: %s", r.Raw)
	}
	r := w.s.Do(t, w.tokens["admin"], returnUnappliedMutation, map[string]any{"id": stray, "n": "refunded to the card", "k": "return-stray"})
	if str(r.Data, "returnUnappliedPayment", "unappliedPayment", "state") != "RETURNED" || str(r.Data, "returnUnappliedPayment", "unappliedPayment", "resolvedAt") == "" {
		t.Fatalf("return: %s", r.Raw)
	}
	all := w.s.Do(t, w.tokens["admin"], unappliedQuery, nil)
	if n := len(get(all.Data, "unappliedPayments", "nodes").([]any)); n != 2 || str(all.Data, "unappliedPayments", "nodes", 0, "id") != stray {
		t.Fatalf("all, newest first: %s", all.Raw)
	}
}

// Issue 19, rule "5 minutes": through the handler, paidAt 6 minutes ahead
// and before the invoice's issue are kept unapplied; 4 minutes ahead is
// applied.
func TestWebhookPaidAtMoreThan5MinutesAheadOrBeforeIssueIsKept(t *testing.T) {
	w := newCommerceWorld(t)
	invoice := w.rentInvoice(t, w.tokens["buyer"], "order-1")
	res := w.s.Do(t, w.tokens["buyer"], `query($i: ID!) { node(id: $i) { ... on Invoice { issuedAt } } }`, map[string]any{"i": invoice})
	issuedAt, err := time.Parse(time.RFC3339, str(res.Data, "node", "issuedAt"))
	if err != nil {
		t.Fatal(res.Raw)
	}
	now := w.s.Clock.Now()
	answered(t, w.send(t, "payment.succeeded", "evt_6m", payEvent("pay_6m", invoice, "500.00", now.Add(6*time.Minute))), `"unapplied":"PAID_IN_FUTURE"`)
	answered(t, w.send(t, "payment.succeeded", "evt_early", payEvent("pay_early", invoice, "500.00", issuedAt.Add(-time.Minute))), `"unapplied":"PAID_BEFORE_ISSUE"`)
	answered(t, w.send(t, "payment.succeeded", "evt_4m", payEvent("pay_4m", invoice, "500.00", now.Add(4*time.Minute))), `"applied":true`)
	if n := w.s.Count(t, "unapplied_payments"); n != 2 {
		t.Fatalf("%d unapplied payments, want 2", n)
	}
}

// The webhook refuses only what the provider must fix (a malformed body)
// and what is not the provider (a bad signature); an event type that moves
// no money is kept and acknowledged.
func TestWebhookRefusesOnlyMalformedOrUnsignedEvents(t *testing.T) {
	w := newCommerceWorld(t)
	invoice := w.rentInvoice(t, w.tokens["buyer"], "order-1")
	now := w.s.Clock.Now()
	for name, body := range map[string]string{
		"not JSON":          `{"id": "evt_1", "type": `,
		"no id":             `{"type": "payment.succeeded", "data": {}}`,
		"NUL in the id":     `{"id": "evt_\u0000", "type": "payment.succeeded", "data": {}}`,
		"no amount":         `{"id": "evt_2", "type": "payment.succeeded", "data": {"paymentId": "p", "invoiceId": "` + invoice + `", "currency": "RUB", "paidAt": "` + now.Format(time.RFC3339) + `"}}`,
		"malformed paidAt":  `{"id": "evt_3", "type": "payment.succeeded", "data": {"paymentId": "p", "invoiceId": "` + invoice + `", "amount": "500.00", "currency": "RUB", "paidAt": "yesterday"}}`,
		"chargeback no at":  `{"id": "evt_4", "type": "payment.chargeback", "data": {"paymentId": "p", "chargebackId": "c", "amount": "1.00", "currency": "RUB"}}`,
		"an id of 201 char": `{"id": "` + strings.Repeat("e", 201) + `", "type": "payment.refunded", "data": {}}`,
	} {
		if r := w.s.webhook(t, body, now, WebhookSecret); r.status != 400 {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	answered(t, w.send(t, "payment.pending", "evt_5", map[string]any{"paymentId": "p"}), `{"applied":false}`)
	var payload string
	if err := w.s.Pool.QueryRow(context.Background(), `select payload->>'type' from provider_events where event_id = 'evt_5'`).Scan(&payload); err != nil || payload != "payment.pending" {
		t.Fatalf("the pending event is not kept: %q %v", payload, err)
	}
	if n := w.s.Count(t, "provider_events"); n != 1 {
		t.Fatalf("%d provider events kept, want 1", n)
	}
}

// Row-level security keeps unapplied payments to the platform and admins
// even when the application's check is skipped.
func TestUnappliedPaymentsRowSecurity(t *testing.T) {
	w := newCommerceWorld(t)
	answered(t, w.send(t, "payment.succeeded", "evt_stray", payEvent("pay_stray", "nobody", "1.00", w.s.Clock.Now())), `"unapplied":"INVOICE_UNKNOWN"`)
	app := w.s.Deps.Store
	as := func(a factory.Account) context.Context { return identity.WithViewer(context.Background(), a.Viewer()) }
	for name, c := range map[string]struct {
		ctx  context.Context
		want int
	}{
		"anonymous":    {context.Background(), 0},
		"a customer":   {as(w.buyer), 0},
		"a developer":  {as(w.dev), 0},
		"a partner":    {as(factory.Partner(t, w.s.Store)), 0},
		"an admin":     {as(factory.Admin(t, w.s.Store)), 1},
		"the platform": {identity.AsSystem(context.Background()), 1},
	} {
		rows, err := app.UnappliedPage(c.ctx, nil, nil, 10)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(rows) != c.want {
			t.Errorf("%s: %d rows, want %d", name, len(rows), c.want)
		}
	}
}
