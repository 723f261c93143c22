package account_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"configmarket/internal/account"
	"configmarket/internal/apperr"
	"configmarket/internal/auth"
	"configmarket/internal/cache"
	"configmarket/internal/dbtest"
	"configmarket/internal/factory"
	"configmarket/internal/identity"
	"configmarket/internal/password"
	"configmarket/internal/store"
)

func newService(t *testing.T) (*account.Service, *store.Store) {
	t.Helper()
	st := store.New(dbtest.Pool(t))
	spec, _ := auth.NewSeed("k")
	keys, err := auth.ParseKeyset(spec)
	if err != nil {
		t.Fatal(err)
	}
	hasher, _ := password.NewHasher(factory.CheapHash)
	tokens := auth.NewTokens(keys, auth.Config{Issuer: "i", Audience: "a", AccessTTL: 15 * time.Minute, Leeway: time.Second})
	return account.New(st, hasher, tokens, time.Hour, cache.NewGeneration(cache.NewMemory(100), "public")), st
}

// Two clients racing with the same refresh token: exactly one gets new
// tokens; the other is refused and, seeing reuse, the session ends.
func TestConcurrentRefreshWithOneTokenYieldsOneWinner(t *testing.T) {
	svc, st := newService(t)
	ctx := context.Background()
	c := factory.Customer(t, st)
	sess, err := svc.LogIn(ctx, account.LogInInput{Email: c.Email, Password: factory.Password})
	if err != nil {
		t.Fatal(err)
	}
	const racers = 8
	var wg sync.WaitGroup
	results := make([]error, racers)
	for i := range racers {
		wg.Go(func() {
			_, results[i] = svc.Refresh(ctx, sess.RefreshToken)
		})
	}
	wg.Wait()
	wins := 0
	for _, err := range results {
		if err == nil {
			wins++
		} else if !apperr.Is(err, apperr.KindUnauthenticated) {
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d racers won, want exactly 1", wins)
	}
}

func TestSignUpRefusesAdminAndKeepsNothing(t *testing.T) {
	svc, st := newService(t)
	_, err := svc.SignUp(context.Background(), account.SignUpInput{
		Email: "boss@example.test", Password: "long enough pw", Name: "Boss",
		Role: identity.RoleAdmin, OrganizationName: "Platform",
	})
	if !apperr.Is(err, apperr.KindInvalid) {
		t.Fatalf("admin sign-up: %v", err)
	}
	if _, err := st.UserByEmail(context.Background(), "boss@example.test"); !apperr.Is(err, apperr.KindNotFound) {
		t.Fatalf("user written: %v", err)
	}
}

func TestSignUpEachRole(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	inn, crm := "7710140679", "crm-each-role"
	for _, role := range []identity.Role{identity.RoleCustomer, identity.RoleDeveloper, identity.RolePartner} {
		sess, err := svc.SignUp(ctx, account.SignUpInput{
			Email: string(role) + "@example.test", Password: "long enough pw", Name: "N",
			Role: role, OrganizationName: "Org " + string(role), INN: &inn, CRMAccountID: &crm,
		})
		if err != nil {
			t.Fatalf("%s: %v", role, err)
		}
		v, err := svc.Authenticate(ctx, sess.AccessToken)
		if err != nil || v.Role != role || v.ActingFor == [16]byte{} {
			t.Fatalf("%s: viewer %+v err %v", role, v, err)
		}
	}
}

func TestUnknownTariffPlan(t *testing.T) {
	svc, _ := newService(t)
	_, err := svc.SignUp(context.Background(), account.SignUpInput{
		Email: "c@example.test", Password: "long enough pw", Name: "C",
		Role: identity.RoleCustomer, OrganizationName: "C", TariffPlanCode: "Z", CRMAccountID: ptr("crm-c"),
	})
	e, ok := apperr.As(err)
	if !ok || e.PublicCode() != "TARIFF_PLAN_UNKNOWN" {
		t.Fatalf("err = %v", err)
	}
}

func ptr(s string) *string { return &s }
