package apitest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"configmarket/graph"
	"configmarket/internal/earnings"
	"configmarket/internal/factory"
	"configmarket/internal/identity"
	"configmarket/internal/relay"
	"configmarket/internal/store"
)

// auditWorld is one server with the accounts every audit case starts from;
// a case makes its own customers, configurations and pins, so the cases do
// not depend on each other.
type auditWorld struct {
	s       *Server
	admin   string
	dev     factory.Account
	devTok  string
	partner string
	// conf is published, rented at 500.00 and sold at 35,000.00.
	conf store.Configuration
	// minor numbers the new versions of conf (its first is 1.0.0).
	minor int
}

// nextVersion is a version number above every earlier one of conf.
func (w *auditWorld) nextVersion() string {
	w.minor++
	return fmt.Sprintf("1.%d.0", w.minor)
}

func newAuditWorld(t *testing.T) *auditWorld {
	t.Helper()
	s := New(t)
	w := &auditWorld{s: s, dev: factory.Developer(t, s.Store)}
	w.admin, _ = s.LogIn(t, factory.Admin(t, s.Store), nil)
	w.devTok, _ = s.LogIn(t, w.dev, nil)
	w.partner, _ = s.LogIn(t, factory.Partner(t, s.Store), nil)
	w.conf = factory.Configuration(t, s.Store, w.dev.OrgID, factory.ConfigurationOptions{SaleMinor: 3_500_000})
	if _, err := s.Pool.Exec(context.Background(), `insert into categories (slug, name, position) values ('sales', 'Sales', 1)`); err != nil {
		t.Fatal(err)
	}
	return w
}

// mutation is the document of a root mutation taking one input of
// inputType ("" for none) and selecting sel besides its user errors.
func mutation(field, inputType, sel string) string {
	if inputType == "" {
		return fmt.Sprintf(`mutation { %s { %s userErrors { field code message } } }`, field, sel)
	}
	return fmt.Sprintf(`mutation($input: %s) { %s(input: $input) { %s userErrors { field code message } } }`, inputType, field, sel)
}

// mutate runs a mutation that must succeed and returns its payload.
func (w *auditWorld) mutate(t *testing.T, token, field, inputType, sel string, input map[string]any) map[string]any {
	t.Helper()
	var vars map[string]any
	if input != nil {
		vars = map[string]any{"input": input}
	}
	res := w.s.Do(t, token, mutation(field, inputType, sel), vars)
	p, _ := get(res.Data, field).(map[string]any)
	if ues, _ := get(p, "userErrors").([]any); res.Code() != "" || p == nil || len(ues) > 0 {
		t.Fatalf("%s: %s", field, res.Raw)
	}
	return p
}

// customer is a new customer company and its logged-in user.
func (w *auditWorld) customer(t *testing.T) (factory.Account, string) {
	t.Helper()
	c := factory.Customer(t, w.s.Store)
	tok, _ := w.s.LogIn(t, c, nil)
	return c, tok
}

// rent rents the world's configuration for a new customer and returns the
// installation and invoice.
func (w *auditWorld) rent(t *testing.T, tok string) (installation, invoice string) {
	t.Helper()
	p := w.mutate(t, tok, "rentConfiguration", "ChargeInput!", "installation { id } invoice { id }",
		map[string]any{"configurationId": globalIDOf("Configuration", w.conf.ID), "idempotencyKey": uuid.NewString()})
	return str(p, "installation", "id"), str(p, "invoice", "id")
}

// pay records the 500.00 payment of a rent invoice and returns the payment.
func (w *auditWorld) pay(t *testing.T, invoice string) string {
	t.Helper()
	p := w.mutate(t, w.admin, "recordPayment", "RecordPaymentInput!", "payment { id }",
		map[string]any{"invoiceId": invoice, "amount": "500.00", "reference": "bank " + uuid.NewString()[:8], "idempotencyKey": uuid.NewString()})
	return str(p, "payment", "id")
}

// pin has the world's partner pin a customer (by a CRM account id it is
// given here) and returns the pin: active for a customer that never paid,
// pending for one that did.
func (w *auditWorld) pin(t *testing.T, c factory.Account) string {
	t.Helper()
	crm := "crm-" + uuid.NewString()
	if _, err := w.s.Pool.Exec(context.Background(), `update customers set crm_account_id = $2 where id = $1`, c.OrgID, crm); err != nil {
		t.Fatal(err)
	}
	p := w.mutate(t, w.partner, "pinCustomer", "PinCustomerInput!", "pin { id }", map[string]any{"crmAccountId": crm})
	return str(p, "pin", "id")
}

// requestPayout gives a new developer 2,000.00 of matured earnings and has
// it ask for 1,500.00 of them; it returns the payout and the request's
// variables and token, to replay it.
func (w *auditWorld) requestPayout(t *testing.T) (payout string, input map[string]any, tok string) {
	t.Helper()
	dev := factory.Developer(t, w.s.Store)
	conf := factory.Configuration(t, w.s.Store, dev.OrgID, factory.ConfigurationOptions{SaleMinor: 400_000})
	buyer := factory.Customer(t, w.s.Store)
	if _, err := w.s.Pool.Exec(context.Background(), `
		with p as (
			insert into payments (customer_id, configuration_id, paid_for, amount_minor, provider, provider_payment_id, received_at)
			values ($1, $2, 'purchase', 400000, 'test', $4, now() - interval '20 days') returning id, received_at
		)
		insert into ledger_entries (payment_id, party, developer_id, amount_minor, currency, rate, paid_for, configuration_id, customer_id, occurred_at)
		select p.id, 'developer', $3, 200000, 'RUB', 5000, 'purchase', $2, $1, p.received_at from p
		union all select p.id, 'platform', null::uuid, 200000, 'RUB', null::integer, 'purchase', $2, $1, p.received_at from p`,
		buyer.OrgID, conf.ID, dev.OrgID, "old-"+uuid.NewString()); err != nil {
		t.Fatal(err)
	}
	tok, _ = w.s.LogIn(t, dev, nil)
	input = map[string]any{"amount": "1500.00", "method": "E_WALLET", "idempotencyKey": uuid.NewString()}
	p := w.mutate(t, tok, "requestPayout", "RequestPayoutInput!", "payout { id }", input)
	return str(p, "payout", "id"), input, tok
}

// submittedVersion is a new version 2.0.0 of a new published configuration
// of the world's developer, sent to moderation.
func (w *auditWorld) submittedVersion(t *testing.T) string {
	t.Helper()
	conf := factory.Configuration(t, w.s.Store, w.dev.OrgID, factory.ConfigurationOptions{})
	confID := globalIDOf("Configuration", conf.ID)
	w.mutate(t, w.devTok, "updateConfiguration", "UpdateConfigurationInput!", "configuration { id }", map[string]any{"id": confID, "category": "sales"})
	v := w.mutate(t, w.devTok, "createVersion", "CreateVersionInput!", "version { id }",
		map[string]any{"configurationId": confID, "number": "2.0.0", "changelog": "Faster"})
	id := str(v, "version", "id")
	w.s.uploadPackage(t, w.devTok, id)
	w.mutate(t, w.devTok, "submitVersion", "VersionIdInput!", "version { id }", map[string]any{"id": id})
	return id
}

// providerEvent sends the payment provider's signed event and fails
// unless it is taken (applied or kept).
func (w *auditWorld) providerEvent(t *testing.T, typ string, data map[string]any) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"id": "evt_" + uuid.NewString(), "type": typ, "data": data})
	if r := w.s.webhook(t, string(b), w.s.Clock.Now(), WebhookSecret); r.status != 200 {
		t.Fatalf("%s: %d %s", typ, r.status, r.body)
	}
}

// unapplied makes the provider report a 500.00 payment for an invoice the
// books do not know, and returns the unapplied payment an admin now sees.
func (w *auditWorld) unapplied(t *testing.T) string {
	t.Helper()
	w.providerEvent(t, "payment.succeeded", map[string]any{"paymentId": "pay_" + uuid.NewString(),
		"invoiceId": globalIDOf("Invoice", uuid.New()), "amount": "500.00", "currency": "RUB",
		"paidAt": w.s.Clock.Now().UTC().Format(time.RFC3339)})
	res := w.s.Do(t, w.admin, `{ unappliedPayments(first: 1) { nodes { id } } }`, nil)
	id := str(res.Data, "unappliedPayments", "nodes", 0, "id")
	if id == "" {
		t.Fatalf("unapplied payments: %s", res.Raw)
	}
	return id
}

// auditCase runs one mutation, with whatever it needs first, and says
// which target its audit row must name (a global id) and which amount it
// must record ("500.00 RUB"; "" when the mutation moves no money).
type auditCase func(t *testing.T, w *auditWorld) (target, amount string)

// auditCases has one case per root mutation of the schema. A mutation
// added to the schema without a case here fails
// TestEveryMutationNamesItsAuditTarget: its code must name its target
// (audit.SetTarget, and audit.SetAmount when it moves money) and the case
// must show it.
var auditCases = map[string]auditCase{
	"startTrial": func(t *testing.T, w *auditWorld) (string, string) {
		_, tok := w.customer(t)
		p := w.mutate(t, tok, "startTrial", "ConfigurationRefInput!", "installation { id }",
			map[string]any{"configurationId": globalIDOf("Configuration", w.conf.ID)})
		return str(p, "installation", "id"), ""
	},
	"rentConfiguration": func(t *testing.T, w *auditWorld) (string, string) {
		_, tok := w.customer(t)
		installation, _ := w.rent(t, tok)
		return installation, "500.00 RUB"
	},
	"convertTrial": func(t *testing.T, w *auditWorld) (string, string) {
		_, tok := w.customer(t)
		ref := map[string]any{"configurationId": globalIDOf("Configuration", w.conf.ID)}
		w.mutate(t, tok, "startTrial", "ConfigurationRefInput!", "installation { id }", ref)
		p := w.mutate(t, tok, "convertTrial", "ChargeInput!", "installation { id }",
			map[string]any{"configurationId": ref["configurationId"], "idempotencyKey": uuid.NewString()})
		// The rental's first invoice comes when the trial ends.
		return str(p, "installation", "id"), ""
	},
	"buyConfiguration": func(t *testing.T, w *auditWorld) (string, string) {
		_, tok := w.customer(t)
		p := w.mutate(t, tok, "buyConfiguration", "ChargeInput!", "installation { id }",
			map[string]any{"configurationId": globalIDOf("Configuration", w.conf.ID), "idempotencyKey": uuid.NewString()})
		return str(p, "installation", "id"), "35000.00 RUB"
	},
	"cancelRental": func(t *testing.T, w *auditWorld) (string, string) {
		_, tok := w.customer(t)
		installation, invoice := w.rent(t, tok)
		w.pay(t, invoice)
		w.mutate(t, tok, "cancelRental", "ConfigurationRefInput!", "installation { id }",
			map[string]any{"configurationId": globalIDOf("Configuration", w.conf.ID)})
		return installation, ""
	},
	"changeTariffPlan": func(t *testing.T, w *auditWorld) (string, string) {
		c, tok := w.customer(t)
		w.mutate(t, tok, "changeTariffPlan", "ChangeTariffPlanInput!", "customer { id }", map[string]any{"tariffPlan": "C"})
		return globalIDOf("Customer", c.OrgID), ""
	},
	"applyUnappliedPayment": func(t *testing.T, w *auditWorld) (string, string) {
		id := w.unapplied(t)
		_, tok := w.customer(t)
		_, invoice := w.rent(t, tok)
		w.mutate(t, w.admin, "applyUnappliedPayment", "ApplyUnappliedPaymentInput!", "payment { id }",
			map[string]any{"id": id, "invoiceId": invoice, "note": "the customer's transfer", "idempotencyKey": uuid.NewString()})
		return id, "500.00 RUB"
	},
	"returnUnappliedPayment": func(t *testing.T, w *auditWorld) (string, string) {
		id := w.unapplied(t)
		w.mutate(t, w.admin, "returnUnappliedPayment", "ReturnUnappliedPaymentInput!", "unappliedPayment { id }",
			map[string]any{"id": id, "note": "sent back to the payer", "idempotencyKey": uuid.NewString()})
		return id, "500.00 RUB"
	},
	"restoreLicense": func(t *testing.T, w *auditWorld) (string, string) {
		_, tok := w.customer(t)
		installation, invoice := w.rent(t, tok)
		payment := "pay_" + uuid.NewString()
		at := w.s.Clock.Now().UTC().Format(time.RFC3339)
		w.providerEvent(t, "payment.succeeded", map[string]any{"paymentId": payment, "invoiceId": invoice,
			"amount": "500.00", "currency": "RUB", "paidAt": at})
		w.providerEvent(t, "payment.chargeback", map[string]any{"paymentId": payment, "chargebackId": "cb_" + uuid.NewString(),
			"amount": "500.00", "currency": "RUB", "at": at})
		w.mutate(t, w.admin, "restoreLicense", "RestoreLicenseInput!", "installation { id }",
			map[string]any{"installationId": installation, "note": "the chargeback was reversed"})
		return installation, ""
	},
	"setPartnerStatus": func(t *testing.T, w *auditWorld) (string, string) {
		partner := globalIDOf("Partner", factory.Partner(t, w.s.Store).OrgID)
		w.mutate(t, w.admin, "setPartnerStatus", "SetPartnerStatusInput!", "partner { id }",
			map[string]any{"partnerId": partner, "status": "DEALER", "reason": "sells upgrades"})
		return partner, ""
	},
	"setCrmAccountId": func(t *testing.T, w *auditWorld) (string, string) {
		c, tok := w.customer(t)
		if _, err := w.s.Pool.Exec(context.Background(), `update customers set crm_account_id = null where id = $1`, c.OrgID); err != nil {
			t.Fatal(err)
		}
		w.mutate(t, tok, "setCrmAccountId", "SetCrmAccountIdInput!", "customer { id }",
			map[string]any{"crmAccountId": "crm-" + uuid.NewString()})
		return globalIDOf("Customer", c.OrgID), ""
	},
	"recordPayment": func(t *testing.T, w *auditWorld) (string, string) {
		_, tok := w.customer(t)
		_, invoice := w.rent(t, tok)
		return w.pay(t, invoice), "500.00 RUB"
	},
	"refundPayment": func(t *testing.T, w *auditWorld) (string, string) {
		_, tok := w.customer(t)
		_, invoice := w.rent(t, tok)
		payment := w.pay(t, invoice)
		w.mutate(t, w.admin, "refundPayment", "RefundPaymentInput!", "payment { id }",
			map[string]any{"paymentId": payment, "amount": "120.50", "reason": "goodwill", "idempotencyKey": uuid.NewString()})
		return payment, "120.50 RUB"
	},
	"setDeveloperRate": func(t *testing.T, w *auditWorld) (string, string) {
		w.mutate(t, w.admin, "setDeveloperRate", "SetDeveloperRateInput!", "rates { developer { rate } }",
			map[string]any{"status": "STANDARD", "supportMode": "DEVELOPER", "rate": "50"})
		return relay.ID("DeveloperRate", "standard:developer"), ""
	},
	"setPartnerRate": func(t *testing.T, w *auditWorld) (string, string) {
		w.mutate(t, w.admin, "setPartnerRate", "SetPartnerRateInput!", "rates { partner { rate } }",
			map[string]any{"status": "DEALER", "paidFor": "RENT", "rate": "25"})
		return relay.ID("PartnerRate", "dealer:rent"), ""
	},
	"updateSetting": func(t *testing.T, w *auditWorld) (string, string) {
		// A setting no other case depends on.
		w.mutate(t, w.admin, "updateSetting", "UpdateSettingInput!", "setting { value }",
			map[string]any{"key": "trial.retention_days", "value": "31"})
		return relay.ID("Setting", "trial.retention_days"), ""
	},
	"pinCustomer": func(t *testing.T, w *auditWorld) (string, string) {
		c, _ := w.customer(t)
		return w.pin(t, c), ""
	},
	"confirmPin": func(t *testing.T, w *auditWorld) (string, string) {
		c, tok := w.customer(t)
		_, invoice := w.rent(t, tok)
		w.pay(t, invoice) // a paying customer's pin waits for its yes
		pin := w.pin(t, c)
		w.mutate(t, tok, "confirmPin", "PinIdInput!", "pin { id }", map[string]any{"id": pin})
		return pin, ""
	},
	"declinePin": func(t *testing.T, w *auditWorld) (string, string) {
		c, tok := w.customer(t)
		_, invoice := w.rent(t, tok)
		w.pay(t, invoice)
		pin := w.pin(t, c)
		w.mutate(t, tok, "declinePin", "PinIdInput!", "pin { id }", map[string]any{"id": pin})
		return pin, ""
	},
	"renewPin": func(t *testing.T, w *auditWorld) (string, string) {
		c, _ := w.customer(t)
		pin := w.pin(t, c)
		w.mutate(t, w.partner, "renewPin", "PinIdInput!", "pin { id }", map[string]any{"id": pin})
		return pin, ""
	},
	"refusePin": func(t *testing.T, w *auditWorld) (string, string) {
		c, _ := w.customer(t)
		pin := w.pin(t, c)
		w.mutate(t, w.admin, "refusePin", "RefusePinInput!", "pin { id }", map[string]any{"id": pin, "reason": "duplicate deal"})
		return pin, ""
	},
	"requestPayout": func(t *testing.T, w *auditWorld) (string, string) {
		payout, _, _ := w.requestPayout(t)
		return payout, "1500.00 RUB"
	},
	"decidePayout": func(t *testing.T, w *auditWorld) (string, string) {
		payout, _, _ := w.requestPayout(t)
		w.mutate(t, w.admin, "decidePayout", "DecidePayoutInput!", "payout { id }", map[string]any{"id": payout, "paid": true})
		return payout, "1500.00 RUB"
	},
	"recomputeDeveloperStatus": func(t *testing.T, w *auditWorld) (string, string) {
		dev := globalIDOf("Developer", w.dev.OrgID)
		w.mutate(t, w.devTok, "recomputeDeveloperStatus", "DeveloperRefInput!", "developer { id }", map[string]any{"developerId": dev})
		return dev, ""
	},
	"setDeveloperFlags": func(t *testing.T, w *auditWorld) (string, string) {
		dev := globalIDOf("Developer", w.dev.OrgID)
		w.mutate(t, w.admin, "setDeveloperFlags", "SetDeveloperFlagsInput!", "developer { id }", map[string]any{"developerId": dev, "websiteInfo": true})
		return dev, ""
	},
	"createConfiguration": func(t *testing.T, w *auditWorld) (string, string) {
		p := w.mutate(t, w.devTok, "createConfiguration", "CreateConfigurationInput!", "configuration { id }",
			map[string]any{"slug": "audited-" + uuid.NewString()[:8], "title": "Audited " + uuid.NewString()[:8]})
		return str(p, "configuration", "id"), ""
	},
	"updateConfiguration": func(t *testing.T, w *auditWorld) (string, string) {
		id := globalIDOf("Configuration", factory.Configuration(t, w.s.Store, w.dev.OrgID, factory.ConfigurationOptions{}).ID)
		w.mutate(t, w.devTok, "updateConfiguration", "UpdateConfigurationInput!", "configuration { id }", map[string]any{"id": id, "summary": "Sharper"})
		return id, ""
	},
	"setConfigurationPrices": func(t *testing.T, w *auditWorld) (string, string) {
		id := globalIDOf("Configuration", factory.Configuration(t, w.s.Store, w.dev.OrgID, factory.ConfigurationOptions{}).ID)
		w.mutate(t, w.devTok, "setConfigurationPrices", "SetConfigurationPricesInput!", "configuration { id }",
			map[string]any{"id": id, "rent": []map[string]any{{"plan": "B", "amount": "650.00"}}})
		return id, ""
	},
	"archiveConfiguration": func(t *testing.T, w *auditWorld) (string, string) {
		id := globalIDOf("Configuration", factory.Configuration(t, w.s.Store, w.dev.OrgID, factory.ConfigurationOptions{}).ID)
		w.mutate(t, w.devTok, "archiveConfiguration", "ConfigurationIdInput!", "configuration { id }", map[string]any{"id": id})
		return id, ""
	},
	"inviteCustomer": func(t *testing.T, w *auditWorld) (string, string) {
		id := globalIDOf("Configuration", factory.Configuration(t, w.s.Store, w.dev.OrgID, factory.ConfigurationOptions{Visibility: "private"}).ID)
		c, _ := w.customer(t)
		w.mutate(t, w.devTok, "inviteCustomer", "InviteCustomerInput!", "configuration { id }",
			map[string]any{"id": id, "customerId": globalIDOf("Customer", c.OrgID)})
		return id, ""
	},
	"createVersion": func(t *testing.T, w *auditWorld) (string, string) {
		p := w.mutate(t, w.devTok, "createVersion", "CreateVersionInput!", "version { id }",
			map[string]any{"configurationId": globalIDOf("Configuration", w.conf.ID), "number": w.nextVersion()})
		return str(p, "version", "id"), ""
	},
	"updateVersion": func(t *testing.T, w *auditWorld) (string, string) {
		p := w.mutate(t, w.devTok, "createVersion", "CreateVersionInput!", "version { id }",
			map[string]any{"configurationId": globalIDOf("Configuration", w.conf.ID), "number": w.nextVersion()})
		id := str(p, "version", "id")
		w.mutate(t, w.devTok, "updateVersion", "UpdateVersionInput!", "version { id }", map[string]any{"id": id, "changelog": "Clearer"})
		return id, ""
	},
	"submitVersion": func(t *testing.T, w *auditWorld) (string, string) {
		return w.submittedVersion(t), ""
	},
	"approveVersion": func(t *testing.T, w *auditWorld) (string, string) {
		id := w.submittedVersion(t)
		w.mutate(t, w.admin, "approveVersion", "VersionIdInput!", "version { id }", map[string]any{"id": id})
		return id, ""
	},
	"rejectVersion": func(t *testing.T, w *auditWorld) (string, string) {
		id := w.submittedVersion(t)
		w.mutate(t, w.admin, "rejectVersion", "RejectVersionInput!", "version { id }", map[string]any{"id": id, "reason": "Broken links"})
		return id, ""
	},
	"suspendConfiguration": func(t *testing.T, w *auditWorld) (string, string) {
		id := globalIDOf("Configuration", factory.Configuration(t, w.s.Store, w.dev.OrgID, factory.ConfigurationOptions{}).ID)
		w.mutate(t, w.admin, "suspendConfiguration", "SuspendConfigurationInput!", "configuration { id }", map[string]any{"id": id, "reason": "Complaint"})
		return id, ""
	},
	"restoreConfiguration": func(t *testing.T, w *auditWorld) (string, string) {
		id := globalIDOf("Configuration", factory.Configuration(t, w.s.Store, w.dev.OrgID, factory.ConfigurationOptions{}).ID)
		w.mutate(t, w.admin, "suspendConfiguration", "SuspendConfigurationInput!", "configuration { id }", map[string]any{"id": id, "reason": "Complaint"})
		w.mutate(t, w.admin, "restoreConfiguration", "ConfigurationIdInput!", "configuration { id }", map[string]any{"id": id})
		return id, ""
	},
	"createReview": func(t *testing.T, w *auditWorld) (string, string) {
		c, tok := w.customer(t)
		factory.Installation(t, w.s.Store, c.OrgID, w.conf)
		p := w.mutate(t, tok, "createReview", "CreateReviewInput!", "review { id }",
			map[string]any{"configurationId": globalIDOf("Configuration", w.conf.ID), "rating": 5})
		return str(p, "review", "id"), ""
	},
	"updateReview": func(t *testing.T, w *auditWorld) (string, string) {
		c, tok := w.customer(t)
		factory.Installation(t, w.s.Store, c.OrgID, w.conf)
		p := w.mutate(t, tok, "createReview", "CreateReviewInput!", "review { id }",
			map[string]any{"configurationId": globalIDOf("Configuration", w.conf.ID), "rating": 5})
		id := str(p, "review", "id")
		w.mutate(t, tok, "updateReview", "UpdateReviewInput!", "review { id }", map[string]any{"id": id, "rating": 4, "body": "Good"})
		return id, ""
	},
	"signUp": func(t *testing.T, w *auditWorld) (string, string) {
		email := "audited-" + uuid.NewString()[:8] + "@example.test"
		w.mutate(t, "", "signUp", "SignUpInput!", "session { role }", map[string]any{
			"email": email, "password": "a long enough password", "name": "Ann Audit", "role": "CUSTOMER",
			"organizationName": "Audit LLC", "crmAccountId": "crm-" + uuid.NewString(),
		})
		var id uuid.UUID
		if err := w.s.Pool.QueryRow(context.Background(), `select id from users where email = $1`, email).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return globalIDOf("User", id), ""
	},
	"logIn": func(t *testing.T, w *auditWorld) (string, string) {
		c := factory.Customer(t, w.s.Store)
		w.s.LogIn(t, c, nil)
		return globalIDOf("User", c.UserID), ""
	},
	"refreshToken": func(t *testing.T, w *auditWorld) (string, string) {
		c := factory.Customer(t, w.s.Store)
		_, refresh := w.s.LogIn(t, c, nil)
		w.mutate(t, "", "refreshToken", "RefreshTokenInput!", "session { role }", map[string]any{"refreshToken": refresh})
		return globalIDOf("User", c.UserID), ""
	},
	"logOut": func(t *testing.T, w *auditWorld) (string, string) {
		c, tok := w.customer(t)
		w.mutate(t, tok, "logOut", "", "loggedOut", nil)
		return globalIDOf("User", c.UserID), ""
	},
	"changePassword": func(t *testing.T, w *auditWorld) (string, string) {
		c, tok := w.customer(t)
		w.mutate(t, tok, "changePassword", "ChangePasswordInput!", "session { role }",
			map[string]any{"currentPassword": factory.Password, "newPassword": "another long password"})
		return globalIDOf("User", c.UserID), ""
	},
	"setAllowedNetworks": func(t *testing.T, w *auditWorld) (string, string) {
		c, tok := w.customer(t)
		w.mutate(t, tok, "setAllowedNetworks", "SetAllowedNetworksInput!", "networks", map[string]any{"networks": []string{}})
		return globalIDOf("User", c.UserID), ""
	},
	"grantRole": func(t *testing.T, w *auditWorld) (string, string) {
		c := factory.Customer(t, w.s.Store)
		org := factory.Partner(t, w.s.Store)
		w.mutate(t, w.admin, "grantRole", "RoleChangeInput!", "roles { role }",
			map[string]any{"userId": globalIDOf("User", c.UserID), "role": "PARTNER", "organizationId": globalIDOf("Partner", org.OrgID)})
		return globalIDOf("User", c.UserID), ""
	},
	"revokeRole": func(t *testing.T, w *auditWorld) (string, string) {
		c := factory.Customer(t, w.s.Store)
		org := factory.Partner(t, w.s.Store)
		input := map[string]any{"userId": globalIDOf("User", c.UserID), "role": "PARTNER", "organizationId": globalIDOf("Partner", org.OrgID)}
		w.mutate(t, w.admin, "grantRole", "RoleChangeInput!", "roles { role }", input)
		w.mutate(t, w.admin, "revokeRole", "RoleChangeInput!", "roles { role }", input)
		return globalIDOf("User", c.UserID), ""
	},
	"createApiToken": func(t *testing.T, w *auditWorld) (string, string) {
		p := w.mutate(t, w.devTok, "createApiToken", "CreateApiTokenInput!", "apiToken { id }", apiTokenInput("CI", "DEVELOPER"))
		return str(p, "apiToken", "id"), ""
	},
	"revokeApiToken": func(t *testing.T, w *auditWorld) (string, string) {
		p := w.mutate(t, w.devTok, "createApiToken", "CreateApiTokenInput!", "apiToken { id }", apiTokenInput("CI", "DEVELOPER"))
		id := str(p, "apiToken", "id")
		w.mutate(t, w.devTok, "revokeApiToken", "RevokeApiTokenInput!", "apiToken { id }", map[string]any{"id": id})
		return id, ""
	},
	"updateProfile": func(t *testing.T, w *auditWorld) (string, string) {
		c, tok := w.customer(t)
		w.mutate(t, tok, "updateProfile", "UpdateProfileInput!", "user { id }", map[string]any{"name": "Ivan Petrov"})
		return globalIDOf("User", c.UserID), ""
	},
	"updateDeveloperProfile": func(t *testing.T, w *auditWorld) (string, string) {
		dev := globalIDOf("Developer", w.dev.OrgID)
		w.mutate(t, w.devTok, "updateDeveloperProfile", "UpdateDeveloperProfileInput!", "developer { id }",
			map[string]any{"developer": dev, "bio": "1C configurations since 2009"})
		return dev, ""
	},
	"updatePartnerProfile": func(t *testing.T, w *auditWorld) (string, string) {
		partner := globalIDOf("Partner", factory.Partner(t, w.s.Store).OrgID)
		w.mutate(t, w.admin, "updatePartnerProfile", "UpdatePartnerProfileInput!", "partner { id }",
			map[string]any{"partner": partner, "website": "https://partner.example"})
		return partner, ""
	},
	"updateCustomerProfile": func(t *testing.T, w *auditWorld) (string, string) {
		c, tok := w.customer(t)
		customer := globalIDOf("Customer", c.OrgID)
		w.mutate(t, tok, "updateCustomerProfile", "UpdateCustomerProfileInput!", "customer { id }",
			map[string]any{"customer": customer, "name": "Romashka LLC"})
		return customer, ""
	},
	"erasePersonalData": func(t *testing.T, w *auditWorld) (string, string) {
		c, tok := w.customer(t)
		w.mutate(t, tok, "erasePersonalData", "ErasePersonalDataInput!", "erased", map[string]any{"password": factory.Password})
		return globalIDOf("User", c.UserID), ""
	},
}

const lastAuditRow = `query($a: String!) { auditLog(first: 1, filter: {action: $a}) {
	nodes { action result actor role target amount { amount currencyCode } eventId } } }`

// lastAudit is the newest audit row of action, as admins read it.
func (w *auditWorld) lastAudit(t *testing.T, action string) map[string]any {
	t.Helper()
	res := w.s.Do(t, w.admin, lastAuditRow, map[string]any{"a": action})
	row, _ := get(res.Data, "auditLog", "nodes", 0).(map[string]any)
	if res.Code() != "" || row == nil {
		t.Fatalf("no audit row of %s: %s", action, res.Raw)
	}
	return row
}

func amountOf(row map[string]any) string {
	if get(row, "amount") == nil {
		return ""
	}
	return str(row, "amount", "amount") + " " + str(row, "amount", "currencyCode")
}

// TestEveryMutationNamesItsAuditTarget runs every root mutation of the
// schema once, successfully, through the real handler. Its audit row must
// name the object it acted on or created, as the global id the API shows,
// and the money it moved (issue 19, item 8). The list of mutations comes
// from the schema, so a new mutation fails here until it has a case.
func TestEveryMutationNamesItsAuditTarget(t *testing.T) {
	w := newAuditWorld(t)
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	inSchema := map[string]bool{}
	for _, f := range schema.Mutation.Fields {
		inSchema[f.Name] = true
		run, ok := auditCases[f.Name]
		if !ok {
			t.Errorf("mutation %s has no audit case: name its target in its code (audit.SetTarget, audit.SetAmount when money moves) and add a case to auditCases", f.Name)
			continue
		}
		t.Run(f.Name, func(t *testing.T) {
			target, amount := run(t, w)
			if target == "" {
				t.Fatal("the case expects no target")
			}
			row := w.lastAudit(t, f.Name)
			if str(row, "result") != "ok" || str(row, "target") != target || amountOf(row) != amount {
				t.Errorf("audit row %v, want result ok, target %s, amount %q", row, target, amount)
			}
		})
	}
	for name := range auditCases {
		if !inSchema[name] {
			t.Errorf("audit case %s names no mutation of the schema", name)
		}
	}
	if r := w.s.Do(t, w.admin, `{ auditLogBrokenAt }`, nil); r.Code() != "" || get(r.Data, "auditLogBrokenAt") != nil {
		t.Fatalf("chain: %s", r.Raw)
	}
}

// A replayed money-moving request (the same idempotency key) is audited
// with the target its first run named, and no amount: nothing moved again.
func TestReplayedChargesNameTheirFirstTargetAndMoveNothing(t *testing.T) {
	w := newAuditWorld(t)
	_, tok := w.customer(t)
	rent := map[string]any{"configurationId": globalIDOf("Configuration", w.conf.ID), "idempotencyKey": "order-1"}
	first := w.mutate(t, tok, "rentConfiguration", "ChargeInput!", "installation { id }", rent)
	w.mutate(t, tok, "rentConfiguration", "ChargeInput!", "installation { id }", rent)
	res := w.s.Do(t, w.admin, `{ auditLog(first: 2, filter: {action: "rentConfiguration"}) { nodes { result target amount { amount } } } }`, nil)
	replay, original := get(res.Data, "auditLog", "nodes", 0), get(res.Data, "auditLog", "nodes", 1)
	installation := str(first, "installation", "id")
	if str(original, "target") != installation || str(original, "amount", "amount") != "500.00" {
		t.Fatalf("first rent's row: %s", res.Raw)
	}
	if str(replay, "result") != "ok" || str(replay, "target") != installation || get(replay, "amount") != nil {
		t.Fatalf("replayed rent's row: %s", res.Raw)
	}

	payout, input, devTok := w.requestPayout(t)
	w.mutate(t, devTok, "requestPayout", "RequestPayoutInput!", "payout { id }", input)
	if row := w.lastAudit(t, "requestPayout"); str(row, "target") != payout || get(row, "amount") != nil {
		t.Fatalf("replayed payout request's row: %v", row)
	}
}

// Actions the platform takes on its own are audited with the role SYSTEM
// and no actor: a status change of the monthly run or a trusted recompute
// (one row per developer whose status changed), and each batch of
// automatic updates (one row, the version as its target). A status change
// asked for in a mutation is that mutation's row only.
func TestJobActionsAreAuditedAsTheSystem(t *testing.T) {
	w := newAuditWorld(t)
	ctx := identity.AsSystem(context.Background())
	setStatus := func(dev factory.Account, status string) {
		t.Helper()
		if _, err := w.s.Pool.Exec(ctx, `update developers set status = $2 where id = $1`, dev.OrgID, status); err != nil {
			t.Fatal(err)
		}
	}
	systemRows := func(action string) []any {
		t.Helper()
		res := w.s.Do(t, w.admin, `query($a: String!) { auditLog(first: 10, filter: {action: $a}) { nodes { result actor role target amount { amount } eventId } } }`,
			map[string]any{"a": action})
		nodes, _ := get(res.Data, "auditLog", "nodes").([]any)
		for _, n := range nodes {
			if str(n, "result") != "ok" || str(n, "role") != "SYSTEM" || get(n, "actor") != nil || get(n, "amount") != nil || get(n, "eventId") != nil {
				t.Fatalf("not a system row: %s", res.Raw)
			}
		}
		return nodes
	}

	// Without sales, a standard developer is basic again after the run.
	setStatus(w.dev, "standard")
	if r, err := w.s.App.Statuses().RunMonthly(ctx); err != nil || len(r.Changes) != 1 {
		t.Fatalf("monthly run: %+v %v", r, err)
	}
	rows := systemRows(earnings.ActionChangeStatus)
	if len(rows) != 1 || str(rows[0], "target") != globalIDOf("Developer", w.dev.OrgID) {
		t.Fatalf("monthly run's rows: %v", rows)
	}
	// A trusted recompute that changes a status writes its row too.
	other := factory.Developer(t, w.s.Store)
	setStatus(other, "premium")
	if d, err := w.s.App.Statuses().Recompute(ctx, other.OrgID); err != nil || !d.Changed {
		t.Fatalf("recompute: %+v %v", d, err)
	}
	if rows := systemRows(earnings.ActionChangeStatus); len(rows) != 2 || str(rows[0], "target") != globalIDOf("Developer", other.OrgID) {
		t.Fatalf("after a trusted recompute: %v", rows)
	}
	// Asked for by the developer itself: the mutation's row, no system row.
	setStatus(other, "premium")
	otherTok, _ := w.s.LogIn(t, other, nil)
	w.mutate(t, otherTok, "recomputeDeveloperStatus", "DeveloperRefInput!", "developer { status }",
		map[string]any{"developerId": globalIDOf("Developer", other.OrgID)})
	if rows := systemRows(earnings.ActionChangeStatus); len(rows) != 2 {
		t.Fatalf("an asked-for recompute wrote a system row: %v", rows)
	}
	if row := w.lastAudit(t, "recomputeDeveloperStatus"); str(row, "role") != "DEVELOPER" || str(row, "target") != globalIDOf("Developer", other.OrgID) {
		t.Fatalf("asked-for recompute's row: %v", row)
	}

	// A trial follows the next approved version; the batch that moves it
	// is one system row naming the version.
	_, tok := w.customer(t)
	w.mutate(t, tok, "startTrial", "ConfigurationRefInput!", "installation { id }", map[string]any{"configurationId": globalIDOf("Configuration", w.conf.ID)})
	confID := globalIDOf("Configuration", w.conf.ID)
	w.mutate(t, w.devTok, "updateConfiguration", "UpdateConfigurationInput!", "configuration { id }", map[string]any{"id": confID, "category": "sales"})
	v := str(w.mutate(t, w.devTok, "createVersion", "CreateVersionInput!", "version { id }",
		map[string]any{"configurationId": confID, "number": "2.0.0", "changelog": "Faster"}), "version", "id")
	w.s.uploadPackage(t, w.devTok, v)
	w.mutate(t, w.devTok, "submitVersion", "VersionIdInput!", "version { id }", map[string]any{"id": v})
	w.mutate(t, w.admin, "approveVersion", "VersionIdInput!", "version { id }", map[string]any{"id": v})
	if moved, err := w.s.Commerce.ProcessUpdates(ctx); err != nil || moved != 1 {
		t.Fatalf("updates: moved %d, %v", moved, err)
	}
	if rows := systemRows(store.ActionUpdateInstallations); len(rows) != 1 || str(rows[0], "target") != v {
		t.Fatalf("update batch rows: %v", rows)
	}
	// Nothing left to move: no row.
	if moved, err := w.s.Commerce.ProcessUpdates(ctx); err != nil || moved != 0 {
		t.Fatalf("updates again: moved %d, %v", moved, err)
	}
	if rows := systemRows(store.ActionUpdateInstallations); len(rows) != 1 {
		t.Fatalf("an empty batch wrote a row: %v", rows)
	}
	if r := w.s.Do(t, w.admin, `{ auditLogBrokenAt }`, nil); get(r.Data, "auditLogBrokenAt") != nil {
		t.Fatalf("chain: %s", r.Raw)
	}
}

// The amounts and provider event ids in the audit log are the platform's:
// nobody but an admin reads a row, by any role.
func TestOnlyAdminsReadAuditAmountsAndEventIDs(t *testing.T) {
	w := newAuditWorld(t)
	_, tok := w.customer(t)
	w.rent(t, tok) // a row with an amount
	const read = `{ auditLog(first: 50) { nodes { action role target amount { amount currencyCode } eventId } } }`
	if r := w.s.Do(t, w.admin, read, nil); r.Code() != "" || !strings.Contains(r.Raw, `"amount":"500.00"`) {
		t.Fatalf("admin: %s", r.Raw)
	}
	strangers := map[string]string{"anonymous": "", "customer": tok, "developer": w.devTok, "partner": w.partner}
	other := factory.Developer(t, w.s.Store)
	strangers["another developer"], _ = w.s.LogIn(t, other, nil)
	for who, token := range strangers {
		r := w.s.Do(t, token, read, nil)
		if c := r.Code(); (c != "FORBIDDEN" && c != "UNAUTHENTICATED") || get(r.Data, "auditLog") != nil || strings.Contains(r.Raw, "500.00") {
			t.Errorf("%s read the audit log: %s", who, r.Raw)
		}
	}
}

// SYSTEM is a role of audit rows only: no one signs up, logs in or is
// granted it, and asking is the client's error, never an internal one.
func TestNoOneActsAsTheSystem(t *testing.T) {
	w := newAuditWorld(t)
	c := factory.Customer(t, w.s.Store)
	up := w.s.Do(t, "", signUpMutation, signUpInput(map[string]any{"role": "SYSTEM", "email": "sys@example.test"}))
	if str(up.Data, "signUp", "userErrors", 0, "code") != "BAD_USER_INPUT" || str(up.Data, "signUp", "userErrors", 0, "field", 1) != "role" || get(up.Data, "signUp", "session") != nil {
		t.Errorf("sign up as SYSTEM: %s", up.Raw)
	}
	in := w.s.Do(t, "", logInMutation, map[string]any{"input": map[string]any{"email": c.Email, "password": factory.Password, "role": "SYSTEM"}})
	if str(in.Data, "logIn", "userErrors", 0, "code") != "ROLE_NOT_HELD" || get(in.Data, "logIn", "session") != nil {
		t.Errorf("log in as SYSTEM: %s", in.Raw)
	}
	granted := w.s.Do(t, w.admin, mutation("grantRole", "RoleChangeInput!", "roles { role }"),
		map[string]any{"input": map[string]any{"userId": globalIDOf("User", c.UserID), "role": "SYSTEM"}})
	if str(granted.Data, "grantRole", "userErrors", 0, "code") != "BAD_USER_INPUT" {
		t.Errorf("grant SYSTEM: %s", granted.Raw)
	}
	var n int
	if err := w.s.Pool.QueryRow(context.Background(), `select count(*) from role_grants where role = 'system'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d system grants (%v)", n, err)
	}
}
