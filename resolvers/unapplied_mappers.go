package resolvers

import (
	"context"

	"github.com/google/uuid"

	"configmarket/dataloaders"
	"configmarket/graph/model"
	"configmarket/internal/commerce"
	"configmarket/internal/relay"
)

const typeUnappliedPayment = relay.TypeUnappliedPayment

func toUnappliedPayment(u *commerce.UnappliedPayment) *model.UnappliedPayment {
	if u == nil {
		return nil
	}
	return &model.UnappliedPayment{
		ID: globalID(typeUnappliedPayment, u.ID), Kind: toEnum[model.ProviderEventKind](u.Kind),
		EventID: u.EventID, ProviderPaymentID: u.ProviderPaymentID, ProviderRefundID: u.ProviderRefundID,
		Amount: toMoney(u.Amount), OccurredAt: u.OccurredAt, Reason: toEnum[model.UnappliedReason](u.Reason),
		ReasonText: u.ReasonText, Event: string(u.Event), ReceivedAt: u.ReceivedAt,
		State: toEnum[model.UnappliedPaymentState](u.State), ResolvedAt: u.ResolvedAt, Note: u.Note,
		InvoiceID: u.InvoiceID, PaymentID: u.PaymentID, ResolvedByID: u.ResolvedBy,
		AppliedInvoiceID: u.AppliedInvoiceID, AppliedPaymentID: u.AppliedPaymentID,
	}
}

func toUnappliedPaymentConnection(p commerce.Page[commerce.UnappliedPayment]) *model.UnappliedPaymentConnection {
	edges, nodes := connection(p.Rows, p.Cursors, toUnappliedPayment,
		func(c string, n *model.UnappliedPayment) model.UnappliedPaymentEdge {
			return model.UnappliedPaymentEdge{Cursor: c, Node: n}
		})
	return &model.UnappliedPaymentConnection{Edges: edges, Nodes: nodes, PageInfo: pageInfo(p.Cursors, p.HasNext), TotalCount: total(p.Total)}
}

func unappliedStateArg(s *model.UnappliedPaymentState) *commerce.UnappliedState {
	return fromEnumPtr[commerce.UnappliedState](s)
}

// unappliedPayload loads the unapplied payment as it stands after its
// resolution, and the payment it became, through the viewer's loaders.
func unappliedPayload(ctx context.Context, r commerce.Resolution, err error) (*model.UnappliedPaymentPayload, error) {
	ues, err := userErrors(err, catalogExpected...)
	if err != nil || len(ues) > 0 {
		return &model.UnappliedPaymentPayload{UserErrors: ues}, err
	}
	l := dataloaders.From(ctx)
	u, err := l.UnappliedPayment(ctx, r.UnappliedID)
	if err != nil {
		return nil, err
	}
	out := &model.UnappliedPaymentPayload{UnappliedPayment: toUnappliedPayment(u), UserErrors: ues}
	if r.PaymentID != nil {
		p, err := l.Payment(ctx, *r.PaymentID)
		if err != nil {
			return nil, err
		}
		out.Payment = toPayment(p)
	}
	return out, nil
}

func optionalInvoice(ctx context.Context, id *uuid.UUID) (*model.Invoice, error) {
	if id == nil {
		return nil, nil
	}
	v, err := dataloaders.From(ctx).Invoice(ctx, *id)
	return toInvoice(v), err
}

func optionalPayment(ctx context.Context, id *uuid.UUID) (*model.Payment, error) {
	if id == nil {
		return nil, nil
	}
	p, err := dataloaders.From(ctx).Payment(ctx, *id)
	return toPayment(p), err
}
