package apitest

import (
	"context"
	"strings"
	"testing"
	"time"

	"configmarket/internal/factory"
)

// The admins' queues and search (issue 22 item 1), through the real handler.

// nodeIDs are the ids of a connection's nodes at path.
func nodeIDs(r Response, path ...any) []string {
	nodes, _ := get(r.Data, append(path, "nodes")...).([]any)
	var out []string
	for _, n := range nodes {
		out = append(out, str(n, "id"))
	}
	return out
}

func holds(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func TestAdminFindsARequestedPayoutByTheQueueAndPaysIt(t *testing.T) {
	w := newCommerceWorld(t)
	ctx := context.Background()
	w.earnOldSale(t)
	// Two older payouts already decided, one paid (500.00 of the balance)
	// and one failed (none), so the states filter has something to leave out.
	if _, err := w.s.Pool.Exec(ctx, `insert into payouts (party, developer_id, amount_minor, method, state, requested_at, decided_at)
		values ('developer', $1, 50000, 'e_wallet', 'paid', now() - interval '3 days', now() - interval '2 days'),
			('developer', $1, 100000, 'e_wallet', 'failed', now() - interval '2 days', now() - interval '1 day')`, w.dev.OrgID); err != nil {
		t.Fatal(err)
	}
	requested := w.s.Do(t, w.tokens["developer"], `mutation { requestPayout(input: {amount: "1500.00", method: E_WALLET, idempotencyKey: "q1"}) {
		payout { id state } userErrors { code } } }`, nil)
	payout := str(requested.Data, "requestPayout", "payout", "id")
	if payout == "" {
		t.Fatalf("request payout: %s", requested.Raw)
	}

	queue := `query($s: [PayoutState!], $first: Int, $after: String) { payouts(states: $s, first: $first, after: $after) {
		totalCount nodes { id state amount { amount } requestedAt } pageInfo { hasNextPage endCursor } } }`
	r := w.s.Do(t, w.tokens["admin"], queue, map[string]any{"s": []string{"REQUESTED"}})
	if ids := nodeIDs(r, "payouts"); len(ids) != 1 || ids[0] != payout || get(r.Data, "payouts", "totalCount") != float64(1) {
		t.Fatalf("the requested queue: %s", r.Raw)
	}
	// Every state, the oldest requested first, one at a time.
	all := w.s.Do(t, w.tokens["admin"], queue, map[string]any{"first": 2})
	if get(all.Data, "payouts", "totalCount") != float64(3) || get(all.Data, "payouts", "pageInfo", "hasNextPage") != true {
		t.Fatalf("every payout: %s", all.Raw)
	}
	if str(all.Data, "payouts", "nodes", 0, "state") != "PAID" || str(all.Data, "payouts", "nodes", 1, "state") != "FAILED" {
		t.Fatalf("not the oldest first: %s", all.Raw)
	}
	rest := w.s.Do(t, w.tokens["admin"], queue, map[string]any{"first": 2, "after": str(all.Data, "payouts", "pageInfo", "endCursor")})
	if ids := nodeIDs(rest, "payouts"); len(ids) != 1 || ids[0] != payout || get(rest.Data, "payouts", "pageInfo", "hasNextPage") != false {
		t.Fatalf("the second page: %s", rest.Raw)
	}

	paid := w.s.Do(t, w.tokens["admin"], `mutation($id: ID!) { decidePayout(input: {id: $id, paid: true}) { payout { id state } userErrors { code } } }`,
		map[string]any{"id": payout})
	if str(paid.Data, "decidePayout", "payout", "state") != "PAID" {
		t.Fatalf("decide payout: %s", paid.Raw)
	}
	if r := w.s.Do(t, w.tokens["admin"], queue, map[string]any{"s": []string{"REQUESTED"}}); len(nodeIDs(r, "payouts")) != 0 || get(r.Data, "payouts", "totalCount") != float64(0) {
		t.Fatalf("the queue after paying: %s", r.Raw)
	}
	if r := w.s.Do(t, w.tokens["admin"], queue, map[string]any{"s": []string{"PAID"}}); !holds(nodeIDs(r, "payouts"), payout) || get(r.Data, "payouts", "totalCount") != float64(2) {
		t.Fatalf("the paid ones: %s", r.Raw)
	}
	// The developer's own list still answers without a count.
	own := w.s.Do(t, w.tokens["developer"], `query($d: ID!) { node(id: $d) { ... on Developer { payouts { totalCount nodes { id } } } } }`,
		map[string]any{"d": globalIDOf("Developer", w.dev.OrgID)})
	if len(nodeIDs(own, "node", "payouts")) != 3 || get(own.Data, "node", "payouts", "totalCount") != nil {
		t.Fatalf("the developer's payouts: %s", own.Raw)
	}
}

func TestAdminListsOverdueInvoices(t *testing.T) {
	w := newCommerceWorld(t)
	unpaid := str(w.rent(t, w.tokens["buyer"], "order-1").Data, "rentConfiguration", "invoice", "id")
	w.s.Clock.Advance(time.Minute)
	paid := str(w.rent(t, w.tokens["other customer"], "order-2").Data, "rentConfiguration", "invoice", "id")
	if unpaid == "" || paid == "" {
		t.Fatal("no invoices")
	}
	if r := w.s.Do(t, w.tokens["admin"], `mutation($id: ID!) { recordPayment(input: {invoiceId: $id, amount: "500.00", reference: "bank", idempotencyKey: "p"}) {
		payment { id } userErrors { code } } }`, map[string]any{"id": paid}); str(r.Data, "recordPayment", "payment", "id") == "" {
		t.Fatalf("record payment: %s", r.Raw)
	}
	list := `query($s: [InvoiceState!], $o: Boolean) { invoices(states: $s, overdue: $o) { totalCount nodes { id state } } }`
	find := func(vars map[string]any) []string {
		t.Helper()
		r := w.s.Do(t, w.tokens["admin"], list, vars)
		ids := nodeIDs(r, "invoices")
		if len(r.Errors) > 0 || get(r.Data, "invoices", "totalCount") != float64(len(ids)) {
			t.Fatalf("invoices %v: %s", vars, r.Raw)
		}
		return ids
	}
	if ids := find(map[string]any{"s": []string{"OPEN"}}); len(ids) != 1 || ids[0] != unpaid {
		t.Fatalf("open invoices: %v", ids)
	}
	if ids := find(map[string]any{"s": []string{"PAID"}}); len(ids) != 1 || ids[0] != paid {
		t.Fatalf("paid invoices: %v", ids)
	}
	if ids := find(map[string]any{"o": true}); len(ids) != 0 {
		t.Fatalf("overdue right after issue: %v", ids)
	}
	// The first invoice of a rental is due when it expires, 48 hours on;
	// a paid one is never overdue.
	w.s.Clock.Advance(49 * time.Hour)
	if ids := find(map[string]any{"o": true}); len(ids) != 1 || ids[0] != unpaid {
		t.Fatalf("overdue invoices: %v", ids)
	}
	if ids := find(map[string]any{"o": false}); len(ids) != 1 || ids[0] != paid {
		t.Fatalf("invoices not overdue: %v", ids)
	}
	if ids := find(map[string]any{"o": true, "s": []string{"PAID", "VOID"}}); len(ids) != 0 {
		t.Fatalf("overdue and paid or void: %v", ids)
	}
	if ids := find(nil); len(ids) != 2 || ids[0] != paid {
		t.Fatalf("every invoice, newest first: %v", ids)
	}
}

func TestAdminPinQueue(t *testing.T) {
	w := newPrivateWorld(t)
	r := w.s.Do(t, w.tokens["admin"], `{ pending: pins(states: [PENDING]) { totalCount nodes { id } } active: pins(states: [ACTIVE]) { totalCount nodes { id state partnerName } } }`, nil)
	if get(r.Data, "pending", "totalCount") != float64(0) || !holds(nodeIDs(r, "active"), w.ids["pin"]) || get(r.Data, "active", "totalCount") != float64(1) {
		t.Fatalf("pins: %s", r.Raw)
	}
}

func TestAdminSearchesAccounts(t *testing.T) {
	s := New(t)
	ctx := context.Background()
	admin, _ := s.LogIn(t, factory.Admin(t, s.Store), nil)
	target := factory.Customer(t, s.Store)
	for range 3 {
		factory.Customer(t, s.Store)
	}
	if _, err := s.Pool.Exec(ctx, `update customers set name = 'Horns and Hooves Trading', inn = '7707083893' where id = $1`, target.OrgID); err != nil {
		t.Fatal(err)
	}
	dev, partner := factory.Developer(t, s.Store), factory.Partner(t, s.Store)
	if _, err := s.Pool.Exec(ctx, `update partners set inn = '500100732259' where id = $1`, partner.OrgID); err != nil {
		t.Fatal(err)
	}
	customer := globalIDOf("Customer", target.OrgID)
	search := `query($q: String) { customers(search: $q) { totalCount nodes { id name inn crmAccountId } } }`
	crmPart := target.CRMAccountID[len(target.CRMAccountID)-12:]
	for what, q := range map[string]string{
		"part of the name": "hooves", "the e-mail": strings.ToUpper(target.Email), "part of the INN": "708389",
		"part of the CRM account id": crmPart, "a LIKE wildcard as itself": "Hooves T",
	} {
		r := s.Do(t, admin, search, map[string]any{"q": q})
		if ids := nodeIDs(r, "customers"); len(ids) != 1 || ids[0] != customer || get(r.Data, "customers", "totalCount") != float64(1) {
			t.Errorf("by %s (%q): %s", what, q, r.Raw)
		}
	}
	if r := s.Do(t, admin, search, map[string]any{"q": "hoo%es"}); len(nodeIDs(r, "customers")) != 0 {
		t.Errorf("%% matched as a wildcard: %s", r.Raw)
	}
	if r := s.Do(t, admin, search, map[string]any{"q": "ho"}); r.Code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["reason"] != "SEARCH_LENGTH" || get(r.Data, "customers") != nil {
		t.Errorf("a 2-character search: %s", r.Raw)
	}

	// Paging through everyone: each customer once, and the total.
	want := s.Count(t, "customers")
	seen, after := map[string]bool{}, any(nil)
	for page := 0; ; page++ {
		r := s.Do(t, admin, `query($after: String) { customers(first: 2, after: $after) { totalCount nodes { id } pageInfo { hasNextPage endCursor } } }`,
			map[string]any{"after": after})
		if get(r.Data, "customers", "totalCount") != float64(want) || page > want {
			t.Fatalf("page %d: %s", page, r.Raw)
		}
		for _, id := range nodeIDs(r, "customers") {
			if seen[id] {
				t.Fatalf("customer %s twice", id)
			}
			seen[id] = true
		}
		if get(r.Data, "customers", "pageInfo", "hasNextPage") != true {
			break
		}
		after = str(r.Data, "customers", "pageInfo", "endCursor")
	}
	if len(seen) != want {
		t.Fatalf("paged through %d customers of %d", len(seen), want)
	}

	others := s.Do(t, admin, `query($d: String, $p: String, $u: String) {
		developers(search: $d) { totalCount nodes { id } }
		partners(search: $p) { totalCount nodes { id inn } }
		users(search: $u) { totalCount nodes { id email } } }`,
		map[string]any{"d": dev.Email, "p": "0073225", "u": target.Email})
	if ids := nodeIDs(others, "developers"); len(ids) != 1 || ids[0] != globalIDOf("Developer", dev.OrgID) {
		t.Errorf("developer by e-mail: %s", others.Raw)
	}
	if ids := nodeIDs(others, "partners"); len(ids) != 1 || ids[0] != globalIDOf("Partner", partner.OrgID) {
		t.Errorf("partner by INN: %s", others.Raw)
	}
	if ids := nodeIDs(others, "users"); len(ids) != 1 || ids[0] != globalIDOf("User", target.UserID) {
		t.Errorf("user by e-mail: %s", others.Raw)
	}
}

// TestStrangersGetNoQueueNorSearch: every admin read refuses anyone else,
// and shows nothing.
func TestStrangersGetNoQueueNorSearch(t *testing.T) {
	s := New(t)
	victim := factory.Customer(t, s.Store)
	dev := factory.Developer(t, s.Store)
	tokens := map[string]string{"anonymous": ""}
	for name, a := range map[string]factory.Account{
		"customer": factory.Customer(t, s.Store), "developer": dev, "partner": factory.Partner(t, s.Store),
	} {
		tokens[name], _ = s.LogIn(t, a, nil)
	}
	reads := map[string]string{
		"payouts":           `{ payouts { totalCount nodes { id } } }`,
		"invoices":          `{ invoices(overdue: true) { totalCount nodes { id } } }`,
		"pins":              `{ pins(states: [PENDING]) { totalCount nodes { id } } }`,
		"unappliedPayments": `{ unappliedPayments { totalCount nodes { id } } }`,
		"customers":         `query($q: String) { customers(search: $q) { totalCount nodes { id } } }`,
		"partners":          `{ partners { totalCount nodes { id } } }`,
		"users":             `query($q: String) { users(search: $q) { totalCount nodes { id } } }`,
		"developers":        `query($q: String) { developers(search: $q) { totalCount nodes { id } } }`,
	}
	vars := map[string]any{"q": victim.Email}
	for who, token := range tokens {
		for field, doc := range reads {
			r := s.Do(t, token, doc, vars)
			if code := r.Code(); (code != "UNAUTHENTICATED" && code != "FORBIDDEN") || get(r.Data, field) != nil {
				t.Errorf("%s read %s: %s", who, field, r.Raw)
			}
			if strings.Contains(string(r.Raw), victim.Email) || strings.Contains(string(r.Raw), globalIDOf("Customer", victim.OrgID)) {
				t.Errorf("%s's answer to %s names the customer: %s", who, field, r.Raw)
			}
		}
	}

	// The directory itself stays public, and so does a developer's page;
	// its private fields answer null to a stranger.
	r := s.Do(t, "", `{ developers(first: 100) { totalCount nodes { id } } }`, nil)
	if !holds(nodeIDs(r, "developers"), globalIDOf("Developer", dev.OrgID)) || get(r.Data, "developers", "totalCount") != float64(s.Count(t, "developers")) {
		t.Errorf("the public directory: %s", r.Raw)
	}
	var slug string
	if err := s.Pool.QueryRow(context.Background(), `select slug from developers where id = $1`, dev.OrgID).Scan(&slug); err != nil {
		t.Fatal(err)
	}
	page := `query($slug: String!) { developer(slug: $slug) { id slug name balance { available { amount } } payouts { nodes { id } } } }`
	for who, token := range tokens {
		r := s.Do(t, token, page, map[string]any{"slug": slug})
		if str(r.Data, "developer", "id") != globalIDOf("Developer", dev.OrgID) || str(r.Data, "developer", "slug") != slug {
			t.Errorf("%s: the developer's page: %s", who, r.Raw)
		}
		if mine := who == "developer"; (get(r.Data, "developer", "balance") != nil) != mine {
			t.Errorf("%s: the developer's private fields: %s", who, r.Raw)
		}
	}
	if r := s.Do(t, "", page, map[string]any{"slug": "no-such-developer"}); get(r.Data, "developer") != nil || len(r.Errors) > 0 {
		t.Errorf("an unknown slug: %s", r.Raw)
	}
}
