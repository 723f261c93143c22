package account_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"configmarket/internal/account"
	"configmarket/internal/apperr"
	"configmarket/internal/factory"
	"configmarket/internal/identity"
	"configmarket/internal/store"
)

func wantCode(t *testing.T, what string, err error, code string, field ...string) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.PublicCode() != code {
		t.Fatalf("%s: got %v, want code %s", what, err, code)
	}
	if len(field) > 0 && strings.Join(e.Field, ".") != strings.Join(field, ".") {
		t.Fatalf("%s: field %v, want %v", what, e.Field, field)
	}
}

func customerSignUp(email string, crm *string) account.SignUpInput {
	return account.SignUpInput{
		Email: email, Password: "long enough pw", Name: "N",
		Role: identity.RoleCustomer, OrganizationName: "Org", CRMAccountID: crm,
	}
}

func countCustomers(t *testing.T, st *store.Store) int {
	t.Helper()
	var n int
	if err := st.Pool().QueryRow(context.Background(), `select count(*) from customers`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func crmOf(t *testing.T, st *store.Store, customerID uuid.UUID) *string {
	t.Helper()
	var crm *string
	if err := st.Pool().QueryRow(context.Background(), `select crm_account_id from customers where id = $1`, customerID).Scan(&crm); err != nil {
		t.Fatal(err)
	}
	return crm
}

// SPEC §1: a customer is a CRM account; signing up without one, or with
// one the CRM could never send, is a typed error on input.crmAccountId and
// writes nothing.
func TestCustomerSignUpRequiresAValidCRMAccountID(t *testing.T) {
	svc, st := newService(t)
	ctx := context.Background()
	before := countCustomers(t, st)
	for _, c := range []struct {
		name string
		crm  *string
		code string
	}{
		{"missing", nil, "CRM_ACCOUNT_REQUIRED"},
		{"empty", ptr(""), "CRM_ACCOUNT_REQUIRED"},
		{"blank", ptr(" \t "), "CRM_ACCOUNT_REQUIRED"},
		{"NUL", ptr("crm\x00x"), "CRM_ACCOUNT_INVALID"},
		{"line break", ptr("crm\nx"), "CRM_ACCOUNT_INVALID"},
		{"C1 control", ptr("crm\u0085x"), "CRM_ACCOUNT_INVALID"},
		{"201 characters", ptr(strings.Repeat("я", 201)), "CRM_ACCOUNT_INVALID"},
	} {
		_, err := svc.SignUp(ctx, customerSignUp("c-"+strings.ReplaceAll(c.name, " ", "-")+"@example.test", c.crm))
		wantCode(t, c.name, err, c.code, "input", "crmAccountId")
	}
	if n := countCustomers(t, st); n != before {
		t.Fatalf("%d customers after refused sign-ups, want %d", n, before)
	}

	// Trimmed, and 200 characters are fine.
	sess, err := svc.SignUp(ctx, customerSignUp("ok@example.test", ptr("  crm-ok  ")))
	if err != nil {
		t.Fatal(err)
	}
	if got := crmOf(t, st, sess.Viewer.ActingFor); got == nil || *got != "crm-ok" {
		t.Fatalf("stored %v, want crm-ok", got)
	}
	if _, err := svc.SignUp(ctx, customerSignUp("long@example.test", ptr(strings.Repeat("я", 200)))); err != nil {
		t.Fatalf("200 characters: %v", err)
	}
	// Unique: a second customer of the same CRM account is refused.
	_, err = svc.SignUp(ctx, customerSignUp("twin@example.test", ptr("crm-ok")))
	wantCode(t, "taken", err, "CRM_ACCOUNT_TAKEN", "input", "crmAccountId")
	if _, err := st.UserByEmail(ctx, "twin@example.test"); !apperr.Is(err, apperr.KindNotFound) {
		t.Fatalf("the refused sign-up left its user: %v", err)
	}
	// Developers and partners are no CRM accounts: they need none.
	for _, role := range []identity.Role{identity.RoleDeveloper, identity.RolePartner} {
		in := customerSignUp(string(role)+"@example.test", nil)
		in.Role = role
		if _, err := svc.SignUp(ctx, in); err != nil {
			t.Fatalf("%s without a CRM account id: %v", role, err)
		}
	}
}

// legacyCustomer is a customer created before sign-up required a CRM
// account id.
func legacyCustomer(t *testing.T, st *store.Store) factory.Account {
	t.Helper()
	a := factory.Customer(t, st)
	if _, err := st.Pool().Exec(context.Background(), `update customers set crm_account_id = null where id = $1`, a.OrgID); err != nil {
		t.Fatal(err)
	}
	a.CRMAccountID = ""
	return a
}

func TestLegacyCustomerSetsItsCRMAccountIDOnce(t *testing.T) {
	svc, st := newService(t)
	ctx := context.Background()
	legacy, other := legacyCustomer(t, st), legacyCustomer(t, st)
	modern := factory.Customer(t, st)

	// Bad input writes nothing.
	_, err := svc.SetCRMAccountID(ctx, legacy.Viewer(), "  ")
	wantCode(t, "blank", err, "CRM_ACCOUNT_REQUIRED", "input", "crmAccountId")
	_, err = svc.SetCRMAccountID(ctx, legacy.Viewer(), "crm\x00")
	wantCode(t, "NUL", err, "CRM_ACCOUNT_INVALID", "input", "crmAccountId")
	// Another customer's CRM account is taken.
	_, err = svc.SetCRMAccountID(ctx, legacy.Viewer(), modern.CRMAccountID)
	wantCode(t, "taken", err, "CRM_ACCOUNT_TAKEN", "input", "crmAccountId")
	if got := crmOf(t, st, legacy.OrgID); got != nil {
		t.Fatalf("refused calls wrote %q", *got)
	}

	c, err := svc.SetCRMAccountID(ctx, legacy.Viewer(), " crm-legacy ")
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != legacy.OrgID || c.CRMAccountID == nil || *c.CRMAccountID != "crm-legacy" {
		t.Fatalf("customer = %+v", c)
	}
	// Once: a second call is refused, with the same id or another.
	for _, again := range []string{"crm-legacy", "crm-other"} {
		_, err = svc.SetCRMAccountID(ctx, legacy.Viewer(), again)
		wantCode(t, "again "+again, err, "CRM_ACCOUNT_ALREADY_SET")
	}
	_, err = svc.SetCRMAccountID(ctx, modern.Viewer(), "crm-new")
	wantCode(t, "signed up with one", err, "CRM_ACCOUNT_ALREADY_SET")
	_, err = svc.SetCRMAccountID(ctx, other.Viewer(), "crm-legacy")
	wantCode(t, "another's", err, "CRM_ACCOUNT_TAKEN")
	if got := crmOf(t, st, legacy.OrgID); got == nil || *got != "crm-legacy" {
		t.Fatalf("stored %v after refused calls", got)
	}
}

// Only a customer sets a CRM account id, and only its own account's.
func TestOnlyTheCustomerSetsItsCRMAccountID(t *testing.T) {
	svc, st := newService(t)
	ctx := context.Background()
	legacy := legacyCustomer(t, st)
	dev, partner, admin := factory.Developer(t, st), factory.Partner(t, st), factory.Admin(t, st)
	for name, c := range map[string]struct {
		v    identity.Viewer
		kind apperr.Kind
	}{
		"anonymous": {identity.Viewer{}, apperr.KindUnauthenticated},
		"developer": {dev.Viewer(), apperr.KindForbidden},
		"partner":   {partner.Viewer(), apperr.KindForbidden},
		"admin":     {admin.Viewer(), apperr.KindForbidden},
		// The customer's id under another role is not the customer.
		"same id other role": {identity.Viewer{UserID: legacy.UserID, Role: identity.RolePartner, ActingFor: legacy.OrgID}, apperr.KindForbidden},
	} {
		if _, err := svc.SetCRMAccountID(ctx, c.v, "crm-stranger"); !apperr.Is(err, c.kind) {
			t.Errorf("%s: %v, want %v", name, err, c.kind)
		}
	}
	if got := crmOf(t, st, legacy.OrgID); got != nil {
		t.Fatalf("a stranger set %q", *got)
	}
}

// Concurrent calls of one customer: exactly one id is written.
func TestConcurrentSetCRMAccountIDWritesOne(t *testing.T) {
	svc, st := newService(t)
	ctx := context.Background()
	legacy := legacyCustomer(t, st)
	const racers = 6
	errs := make([]error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			_, errs[i] = svc.SetCRMAccountID(ctx, legacy.Viewer(), "crm-race-"+string(rune('a'+i)))
		})
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		if err == nil {
			wins++
		} else {
			wantCode(t, "loser", err, "CRM_ACCOUNT_ALREADY_SET")
		}
	}
	if wins != 1 {
		t.Fatalf("%d calls won, want 1", wins)
	}
}
