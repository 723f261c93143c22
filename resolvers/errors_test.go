package resolvers

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"configmarket/graph/model"
	"configmarket/internal/apperr"
)

func TestPresentErrorMapsEveryKind(t *testing.T) {
	ctx := context.Background()
	for _, k := range []apperr.Kind{
		apperr.KindUnauthenticated, apperr.KindForbidden, apperr.KindNotFound, apperr.KindInvalid,
		apperr.KindConflict, apperr.KindFailedPrecondition, apperr.KindRateLimited,
	} {
		err := fmt.Errorf("wrapped: %w", &apperr.Error{Kind: k, Message: "public text"})
		got := PresentError(ctx, err)
		if got.Extensions["code"] != k.Code() || got.Message != "public text" {
			t.Errorf("%s: %+v", k.Code(), got)
		}
	}
}

func TestPresentErrorHidesInternals(t *testing.T) {
	ctx := context.Background()
	for name, err := range map[string]error{
		"plain error":      errors.New(`ERROR: relation "users" does not exist (SQLSTATE 42P01)`),
		"classified cause": apperr.Internal(errors.New(`duplicate key value violates unique constraint "users_email_key"`)),
		"recovered panic":  Recover(ctx, "runtime error: index out of range [3] with length 2"),
	} {
		got := PresentError(ctx, err)
		if got.Message != "internal error" || got.Extensions["code"] != "INTERNAL" {
			t.Errorf("%s: %+v", name, got)
		}
	}
}

func TestUserErrorsSplitExpectedFromUnexpected(t *testing.T) {
	ues, err := userErrors(apperr.List{
		apperr.Invalid("input.email", "bad").WithCode("EMAIL_INVALID"),
		apperr.Conflict("taken").WithCode("SOMETHING_NEW"),
	})
	if err != nil || len(ues) != 2 {
		t.Fatalf("ues=%v err=%v", ues, err)
	}
	if ues[0].Code != model.UserErrorCodeEmailInvalid || ues[0].Field[1] != "email" {
		t.Fatalf("first: %+v", ues[0])
	}
	// A code the schema does not list falls back to its kind's code, so
	// the response never carries an invalid enum value.
	if ues[1].Code != model.UserErrorCodeConflict {
		t.Fatalf("second: %+v", ues[1])
	}
	if _, err := userErrors(apperr.Forbidden("no")); err == nil {
		t.Fatal("forbidden must stay a top-level error")
	}
	if ues, err := userErrors(apperr.Forbidden("no"), apperr.KindForbidden); err != nil || len(ues) != 1 {
		t.Fatal("extra kinds must become user errors")
	}
	if _, err := userErrors(errors.New("db down")); err == nil {
		t.Fatal("unclassified must stay a top-level error")
	}
}
