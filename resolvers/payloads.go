package resolvers

import (
	"context"

	"github.com/google/uuid"

	"configmarket/graph/model"
	"configmarket/internal/account"
	"configmarket/internal/apperr"
	"configmarket/internal/catalog"
	"configmarket/internal/identity"
)

// Catalog mutations report a missing (or hidden) target as a user error, as
// they do invalid input; authentication and role failures stay top-level.
var catalogExpected = []apperr.Kind{apperr.KindNotFound}

func configurationPayload(c catalog.Configuration, err error) (*model.ConfigurationPayload, error) {
	ues, err := userErrors(err, catalogExpected...)
	if err != nil || len(ues) > 0 {
		return &model.ConfigurationPayload{UserErrors: ues}, err
	}
	return &model.ConfigurationPayload{Configuration: toConfiguration(&c), UserErrors: ues}, nil
}

func versionPayload(v catalog.Version, err error) (*model.VersionPayload, error) {
	ues, err := userErrors(err, catalogExpected...)
	if err != nil || len(ues) > 0 {
		return &model.VersionPayload{UserErrors: ues}, err
	}
	return &model.VersionPayload{Version: toVersion(&v), UserErrors: ues}, nil
}

func reviewPayload(r catalog.Review, err error) (*model.ReviewPayload, error) {
	ues, err := userErrors(err, catalogExpected...)
	if err != nil || len(ues) > 0 {
		return &model.ReviewPayload{UserErrors: ues}, err
	}
	return &model.ReviewPayload{Review: toReview(&r), UserErrors: ues}, nil
}

// changeRole grants or revokes a role; the organisation id must name the
// kind of organisation the role acts for.
func (r *mutationResolver) changeRole(ctx context.Context, input model.RoleChangeInput, grant bool) (*model.RoleChangePayload, error) {
	role := fromRole(input.Role)
	userID, org, err := roleChangeArgs(input, role)
	var grants []account.RoleGrant
	if err == nil {
		grants, err = r.AccountService.ChangeRole(ctx, identity.FromContext(ctx), userID, role, org, grant)
	}
	ues, err := userErrors(err, apperr.KindNotFound)
	if err != nil || len(ues) > 0 {
		return &model.RoleChangePayload{UserErrors: ues}, err
	}
	return &model.RoleChangePayload{Roles: toRoleGrants(grants), UserErrors: ues}, nil
}

// roleChangeArgs decodes a role change's user and organisation; the
// organisation must be of the kind role acts for.
func roleChangeArgs(input model.RoleChangeInput, role identity.Role) (user, org uuid.UUID, err error) {
	user, err = idArg("input.userId", input.UserID, typeUser)
	if err == nil && input.OrganizationID != nil {
		org, err = idArg("input.organizationId", *input.OrganizationID, orgTypeOf(role))
	}
	return user, org, err
}
