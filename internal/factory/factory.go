// Package factory creates test data with sensible defaults through the real
// store, so tests state only what matters to them.
package factory

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"configmarket/internal/identity"
	"configmarket/internal/password"
	"configmarket/internal/store"
)

// Password is every factory user's password.
const Password = "factory-password-1"

// CheapHash keeps the race-instrumented suite fast; verification reads the
// parameters from the hash, so production code verifies it unchanged.
var CheapHash = password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}

var seq atomic.Int64

func next() int64 { return seq.Add(1) }

// Account is a user with one role and the organisation it acts for.
type Account struct {
	UserID uuid.UUID
	Email  string
	Role   identity.Role
	// OrgID is the customer, developer or partner id; uuid.Nil for admin.
	OrgID uuid.UUID
	// CRMAccountID is a customer's CRM account id (SPEC §1: a customer is
	// a CRM account); empty for the other roles.
	CRMAccountID string
}

// Viewer is the account as an authenticated viewer (without a session).
func (a Account) Viewer() identity.Viewer {
	return identity.Viewer{UserID: a.UserID, Role: a.Role, ActingFor: a.OrgID}
}

func user(t testing.TB, q *store.Queries) store.User {
	t.Helper()
	h, err := password.NewHasher(CheapHash)
	if err != nil {
		t.Fatal(err)
	}
	hash, err := h.Hash(Password)
	if err != nil {
		t.Fatal(err)
	}
	n := next()
	u, err := q.CreateUser(context.Background(), fmt.Sprintf("user%d-%s@example.test", n, uuid.NewString()[:8]), hash, fmt.Sprintf("User %d", n), nil)
	if err != nil {
		t.Fatalf("factory user: %v", err)
	}
	return u
}

func grant(t testing.TB, q *store.Queries, u store.User, role identity.Role, org uuid.UUID) Account {
	t.Helper()
	var orgPtr *uuid.UUID
	if org != uuid.Nil {
		orgPtr = &org
	}
	if err := q.GrantRole(context.Background(), u.ID, string(role), orgPtr); err != nil {
		t.Fatalf("factory grant %s: %v", role, err)
	}
	return Account{UserID: u.ID, Email: u.Email, Role: role, OrgID: org}
}

// Customer creates a customer company with its own CRM account id on the
// default plan, and its user.
func Customer(t testing.TB, st *store.Store) Account {
	t.Helper()
	ctx := context.Background()
	plan, err := st.DefaultTariffPlan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	crm := "crm-" + uuid.NewString()
	c, err := st.CreateCustomer(ctx, fmt.Sprintf("Customer %d", next()), nil, &crm, plan.ID)
	if err != nil {
		t.Fatalf("factory customer: %v", err)
	}
	a := grant(t, st.Queries, user(t, st.Queries), identity.RoleCustomer, c.ID)
	a.CRMAccountID = crm
	return a
}

// Developer creates a basic developer and its user.
func Developer(t testing.TB, st *store.Store) Account {
	t.Helper()
	n := next()
	d, err := st.CreateDeveloper(context.Background(), fmt.Sprintf("dev-%d-%s", n, uuid.NewString()[:6]), fmt.Sprintf("Developer %d", n))
	if err != nil {
		t.Fatalf("factory developer: %v", err)
	}
	return grant(t, st.Queries, user(t, st.Queries), identity.RoleDeveloper, d.ID)
}

// Partner creates an agent partner and its user.
func Partner(t testing.TB, st *store.Store) Account {
	t.Helper()
	p, err := st.CreatePartner(context.Background(), fmt.Sprintf("Partner %d", next()), nil)
	if err != nil {
		t.Fatalf("factory partner: %v", err)
	}
	return grant(t, st.Queries, user(t, st.Queries), identity.RolePartner, p.ID)
}

// Admin creates a platform admin.
func Admin(t testing.TB, st *store.Store) Account {
	t.Helper()
	return grant(t, st.Queries, user(t, st.Queries), identity.RoleAdmin, uuid.Nil)
}

// AlsoPartner gives an existing user a partner role too (one human, two roles).
func AlsoPartner(t testing.TB, st *store.Store, a Account) Account {
	t.Helper()
	p, err := st.CreatePartner(context.Background(), fmt.Sprintf("Partner %d", next()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.GrantRole(context.Background(), a.UserID, string(identity.RolePartner), &p.ID); err != nil {
		t.Fatal(err)
	}
	return Account{UserID: a.UserID, Email: a.Email, Role: identity.RolePartner, OrgID: p.ID}
}
