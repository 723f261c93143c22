package apitest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"configmarket/internal/factory"
	"configmarket/internal/inn"
)

const (
	updateProfileDoc = `mutation($input: UpdateProfileInput!) { updateProfile(input: $input) {
		user { id name phone } userErrors { field code message } } }`
	updateDeveloperProfileDoc = `mutation($input: UpdateDeveloperProfileInput!) { updateDeveloperProfile(input: $input) {
		developer { id slug name bio website } userErrors { field code message } } }`
	updatePartnerProfileDoc = `mutation($input: UpdatePartnerProfileInput!) { updatePartnerProfile(input: $input) {
		partner { id name inn website } userErrors { field code message } } }`
	updateCustomerProfileDoc = `mutation($input: UpdateCustomerProfileInput!) { updateCustomerProfile(input: $input) {
		customer { id name inn } userErrors { field code message } } }`
	publicDeveloperDoc = `query($slug: String!) { developer(slug: $slug) { id slug name bio website } }`
)

// newINN is a 10-digit INN with a right check digit that no other test
// holds.
func newINN(t *testing.T) string {
	t.Helper()
	head := fmt.Sprintf("%09d", rand.IntN(1_000_000_000))
	for d := range 10 {
		if s := fmt.Sprintf("%s%d", head, d); inn.Valid(s) {
			return s
		}
	}
	t.Fatal("no check digit")
	return ""
}

// userErrorCode is the code of the first user error of a payload (the
// request itself must not fail).
func userErrorCode(t *testing.T, res Response, field string) string {
	t.Helper()
	if res.Code() != "" {
		t.Fatalf("%s: %s", field, res.Raw)
	}
	return str(res.Data, field, "userErrors", 0, "code")
}

// mustUpdate runs a profile mutation that must succeed and returns its payload.
func mustUpdate(t *testing.T, s *Server, token, doc, field string, input map[string]any) map[string]any {
	t.Helper()
	res := s.Do(t, token, doc, map[string]any{"input": input})
	p, _ := get(res.Data, field).(map[string]any)
	if ues, _ := get(p, "userErrors").([]any); res.Code() != "" || len(ues) > 0 {
		t.Fatalf("%s: %s", field, res.Raw)
	}
	return p
}

func TestUpdateProfileEditsTheViewersOwnUser(t *testing.T) {
	s := New(t)
	c := factory.Customer(t, s.Store)
	tok, _ := s.LogIn(t, c, nil)

	mustUpdate(t, s, tok, updateProfileDoc, "updateProfile", map[string]any{"name": "  Ivan Petrov ", "phone": "+7 (916) 123-45-67"})
	res := s.Do(t, tok, `{ viewer { user { name phone email } } }`, nil)
	if str(res.Data, "viewer", "user", "name") != "Ivan Petrov" || str(res.Data, "viewer", "user", "phone") != "+79161234567" ||
		str(res.Data, "viewer", "user", "email") != c.Email {
		t.Fatalf("viewer after update: %s", res.Raw)
	}
	// A null field keeps its value; an empty phone clears it.
	mustUpdate(t, s, tok, updateProfileDoc, "updateProfile", map[string]any{"phone": ""})
	res = s.Do(t, tok, `{ viewer { user { name phone } } }`, nil)
	if str(res.Data, "viewer", "user", "name") != "Ivan Petrov" || get(res.Data, "viewer", "user", "phone") != nil {
		t.Fatalf("viewer after clearing the phone: %s", res.Raw)
	}
	for _, c := range []struct {
		input map[string]any
		code  string
	}{
		{map[string]any{"name": "   "}, "NAME_INVALID"},
		{map[string]any{"name": strings.Repeat("a", 201)}, "NAME_INVALID"},
		{map[string]any{"phone": "12345"}, "PHONE_INVALID"},
		{map[string]any{"phone": "+7 916 CALL ME"}, "PHONE_INVALID"},
		{map[string]any{"phone": "+0123456789"}, "PHONE_INVALID"},
	} {
		if code := userErrorCode(t, s.Do(t, tok, updateProfileDoc, map[string]any{"input": c.input}), "updateProfile"); code != c.code {
			t.Errorf("%v: code %q, want %s", c.input, code, c.code)
		}
	}
	if r := s.Do(t, "", updateProfileDoc, map[string]any{"input": map[string]any{"name": "x"}}); r.Code() != "UNAUTHENTICATED" {
		t.Fatalf("anonymous: %s", r.Raw)
	}
	// An integration's token does not edit the human.
	secret, _ := s.newAPIToken(t, tok, "CUSTOMER")
	if r := s.Do(t, secret, updateProfileDoc, map[string]any{"input": map[string]any{"name": "Bot"}}); r.Code() != "FORBIDDEN" {
		t.Fatalf("by API token: %s", r.Raw)
	}
}

func TestUpdateDeveloperProfileShowsOnTheStorefrontAndLocksTheSlugAfterPublication(t *testing.T) {
	s := New(t)
	dev := factory.Developer(t, s.Store)
	tok, _ := s.LogIn(t, dev, nil)
	id := globalIDOf("Developer", dev.OrgID)
	slug := fmt.Sprintf("acme-%d", rand.IntN(1_000_000))

	// The storefront's page is read (and cached) before the change.
	before := s.Do(t, "", publicDeveloperDoc, map[string]any{"slug": slug})
	if before.Code() != "" || get(before.Data, "developer") != nil {
		t.Fatalf("before: %s", before.Raw)
	}
	mustUpdate(t, s, tok, updateDeveloperProfileDoc, "updateDeveloperProfile", map[string]any{"developer": id,
		"name": "Acme Software", "bio": "Configurations for 1C since 2009.", "website": "https://acme.example", "slug": slug})
	after := s.Do(t, "", publicDeveloperDoc, map[string]any{"slug": slug})
	if str(after.Data, "developer", "name") != "Acme Software" || str(after.Data, "developer", "bio") != "Configurations for 1C since 2009." ||
		str(after.Data, "developer", "website") != "https://acme.example" || str(after.Data, "developer", "id") != id {
		t.Fatalf("storefront after update: %s", after.Raw)
	}
	// A public name is cached: the next change shows at once too.
	mustUpdate(t, s, tok, updateDeveloperProfileDoc, "updateDeveloperProfile", map[string]any{"developer": id, "name": "Acme"})
	if r := s.Do(t, "", publicDeveloperDoc, map[string]any{"slug": slug}); str(r.Data, "developer", "name") != "Acme" ||
		str(r.Data, "developer", "bio") != "Configurations for 1C since 2009." {
		t.Fatalf("storefront after rename: %s", r.Raw)
	}

	other := factory.Developer(t, s.Store)
	otherTok, _ := s.LogIn(t, other, nil)
	for _, c := range []struct {
		input map[string]any
		code  string
	}{
		{map[string]any{"website": "javascript:alert(1)"}, "WEBSITE_INVALID"},
		{map[string]any{"website": "ftp://acme.example"}, "WEBSITE_INVALID"},
		{map[string]any{"website": "acme.example"}, "WEBSITE_INVALID"},
		{map[string]any{"slug": "Acme_Soft"}, "SLUG_INVALID"},
		{map[string]any{"slug": "-acme"}, "SLUG_INVALID"},
		{map[string]any{"name": ""}, "NAME_INVALID"},
	} {
		c.input["developer"] = id
		if code := userErrorCode(t, s.Do(t, tok, updateDeveloperProfileDoc, map[string]any{"input": c.input}), "updateDeveloperProfile"); code != c.code {
			t.Errorf("%v: code %q, want %s", c.input, code, c.code)
		}
	}
	// Another developer's slug is taken.
	r := s.Do(t, otherTok, updateDeveloperProfileDoc, map[string]any{"input": map[string]any{"developer": globalIDOf("Developer", other.OrgID), "slug": slug}})
	if code := userErrorCode(t, r, "updateDeveloperProfile"); code != "SLUG_TAKEN" {
		t.Fatalf("taken slug: %s", r.Raw)
	}

	// Strangers are refused and change nothing.
	customer := factory.Customer(t, s.Store)
	customerTok, _ := s.LogIn(t, customer, nil)
	partnerTok, _ := s.LogIn(t, factory.Partner(t, s.Store), nil)
	for name, stranger := range map[string]struct{ token, code string }{
		"anonymous": {"", "UNAUTHENTICATED"}, "another developer": {otherTok, "FORBIDDEN"},
		"a customer": {customerTok, "FORBIDDEN"}, "a partner": {partnerTok, "FORBIDDEN"},
	} {
		r := s.Do(t, stranger.token, updateDeveloperProfileDoc, map[string]any{"input": map[string]any{"developer": id, "name": "Hijacked", "slug": "hijacked"}})
		if r.Code() != stranger.code || get(r.Data, "updateDeveloperProfile", "developer") != nil {
			t.Errorf("%s: %s", name, r.Raw)
		}
	}
	if r := s.Do(t, "", publicDeveloperDoc, map[string]any{"slug": slug}); str(r.Data, "developer", "name") != "Acme" {
		t.Fatalf("a stranger changed the developer: %s", r.Raw)
	}

	// Once the developer has published, its slug is fixed; the rest still changes.
	factory.Configuration(t, s.Store, dev.OrgID, factory.ConfigurationOptions{})
	r = s.Do(t, tok, updateDeveloperProfileDoc, map[string]any{"input": map[string]any{"developer": id, "slug": slug + "-new", "name": "Acme Two"}})
	if code := userErrorCode(t, r, "updateDeveloperProfile"); code != "SLUG_LOCKED" || str(r.Data, "updateDeveloperProfile", "userErrors", 0, "field", 1) != "slug" {
		t.Fatalf("slug after publication: %s", r.Raw)
	}
	if r := s.Do(t, "", publicDeveloperDoc, map[string]any{"slug": slug}); str(r.Data, "developer", "name") != "Acme" {
		t.Fatalf("a refused edit changed the developer: %s", r.Raw)
	}
	// The same slug again is no change, and an admin may edit the rest.
	admin, _ := s.LogIn(t, factory.Admin(t, s.Store), nil)
	p := mustUpdate(t, s, admin, updateDeveloperProfileDoc, "updateDeveloperProfile", map[string]any{"developer": id, "slug": slug, "website": ""})
	if str(p, "developer", "slug") != slug || get(p, "developer", "website") != nil {
		t.Fatalf("admin edit: %v", p)
	}
}

func TestUpdatePartnerProfileByThePartnerOrAnAdmin(t *testing.T) {
	s := New(t)
	partner := factory.Partner(t, s.Store)
	tok, _ := s.LogIn(t, partner, nil)
	id := globalIDOf("Partner", partner.OrgID)
	taxNumber := newINN(t)

	mustUpdate(t, s, tok, updatePartnerProfileDoc, "updatePartnerProfile", map[string]any{"partner": id,
		"name": "Integrator One", "inn": taxNumber, "website": "http://integrator.example/about"})
	res := s.Do(t, tok, `{ viewer { partner { id name inn website } } }`, nil)
	if str(res.Data, "viewer", "partner", "name") != "Integrator One" || str(res.Data, "viewer", "partner", "inn") != taxNumber ||
		str(res.Data, "viewer", "partner", "website") != "http://integrator.example/about" {
		t.Fatalf("partner after update: %s", res.Raw)
	}

	other := factory.Partner(t, s.Store)
	otherTok, _ := s.LogIn(t, other, nil)
	bad := taxNumber[:9] + fmt.Sprint((int(taxNumber[9]-'0')+1)%10)
	for _, c := range []struct {
		token string
		input map[string]any
		code  string
	}{
		{tok, map[string]any{"partner": id, "inn": bad}, "INN_INVALID"},
		{tok, map[string]any{"partner": id, "inn": "12345"}, "INN_INVALID"},
		{tok, map[string]any{"partner": id, "website": "mailto:a@b.c"}, "WEBSITE_INVALID"},
		{otherTok, map[string]any{"partner": globalIDOf("Partner", other.OrgID), "inn": taxNumber}, "INN_TAKEN"},
	} {
		if code := userErrorCode(t, s.Do(t, c.token, updatePartnerProfileDoc, map[string]any{"input": c.input}), "updatePartnerProfile"); code != c.code {
			t.Errorf("%v: code %q, want %s", c.input, code, c.code)
		}
	}

	devTok, _ := s.LogIn(t, factory.Developer(t, s.Store), nil)
	customerTok, _ := s.LogIn(t, factory.Customer(t, s.Store), nil)
	for name, stranger := range map[string]struct{ token, code string }{
		"anonymous": {"", "UNAUTHENTICATED"}, "another partner": {otherTok, "FORBIDDEN"},
		"a developer": {devTok, "FORBIDDEN"}, "a customer": {customerTok, "FORBIDDEN"},
	} {
		r := s.Do(t, stranger.token, updatePartnerProfileDoc, map[string]any{"input": map[string]any{"partner": id, "name": "Hijacked"}})
		if r.Code() != stranger.code || get(r.Data, "updatePartnerProfile", "partner") != nil {
			t.Errorf("%s: %s", name, r.Raw)
		}
	}
	admin, _ := s.LogIn(t, factory.Admin(t, s.Store), nil)
	p := mustUpdate(t, s, admin, updatePartnerProfileDoc, "updatePartnerProfile", map[string]any{"partner": id, "website": ""})
	if str(p, "partner", "name") != "Integrator One" || get(p, "partner", "website") != nil {
		t.Fatalf("admin edit (strangers must have changed nothing): %v", p)
	}
}

func TestUpdateCustomerProfileChecksTheINN(t *testing.T) {
	s := New(t)
	customer := factory.Customer(t, s.Store)
	tok, _ := s.LogIn(t, customer, nil)
	id := globalIDOf("Customer", customer.OrgID)
	taxNumber := newINN(t)

	mustUpdate(t, s, tok, updateCustomerProfileDoc, "updateCustomerProfile", map[string]any{"customer": id, "name": "Romashka LLC", "inn": taxNumber})
	res := s.Do(t, tok, `{ viewer { customer { id name inn } } }`, nil)
	if str(res.Data, "viewer", "customer", "name") != "Romashka LLC" || str(res.Data, "viewer", "customer", "inn") != taxNumber {
		t.Fatalf("customer after update: %s", res.Raw)
	}

	other := factory.Customer(t, s.Store)
	otherTok, _ := s.LogIn(t, other, nil)
	for _, c := range []struct {
		token string
		input map[string]any
		code  string
	}{
		{tok, map[string]any{"customer": id, "inn": "7707083894"}, "INN_INVALID"},
		{tok, map[string]any{"customer": id, "inn": ""}, "INN_INVALID"},
		{tok, map[string]any{"customer": id, "name": "Romashka\x07"}, "NAME_INVALID"},
		{otherTok, map[string]any{"customer": globalIDOf("Customer", other.OrgID), "inn": taxNumber}, "INN_TAKEN"},
	} {
		if code := userErrorCode(t, s.Do(t, c.token, updateCustomerProfileDoc, map[string]any{"input": c.input}), "updateCustomerProfile"); code != c.code {
			t.Errorf("%v: code %q, want %s", c.input, code, c.code)
		}
	}

	devTok, _ := s.LogIn(t, factory.Developer(t, s.Store), nil)
	partnerTok, _ := s.LogIn(t, factory.Partner(t, s.Store), nil)
	for name, stranger := range map[string]struct{ token, code string }{
		"anonymous": {"", "UNAUTHENTICATED"}, "another customer": {otherTok, "FORBIDDEN"},
		"a developer": {devTok, "FORBIDDEN"}, "a partner": {partnerTok, "FORBIDDEN"},
	} {
		r := s.Do(t, stranger.token, updateCustomerProfileDoc, map[string]any{"input": map[string]any{"customer": id, "name": "Hijacked"}})
		if r.Code() != stranger.code || get(r.Data, "updateCustomerProfile", "customer") != nil {
			t.Errorf("%s: %s", name, r.Raw)
		}
	}
	if r := s.Do(t, tok, `{ viewer { customer { name } } }`, nil); str(r.Data, "viewer", "customer", "name") != "Romashka LLC" {
		t.Fatalf("a stranger changed the customer: %s", r.Raw)
	}
}

// Erasure wins (SPEC §9): once a user erased its personal data, neither its
// old session nor an admin can fill the user or its organisation in again.
func TestProfilesCannotRefillAnErasedAccount(t *testing.T) {
	s := New(t)
	ctx := context.Background()
	admin, _ := s.LogIn(t, factory.Admin(t, s.Store), nil)
	for _, c := range []struct {
		account      factory.Account
		doc, field   string
		typeName, in string
	}{
		{factory.Customer(t, s.Store), updateCustomerProfileDoc, "updateCustomerProfile", "Customer", "customer"},
		{factory.Developer(t, s.Store), updateDeveloperProfileDoc, "updateDeveloperProfile", "Developer", "developer"},
		{factory.Partner(t, s.Store), updatePartnerProfileDoc, "updatePartnerProfile", "Partner", "partner"},
	} {
		tok, _ := s.LogIn(t, c.account, nil)
		erase := s.Do(t, tok, `mutation($p: String!) { erasePersonalData(input: {password: $p}) { erased userErrors { code } } }`,
			map[string]any{"p": factory.Password})
		if get(erase.Data, "erasePersonalData", "erased") != true {
			t.Fatalf("erase: %s", erase.Raw)
		}
		if r := s.Do(t, tok, updateProfileDoc, map[string]any{"input": map[string]any{"name": "Back again"}}); r.Code() != "UNAUTHENTICATED" {
			t.Errorf("%s: the erased user's session: %s", c.typeName, r.Raw)
		}
		input := map[string]any{c.in: globalIDOf(c.typeName, c.account.OrgID), "name": "Back again"}
		if r := s.Do(t, admin, c.doc, map[string]any{"input": input}); userErrorCode(t, r, c.field) != "ACCOUNT_ERASED" {
			t.Errorf("%s: admin refill: %s", c.typeName, r.Raw)
		}
		var name string
		table := map[string]string{"Customer": "customers", "Developer": "developers", "Partner": "partners"}[c.typeName]
		if err := s.Pool.QueryRow(ctx, `select name from `+table+` where id = $1`, c.account.OrgID).Scan(&name); err != nil || name == "Back again" {
			t.Errorf("%s: name %q after a refused refill (%v)", c.typeName, name, err)
		}
	}
}
