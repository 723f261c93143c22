package apitest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"configmarket/internal/factory"
	"configmarket/internal/store"
	"configmarket/internal/webhook"
)

type commerceWorld struct {
	s      *Server
	dev    factory.Account
	conf   store.Configuration
	buyer  factory.Account
	other  factory.Account
	tokens map[string]string
}

func newCommerceWorld(t *testing.T) *commerceWorld {
	t.Helper()
	s := New(t)
	w := &commerceWorld{s: s, dev: factory.Developer(t, s.Store), buyer: factory.Customer(t, s.Store), other: factory.Customer(t, s.Store)}
	w.conf = factory.Configuration(t, s.Store, w.dev.OrgID, factory.ConfigurationOptions{SaleMinor: 3_500_000})
	w.tokens = map[string]string{"anonymous": ""}
	for name, a := range map[string]factory.Account{
		"buyer": w.buyer, "other customer": w.other, "developer": w.dev,
		"other developer": factory.Developer(t, s.Store), "partner": factory.Partner(t, s.Store), "admin": factory.Admin(t, s.Store),
	} {
		w.tokens[name], _ = s.LogIn(t, a, nil)
	}
	return w
}

const rentMutation = `mutation($c: ID!, $k: String!) { rentConfiguration(input: {configurationId: $c, idempotencyKey: $k}) {
	installation { id state mode licenseKey currentPeriodEnd } invoice { id amount { amount currencyCode } state periodStart periodEnd }
	userErrors { field code message } } }`

func (w *commerceWorld) rent(t *testing.T, token, key string) Response {
	t.Helper()
	return w.s.Do(t, token, rentMutation, map[string]any{"c": globalIDOf("Configuration", w.conf.ID), "k": key})
}

func TestRentThroughGraphQLIsIdempotent(t *testing.T) {
	w := newCommerceWorld(t)
	first := w.rent(t, w.tokens["buyer"], "order-1")
	if first.Code() != "" || str(first.Data, "rentConfiguration", "invoice", "amount", "amount") != "500.00" {
		t.Fatalf("rent: %s", first.Raw)
	}
	again := w.rent(t, w.tokens["buyer"], "order-1")
	if str(again.Data, "rentConfiguration", "invoice", "id") != str(first.Data, "rentConfiguration", "invoice", "id") {
		t.Fatalf("replay returned another invoice: %s", again.Raw)
	}
	if n := w.s.Count(t, "invoices"); n != 1 {
		t.Fatalf("%d invoices after a replayed rent, want 1", n)
	}
	otherConf := factory.Configuration(t, w.s.Store, w.dev.OrgID, factory.ConfigurationOptions{})
	reused := w.s.Do(t, w.tokens["buyer"], rentMutation, map[string]any{"c": globalIDOf("Configuration", otherConf.ID), "k": "order-1"})
	if str(reused.Data, "rentConfiguration", "userErrors", 0, "code") != "IDEMPOTENCY_KEY_REUSED" {
		t.Fatalf("key reuse: %s", reused.Raw)
	}
	// The server prices from the catalog: there is no price in the input at all.
	for _, role := range []string{"anonymous", "developer", "partner", "admin"} {
		res := w.rent(t, w.tokens[role], "order-x")
		if res.Code() != "UNAUTHENTICATED" && res.Code() != "FORBIDDEN" {
			t.Errorf("%s may rent: %s", role, res.Raw)
		}
	}
}

// Every path to an invoice or a license key: node(id:), the customer's
// connections, the installation's fields, the charge payload.
func TestInvoicesAndLicenseKeysReachOnlyTheirCustomer(t *testing.T) {
	w := newCommerceWorld(t)
	res := w.rent(t, w.tokens["buyer"], "order-1")
	invoiceID := str(res.Data, "rentConfiguration", "invoice", "id")
	installationID := str(res.Data, "rentConfiguration", "installation", "id")
	key := str(res.Data, "rentConfiguration", "installation", "licenseKey")
	if invoiceID == "" || !strings.HasPrefix(key, "CM-") {
		t.Fatalf("rent: %s", res.Raw)
	}
	customerID := globalIDOf("Customer", w.buyer.OrgID)
	query := `query($inv: ID!, $inst: ID!, $cust: ID!) {
		invoice: node(id: $inv) { id }
		installation: node(id: $inst) { id ... on Installation { licenseKey backupRef } }
		customer: node(id: $cust) { ... on Customer { invoices { nodes { id } } installations { nodes { licenseKey } } } }
		viewer { customer { invoices { nodes { id } } installations { nodes { id licenseKey } } } } }`
	vars := map[string]any{"inv": invoiceID, "inst": installationID, "cust": customerID}
	for role, tok := range w.tokens {
		t.Run(role, func(t *testing.T) {
			r := w.s.Do(t, tok, query, vars)
			if r.Code() != "" {
				t.Fatal(r.Raw)
			}
			owner := role == "buyer" || role == "admin"
			if got := str(r.Data, "invoice", "id") == invoiceID; got != owner {
				t.Errorf("invoice by node visible=%v", got)
			}
			if got := strings.Contains(r.Raw, key); got != owner {
				t.Errorf("license key visible=%v", got)
			}
			// The developer sees the installation itself, not its key.
			if got := str(r.Data, "installation", "id") == installationID; got != (owner || role == "developer") {
				t.Errorf("installation visible=%v", got)
			}
			if role != "buyer" && strings.Contains(r.Raw, invoiceID) && role != "admin" {
				t.Errorf("invoice id leaked: %s", r.Raw)
			}
		})
	}
}

func TestDeveloperSeesInstallationsAndPaymentsOfItsConfigurationsOnly(t *testing.T) {
	w := newCommerceWorld(t)
	res := w.rent(t, w.tokens["buyer"], "order-1")
	invoiceID := str(res.Data, "rentConfiguration", "invoice", "id")
	pay := w.s.Do(t, w.tokens["admin"], `mutation($i: ID!) { recordPayment(input: {invoiceId: $i, amount: "500.00", reference: "bank 42", idempotencyKey: "p1"}) {
		payment { id amount { amount } paidFor } userErrors { code } } }`, map[string]any{"i": invoiceID})
	if str(pay.Data, "recordPayment", "payment", "paidFor") != "RENT" {
		t.Fatalf("record payment: %s", pay.Raw)
	}
	query := `query($d: ID!) { node(id: $d) { ... on Developer { installations { nodes { id licenseKey } } payments { nodes { amount { amount } } } } } }`
	for role, want := range map[string]bool{"developer": true, "admin": true, "other developer": false, "buyer": false, "anonymous": false} {
		r := w.s.Do(t, w.tokens[role], query, map[string]any{"d": globalIDOf("Developer", w.dev.OrgID)})
		installs, _ := get(r.Data, "node", "installations", "nodes").([]any)
		payments, _ := get(r.Data, "node", "payments", "nodes").([]any)
		if (len(installs) == 1 && len(payments) == 1) != want {
			t.Errorf("%s: %s", role, r.Raw)
		}
		if role == "developer" && str(r.Data, "node", "installations", "nodes", 0, "licenseKey") != "" {
			t.Errorf("developer sees the license key: %s", r.Raw)
		}
	}
}

func TestLicenseCheckRevealsNothingAboutForeignKeys(t *testing.T) {
	w := newCommerceWorld(t)
	res := w.rent(t, w.tokens["buyer"], "order-1")
	key := str(res.Data, "rentConfiguration", "installation", "licenseKey")
	if r := w.payByWebhook(t, "evt_license_1", str(res.Data, "rentConfiguration", "invoice", "id"), "500.00"); r.status != 200 {
		t.Fatalf("payment: %d %s", r.status, r.body)
	}
	var account string
	if err := w.s.Pool.QueryRow(context.Background(), `update customers set crm_account_id = 'crm-buyer' where id = $1 returning crm_account_id`, w.buyer.OrgID).Scan(&account); err != nil {
		t.Fatal(err)
	}
	q := `query($k: String!, $a: String!) { licenseCheck(key: $k, accountId: $a) { valid mode validUntil configuration { slug } } }`
	ok := w.s.Do(t, "", q, map[string]any{"k": key, "a": account})
	if get(ok.Data, "licenseCheck", "valid") != true || str(ok.Data, "licenseCheck", "mode") != "RENT" || str(ok.Data, "licenseCheck", "configuration", "slug") != w.conf.Slug {
		t.Fatalf("valid key: %s", ok.Raw)
	}
	wrongAccount := w.s.Do(t, "", q, map[string]any{"k": key, "a": "crm-someone-else"})
	unknownKey := w.s.Do(t, "", q, map[string]any{"k": "CM-00000000000000000000", "a": account})
	if wrongAccount.Raw != unknownKey.Raw || !strings.Contains(unknownKey.Raw, `"valid":false,"mode":null,"validUntil":null,"configuration":null`) {
		t.Fatalf("a foreign key must look like an unknown one:\n%s\n%s", wrongAccount.Raw, unknownKey.Raw)
	}
}

func (s *Server) webhook(t *testing.T, body string, signedAt time.Time, secret string) rawResponse {
	t.Helper()
	return s.raw(t, "POST", "/webhooks/payments", "application/json", body, map[string]string{
		webhook.HeaderName: webhook.Sign([]byte(secret), signedAt, []byte(body)),
	})
}

func TestPaymentWebhookAppliesAReplayOnce(t *testing.T) {
	w := newCommerceWorld(t)
	res := w.rent(t, w.tokens["buyer"], "order-1")
	invoiceID := str(res.Data, "rentConfiguration", "invoice", "id")
	event := func(id, amount string) string {
		b, _ := json.Marshal(map[string]any{"id": id, "type": "payment.succeeded", "data": map[string]any{
			"paymentId": "pay_" + id, "invoiceId": invoiceID, "amount": amount, "currency": "RUB",
			"paidAt": w.s.Clock.Now().Format(time.RFC3339)}})
		return string(b)
	}
	now := w.s.Clock.Now()
	if r := w.s.webhook(t, event("evt_1", "500.00"), now, "wrong secret"); r.status != 401 {
		t.Fatalf("forged signature: %d %s", r.status, r.body)
	}
	if r := w.s.webhook(t, event("evt_1", "500.00"), now.Add(-6*time.Minute), WebhookSecret); r.status != 401 {
		t.Fatalf("stale signature: %d %s", r.status, r.body)
	}
	// Money the books cannot take is kept for an admin, not refused.
	if r := w.s.webhook(t, event("evt_0", "499.99"), now, WebhookSecret); r.status != 200 || !strings.Contains(r.body, `"unapplied":"AMOUNT_MISMATCH"`) {
		t.Fatalf("wrong amount: %d %s", r.status, r.body)
	}
	for i, want := range []string{`"applied":true`, `"applied":false`} {
		r := w.s.webhook(t, event("evt_1", "500.00"), now, WebhookSecret)
		if r.status != 200 || !strings.Contains(r.body, want) {
			t.Fatalf("delivery %d: %d %s", i+1, r.status, r.body)
		}
	}
	if n := w.s.Count(t, "payments"); n != 1 {
		t.Fatalf("%d payments after a replay, want 1", n)
	}
	inv := w.s.Do(t, w.tokens["buyer"], `query($i: ID!) { node(id: $i) { ... on Invoice { state paidAt } } }`, map[string]any{"i": invoiceID})
	if str(inv.Data, "node", "state") != "PAID" {
		t.Fatalf("invoice after payment: %s", inv.Raw)
	}
	if r := w.s.webhook(t, event("evt_2", "500.00"), now, WebhookSecret); r.status != 200 || !strings.Contains(r.body, `"unapplied":"INVOICE_NOT_OPEN"`) {
		t.Fatalf("second payment of a paid invoice: %d %s", r.status, r.body)
	}
}

func TestTrialThroughGraphQLAndBillingJobs(t *testing.T) {
	w := newCommerceWorld(t)
	trial := w.s.Do(t, w.tokens["buyer"], `mutation($c: ID!) { startTrial(input: {configurationId: $c}) {
		installation { state mode trialDaysLeft trialEndsAt autoUpdate } userErrors { code } } }`,
		map[string]any{"c": globalIDOf("Configuration", w.conf.ID)})
	if str(trial.Data, "startTrial", "installation", "state") != "TRIALING" || get(trial.Data, "startTrial", "installation", "trialDaysLeft") != float64(14) {
		t.Fatalf("trial: %s", trial.Raw)
	}
	w.s.Clock.Advance(15 * 24 * time.Hour)
	if _, err := w.s.Commerce.RunBilling(context.Background()); err != nil {
		t.Fatal(err)
	}
	again := w.s.Do(t, w.tokens["buyer"], `mutation($c: ID!) { startTrial(input: {configurationId: $c}) { userErrors { code } } }`,
		map[string]any{"c": globalIDOf("Configuration", w.conf.ID)})
	if str(again.Data, "startTrial", "userErrors", 0, "code") != "TRIAL_ALREADY_USED" {
		t.Fatalf("second trial: %s", again.Raw)
	}
	me := w.s.Do(t, w.tokens["buyer"], `{ viewer { customer { installations { nodes { state dataRetainedUntil } } } } }`, nil)
	if str(me.Data, "viewer", "customer", "installations", "nodes", 0, "state") != "EXPIRED" {
		t.Fatalf("after the trial: %s", me.Raw)
	}
}

// premiumDeveloperAndDealer sets SPEC §5's example up: the configuration's
// developer is premium (and supports its customers), and the buyer is
// pinned by a new dealer partner, returned with its token.
func (w *commerceWorld) premiumDeveloperAndDealer(t *testing.T) (factory.Account, string) {
	t.Helper()
	ctx := context.Background()
	dealer := factory.Partner(t, w.s.Store)
	for _, q := range []struct {
		sql string
		arg any
	}{
		{`update developers set status = 'premium' where id = $1`, w.dev.OrgID},
		{`update partners set status = 'dealer' where id = $1`, dealer.OrgID},
	} {
		if _, err := w.s.Pool.Exec(ctx, q.sql, q.arg); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.s.Pool.Exec(ctx, `insert into pins (partner_id, customer_id, state, starts_at, expires_at)
		values ($1, $2, 'active', now() - interval '1 day', now() + interval '89 days')`, dealer.OrgID, w.buyer.OrgID); err != nil {
		t.Fatal(err)
	}
	token, _ := w.s.LogIn(t, dealer, nil)
	return dealer, token
}

// payRent rents the configuration for the buyer and records the 500.00
// payment as an admin; it returns the payment's id.
func (w *commerceWorld) payRent(t *testing.T) string {
	t.Helper()
	rent := w.rent(t, w.tokens["buyer"], "order-1")
	pay := w.s.Do(t, w.tokens["admin"], `mutation($i: ID!) { recordPayment(input: {invoiceId: $i, amount: "500.00", reference: "bank 1", idempotencyKey: "pay-1"}) {
		payment { id } userErrors { code } } }`, map[string]any{"i": str(rent.Data, "rentConfiguration", "invoice", "id")})
	id := str(pay.Data, "recordPayment", "payment", "id")
	if id == "" {
		t.Fatalf("payment: %s", pay.Raw)
	}
	return id
}
