package account_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"configmarket/internal/account"
	"configmarket/internal/apperr"
	"configmarket/internal/factory"
	"configmarket/internal/identity"
)

// A token authenticates as its one role and nothing else, makes no tokens,
// and is refused once revoked; a user with a role for two organisations
// must name the one.
func TestAPITokenActsInItsOneRole(t *testing.T) {
	svc, st := newService(t)
	ctx := context.Background()
	dev := factory.Developer(t, st)
	in := account.CreateAPITokenInput{Name: " CI ", Role: identity.RoleDeveloper, ExpiresAt: time.Now().Add(time.Hour)}
	made, err := svc.CreateAPIToken(ctx, dev.Viewer(), in)
	if err != nil {
		t.Fatal(err)
	}
	if made.Token.Name != "CI" || made.Token.Prefix != made.Secret[:11] || made.Token.ActingFor != dev.OrgID {
		t.Fatalf("made %+v", made.Token)
	}
	v, err := svc.Authenticate(ctx, made.Secret)
	if err != nil {
		t.Fatal(err)
	}
	want := identity.Viewer{UserID: dev.UserID, Role: identity.RoleDeveloper, ActingFor: dev.OrgID, ExpiresAt: made.Token.ExpiresAt, APITokenID: made.Token.ID}
	if v != want || !v.ByAPIToken() || v.SessionID != uuid.Nil {
		t.Fatalf("viewer %+v, want %+v", v, want)
	}
	if _, err := svc.CreateAPIToken(ctx, v, in); !apperr.Is(err, apperr.KindForbidden) {
		t.Fatalf("a token making a token: %v", err)
	}
	if _, err := svc.RevokeAPIToken(ctx, factory.Developer(t, st).Viewer(), made.Token.ID); !apperr.Is(err, apperr.KindNotFound) {
		t.Fatalf("another developer revokes: %v", err)
	}
	if _, err := svc.RevokeAPIToken(ctx, dev.Viewer(), made.Token.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Authenticate(ctx, made.Secret); !apperr.Is(err, apperr.KindUnauthenticated) {
		t.Fatalf("revoked token: %v", err)
	}

	// Developer for two organisations: which one is for the caller to say.
	second := factory.Developer(t, st)
	if _, err := st.Pool().Exec(ctx, `insert into role_grants (user_id, role, developer_id) values ($1, 'developer', $2)`, dev.UserID, second.OrgID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateAPIToken(ctx, dev.Viewer(), in); !apperr.Is(err, apperr.KindInvalid) {
		t.Fatalf("two organisations, none named: %v", err)
	}
	in.ActingFor = second.OrgID
	if made, err := svc.CreateAPIToken(ctx, dev.Viewer(), in); err != nil || made.Token.ActingFor != second.OrgID {
		t.Fatalf("the second organisation: %+v, %v", made.Token, err)
	}
}
