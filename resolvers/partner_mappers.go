package resolvers

import (
	"configmarket/graph/model"
	"configmarket/internal/account"
	"configmarket/internal/earnings"
)

func partnerStatusPayload(p account.Partner, err error) (*model.SetPartnerStatusPayload, error) {
	ues, err := userErrors(err, catalogExpected...)
	if err != nil || len(ues) > 0 {
		return &model.SetPartnerStatusPayload{UserErrors: ues}, err
	}
	return &model.SetPartnerStatusPayload{Partner: toPartner(&p), UserErrors: ues}, nil
}

func toPartnerStatusChanges(rows []earnings.PartnerStatusChange) []*model.PartnerStatusChange {
	out := make([]*model.PartnerStatusChange, len(rows))
	for i, c := range rows {
		out[i] = &model.PartnerStatusChange{
			Status: toEnum[model.PartnerStatus](c.Status), Reason: c.Reason, DecidedAt: c.DecidedAt,
		}
		if c.DecidedBy != nil {
			id := globalID(typeUser, *c.DecidedBy)
			out[i].DecidedBy = &id
		}
	}
	return out
}
