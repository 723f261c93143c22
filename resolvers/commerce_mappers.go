package resolvers

import (
	"github.com/google/uuid"

	"configmarket/graph/model"
	"configmarket/internal/commerce"
	"configmarket/internal/money"
)

const (
	typeInstallation = "Installation"
	typeInvoice      = "Invoice"
	typePayment      = "Payment"
)

func toInstallation(i *commerce.Installation) *model.Installation {
	if i == nil {
		return nil
	}
	return &model.Installation{
		ID: globalID(typeInstallation, i.ID), Mode: toEnum[model.InstallationMode](i.Mode),
		State: toEnum[model.InstallationState](i.State), AutoUpdate: i.AutoUpdate, TrialEndsAt: i.TrialEndsAt,
		CurrentPeriodStart: i.CurrentPeriodStart, CurrentPeriodEnd: i.CurrentPeriodEnd, CancelAtPeriodEnd: i.CancelAtPeriodEnd,
		DataRetainedUntil: i.DataRetainedUntil, CreatedAt: i.CreatedAt, Row: *i,
	}
}

func toInvoice(v *commerce.Invoice) *model.Invoice {
	if v == nil {
		return nil
	}
	return &model.Invoice{
		ID: globalID(typeInvoice, v.ID), PaidFor: toEnum[model.PaidFor](v.PaidFor), Amount: toMoney(v.Amount),
		PeriodStart: v.PeriodStart, PeriodEnd: v.PeriodEnd, State: toEnum[model.InvoiceState](v.State),
		IssuedAt: v.IssuedAt, PaidAt: v.PaidAt, ExpiresAt: v.ExpiresAt, InstallationID: v.InstallationID,
		ConfigurationID: v.ConfigurationID,
	}
}

func toPayment(p *commerce.Payment) *model.Payment {
	if p == nil {
		return nil
	}
	return &model.Payment{
		ID: globalID(typePayment, p.ID), PaidFor: toEnum[model.PaidFor](p.PaidFor), Amount: toMoney(p.Amount),
		Provider: p.Provider, ReceivedAt: p.ReceivedAt, ConfigurationID: p.ConfigurationID,
	}
}

func toInstallationConnection(p commerce.Page[commerce.Installation]) *model.InstallationConnection {
	edges, nodes := connection(p.Rows, p.Cursors, toInstallation,
		func(c string, n *model.Installation) model.InstallationEdge {
			return model.InstallationEdge{Cursor: c, Node: n}
		})
	return &model.InstallationConnection{Edges: edges, Nodes: nodes, PageInfo: pageInfo(p.Cursors, p.HasNext)}
}

func toInvoiceConnection(p commerce.Page[commerce.Invoice]) *model.InvoiceConnection {
	edges, nodes := connection(p.Rows, p.Cursors, toInvoice,
		func(c string, n *model.Invoice) model.InvoiceEdge { return model.InvoiceEdge{Cursor: c, Node: n} })
	return &model.InvoiceConnection{Edges: edges, Nodes: nodes, PageInfo: pageInfo(p.Cursors, p.HasNext), TotalCount: p.Total}
}

func toPaymentConnection(p commerce.Page[commerce.Payment]) *model.PaymentConnection {
	edges, nodes := connection(p.Rows, p.Cursors, toPayment,
		func(c string, n *model.Payment) model.PaymentEdge { return model.PaymentEdge{Cursor: c, Node: n} })
	return &model.PaymentConnection{Edges: edges, Nodes: nodes, PageInfo: pageInfo(p.Cursors, p.HasNext)}
}

// developerInstallationFilter translates a developer's InstallationFilter.
func developerInstallationFilter(developerID uuid.UUID, f *model.InstallationFilter) (commerce.InstallationFilter, error) {
	out := commerce.InstallationFilter{DeveloperID: &developerID}
	if f == nil {
		return out, nil
	}
	out.State, out.Mode = fromEnumPtr[commerce.InstallationState](f.State), fromEnumPtr[commerce.InstallationMode](f.Mode)
	if f.Configuration != nil {
		id, err := idArg("filter.configuration", *f.Configuration, typeConfiguration)
		if err != nil {
			return out, err
		}
		out.ConfigurationID = &id
	}
	return out, nil
}

// developerPaymentFilter translates a developer's payments' arguments.
func developerPaymentFilter(developerID uuid.UUID, configuration *string) (commerce.PaymentFilter, error) {
	out := commerce.PaymentFilter{DeveloperID: &developerID}
	if configuration != nil {
		id, err := idArg("configuration", *configuration, typeConfiguration)
		if err != nil {
			return out, err
		}
		out.ConfigurationID = &id
	}
	return out, nil
}

func parseMoney(field string, d model.Decimal) (money.Money, error) {
	m, err := money.Parse(string(d), money.RUB)
	if err != nil {
		return money.Money{}, invalidAmount(field)
	}
	return m, nil
}

func uuidPtr(id uuid.UUID) *uuid.UUID { return &id }
