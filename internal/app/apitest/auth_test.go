package apitest

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"configmarket/internal/app"
	"configmarket/internal/factory"
)

const viewerQuery = `{ viewer { role user { email } } }`

func TestSignUpThenQueryAsTheNewCustomer(t *testing.T) {
	s := New(t)
	res := s.Do(t, "", `mutation($input: SignUpInput!) {
		signUp(input: $input) { session { accessToken role } userErrors { code } }
	}`, map[string]any{"input": map[string]any{
		"email": "  New.Customer@Example.TEST ", "password": "long enough pw", "name": "Nina",
		"role": "CUSTOMER", "organizationName": "Nina LLC", "inn": "7707083893", "tariffPlan": "C", "crmAccountId": "crm-nina",
	}})
	if res.Code() != "" || len(get(res.Data, "signUp", "userErrors").([]any)) != 0 {
		t.Fatalf("sign up failed: %s", res.Raw)
	}
	if got := str(res.Data, "signUp", "session", "role"); got != "CUSTOMER" {
		t.Fatalf("role = %q", got)
	}
	token := str(res.Data, "signUp", "session", "accessToken")
	me := s.Do(t, token, `{ viewer { user { email } customer { name inn tariffPlan { code maxUsers monthlyPrice { amount currencyCode } } } } }`, nil)
	if str(me.Data, "viewer", "user", "email") != "new.customer@example.test" {
		t.Fatalf("email not normalised: %s", me.Raw)
	}
	if str(me.Data, "viewer", "customer", "tariffPlan", "code") != "C" ||
		str(me.Data, "viewer", "customer", "tariffPlan", "monthlyPrice", "amount") != "12000.00" {
		t.Fatalf("customer: %s", me.Raw)
	}
}

func TestLogInThenAuthenticatedQuery(t *testing.T) {
	s := New(t)
	c := factory.Customer(t, s.Store)
	access, _ := s.LogIn(t, c, nil)
	res := s.Do(t, access, viewerQuery, nil)
	if str(res.Data, "viewer", "role") != "CUSTOMER" || str(res.Data, "viewer", "user", "email") != c.Email {
		t.Fatalf("viewer: %s", res.Raw)
	}
	if anon := s.Do(t, "", viewerQuery, nil); get(anon.Data, "viewer") != nil || anon.Code() != "" {
		t.Fatalf("anonymous viewer must be null without error: %s", anon.Raw)
	}
}

func TestWrongPasswordAndUnknownEmailLookTheSame(t *testing.T) {
	s := New(t)
	c := factory.Customer(t, s.Store)
	answer := func(email, pw string) string {
		res := s.Do(t, "", logInMutation, map[string]any{"input": map[string]any{"email": email, "password": pw}})
		if get(res.Data, "logIn", "session") != nil {
			t.Fatalf("logged in with a wrong password: %s", res.Raw)
		}
		return strings.Join([]string{str(res.Data, "logIn", "userErrors", 0, "code"), str(res.Data, "logIn", "userErrors", 0, "message")}, "|")
	}
	wrongPw := answer(c.Email, "wrong password")
	unknown := answer("nobody@example.test", "wrong password")
	if wrongPw != unknown || !strings.HasPrefix(wrongPw, "INVALID_CREDENTIALS|") {
		t.Fatalf("answers differ or wrong code: %q vs %q", wrongPw, unknown)
	}
}

// validClaims reads the claims of a token the server issued, so a test can
// re-sign them with exactly one rule broken.
func validClaims(t *testing.T, access string) jwt.MapClaims {
	t.Helper()
	parts := strings.Split(access, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

func (s *Server) privateKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, enc, _ := strings.Cut(s.KeySpec, "=")
	seed, err := base64.RawStdEncoding.DecodeString(enc)
	if err != nil {
		t.Fatal(err)
	}
	return ed25519.NewKeyFromSeed(seed)
}

func signWith(t *testing.T, method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	raw, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestRejectedTokensAreUnauthenticated(t *testing.T) {
	s := New(t)
	c := factory.Customer(t, s.Store)
	access, _ := s.LogIn(t, c, nil)
	priv := s.privateKey(t)
	pub := priv.Public().(ed25519.PublicKey)
	base := validClaims(t, access)
	with := func(k string, v any) jwt.MapClaims {
		out := jwt.MapClaims{}
		for key, val := range base {
			out[key] = val
		}
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
		return out
	}
	_, foreign, _ := ed25519.GenerateKey(nil)

	cases := []struct {
		name  string
		token string
	}{
		{"wrong algorithm (HS256 keyed with the public key)", signWith(t, jwt.SigningMethodHS256, []byte(pub), "test-key", base)},
		{"alg none", signWith(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "test-key", base)},
		{"missing exp", signWith(t, jwt.SigningMethodEdDSA, priv, "test-key", with("exp", nil))},
		{"missing aud", signWith(t, jwt.SigningMethodEdDSA, priv, "test-key", with("aud", nil))},
		{"wrong aud", signWith(t, jwt.SigningMethodEdDSA, priv, "test-key", with("aud", "another-api"))},
		{"wrong iss", signWith(t, jwt.SigningMethodEdDSA, priv, "test-key", with("iss", "evil"))},
		{"expired", signWith(t, jwt.SigningMethodEdDSA, priv, "test-key", with("exp", time.Now().Add(-time.Hour).Unix()))},
		{"kid not in the server's keyset", signWith(t, jwt.SigningMethodEdDSA, priv, "other-key", base)},
		{"signed by a foreign key", signWith(t, jwt.SigningMethodEdDSA, foreign, "test-key", base)},
		{"unknown session", signWith(t, jwt.SigningMethodEdDSA, priv, "test-key", with("sid", uuid.NewString()))},
		{"garbage", "not-a-token"},
	}
	// Control: the untouched claims re-signed are accepted, so each failure
	// below is caused by its one change.
	if res := s.Do(t, signWith(t, jwt.SigningMethodEdDSA, priv, "test-key", base), viewerQuery, nil); res.Code() != "" {
		t.Fatalf("control token rejected: %s", res.Raw)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := s.Do(t, tc.token, viewerQuery, nil)
			if res.Code() != "UNAUTHENTICATED" || res.Data != nil {
				t.Fatalf("want UNAUTHENTICATED and no data, got %s", res.Raw)
			}
		})
	}
}

func TestMalformedAuthorizationHeader(t *testing.T) {
	s := New(t)
	req := `{"query":"{ tariffPlans { code } }"}`
	for _, header := range []string{"Basic dXNlcjpwdw==", "Bearer", "Bearer    ", "token"} {
		res := s.raw(t, "POST", "/graphql", "application/json", req, map[string]string{"Authorization": header})
		if !strings.Contains(res.body, `"UNAUTHENTICATED"`) || strings.Contains(res.body, `"tariffPlans"`) {
			t.Errorf("%q: %s", header, res.body)
		}
	}
}

func TestRevokedTokenAfterLogOut(t *testing.T) {
	s := New(t)
	c := factory.Customer(t, s.Store)
	access, refresh := s.LogIn(t, c, nil)
	out := s.Do(t, access, `mutation { logOut { loggedOut userErrors { code } } }`, nil)
	if get(out.Data, "logOut", "loggedOut") != true {
		t.Fatalf("log out: %s", out.Raw)
	}
	if res := s.Do(t, access, viewerQuery, nil); res.Code() != "UNAUTHENTICATED" {
		t.Fatalf("revoked access token accepted: %s", res.Raw)
	}
	res := s.Do(t, "", `mutation($r: String!) { refreshToken(input: {refreshToken: $r}) { session { accessToken } userErrors { code } } }`,
		map[string]any{"r": refresh})
	if str(res.Data, "refreshToken", "userErrors", 0, "code") != "INVALID_REFRESH_TOKEN" {
		t.Fatalf("refresh after logout: %s", res.Raw)
	}
}

func TestLogOutWithRefreshTokenOnly(t *testing.T) {
	s := New(t)
	c := factory.Customer(t, s.Store)
	access, refresh := s.LogIn(t, c, nil)
	out := s.Do(t, "", `mutation($r: String) { logOut(input: {refreshToken: $r}) { loggedOut } }`, map[string]any{"r": refresh})
	if get(out.Data, "logOut", "loggedOut") != true {
		t.Fatalf("log out: %s", out.Raw)
	}
	if res := s.Do(t, access, viewerQuery, nil); res.Code() != "UNAUTHENTICATED" {
		t.Fatalf("session still live: %s", res.Raw)
	}
}

const refreshMutation = `mutation($r: String!) {
	refreshToken(input: {refreshToken: $r}) { session { accessToken refreshToken } userErrors { code } }
}`

func TestRefreshRotatesAndReuseRevokesTheSession(t *testing.T) {
	s := New(t)
	c := factory.Customer(t, s.Store)
	_, first := s.LogIn(t, c, nil)

	rotated := s.Do(t, "", refreshMutation, map[string]any{"r": first})
	access2, second := str(rotated.Data, "refreshToken", "session", "accessToken"), str(rotated.Data, "refreshToken", "session", "refreshToken")
	if access2 == "" || second == "" || second == first {
		t.Fatalf("rotation: %s", rotated.Raw)
	}
	if res := s.Do(t, access2, viewerQuery, nil); res.Code() != "" {
		t.Fatalf("rotated access token: %s", res.Raw)
	}
	// The first token again: it leaked. The whole session ends.
	reuse := s.Do(t, "", refreshMutation, map[string]any{"r": first})
	if str(reuse.Data, "refreshToken", "userErrors", 0, "code") != "INVALID_REFRESH_TOKEN" {
		t.Fatalf("reuse accepted: %s", reuse.Raw)
	}
	if res := s.Do(t, access2, viewerQuery, nil); res.Code() != "UNAUTHENTICATED" {
		t.Fatalf("session survived refresh-token reuse: %s", res.Raw)
	}
	if res := s.Do(t, "", refreshMutation, map[string]any{"r": second}); str(res.Data, "refreshToken", "userErrors", 0, "code") != "INVALID_REFRESH_TOKEN" {
		t.Fatalf("second token survived reuse: %s", res.Raw)
	}
}

func TestTokenClaimingARoleNotHeldIsForbidden(t *testing.T) {
	s := New(t)
	c := factory.Customer(t, s.Store)
	p := factory.Partner(t, s.Store)
	access, _ := s.LogIn(t, c, nil)
	priv := s.privateKey(t)
	base := validClaims(t, access)
	claim := func(role, act string) string {
		cl := jwt.MapClaims{}
		for k, v := range base {
			cl[k] = v
		}
		cl["role"] = role
		if act == "" {
			delete(cl, "act")
		} else {
			cl["act"] = act
		}
		return signWith(t, jwt.SigningMethodEdDSA, priv, "test-key", cl)
	}
	for name, token := range map[string]string{
		"admin":                      claim("admin", ""),
		"partner of another subject": claim("partner", p.OrgID.String()),
		"customer of another org":    claim("customer", factory.Customer(t, s.Store).OrgID.String()),
	} {
		t.Run(name, func(t *testing.T) {
			res := s.Do(t, token, viewerQuery, nil)
			if res.Code() != "FORBIDDEN" || res.Data != nil {
				t.Fatalf("want FORBIDDEN, got %s", res.Raw)
			}
		})
	}
}

func TestOneHumanWithTwoRolesChoosesAtLogIn(t *testing.T) {
	s := New(t)
	dev := factory.Developer(t, s.Store)
	partner := factory.AlsoPartner(t, s.Store, dev)

	ambiguous := s.Do(t, "", logInMutation, map[string]any{"input": map[string]any{"email": dev.Email, "password": factory.Password}})
	if str(ambiguous.Data, "logIn", "userErrors", 0, "code") != "ROLE_REQUIRED" {
		t.Fatalf("ambiguous login: %s", ambiguous.Raw)
	}
	notHeld := s.Do(t, "", logInMutation, map[string]any{"input": map[string]any{"email": dev.Email, "password": factory.Password, "role": "ADMIN"}})
	if str(notHeld.Data, "logIn", "userErrors", 0, "code") != "ROLE_NOT_HELD" {
		t.Fatalf("admin login: %s", notHeld.Raw)
	}
	access, _ := s.LogIn(t, dev, map[string]any{"role": "PARTNER"})
	res := s.Do(t, access, `{ viewer { role partner { id } developer { id } roles { role } } }`, nil)
	if str(res.Data, "viewer", "role") != "PARTNER" || get(res.Data, "viewer", "developer") != nil ||
		str(res.Data, "viewer", "partner", "id") != globalIDOf("Partner", partner.OrgID) {
		t.Fatalf("partner session: %s", res.Raw)
	}
	if roles := get(res.Data, "viewer", "roles").([]any); len(roles) != 2 {
		t.Fatalf("roles: %s", res.Raw)
	}
}

var jwtEdDSA = jwt.SigningMethodEdDSA

// Failed logins answer later and later: none for two typos, then the
// backoff doubling (here 40 ms: 40, 80, 160 ms).
func TestFailedLoginsAnswerWithGrowingDelays(t *testing.T) {
	s := New(t)
	s.App.Accounts().SetLoginBackoff(40 * time.Millisecond)
	c := factory.Customer(t, s.Store)
	var took []time.Duration
	for range 5 {
		start := time.Now()
		s.Do(t, "", logInMutation, map[string]any{"input": map[string]any{"email": c.Email, "password": "wrong password"}})
		took = append(took, time.Since(start))
	}
	for i, least := range []time.Duration{0, 0, 40 * time.Millisecond, 80 * time.Millisecond, 160 * time.Millisecond} {
		if took[i] < least {
			t.Errorf("failure %d answered in %v, want at least %v", i+1, took[i], least)
		}
	}
}

func TestRepeatedFailedLoginsLockTheAccount(t *testing.T) {
	s := New(t)
	c := factory.Customer(t, s.Store)
	codeOf := func(pw string) string {
		res := s.Do(t, "", logInMutation, map[string]any{"input": map[string]any{"email": c.Email, "password": pw}})
		if res.Code() != "" {
			return res.Code() + "/" + str(res.Errors[0].Extensions, "reason")
		}
		return str(res.Data, "logIn", "userErrors", 0, "code")
	}
	for i := range 10 {
		if got := codeOf("wrong password"); got != "INVALID_CREDENTIALS" {
			t.Fatalf("failure %d: %s", i+1, got)
		}
	}
	// The 11th attempt is refused even with the right password.
	if got := codeOf(factory.Password); got != "RATE_LIMITED/LOGIN_LOCKED" && got != "LOGIN_LOCKED" {
		t.Fatalf("after 10 failures: %s", got)
	}
	// An unknown email is counted and locked the same way.
	for range 10 {
		s.Do(t, "", logInMutation, map[string]any{"input": map[string]any{"email": "ghost@example.test", "password": "x"}})
	}
	res := s.Do(t, "", logInMutation, map[string]any{"input": map[string]any{"email": "ghost@example.test", "password": "x"}})
	if !strings.Contains(res.Raw, "LOGIN_LOCKED") {
		t.Fatalf("unknown email not locked: %s", res.Raw)
	}
}

func TestAllowedNetworksRestrictLoginsAndTokens(t *testing.T) {
	s := New(t)
	c := factory.Customer(t, s.Store)
	access, _ := s.LogIn(t, c, nil)
	set := `mutation($n: [String!]!) { setAllowedNetworks(input: {networks: $n}) { networks userErrors { code } } }`
	if r := s.Do(t, access, set, map[string]any{"n": []string{"10.0.0.0/8"}}); str(r.Data, "setAllowedNetworks", "userErrors", 0, "code") != "NETWORK_WOULD_LOCK_OUT" {
		t.Fatalf("lock-out list accepted: %s", r.Raw)
	}
	if r := s.Do(t, access, set, map[string]any{"n": []string{"127.0.0.0/8"}}); str(r.Data, "setAllowedNetworks", "networks", 0) != "127.0.0.0/8" {
		t.Fatalf("own network refused: %s", r.Raw)
	}
	if r := s.Do(t, access, viewerQuery, nil); r.Code() != "" {
		t.Fatalf("token from an allowed network: %s", r.Raw)
	}
	// Elsewhere (as seen from here: a list without our address).
	if _, err := s.Pool.Exec(context.Background(), `update users set allowed_networks = '{10.0.0.0/8}' where id = $1`, c.UserID); err != nil {
		t.Fatal(err)
	}
	if r := s.Do(t, access, viewerQuery, nil); r.Code() != "FORBIDDEN" {
		t.Fatalf("token used from a refused network: %s", r.Raw)
	}
	res := s.Do(t, "", logInMutation, map[string]any{"input": map[string]any{"email": c.Email, "password": factory.Password}})
	if str(res.Data, "logIn", "userErrors", 0, "code") != "NETWORK_NOT_ALLOWED" {
		t.Fatalf("login from a refused network: %s", res.Raw)
	}
}

func TestAdminsOnlyFromAdminNetworks(t *testing.T) {
	s := New(t)
	admin := factory.Admin(t, s.Store)
	access, _ := s.LogIn(t, admin, nil)
	d := s.Deps
	d.AdminNetworks = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	restricted := httptest.NewServer(app.New(d).Handler())
	defer restricted.Close()
	body := `{"query":"{ viewer { role } }"}`
	req, _ := http.NewRequest("POST", restricted.URL+"/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+access)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if !strings.Contains(string(b), "NETWORK_NOT_ALLOWED") {
		t.Fatalf("admin token from outside the admin networks: %s", b)
	}
}

func TestPasswordChangeRevokesEveryOtherToken(t *testing.T) {
	s := New(t)
	c := factory.Customer(t, s.Store)
	first, _ := s.LogIn(t, c, nil)
	second, secondRefresh := s.LogIn(t, c, nil) // another device
	res := s.Do(t, first, `mutation { changePassword(input: {currentPassword: "factory-password-1", newPassword: "a brand new password"}) {
		session { accessToken } userErrors { code } } }`, nil)
	fresh := str(res.Data, "changePassword", "session", "accessToken")
	if fresh == "" {
		t.Fatalf("change: %s", res.Raw)
	}
	for name, tok := range map[string]string{"this device's old token": first, "another device": second} {
		if r := s.Do(t, tok, viewerQuery, nil); r.Code() != "UNAUTHENTICATED" {
			t.Errorf("%s still works: %s", name, r.Raw)
		}
	}
	if r := s.Do(t, "", refreshMutation, map[string]any{"r": secondRefresh}); str(r.Data, "refreshToken", "userErrors", 0, "code") != "INVALID_REFRESH_TOKEN" {
		t.Errorf("old refresh token still works: %s", r.Raw)
	}
	if r := s.Do(t, fresh, viewerQuery, nil); r.Code() != "" {
		t.Fatalf("the new session: %s", r.Raw)
	}
	wrong := s.Do(t, fresh, `mutation { changePassword(input: {currentPassword: "nope", newPassword: "another new password"}) { userErrors { code } } }`, nil)
	if str(wrong.Data, "changePassword", "userErrors", 0, "code") != "INVALID_CREDENTIALS" {
		t.Fatalf("wrong current password: %s", wrong.Raw)
	}
}
