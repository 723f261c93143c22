// Package account signs people up, logs them in and out, rotates their
// refresh tokens and turns a presented access token into a viewer whose role
// is checked against the roles it really holds.
package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/mail"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/audit"
	"configmarket/internal/auth"
	"configmarket/internal/cache"
	"configmarket/internal/identity"
	"configmarket/internal/inn"
	"configmarket/internal/password"
	"configmarket/internal/relay"
	"configmarket/internal/settings"
	"configmarket/internal/store"
)

// Service is the account domain.
type Service struct {
	store      *store.Store
	hasher     *password.Hasher
	tokens     *auth.Tokens
	refreshTTL time.Duration
	now        func() time.Time
	// public is bumped when a sign-up changes public data (the developer
	// directory), so cached public answers are not stale.
	public   *cache.Generation
	throttle *throttle
	// adminNetworks, when not empty, are the only networks admins may
	// log in and use tokens from.
	adminNetworks []netip.Prefix
}

// SetLoginBackoff sets the first delay of failed logins (tests shorten it).
func (s *Service) SetLoginBackoff(d time.Duration) { s.throttle.backoff = d }

// UseSettings makes the login lock-out limits come from src, read at each
// login.
func (s *Service) UseSettings(src settings.Source) { s.throttle.settings = src }

// RestrictAdmins limits admin access to networks (empty: anywhere).
func (s *Service) RestrictAdmins(networks []netip.Prefix) { s.adminNetworks = networks }

var errNetwork = apperr.Forbidden("access from this network is not allowed").WithCode("NETWORK_NOT_ALLOWED")

func (s *Service) networkAllowed(ctx context.Context, role identity.Role) bool {
	if role != identity.RoleAdmin || len(s.adminNetworks) == 0 {
		return true
	}
	ip := identity.OriginFrom(ctx).IP
	for _, n := range s.adminNetworks {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

func originIP(ctx context.Context) *netip.Addr {
	ip := identity.OriginFrom(ctx).IP
	if !ip.IsValid() {
		return nil
	}
	return &ip
}

// SetAllowedNetworks restricts the viewer's logins and token use to
// networks (CIDR ranges); an empty list allows any. A list that would shut
// out the network the request comes from is refused.
func (s *Service) SetAllowedNetworks(ctx context.Context, v identity.Viewer, cidrs []string) ([]netip.Prefix, error) {
	if v.Anonymous() {
		return nil, apperr.Unauthenticated("log in first")
	}
	audit.SetTarget(ctx, relay.UUIDID(relay.TypeUser, v.UserID))
	// SECURITY: an integration's token does not decide where its user may
	// log in from; that takes a session.
	if v.ByAPIToken() {
		return nil, errByAPIToken
	}
	if len(cidrs) > 50 {
		return nil, apperr.Invalid("input.networks", "at most 50 networks")
	}
	nets := make([]netip.Prefix, 0, len(cidrs))
	for _, c := range cidrs {
		p, err := netip.ParsePrefix(strings.TrimSpace(c))
		if err != nil {
			return nil, apperr.Invalid("input.networks", "%q is not a CIDR range such as 203.0.113.0/24", c).WithCode("NETWORK_INVALID")
		}
		nets = append(nets, p.Masked())
	}
	if ip := identity.OriginFrom(ctx).IP; len(nets) > 0 && ip.IsValid() {
		inside := false
		for _, n := range nets {
			inside = inside || n.Contains(ip)
		}
		if !inside {
			return nil, apperr.FailedPrecondition("the list does not include your current address %s", ip).WithCode("NETWORK_WOULD_LOCK_OUT")
		}
	}
	// SECURITY: a user restricts only its own access.
	err := s.store.InTx(ctx, func(q *store.Queries) error { return q.SetAllowedNetworks(ctx, v.UserID, nets) }, store.Audit(audit.From(ctx)))
	return nets, err
}

// New builds the service; refreshTTL is how long a login lasts without use.
func New(st *store.Store, hasher *password.Hasher, tokens *auth.Tokens, refreshTTL time.Duration, public *cache.Generation) *Service {
	return &Service{
		store: st, hasher: hasher, tokens: tokens, refreshTTL: refreshTTL, now: time.Now, public: public,
		throttle: newThrottle(public.Cache()),
	}
}

// Session is what a successful login, sign-up or refresh hands the client.
type Session struct {
	Viewer           identity.Viewer
	AccessToken      string
	AccessExpiresAt  time.Time
	RefreshToken     string
	RefreshExpiresAt time.Time
}

// SignUpInput is a new user together with the organisation it acts for.
type SignUpInput struct {
	Email    string
	Password string
	Name     string
	Phone    *string
	// Role is customer, developer or partner; admins are never self-made.
	Role             identity.Role
	OrganizationName string
	// INN is the organisation's tax number (customers and partners).
	INN *string
	// CRMAccountID links a customer to its CRM account: required for
	// customers, ignored for the other roles.
	CRMAccountID *string
	// TariffPlanCode is the customer's plan; empty means the default plan.
	TariffPlanCode string
	// DeveloperSlug is the developer's public handle; empty derives one.
	DeveloperSlug string
}

const (
	minPasswordLen = 10
	maxPasswordLen = 128
)

// SignUp creates the user, its organisation and role grant, and logs it in,
// all in one transaction.
func (s *Service) SignUp(ctx context.Context, in SignUpInput) (Session, error) {
	email, errs := validateSignUp(&in)
	if err := errs.Err(); err != nil {
		return Session{}, err
	}
	hash, err := s.hasher.Hash(in.Password)
	if err != nil {
		return Session{}, apperr.Internal(fmt.Errorf("hash password: %w", err))
	}
	var sess Session
	err = s.store.InTx(ctx, func(q *store.Queries) error {
		org, err := s.createOrganisation(ctx, q, in)
		if err != nil {
			return err
		}
		user, err := q.CreateUser(ctx, email, hash, in.Name, in.Phone)
		if err != nil {
			return withField(err, "input", "email")
		}
		audit.SetTarget(ctx, relay.UUIDID(relay.TypeUser, user.ID))
		if err := q.GrantRole(ctx, user.ID, string(in.Role), &org); err != nil {
			return err
		}
		sess, err = s.openSession(ctx, q, user.ID, in.Role, org)
		return err
	}, store.Audit(audit.From(ctx)))
	if err == nil && in.Role == identity.RoleDeveloper {
		s.public.Bump(ctx)
	}
	return sess, err
}

func (s *Service) createOrganisation(ctx context.Context, q *store.Queries, in SignUpInput) (uuid.UUID, error) {
	switch in.Role {
	case identity.RoleCustomer:
		plan, err := s.customerPlan(ctx, q, in.TariffPlanCode)
		if err != nil {
			return uuid.Nil, err
		}
		c, err := q.CreateCustomer(ctx, in.OrganizationName, in.INN, in.CRMAccountID, plan.ID)
		if err != nil {
			return uuid.Nil, withField(err, "input", fieldOfConflict(err))
		}
		return c.ID, nil
	case identity.RoleDeveloper:
		slug := in.DeveloperSlug
		if slug == "" {
			slug = "dev-" + hex.EncodeToString(randomBytes(4))
		}
		d, err := q.CreateDeveloper(ctx, slug, in.OrganizationName)
		if err != nil {
			return uuid.Nil, withField(err, "input", "developerSlug")
		}
		return d.ID, nil
	case identity.RolePartner:
		p, err := q.CreatePartner(ctx, in.OrganizationName, in.INN)
		if err != nil {
			return uuid.Nil, withField(err, "input", "inn")
		}
		return p.ID, nil
	}
	return uuid.Nil, apperr.Invalid("input.role", "role must be customer, developer or partner")
}

func (s *Service) customerPlan(ctx context.Context, q *store.Queries, code string) (store.TariffPlan, error) {
	if code == "" {
		return q.DefaultTariffPlan(ctx)
	}
	plan, err := q.TariffPlanByCode(ctx, code)
	if apperr.Is(err, apperr.KindNotFound) {
		return plan, apperr.Invalid("input.tariffPlan", "unknown tariff plan %q", code).WithCode("TARIFF_PLAN_UNKNOWN")
	}
	return plan, err
}

func validateSignUp(in *SignUpInput) (string, apperr.List) {
	var errs apperr.List
	email, err := normaliseEmail(in.Email)
	if err != nil {
		errs = append(errs, err)
	}
	if n := utf8.RuneCountInString(in.Password); n < minPasswordLen || n > maxPasswordLen {
		errs = append(errs, apperr.Invalid("input.password",
			"password must be %d to %d characters long", minPasswordLen, maxPasswordLen).WithCode("PASSWORD_INVALID"))
	}
	in.Name = strings.TrimSpace(in.Name)
	if n := utf8.RuneCountInString(in.Name); n < 1 || n > 200 {
		errs = append(errs, apperr.Invalid("input.name", "name must be 1 to 200 characters long"))
	}
	in.OrganizationName = strings.TrimSpace(in.OrganizationName)
	if n := utf8.RuneCountInString(in.OrganizationName); n < 1 || n > 200 {
		errs = append(errs, apperr.Invalid("input.organizationName", "organization name must be 1 to 200 characters long"))
	}
	if !in.Role.ActsForOrganisation() {
		errs = append(errs, apperr.Invalid("input.role", "role must be customer, developer or partner"))
	}
	if in.Role == identity.RoleCustomer {
		// SPEC §1: a customer is a CRM account; its license checks name it.
		crm, err := normaliseCRMAccountID(in.CRMAccountID)
		if err != nil {
			errs = append(errs, err)
		}
		in.CRMAccountID = &crm
	} else {
		// Only customers are CRM accounts.
		in.CRMAccountID = nil
	}
	if in.INN != nil && !inn.Valid(*in.INN) {
		errs = append(errs, apperr.Invalid("input.inn", "tax number is not a valid INN").WithCode("INN_INVALID"))
	}
	if in.Phone != nil {
		p := strings.TrimSpace(*in.Phone)
		if len(p) > 32 {
			errs = append(errs, apperr.Invalid("input.phone", "phone is too long"))
		}
		in.Phone = &p
	}
	return email, errs
}

func normaliseEmail(raw string) (string, *apperr.Error) {
	email := strings.ToLower(strings.TrimSpace(raw))
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || len(email) > 254 || !strings.Contains(email, "@") {
		return "", apperr.Invalid("input.email", "email is not valid").WithCode("EMAIL_INVALID")
	}
	return email, nil
}

// LogInInput names the user and, when it holds several roles, the one to act in.
type LogInInput struct {
	Email     string
	Password  string
	Role      identity.Role
	ActingFor uuid.UUID
}

// errBadCredentials is one answer for an unknown email and a wrong password,
// so the answer does not tell which accounts exist.
var errBadCredentials = apperr.Unauthenticated("email or password is wrong").WithCode("INVALID_CREDENTIALS")

// LogIn checks the password and opens a session in the chosen role.
func (s *Service) LogIn(ctx context.Context, in LogInInput) (Session, error) {
	email, verr := normaliseEmail(in.Email)
	if verr != nil {
		s.hasher.VerifyDummy(in.Password)
		return Session{}, errBadCredentials
	}
	// SECURITY: a locked account or IP gets no password check at all (a
	// right password would otherwise still tell itself apart).
	if s.throttle.locked(ctx, email) {
		s.hasher.VerifyDummy(in.Password)
		return Session{}, errLocked
	}
	user, err := s.store.UserByEmail(ctx, email)
	if apperr.Is(err, apperr.KindNotFound) {
		s.hasher.VerifyDummy(in.Password)
		s.throttle.failed(ctx, email)
		return Session{}, errBadCredentials
	}
	if err != nil {
		return Session{}, err
	}
	// The attempt is on this account from here on, right password or not.
	audit.SetTarget(ctx, relay.UUIDID(relay.TypeUser, user.ID))
	ok, err := s.hasher.Verify(in.Password, user.PasswordHash)
	if err != nil {
		return Session{}, apperr.Internal(fmt.Errorf("verify password of %s: %w", user.ID, err))
	}
	if !ok {
		s.throttle.failed(ctx, email)
		return Session{}, errBadCredentials
	}
	s.throttle.succeeded(ctx, email)
	grants, err := s.store.RoleGrants(ctx, user.ID)
	if err != nil {
		return Session{}, err
	}
	grant, err := chooseGrant(grants, in.Role, in.ActingFor)
	if err != nil {
		return Session{}, err
	}
	// SECURITY: the right password from a network the user does not allow
	// opens nothing.
	if ok, err := s.store.AllowedFrom(ctx, user.ID, originIP(ctx)); err != nil {
		return Session{}, err
	} else if !ok || !s.networkAllowed(ctx, identity.Role(grant.Role)) {
		return Session{}, errNetwork
	}
	if s.hasher.NeedsRehash(user.PasswordHash) {
		s.rehash(ctx, user.ID, in.Password)
	}
	var sess Session
	err = s.store.InTx(ctx, func(q *store.Queries) error {
		var org uuid.UUID
		if grant.ActingFor != nil {
			org = *grant.ActingFor
		}
		sess, err = s.openSession(ctx, q, user.ID, identity.Role(grant.Role), org)
		return err
	}, store.Audit(audit.From(ctx)))
	return sess, err
}

// rehash upgrades a hash made with older parameters; failing to is harmless.
func (s *Service) rehash(ctx context.Context, userID uuid.UUID, pw string) {
	hash, err := s.hasher.Hash(pw)
	if err == nil {
		err = s.store.UpdatePasswordHash(ctx, userID, hash)
	}
	if err != nil {
		slog.WarnContext(ctx, "password rehash failed", "user", userID, "err", err)
	}
}

// chooseGrant picks the role to log in as: the one asked for, or the only
// one held. A user with several roles must say which.
func chooseGrant(grants []store.RoleGrant, role identity.Role, actingFor uuid.UUID) (store.RoleGrant, error) {
	var matches []store.RoleGrant
	for _, g := range grants {
		if role != "" && g.Role != string(role) {
			continue
		}
		if actingFor != uuid.Nil && (g.ActingFor == nil || *g.ActingFor != actingFor) {
			continue
		}
		matches = append(matches, g)
	}
	switch {
	case len(matches) == 1:
		return matches[0], nil
	case len(matches) == 0 && len(grants) > 0 && role != "":
		// SECURITY: a user may only act in a role it was granted; asking for
		// another is refused without saying which roles it does hold.
		return store.RoleGrant{}, apperr.Forbidden("the account does not hold this role").WithCode("ROLE_NOT_HELD")
	case len(matches) == 0:
		return store.RoleGrant{}, apperr.Forbidden("the account holds no role").WithCode("ROLE_NOT_HELD")
	default:
		return store.RoleGrant{}, apperr.Invalid("input.role",
			"the account holds several roles: choose one with role (and actingFor)").WithCode("ROLE_REQUIRED")
	}
}

// openSession creates the session row, its first refresh token and an access token.
func (s *Service) openSession(ctx context.Context, q *store.Queries, userID uuid.UUID, role identity.Role, org uuid.UUID) (Session, error) {
	now := s.now()
	var actingFor *uuid.UUID
	if org != uuid.Nil {
		actingFor = &org
	}
	origin := identity.OriginFrom(ctx)
	var ip = &origin.IP
	if !origin.IP.IsValid() {
		ip = nil
	}
	row, err := q.CreateSession(ctx, userID, string(role), actingFor, now.Add(s.refreshTTL), ip, truncate(origin.UserAgent, 512))
	if err != nil {
		return Session{}, err
	}
	v := identity.Viewer{UserID: userID, SessionID: row.ID, Role: role, ActingFor: org}
	return s.issue(ctx, q, v, row.ExpiresAt)
}

// issue hands out a new refresh token for the session and a fresh access token.
func (s *Service) issue(ctx context.Context, q *store.Queries, v identity.Viewer, sessionExpires time.Time) (Session, error) {
	refresh := "rt_" + randomString(32)
	refreshExp := s.now().Add(s.refreshTTL)
	if refreshExp.After(sessionExpires) {
		refreshExp = sessionExpires
	}
	if err := q.InsertRefreshToken(ctx, hashToken(refresh), v.SessionID, refreshExp); err != nil {
		return Session{}, err
	}
	access, accessExp, err := s.tokens.Issue(v)
	if err != nil {
		return Session{}, apperr.Internal(err)
	}
	return Session{Viewer: v, AccessToken: access, AccessExpiresAt: accessExp, RefreshToken: refresh, RefreshExpiresAt: refreshExp}, nil
}

var errBadRefresh = apperr.Unauthenticated("refresh token is invalid or expired").WithCode("INVALID_REFRESH_TOKEN")

// Refresh rotates a refresh token. A token used twice means it leaked: the
// whole session is revoked, so neither the thief nor the owner keeps it.
func (s *Service) Refresh(ctx context.Context, refreshToken string) (Session, error) {
	if !strings.HasPrefix(refreshToken, "rt_") {
		return Session{}, errBadRefresh
	}
	var sess Session
	var reused bool
	err := s.store.InTx(ctx, func(q *store.Queries) error {
		rt, err := q.UseRefreshToken(ctx, hashToken(refreshToken))
		if apperr.Is(err, apperr.KindNotFound) {
			return errBadRefresh
		}
		if err != nil {
			return err
		}
		audit.SetTarget(ctx, relay.UUIDID(relay.TypeUser, rt.Session.UserID))
		now := s.now()
		row := rt.Session
		if row.RevokedAt != nil || !row.ExpiresAt.After(now) || !rt.ExpiresAt.After(now) {
			return errBadRefresh
		}
		if rt.UsedAt != nil {
			reused = true
			_, err := q.RevokeSession(ctx, row.ID, store.RevokeRefreshReuse)
			return err
		}
		v := identity.Viewer{UserID: row.UserID, SessionID: row.ID, Role: identity.Role(row.Role)}
		if row.ActingFor != nil {
			v.ActingFor = *row.ActingFor
		}
		if _, held, allowed, err := q.ActiveGrant(ctx, row.ID, row.UserID, row.Role, row.ActingFor, originIP(ctx)); err != nil {
			return err
		} else if !allowed || !s.networkAllowed(ctx, v.Role) {
			return errNetwork
		} else if !held {
			// SECURITY: a session outlives no role change: a revoked grant
			// gets no new tokens.
			return apperr.Forbidden("the account no longer holds this role").WithCode("ROLE_NOT_HELD")
		}
		sess, err = s.issue(ctx, q, v, row.ExpiresAt)
		return err
	}, store.Audit(audit.From(ctx)))
	if err == nil && reused {
		slog.WarnContext(ctx, "refresh token reused; session revoked")
		return Session{}, errBadRefresh
	}
	return sess, err
}

// LogOut revokes the viewer's session, or the session of refreshToken when
// the client has no valid access token any more.
func (s *Service) LogOut(ctx context.Context, v identity.Viewer, refreshToken string) error {
	sessionID := v.SessionID
	if refreshToken != "" {
		row, err := s.store.SessionByRefreshToken(ctx, hashToken(refreshToken))
		if apperr.Is(err, apperr.KindNotFound) {
			return errBadRefresh
		}
		if err != nil {
			return err
		}
		// SECURITY: a logged-in viewer may end only its own sessions; the
		// refresh token itself proves ownership for anonymous callers.
		if !v.Anonymous() && row.UserID != v.UserID {
			return errBadRefresh
		}
		sessionID = row.ID
		audit.SetTarget(ctx, relay.UUIDID(relay.TypeUser, row.UserID))
	} else if !v.Anonymous() {
		audit.SetTarget(ctx, relay.UUIDID(relay.TypeUser, v.UserID))
	}
	if sessionID == uuid.Nil {
		return apperr.Unauthenticated("log in first, or pass the refresh token")
	}
	_, err := s.store.RevokeSession(ctx, sessionID, store.RevokeLogout)
	return err
}

// Authenticate turns a bearer token (an access token, or an API token
// cm_...) into a viewer. A bad or expired token, a revoked session or API
// token, is unauthenticated; a role the subject does not hold (any more)
// is forbidden.
func (s *Service) Authenticate(ctx context.Context, bearer string) (identity.Viewer, error) {
	if strings.HasPrefix(bearer, APITokenPrefix) {
		return s.authenticateAPIToken(ctx, bearer)
	}
	v, err := s.tokens.Verify(bearer)
	if err != nil {
		return identity.Viewer{}, err
	}
	var actingFor *uuid.UUID
	if v.ActingFor != uuid.Nil {
		actingFor = &v.ActingFor
	}
	live, held, allowed, err := s.store.ActiveGrant(ctx, v.SessionID, v.UserID, string(v.Role), actingFor, originIP(ctx))
	if err != nil {
		return identity.Viewer{}, err
	}
	if !live {
		return identity.Viewer{}, apperr.Unauthenticated("session was revoked or has expired").WithCode("SESSION_REVOKED")
	}
	// SECURITY: a token is used only from the networks its user allows,
	// and an admin's only from the platform's admin networks.
	if !allowed || !s.networkAllowed(ctx, v.Role) {
		return identity.Viewer{}, errNetwork
	}
	// SECURITY: the token's role is only a claim; the subject must really
	// hold it for that organisation right now (SPEC §1).
	if !held {
		return identity.Viewer{}, apperr.Forbidden("the token's role is not held by its subject").WithCode("ROLE_NOT_HELD")
	}
	return v, nil
}

// User returns the logged-in user.
func (s *Service) User(ctx context.Context, v identity.Viewer) (store.User, error) {
	if v.Anonymous() {
		return store.User{}, apperr.Hidden(v, "")
	}
	users, err := s.store.UsersByIDs(ctx, []uuid.UUID{v.UserID})
	if err != nil {
		return store.User{}, err
	}
	if len(users) == 0 {
		return store.User{}, apperr.Unauthenticated("the account no longer exists")
	}
	return users[0], nil
}

// RoleGrants lists the roles the viewer's user holds, so a client can offer
// to switch.
func (s *Service) RoleGrants(ctx context.Context, v identity.Viewer) ([]store.RoleGrant, error) {
	if v.Anonymous() {
		return nil, apperr.Hidden(v, "")
	}
	return s.store.RoleGrants(ctx, v.UserID)
}

func hashToken(t string) []byte {
	sum := sha256.Sum256([]byte(t))
	return sum[:]
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // the kernel's RNG does not fail
	}
	return b
}

func randomString(nBytes int) string {
	return base64.RawURLEncoding.EncodeToString(randomBytes(nBytes))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// withField points a classified input error at an input field.
func withField(err error, path ...string) error {
	if e, ok := apperr.As(err); ok && e.Kind != apperr.KindInternal && e.Field == nil && path[len(path)-1] != "" {
		return e.WithField(path...)
	}
	return err
}

func fieldOfConflict(err error) string {
	if e, ok := apperr.As(err); ok {
		switch e.Code {
		case "INN_TAKEN", "INN_INVALID":
			return "inn"
		case "CRM_ACCOUNT_TAKEN", "CRM_ACCOUNT_INVALID":
			return "crmAccountId"
		}
	}
	return ""
}

// ChangePassword replaces the viewer's password after checking the current
// one. Every session of the user ends (a stolen token dies with the old
// password); the caller gets a fresh session in its role.
func (s *Service) ChangePassword(ctx context.Context, v identity.Viewer, current, next string) (Session, error) {
	if v.Anonymous() {
		return Session{}, apperr.Unauthenticated("log in first")
	}
	audit.SetTarget(ctx, relay.UUIDID(relay.TypeUser, v.UserID))
	if n := utf8.RuneCountInString(next); n < minPasswordLen || n > maxPasswordLen {
		return Session{}, apperr.Invalid("input.newPassword", "password must be %d to %d characters long", minPasswordLen, maxPasswordLen).WithCode("PASSWORD_INVALID")
	}
	user, err := s.User(ctx, v)
	if err != nil {
		return Session{}, err
	}
	if ok, err := s.hasher.Verify(current, user.PasswordHash); err != nil {
		return Session{}, apperr.Internal(err)
	} else if !ok {
		return Session{}, apperr.Invalid("input.currentPassword", "the current password is wrong").WithCode("INVALID_CREDENTIALS")
	}
	hash, err := s.hasher.Hash(next)
	if err != nil {
		return Session{}, apperr.Internal(err)
	}
	var sess Session
	err = s.store.InTx(ctx, func(q *store.Queries) error {
		if err := q.UpdatePasswordHash(ctx, user.ID, hash); err != nil {
			return err
		}
		if err := q.RevokeUserSessions(ctx, user.ID, store.RevokePasswordChange); err != nil {
			return err
		}
		sess, err = s.openSession(ctx, q, user.ID, v.Role, v.ActingFor)
		return err
	}, store.Audit(audit.From(ctx)))
	return sess, err
}
