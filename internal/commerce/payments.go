package commerce

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/audit"
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

// ApplyProviderPayment records a provider's payment event. A replayed event
// is a no-op (applied is false).
func (s *Service) ApplyProviderPayment(ctx context.Context, p ProviderPayment) (applied bool, err error) {
	err = s.store.InTx(ctx, func(q *store.Queries) error {
		if applied, err = q.InsertProviderEvent(ctx, p.Provider, p.EventID, "payment"); err != nil || !applied {
			return err
		}
		_, err := s.pay(ctx, q, p.InvoiceID, p.Amount, p.Provider, p.PaymentID, nil, p.PaidAt)
		return err
	})
	return applied, err
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
	if inv.State != "open" {
		return store.Payment{}, apperr.FailedPrecondition("the invoice is %s, not open", inv.State).WithCode("INVOICE_NOT_OPEN")
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
		// A paid invoice brings a past-due installation back; the period
		// itself advances when it ends (AdvancePaidPeriods).
		if err := q.ReactivatePaid(ctx, *inv.InstallationID, at); err != nil {
			return store.Payment{}, err
		}
	}
	return p, nil
}

// Refund returns part or all of a payment (admin). The earnings reversal
// follows the refund row (next issue).
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
		refunded, err := q.RefundedTotal(ctx, p.ID)
		if err != nil {
			return Charge{}, err
		}
		if amount.Currency != p.Amount.Currency || amount.Minor > p.Amount.Minor-refunded {
			return Charge{}, apperr.Invalid("input.amount", "at most %s can still be refunded",
				money.New(p.Amount.Minor-refunded, p.Amount.Currency)).WithCode("AMOUNT_MISMATCH")
		}
		id, err := q.InsertRefund(ctx, p.ID, amount, strings.TrimSpace(reason), &v.UserID, now)
		if err != nil {
			return Charge{}, err
		}
		if err := earnings.RecordRefund(ctx, q, p, id, amount, refunded, now); err != nil {
			return Charge{}, err
		}
		audit.SetAmount(ctx, amount)
		return Charge{PaymentID: &p.ID, RefundID: &id}, nil
	})
}
