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
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"configmarket/internal/cache"
	"configmarket/internal/identity"
	"configmarket/internal/opmemo"
)

// TTL bounds how long an answer lives should an invalidation be lost.
const TTL = time.Minute

// Cache caches anonymous query responses under the public generation.
type Cache struct {
	public *cache.Generation
	// answers stores the responses. Their keys name the generation, so an
	// answer never changes once stored: it may be kept near (cache.Near).
	answers cache.Cache
	// digests are the questions' hashes, by document.
	digests *opmemo.Memo[string]
}

// New caches responses keyed by the public generation in answers.
func New(public *cache.Generation, answers cache.Cache) *Cache {
	return &Cache{public: public, answers: answers, digests: opmemo.New[string](1000)}
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
	digest := c.digests.Of(op, digestOf)
	if digest == "" {
		return next(ctx)
	}
	key := "v1:response:" + strconv.FormatInt(gen, 10) + ":" + digest
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

// digestOf names the question: the document, the operation and the
// variables; "" when the variables cannot be encoded.
func digestOf(op *graphql.OperationContext) string {
	vars, err := json.Marshal(op.Variables)
	if err != nil {
		return ""
	}
	h := sha256.New()
	_, _ = io.WriteString(h, op.OperationName+"\x00")
	_, _ = io.WriteString(h, op.RawQuery)
	_, _ = io.WriteString(h, "\x00")
	h.Write(vars)
	return hex.EncodeToString(h.Sum(nil))
}
