package resolvers

import (
	"github.com/google/uuid"

	"configmarket/graph/model"
	"configmarket/internal/account"
	"configmarket/internal/apperr"
	"configmarket/internal/identity"
	"configmarket/internal/relay"
)

func toAPIToken(t *account.APIToken) *model.ApiToken {
	if t == nil {
		return nil
	}
	return &model.ApiToken{
		ID: globalID(relay.TypeAPIToken, t.ID), Name: t.Name, Role: toRole(identity.Role(t.Role)), ActingForID: t.ActingFor,
		Prefix: t.Prefix, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, LastUsedAt: t.LastUsedAt, RevokedAt: t.RevokedAt,
	}
}

func toAPITokens(ts []account.APIToken) []*model.ApiToken {
	out := make([]*model.ApiToken, len(ts))
	for i := range ts {
		out[i] = toAPIToken(&ts[i])
	}
	return out
}

// apiTokenInput decodes createApiToken's input; actingFor must name the
// kind of organisation the role acts for.
func apiTokenInput(in model.CreateAPITokenInput) (account.CreateAPITokenInput, error) {
	out := account.CreateAPITokenInput{Name: in.Name, Role: fromRole(in.Role), ExpiresAt: in.ValidUntil}
	if in.ActingFor != nil && out.Role.ActsForOrganisation() {
		var err error
		out.ActingFor, err = idArg("input.actingFor", *in.ActingFor, orgTypeOf(out.Role))
		return out, err
	}
	return out, nil
}

func createAPITokenPayload(made account.NewAPIToken, err error) (*model.CreateAPITokenPayload, error) {
	ues, err := userErrors(err)
	if err != nil || len(ues) > 0 {
		return &model.CreateAPITokenPayload{UserErrors: ues}, err
	}
	return &model.CreateAPITokenPayload{Secret: &made.Secret, APIToken: toAPIToken(&made.Token), UserErrors: ues}, nil
}

func revokeAPITokenPayload(t account.APIToken, err error) (*model.RevokeAPITokenPayload, error) {
	ues, err := userErrors(err, apperr.KindNotFound)
	if err != nil || len(ues) > 0 {
		return &model.RevokeAPITokenPayload{UserErrors: ues}, err
	}
	return &model.RevokeAPITokenPayload{APIToken: toAPIToken(&t), UserErrors: ues}, nil
}

// apiTokenOf is the token an audit row names, as a global id.
func apiTokenOf(id *uuid.UUID) *string {
	if id == nil {
		return nil
	}
	g := globalID(relay.TypeAPIToken, *id)
	return &g
}
