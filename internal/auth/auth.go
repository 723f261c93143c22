// Package auth issues and verifies access tokens (JWT, EdDSA). It is the only
// code that speaks JWT. A verified token is only a claim: the account domain
// still checks the session and the role against the database.
package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/identity"
)

// Only one algorithm is ever accepted: a token naming another (HS256 signed
// with the public key, "none") fails before any key is used.
const algorithm = "EdDSA"

// Keyset holds the server's own signing keys by key id. The first key signs;
// every key verifies, so a retiring key stays valid while its tokens live.
type Keyset struct {
	signingID string
	private   map[string]ed25519.PrivateKey
}

// ParseKeyset reads "kid=base64seed[,kid=base64seed...]", where each seed is
// a 32-byte Ed25519 seed in standard or URL base64.
func ParseKeyset(spec string) (*Keyset, error) {
	ks := &Keyset{private: map[string]ed25519.PrivateKey{}}
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		kid, enc, ok := strings.Cut(item, "=")
		if !ok || kid == "" {
			return nil, errors.New("jwt key: want kid=base64seed")
		}
		seed, err := decodeSeed(enc)
		if err != nil {
			return nil, fmt.Errorf("jwt key %q: %w", kid, err)
		}
		if _, dup := ks.private[kid]; dup {
			return nil, fmt.Errorf("jwt key %q: duplicate key id", kid)
		}
		ks.private[kid] = ed25519.NewKeyFromSeed(seed)
		if ks.signingID == "" {
			ks.signingID = kid
		}
	}
	if ks.signingID == "" {
		return nil, errors.New("jwt keys: none given")
	}
	return ks, nil
}

func decodeSeed(enc string) ([]byte, error) {
	enc = strings.TrimRight(enc, "=")
	for _, e := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := e.DecodeString(enc); err == nil {
			if len(b) != ed25519.SeedSize {
				return nil, fmt.Errorf("seed is %d bytes, want %d", len(b), ed25519.SeedSize)
			}
			return b, nil
		}
	}
	return nil, errors.New("seed is not base64")
}

// NewSeed returns a fresh key spec entry ("kid=seed") for kid.
func NewSeed(kid string) (string, error) {
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return "", err
	}
	return kid + "=" + base64.RawStdEncoding.EncodeToString(seed), nil
}

// Config are the claims every token must carry and how long it lives.
type Config struct {
	Issuer    string
	Audience  string
	AccessTTL time.Duration
	// Leeway absorbs clock skew between instances; keep it small.
	Leeway time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Claims are the registered claims plus who the subject acts as.
type Claims struct {
	jwt.RegisteredClaims
	SessionID string `json:"sid"`
	Role      string `json:"role"`
	ActingFor string `json:"act,omitempty"`
}

// Tokens issues and verifies access tokens.
type Tokens struct {
	keys   *Keyset
	cfg    Config
	parser *jwt.Parser
}

// NewTokens binds a keyset to the token rules.
func NewTokens(keys *Keyset, cfg Config) *Tokens {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Tokens{
		keys: keys,
		cfg:  cfg,
		// golang-jwt accepts a token without exp or aud unless told not to.
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{algorithm}),
			jwt.WithIssuer(cfg.Issuer),
			jwt.WithAudience(cfg.Audience),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(cfg.Leeway),
			jwt.WithTimeFunc(cfg.Now),
		),
	}
}

// Issue signs an access token for v and returns it with its expiry.
func (t *Tokens) Issue(v identity.Viewer) (string, time.Time, error) {
	now := t.cfg.Now()
	exp := now.Add(t.cfg.AccessTTL)
	claims := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.cfg.Issuer,
			Subject:   v.UserID.String(),
			Audience:  jwt.ClaimStrings{t.cfg.Audience},
			ExpiresAt: jwt.NewNumericDate(exp),
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ID:        uuid.NewString(),
		},
		SessionID: v.SessionID.String(),
		Role:      string(v.Role),
	}
	if v.ActingFor != uuid.Nil {
		claims.ActingFor = v.ActingFor.String()
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	tok.Header["kid"] = t.keys.signingID
	signed, err := tok.SignedString(t.keys.private[t.keys.signingID])
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign access token: %w", err)
	}
	return signed, exp, nil
}

// Verify checks the signature and every claim rule and returns the viewer
// the token claims to be. The caller must still check the session and role.
func (t *Tokens) Verify(raw string) (identity.Viewer, error) {
	var claims Claims
	_, err := t.parser.ParseWithClaims(raw, &claims, t.keyFor)
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return identity.Viewer{}, apperr.Unauthenticated("access token expired").WithCode("TOKEN_EXPIRED")
		}
		return identity.Viewer{}, &apperr.Error{Kind: apperr.KindUnauthenticated, Message: "invalid access token", Err: err}
	}
	v, err := claims.viewer()
	if err != nil {
		return identity.Viewer{}, &apperr.Error{Kind: apperr.KindUnauthenticated, Message: "invalid access token", Err: err}
	}
	return v, nil
}

// keyFor looks the kid up in the server's own keyset only: a token can never
// bring or point at its own key (jku, x5u and embedded jwk are ignored).
func (t *Tokens) keyFor(tok *jwt.Token) (any, error) {
	kid, _ := tok.Header["kid"].(string)
	key, ok := t.keys.private[kid]
	if !ok {
		return nil, fmt.Errorf("unknown key id %q", kid)
	}
	return key.Public(), nil
}

func (c Claims) viewer() (identity.Viewer, error) {
	user, err := uuid.Parse(c.Subject)
	if err != nil {
		return identity.Viewer{}, fmt.Errorf("sub: %w", err)
	}
	sid, err := uuid.Parse(c.SessionID)
	if err != nil {
		return identity.Viewer{}, fmt.Errorf("sid: %w", err)
	}
	role := identity.Role(c.Role)
	if !role.Valid() {
		return identity.Viewer{}, fmt.Errorf("role %q", c.Role)
	}
	v := identity.Viewer{UserID: user, SessionID: sid, Role: role}
	if c.ExpiresAt != nil {
		v.ExpiresAt = c.ExpiresAt.Time
	}
	if role.ActsForOrganisation() {
		if v.ActingFor, err = uuid.Parse(c.ActingFor); err != nil {
			return identity.Viewer{}, fmt.Errorf("act: %w", err)
		}
	} else if c.ActingFor != "" {
		return identity.Viewer{}, errors.New("act: admin acts for no organisation")
	}
	return v, nil
}
