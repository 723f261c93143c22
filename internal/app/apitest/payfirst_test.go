package apitest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"configmarket/internal/factory"
)

// Issue 19, pay before access, through the real handler: what a new
// customer can get without paying (nothing), and what paying gives.

const licenseQuery = `query($k: String!, $a: String!) { licenseCheck(key: $k, accountId: $a) { valid mode validUntil } }`

func (w *commerceWorld) crmAccount(t *testing.T, a factory.Account) string {
	t.Helper()
	account := "crm-" + a.OrgID.String()
	if _, err := w.s.Pool.Exec(context.Background(), `update customers set crm_account_id = $2 where id = $1`, a.OrgID, account); err != nil {
		t.Fatal(err)
	}
	return account
}

func (w *commerceWorld) billing(t *testing.T) {
	t.Helper()
	if _, err := w.s.Commerce.RunBilling(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// paymentEvent is a provider's signed payment.succeeded for an invoice.
func (w *commerceWorld) payByWebhook(t *testing.T, eventID, invoiceID, amount string) rawResponse {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"id": eventID, "type": "payment.succeeded", "data": map[string]any{
		"paymentId": "pay_" + eventID, "invoiceId": invoiceID, "amount": amount, "currency": "RUB",
		"paidAt": w.s.Clock.Now().UTC().Format(time.RFC3339)}})
	return w.s.webhook(t, string(b), w.s.Clock.Now(), WebhookSecret)
}

func TestRentIsPendingUntilPaidAndExpiresAfter48Hours(t *testing.T) {
	w := newCommerceWorld(t)
	account := w.crmAccount(t, w.buyer)
	res := w.rent(t, w.tokens["buyer"], "order-1")
	inst := get(res.Data, "rentConfiguration", "installation")
	invoiceID := str(res.Data, "rentConfiguration", "invoice", "id")
	key := str(res.Data, "rentConfiguration", "installation", "licenseKey")
	if str(inst, "state") != "PENDING_PAYMENT" || get(inst, "currentPeriodEnd") != nil || invoiceID == "" {
		t.Fatalf("rent: %s", res.Raw)
	}
	lic := w.s.Do(t, "", licenseQuery, map[string]any{"k": key, "a": account})
	if get(lic.Data, "licenseCheck", "valid") != false {
		t.Fatalf("license before payment: %s", lic.Raw)
	}
	inv := w.s.Do(t, w.tokens["buyer"], `query($i: ID!) { node(id: $i) { ... on Invoice { state issuedAt expiresAt } } }`, map[string]any{"i": invoiceID})
	issued, _ := time.Parse(time.RFC3339, str(inv.Data, "node", "issuedAt"))
	expires, _ := time.Parse(time.RFC3339, str(inv.Data, "node", "expiresAt"))
	if expires.Sub(issued) != 48*time.Hour {
		t.Fatalf("invoice window %s, want 48 hours: %s", expires.Sub(issued), inv.Raw)
	}
	again := w.rent(t, w.tokens["buyer"], "order-2")
	if str(again.Data, "rentConfiguration", "userErrors", 0, "code") != "PAYMENT_PENDING" {
		t.Fatalf("renting twice before paying: %s", again.Raw)
	}

	if r := w.payByWebhook(t, "evt_rent_1", invoiceID, "500.00"); r.status != 200 {
		t.Fatalf("payment: %d %s", r.status, r.body)
	}
	me := w.s.Do(t, w.tokens["buyer"], `{ viewer { customer { installations { nodes { state currentPeriodStart currentPeriodEnd } } } } }`, nil)
	if str(me.Data, "viewer", "customer", "installations", "nodes", 0, "state") != "ACTIVE" {
		t.Fatalf("after payment: %s", me.Raw)
	}
	lic = w.s.Do(t, "", licenseQuery, map[string]any{"k": key, "a": account})
	if get(lic.Data, "licenseCheck", "valid") != true || str(lic.Data, "licenseCheck", "mode") != "RENT" {
		t.Fatalf("license after payment: %s", lic.Raw)
	}

	// Another customer never pays: 48 hours later it is expired, the
	// invoice void, the license invalid.
	otherAccount := w.crmAccount(t, w.other)
	unpaid := w.rent(t, w.tokens["other customer"], "order-9")
	otherKey := str(unpaid.Data, "rentConfiguration", "installation", "licenseKey")
	w.s.Clock.Advance(47 * time.Hour)
	w.billing(t)
	state := `{ viewer { customer { installations { nodes { state } } invoices { nodes { state } } } } }`
	if r := w.s.Do(t, w.tokens["other customer"], state, nil); str(r.Data, "viewer", "customer", "installations", "nodes", 0, "state") != "PENDING_PAYMENT" {
		t.Fatalf("at 47 hours: %s", r.Raw)
	}
	w.s.Clock.Advance(time.Hour)
	w.billing(t)
	r := w.s.Do(t, w.tokens["other customer"], state, nil)
	if str(r.Data, "viewer", "customer", "installations", "nodes", 0, "state") != "EXPIRED" ||
		str(r.Data, "viewer", "customer", "invoices", "nodes", 0, "state") != "VOID" {
		t.Fatalf("at 48 hours: %s", r.Raw)
	}
	if lic := w.s.Do(t, "", licenseQuery, map[string]any{"k": otherKey, "a": otherAccount}); get(lic.Data, "licenseCheck", "valid") != false {
		t.Fatalf("expired rental's license: %s", lic.Raw)
	}
}

func TestPurchaseHasNoBackupUntilPaid(t *testing.T) {
	w := newCommerceWorld(t)
	buy := w.s.Do(t, w.tokens["buyer"], `mutation($c: ID!) { buyConfiguration(input: {configurationId: $c, idempotencyKey: "buy-1"}) {
		installation { id state mode backupRef } invoice { id amount { amount } expiresAt } userErrors { code } } }`,
		map[string]any{"c": globalIDOf("Configuration", w.conf.ID)})
	inst := get(buy.Data, "buyConfiguration", "installation")
	if str(inst, "state") != "PENDING_PAYMENT" || get(inst, "backupRef") != nil || str(buy.Data, "buyConfiguration", "invoice", "expiresAt") == "" {
		t.Fatalf("buy: %s", buy.Raw)
	}
	if r := w.payByWebhook(t, "evt_buy_1", str(buy.Data, "buyConfiguration", "invoice", "id"), "35000.00"); r.status != 200 {
		t.Fatalf("payment: %d %s", r.status, r.body)
	}
	after := w.s.Do(t, w.tokens["buyer"], `query($i: ID!) { node(id: $i) { ... on Installation { state backupRef } } }`,
		map[string]any{"i": str(inst, "id")})
	if str(after.Data, "node", "state") != "ACTIVE" || str(after.Data, "node", "backupRef") == "" {
		t.Fatalf("paid purchase: %s", after.Raw)
	}
}

func TestFreeConfigurationActivatesWithoutInvoice(t *testing.T) {
	w := newCommerceWorld(t)
	free := factory.Configuration(t, w.s.Store, w.dev.OrgID, factory.ConfigurationOptions{SaleMinor: 100})
	set := w.s.Do(t, w.tokens["developer"], `mutation($c: ID!) { setConfigurationPrices(input: {id: $c,
		rent: [{plan: "A", amount: "0.00"}, {plan: "B", amount: "0.00"}, {plan: "C", amount: "0.00"}, {plan: "D", amount: "0.00"}],
		sale: "0.00"}) { configuration { isFree rentPrices { price { amount } } salePrice { amount } } userErrors { code message } } }`,
		map[string]any{"c": globalIDOf("Configuration", free.ID)})
	if get(set.Data, "setConfigurationPrices", "configuration", "isFree") != true {
		t.Fatalf("prices: %s", set.Raw)
	}
	res := w.s.Do(t, w.tokens["buyer"], rentMutation, map[string]any{"c": globalIDOf("Configuration", free.ID), "k": "free-1"})
	if str(res.Data, "rentConfiguration", "installation", "state") != "ACTIVE" || get(res.Data, "rentConfiguration", "invoice") != nil {
		t.Fatalf("free rental: %s", res.Raw)
	}
	if n := w.s.Count(t, "invoices"); n != 0 {
		t.Fatalf("%d invoices for a free rental", n)
	}
	if n := w.s.Count(t, "ledger_entries"); n != 0 {
		t.Fatalf("%d ledger entries for a free rental", n)
	}
	// The storefront tells free from priced, by the card and by the price filter.
	list := w.s.Do(t, "", `{ configurations(first: 100, filter: {price: {plan: "B", max: "0.00"}}) { nodes { slug isFree } } }`, nil)
	nodes, _ := get(list.Data, "configurations", "nodes").([]any)
	if len(nodes) != 1 || str(nodes[0], "slug") != free.Slug || get(nodes[0], "isFree") != true {
		t.Fatalf("free filter: %s", list.Raw)
	}
	priced := w.s.Do(t, "", `query($s: String!) { configuration(slug: $s) { isFree } }`, map[string]any{"s": w.conf.Slug})
	if get(priced.Data, "configuration", "isFree") != false {
		t.Fatalf("priced configuration: %s", priced.Raw)
	}
}

// SPEC §8: a refund's reversal counts against the available balance the
// moment it is written.
func TestRefundOfMaturedPaymentLowersAvailableAtOnce(t *testing.T) {
	w := newCommerceWorld(t)
	buy := w.s.Do(t, w.tokens["buyer"], `mutation($c: ID!) { buyConfiguration(input: {configurationId: $c, idempotencyKey: "buy-1"}) {
		invoice { id } userErrors { code } } }`, map[string]any{"c": globalIDOf("Configuration", w.conf.ID)})
	pay := w.s.Do(t, w.tokens["admin"], `mutation($i: ID!) { recordPayment(input: {invoiceId: $i, amount: "35000.00", reference: "bank 7", idempotencyKey: "p-1"}) {
		payment { id } userErrors { code } } }`, map[string]any{"i": str(buy.Data, "buyConfiguration", "invoice", "id")})
	paymentID := str(pay.Data, "recordPayment", "payment", "id")
	if paymentID == "" {
		t.Fatalf("payment: %s", pay.Raw)
	}
	w.s.Clock.Advance(15 * 24 * time.Hour) // past the 14-day hold
	balance := `{ viewer { developer { balance { available { amount } onHold { amount } } } } }`
	before := w.s.Do(t, w.tokens["developer"], balance, nil)
	if str(before.Data, "viewer", "developer", "balance", "available", "amount") != "12250.00" { // 35% of 35,000.00
		t.Fatalf("matured balance: %s", before.Raw)
	}
	refund := w.s.Do(t, w.tokens["admin"], `mutation($p: ID!) { refundPayment(input: {paymentId: $p, amount: "35000.00", reason: "returned", idempotencyKey: "r-1"}) {
		payment { id } userErrors { code } } }`, map[string]any{"p": paymentID})
	if str(refund.Data, "refundPayment", "payment", "id") == "" {
		t.Fatalf("refund: %s", refund.Raw)
	}
	after := w.s.Do(t, w.tokens["developer"], balance, nil)
	if str(after.Data, "viewer", "developer", "balance", "available", "amount") != "0.00" ||
		str(after.Data, "viewer", "developer", "balance", "onHold", "amount") != "0.00" {
		t.Fatalf("balance right after the refund: %s", after.Raw)
	}
	payout := w.s.Do(t, w.tokens["developer"], `mutation { requestPayout(input: {amount: "12250.00", method: BANK_ACCOUNT, idempotencyKey: "out-1"}) {
		payout { id } userErrors { code } } }`, nil)
	if str(payout.Data, "requestPayout", "userErrors", 0, "code") != "INSUFFICIENT_BALANCE" {
		t.Fatalf("payout of the refunded money: %s", payout.Raw)
	}
	if n := w.s.Count(t, "payouts"); n != 0 {
		t.Fatalf("%d payouts written", n)
	}
}
