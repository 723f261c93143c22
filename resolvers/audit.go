package resolvers

import (
	"context"
	"log/slog"
	"reflect"

	"github.com/99designs/gqlgen/graphql"

	"configmarket/internal/apperr"
	"configmarket/internal/audit"
	"configmarket/internal/store"
)

// AuditMutations writes one audit row per mutation (SPEC §9): the store
// writes it inside the transaction that makes the mutation's effect; a
// mutation that failed, was refused or wrote no transaction gets its row
// here afterwards.
func AuditMutations(st *store.Store) graphql.FieldMiddleware {
	return func(ctx context.Context, next graphql.Resolver) (any, error) {
		fc := graphql.GetFieldContext(ctx)
		if fc == nil || fc.Object != "Mutation" {
			return next(ctx)
		}
		p := &audit.Pending{Action: fc.Field.Name, Target: targetOf(fc.Args)}
		res, err := next(audit.With(ctx, p))
		if p.Written() {
			return res, err
		}
		result := "ok"
		switch {
		case err != nil && (apperr.Is(err, apperr.KindUnauthenticated) || apperr.Is(err, apperr.KindForbidden)):
			result = "denied"
		case err != nil || hasUserErrors(res):
			result = "failed"
		}
		if werr := st.InsertAudit(context.WithoutCancel(ctx), p.Action, p.Target, result); werr != nil {
			slog.ErrorContext(ctx, "audit row not written", "action", p.Action, "err", werr)
		}
		return res, err
	}
}

// targetIDFields are the input fields that name what a mutation acts on.
var targetIDFields = []string{"ID", "ConfigurationID", "InvoiceID", "PaymentID", "DeveloperID", "CustomerID"}

// targetOf finds the id a mutation acts on in its arguments.
func targetOf(args map[string]any) string {
	for _, a := range args {
		v := reflect.ValueOf(a)
		for v.Kind() == reflect.Pointer && !v.IsNil() {
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct {
			continue
		}
		for _, name := range targetIDFields {
			f := v.FieldByName(name)
			if f.IsValid() && f.Kind() == reflect.String && f.String() != "" {
				return f.String()
			}
		}
	}
	return ""
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
