// Package respcache caches whole responses of anonymous GraphQL queries,
// like Hasura's @cached: identical public questions get one shared answer
// until a write changes public data. Only anonymous requests are served or
// stored, so nothing role-specific is ever shared between viewers.
package respcache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"configmarket/internal/cache"
	"configmarket/internal/identity"
)

// TTL bounds how long an answer lives should an invalidation be lost.
const TTL = time.Minute

// Cache caches anonymous query responses under the public generation.
type Cache struct {
	public *cache.Generation
	// answers stores the responses. Their keys name the generation, so an
	// answer never changes once stored: it may be kept near (cache.Near).
	answers cache.Cache
}

// New caches responses keyed by the public generation in answers.
func New(public *cache.Generation, answers cache.Cache) *Cache {
	return &Cache{public: public, answers: answers}
}

// uncached are public fields whose answers do not follow the public
// generation: a license's validity moves with time and billing, and every
// check must reach the rate limiter.
var uncached = map[string]bool{"licenseCheck": true}

func cacheable(op *graphql.OperationContext) bool {
	if op.Operation == nil || op.Operation.Operation != ast.Query {
		return false
	}
	for _, f := range graphql.CollectFields(op, op.Operation.SelectionSet, nil) {
		if uncached[f.Name] {
			return false
		}
	}
	return true
}

// Middleware is a gqlgen operation middleware.
func (c *Cache) Middleware(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	op := graphql.GetOperationContext(ctx)
	if !identity.FromContext(ctx).Anonymous() || !cacheable(op) {
		return next(ctx)
	}
	gen, ok := c.public.Current(ctx)
	if !ok {
		return next(ctx)
	}
	key, err := keyFor(gen, op)
	if err != nil {
		return next(ctx)
	}
	if b, found, err := c.answers.Get(ctx, key); err == nil && found {
		return graphql.OneShot(&graphql.Response{Data: json.RawMessage(b)})
	}
	h := next(ctx)
	var once sync.Once
	return func(ctx context.Context) *graphql.Response {
		resp := h(ctx)
		once.Do(func() {
			// Partial answers (with errors) are not worth sharing.
			if resp != nil && len(resp.Errors) == 0 && len(resp.Data) > 0 {
				if err := c.answers.Set(ctx, key, resp.Data, TTL); err != nil {
					slog.WarnContext(ctx, "response cache set failed", "err", err)
				}
			}
		})
		return resp
	}
}

func keyFor(gen int64, op *graphql.OperationContext) (string, error) {
	vars, err := json.Marshal(op.Variables)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", op.OperationName, op.RawQuery)
	h.Write(vars)
	return fmt.Sprintf("v1:response:%d:%s", gen, hex.EncodeToString(h.Sum(nil))), nil
}
