// Package idempotency runs money-moving requests once per client key: a
// repeat of the same request returns the first result and does nothing
// else; the same key with another request is refused. The claim, the
// effect and the stored result commit together, so a failed request leaves
// the key free, and a concurrent repeat waits on the claim.
package idempotency

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/audit"
	"configmarket/internal/store"
)

// Once runs run in one transaction unless userID already used key. A
// repeat returns the stored first result, passed through replay when given
// (to show it as it stands now).
func Once[T any](ctx context.Context, st *store.Store, userID uuid.UUID, key, operation string, input any,
	run func(q *store.Queries) (T, error), replay func(q *store.Queries, first T) (T, error)) (T, error) {
	var out T
	if n := utf8.RuneCountInString(key); n < 1 || n > 200 {
		return out, apperr.Invalid("input.idempotencyKey", "an idempotency key of 1 to 200 characters is required").WithCode("IDEMPOTENCY_KEY_INVALID")
	}
	b, err := json.Marshal(input)
	if err != nil {
		return out, fmt.Errorf("encode %s request: %w", operation, err)
	}
	hash := sha256.Sum256(append([]byte(operation+"\x00"), b...))
	err = st.InTx(ctx, func(q *store.Queries) error {
		prev, err := q.ClaimIdempotencyKey(ctx, userID, key, operation, hash[:])
		if err != nil {
			return err
		}
		if prev != nil {
			if prev.Operation != operation || !bytes.Equal(prev.RequestHash, hash[:]) {
				return apperr.Conflict("this idempotency key was used for another request").
					WithCode("IDEMPOTENCY_KEY_REUSED").WithField("input", "idempotencyKey")
			}
			if err := json.Unmarshal(prev.Response, &out); err != nil {
				return fmt.Errorf("decode %s response: %w", operation, err)
			}
			// The replay acts on what the first call acted on; it moves
			// no money, so its row has no amount (not even one an attempt
			// retried into this replay had set).
			if p := audit.From(ctx); p != nil {
				p.Target, p.Amount = prev.AuditTarget, nil
			}
			if replay != nil {
				out, err = replay(q, out)
			}
			return err
		}
		if out, err = run(q); err != nil {
			return err
		}
		var target string
		if p := audit.From(ctx); p != nil {
			target = p.Target
		}
		return q.SaveIdempotentResponse(ctx, userID, key, out, target)
	}, store.Audit(audit.From(ctx)))
	return out, err
}
