package limits

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"configmarket/internal/apperr"
	"configmarket/internal/identity"
	"configmarket/internal/opmemo"
	"configmarket/internal/ratelimit"
)

// QueryBudget is each client's leaky bucket of query cost, like Shopify's:
// a burst of 10,000 (five maximal documents) refilled at 500 a second.
var QueryBudget = ratelimit.Rule{Rate: 500, Burst: 10_000, Period: time.Second}

// LicenseChecks bounds checks per license key and per client IP: a CRM
// checks a key a few times a minute; guessing keys needs millions.
var LicenseChecks = ratelimit.Rule{Rate: 60, Burst: 120, Period: time.Minute}

// Policy is what every document passes before anything runs: Defaults,
// introspection in production, and its client's query budget.
type Policy struct {
	// Budget holds every client's QueryBudget.
	Budget *ratelimit.Limiter
	// Production refuses introspection.
	Production bool
	// Present turns a refusal into the error the client reads.
	Present graphql.ErrorPresenterFunc
	// RateLimited is told how long a client whose budget is spent should
	// wait (the HTTP layer turns it into Retry-After).
	RateLimited func(ctx context.Context, retryAfter time.Duration)
}

// Middleware checks each operation against the policy and reports its cost
// in extensions.cost, like Shopify's, on answers and refusals alike.
func (p Policy) Middleware() graphql.OperationMiddleware {
	costs := opmemo.New[Measure](1000)
	return func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		m := costs.Of(graphql.GetOperationContext(ctx), Of)
		err := Defaults.Check(m)
		if err == nil && m.Introspection && p.Production {
			// Refused whole, before execution, with a code of its own
			// rather than gqlgen's per-field internal error.
			err = apperr.Forbidden("introspection is disabled in production").WithCode("INTROSPECTION_DISABLED")
		}
		if err == nil {
			// Every document spends its cost from its client's budget.
			if ok, retry := p.Budget.Allow(ctx, budgetKey(ctx), QueryBudget, max(m.Cost, 1)); !ok {
				p.RateLimited(ctx, retry)
				err = apperr.RateLimited("query budget spent; retry in %s", retry.Round(time.Second)).WithCode("RATE_LIMITED")
			}
		}
		if err != nil {
			return graphql.OneShot(&graphql.Response{
				Errors:     gqlerror.List{p.Present(ctx, err)},
				Extensions: map[string]any{"cost": costReport(m)},
			})
		}
		h := next(ctx)
		return func(ctx context.Context) *graphql.Response {
			resp := h(ctx)
			if resp != nil {
				if resp.Extensions == nil {
					resp.Extensions = map[string]any{}
				}
				resp.Extensions["cost"] = costReport(m)
			}
			return resp
		}
	}
}

// budgetKey is the logged-in subject, or the client IP for anonymous ones.
func budgetKey(ctx context.Context) string {
	if v := identity.FromContext(ctx); !v.Anonymous() {
		return "budget:user:" + v.UserID.String()
	}
	return "budget:ip:" + identity.OriginFrom(ctx).IP.String()
}

func costReport(m Measure) map[string]any {
	return map[string]any{"requestedQueryCost": m.Cost, "maximumAvailable": Defaults.MaxCost}
}
