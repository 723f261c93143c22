package apitest

import (
	"context"
	"sync"
	"testing"

	"configmarket/internal/factory"
)

func TestPinFlowThroughTheAPI(t *testing.T) {
	w := newCommerceWorld(t)
	ctx := context.Background()
	if _, err := w.s.Pool.Exec(ctx, `update customers set inn = '7707083893' where id = $1`, w.buyer.OrgID); err != nil {
		t.Fatal(err)
	}
	rival := factory.Partner(t, w.s.Store)
	rivalToken, _ := w.s.LogIn(t, rival, nil)
	pin := `mutation($inn: String) { pinCustomer(input: {inn: $inn}) { pin { id state expiresAt partnerName } userErrors { code } } }`

	if r := w.s.Do(t, w.tokens["partner"], pin, map[string]any{"inn": "7707083894"}); str(r.Data, "pinCustomer", "userErrors", 0, "code") != "INN_INVALID" {
		t.Fatalf("bad checksum: %s", r.Raw)
	}
	// Two partners at once: exactly one pin.
	var wg sync.WaitGroup
	results := make([]Response, 2)
	for i, tok := range []string{w.tokens["partner"], rivalToken} {
		wg.Go(func() { results[i] = w.s.Do(t, tok, pin, map[string]any{"inn": "7707083893"}) })
	}
	wg.Wait()
	won, lost := 0, 0
	for _, r := range results {
		switch {
		case str(r.Data, "pinCustomer", "pin", "state") == "ACTIVE":
			won++
		case str(r.Data, "pinCustomer", "userErrors", 0, "code") == "ALREADY_PINNED":
			lost++
		default:
			t.Fatalf("unexpected: %s", r.Raw)
		}
	}
	if won != 1 || lost != 1 || w.s.Count(t, "pins") != 1 {
		t.Fatalf("won %d lost %d pins %d", won, lost, w.s.Count(t, "pins"))
	}
	// The customer sees who pinned it; nobody else reads the pin.
	me := w.s.Do(t, w.tokens["buyer"], `{ viewer { customer { pins { state partnerName events { action } } } } }`, nil)
	if str(me.Data, "viewer", "customer", "pins", 0, "state") != "ACTIVE" || str(me.Data, "viewer", "customer", "pins", 0, "partnerName") == "" {
		t.Fatalf("customer's pins: %s", me.Raw)
	}
	var pinID string
	for _, r := range results {
		if id := str(r.Data, "pinCustomer", "pin", "id"); id != "" {
			pinID = id
		}
	}
	for _, role := range []string{"anonymous", "other customer", "developer", "other developer"} {
		if r := w.s.Do(t, w.tokens[role], `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": pinID}); get(r.Data, "node") != nil {
			t.Errorf("%s read the pin: %s", role, r.Raw)
		}
	}
}

func TestPayoutsAndBalancesThroughTheAPI(t *testing.T) {
	w := newCommerceWorld(t)
	w.earnOldSale(t)
	balance := `query($d: ID!) { node(id: $d) { ... on Developer { balance { available { amount } onHold { amount } }
		payouts { nodes { id amount { amount } state } } } } }`
	vars := map[string]any{"d": globalIDOf("Developer", w.dev.OrgID)}
	if r := w.s.Do(t, w.tokens["developer"], balance, vars); str(r.Data, "node", "balance", "available", "amount") != "2000.00" {
		t.Fatalf("balance: %s", r.Raw)
	}
	request := `mutation($a: Decimal!, $k: String!) { requestPayout(input: {amount: $a, method: E_WALLET, idempotencyKey: $k}) {
		payout { id state amount { amount } } userErrors { code } } }`
	if r := w.s.Do(t, w.tokens["developer"], request, map[string]any{"a": "999.99", "k": "k0"}); str(r.Data, "requestPayout", "userErrors", 0, "code") != "PAYOUT_BELOW_MINIMUM" {
		t.Fatalf("below minimum: %s", r.Raw)
	}
	// 10 concurrent requests of 1,500.00: the balance covers one.
	var wg sync.WaitGroup
	ok := make([]bool, 10)
	for i := range 10 {
		wg.Go(func() {
			r := w.s.Do(t, w.tokens["developer"], request, map[string]any{"a": "1500.00", "k": "k" + string(rune('a'+i))})
			ok[i] = str(r.Data, "requestPayout", "payout", "state") == "REQUESTED"
		})
	}
	wg.Wait()
	n := 0
	for _, b := range ok {
		if b {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d payouts of 1,500.00 on a 2,000.00 balance, want 1", n)
	}
	r := w.s.Do(t, w.tokens["developer"], balance, vars)
	if str(r.Data, "node", "balance", "available", "amount") != "500.00" {
		t.Fatalf("after a payout: %s", r.Raw)
	}
	// Nobody else sees the balance or payouts, by node(id:) or otherwise.
	for _, role := range []string{"anonymous", "buyer", "other developer", "partner"} {
		r := w.s.Do(t, w.tokens[role], balance, vars)
		if get(r.Data, "node", "balance") != nil || get(r.Data, "node", "payouts") != nil {
			t.Errorf("%s read the developer's money: %s", role, r.Raw)
		}
		payoutID := str(w.s.Do(t, w.tokens["developer"], balance, vars).Data, "node", "payouts", "nodes", 0, "id")
		if r := w.s.Do(t, w.tokens[role], `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": payoutID}); get(r.Data, "node") != nil {
			t.Errorf("%s read a payout: %s", role, r.Raw)
		}
	}
	progress := w.s.Do(t, w.tokens["developer"], `query($d: ID!) { node(id: $d) { ... on Developer { statusProgress { status next missing { code } } } } }`, vars)
	if str(progress.Data, "node", "statusProgress", "status") != "BASIC" || str(progress.Data, "node", "statusProgress", "next") != "STANDARD" {
		t.Fatalf("progress: %s", progress.Raw)
	}
	if r := w.s.Do(t, w.tokens["other developer"], `query($d: ID!) { node(id: $d) { ... on Developer { statusProgress { status } } } }`, vars); get(r.Data, "node", "statusProgress") != nil {
		t.Fatalf("another developer read the progress: %s", r.Raw)
	}
}

// earnOldSale gives the world's developer 2,000.00 of earnings, older
// than the 14-day hold.
func (w *commerceWorld) earnOldSale(t *testing.T) {
	t.Helper()
	if _, err := w.s.Pool.Exec(context.Background(), `
		with p as (
			insert into payments (customer_id, configuration_id, paid_for, amount_minor, provider, provider_payment_id, received_at)
			values ($1, $2, 'purchase', 400000, 'test', 'old-1', now() - interval '20 days') returning id, received_at
		)
		insert into ledger_entries (payment_id, party, developer_id, amount_minor, currency, rate, paid_for, configuration_id, customer_id, occurred_at)
		select p.id, 'developer', $3, 200000, 'RUB', 5000, 'purchase', $2, $1, p.received_at from p
		union all select p.id, 'platform', null::uuid, 200000, 'RUB', null::integer, 'purchase', $2, $1, p.received_at from p`,
		w.buyer.OrgID, w.conf.ID, w.dev.OrgID); err != nil {
		t.Fatal(err)
	}
}
