package commerce

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/audit"
	"configmarket/internal/clock"
	"configmarket/internal/earnings"
	"configmarket/internal/identity"
	"configmarket/internal/money"
	"configmarket/internal/relay"
	"configmarket/internal/store"
)

// Payment intake. The platform never sees card data: the provider tells
// it that an invoice was paid, or an admin records a payment by hand.

// ProviderPayment is a payment the provider reports for an invoice.
type ProviderPayment struct {
	Provider string
	// EventID identifies the provider's event; a replay is applied once.
	EventID string
	// PaymentID is the provider's id of the money movement.
	PaymentID string
	InvoiceID uuid.UUID
	Amount    money.Money
	PaidAt    time.Time
}

// ApplyProviderPayment handles a provider's payment.succeeded event (see
// HandleProviderEvent): applied is false for a replay and for a payment
// kept unapplied.
func (s *Service) ApplyProviderPayment(ctx context.Context, p ProviderPayment) (applied bool, err error) {
	out, err := s.HandleProviderEvent(ctx, p.Event())
	return out.Applied, err
}

// RecordPayment lets an admin record a payment received outside the
// provider (a bank transfer), once per idempotency key.
func (s *Service) RecordPayment(ctx context.Context, v identity.Viewer, invoiceID uuid.UUID, amount money.Money, reference, idempotencyKey string) (Charge, error) {
	if err := requireAdmin(v); err != nil {
		return Charge{}, err
	}
	reference = strings.TrimSpace(reference)
	if n := utf8.RuneCountInString(reference); n < 1 || n > 200 {
		return Charge{}, apperr.Invalid("input.reference", "a payment reference of 1 to 200 characters is required")
	}
	input := map[string]any{"invoiceId": invoiceID, "amount": amount, "reference": reference}
	return s.charge(ctx, v, idempotencyKey, "recordPayment", input, func(q *store.Queries, now time.Time) (Charge, error) {
		p, err := s.pay(ctx, q, invoiceID, amount, "manual", reference, &v.UserID, now)
		if err != nil {
			return Charge{}, err
		}
		return Charge{PaymentID: &p.ID, InvoiceID: &invoiceID}, nil
	})
}

// pay settles an open invoice with exactly its amount and records the
// payment with what the earnings split needs: payer, configuration, what
// was paid for, amount, currency and time.
func (s *Service) pay(ctx context.Context, q *store.Queries, invoiceID uuid.UUID, amount money.Money, provider, providerPaymentID string, by *uuid.UUID, at time.Time) (store.Payment, error) {
	inv, err := q.LockInvoice(ctx, invoiceID)
	if apperr.Is(err, apperr.KindNotFound) {
		return store.Payment{}, apperr.NotFound("no such invoice").WithField("input", "invoiceId")
	}
	if err != nil {
		return store.Payment{}, err
	}
	if inv.State != store.InvoiceOpen {
		return store.Payment{}, apperr.FailedPrecondition("the invoice is %s, not open", inv.State).WithCode("INVOICE_NOT_OPEN")
	}
	if inv.ExpiresAt != nil && !at.Before(*inv.ExpiresAt) {
		// Paid after its window closed: the billing run voids it.
		return store.Payment{}, apperr.FailedPrecondition("the invoice expired unpaid").WithCode("INVOICE_NOT_OPEN")
	}
	if amount != inv.Amount {
		return store.Payment{}, apperr.Invalid("input.amount", "the payment is %s but the invoice is %s", amount, inv.Amount).WithCode("AMOUNT_MISMATCH")
	}
	p, err := q.InsertPayment(ctx, store.Payment{
		CustomerID: inv.CustomerID, InvoiceID: &inv.ID, ConfigurationID: inv.ConfigurationID, PaidFor: inv.PaidFor,
		Amount: amount, Provider: provider, ProviderPaymentID: providerPaymentID, RecordedBy: by, ReceivedAt: at,
	})
	if err != nil {
		return store.Payment{}, err
	}
	// The admin's or the provider's action records this payment: its
	// audit row names it and the money it brought.
	audit.SetTarget(ctx, relay.UUIDID(relay.TypePayment, p.ID))
	audit.SetAmount(ctx, p.Amount)
	// The split is written with the payment, in the same transaction.
	if err := earnings.RecordPayment(ctx, q, p); err != nil {
		return store.Payment{}, err
	}
	if err := q.MarkInvoicePaid(ctx, inv.ID, at); err != nil {
		return store.Payment{}, err
	}
	if inv.InstallationID != nil {
		if err := activate(ctx, q, inv, at); err != nil {
			return store.Payment{}, err
		}
	}
	return p, nil
}

// activate gives what a paid invoice paid for: a purchase becomes the
// installation (replacing a trial or rental), a pending rental starts its
// first period at the payment, and a past-due installation that owes
// nothing more is active again. A renewal's period itself advances when the
// current one ends (AdvancePaidPeriods).
func activate(ctx context.Context, q *store.Queries, inv store.Invoice, at time.Time) error {
	inst, err := q.LockInstallationByID(ctx, *inv.InstallationID)
	if err != nil {
		return err
	}
	switch {
	case inv.PaidFor == store.PaidForPurchase && inv.ExpiresAt != nil:
		_, err = completePurchase(ctx, q, inst.CustomerID, inst.ConfigurationID, inst, true, at)
		return err
	case inst.State == store.InstallationPendingPayment && inst.Mode == store.ModeRent:
		// Versions approved while it waited were not moved to it.
		ver, err := currentVersion(ctx, q, inst.ConfigurationID)
		if apperr.Is(err, apperr.KindFailedPrecondition) {
			ver, err = store.Version{ID: inst.VersionID}, nil
		}
		if err != nil {
			return err
		}
		return q.StartPaidRental(ctx, inst.ID, inv.ID, ver.ID, at, clock.AddMonths(at, 1))
	}
	return q.ReactivatePaid(ctx, inst.ID, at)
}

// Refund returns part or all of a payment (admin), with every party's
// reversal entries (reverse).
func (s *Service) Refund(ctx context.Context, v identity.Viewer, paymentID uuid.UUID, amount money.Money, reason, idempotencyKey string) (Charge, error) {
	// A refund acts on the payment it returns money of.
	audit.SetTarget(ctx, relay.UUIDID(relay.TypePayment, paymentID))
	if err := requireAdmin(v); err != nil {
		return Charge{}, err
	}
	if amount.Minor <= 0 {
		return Charge{}, apperr.Invalid("input.amount", "a refund must be positive").WithCode("AMOUNT_MISMATCH")
	}
	input := map[string]any{"paymentId": paymentID, "amount": amount, "reason": reason}
	return s.charge(ctx, v, idempotencyKey, "refund", input, func(q *store.Queries, now time.Time) (Charge, error) {
		p, err := q.LockPayment(ctx, paymentID)
		if apperr.Is(err, apperr.KindNotFound) {
			return Charge{}, apperr.NotFound("no such payment").WithField("input", "paymentId")
		}
		if err != nil {
			return Charge{}, err
		}
		id, err := reverse(ctx, q, p, store.NewRefund{
			PaymentID: p.ID, Amount: amount, Kind: store.EventRefund, Reason: strings.TrimSpace(reason),
			RecordedBy: &v.UserID, At: now,
		})
		if err != nil {
			return Charge{}, err
		}
		audit.SetAmount(ctx, amount)
		return Charge{PaymentID: &p.ID, RefundID: &id}, nil
	})
}
