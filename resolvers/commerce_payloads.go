package resolvers

import (
	"context"

	"configmarket/dataloaders"
	"configmarket/graph/model"
	"configmarket/internal/apperr"
	"configmarket/internal/commerce"
	"configmarket/internal/identity"
)

func invalidAmount(field string) error {
	return apperr.Invalid(field, "amount must look like \"500.00\"").WithCode("AMOUNT_MISMATCH")
}

func installationPayload(i commerce.Installation, err error) (*model.InstallationPayload, error) {
	ues, err := userErrors(err, catalogExpected...)
	if err != nil || len(ues) > 0 {
		return &model.InstallationPayload{UserErrors: ues}, err
	}
	return &model.InstallationPayload{Installation: toInstallation(&i), UserErrors: ues}, nil
}

// chargePayload loads what a charge created, through the viewer's loaders
// (a replayed key returns the same objects).
func chargePayload(ctx context.Context, c commerce.Charge, err error) (*model.ChargePayload, error) {
	ues, err := userErrors(err, catalogExpected...)
	if err != nil || len(ues) > 0 {
		return &model.ChargePayload{UserErrors: ues}, err
	}
	l := dataloaders.From(ctx)
	out := &model.ChargePayload{UserErrors: ues}
	if c.InstallationID != nil {
		i, err := l.Installation(ctx, *c.InstallationID)
		if err != nil {
			return nil, err
		}
		out.Installation = toInstallation(i)
	}
	if c.InvoiceID != nil {
		v, err := l.Invoice(ctx, *c.InvoiceID)
		if err != nil {
			return nil, err
		}
		out.Invoice = toInvoice(v)
	}
	return out, nil
}

func paymentPayload(ctx context.Context, c commerce.Charge, err error) (*model.PaymentPayload, error) {
	ues, err := userErrors(err, catalogExpected...)
	if err != nil || len(ues) > 0 {
		return &model.PaymentPayload{UserErrors: ues}, err
	}
	out := &model.PaymentPayload{UserErrors: ues}
	if c.PaymentID != nil {
		p, err := dataloaders.From(ctx).Payment(ctx, *c.PaymentID)
		if err != nil {
			return nil, err
		}
		out.Payment = toPayment(p)
	}
	return out, nil
}

func invalidRate(field string) error {
	return apperr.Invalid(field, "a rate is a percent from 0 to 100 with up to two decimals").WithCode("RATE_INVALID")
}

func (r *Resolver) ratesPayload(ctx context.Context, err error) (*model.RatesPayload, error) {
	ues, err := userErrors(err)
	if err != nil || len(ues) > 0 {
		return &model.RatesPayload{UserErrors: ues}, err
	}
	t, err := r.EarningsRates.Current(ctx, identity.FromContext(ctx))
	if err != nil {
		return nil, err
	}
	return &model.RatesPayload{Rates: toRateTables(t), UserErrors: ues}, nil
}
