package commerce

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"time"
	"unicode/utf8"

	"configmarket/internal/apperr"
	"configmarket/internal/identity"
	"configmarket/internal/store"
)

// charge runs a money-moving request once per idempotency key: a repeat of
// the same request returns the first result and does nothing else; the
// same key with another request is refused. The claim, the effect and the
// stored result commit together, so a failed request leaves the key free.
func (s *Service) charge(ctx context.Context, v identity.Viewer, key, operation string, input any,
	run func(q *store.Queries, now time.Time) (Charge, error)) (Charge, error) {
	if n := utf8.RuneCountInString(key); n < 1 || n > 200 {
		return Charge{}, apperr.Invalid("input.idempotencyKey", "an idempotency key of 1 to 200 characters is required").WithCode("IDEMPOTENCY_KEY_INVALID")
	}
	b, _ := json.Marshal(input)
	hash := sha256.Sum256(append([]byte(operation+"\x00"), b...))
	var out Charge
	err := s.store.InTx(ctx, func(q *store.Queries) error {
		prev, err := q.ClaimIdempotencyKey(ctx, v.UserID, key, operation, hash[:])
		if err != nil {
			return err
		}
		if prev != nil {
			if prev.Operation != operation || !bytes.Equal(prev.RequestHash, hash[:]) {
				return apperr.Conflict("this idempotency key was used for another request").WithCode("IDEMPOTENCY_KEY_REUSED").WithField("input", "idempotencyKey")
			}
			return json.Unmarshal(prev.Response, &out)
		}
		if out, err = run(q, s.clock.Now()); err != nil {
			return err
		}
		return q.SaveIdempotentResponse(ctx, v.UserID, key, out)
	})
	if err == nil {
		s.public.Bump(ctx)
	}
	return out, err
}
