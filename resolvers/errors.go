package resolvers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"configmarket/graph/model"
	"configmarket/internal/apperr"
	"configmarket/internal/identity"
)

// PresentError is the one error presenter: it sets extensions.code from the
// error's kind and replaces the message of anything internal, so SQL, stack
// traces and constraint names never reach a client.
func PresentError(ctx context.Context, err error) *gqlerror.Error {
	gqlErr := graphql.DefaultErrorPresenter(ctx, err)
	arg := argumentAtFault(ctx, gqlErr.Path)
	if e, ok := apperr.As(err); ok {
		if e.Kind == apperr.KindInternal {
			return internal(ctx, gqlErr, err)
		}
		gqlErr.Message = e.Message
		gqlErr.Extensions = map[string]any{"code": e.Kind.Code()}
		if e.Code != "" && e.Code != e.Kind.Code() {
			gqlErr.Extensions["reason"] = e.Code
		}
		switch {
		case e.Field != nil:
			gqlErr.Extensions["field"] = e.Field
		case arg != nil && e.Kind == apperr.KindInvalid:
			// A scalar refusing its value does not know where it stands;
			// the path does.
			gqlErr.Extensions["field"] = arg
		}
		return gqlErr
	}
	if arg != nil {
		// An untyped error while coercing an argument (gqlgen's own
		// unmarshallers, @oneOf): the client's value, but its message may
		// name Go types, so it is replaced.
		gqlErr.Message = strings.Join(arg, ".") + " is not a valid value"
		gqlErr.Extensions = map[string]any{"code": apperr.KindInvalid.Code(), "field": arg}
		return gqlErr
	}
	// gqlgen's own errors (validation, argument coercion) already explain
	// themselves and carry no internals; they keep their message.
	var own *gqlerror.Error
	if errors.As(err, &own) && own.Unwrap() == nil {
		// A variable of the wrong type is bad input like any other, as in
		// Apollo; errors in the document itself keep gqlgen's codes.
		if len(gqlErr.Path) > 0 && gqlErr.Path[0] == ast.PathName("variable") {
			gqlErr.Extensions = map[string]any{"code": apperr.KindInvalid.Code()}
		}
		if gqlErr.Extensions == nil || gqlErr.Extensions["code"] == nil {
			gqlErr.Extensions = map[string]any{"code": apperr.KindInvalid.Code()}
		}
		return gqlErr
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		gqlErr.Message = "request cancelled or timed out"
		gqlErr.Extensions = map[string]any{"code": apperr.KindUnavailable.Code()}
		return gqlErr
	}
	return internal(ctx, gqlErr, err)
}

// argumentAtFault is the argument path (argument, input fields, list
// indexes) of an error raised while gqlgen coerced the arguments of the
// field in ctx: such an error's path runs past the field's own path into
// one of its arguments. Nil for any other error.
func argumentAtFault(ctx context.Context, path ast.Path) []string {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil || fc.Field.Definition == nil {
		return nil
	}
	at := fc.Path()
	if len(path) <= len(at) {
		return nil
	}
	for i := range at {
		if path[i] != at[i] {
			return nil
		}
	}
	name, ok := path[len(at)].(ast.PathName)
	if !ok || fc.Field.Definition.Arguments.ForName(string(name)) == nil {
		return nil
	}
	arg := make([]string, 0, len(path)-len(at))
	for _, p := range path[len(at):] {
		switch p := p.(type) {
		case ast.PathName:
			arg = append(arg, string(p))
		case ast.PathIndex:
			arg = append(arg, strconv.Itoa(int(p)))
		}
	}
	return arg
}

func internal(ctx context.Context, gqlErr *gqlerror.Error, cause error) *gqlerror.Error {
	reqID := identity.OriginFrom(ctx).RequestID
	slog.ErrorContext(ctx, "internal error", "err", cause, "path", gqlErr.Path.String(), "request_id", reqID)
	gqlErr.Message = "internal error"
	gqlErr.Extensions = map[string]any{"code": apperr.KindInternal.Code()}
	if reqID != "" {
		gqlErr.Extensions["requestId"] = reqID
	}
	return gqlErr
}

// Recover turns a resolver panic into an internal error, logging the stack.
func Recover(ctx context.Context, p any) error {
	slog.ErrorContext(ctx, "panic in resolver", "panic", p, "stack", string(debug.Stack()),
		"request_id", identity.OriginFrom(ctx).RequestID)
	return apperr.Internal(fmt.Errorf("panic: %v", p))
}

// userErrors splits a mutation's error: expected business failures become
// typed userErrors in the payload; anything else stays a top-level error.
// extraKinds lets a mutation treat more kinds as expected (logIn treats a
// wrong password as an expected answer, not a failed request).
func userErrors(err error, extraKinds ...apperr.Kind) ([]*model.UserError, error) {
	if err == nil {
		return []*model.UserError{}, nil
	}
	list := apperr.Flatten(err)
	if len(list) == 0 {
		return nil, err
	}
	out := make([]*model.UserError, 0, len(list))
	for _, e := range list {
		if !expected(e.Kind, extraKinds) {
			return nil, err
		}
		code := model.UserErrorCode(e.PublicCode())
		if !code.IsValid() {
			code = model.UserErrorCode(e.Kind.Code())
		}
		out = append(out, &model.UserError{Field: e.Field, Message: e.Message, Code: code})
	}
	return out, nil
}

func expected(k apperr.Kind, extra []apperr.Kind) bool {
	switch k {
	case apperr.KindInvalid, apperr.KindConflict, apperr.KindFailedPrecondition:
		return true
	}
	for _, x := range extra {
		if k == x {
			return true
		}
	}
	return false
}
