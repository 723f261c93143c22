package resolvers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

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

// Issue 19, item 9: an error raised while gqlgen coerced a field's
// arguments is the client's (its path runs past the field into an
// argument): BAD_USER_INPUT naming the argument, even when the scalar's
// error is untyped (its message, which may name Go types, is replaced).
// An untyped error of the resolver itself stays internal.
func TestPresentErrorBlamesTheArgumentCoercionFailedOn(t *testing.T) {
	ctx := graphql.WithFieldContext(context.Background(), &graphql.FieldContext{
		Object: "Developer",
		Field: graphql.CollectedField{Field: &ast.Field{Alias: "statement", Name: "statement", Definition: &ast.FieldDefinition{
			Name: "statement", Arguments: ast.ArgumentDefinitionList{{Name: "month"}, {Name: "filter"}},
		}}},
	})
	at := func(p ...ast.PathElement) ast.Path { return append(ast.Path{ast.PathName("statement")}, p...) }
	cases := []struct {
		name      string
		err       error
		code, msg string
		field     []string
	}{
		{"untyped, on an argument", gqlerror.WrapPath(at(ast.PathName("month")), errors.New("time should be RFC3339Nano formatted string")),
			"BAD_USER_INPUT", "month is not a valid value", []string{"month"}},
		{"typed, deep in an input", gqlerror.WrapPath(at(ast.PathName("filter"), ast.PathName("tags"), ast.PathIndex(2)), apperr.Invalid("", "not a tag")),
			"BAD_USER_INPUT", "not a tag", []string{"filter", "tags", "2"}},
		{"typed with its own field", gqlerror.WrapPath(at(ast.PathName("month")), apperr.Invalid("input.month", "too early")),
			"BAD_USER_INPUT", "too early", []string{"input", "month"}},
		{"untyped, of the resolver", gqlerror.WrapPath(at(), errors.New("select statement: connection reset")),
			"INTERNAL", "internal error", nil},
		{"untyped, past the field but not an argument", gqlerror.WrapPath(at(ast.PathName("lines")), errors.New("boom")),
			"INTERNAL", "internal error", nil},
	}
	for _, tc := range cases {
		got := PresentError(ctx, tc.err)
		field, _ := got.Extensions["field"].([]string)
		if got.Extensions["code"] != tc.code || got.Message != tc.msg || !slices.Equal(field, tc.field) {
			t.Errorf("%s: %+v %v", tc.name, got.Message, got.Extensions)
		}
	}
}
