package catalog

import (
	"context"

	"github.com/google/uuid"

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

// CanSeePrivate reports whether v may see the private side of a
// configuration: drafts and versions in review, rejection reasons,
// moderation history, install counts and price history.
func CanSeePrivate(v identity.Viewer, c store.Configuration) bool {
	// SECURITY: only the owning developer and admins (SPEC §1, §2).
	return v.IsAdmin() || v.IsDeveloper(c.DeveloperID)
}

// publicStates are the version states everyone who sees the configuration
// may see; privateStates add the owner's and moderators' view.
var (
	publicStates  = []store.VersionState{store.VersionApproved}
	privateStates = []store.VersionState{store.VersionDraft, store.VersionInReview, store.VersionApproved, store.VersionRejected}
)

// VersionStates are the version states v may see of configuration c.
func VersionStates(v identity.Viewer, c store.Configuration) []store.VersionState {
	if CanSeePrivate(v, c) {
		return privateStates
	}
	return publicStates
}

func ptr(id uuid.UUID) *uuid.UUID { return &id }

// VisibleIn returns the configurations among ids that v may see, read in
// the caller's transaction (another domain deciding inside its own).
func VisibleIn(ctx context.Context, q *store.Queries, v identity.Viewer, ids []uuid.UUID) ([]store.Configuration, error) {
	return q.ConfigurationsByIDs(ctx, ids, scopeFor(v))
}
