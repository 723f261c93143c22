package resolvers

import (
	"context"
	"log/slog"
	"reflect"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"configmarket/internal/apperr"
	"configmarket/internal/audit"
)

// AuditWriter writes an audit row on its own, outside any transaction
// (store.Queries.InsertAudit): the row of a mutation that committed none.
type AuditWriter interface {
	InsertAudit(ctx context.Context, p *audit.Pending, result audit.Result) error
}

// AuditMutations wraps the fields of mutation documents in auditField.
// Registered with AroundFields, auditField would wrap every field of every
// query, about 12 % of an uncached storefront page
// (docs/performance-history.md).
func AuditMutations(st AuditWriter) graphql.OperationMiddleware {
	audit := auditField(st)
	return func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		if oc := graphql.GetOperationContext(ctx); oc.Operation != nil && oc.Operation.Operation == ast.Mutation {
			inner := oc.ResolverMiddleware
			oc.ResolverMiddleware = func(ctx context.Context, field graphql.Resolver) (any, error) {
				return audit(ctx, func(ctx context.Context) (any, error) { return inner(ctx, field) })
			}
		}
		return next(ctx)
	}
}

// auditField writes one audit row per mutation (SPEC §9): the store
// writes it inside the transaction that makes the mutation's effect; a
// mutation that failed, was refused or wrote no transaction gets its row
// here afterwards. The row's target and amount are named by the domain code
// the mutation runs (audit.SetTarget, audit.SetAmount), never guessed from
// its input; the domain hands the row to the transaction that makes the
// effect (store.Audit).
func auditField(st AuditWriter) graphql.FieldMiddleware {
	return func(ctx context.Context, next graphql.Resolver) (any, error) {
		fc := graphql.GetFieldContext(ctx)
		if fc == nil || fc.Object != "Mutation" {
			return next(ctx)
		}
		p := &audit.Pending{Action: fc.Field.Name}
		res, err := next(audit.With(ctx, p))
		if p.Written() {
			return res, err
		}
		result := audit.OK
		switch {
		case err != nil && (apperr.Is(err, apperr.KindUnauthenticated) || apperr.Is(err, apperr.KindForbidden)):
			result = audit.Denied
		case err != nil || hasUserErrors(res):
			result = audit.Failed
		}
		if werr := st.InsertAudit(context.WithoutCancel(ctx), p, result); werr != nil {
			slog.ErrorContext(ctx, "audit row not written", "action", p.Action, "err", werr)
		}
		return res, err
	}
}

func hasUserErrors(res any) bool {
	v := reflect.ValueOf(res)
	for v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return false
	}
	f := v.FieldByName("UserErrors")
	return f.IsValid() && f.Kind() == reflect.Slice && f.Len() > 0
}
