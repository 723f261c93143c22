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

const maxReasonLen = 2000

func requireAdmin(v identity.Viewer) error {
	if v.Anonymous() {
		return apperr.Unauthenticated("log in first")
	}
	// SECURITY: moderation is the platform staff's job (SPEC §1).
	if !v.IsAdmin() {
		return apperr.Forbidden("only admins moderate")
	}
	return nil
}

// ReviewQueue lists versions waiting for moderation, oldest first.
func (s *Service) ReviewQueue(ctx context.Context, v identity.Viewer, first *int, after *string) (VersionPage, error) {
	// SECURITY: what waits for moderation, drafts of every developer, is
	// the moderators' (admins') to read (SPEC §1).
	if !v.IsAdmin() {
		return VersionPage{}, apperr.Hidden(v, "only admins moderate")
	}
	limit, key, err := relay.TimePage(first, after)
	if err != nil {
		return VersionPage{}, err
	}
	rows, err := s.store.ReviewQueuePage(ctx, key, limit+1)
	if err != nil {
		return VersionPage{}, err
	}
	return relay.Cut(rows, limit, func(ver store.Version) string { return relay.EncodeCursor(*ver.SubmittedAt, ver.ID) }), nil
}

// ApproveVersion approves a version in review; the first approved version
// publishes its configuration (SPEC §2).
func (s *Service) ApproveVersion(ctx context.Context, v identity.Viewer, id uuid.UUID) (store.Version, error) {
	audit.SetTarget(ctx, relay.UUIDID(relay.TypeVersion, id))
	return s.decide(ctx, v, id, store.VersionApproved, store.ModerationApproved, nil)
}

// RejectVersion rejects a version in review with a reason the developer sees.
func (s *Service) RejectVersion(ctx context.Context, v identity.Viewer, id uuid.UUID, reason string) (store.Version, error) {
	audit.SetTarget(ctx, relay.UUIDID(relay.TypeVersion, id))
	if err := requireAdmin(v); err != nil {
		return store.Version{}, err
	}
	reason = strings.TrimSpace(reason)
	if n := utf8.RuneCountInString(reason); n < 1 || n > maxReasonLen {
		return store.Version{}, apperr.Invalid("input.reason", "a reason of 1 to %d characters is required", maxReasonLen).WithCode("REASON_REQUIRED")
	}
	return s.decide(ctx, v, id, store.VersionRejected, store.ModerationRejected, &reason)
}

func (s *Service) decide(ctx context.Context, v identity.Viewer, id uuid.UUID, state store.VersionState, action store.ModerationAction, reason *string) (store.Version, error) {
	if err := requireAdmin(v); err != nil {
		return store.Version{}, err
	}
	var ver store.Version
	err := s.store.InTx(ctx, func(q *store.Queries) error {
		cur, err := q.LockVersion(ctx, id)
		if apperr.Is(err, apperr.KindNotFound) {
			return apperr.NotFound("no such version").WithField("input", "id")
		}
		if err != nil {
			return err
		}
		if cur.State != store.VersionInReview {
			return apperr.FailedPrecondition("the version is %s, not in review", cur.State).WithCode("VERSION_NOT_IN_REVIEW")
		}
		if ver, err = q.DecideVersion(ctx, id, state, reason, &v.UserID); err != nil {
			return err
		}
		if state == store.VersionApproved {
			c, err := q.LockConfiguration(ctx, ver.ConfigurationID)
			if err != nil {
				return err
			}
			if c.State == store.ConfigurationDraft {
				if _, err := q.SetConfigurationState(ctx, c.ID, store.ConfigurationPublished, nil); err != nil {
					return err
				}
			}
			// Trials and rentals follow every approved version (SPEC §4);
			// the move itself runs in batches outside this transaction.
			if err := q.QueueUpdate(ctx, ver.ID, ver.ConfigurationID); err != nil {
				return err
			}
		}
		return q.InsertModerationEvent(ctx, ver.ConfigurationID, &ver.ID, action, reason, v.UserID)
	}, store.Audit(audit.From(ctx)))
	if err == nil {
		s.invalidate(ctx)
	}
	return ver, err
}

// SuspendConfiguration takes a published configuration off the storefront.
func (s *Service) SuspendConfiguration(ctx context.Context, v identity.Viewer, id uuid.UUID, reason string) (store.Configuration, error) {
	audit.SetTarget(ctx, relay.UUIDID(relay.TypeConfiguration, id))
	if err := requireAdmin(v); err != nil {
		return store.Configuration{}, err
	}
	reason = strings.TrimSpace(reason)
	if n := utf8.RuneCountInString(reason); n < 1 || n > maxReasonLen {
		return store.Configuration{}, apperr.Invalid("input.reason", "a reason of 1 to %d characters is required", maxReasonLen).WithCode("REASON_REQUIRED")
	}
	return s.setState(ctx, v, id, store.ConfigurationPublished, store.ConfigurationSuspended, store.ModerationSuspended, &reason)
}

// RestoreConfiguration puts a suspended configuration back on the storefront.
func (s *Service) RestoreConfiguration(ctx context.Context, v identity.Viewer, id uuid.UUID) (store.Configuration, error) {
	audit.SetTarget(ctx, relay.UUIDID(relay.TypeConfiguration, id))
	return s.setState(ctx, v, id, store.ConfigurationSuspended, store.ConfigurationPublished, store.ModerationRestored, nil)
}

func (s *Service) setState(ctx context.Context, v identity.Viewer, id uuid.UUID, from, to store.ConfigurationState, action store.ModerationAction, reason *string) (store.Configuration, error) {
	if err := requireAdmin(v); err != nil {
		return store.Configuration{}, err
	}
	var c store.Configuration
	err := s.store.InTx(ctx, func(q *store.Queries) error {
		cur, err := q.LockConfiguration(ctx, id)
		if apperr.Is(err, apperr.KindNotFound) {
			return apperr.NotFound("no such configuration").WithField("input", "id")
		}
		if err != nil {
			return err
		}
		if cur.State != from {
			return apperr.FailedPrecondition("the configuration is %s, not %s", cur.State, from).WithCode("CONFIGURATION_STATE")
		}
		if c, err = q.SetConfigurationState(ctx, id, to, reason); err != nil {
			return err
		}
		return q.InsertModerationEvent(ctx, id, nil, action, reason, v.UserID)
	}, store.Audit(audit.From(ctx)))
	if err == nil {
		s.invalidate(ctx)
	}
	return c, err
}
