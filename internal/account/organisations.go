package account

import (
	"context"

	"github.com/google/uuid"

	"configmarket/internal/identity"
	"configmarket/internal/store"
)

// CustomersByIDs returns the customers among ids that v may see; the others
// are left out as if they did not exist.
func (s *Service) CustomersByIDs(ctx context.Context, v identity.Viewer, ids []uuid.UUID) ([]store.Customer, error) {
	ids = visible(v, ids, identity.RoleCustomer)
	if len(ids) == 0 {
		return nil, nil
	}
	return s.store.CustomersByIDs(ctx, ids)
}

// PartnersByIDs returns the partners among ids that v may see.
func (s *Service) PartnersByIDs(ctx context.Context, v identity.Viewer, ids []uuid.UUID) ([]store.Partner, error) {
	ids = visible(v, ids, identity.RolePartner)
	if len(ids) == 0 {
		return nil, nil
	}
	return s.store.PartnersByIDs(ctx, ids)
}

// visible filters ids before any row is read, so a hidden organisation costs
// no query and cannot leak through timing or errors.
func visible(v identity.Viewer, ids []uuid.UUID, role identity.Role) []uuid.UUID {
	// SECURITY: admins see every organisation (SPEC §1).
	if v.IsAdmin() {
		return ids
	}
	// SECURITY: otherwise a customer's or partner's private record is seen
	// only by someone acting for that very organisation. Later issues widen
	// this deliberately (a developer sees its customers' installations, a
	// customer sees the partner that pinned it) in their own checks.
	var out []uuid.UUID
	for _, id := range ids {
		if v.Role == role && v.ActingFor == id {
			out = append(out, id)
		}
	}
	return out
}

// UsersByIDs returns the users among ids that v may see.
func (s *Service) UsersByIDs(ctx context.Context, v identity.Viewer, ids []uuid.UUID) ([]store.User, error) {
	var allowed []uuid.UUID
	for _, id := range ids {
		// SECURITY: a user's e-mail, name and phone are personal data: only
		// the user itself and admins may read them.
		if v.IsAdmin() || (!v.Anonymous() && v.UserID == id) {
			allowed = append(allowed, id)
		}
	}
	if len(allowed) == 0 {
		return nil, nil
	}
	return s.store.UsersByIDs(ctx, allowed)
}
