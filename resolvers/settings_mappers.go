package resolvers

import (
	"strings"

	"configmarket/graph/model"
	"configmarket/internal/settings"
)

func settingPayload(e settings.Entry, err error) (*model.UpdateSettingPayload, error) {
	ues, err := userErrors(err)
	if err != nil || len(ues) > 0 {
		return &model.UpdateSettingPayload{UserErrors: ues}, err
	}
	return &model.UpdateSettingPayload{Setting: toSetting(e), UserErrors: ues}, nil
}

func toSettings(es []settings.Entry) []*model.Setting {
	out := make([]*model.Setting, len(es))
	for i, e := range es {
		out[i] = toSetting(e)
	}
	return out
}

func toSetting(e settings.Entry) *model.Setting {
	dec := func(v int64) model.Decimal { return model.Decimal(e.Format(v)) }
	out := &model.Setting{
		Key: e.Key, Value: dec(e.Value), Default: dec(e.Default), Min: dec(e.Min), Max: dec(e.Max),
		Unit: model.SettingUnit(strings.ToUpper(string(e.Unit))), Description: e.Description,
		UpdatedAt: e.UpdatedAt, History: make([]*model.SettingChange, len(e.History)),
	}
	if e.UpdatedBy != nil {
		id := globalID(typeUser, *e.UpdatedBy)
		out.UpdatedBy = &id
	}
	for i, c := range e.History {
		out.History[i] = &model.SettingChange{OldValue: dec(c.OldValue), NewValue: dec(c.NewValue), ChangedAt: c.ChangedAt}
		if c.ChangedBy != nil {
			id := globalID(typeUser, *c.ChangedBy)
			out.History[i].ChangedBy = &id
		}
	}
	return out
}
