package account

import (
	"context"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/audit"
	"configmarket/internal/identity"
	"configmarket/internal/relay"
	"configmarket/internal/store"
)

// ChangeRole gives (grant) or takes away a user's role acting for org
// (uuid.Nil for admin) and returns the roles the user then holds. Every
// session of the user ends either way: an access token names the role it
// acts in, and no token issued under the old roles should outlive them.
func (s *Service) ChangeRole(ctx context.Context, v identity.Viewer, userID uuid.UUID, role identity.Role, org uuid.UUID, grant bool) ([]store.RoleGrant, error) {
	audit.SetTarget(ctx, relay.UUIDID(relay.TypeUser, userID))
	// SECURITY: only admins change roles.
	if !v.IsAdmin() {
		return nil, apperr.Forbidden("only admins change roles")
	}
	if !role.Valid() {
		return nil, apperr.Invalid("input.role", "unknown role")
	}
	if role.ActsForOrganisation() != (org != uuid.Nil) {
		return nil, apperr.Invalid("input.organizationId", "an organisation is required for customer, developer and partner roles, and not allowed for admin")
	}
	if userID == v.UserID && role == identity.RoleAdmin && !grant {
		return nil, apperr.FailedPrecondition("admins cannot take their own admin role")
	}
	var orgRef *uuid.UUID
	if org != uuid.Nil {
		orgRef = &org
	}
	var grants []store.RoleGrant
	err := s.store.InTx(ctx, func(q *store.Queries) error {
		exists, err := q.UserExists(ctx, userID)
		if err != nil {
			return err
		}
		if !exists {
			return apperr.NotFound("user").WithField("input", "userId")
		}
		if grant {
			err = q.GrantRole(ctx, userID, string(role), orgRef)
		} else {
			var held bool
			if held, err = q.RevokeRole(ctx, userID, string(role), orgRef); err == nil && !held {
				err = apperr.NotFound("the user does not hold that role").WithCode("ROLE_NOT_HELD").WithField("input", "role")
			}
		}
		if err != nil {
			return err
		}
		if err := q.RevokeUserSessions(ctx, userID, store.RevokeRoleChange); err != nil {
			return err
		}
		grants, err = q.RoleGrants(ctx, userID)
		return err
	}, store.Audit(audit.From(ctx)))
	return grants, err
}
