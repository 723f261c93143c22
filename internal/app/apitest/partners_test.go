package apitest

import (
	"context"
	"testing"
	"time"

	"configmarket/internal/factory"
	"configmarket/internal/store"
)

// rentAndPay rents conf for the buyer and records its 500.00 invoice as
// paid by an admin, under idempotency key key.
func (w *commerceWorld) rentAndPay(t *testing.T, conf store.Configuration, key string) {
	t.Helper()
	rent := w.s.Do(t, w.tokens["buyer"], rentMutation, map[string]any{"c": globalIDOf("Configuration", conf.ID), "k": "rent-" + key})
	invoice := str(rent.Data, "rentConfiguration", "invoice", "id")
	if invoice == "" {
		t.Fatalf("rent: %s", rent.Raw)
	}
	pay := w.s.Do(t, w.tokens["admin"], `mutation($i: ID!, $k: String!) { recordPayment(input: {invoiceId: $i, amount: "500.00", reference: $k, idempotencyKey: $k}) {
		payment { id } userErrors { code } } }`, map[string]any{"i": invoice, "k": "pay-" + key})
	if str(pay.Data, "recordPayment", "payment", "id") == "" {
		t.Fatalf("payment: %s", pay.Raw)
	}
}

// auditTargets lists the targets of the audit rows of action with result
// ok, oldest first.
func (s *Server) auditTargets(t *testing.T, action string) []string {
	t.Helper()
	rows, err := s.Pool.Query(context.Background(), `select coalesce(target, '') from audit_log where action = $1 and result = 'ok' order by id`, action)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var target string
		if err := rows.Scan(&target); err != nil {
			t.Fatal(err)
		}
		out = append(out, target)
	}
	return out
}

// SPEC §1: a customer is a CRM account. Signing up as one without its CRM
// account id is a user error on that field and writes nothing.
func TestCustomerCannotSignUpWithoutACRMAccountID(t *testing.T) {
	s := New(t)
	tables := []string{"users", "customers", "role_grants", "auth_sessions"}
	before := map[string]int{}
	for _, tb := range tables {
		before[tb] = s.Count(t, tb)
	}
	for _, crm := range []any{nil, "", "   ", "crm\u0007x", "crm\u0000x"} {
		in := signUpInput(map[string]any{"email": "no-crm@example.test", "crmAccountId": crm})
		res := s.Do(t, "", signUpMutation, in)
		if crm == "crm\u0000x" {
			// NUL is refused before any resolver runs, for every argument.
			if res.Code() != "BAD_USER_INPUT" {
				t.Fatalf("crmAccountId with NUL: %s", res.Raw)
			}
			continue
		}
		code := "CRM_ACCOUNT_REQUIRED"
		if crm == "crm\u0007x" {
			code = "CRM_ACCOUNT_INVALID"
		}
		if res.Code() != "" || get(res.Data, "signUp", "session") != nil ||
			str(res.Data, "signUp", "userErrors", 0, "code") != code || str(res.Data, "signUp", "userErrors", 0, "field", 1) != "crmAccountId" {
			t.Fatalf("crmAccountId %q: %s", crm, res.Raw)
		}
	}
	for _, tb := range tables {
		if n := s.Count(t, tb); n != before[tb] {
			t.Errorf("%s: %d rows, was %d", tb, n, before[tb])
		}
	}
	// With one, the account is that CRM account.
	res := s.Do(t, "", signUpMutation, signUpInput(map[string]any{"email": "crm@example.test", "crmAccountId": " crm-42 "}))
	token := str(res.Data, "signUp", "session", "accessToken")
	me := s.Do(t, token, `{ viewer { customer { crmAccountId } } }`, nil)
	if str(me.Data, "viewer", "customer", "crmAccountId") != "crm-42" {
		t.Fatalf("signed up: %s / %s", res.Raw, me.Raw)
	}
	// Developers are no CRM accounts.
	dev := s.Do(t, "", signUpMutation, signUpInput(map[string]any{"email": "dev@example.test", "role": "DEVELOPER", "crmAccountId": nil}))
	if str(dev.Data, "signUp", "session", "accessToken") == "" {
		t.Fatalf("developer sign-up: %s", dev.Raw)
	}
}

const setCRMMutation = `mutation($c: String!) { setCrmAccountId(input: {crmAccountId: $c}) {
	customer { id crmAccountId } userErrors { field code } } }`

// A customer created before the CRM account id was required pays, but its
// license check can name no account; it sets the id once, and the check
// answers valid for that account.
func TestLegacyCustomerSetsItsCRMAccountIDAndItsLicenseTurnsValid(t *testing.T) {
	w := newCommerceWorld(t)
	ctx := context.Background()
	if _, err := w.s.Pool.Exec(ctx, `update customers set crm_account_id = null where id = $1`, w.buyer.OrgID); err != nil {
		t.Fatal(err)
	}
	w.rentAndPay(t, w.conf, "1")
	mine := w.s.Do(t, w.tokens["buyer"], `{ viewer { customer { crmAccountId installations { nodes { licenseKey } } } } }`, nil)
	key := str(mine.Data, "viewer", "customer", "installations", "nodes", 0, "licenseKey")
	if key == "" || get(mine.Data, "viewer", "customer", "crmAccountId") != nil {
		t.Fatalf("legacy customer: %s", mine.Raw)
	}
	check := func() bool {
		r := w.s.Do(t, "", `query($k: String!, $a: String!) { licenseCheck(key: $k, accountId: $a) { valid } }`,
			map[string]any{"k": key, "a": "crm-legacy"})
		return get(r.Data, "licenseCheck", "valid") == true
	}
	if check() {
		t.Fatal("a license is valid for an account the customer never named")
	}

	// Not for strangers: only a customer sets its own account's id.
	for _, role := range []string{"anonymous", "developer", "partner", "admin"} {
		r := w.s.Do(t, w.tokens[role], setCRMMutation, map[string]any{"c": "crm-legacy"})
		if code := r.Code(); code != "UNAUTHENTICATED" && code != "FORBIDDEN" {
			t.Fatalf("%s: %s", role, r.Raw)
		}
	}
	// Another customer's account is taken.
	taken := w.s.Do(t, w.tokens["buyer"], setCRMMutation, map[string]any{"c": w.other.CRMAccountID})
	if str(taken.Data, "setCrmAccountId", "userErrors", 0, "code") != "CRM_ACCOUNT_TAKEN" || get(taken.Data, "setCrmAccountId", "customer") != nil {
		t.Fatalf("taken: %s", taken.Raw)
	}

	set := w.s.Do(t, w.tokens["buyer"], setCRMMutation, map[string]any{"c": "crm-legacy"})
	if str(set.Data, "setCrmAccountId", "customer", "crmAccountId") != "crm-legacy" ||
		str(set.Data, "setCrmAccountId", "customer", "id") != globalIDOf("Customer", w.buyer.OrgID) {
		t.Fatalf("set: %s", set.Raw)
	}
	if !check() {
		t.Fatal("after setting its CRM account id, the paid installation's license is not valid")
	}
	again := w.s.Do(t, w.tokens["buyer"], setCRMMutation, map[string]any{"c": "crm-other"})
	if str(again.Data, "setCrmAccountId", "userErrors", 0, "code") != "CRM_ACCOUNT_ALREADY_SET" {
		t.Fatalf("second call: %s", again.Raw)
	}
	if !check() {
		t.Fatal("a refused second call changed the account")
	}
	if got := w.s.auditTargets(t, "setCrmAccountId"); len(got) != 1 || got[0] != globalIDOf("Customer", w.buyer.OrgID) {
		t.Fatalf("audit targets %v", got)
	}
}

// SPEC §7 / issue 19 item 6 through the API: a paying customer that leaves
// a partner's request unanswered still holds it on day 13; the pins job of
// day 14 expires it (an event in its history) and another partner may ask.
func TestPendingPinExpiresOnDay14ThroughTheAPI(t *testing.T) {
	w := newCommerceWorld(t)
	ctx := context.Background()
	w.rentAndPay(t, w.conf, "1") // a paying customer confirms pins
	rival := factory.Partner(t, w.s.Store)
	rivalToken, _ := w.s.LogIn(t, rival, nil)
	pin := `mutation($c: String) { pinCustomer(input: {crmAccountId: $c}) { pin { id state } userErrors { code } } }`
	vars := map[string]any{"c": w.buyer.CRMAccountID}

	first := w.s.Do(t, w.tokens["partner"], pin, vars)
	pinID := str(first.Data, "pinCustomer", "pin", "id")
	if str(first.Data, "pinCustomer", "pin", "state") != "PENDING" {
		t.Fatalf("pin: %s", first.Raw)
	}
	mine := func() Response {
		return w.s.Do(t, w.tokens["buyer"], `{ viewer { customer { pins { id state events { action } } } } }`, nil)
	}
	expire := func() {
		if _, err := w.s.App.Pins().ExpirePins(ctx); err != nil {
			t.Fatal(err)
		}
	}

	w.s.Clock.Advance(13 * 24 * time.Hour)
	expire()
	if r := mine(); str(r.Data, "viewer", "customer", "pins", 0, "state") != "PENDING" {
		t.Fatalf("day 13: %s", r.Raw)
	}
	if r := w.s.Do(t, rivalToken, pin, vars); str(r.Data, "pinCustomer", "userErrors", 0, "code") != "ALREADY_PINNED" {
		t.Fatalf("day 13, rival: %s", r.Raw)
	}

	w.s.Clock.Advance(24 * time.Hour)
	expire()
	r := mine()
	if str(r.Data, "viewer", "customer", "pins", 0, "id") != pinID || str(r.Data, "viewer", "customer", "pins", 0, "state") != "EXPIRED" ||
		str(r.Data, "viewer", "customer", "pins", 0, "events", 1, "action") != "expired" {
		t.Fatalf("day 14: %s", r.Raw)
	}
	confirm := w.s.Do(t, w.tokens["buyer"], `mutation($id: ID!) { confirmPin(input: {id: $id}) { pin { state } userErrors { code } } }`, map[string]any{"id": pinID})
	if get(confirm.Data, "confirmPin", "pin") != nil {
		t.Fatalf("confirmed an expired request: %s", confirm.Raw)
	}
	if r := w.s.Do(t, rivalToken, pin, vars); str(r.Data, "pinCustomer", "pin", "state") != "PENDING" {
		t.Fatalf("day 14, rival: %s", r.Raw)
	}
	if got := w.s.auditTargets(t, "expirePin"); len(got) != 1 || got[0] != pinID {
		t.Fatalf("expiry audit targets %v, want the pin", got)
	}
}

const setPartnerStatusMutation = `mutation($p: ID!, $s: PartnerStatus!, $r: String!) {
	setPartnerStatus(input: {partnerId: $p, status: $s, reason: $r}) { partner { id status } userErrors { field code } } }`

// Issue 19 item 7 with SPEC §5's numbers through the API: a premium
// developer supporting its customers rents for 500.00 (developer 375.00,
// the platform's part 125.00) to a customer pinned by an agent: 12.50
// (10%). An admin makes the partner a dealer: the next 500.00 rent pays it
// 31.25 (25%), and the earlier entry keeps 12.50 at 10%.
func TestPartnerMadeDealerEarns25PercentOnTheNextPaymentThroughTheAPI(t *testing.T) {
	w := newCommerceWorld(t)
	ctx := context.Background()
	partner := factory.Partner(t, w.s.Store)
	partnerToken, _ := w.s.LogIn(t, partner, nil)
	if _, err := w.s.Pool.Exec(ctx, `update developers set status = 'premium' where id = $1`, w.dev.OrgID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.Pool.Exec(ctx, `insert into pins (partner_id, customer_id, state, starts_at, expires_at)
		values ($1, $2, 'active', now() - interval '1 day', now() + interval '89 days')`, partner.OrgID, w.buyer.OrgID); err != nil {
		t.Fatal(err)
	}
	partnerID := globalIDOf("Partner", partner.OrgID)
	read := `query($p: ID!) { node(id: $p) { ... on Partner { status
		commissions { nodes { amount { amount } rate } }
		statusHistory { status reason decidedBy decidedAt } } } }`
	vars := map[string]any{"p": partnerID}

	w.rentAndPay(t, w.conf, "1")
	before := w.s.Do(t, partnerToken, read, vars)
	if str(before.Data, "node", "commissions", "nodes", 0, "amount", "amount") != "12.50" || str(before.Data, "node", "commissions", "nodes", 0, "rate") != "10%" {
		t.Fatalf("as an agent: %s", before.Raw)
	}

	// Only admins set it, and with a reason.
	if r := w.s.Do(t, partnerToken, setPartnerStatusMutation, map[string]any{"p": partnerID, "s": "INTEGRATOR", "r": "me"}); r.Code() != "FORBIDDEN" {
		t.Fatalf("the partner itself: %s", r.Raw)
	}
	if r := w.s.Do(t, w.tokens["admin"], setPartnerStatusMutation, map[string]any{"p": partnerID, "s": "DEALER", "r": " "}); str(r.Data, "setPartnerStatus", "userErrors", 0, "code") != "REASON_REQUIRED" {
		t.Fatalf("no reason: %s", r.Raw)
	}
	set := w.s.Do(t, w.tokens["admin"], setPartnerStatusMutation, map[string]any{"p": partnerID, "s": "DEALER", "r": "runs presentations"})
	if str(set.Data, "setPartnerStatus", "partner", "status") != "DEALER" {
		t.Fatalf("set: %s", set.Raw)
	}
	if r := w.s.Do(t, w.tokens["admin"], setPartnerStatusMutation, map[string]any{"p": partnerID, "s": "DEALER", "r": "again"}); str(r.Data, "setPartnerStatus", "userErrors", 0, "code") != "PARTNER_STATUS_UNCHANGED" {
		t.Fatalf("no-op: %s", r.Raw)
	}

	second := factory.Configuration(t, w.s.Store, w.dev.OrgID, factory.ConfigurationOptions{})
	w.rentAndPay(t, second, "2")
	after := w.s.Do(t, partnerToken, read, vars)
	if str(after.Data, "node", "status") != "DEALER" ||
		str(after.Data, "node", "commissions", "nodes", 0, "amount", "amount") != "31.25" || str(after.Data, "node", "commissions", "nodes", 0, "rate") != "25%" ||
		str(after.Data, "node", "commissions", "nodes", 1, "amount", "amount") != "12.50" || str(after.Data, "node", "commissions", "nodes", 1, "rate") != "10%" {
		t.Fatalf("as a dealer: %s", after.Raw)
	}
	if str(after.Data, "node", "statusHistory", 0, "status") != "DEALER" || str(after.Data, "node", "statusHistory", 0, "reason") != "runs presentations" ||
		str(after.Data, "node", "statusHistory", 0, "decidedBy") == "" ||
		str(after.Data, "node", "statusHistory", 1, "status") != "AGENT" || get(after.Data, "node", "statusHistory", 1, "decidedBy") != nil ||
		len(get(after.Data, "node", "statusHistory").([]any)) != 2 {
		t.Fatalf("history: %s", after.Raw)
	}
	if admin := w.s.Do(t, w.tokens["admin"], read, vars); str(admin.Data, "node", "statusHistory", 0, "status") != "DEALER" {
		t.Fatalf("admin's view: %s", admin.Raw)
	}
	// Nobody else sees the partner, or its history.
	for _, role := range []string{"anonymous", "buyer", "other customer", "developer", "partner"} {
		r := w.s.Do(t, w.tokens[role], `query($p: ID!) { node(id: $p) { ... on Partner { statusHistory { status } } }
			nodes(ids: [$p]) { ... on Partner { statusHistory { status } } } }`, vars)
		if get(r.Data, "node") != nil || get(r.Data, "nodes", 0) != nil {
			t.Errorf("%s read the history: %s", role, r.Raw)
		}
	}
	if got := w.s.auditTargets(t, "setPartnerStatus"); len(got) != 1 || got[0] != partnerID {
		t.Fatalf("audit targets %v", got)
	}
}
