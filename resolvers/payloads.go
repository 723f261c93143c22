package resolvers

import (
	"configmarket/graph/model"
	"configmarket/internal/apperr"
	"configmarket/internal/store"
)

// Catalog mutations report a missing (or hidden) target as a user error, as
// they do invalid input; authentication and role failures stay top-level.
var catalogExpected = []apperr.Kind{apperr.KindNotFound}

func configurationPayload(c store.Configuration, err error) (*model.ConfigurationPayload, error) {
	ues, err := userErrors(err, catalogExpected...)
	if err != nil || len(ues) > 0 {
		return &model.ConfigurationPayload{UserErrors: ues}, err
	}
	return &model.ConfigurationPayload{Configuration: toConfiguration(&c), UserErrors: ues}, nil
}

func versionPayload(v store.Version, err error) (*model.VersionPayload, error) {
	ues, err := userErrors(err, catalogExpected...)
	if err != nil || len(ues) > 0 {
		return &model.VersionPayload{UserErrors: ues}, err
	}
	return &model.VersionPayload{Version: toVersion(&v), UserErrors: ues}, nil
}

func reviewPayload(r store.Review, err error) (*model.ReviewPayload, error) {
	ues, err := userErrors(err, catalogExpected...)
	if err != nil || len(ues) > 0 {
		return &model.ReviewPayload{UserErrors: ues}, err
	}
	return &model.ReviewPayload{Review: toReview(&r), UserErrors: ues}, nil
}
