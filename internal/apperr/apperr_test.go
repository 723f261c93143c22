package apperr

import (
	"errors"
	"fmt"
	"testing"
)

func TestKindSurvivesWrapping(t *testing.T) {
	base := Invalid("input.email", "email is not valid").WithCode("EMAIL_INVALID")
	wrapped := fmt.Errorf("sign up: %w", base)

	e, ok := As(wrapped)
	if !ok {
		t.Fatal("As lost the classified error")
	}
	if e.PublicCode() != "EMAIL_INVALID" || e.Kind.Code() != "BAD_USER_INPUT" {
		t.Fatalf("codes = %q/%q", e.PublicCode(), e.Kind.Code())
	}
	if got := e.Field; len(got) != 2 || got[0] != "input" || got[1] != "email" {
		t.Fatalf("field = %v", got)
	}
}

func TestUnclassifiedIsInternal(t *testing.T) {
	if KindOf(errors.New("boom")) != KindInternal {
		t.Fatal("plain error must be internal")
	}
	if KindInternal.Code() != "INTERNAL" {
		t.Fatal("zero kind must present as INTERNAL")
	}
	if Internal(errors.New("pq: secret")).Message != "internal error" {
		t.Fatal("internal message must not carry the cause")
	}
}

func TestEveryKindHasAStableCode(t *testing.T) {
	want := map[Kind]string{
		KindUnauthenticated:    "UNAUTHENTICATED",
		KindForbidden:          "FORBIDDEN",
		KindNotFound:           "NOT_FOUND",
		KindInvalid:            "BAD_USER_INPUT",
		KindConflict:           "CONFLICT",
		KindFailedPrecondition: "FAILED_PRECONDITION",
		KindRateLimited:        "RATE_LIMITED",
		KindInternal:           "INTERNAL",
	}
	for k, code := range want {
		if k.Code() != code {
			t.Errorf("%d.Code() = %s, want %s", k, k.Code(), code)
		}
	}
}

func TestListIsClassifiedByItsErrors(t *testing.T) {
	var l List
	if l.Err() != nil {
		t.Fatal("empty list must be no error")
	}
	l = append(l, Invalid("input.email", "bad email"), Invalid("input.password", "too short"))
	err := fmt.Errorf("sign up: %w", l.Err())
	if KindOf(err) != KindInvalid {
		t.Fatalf("kind = %v", KindOf(err))
	}
	if got := Flatten(err); len(got) != 2 || got[1].Field[1] != "password" {
		t.Fatalf("Flatten = %v", got)
	}
	if got := Flatten(NotFound("x")); len(got) != 1 {
		t.Fatalf("Flatten single = %v", got)
	}
	if Flatten(errors.New("plain")) != nil {
		t.Fatal("unclassified must flatten to nil")
	}
}

type viewer bool

func (v viewer) Anonymous() bool { return bool(v) }

func TestHiddenIsOneAnswerWithTheRefusalsKinds(t *testing.T) {
	anon, other := Hidden(viewer(true), "only the owner reads this"), Hidden(viewer(false), "only the %s reads this", "owner")
	if anon.Kind != KindUnauthenticated || anon.Message != "log in first" {
		t.Fatalf("anonymous: %v %q", anon.Kind, anon.Message)
	}
	if other.Kind != KindForbidden || other.Message != "only the owner reads this" {
		t.Fatalf("logged in: %v %q", other.Kind, other.Message)
	}
	for _, err := range []error{anon, other, fmt.Errorf("read: %w", other), other.WithField("input", "id")} {
		if !IsHidden(err) {
			t.Errorf("%v is not hidden", err)
		}
	}
	for _, err := range []error{nil, Forbidden("only admins"), Unauthenticated("log in first"), NotFound("no such thing")} {
		if IsHidden(err) {
			t.Errorf("%v is hidden", err)
		}
	}
}
