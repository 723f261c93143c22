package account

import (
	"context"
	"encoding/base32"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/audit"
	"configmarket/internal/identity"
	"configmarket/internal/relay"
	"configmarket/internal/store"
)

// API tokens (issue 22 item 7) let a user's integrations (a developer's CI)
// act in ONE role the user holds, for one organisation, without a password:
// `Authorization: Bearer cm_...` wherever an access token is accepted.
const (
	// APITokenPrefix starts every API token, so Authenticate (and a secret
	// scanner) tells them from access tokens.
	APITokenPrefix = "cm_"
	// MaxAPITokenLifetime bounds expiresAt: every token ends, at the
	// latest a year after it was made.
	MaxAPITokenLifetime = 366 * 24 * time.Hour
	// apiTokenTouchInterval is how often a token's lastUsedAt is written
	// at most: a busy CI writes once a minute, not once a request.
	apiTokenTouchInterval = time.Minute
	apiTokenSecretBytes   = 32
	// apiTokenDisplayLen is the non-secret part kept for display: "cm_"
	// and 8 of the 52 characters of the secret (40 of its 256 bits).
	apiTokenDisplayLen = len(APITokenPrefix) + 8
)

var apiTokenEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// apiTokenLen is the length of every token this service makes.
var apiTokenLen = len(APITokenPrefix) + apiTokenEncoding.EncodedLen(apiTokenSecretBytes)

// errBadAPIToken is the one answer for an unknown, revoked or expired
// token and for an erased user's: the same refusal as a bad access token.
var errBadAPIToken = apperr.Unauthenticated("invalid access token")

// errByAPIToken refuses credential management to a request made with an
// API token.
var errByAPIToken = apperr.Forbidden("an API token cannot do this: log in").WithCode("API_TOKEN_NOT_ALLOWED")

// CreateAPITokenInput is a token to make for the viewer's user.
type CreateAPITokenInput struct {
	Name string
	// Role is the one role the token acts in; the user must hold it.
	Role identity.Role
	// ActingFor picks the organisation when the user holds Role for
	// several; uuid.Nil otherwise.
	ActingFor uuid.UUID
	ExpiresAt time.Time
}

// NewAPIToken is a token just made: its secret is handed out this once.
type NewAPIToken struct {
	Token  APIToken
	Secret string
}

// CreateAPIToken makes a token for the viewer's user in one role it holds.
func (s *Service) CreateAPIToken(ctx context.Context, v identity.Viewer, in CreateAPITokenInput) (NewAPIToken, error) {
	if v.Anonymous() {
		return NewAPIToken{}, apperr.Unauthenticated("log in first")
	}
	// SECURITY: tokens do not make tokens: a leaked token could otherwise
	// outlive its own revocation and expiry through the tokens it made.
	if v.ByAPIToken() {
		return NewAPIToken{}, errByAPIToken
	}
	now := s.now()
	if err := validateAPIToken(&in, now).Err(); err != nil {
		return NewAPIToken{}, err
	}
	grants, err := s.store.RoleGrants(ctx, v.UserID)
	if err != nil {
		return NewAPIToken{}, err
	}
	// SECURITY: a token acts in one role its user holds, for one of that
	// role's organisations, and never more (SPEC §1): Authenticate checks
	// the grant again on every use.
	grant, err := chooseGrant(grants, in.Role, in.ActingFor)
	if e, ok := apperr.As(err); ok && e.Kind == apperr.KindForbidden {
		return NewAPIToken{}, apperr.Invalid("input.role", "the account does not hold this role").WithCode("ROLE_NOT_HELD")
	} else if ok && e.Code == "ROLE_REQUIRED" {
		return NewAPIToken{}, apperr.Invalid("input.actingFor", "the account holds this role for several organisations: choose one with actingFor").WithCode("ROLE_REQUIRED")
	} else if err != nil {
		return NewAPIToken{}, err
	}
	secret := APITokenPrefix + strings.ToLower(apiTokenEncoding.EncodeToString(randomBytes(apiTokenSecretBytes)))
	var made NewAPIToken
	err = s.store.InTx(ctx, func(q *store.Queries) error {
		t, err := q.CreateAPIToken(ctx, store.NewAPIToken{
			UserID: v.UserID, Name: in.Name, Role: grant.Role, ActingFor: *grant.ActingFor,
			Hash: hashToken(secret), Prefix: secret[:apiTokenDisplayLen], CreatedAt: now, ExpiresAt: in.ExpiresAt,
		})
		if err == nil {
			audit.SetTarget(ctx, relay.UUIDID(relay.TypeAPIToken, t.ID))
			made = NewAPIToken{Token: t, Secret: secret}
		}
		return err
	}, store.Audit(audit.From(ctx)))
	return made, err
}

func validateAPIToken(in *CreateAPITokenInput, now time.Time) apperr.List {
	var errs apperr.List
	in.Name = strings.TrimSpace(in.Name)
	if n := utf8.RuneCountInString(in.Name); n < 1 || n > 100 {
		errs = append(errs, apperr.Invalid("input.name", "name must be 1 to 100 characters long"))
	}
	if !in.Role.ActsForOrganisation() {
		// Admins act in sessions only, from the admin networks.
		errs = append(errs, apperr.Invalid("input.role", "API tokens act as a customer, developer or partner"))
	}
	if !in.ExpiresAt.After(now) || in.ExpiresAt.Sub(now) > MaxAPITokenLifetime {
		errs = append(errs, apperr.Invalid("input.validUntil", "validUntil must be in the future and at most 366 days ahead").WithCode("EXPIRY_INVALID"))
	}
	return errs
}

// RevokeAPIToken revokes one of the viewer's user's tokens at once.
func (s *Service) RevokeAPIToken(ctx context.Context, v identity.Viewer, id uuid.UUID) (APIToken, error) {
	if v.Anonymous() {
		return APIToken{}, apperr.Unauthenticated("log in first")
	}
	audit.SetTarget(ctx, relay.UUIDID(relay.TypeAPIToken, id))
	var t APIToken
	// SECURITY: a user revokes only its own tokens (another's is NOT_FOUND,
	// as if it did not exist; row-level security holds it too); a token
	// may revoke itself or its siblings: a leak is stopped with what leaked.
	err := s.store.InTx(ctx, func(q *store.Queries) (err error) {
		t, err = q.RevokeAPIToken(ctx, v.UserID, id, s.now())
		return err
	}, store.Audit(audit.From(ctx)))
	if apperr.Is(err, apperr.KindNotFound) {
		return APIToken{}, apperr.NotFound("API token").WithField("input", "id")
	}
	return t, err
}

// APITokens lists the viewer's user's tokens, newest first, revoked and
// expired ones too (their lastUsedAt is the history of the integration).
func (s *Service) APITokens(ctx context.Context, v identity.Viewer) ([]APIToken, error) {
	// SECURITY: a user's tokens are its own; the call names nobody else.
	if v.Anonymous() {
		return nil, apperr.Hidden(v, "")
	}
	return s.store.APITokensOf(ctx, v.UserID)
}

// authenticateAPIToken turns an API token into the viewer of its one role.
func (s *Service) authenticateAPIToken(ctx context.Context, secret string) (identity.Viewer, error) {
	if len(secret) != apiTokenLen {
		return identity.Viewer{}, errBadAPIToken
	}
	// Nobody is known before the token is: it is looked up as the platform.
	sys := identity.AsSystem(ctx)
	g, err := s.store.APITokenByHash(sys, hashToken(secret), originIP(ctx))
	if apperr.Is(err, apperr.KindNotFound) {
		return identity.Viewer{}, errBadAPIToken
	}
	if err != nil {
		return identity.Viewer{}, err
	}
	t, now := g.Token, s.now()
	// SECURITY: a revoked or expired token, or an erased user's, is no
	// credential at all.
	if t.RevokedAt != nil || !t.ExpiresAt.After(now) || !g.UserLive {
		return identity.Viewer{}, errBadAPIToken
	}
	role := identity.Role(t.Role)
	// SECURITY: a token is used only from the networks its user allows.
	if !g.IPAllowed || !s.networkAllowed(ctx, role) {
		return identity.Viewer{}, errNetwork
	}
	// SECURITY: the token's role is checked against the user's grants on
	// every use: taking the role away stops the token (SPEC §1).
	if !g.RoleHeld {
		return identity.Viewer{}, apperr.Forbidden("the token's role is not held by its subject").WithCode("ROLE_NOT_HELD")
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= apiTokenTouchInterval {
		// Best effort: a failed bookkeeping write does not refuse the request.
		if err := s.store.InTx(sys, func(q *store.Queries) error {
			return q.TouchAPIToken(sys, t.ID, now, apiTokenTouchInterval)
		}); err != nil {
			slog.WarnContext(ctx, "api token last use not recorded", "token", t.ID, "err", err)
		}
	}
	return identity.Viewer{UserID: t.UserID, Role: role, ActingFor: t.ActingFor, ExpiresAt: t.ExpiresAt, APITokenID: t.ID}, nil
}
