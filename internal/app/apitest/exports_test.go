package apitest

import (
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"configmarket/internal/money"
)

// exportCSV fetches path with token and parses its RFC 4180 body.
func (w *commerceWorld) exportCSV(t *testing.T, token, path string) (rawResponse, [][]string) {
	t.Helper()
	headers := map[string]string{}
	if token != "" {
		headers["Authorization"] = "Bearer " + token
	}
	res := w.s.raw(t, "GET", path, "", "", headers)
	if res.status != 200 {
		return res, nil
	}
	if !strings.Contains(res.body, "\r\n") {
		t.Fatalf("%s: rows not CRLF-terminated (RFC 4180): %q", path, res.body)
	}
	rows, err := csv.NewReader(strings.NewReader(res.body)).ReadAll()
	if err != nil {
		t.Fatalf("%s: not CSV: %v\n%s", path, err, res.body)
	}
	return res, rows
}

// column is the index of name in a CSV header row.
func column(t *testing.T, header []string, name string) int {
	t.Helper()
	for i, h := range header {
		if h == name {
			return i
		}
	}
	t.Fatalf("no column %q in %v", name, header)
	return -1
}

// A month's CSV sums to the statement's share to the kopeck, a refund
// included; the ledger and payouts exports carry the same money; an admin
// exports any party by naming it; nobody else exports anything.
func TestExportsSumToTheStatement(t *testing.T) {
	w := newCommerceWorld(t)
	dealer, dealerToken := w.premiumDeveloperAndDealer(t)
	paymentID := w.payRent(t)
	if r := w.s.Do(t, w.tokens["admin"], `mutation($p: ID!) { refundPayment(input: {paymentId: $p, amount: "123.45", reason: "partly", idempotencyKey: "r-x"}) {
		userErrors { code } } }`, map[string]any{"p": paymentID}); r.Code() != "" || len(get(r.Data, "refundPayment", "userErrors").([]any)) != 0 {
		t.Fatalf("refund: %s", r.Raw)
	}
	// A payout requested from older earnings, for the payouts export.
	w.earnOldSale(t)
	if r := w.s.Do(t, w.tokens["developer"], `mutation { requestPayout(input: {amount: "1500.00", method: BANK_ACCOUNT, idempotencyKey: "x1"}) { userErrors { code } } }`, nil); len(get(r.Data, "requestPayout", "userErrors").([]any)) != 0 {
		t.Fatalf("payout: %s", r.Raw)
	}

	now := time.Now().UTC()
	month := now.Format("2006-01")
	statement := w.s.Do(t, w.tokens["developer"], `query($d: ID!, $m: DateTime!) { node(id: $d) { ... on Developer {
		statement(month: $m) { share { amount } entries { amount { amount } } } } } }`,
		map[string]any{"d": globalIDOf("Developer", w.dev.OrgID), "m": now.Format(time.RFC3339)})
	share := str(statement.Data, "node", "statement", "share", "amount")
	entries := len(get(statement.Data, "node", "statement", "entries").([]any))
	if share == "" || entries < 2 {
		t.Fatalf("statement: %s", statement.Raw)
	}

	sum := func(rows [][]string) string {
		t.Helper()
		at := column(t, rows[0], "amount")
		total := money.New(0, "RUB")
		for _, r := range rows[1:] {
			m, err := money.Parse(r[at], r[column(t, rows[0], "currency")])
			if err != nil {
				t.Fatalf("amount %q: %v", r[at], err)
			}
			if total, err = total.Add(m); err != nil {
				t.Fatal(err)
			}
		}
		return total.Amount()
	}
	res, rows := w.exportCSV(t, w.tokens["developer"], "/exports/statements/"+month+".csv")
	if res.status != 200 || len(rows)-1 != entries || sum(rows) != share {
		t.Fatalf("statement export (%d rows, status %d) sums to %v, the statement's share is %s with %d entries:\n%s", len(rows), res.status, rows, share, entries, res.body)
	}
	if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") || !strings.Contains(res.header.Get("Content-Disposition"), "statement-"+month+".csv") {
		t.Fatalf("headers: %v", res.header)
	}
	if reversal := rows[1:]; reversal[0][column(t, rows[0], "reversal")] != "true" {
		t.Fatalf("the newest entry is the refund's reversal: %v", rows)
	}
	// The ledger export over the same month carries the same rows; over
	// all time it adds the old earnings.
	from, to := month+"-01", now.AddDate(0, 1, 0).Format("2006-01")+"-01"
	if _, ledger := w.exportCSV(t, w.tokens["developer"], "/exports/ledger.csv?from="+from+"&to="+to); len(ledger) != len(rows) || sum(ledger) != share {
		t.Fatalf("ledger export of the month: %v", ledger)
	}
	if _, all := w.exportCSV(t, w.tokens["developer"], "/exports/ledger.csv"); len(all) != len(rows)+1 {
		t.Fatalf("ledger export of all time: %v", all)
	}
	_, payouts := w.exportCSV(t, w.tokens["developer"], "/exports/payouts.csv")
	if len(payouts) != 2 || payouts[1][column(t, payouts[0], "amount")] != "1500.00" || payouts[1][column(t, payouts[0], "state")] != "requested" {
		t.Fatalf("payouts export: %v", payouts)
	}
	// An accountant's script exports with an API token of the developer
	// role instead of a session, until the token is revoked.
	secret, tokenID := w.s.newAPIToken(t, w.tokens["developer"], "DEVELOPER")
	if _, byToken := w.exportCSV(t, secret, "/exports/statements/"+month+".csv"); len(byToken) != len(rows) || sum(byToken) != share {
		t.Fatalf("export with an API token: %v", byToken)
	}
	w.s.Do(t, w.tokens["developer"], revokeAPIToken, map[string]any{"id": tokenID})
	if res, _ := w.exportCSV(t, secret, "/exports/statements/"+month+".csv"); res.status != 401 {
		t.Fatalf("export with a revoked API token: %d %s", res.status, res.body)
	}
	// The partner's own commissions; an admin names either party.
	if _, p := w.exportCSV(t, dealerToken, "/exports/statements/"+month+".csv"); len(p) < 2 {
		t.Fatalf("partner's statement export: %v", p)
	}
	if _, a := w.exportCSV(t, w.tokens["admin"], "/exports/statements/"+month+".csv?developer="+globalIDOf("Developer", w.dev.OrgID)); len(a) != len(rows) || sum(a) != share {
		t.Fatalf("admin's export of the developer: %v", a)
	}
	if _, a := w.exportCSV(t, w.tokens["admin"], "/exports/payouts.csv?partner="+globalIDOf("Partner", dealer.OrgID)); len(a) != 1 {
		t.Fatalf("admin's export of the partner's payouts (none): %v", a)
	}

	// Refusals, with their status and code, and never a row: a stranger
	// gets 404, as for a package it may not read.
	for _, c := range []struct {
		who, token, path string
		status           int
		code             string
	}{
		{"anonymous", "", "/exports/payouts.csv", 401, "UNAUTHENTICATED"},
		{"a forged token", "not-a-token", "/exports/payouts.csv", 401, "UNAUTHENTICATED"},
		{"the buyer", w.tokens["buyer"], "/exports/ledger.csv", 404, "FORBIDDEN"},
		{"another developer", w.tokens["other developer"], "/exports/ledger.csv?developer=" + globalIDOf("Developer", w.dev.OrgID), 404, "FORBIDDEN"},
		{"another partner", w.tokens["partner"], "/exports/payouts.csv?partner=" + globalIDOf("Partner", dealer.OrgID), 404, "FORBIDDEN"},
		{"the developer naming a partner", w.tokens["developer"], "/exports/payouts.csv?partner=" + globalIDOf("Partner", dealer.OrgID), 404, "FORBIDDEN"},
		{"an admin naming nobody", w.tokens["admin"], "/exports/payouts.csv", 400, "BAD_USER_INPUT"},
		{"an admin naming a customer", w.tokens["admin"], "/exports/payouts.csv?developer=" + globalIDOf("Customer", w.buyer.OrgID), 400, "BAD_USER_INPUT"},
		{"a bad month", w.tokens["developer"], "/exports/statements/2026-13.csv", 400, "BAD_USER_INPUT"},
		{"a bad bound", w.tokens["developer"], "/exports/ledger.csv?from=yesterday", 400, "BAD_USER_INPUT"},
		{"bounds the wrong way", w.tokens["developer"], "/exports/ledger.csv?from=" + to + "&to=" + from, 400, "BAD_USER_INPUT"},
	} {
		res, rows := w.exportCSV(t, c.token, c.path)
		if res.status != c.status || !strings.Contains(res.body, `"code":"`+c.code+`"`) || rows != nil {
			t.Errorf("%s: %s → %d %s, want %d %s", c.who, c.path, res.status, res.body, c.status, c.code)
		}
	}
}
