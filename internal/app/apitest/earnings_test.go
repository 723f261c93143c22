package apitest

import (
	"context"
	"strings"
	"testing"
	"time"
)

// SPEC §5's example through the API: a premium developer who supports its
// customers, a 500.00 rent on plan B, a customer pinned by a dealer.
func TestSplitOfARentPaymentThroughTheAPI(t *testing.T) {
	w := newCommerceWorld(t)
	ctx := context.Background()
	dealer, dealerToken := w.premiumDeveloperAndDealer(t)
	paymentID := w.payRent(t)

	month := time.Now().UTC().Format(time.RFC3339)
	devQuery := `query($d: ID!, $m: DateTime!) { node(id: $d) { ... on Developer {
		earnings { nodes { amount { amount } rate party reversal paidFor } }
		earningsTotals(groupBy: CONFIGURATION) { label gross { amount } share { amount } }
		statement(month: $m) { share { amount } gross { amount } entries { amount { amount } } } } } }`
	partnerQuery := `query($p: ID!, $m: DateTime!) { node(id: $p) { ... on Partner {
		commissions { nodes { amount { amount } rate } }
		commissionTotals(groupBy: CUSTOMER) { label share { amount } gross { amount } }
		statement(month: $m) { share { amount } } } } }`
	devVars := map[string]any{"d": globalIDOf("Developer", w.dev.OrgID), "m": month}
	partnerVars := map[string]any{"p": globalIDOf("Partner", dealer.OrgID), "m": month}

	dev := w.s.Do(t, w.tokens["developer"], devQuery, devVars)
	if str(dev.Data, "node", "earnings", "nodes", 0, "amount", "amount") != "375.00" || str(dev.Data, "node", "earnings", "nodes", 0, "rate") != "75%" ||
		str(dev.Data, "node", "statement", "share", "amount") != "375.00" || str(dev.Data, "node", "earningsTotals", 0, "gross", "amount") != "500.00" {
		t.Fatalf("developer earnings: %s", dev.Raw)
	}
	partner := w.s.Do(t, dealerToken, partnerQuery, partnerVars)
	if str(partner.Data, "node", "commissions", "nodes", 0, "amount", "amount") != "31.25" || str(partner.Data, "node", "commissions", "nodes", 0, "rate") != "25%" ||
		str(partner.Data, "node", "commissionTotals", 0, "share", "amount") != "31.25" {
		t.Fatalf("partner commissions: %s", partner.Raw)
	}
	var platform int64
	if err := w.s.Pool.QueryRow(ctx, `select amount_minor from ledger_entries where party = 'platform'`).Scan(&platform); err != nil || platform != 9375 {
		t.Fatalf("platform entry %d (err %v), want 93.75", platform, err)
	}

	// Nobody else reads them, through node(id:) or nested fields.
	for _, role := range []string{"anonymous", "buyer", "other customer", "other developer", "partner"} {
		d := w.s.Do(t, w.tokens[role], devQuery, devVars)
		if get(d.Data, "node", "earnings") != nil || get(d.Data, "node", "statement") != nil {
			t.Errorf("%s read the developer's earnings: %s", role, d.Raw)
		}
		p := w.s.Do(t, w.tokens[role], partnerQuery, partnerVars)
		if get(p.Data, "node") != nil {
			t.Errorf("%s read the partner: %s", role, p.Raw)
		}
	}
	// Refund everything: every share is reversed exactly.
	refund := w.s.Do(t, w.tokens["admin"], `mutation($p: ID!) { refundPayment(input: {paymentId: $p, amount: "500.00", reason: "test", idempotencyKey: "r-1"}) {
		userErrors { code } } }`, map[string]any{"p": paymentID})
	if refund.Code() != "" || len(get(refund.Data, "refundPayment", "userErrors").([]any)) != 0 {
		t.Fatalf("refund: %s", refund.Raw)
	}
	var remaining int64
	if err := w.s.Pool.QueryRow(ctx, `select coalesce(sum(abs(s)), 0) from (select sum(amount_minor) s from ledger_entries group by party) t`).Scan(&remaining); err != nil || remaining != 0 {
		t.Fatalf("after a full refund the parties hold %d (err %v), want 0 each", remaining, err)
	}
}

func TestRatesThroughTheAPI(t *testing.T) {
	w := newCommerceWorld(t)
	res := w.s.Do(t, w.tokens["developer"], `{ rates { developer { status supportMode rate } partner { status paidFor rate } } }`, nil)
	if len(get(res.Data, "rates", "developer").([]any)) != 6 || len(get(res.Data, "rates", "partner").([]any)) != 12 {
		t.Fatalf("rates: %s", res.Raw)
	}
	set := `mutation { setDeveloperRate(input: {status: PREMIUM, supportMode: DEVELOPER, rate: "80"}) { userErrors { code } rates { developer { status supportMode rate } } } }`
	if r := w.s.Do(t, w.tokens["developer"], set, nil); r.Code() != "FORBIDDEN" {
		t.Fatalf("developer set a rate: %s", r.Raw)
	}
	if r := w.s.Do(t, w.tokens["admin"], set, nil); r.Code() != "" || len(get(r.Data, "setDeveloperRate", "userErrors").([]any)) != 0 {
		t.Fatalf("admin set a rate: %s", r.Raw)
	}
	if r := w.s.Do(t, w.tokens["admin"], `{ rateHistory { developer { rate } } }`, nil); len(get(r.Data, "rateHistory", "developer").([]any)) != 7 {
		t.Fatalf("history: %s", r.Raw)
	}
}

// A dashboard's totals by several groupings cost one statement, however
// many groupings it asks for, and each grouping's rows are its own.
func TestTotalsByGroupingsShareOneStatement(t *testing.T) {
	w := newCommerceWorld(t)
	dealer, dealerToken := w.premiumDeveloperAndDealer(t)
	w.payRent(t)
	vars := map[string]any{"p": globalIDOf("Partner", dealer.OrgID)}
	statements := func(query string) (int64, Response) {
		before := w.s.Counter.Count()
		r := w.s.Do(t, dealerToken, query, vars)
		return w.s.Counter.Count() - before, r
	}
	one, _ := statements(`query($p: ID!) { node(id: $p) { ... on Partner {
		byMonth: commissionTotals(groupBy: MONTH) { key share { amount } } } } }`)
	four, r := statements(`query($p: ID!) { node(id: $p) { ... on Partner {
		byMonth: commissionTotals(groupBy: MONTH) { key share { amount } }
		byPaidFor: commissionTotals(groupBy: PAID_FOR) { key share { amount } gross { amount } }
		byCustomer: commissionTotals(groupBy: CUSTOMER) { label share { amount } }
		byConfiguration: commissionTotals(groupBy: CONFIGURATION) { label share { amount } } } } }`)
	if four != one {
		t.Fatalf("four groupings took %d statements, one took %d", four, one)
	}
	month := time.Now().UTC().Format("2006-01")
	if !strings.HasPrefix(str(r.Data, "node", "byMonth", 0, "key"), month) || str(r.Data, "node", "byPaidFor", 0, "key") != "rent" ||
		str(r.Data, "node", "byPaidFor", 0, "gross", "amount") != "500.00" || str(r.Data, "node", "byCustomer", 0, "share", "amount") != "31.25" ||
		str(r.Data, "node", "byConfiguration", 0, "label") != w.conf.Title || len(get(r.Data, "node", "byMonth").([]any)) != 1 {
		t.Fatalf("totals: %s", r.Raw)
	}
}
