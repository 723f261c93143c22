package apitest

import (
	"context"
	"strings"
	"testing"
	"time"

	coderws "github.com/coder/websocket"
	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/factory"
	"configmarket/internal/identity"
	"configmarket/internal/packages"
	"configmarket/internal/relay"
	"configmarket/internal/store"
)

const (
	createAPIToken = `mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) {
		secret apiToken { id name role prefix createdAt expiresAt lastUsedAt revokedAt actingFor { id } }
		userErrors { field code message } } }`
	revokeAPIToken = `mutation($id: ID!) { revokeApiToken(input: {id: $id}) { apiToken { id revokedAt } userErrors { field code } } }`
	listAPITokens  = `{ viewer { role apiTokens { id name role prefix createdAt expiresAt lastUsedAt revokedAt } } }`
)

// apiTokenInput is createApiToken's input for a token that lasts 30 days.
func apiTokenInput(name, role string) map[string]any {
	return map[string]any{"name": name, "role": role, "validUntil": time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)}
}

// newAPIToken makes a token with the session access and returns its
// secret and id.
func (s *Server) newAPIToken(t *testing.T, access, role string) (secret, id string) {
	t.Helper()
	res := s.Do(t, access, createAPIToken, map[string]any{"input": apiTokenInput("CI", role)})
	secret, id = str(res.Data, "createApiToken", "secret"), str(res.Data, "createApiToken", "apiToken", "id")
	if secret == "" || id == "" {
		t.Fatalf("createApiToken: %s", res.Raw)
	}
	return secret, id
}

// Issue 22 item 7's "done means": a developer's CI publishes a version with
// an API token alone, through the real handler, and a revoked token is
// refused like a bad access token, on /graphql and on the upload route.
func TestAPITokenPublishesAVersionAndARevokedOneIsRefused(t *testing.T) {
	s := New(t)
	ctx := context.Background()
	dev := factory.Developer(t, s.Store)
	conf := factory.Configuration(t, s.Store, dev.OrgID, factory.ConfigurationOptions{})
	if _, err := s.Pool.Exec(ctx, `with c as (insert into categories (slug, name) values ('sales', 'Sales') returning id)
		update configurations set category_id = (select id from c) where id = $1`, conf.ID); err != nil {
		t.Fatal(err)
	}
	access, _ := s.LogIn(t, dev, nil)

	res := s.Do(t, access, createAPIToken, map[string]any{"input": apiTokenInput("GitHub Actions", "DEVELOPER")})
	secret := str(res.Data, "createApiToken", "secret")
	tok, _ := get(res.Data, "createApiToken", "apiToken").(map[string]any)
	if !strings.HasPrefix(secret, "cm_") || len(secret) != 55 || tok == nil || str(tok, "prefix") != secret[:11] ||
		str(tok, "role") != "DEVELOPER" || str(tok, "name") != "GitHub Actions" || str(tok, "actingFor", "id") != globalIDOf("Developer", dev.OrgID) ||
		get(tok, "lastUsedAt") != nil || get(tok, "revokedAt") != nil {
		t.Fatalf("createApiToken: %s", res.Raw)
	}
	tokenID := str(tok, "id")
	rowID, err := relay.ParseUUIDOf(tokenID, relay.TypeAPIToken)
	if err != nil {
		t.Fatal(err)
	}
	// Only a hash is stored: the secret is in no column of its row.
	var hashed, plain int
	if err := s.Pool.QueryRow(ctx, `select count(*) filter (where token_hash = sha256(convert_to($1, 'UTF8'))),
			count(*) filter (where t::text like '%' || substr($1, 12) || '%') from api_tokens t`, secret).Scan(&hashed, &plain); err != nil || hashed != 1 || plain != 0 {
		t.Fatalf("stored token: %d rows by hash, %d holding the secret (%v)", hashed, plain, err)
	}

	// The CI, with the token alone: it acts as the developer.
	if who := s.Do(t, secret, `{ viewer { role developer { id } } }`, nil); str(who.Data, "viewer", "role") != "DEVELOPER" ||
		str(who.Data, "viewer", "developer", "id") != globalIDOf("Developer", dev.OrgID) {
		t.Fatalf("viewer by token: %s", who.Raw)
	}
	created := s.Do(t, secret, `mutation($c: ID!) { createVersion(input: {configurationId: $c, number: "1.1.0", changelog: "From CI"}) { version { id } userErrors { code } } }`,
		map[string]any{"c": globalIDOf("Configuration", conf.ID)})
	version := str(created.Data, "createVersion", "version", "id")
	if version == "" {
		t.Fatalf("createVersion by token: %s", created.Raw)
	}
	s.uploadPackage(t, secret, version)
	sub := s.Do(t, secret, `mutation($v: ID!) { submitVersion(input: {id: $v}) { version { state } userErrors { code message } } }`, map[string]any{"v": version})
	if str(sub.Data, "submitVersion", "version", "state") != "IN_REVIEW" {
		t.Fatalf("submitVersion by token: %s", sub.Raw)
	}

	// Every mutation made with it says so in its audit row: the user and the token.
	for _, action := range []string{"createVersion", packages.AuditUpload, "submitVersion"} {
		var actor uuid.UUID
		var role string
		var token *uuid.UUID
		if err := s.Pool.QueryRow(ctx, `select actor_user_id, role, api_token_id from audit_log where action = $1 order by id desc limit 1`, action).
			Scan(&actor, &role, &token); err != nil || actor != dev.UserID || role != "developer" || token == nil || *token != rowID {
			t.Errorf("audit row of %s: actor %s role %s token %v (%v)", action, actor, role, token, err)
		}
	}
	admin, _ := s.LogIn(t, factory.Admin(t, s.Store), nil)
	log := s.Do(t, admin, `{ auditLog(first: 1, filter: {action: "submitVersion"}) { nodes { actor apiToken } } }`, nil)
	if str(log.Data, "auditLog", "nodes", 0, "apiToken") != tokenID || str(log.Data, "auditLog", "nodes", 0, "actor") != globalIDOf("User", dev.UserID) {
		t.Fatalf("audit log entry: %s", log.Raw)
	}
	if row := s.Do(t, admin, `{ auditLog(first: 1, filter: {action: "createApiToken"}) { nodes { target apiToken } } }`, nil); str(row.Data, "auditLog", "nodes", 0, "target") != tokenID ||
		get(row.Data, "auditLog", "nodes", 0, "apiToken") != nil {
		t.Fatalf("createApiToken's audit entry (made in a session): %s", row.Raw)
	}

	// Listed with its last use, never with its secret, to the session and to the token itself.
	for _, as := range []string{access, secret} {
		list := s.Do(t, as, listAPITokens, nil)
		if strings.Contains(list.Raw, secret[11:]) || str(list.Data, "viewer", "apiTokens", 0, "id") != tokenID ||
			str(list.Data, "viewer", "apiTokens", 0, "lastUsedAt") == "" {
			t.Fatalf("apiTokens: %s", list.Raw)
		}
	}

	// A token makes no tokens.
	if again := s.Do(t, secret, createAPIToken, map[string]any{"input": apiTokenInput("more", "DEVELOPER")}); again.Code() != "FORBIDDEN" ||
		again.Errors[0].Extensions["reason"] != "API_TOKEN_NOT_ALLOWED" {
		t.Fatalf("createApiToken by token: %s", again.Raw)
	}

	// Revoked: refused at once, exactly like a bad access token.
	rev := s.Do(t, access, revokeAPIToken, map[string]any{"id": tokenID})
	if str(rev.Data, "revokeApiToken", "apiToken", "revokedAt") == "" {
		t.Fatalf("revokeApiToken: %s", rev.Raw)
	}
	bad := s.Do(t, "not.a.jwt", `{ viewer { role } }`, nil)
	refused := s.Do(t, secret, `{ viewer { role } }`, nil)
	if bad.Code() != "UNAUTHENTICATED" || refused.Code() != bad.Code() || refused.Errors[0].Message != bad.Errors[0].Message || refused.Data != nil {
		t.Fatalf("revoked token: %s (a bad JWT: %s)", refused.Raw, bad.Raw)
	}
	next := s.Do(t, access, `mutation($c: ID!) { createVersion(input: {configurationId: $c, number: "1.2.0", changelog: "x"}) { version { id } } }`,
		map[string]any{"c": globalIDOf("Configuration", conf.ID)})
	if r := s.putPackage(t, secret, str(next.Data, "createVersion", "version", "id"), factory.Package(conf.Slug, "1.2.0")); r.status != 401 {
		t.Fatalf("upload with a revoked token: %d %s", r.status, r.body)
	}
	// Unknown and malformed tokens, the same.
	for _, tok := range []string{"cm_" + strings.Repeat("a", 52), "cm_short"} {
		if r := s.Do(t, tok, `{ viewer { role } }`, nil); r.Code() != "UNAUTHENTICATED" || r.Errors[0].Message != bad.Errors[0].Message {
			t.Fatalf("token %s: %s", tok, r.Raw)
		}
	}
	// The list keeps the revoked token, with when.
	if list := s.Do(t, access, listAPITokens, nil); str(list.Data, "viewer", "apiTokens", 0, "revokedAt") == "" {
		t.Fatalf("apiTokens after revoking: %s", list.Raw)
	}
}

// A token stops when it expires, when its user loses the role, or when the
// user erases its account; its last use is written about once a minute.
func TestAPITokenEnds(t *testing.T) {
	s := New(t)
	ctx := context.Background()
	viewer := `{ viewer { role } }`

	dev := factory.Developer(t, s.Store)
	access, _ := s.LogIn(t, dev, nil)
	secret, id := s.newAPIToken(t, access, "DEVELOPER")
	rowID, _ := relay.ParseUUIDOf(id, relay.TypeAPIToken)
	lastUsed := func() time.Time {
		t.Helper()
		var at *time.Time
		if err := s.Pool.QueryRow(ctx, `select last_used_at from api_tokens where id = $1`, rowID).Scan(&at); err != nil || at == nil {
			t.Fatalf("last_used_at: %v, %v", at, err)
		}
		return *at
	}
	for range 5 {
		if r := s.Do(t, secret, viewer, nil); str(r.Data, "viewer", "role") != "DEVELOPER" {
			t.Fatalf("token: %s", r.Raw)
		}
	}
	first := lastUsed()
	if r := s.Do(t, secret, viewer, nil); r.Code() != "" || !lastUsed().Equal(first) {
		t.Fatalf("last use written again within a minute: %s", r.Raw)
	}
	if _, err := s.Pool.Exec(ctx, `update api_tokens set last_used_at = last_used_at - interval '2 minutes' where id = $1`, rowID); err != nil {
		t.Fatal(err)
	}
	if s.Do(t, secret, viewer, nil); !lastUsed().After(first.Add(-time.Minute)) {
		t.Fatal("last use not written after a minute")
	}

	// Expired.
	if _, err := s.Pool.Exec(ctx, `update api_tokens set created_at = now() - interval '2 days', expires_at = now() - interval '1 second' where id = $1`, rowID); err != nil {
		t.Fatal(err)
	}
	if r := s.Do(t, secret, viewer, nil); r.Code() != "UNAUTHENTICATED" {
		t.Fatalf("expired token: %s", r.Raw)
	}

	// The role taken away: refused as an access token of that role is.
	secret, _ = s.newAPIToken(t, access, "DEVELOPER")
	admin, _ := s.LogIn(t, factory.Admin(t, s.Store), nil)
	if r := s.Do(t, admin, `mutation($input: RoleChangeInput!) { revokeRole(input: $input) { userErrors { code } } }`, map[string]any{"input": map[string]any{
		"userId": globalIDOf("User", dev.UserID), "role": "DEVELOPER", "organizationId": globalIDOf("Developer", dev.OrgID)}}); r.Code() != "" {
		t.Fatalf("revokeRole: %s", r.Raw)
	}
	if r := s.Do(t, secret, viewer, nil); r.Code() != "FORBIDDEN" || r.Errors[0].Extensions["reason"] != "ROLE_NOT_HELD" {
		t.Fatalf("token of a role taken away: %s", r.Raw)
	}

	// The account erased.
	cust := factory.Customer(t, s.Store)
	custAccess, _ := s.LogIn(t, cust, nil)
	custSecret, _ := s.newAPIToken(t, custAccess, "CUSTOMER")
	if r := s.Do(t, custSecret, `{ viewer { role customer { id } } }`, nil); str(r.Data, "viewer", "customer", "id") != globalIDOf("Customer", cust.OrgID) {
		t.Fatalf("customer token: %s", r.Raw)
	}
	if r := s.Do(t, custAccess, eraseMutation, map[string]any{"p": factory.Password}); get(r.Data, "erasePersonalData", "erased") != true {
		t.Fatalf("erase: %s", r.Raw)
	}
	if r := s.Do(t, custSecret, viewer, nil); r.Code() != "UNAUTHENTICATED" {
		t.Fatalf("token of an erased account: %s", r.Raw)
	}
}

// What createApiToken refuses, and what strangers get of someone's tokens.
func TestAPITokenRefusalsAndStrangers(t *testing.T) {
	s := New(t)
	dev := factory.Developer(t, s.Store)
	access, _ := s.LogIn(t, dev, nil)
	in := func(role string, expires time.Duration) map[string]any {
		return map[string]any{"input": map[string]any{"name": "CI", "role": role, "validUntil": time.Now().Add(expires).UTC().Format(time.RFC3339)}}
	}
	for name, c := range map[string]struct {
		vars        map[string]any
		code, field string
	}{
		"a role the user does not hold": {in("PARTNER", time.Hour), "ROLE_NOT_HELD", "role"},
		"admin":                         {in("ADMIN", time.Hour), "BAD_USER_INPUT", "role"},
		"an expiry in the past":         {in("DEVELOPER", -time.Hour), "EXPIRY_INVALID", "validUntil"},
		"an expiry over a year ahead":   {in("DEVELOPER", 400*24*time.Hour), "EXPIRY_INVALID", "validUntil"},
	} {
		t.Run(name, func(t *testing.T) {
			r := s.Do(t, access, createAPIToken, c.vars)
			if str(r.Data, "createApiToken", "userErrors", 0, "code") != c.code || str(r.Data, "createApiToken", "userErrors", 0, "field", 1) != c.field ||
				get(r.Data, "createApiToken", "secret") != nil {
				t.Fatalf("%s", r.Raw)
			}
		})
	}
	// One new token per document: aliases mint no batch of secrets.
	two := `mutation($input: CreateApiTokenInput!) { a: createApiToken(input: $input) { secret } b: createApiToken(input: $input) { secret } }`
	if r := s.Do(t, access, two, in("DEVELOPER", time.Hour)); r.Code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["reason"] != "SENSITIVE_MUTATION_REPEATED" {
		t.Fatalf("two createApiToken in one document: %s", r.Raw)
	}
	if r := s.Do(t, "", createAPIToken, in("DEVELOPER", time.Hour)); r.Code() != "UNAUTHENTICATED" {
		t.Fatalf("anonymous createApiToken: %s", r.Raw)
	}

	secret, id := s.newAPIToken(t, access, "DEVELOPER")
	strangers := map[string]string{"anonymous": ""}
	for name, a := range map[string]factory.Account{
		"another customer": factory.Customer(t, s.Store), "another developer": factory.Developer(t, s.Store),
		"another partner": factory.Partner(t, s.Store), "admin": factory.Admin(t, s.Store),
	} {
		strangers[name], _ = s.LogIn(t, a, nil)
		if a.Role != identity.RoleAdmin {
			s.newAPIToken(t, strangers[name], strings.ToUpper(string(a.Role)))
		}
	}
	for name, tok := range strangers {
		t.Run(name, func(t *testing.T) {
			list := s.Do(t, tok, `{ viewer { apiTokens { id } } }`, nil)
			if strings.Contains(list.Raw, id) || (tok == "" && get(list.Data, "viewer") != nil) {
				t.Fatalf("a stranger's apiTokens: %s", list.Raw)
			}
			rev := s.Do(t, tok, revokeAPIToken, map[string]any{"id": id})
			if tok == "" && rev.Code() != "UNAUTHENTICATED" || tok != "" && str(rev.Data, "revokeApiToken", "userErrors", 0, "code") != "NOT_FOUND" {
				t.Fatalf("a stranger's revokeApiToken: %s", rev.Raw)
			}
			if strings.Contains(rev.Raw, "revokedAt\":\"") {
				t.Fatalf("revoked by a stranger: %s", rev.Raw)
			}
		})
	}
	if r := s.Do(t, secret, `{ viewer { role } }`, nil); str(r.Data, "viewer", "role") != "DEVELOPER" {
		t.Fatalf("the token after the strangers: %s", r.Raw)
	}
	// Nor does a token decide where its user may log in from.
	if r := s.Do(t, secret, `mutation { setAllowedNetworks(input: {networks: []}) { userErrors { code } } }`, nil); r.Code() != "FORBIDDEN" ||
		r.Errors[0].Extensions["reason"] != "API_TOKEN_NOT_ALLOWED" {
		t.Fatalf("setAllowedNetworks by token: %s", r.Raw)
	}
	// A token may revoke itself: a leaked one is stopped with what leaked.
	if r := s.Do(t, secret, revokeAPIToken, map[string]any{"id": id}); str(r.Data, "revokeApiToken", "apiToken", "revokedAt") == "" {
		t.Fatalf("self-revocation: %s", r.Raw)
	}
	if r := s.Do(t, secret, `{ viewer { role } }`, nil); r.Code() != "UNAUTHENTICATED" {
		t.Fatalf("self-revoked token: %s", r.Raw)
	}
}

// Row-level security holds the tokens without the domain's checks: the
// server's own role, called directly as another user, neither sees nor
// revokes them.
func TestAPITokenRowSecurity(t *testing.T) {
	s := New(t)
	dev, other := factory.Developer(t, s.Store), factory.Developer(t, s.Store)
	access, _ := s.LogIn(t, dev, nil)
	_, id := s.newAPIToken(t, access, "DEVELOPER")
	rowID, _ := relay.ParseUUIDOf(id, relay.TypeAPIToken)
	app := s.Deps.Store // connects as the server's role
	as := func(a factory.Account) context.Context { return identity.WithViewer(context.Background(), a.Viewer()) }

	if ts, err := app.APITokensOf(as(dev), dev.UserID); err != nil || len(ts) != 1 {
		t.Fatalf("owner: %d tokens, %v", len(ts), err)
	}
	for name, ctx := range map[string]context.Context{"another user": as(other), "anonymous": context.Background(),
		"an admin": identity.WithViewer(context.Background(), identity.Viewer{UserID: uuid.New(), Role: identity.RoleAdmin})} {
		if ts, err := app.APITokensOf(ctx, dev.UserID); err != nil || len(ts) != 0 {
			t.Errorf("%s reads %d tokens (%v)", name, len(ts), err)
		}
		err := app.InTx(ctx, func(q *store.Queries) error {
			_, err := q.RevokeAPIToken(ctx, dev.UserID, rowID, time.Now())
			return err
		})
		if !apperr.Is(err, apperr.KindNotFound) {
			t.Errorf("%s revokes: %v", name, err)
		}
	}
}

// The WebSocket takes an API token as it takes an access token, and shuts
// out a revoked one the same way.
func TestAPITokenOnTheWebsocket(t *testing.T) {
	s := New(t)
	partner := factory.Partner(t, s.Store)
	access, _ := s.LogIn(t, partner, nil)
	secret, id := s.newAPIToken(t, access, "PARTNER")
	c, _, err := dialWS(t, s.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	c.init(secret)

	if r := s.Do(t, access, revokeAPIToken, map[string]any{"id": id}); str(r.Data, "revokeApiToken", "apiToken", "revokedAt") == "" {
		t.Fatalf("revokeApiToken: %s", r.Raw)
	}
	c, _, err = dialWS(t, s.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	c.send(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + secret}})
	_, err = c.next(5 * time.Second)
	for err == nil {
		_, err = c.next(5 * time.Second)
	}
	if code := coderws.CloseStatus(err); code != 4403 {
		t.Fatalf("revoked token: close %d (%v), want 4403", code, err)
	}
}
