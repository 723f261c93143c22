package auth

import (
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/identity"
)

var t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func newTokens(t *testing.T, spec string, now time.Time) *Tokens {
	t.Helper()
	ks, err := ParseKeyset(spec)
	if err != nil {
		t.Fatal(err)
	}
	return NewTokens(ks, Config{
		Issuer: "config-market", Audience: "config-market-api",
		AccessTTL: 15 * time.Minute, Leeway: 30 * time.Second,
		Now: func() time.Time { return now },
	})
}

func mustSeed(t *testing.T, kid string) string {
	t.Helper()
	s, err := NewSeed(kid)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func customer() identity.Viewer {
	return identity.Viewer{UserID: uuid.New(), SessionID: uuid.New(), Role: identity.RoleCustomer, ActingFor: uuid.New()}
}

func TestIssueVerifyRoundTrip(t *testing.T) {
	tk := newTokens(t, mustSeed(t, "k1"), t0)
	v := customer()
	raw, exp, err := tk.Issue(v)
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(t0.Add(15 * time.Minute)) {
		t.Fatalf("exp = %v", exp)
	}
	got, err := tk.Verify(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !got.ExpiresAt.Equal(exp) {
		t.Fatalf("expiry %v, want %v", got.ExpiresAt, exp)
	}
	got.ExpiresAt = time.Time{}
	if got != v {
		t.Fatalf("got %+v want %+v", got, v)
	}
}

// sign builds a token by hand so each test can break exactly one rule.
func sign(t *testing.T, method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestVerifyRejects(t *testing.T) {
	spec := mustSeed(t, "k1")
	tk := newTokens(t, spec, t0)
	ks, _ := ParseKeyset(spec)
	priv := ks.private["k1"]
	pub := priv.Public().(ed25519.PublicKey)
	v := customer()

	good := func() jwt.MapClaims {
		return jwt.MapClaims{
			"iss": "config-market", "aud": "config-market-api", "sub": v.UserID.String(),
			"exp": t0.Add(10 * time.Minute).Unix(), "iat": t0.Unix(),
			"sid": v.SessionID.String(), "role": "customer", "act": v.ActingFor.String(),
		}
	}
	without := func(k string) jwt.MapClaims { c := good(); delete(c, k); return c }
	with := func(k string, val any) jwt.MapClaims { c := good(); c[k] = val; return c }
	_, otherPriv, _ := ed25519.GenerateKey(nil)

	cases := map[string]string{
		"control (valid)":             sign(t, jwt.SigningMethodEdDSA, priv, "k1", good()),
		"alg none":                    sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "k1", good()),
		"HS256 keyed with public key": sign(t, jwt.SigningMethodHS256, []byte(pub), "k1", good()),
		"missing exp":                 sign(t, jwt.SigningMethodEdDSA, priv, "k1", without("exp")),
		"missing aud":                 sign(t, jwt.SigningMethodEdDSA, priv, "k1", without("aud")),
		"wrong aud":                   sign(t, jwt.SigningMethodEdDSA, priv, "k1", with("aud", "someone-else")),
		"wrong iss":                   sign(t, jwt.SigningMethodEdDSA, priv, "k1", with("iss", "evil")),
		"missing iss":                 sign(t, jwt.SigningMethodEdDSA, priv, "k1", without("iss")),
		"expired beyond leeway":       sign(t, jwt.SigningMethodEdDSA, priv, "k1", with("exp", t0.Add(-31*time.Second).Unix())),
		"issued in the future":        sign(t, jwt.SigningMethodEdDSA, priv, "k1", with("iat", t0.Add(time.Hour).Unix())),
		"not valid yet":               sign(t, jwt.SigningMethodEdDSA, priv, "k1", with("nbf", t0.Add(time.Hour).Unix())),
		"unknown kid":                 sign(t, jwt.SigningMethodEdDSA, priv, "k2", good()),
		"no kid":                      sign(t, jwt.SigningMethodEdDSA, priv, "", good()),
		"foreign key with our kid":    sign(t, jwt.SigningMethodEdDSA, otherPriv, "k1", good()),
		"unknown role":                sign(t, jwt.SigningMethodEdDSA, priv, "k1", with("role", "root")),
		"subject not a uuid":          sign(t, jwt.SigningMethodEdDSA, priv, "k1", with("sub", "admin")),
		"missing session":             sign(t, jwt.SigningMethodEdDSA, priv, "k1", without("sid")),
		"customer without act":        sign(t, jwt.SigningMethodEdDSA, priv, "k1", without("act")),
		"admin acting for someone":    sign(t, jwt.SigningMethodEdDSA, priv, "k1", with("role", "admin")),
		"garbage":                     "not.a.jwt",
	}
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := tk.Verify(raw)
			if name == "control (valid)" {
				if err != nil {
					t.Fatalf("control token rejected: %v", err)
				}
				return
			}
			if !apperr.Is(err, apperr.KindUnauthenticated) {
				t.Fatalf("err = %v, want UNAUTHENTICATED", err)
			}
		})
	}
}

func TestExpiryAndLeeway(t *testing.T) {
	spec := mustSeed(t, "k1")
	raw, _, err := newTokens(t, spec, t0).Issue(customer())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newTokens(t, spec, t0.Add(15*time.Minute+20*time.Second)).Verify(raw); err != nil {
		t.Fatalf("within leeway: %v", err)
	}
	_, err = newTokens(t, spec, t0.Add(16*time.Minute)).Verify(raw)
	e, ok := apperr.As(err)
	if !ok || e.Kind != apperr.KindUnauthenticated || e.PublicCode() != "TOKEN_EXPIRED" {
		t.Fatalf("expired: %v", err)
	}
}

func TestKeyRotation(t *testing.T) {
	oldKey, newKey := mustSeed(t, "2026-10"), mustSeed(t, "2026-11")
	before := newTokens(t, oldKey, t0)
	during := newTokens(t, newKey+","+oldKey, t0)
	after := newTokens(t, newKey, t0)

	oldTok, _, _ := before.Issue(customer())
	newTok, _, _ := during.Issue(customer())
	if _, err := during.Verify(oldTok); err != nil {
		t.Fatalf("old key must verify during rotation: %v", err)
	}
	if _, err := after.Verify(newTok); err != nil {
		t.Fatalf("new key signs during rotation: %v", err)
	}
	if _, err := after.Verify(oldTok); err == nil {
		t.Fatal("retired key must no longer verify")
	}
}

func TestParseKeysetErrors(t *testing.T) {
	for _, spec := range []string{"", "k1", "=abc", "k1=notbase64!!", "k1=c2hvcnQ", mustSeed(t, "a") + "," + mustSeed(t, "a")} {
		if _, err := ParseKeyset(spec); err == nil {
			t.Errorf("%q accepted", spec)
		}
	}
}
