package catalog

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/audit"
	"configmarket/internal/identity"
	"configmarket/internal/relay"
	"configmarket/internal/store"
)

const maxReviewLen = 5000

func reviewInput(rating int, body string) (string, error) {
	var errs apperr.List
	// SPEC §2: a rating is 1 to 5.
	if rating < 1 || rating > 5 {
		errs = append(errs, apperr.Invalid("input.rating", "rating must be between 1 and 5").WithCode("RATING_INVALID"))
	}
	body = strings.TrimSpace(body)
	if utf8.RuneCountInString(body) > maxReviewLen {
		errs = append(errs, apperr.Invalid("input.body", "review is longer than %d characters", maxReviewLen))
	}
	return body, errs.Err()
}

func requireCustomer(v identity.Viewer) error {
	if v.Anonymous() {
		return apperr.Unauthenticated("log in first")
	}
	// SECURITY: only customers review, on behalf of their CRM account.
	if v.Role != identity.RoleCustomer {
		return apperr.Forbidden("only customers write reviews")
	}
	return nil
}

// CreateReview records the one review a customer may write of a
// configuration it has or had installed (a trial counts, SPEC §2).
func (s *Service) CreateReview(ctx context.Context, v identity.Viewer, configurationID uuid.UUID, rating int, body string) (store.Review, error) {
	if err := requireCustomer(v); err != nil {
		return store.Review{}, err
	}
	body, err := reviewInput(rating, body)
	if err != nil {
		return store.Review{}, err
	}
	var r store.Review
	err = s.store.InTx(ctx, func(q *store.Queries) error {
		visible, err := q.ConfigurationsByIDs(ctx, []uuid.UUID{configurationID}, scopeFor(v))
		if err != nil {
			return err
		}
		if len(visible) == 0 {
			return apperr.NotFound("no such configuration").WithField("input", "configurationId")
		}
		// SECURITY: only a customer that installed the configuration may
		// review it, so ratings come from real users.
		installed, err := q.HasInstalled(ctx, v.ActingFor, configurationID)
		if err != nil {
			return err
		}
		if !installed {
			return apperr.FailedPrecondition("install the configuration (a trial counts) before reviewing it").WithCode("NOT_INSTALLED")
		}
		if r, err = q.CreateReview(ctx, configurationID, v.ActingFor, v.UserID, rating, body); err != nil {
			return err
		}
		audit.SetTarget(ctx, relay.UUIDID(relay.TypeReview, r.ID))
		return nil
	}, store.Audit(audit.From(ctx)))
	if err == nil {
		s.invalidate(ctx)
	}
	return r, err
}

// UpdateReview edits the customer's own review.
func (s *Service) UpdateReview(ctx context.Context, v identity.Viewer, id uuid.UUID, rating int, body string) (store.Review, error) {
	audit.SetTarget(ctx, relay.UUIDID(relay.TypeReview, id))
	if err := requireCustomer(v); err != nil {
		return store.Review{}, err
	}
	body, err := reviewInput(rating, body)
	if err != nil {
		return store.Review{}, err
	}
	var r store.Review
	err = s.store.InTx(ctx, func(q *store.Queries) error {
		cur, err := q.ReviewsByIDs(ctx, []uuid.UUID{id})
		if err != nil {
			return err
		}
		// SECURITY: a customer edits only its own account's reviews;
		// another's answers NotFound, like a missing one.
		if len(cur) == 0 || cur[0].CustomerID != v.ActingFor {
			return apperr.NotFound("no such review").WithField("input", "id")
		}
		r, err = q.UpdateReview(ctx, id, v.UserID, rating, body)
		return err
	}, store.Audit(audit.From(ctx)))
	if err == nil {
		s.invalidate(ctx)
	}
	return r, err
}
