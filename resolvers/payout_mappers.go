package resolvers

import (
	"context"
	"strconv"

	"configmarket/dataloaders"
	"configmarket/graph/model"
	"configmarket/internal/auditlog"
	"configmarket/internal/earnings"
	"configmarket/internal/identity"
	"configmarket/internal/pins"
)

const (
	typePin    = "Pin"
	typePayout = "Payout"
)

func toPin(p *pins.Pin) *model.Pin {
	if p == nil {
		return nil
	}
	return &model.Pin{
		ID: globalID(typePin, p.ID), State: toEnum[model.PinState](p.State), PartnerName: p.PartnerName,
		RequestedAt: p.RequestedAt, RequestedVia: (*string)(p.RequestedVia), StartsAt: p.StartsAt, ExpiresAt: p.ExpiresAt,
		DecidedAt: p.DecidedAt, Reason: p.Reason, RowID: p.ID,
	}
}

func toPinConnection(p pins.Page) *model.PinConnection {
	edges, nodes := connection(p.Rows, p.Cursors, toPin,
		func(c string, n *model.Pin) model.PinEdge { return model.PinEdge{Cursor: c, Node: n} })
	return &model.PinConnection{Edges: edges, Nodes: nodes, PageInfo: pageInfo(p.Cursors, p.HasNext), TotalCount: p.Total}
}

func toPayout(p *earnings.Payout) *model.Payout {
	if p == nil {
		return nil
	}
	return &model.Payout{
		ID: globalID(typePayout, p.ID), Amount: toMoney(p.Amount), Method: toEnum[model.PayoutMethod](p.Method),
		State: toEnum[model.PayoutState](p.State), FailureReason: p.FailureReason,
		RequestedAt: p.RequestedAt, DecidedAt: p.DecidedAt,
	}
}

func toPayoutConnection(p earnings.PayoutPage) *model.PayoutConnection {
	edges, nodes := connection(p.Rows, p.Cursors, toPayout,
		func(c string, n *model.Payout) model.PayoutEdge { return model.PayoutEdge{Cursor: c, Node: n} })
	return &model.PayoutConnection{Edges: edges, Nodes: nodes, PageInfo: pageInfo(p.Cursors, p.HasNext), TotalCount: p.Total}
}

func toBalance(b earnings.PartyBalance) *model.Balance {
	return &model.Balance{
		Total: toMoney(b.Total), Available: toMoney(b.Available), OnHold: toMoney(b.OnHold),
		PaidOrRequested: toMoney(b.PaidOrRequested), HoldUntil: b.HoldUntil,
	}
}

func pinPayload(p pins.Pin, err error) (*model.PinPayload, error) {
	ues, err := userErrors(err, catalogExpected...)
	if err != nil || len(ues) > 0 {
		return &model.PinPayload{UserErrors: ues}, err
	}
	return &model.PinPayload{Pin: toPin(&p), UserErrors: ues}, nil
}

func payoutPayload(p earnings.Payout, err error) (*model.PayoutPayload, error) {
	ues, err := userErrors(err, catalogExpected...)
	if err != nil || len(ues) > 0 {
		return &model.PayoutPayload{UserErrors: ues}, err
	}
	return &model.PayoutPayload{Payout: toPayout(&p), UserErrors: ues}, nil
}

// balanceOf is a party's balance, or nil when the viewer may not read it.
func (r *Resolver) balanceOf(ctx context.Context, party earnings.Party, id [16]byte) (*model.Balance, error) {
	b, err := r.EarningsPayouts.Balance(ctx, identity.FromContext(ctx), party, id)
	if err != nil {
		return hidden[*model.Balance](nil, err)
	}
	return toBalance(b), nil
}

func toStatusProgress(p earnings.StatusProgress) *model.StatusProgress {
	out := &model.StatusProgress{
		Status: toEnum[model.DeveloperStatus](p.Status), Eligible: toEnum[model.DeveloperStatus](p.Eligible),
		LastMonth: p.LastMonth, LastMonthSales: toMoney(p.LastMonthSales),
		CurrentMonth: p.CurrentMonth, CurrentMonthSales: toMoney(p.CurrentMonthSales),
		Flags: &model.DeveloperFlags{
			KnowledgeTestPassed: p.Flags.KnowledgeTestPassed, WebsiteInfo: p.Flags.WebsiteInfo, ContractSigned: p.Flags.ContractSigned,
		},
		Missing: []*model.StatusRequirement{},
	}
	if p.Next != nil {
		n := toEnum[model.DeveloperStatus](*p.Next)
		out.Next = &n
	}
	if p.Threshold != nil {
		out.Threshold = toMoney(*p.Threshold)
	}
	for _, m := range p.Missing {
		out.Missing = append(out.Missing, &model.StatusRequirement{Code: m.Code, Text: m.Text})
	}
	return out
}

// developerPayload reloads the developer after a status change.
func developerPayload(ctx context.Context, id [16]byte, err error) (*model.DeveloperStatusPayload, error) {
	ues, err := userErrors(err, catalogExpected...)
	if err != nil || len(ues) > 0 {
		return &model.DeveloperStatusPayload{UserErrors: ues}, err
	}
	d, err := dataloaders.From(ctx).Developer(ctx, id)
	return &model.DeveloperStatusPayload{Developer: toDeveloper(d), UserErrors: ues}, err
}

// auditFilter translates an AuditFilter.
func auditFilter(f *model.AuditFilter) (auditlog.Filter, error) {
	var out auditlog.Filter
	if f == nil {
		return out, nil
	}
	out.Action, out.From, out.To = f.Action, f.From, f.To
	if f.Actor != nil {
		id, err := idArg("filter.actor", *f.Actor, typeUser)
		if err != nil {
			return out, err
		}
		out.ActorID = &id
	}
	return out, nil
}

func toAuditEntryConnection(p auditlog.Page) *model.AuditEntryConnection {
	edges, nodes := connection(p.Rows, p.Cursors, toAuditEntry,
		func(c string, n *model.AuditEntry) model.AuditEntryEdge {
			return model.AuditEntryEdge{Cursor: c, Node: n}
		})
	return &model.AuditEntryConnection{Edges: edges, Nodes: nodes, PageInfo: pageInfo(p.Cursors, p.HasNext)}
}

func toAuditEntry(a *auditlog.Entry) *model.AuditEntry {
	out := &model.AuditEntry{
		ID: strconv.FormatInt(a.ID, 10), At: a.At, Action: a.Action, Target: a.Target, Result: string(a.Result),
		IP: a.IP, RequestID: a.RequestID, EventID: a.EventID, APIToken: apiTokenOf(a.APITokenID),
	}
	if a.Amount != nil {
		out.Amount = toMoney(*a.Amount)
	}
	if a.ActorID != nil {
		id := globalID(typeUser, *a.ActorID)
		out.Actor = &id
	}
	if a.Role != nil {
		r := toRole(identity.Role(*a.Role))
		out.Role = &r
	}
	return out
}
