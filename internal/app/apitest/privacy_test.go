package apitest

import (
	"context"
	"testing"

	"configmarket/internal/factory"
)

const roleChangeMutation = `mutation($grant: Boolean!, $input: RoleChangeInput!) {
	grantRole(input: $input) @include(if: $grant) { roles { role organizationName } userErrors { field code } }
	revokeRole(input: $input) @skip(if: $grant) { roles { role organizationName } userErrors { field code } } }`

func TestRoleChangesEndEverySessionOfTheUser(t *testing.T) {
	s := New(t)
	admin := factory.Admin(t, s.Store)
	adminToken, _ := s.LogIn(t, admin, nil)
	dev := factory.Developer(t, s.Store)
	devToken, devRefresh := s.LogIn(t, dev, nil)
	partner := factory.Partner(t, s.Store)
	change := func(token string, grant bool, input map[string]any) Response {
		return s.Do(t, token, roleChangeMutation, map[string]any{"grant": grant, "input": input})
	}
	asPartner := map[string]any{"userId": globalIDOf("User", dev.UserID), "role": "PARTNER", "organizationId": globalIDOf("Partner", partner.OrgID)}

	if r := change(devToken, true, asPartner); r.Code() != "FORBIDDEN" {
		t.Fatalf("a developer granted itself a role: %s", r.Raw)
	}
	granted := change(adminToken, true, asPartner)
	if len(get(granted.Data, "grantRole", "roles").([]any)) != 2 {
		t.Fatalf("grant: %s", granted.Raw)
	}
	// Even a grant ends the sessions: the old tokens and refresh tokens stop.
	if r := s.Do(t, devToken, viewerQuery, nil); r.Code() != "UNAUTHENTICATED" {
		t.Fatalf("token issued before the role change still works: %s", r.Raw)
	}
	if r := s.Do(t, "", refreshMutation, map[string]any{"r": devRefresh}); str(r.Data, "refreshToken", "userErrors", 0, "code") != "INVALID_REFRESH_TOKEN" {
		t.Fatalf("refresh token issued before the role change still works: %s", r.Raw)
	}
	devToken, _ = s.LogIn(t, dev, map[string]any{"role": "DEVELOPER"})
	revoked := change(adminToken, false, map[string]any{"userId": globalIDOf("User", dev.UserID), "role": "DEVELOPER", "organizationId": globalIDOf("Developer", dev.OrgID)})
	if roles := get(revoked.Data, "revokeRole", "roles").([]any); len(roles) != 1 || str(roles[0], "role") != "PARTNER" {
		t.Fatalf("revoke: %s", revoked.Raw)
	}
	if r := s.Do(t, devToken, viewerQuery, nil); r.Code() != "UNAUTHENTICATED" {
		t.Fatalf("developer token after losing the role: %s", r.Raw)
	}

	for name, c := range map[string]struct {
		input map[string]any
		field string // under input; empty when the error names none
		code  string
	}{
		"a role the user does not hold":      {map[string]any{"userId": globalIDOf("User", dev.UserID), "role": "DEVELOPER", "organizationId": globalIDOf("Developer", dev.OrgID)}, "role", "ROLE_NOT_HELD"},
		"an admin role with an organisation": {map[string]any{"userId": globalIDOf("User", dev.UserID), "role": "ADMIN", "organizationId": globalIDOf("Partner", partner.OrgID)}, "organizationId", "BAD_USER_INPUT"},
		"an organisation of another kind":    {map[string]any{"userId": globalIDOf("User", dev.UserID), "role": "CUSTOMER", "organizationId": globalIDOf("Partner", partner.OrgID)}, "organizationId", "BAD_USER_INPUT"},
		"its own admin role":                 {map[string]any{"userId": globalIDOf("User", admin.UserID), "role": "ADMIN"}, "", "FAILED_PRECONDITION"},
	} {
		r := change(adminToken, false, c.input)
		if str(r.Data, "revokeRole", "userErrors", 0, "code") != c.code || str(r.Data, "revokeRole", "userErrors", 0, "field", 1) != c.field {
			t.Errorf("%s: %s", name, r.Raw)
		}
	}
}

const eraseMutation = `mutation($p: String!) { erasePersonalData(input: {password: $p}) { erased userErrors { field code } } }`

func TestErasureForgetsThePersonAndKeepsTheBooks(t *testing.T) {
	w := newCommerceWorld(t)
	s, ctx := w.s, context.Background()
	w.premiumDeveloperAndDealer(t)
	w.payRent(t)
	secondDevice, _ := s.LogIn(t, w.buyer, nil)
	books := func() (n int) {
		if err := s.Pool.QueryRow(ctx, `select (select count(*) from invoices where customer_id = $1)
			+ (select count(*) from payments where customer_id = $1)
			+ (select count(*) from ledger_entries e join payments p on p.id = e.payment_id where p.customer_id = $1)`, w.buyer.OrgID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := books()
	if before < 5 { // invoice, payment, developer/partner/platform shares
		t.Fatalf("only %d financial rows to keep", before)
	}

	if r := s.Do(t, w.tokens["buyer"], eraseMutation, map[string]any{"p": "wrong password"}); str(r.Data, "erasePersonalData", "userErrors", 0, "code") != "INVALID_CREDENTIALS" {
		t.Fatalf("wrong password: %s", r.Raw)
	}
	if r := s.Do(t, w.tokens["admin"], eraseMutation, map[string]any{"p": factory.Password}); r.Code() != "FORBIDDEN" {
		t.Fatalf("admin erasure: %s", r.Raw)
	}
	if r := s.Do(t, w.tokens["buyer"], eraseMutation, map[string]any{"p": factory.Password}); get(r.Data, "erasePersonalData", "erased") != true {
		t.Fatalf("erase: %s", r.Raw)
	}

	for name, tok := range map[string]string{"this device": w.tokens["buyer"], "another device": secondDevice} {
		if r := s.Do(t, tok, viewerQuery, nil); r.Code() != "UNAUTHENTICATED" {
			t.Errorf("%s's token still works: %s", name, r.Raw)
		}
	}
	login := s.Do(t, "", logInMutation, map[string]any{"input": map[string]any{"email": w.buyer.Email, "password": factory.Password}})
	if str(login.Data, "logIn", "userErrors", 0, "code") != "INVALID_CREDENTIALS" {
		t.Fatalf("log in after erasure: %s", login.Raw)
	}

	var personal, ips int
	if err := s.Pool.QueryRow(ctx, `select
		(select count(*) from users where id = $1 and (email = $2 or name <> 'Erased user' or phone is not null or erased_at is null))
		+ (select count(*) from customers where id = $3 and (inn is not null or name not like 'Erased customer %'))`,
		w.buyer.UserID, w.buyer.Email, w.buyer.OrgID).Scan(&personal); err != nil {
		t.Fatal(err)
	}
	if err := s.Pool.QueryRow(ctx, `select (select count(*) from auth_sessions where user_id = $1 and (ip is not null or user_agent is not null))
		+ (select count(*) from audit_log_ips where actor_user_id = $1)`, w.buyer.UserID).Scan(&ips); err != nil {
		t.Fatal(err)
	}
	if personal != 0 || ips != 0 {
		t.Fatalf("%d personal fields and %d IP records left", personal, ips)
	}
	if after := books(); after != before {
		t.Fatalf("financial rows %d → %d", before, after)
	}
	var result string
	var withIP bool
	if err := s.Pool.QueryRow(ctx, `select result, exists (select 1 from audit_log_ips where audit_id = a.id)
		from audit_log a where action = 'erasePersonalData' and actor_user_id = $1 order by id desc limit 1`, w.buyer.UserID).Scan(&result, &withIP); err != nil {
		t.Fatalf("the erasure is not audited: %v", err)
	}
	if result != "ok" || withIP {
		t.Fatalf("erasure audit row: result %s, ip kept %v", result, withIP)
	}
	if r := s.Do(t, w.tokens["admin"], `{ auditLogBrokenAt }`, nil); get(r.Data, "auditLogBrokenAt") != nil {
		t.Fatalf("the chain broke: %s", r.Raw)
	}
}

func TestErasedDeveloperLeavesTheStorefrontAtOnce(t *testing.T) {
	s := New(t)
	dev := factory.Developer(t, s.Store)
	factory.Configuration(t, s.Store, dev.OrgID, factory.ConfigurationOptions{})
	const storefront = `{ configurations(first: 5) { nodes { developer { name slug } } } }`
	name := str(s.Do(t, "", storefront, nil).Data, "configurations", "nodes", 0, "developer", "name")
	if name == "" {
		t.Fatal("no developer in the storefront")
	}
	token, _ := s.LogIn(t, dev, nil)
	if r := s.Do(t, token, eraseMutation, map[string]any{"p": factory.Password}); get(r.Data, "erasePersonalData", "erased") != true {
		t.Fatalf("erase: %s", r.Raw)
	}
	r := s.Do(t, "", storefront, nil)
	if got := str(r.Data, "configurations", "nodes", 0, "developer", "name"); got == name || got == "" {
		t.Fatalf("storefront still shows %q after erasure: %s", name, r.Raw)
	}
}
