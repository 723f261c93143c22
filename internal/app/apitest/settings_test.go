package apitest

import (
	"context"
	"testing"
	"time"

	"configmarket/internal/factory"
	"configmarket/internal/relay"
)

const settingsQuery = `{ settings { key value default min max unit description updatedAt updatedBy
	history { oldValue newValue changedAt changedBy } } }`

const updateSettingMutation = `mutation($k: String!, $v: Decimal!) { updateSetting(input: {key: $k, value: $v}) {
	setting { key value updatedBy history { oldValue newValue changedBy } } userErrors { field code message } } }`

func (w *commerceWorld) setSetting(t *testing.T, key, value string) Response {
	t.Helper()
	r := w.s.Do(t, w.tokens["admin"], updateSettingMutation, map[string]any{"k": key, "v": value})
	if r.Code() != "" || str(r.Data, "updateSetting", "setting", "value") != value {
		t.Fatalf("set %s to %s: %s", key, value, r.Raw)
	}
	return r
}

func settingOf(t *testing.T, r Response, key string) map[string]any {
	t.Helper()
	list, _ := get(r.Data, "settings").([]any)
	for _, s := range list {
		if m, _ := s.(map[string]any); str(m, "key") == key {
			return m
		}
	}
	t.Fatalf("no setting %s: %s", key, r.Raw)
	return nil
}

// SPEC's defaults, as seeded: every number SPEC calls a default.
func TestSettingsListSPECDefaults(t *testing.T) {
	w := newCommerceWorld(t)
	r := w.s.Do(t, w.tokens["admin"], settingsQuery, nil)
	if r.Code() != "" {
		t.Fatalf("settings: %s", r.Raw)
	}
	want := map[string][4]string{ // value, min, max, unit
		"payout.hold_days":             {"14", "0", "90", "DAYS"},
		"payout.minimum":               {"1000.00", "1.00", "1000000.00", "RUB"},
		"status.standard_sales":        {"5000.00", "0.00", "100000000.00", "RUB"},
		"status.premium_sales":         {"25000.00", "0.00", "100000000.00", "RUB"},
		"pin.term_days":                {"90", "1", "730", "DAYS"},
		"pin.pending_expiry_days":      {"14", "1", "90", "DAYS"},
		"rental.past_due_days":         {"7", "1", "60", "DAYS"},
		"rental.cancel_days":           {"14", "1", "90", "DAYS"},
		"access.payment_window_hours":  {"48", "1", "720", "HOURS"},
		"trial.default_days":           {"14", "0", "30", "COUNT"},
		"trial.max_days":               {"30", "0", "30", "COUNT"},
		"trial.retention_days":         {"30", "0", "365", "DAYS"},
		"login.max_account_failures":   {"10", "3", "1000", "COUNT"},
		"login.max_ip_failures":        {"50", "3", "100000", "COUNT"},
		"login.failure_window_minutes": {"15", "1", "1440", "MINUTES"},
	}
	if list, _ := get(r.Data, "settings").([]any); len(list) != len(want) {
		t.Fatalf("%d settings, want %d: %s", len(list), len(want), r.Raw)
	}
	for key, w := range want {
		s := settingOf(t, r, key)
		got := [4]string{str(s, "value"), str(s, "min"), str(s, "max"), str(s, "unit")}
		if got != w || str(s, "default") != w[0] || str(s, "description") == "" || get(s, "updatedBy") != nil || len(get(s, "history").([]any)) != 0 {
			t.Errorf("%s: %v, want value/default %s, range %s..%s %s, no history", key, s, w[0], w[1], w[2], w[3])
		}
	}
}

func TestUpdateSettingValidatesAndKeepsHistory(t *testing.T) {
	w := newCommerceWorld(t)
	refusals := []struct{ key, value, code string }{
		{"payout.hold", "7", "SETTING_UNKNOWN"},
		{"payout.hold_days", "7.5", "SETTING_INVALID"},
		{"payout.hold_days", "-1", "SETTING_OUT_OF_RANGE"},
		{"payout.hold_days", "91", "SETTING_OUT_OF_RANGE"},
		{"payout.minimum", "0.99", "SETTING_OUT_OF_RANGE"},
		{"payout.minimum", "1000.001", "SETTING_INVALID"},
		{"trial.max_days", "31", "SETTING_OUT_OF_RANGE"},
		{"trial.default_days", "31", "SETTING_OUT_OF_RANGE"},
		{"trial.max_days", "13", "SETTING_INCONSISTENT"}, // below the default, 14
		{"rental.past_due_days", "15", "SETTING_INCONSISTENT"},
		{"status.premium_sales", "4999.99", "SETTING_INCONSISTENT"},
		{"payout.hold_days", "14", "SETTING_UNCHANGED"},
	}
	for _, c := range refusals {
		r := w.s.Do(t, w.tokens["admin"], updateSettingMutation, map[string]any{"k": c.key, "v": c.value})
		if r.Code() != "" || str(r.Data, "updateSetting", "userErrors", 0, "code") != c.code || get(r.Data, "updateSetting", "setting") != nil {
			t.Errorf("%s = %s: %s, want %s", c.key, c.value, r.Raw, c.code)
		}
	}
	if n := w.s.Count(t, "settings_history"); n != 0 {
		t.Fatalf("%d history rows after refusals, want none", n)
	}
	// No one but an admin changes a setting, and the refusal writes nothing.
	for _, role := range []string{"anonymous", "buyer", "developer", "partner"} {
		r := w.s.Do(t, w.tokens[role], updateSettingMutation, map[string]any{"k": "payout.hold_days", "v": "7"})
		if code := r.Code(); code != "FORBIDDEN" && code != "UNAUTHENTICATED" || get(r.Data, "updateSetting") != nil {
			t.Errorf("%s changed a setting: %s", role, r.Raw)
		}
		if r := w.s.Do(t, w.tokens[role], settingsQuery, nil); r.Code() == "" || get(r.Data, "settings") != nil {
			t.Errorf("%s read the settings: %s", role, r.Raw)
		}
	}
	if n := w.s.Count(t, "settings_history"); n != 0 {
		t.Fatalf("%d history rows after strangers' attempts, want none", n)
	}

	w.setSetting(t, "payout.hold_days", "7")
	w.setSetting(t, "payout.minimum", "500.00")
	r := w.setSetting(t, "payout.hold_days", "10")
	admin := str(r.Data, "updateSetting", "setting", "updatedBy")
	if admin == "" || str(r.Data, "updateSetting", "setting", "history", 0, "oldValue") != "7" ||
		str(r.Data, "updateSetting", "setting", "history", 0, "newValue") != "10" ||
		str(r.Data, "updateSetting", "setting", "history", 1, "oldValue") != "14" ||
		str(r.Data, "updateSetting", "setting", "history", 0, "changedBy") != admin {
		t.Fatalf("history: %s", r.Raw)
	}
	list := w.s.Do(t, w.tokens["admin"], settingsQuery, nil)
	if s := settingOf(t, list, "payout.minimum"); str(s, "value") != "500.00" || str(s, "default") != "1000.00" ||
		str(s, "history", 0, "oldValue") != "1000.00" || str(s, "updatedBy") != admin {
		t.Fatalf("minimum after its change: %v", s)
	}
	audit := w.s.Do(t, w.tokens["admin"], `{ auditLog(first: 1, filter: {action: "updateSetting"}) { nodes { actor result target } } }`, nil)
	if str(audit.Data, "auditLog", "nodes", 0, "target") != relay.ID(relay.TypeSetting, "payout.hold_days") ||
		str(audit.Data, "auditLog", "nodes", 0, "actor") != admin || str(audit.Data, "auditLog", "nodes", 0, "result") != "ok" {
		t.Fatalf("audit: %s", audit.Raw)
	}
}

// earn gives the world's developer amount kopecks of earnings paid age ago.
func (w *commerceWorld) earn(t *testing.T, ref string, amount int64, age time.Duration) {
	t.Helper()
	if _, err := w.s.Pool.Exec(context.Background(), `
		with p as (
			insert into payments (customer_id, configuration_id, paid_for, amount_minor, provider, provider_payment_id, received_at)
			values ($1, $2, 'purchase', $4 * 2, 'test', $5, $6) returning id, received_at
		)
		insert into ledger_entries (payment_id, party, developer_id, amount_minor, currency, rate, paid_for, configuration_id, customer_id, occurred_at)
		select p.id, 'developer', $3, $4, 'RUB', 5000, 'purchase', $2, $1, p.received_at from p
		union all select p.id, 'platform', null::uuid, $4, 'RUB', null::integer, 'purchase', $2, $1, p.received_at from p`,
		w.buyer.OrgID, w.conf.ID, w.dev.OrgID, amount, ref, w.s.Clock.Now().Add(-age)); err != nil {
		t.Fatal(err)
	}
}

const requestPayoutMutation = `mutation($a: Decimal!, $k: String!) { requestPayout(input: {amount: $a, method: E_WALLET, idempotencyKey: $k}) {
	payout { state amount { amount } } userErrors { code } } }`

// SPEC §8's hold is 14 days: earnings of 10 days ago cannot be paid out;
// an admin shortens the hold to 7 and the same request goes through.
func TestHoldChangeMakesARefusedPayoutPossible(t *testing.T) {
	w := newCommerceWorld(t)
	w.earn(t, "ten-days", 200000, 10*24*time.Hour)
	balance := `query($d: ID!) { node(id: $d) { ... on Developer { balance { available { amount } onHold { amount } } } } }`
	vars := map[string]any{"d": globalIDOf("Developer", w.dev.OrgID)}
	if r := w.s.Do(t, w.tokens["developer"], balance, vars); str(r.Data, "node", "balance", "available", "amount") != "0.00" ||
		str(r.Data, "node", "balance", "onHold", "amount") != "2000.00" {
		t.Fatalf("balance under the 14-day hold: %s", r.Raw)
	}
	if r := w.s.Do(t, w.tokens["developer"], requestPayoutMutation, map[string]any{"a": "1500.00", "k": "hold-1"}); str(r.Data, "requestPayout", "userErrors", 0, "code") != "INSUFFICIENT_BALANCE" {
		t.Fatalf("payout under the 14-day hold: %s", r.Raw)
	}
	w.setSetting(t, "payout.hold_days", "7")
	if r := w.s.Do(t, w.tokens["developer"], balance, vars); str(r.Data, "node", "balance", "available", "amount") != "2000.00" {
		t.Fatalf("balance under a 7-day hold: %s", r.Raw)
	}
	if r := w.s.Do(t, w.tokens["developer"], requestPayoutMutation, map[string]any{"a": "1500.00", "k": "hold-2"}); str(r.Data, "requestPayout", "payout", "state") != "REQUESTED" {
		t.Fatalf("payout under a 7-day hold: %s", r.Raw)
	}
	// Back to 14: the payout made stays, and the rest is held again.
	w.setSetting(t, "payout.hold_days", "14")
	if r := w.s.Do(t, w.tokens["developer"], requestPayoutMutation, map[string]any{"a": "1.00", "k": "hold-3"}); str(r.Data, "requestPayout", "userErrors", 0, "code") != "PAYOUT_BELOW_MINIMUM" {
		t.Fatalf("below the minimum: %s", r.Raw)
	}
	if r := w.s.Do(t, w.tokens["developer"], balance, vars); str(r.Data, "node", "balance", "available", "amount") != "-1500.00" {
		t.Fatalf("balance back under the 14-day hold: %s", r.Raw)
	}
}

// SPEC §8's minimum payout is 1,000.00: an admin lowers it to 500.00 and a
// request of 500.00 refused before goes through; raised to 2,000.00, a
// request of 1,000.00 is refused.
func TestMinimumPayoutChangeApplies(t *testing.T) {
	w := newCommerceWorld(t)
	w.earn(t, "old", 300000, 20*24*time.Hour)
	if r := w.s.Do(t, w.tokens["developer"], requestPayoutMutation, map[string]any{"a": "500.00", "k": "min-1"}); str(r.Data, "requestPayout", "userErrors", 0, "code") != "PAYOUT_BELOW_MINIMUM" {
		t.Fatalf("500.00 under the 1,000.00 minimum: %s", r.Raw)
	}
	w.setSetting(t, "payout.minimum", "500.00")
	if r := w.s.Do(t, w.tokens["developer"], requestPayoutMutation, map[string]any{"a": "500.00", "k": "min-2"}); str(r.Data, "requestPayout", "payout", "state") != "REQUESTED" {
		t.Fatalf("500.00 under a 500.00 minimum: %s", r.Raw)
	}
	w.setSetting(t, "payout.minimum", "2000.00")
	if r := w.s.Do(t, w.tokens["developer"], requestPayoutMutation, map[string]any{"a": "1000.00", "k": "min-3"}); str(r.Data, "requestPayout", "userErrors", 0, "code") != "PAYOUT_BELOW_MINIMUM" {
		t.Fatalf("1,000.00 under a 2,000.00 minimum: %s", r.Raw)
	}
}

// SPEC §4: a renewal unpaid 7 days after its period start makes the rental
// past due. Five days in, the rental is still active; an admin shortens the
// dunning to 5 days and the next billing run marks it past due; and the
// cancellation follows the changed cancel days, not 14.
func TestDunningDaysChangeApplies(t *testing.T) {
	w := newCommerceWorld(t)
	w.payRent(t)
	state := func() (string, string) {
		r := w.s.Do(t, w.tokens["buyer"], `{ viewer { customer { installations { nodes { state currentPeriodEnd } } } } }`, nil)
		return str(r.Data, "viewer", "customer", "installations", "nodes", 0, "state"),
			str(r.Data, "viewer", "customer", "installations", "nodes", 0, "currentPeriodEnd")
	}
	bill := func() {
		t.Helper()
		if _, err := w.s.Commerce.RunBilling(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	st, end := state()
	periodEnd, err := time.Parse(time.RFC3339, end)
	if st != "ACTIVE" || err != nil {
		t.Fatalf("after the first payment: %s %s", st, end)
	}
	// The renewal is issued at the period's end and left unpaid.
	w.s.Clock.Advance(periodEnd.Sub(w.s.Clock.Now()) + time.Hour)
	bill()
	w.s.Clock.Advance(5 * 24 * time.Hour)
	bill()
	if st, _ := state(); st != "ACTIVE" {
		t.Fatalf("5 days unpaid under 7 dunning days: %s", st)
	}
	w.setSetting(t, "rental.past_due_days", "5")
	bill()
	if st, _ := state(); st != "PAST_DUE" {
		t.Fatalf("5 days unpaid under 5 dunning days: %s", st)
	}
	w.setSetting(t, "rental.cancel_days", "6")
	bill()
	if st, _ := state(); st != "PAST_DUE" {
		t.Fatalf("5 days unpaid under 6 cancel days: %s", st)
	}
	w.s.Clock.Advance(24 * time.Hour)
	bill()
	if st, _ := state(); st != "CANCELED" {
		t.Fatalf("6 days unpaid under 6 cancel days: %s", st)
	}
}

// SPEC §2: trial days are at most 30; an admin lowers the maximum to 10
// and 20 days, allowed before, are refused; a new configuration's trials
// follow trial.default_days.
func TestTrialLimitChangeApplies(t *testing.T) {
	w := newCommerceWorld(t)
	update := `mutation($id: ID!, $d: Int!) { updateConfiguration(input: {id: $id, trialDays: $d}) { configuration { trialDays } userErrors { code } } }`
	vars := map[string]any{"id": globalIDOf("Configuration", w.conf.ID), "d": 20}
	if r := w.s.Do(t, w.tokens["developer"], update, vars); get(r.Data, "updateConfiguration", "configuration", "trialDays") != float64(20) {
		t.Fatalf("20 trial days under a 30-day maximum: %s", r.Raw)
	}
	w.setSetting(t, "trial.default_days", "7")
	w.setSetting(t, "trial.max_days", "10")
	if r := w.s.Do(t, w.tokens["developer"], update, vars); str(r.Data, "updateConfiguration", "userErrors", 0, "code") != "TRIAL_DAYS_INVALID" {
		t.Fatalf("20 trial days under a 10-day maximum: %s", r.Raw)
	}
	create := `mutation { createConfiguration(input: {slug: "short-trials", title: "Short trials", summary: "s", description: "d"}) {
		configuration { trialDays } userErrors { code } } }`
	if r := w.s.Do(t, w.tokens["developer"], create, nil); get(r.Data, "createConfiguration", "configuration", "trialDays") != float64(7) {
		t.Fatalf("a new configuration under a 7-day default: %s", r.Raw)
	}
}

// SPEC §7: a pin lasts 90 days; an admin makes it 30 and the next pin
// lasts 30.
func TestPinTermChangeApplies(t *testing.T) {
	w := newCommerceWorld(t)
	pin := `mutation($c: String!) { pinCustomer(input: {crmAccountId: $c}) { pin { state startsAt expiresAt } userErrors { code } } }`
	days := func(r Response) float64 {
		starts, _ := time.Parse(time.RFC3339, str(r.Data, "pinCustomer", "pin", "startsAt"))
		expires, _ := time.Parse(time.RFC3339, str(r.Data, "pinCustomer", "pin", "expiresAt"))
		return expires.Sub(starts).Hours() / 24
	}
	if r := w.s.Do(t, w.tokens["partner"], pin, map[string]any{"c": w.other.CRMAccountID}); days(r) != 90 {
		t.Fatalf("pin under the 90-day term: %s", r.Raw)
	}
	w.setSetting(t, "pin.term_days", "30")
	third := factory.Customer(t, w.s.Store)
	if r := w.s.Do(t, w.tokens["partner"], pin, map[string]any{"c": third.CRMAccountID}); days(r) != 30 {
		t.Fatalf("pin under a 30-day term: %s", r.Raw)
	}
}

// SPEC §7: a paying customer has 14 days to answer a pin request; an admin
// makes it 1 day, and a request 2 days old can no longer be confirmed.
func TestPendingPinExpiryChangeApplies(t *testing.T) {
	w := newCommerceWorld(t)
	w.payRent(t) // a paying customer's pin waits for its yes
	r := w.s.Do(t, w.tokens["partner"], `mutation($c: String!) { pinCustomer(input: {crmAccountId: $c}) { pin { id state } userErrors { code } } }`,
		map[string]any{"c": w.buyer.CRMAccountID})
	pin := str(r.Data, "pinCustomer", "pin", "id")
	if str(r.Data, "pinCustomer", "pin", "state") != "PENDING" {
		t.Fatalf("pin of a paying customer: %s", r.Raw)
	}
	w.s.Clock.Advance(2 * 24 * time.Hour)
	w.setSetting(t, "pin.pending_expiry_days", "1")
	// PIN_NOT_PENDING is not in the schema's codes: FAILED_PRECONDITION.
	confirm := w.s.Do(t, w.tokens["buyer"], `mutation($id: ID!) { confirmPin(input: {id: $id}) { pin { state } userErrors { code message } } }`, map[string]any{"id": pin})
	if str(confirm.Data, "confirmPin", "userErrors", 0, "code") != "FAILED_PRECONDITION" || str(confirm.Data, "confirmPin", "userErrors", 0, "message") != "only a pending pin can be confirmed" {
		t.Fatalf("confirming a 2-day-old request under a 1-day expiry: %s", confirm.Raw)
	}
}

// SPEC §4: a new rental's first invoice waits 48 hours; an admin makes it 2.
func TestPaymentWindowChangeApplies(t *testing.T) {
	w := newCommerceWorld(t)
	rent := `mutation($c: ID!, $k: String!) { rentConfiguration(input: {configurationId: $c, idempotencyKey: $k}) {
		invoice { issuedAt expiresAt } userErrors { code } } }`
	window := func(token string) time.Duration {
		t.Helper()
		r := w.s.Do(t, token, rent, map[string]any{"c": globalIDOf("Configuration", w.conf.ID), "k": "window"})
		issued, err1 := time.Parse(time.RFC3339, str(r.Data, "rentConfiguration", "invoice", "issuedAt"))
		expires, err2 := time.Parse(time.RFC3339, str(r.Data, "rentConfiguration", "invoice", "expiresAt"))
		if err1 != nil || err2 != nil {
			t.Fatalf("rent: %s", r.Raw)
		}
		return expires.Sub(issued).Round(time.Minute)
	}
	if got := window(w.tokens["other customer"]); got != 48*time.Hour {
		t.Fatalf("window %v, want 48h", got)
	}
	w.setSetting(t, "access.payment_window_hours", "2")
	if got := window(w.tokens["buyer"]); got != 2*time.Hour {
		t.Fatalf("window %v, want 2h", got)
	}
}

// SPEC §9: an account is locked out after 10 failed logins; an admin
// makes it 3.
func TestLoginLockoutLimitChangeApplies(t *testing.T) {
	w := newCommerceWorld(t)
	logIn := func(a factory.Account, pw string) string {
		res := w.s.Do(t, "", logInMutation, map[string]any{"input": map[string]any{"email": a.Email, "password": pw}})
		if res.Code() != "" {
			return str(res.Errors[0].Extensions, "reason")
		}
		if code := str(res.Data, "logIn", "userErrors", 0, "code"); code != "" {
			return code
		}
		return "ok"
	}
	early, late := factory.Customer(t, w.s.Store), factory.Customer(t, w.s.Store)
	for range 3 {
		logIn(early, "wrong password")
	}
	if got := logIn(early, factory.Password); got != "ok" {
		t.Fatalf("after 3 failures under a limit of 10: %s", got)
	}
	w.setSetting(t, "login.max_account_failures", "3")
	for range 3 {
		logIn(late, "wrong password")
	}
	if got := logIn(late, factory.Password); got != "LOGIN_LOCKED" {
		t.Fatalf("after 3 failures under a limit of 3: %s", got)
	}
}
