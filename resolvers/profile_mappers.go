package resolvers

import (
	"configmarket/graph/model"
	"configmarket/internal/account"
	"configmarket/internal/catalog"
)

func updateProfilePayload(u account.User, err error) (*model.UpdateProfilePayload, error) {
	ues, err := userErrors(err)
	if err != nil || len(ues) > 0 {
		return &model.UpdateProfilePayload{UserErrors: ues}, err
	}
	return &model.UpdateProfilePayload{User: toUser(&u), UserErrors: ues}, nil
}

func updateDeveloperProfilePayload(d catalog.Developer, err error) (*model.UpdateDeveloperProfilePayload, error) {
	ues, err := userErrors(err)
	if err != nil || len(ues) > 0 {
		return &model.UpdateDeveloperProfilePayload{UserErrors: ues}, err
	}
	return &model.UpdateDeveloperProfilePayload{Developer: toDeveloper(&d), UserErrors: ues}, nil
}

func updatePartnerProfilePayload(p account.Partner, err error) (*model.UpdatePartnerProfilePayload, error) {
	ues, err := userErrors(err)
	if err != nil || len(ues) > 0 {
		return &model.UpdatePartnerProfilePayload{UserErrors: ues}, err
	}
	return &model.UpdatePartnerProfilePayload{Partner: toPartner(&p), UserErrors: ues}, nil
}

func updateCustomerProfilePayload(c account.Customer, err error) (*model.UpdateCustomerProfilePayload, error) {
	ues, err := userErrors(err)
	if err != nil || len(ues) > 0 {
		return &model.UpdateCustomerProfilePayload{UserErrors: ues}, err
	}
	return &model.UpdateCustomerProfilePayload{Customer: toCustomer(&c), UserErrors: ues}, nil
}
