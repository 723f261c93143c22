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

// MayReadOrganisation decides who reads the private record of the customer
// or partner id (role says which).
func MayReadOrganisation(v identity.Viewer, role identity.Role, id uuid.UUID) bool {
	// SECURITY: admins see every organisation (SPEC §1); otherwise a
	// customer's or partner's private record is seen only by someone acting
	// for that very organisation. Later issues widen this deliberately (a
	// developer sees its customers' installations, a customer sees the
	// partner that pinned it) in their own checks.
	return v.IsAdmin() || (!v.Anonymous() && v.Role == role && v.ActingFor == id)
}

// visible filters ids before any row is read, so a hidden organisation costs
// no query and cannot leak through timing or errors.
func visible(v identity.Viewer, ids []uuid.UUID, role identity.Role) []uuid.UUID {
	var out []uuid.UUID
	for _, id := range ids {
		if MayReadOrganisation(v, role, id) {
			out = append(out, id)
		}
	}
	return out
}

// MayReadUser decides who reads a user's e-mail, name and phone.
func MayReadUser(v identity.Viewer, userID uuid.UUID) bool {
	// SECURITY: they are personal data: only the user itself and admins.
	return v.IsAdmin() || (!v.Anonymous() && v.UserID == userID)
}

// UsersByIDs returns the users among ids that v may see.
func (s *Service) UsersByIDs(ctx context.Context, v identity.Viewer, ids []uuid.UUID) ([]store.User, error) {
	var allowed []uuid.UUID
	for _, id := range ids {
		if MayReadUser(v, id) {
			allowed = append(allowed, id)
		}
	}
	if len(allowed) == 0 {
		return nil, nil
	}
	return s.store.UsersByIDs(ctx, allowed)
}
