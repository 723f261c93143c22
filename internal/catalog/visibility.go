package catalog

import (
	"context"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/identity"
	"configmarket/internal/store"
)

// scopeFor is what v may see of the catalog; store.visibleTo applies it in
// every query that reads configurations for a viewer.
func scopeFor(v identity.Viewer) store.Scope {
	// SECURITY: admins moderate, so they see every configuration in every
	// state (SPEC §1).
	if v.IsAdmin() {
		return store.Scope{All: true}
	}
	switch v.Role {
	case identity.RoleDeveloper:
		// SECURITY: a developer sees its own configurations in every state
		// (drafts, suspended, archived) besides what everyone sees.
		return store.Scope{DeveloperID: ptr(v.ActingFor)}
	case identity.RoleCustomer:
		// SECURITY: a customer also sees private configurations its
		// developer invited it to, and any configuration it has installed
		// (archived ones stay visible to existing customers, SPEC §2).
		return store.Scope{CustomerID: ptr(v.ActingFor)}
	}
	// SECURITY: everyone else sees published configurations that are not
	// private.
	return store.Scope{}
}

// MayReadPrivate reports whether v may read the private side of a
// configuration of developerID: drafts and versions in review, rejection
// reasons, moderation history, install counts, price history and why it
// was suspended.
func MayReadPrivate(v identity.Viewer, developerID uuid.UUID) bool {
	// SECURITY: only the owning developer and admins (SPEC §1, §2): they
	// are the developer's business data and the moderators' decisions.
	return v.IsAdmin() || v.IsDeveloper(developerID)
}

// Private answers value, a private fact of a configuration of developerID
// that the caller already holds (its install count, why it was suspended,
// the id to load its moderation history by), when v may read it
// (MayReadPrivate); anyone else gets the zero value and apperr.Hidden.
func Private[T any](v identity.Viewer, developerID uuid.UUID, value T) (T, error) {
	if !MayReadPrivate(v, developerID) {
		var zero T
		return zero, hiddenPrivate(v)
	}
	return value, nil
}

func hiddenPrivate(v identity.Viewer) error {
	return apperr.Hidden(v, "only the configuration's developer and admins read this")
}

// publicStates are the version states everyone who sees the configuration
// may see; privateStates add the owner's and moderators' view.
var (
	publicStates  = []store.VersionState{store.VersionApproved}
	privateStates = []store.VersionState{store.VersionDraft, store.VersionInReview, store.VersionApproved, store.VersionRejected}
)

// VersionStates are the version states v may see of configuration c.
func VersionStates(v identity.Viewer, c store.Configuration) []store.VersionState {
	if MayReadPrivate(v, c.DeveloperID) {
		return privateStates
	}
	return publicStates
}

func ptr(id uuid.UUID) *uuid.UUID { return &id }

// ActivityOf is the developer whose activity (installations, trials and
// moderation steps on its configurations) v follows live: its own; anyone
// but a developer gets apperr.Hidden.
func ActivityOf(v identity.Viewer) (uuid.UUID, error) {
	// SECURITY: a developer hears only about its own configurations; the
	// key comes from the token, and each field is loaded for the viewer.
	if v.Anonymous() || v.Role != identity.RoleDeveloper {
		return uuid.Nil, apperr.Hidden(v, "only developers subscribe to their activity")
	}
	return v.ActingFor, nil
}

// FollowModeration answers nil when v may follow the moderation queue
// live, else apperr.Hidden.
func FollowModeration(v identity.Viewer) error {
	// SECURITY: the moderation queue is the admins' (SPEC §1).
	if !v.IsAdmin() {
		return apperr.Hidden(v, "only admins follow the moderation queue")
	}
	return nil
}

// VisibleIn returns the configurations among ids that v may see, read in
// the caller's transaction (another domain deciding inside its own).
func VisibleIn(ctx context.Context, q *store.Queries, v identity.Viewer, ids []uuid.UUID) ([]store.Configuration, error) {
	return q.ConfigurationsByIDs(ctx, ids, scopeFor(v))
}
