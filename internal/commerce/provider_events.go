package commerce

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/audit"
	"configmarket/internal/earnings"
	"configmarket/internal/identity"
	"configmarket/internal/money"
	"configmarket/internal/relay"
	"configmarket/internal/store"
)

// Provider events (issue 19, "every provider event is kept"). The provider
// reports payments, refunds and chargebacks. Each event is applied once; an
// event whose money the books cannot take is kept as an unapplied payment
// for an admin to resolve, never refused: the provider has taken (or given
// back) the money whatever the books say, and a refusal would only make it
// resend the event.

// PaidAtLeeway is how far past now a provider's paidAt may lie (the two
// clocks differ a little); a payment dated later is kept unapplied, since
// its time decides the hold, the rates and the pin window.
const PaidAtLeeway = 5 * time.Minute

// ProviderEvent is one event of the payment provider.
type ProviderEvent struct {
	Provider string
	// EventID identifies the event; a replay changes nothing.
	EventID string
	// Type is the provider's type, e.g. "payment.refunded"; it names the
	// audit row.
	Type string
	// Kind is what the event reports; empty for an event that moves no
	// money, which is kept and acknowledged only.
	Kind store.EventKind
	// PaymentID is the provider's payment id: of the payment made, or of
	// the payment a refund or chargeback takes back.
	PaymentID string
	// InvoiceID is the invoice a payment names; nil when it names none of
	// ours.
	InvoiceID *uuid.UUID
	// RefundID is the provider's id of a refund or chargeback; each is
	// applied once, whatever event carries it.
	RefundID string
	Amount   money.Money
	// At is when the provider says the money moved.
	At time.Time
	// Raw is the event as received.
	Raw json.RawMessage
}

// Event is the payment.succeeded event reporting p.
func (p ProviderPayment) Event() ProviderEvent {
	return ProviderEvent{
		Provider: p.Provider, EventID: p.EventID, Type: "payment.succeeded", Kind: store.EventPayment,
		PaymentID: p.PaymentID, InvoiceID: &p.InvoiceID, Amount: p.Amount, At: p.PaidAt,
	}
}

// EventOutcome is what became of an event.
type EventOutcome struct {
	// Applied is true when the books took the event's money now.
	Applied bool
	// Unapplied is the unapplied payment the event was kept as.
	Unapplied *store.UnappliedPayment
}

// errSeen rolls back an event that changes nothing: a replayed event id,
// or money already taken under another event id.
var errSeen = errors.New("provider event seen before")

// HandleProviderEvent applies a provider event once, or keeps it as an
// unapplied payment. A replay, or money the books already took under
// another event id, changes nothing (a zero outcome). Only internal
// failures return an error: the provider then retries.
func (s *Service) HandleProviderEvent(ctx context.Context, ev ProviderEvent) (EventOutcome, error) {
	// SECURITY: the provider may move every party's money because the
	// caller checked its signature; the platform then acts as itself, and
	// row-level security lets the system write every party's ledger rows.
	ctx = identity.AsSystem(ctx)
	ctx = audit.System(ctx, ev.Type, "", ev.EventID)
	if ev.Raw == nil {
		raw, err := json.Marshal(ev)
		if err != nil {
			return EventOutcome{}, err
		}
		ev.Raw = raw
	}
	var out EventOutcome
	err := s.store.InTx(ctx, func(q *store.Queries) error {
		out = EventOutcome{}
		fresh, err := q.InsertProviderEvent(ctx, ev.Provider, ev.EventID, ev.Type, ev.Raw)
		if err != nil {
			return err
		}
		if !fresh {
			return errSeen
		}
		if ev.Kind == "" {
			return nil
		}
		seen, err := q.ProviderMoneySeen(ctx, ev.Provider, ev.Kind, ev.PaymentID, ev.RefundID)
		if err != nil {
			return err
		}
		if seen {
			return errSeen
		}
		if ev.Kind == store.EventPayment {
			out, err = s.takePayment(ctx, q, ev)
		} else {
			out, err = s.takeRefund(ctx, q, ev)
		}
		return err
	}, store.Audit(audit.From(ctx)))
	if errors.Is(err, errSeen) {
		return EventOutcome{}, nil
	}
	if err == nil && out.Applied {
		s.public.Bump(ctx)
	}
	return out, err
}

// takePayment pays the invoice the event names, through the same path as
// every payment (pay), or keeps the event.
func (s *Service) takePayment(ctx context.Context, q *store.Queries, ev ProviderEvent) (EventOutcome, error) {
	now := s.clock.Now()
	if ev.InvoiceID == nil {
		return s.keep(ctx, q, ev, store.ReasonInvoiceUnknown, "the event names no invoice of ours", nil, nil)
	}
	inv, err := q.LockInvoice(ctx, *ev.InvoiceID)
	if apperr.Is(err, apperr.KindNotFound) {
		return s.keep(ctx, q, ev, store.ReasonInvoiceUnknown, "no invoice has the id the event names", nil, nil)
	}
	if err != nil {
		return EventOutcome{}, err
	}
	var reason store.UnappliedReason
	var text string
	switch {
	case inv.State != store.InvoiceOpen:
		reason, text = store.ReasonInvoiceNotOpen, "the invoice is "+string(inv.State)+", not open"
	case ev.Amount.Currency != inv.Amount.Currency:
		reason, text = store.ReasonCurrencyMismatch, "the payment is in "+ev.Amount.Currency+" but the invoice in "+inv.Amount.Currency
	case ev.Amount != inv.Amount:
		reason, text = store.ReasonAmountMismatch, "the payment is "+ev.Amount.String()+" but the invoice is "+inv.Amount.String()
	case ev.At.Before(inv.IssuedAt.Truncate(time.Second)):
		// Providers date to the second: a payment in the second the
		// invoice was issued is not before it.
		reason, text = store.ReasonPaidBeforeIssue, "paid at "+stamp(ev.At)+", before the invoice was issued at "+stamp(inv.IssuedAt)
	case ev.At.After(now.Add(PaidAtLeeway)):
		reason, text = store.ReasonPaidInFuture, "paid at "+stamp(ev.At)+", more than "+PaidAtLeeway.String()+" after now ("+stamp(now)+")"
	}
	if reason != "" {
		return s.keep(ctx, q, ev, reason, text, &inv.ID, nil)
	}
	var p store.Payment
	err = q.Savepoint(ctx, func(q *store.Queries) error {
		var err error
		p, err = s.pay(ctx, q, inv.ID, ev.Amount, ev.Provider, ev.PaymentID, nil, ev.At)
		return err
	})
	if e, ok := refusal(err); ok {
		// The checks above leave little for pay to refuse; what it does
		// refuse is kept all the same.
		reason := store.ReasonRefused
		switch e.Code {
		case "INVOICE_NOT_OPEN":
			reason = store.ReasonInvoiceNotOpen
		case "AMOUNT_MISMATCH":
			reason = store.ReasonAmountMismatch
		case "DUPLICATE_PAYMENT":
			reason = store.ReasonDuplicatePayment
		}
		return s.keep(ctx, q, ev, reason, e.Message, &inv.ID, nil)
	}
	if err != nil {
		return EventOutcome{}, err
	}
	audit.SetTarget(ctx, relay.UUIDID(relay.TypePayment, p.ID))
	audit.SetAmount(ctx, p.Amount)
	return EventOutcome{Applied: true}, nil
}

// takeRefund gives back part or all of the payment the event names, as an
// admin's refund does, or keeps the event. A chargeback also holds the
// license of what the payment paid for.
func (s *Service) takeRefund(ctx context.Context, q *store.Queries, ev ProviderEvent) (EventOutcome, error) {
	now := s.clock.Now()
	p, err := q.LockPaymentByProviderID(ctx, ev.Provider, ev.PaymentID)
	if apperr.Is(err, apperr.KindNotFound) {
		return s.keep(ctx, q, ev, store.ReasonPaymentUnknown, "no payment has the provider's payment id "+ev.PaymentID, nil, nil)
	}
	if err != nil {
		return EventOutcome{}, err
	}
	refunded, err := q.RefundedTotal(ctx, p.ID)
	if err != nil {
		return EventOutcome{}, err
	}
	left := money.New(p.Amount.Minor-refunded, p.Amount.Currency)
	switch {
	case ev.Amount.Minor <= 0:
		return s.keep(ctx, q, ev, store.ReasonAmountInvalid, "the amount "+ev.Amount.String()+" is not positive", nil, &p.ID)
	case ev.Amount.Currency != p.Amount.Currency:
		return s.keep(ctx, q, ev, store.ReasonCurrencyMismatch, "the "+string(ev.Kind)+" is in "+ev.Amount.Currency+" but the payment in "+p.Amount.Currency, nil, &p.ID)
	case ev.Amount.Minor > left.Minor:
		return s.keep(ctx, q, ev, store.ReasonRefundExceedsPayment, "the "+string(ev.Kind)+" is "+ev.Amount.String()+" but only "+left.String()+" of the payment is left", nil, &p.ID)
	}
	err = q.Savepoint(ctx, func(q *store.Queries) error {
		refundID, err := reverse(ctx, q, p, store.NewRefund{
			PaymentID: p.ID, Amount: ev.Amount, Kind: ev.Kind, Reason: "provider " + string(ev.Kind) + " " + ev.RefundID,
			Provider: ev.Provider, ProviderRefundID: ev.RefundID, At: now,
		})
		if err != nil || ev.Kind != store.EventChargeback {
			return err
		}
		return holdLicense(ctx, q, p, refundID, now)
	})
	if e, ok := refusal(err); ok {
		reason := store.ReasonRefused
		if e.Code == "AMOUNT_MISMATCH" {
			reason = store.ReasonRefundExceedsPayment
		}
		return s.keep(ctx, q, ev, reason, e.Message, nil, &p.ID)
	}
	if err != nil {
		return EventOutcome{}, err
	}
	audit.SetTarget(ctx, relay.UUIDID(relay.TypePayment, p.ID))
	audit.SetAmount(ctx, ev.Amount)
	return EventOutcome{Applied: true}, nil
}

// reverse gives back amount of payment p (at most what is left of it) and
// writes every party's reversal entries: the one refund path of an admin's
// refund and of the provider's refunds and chargebacks.
func reverse(ctx context.Context, q *store.Queries, p store.Payment, r store.NewRefund) (uuid.UUID, error) {
	refunded, err := q.RefundedTotal(ctx, p.ID)
	if err != nil {
		return uuid.Nil, err
	}
	if r.Amount.Currency != p.Amount.Currency || r.Amount.Minor > p.Amount.Minor-refunded {
		return uuid.Nil, apperr.Invalid("input.amount", "at most %s can still be refunded",
			money.New(p.Amount.Minor-refunded, p.Amount.Currency)).WithCode("AMOUNT_MISMATCH")
	}
	id, err := q.AddRefund(ctx, r)
	if err != nil {
		return uuid.Nil, err
	}
	if err := earnings.RecordRefund(ctx, q, p, id, r.Amount, refunded, r.At); err != nil {
		return uuid.Nil, err
	}
	return id, nil
}

// holdLicense makes the license of the installation p paid for invalid
// until an admin restores it (RestoreLicense). A payment for no
// installation (a plan, services) holds nothing.
func holdLicense(ctx context.Context, q *store.Queries, p store.Payment, chargebackID uuid.UUID, at time.Time) error {
	if p.InvoiceID == nil {
		return nil
	}
	invs, err := q.InvoicesByIDs(ctx, []uuid.UUID{*p.InvoiceID})
	if err != nil || len(invs) == 0 || invs[0].InstallationID == nil {
		return err
	}
	return q.HoldLicense(ctx, *invs[0].InstallationID, chargebackID, at)
}

// keep stores ev as an unapplied payment with the reason the books could
// not take it.
func (s *Service) keep(ctx context.Context, q *store.Queries, ev ProviderEvent, reason store.UnappliedReason, text string, invoiceID, paymentID *uuid.UUID) (EventOutcome, error) {
	var refundID *string
	if ev.Kind != store.EventPayment {
		refundID = &ev.RefundID
	}
	u, err := q.InsertUnapplied(ctx, store.UnappliedPayment{
		Provider: ev.Provider, EventID: ev.EventID, Kind: ev.Kind, ProviderPaymentID: ev.PaymentID,
		ProviderRefundID: refundID, Amount: ev.Amount, InvoiceID: invoiceID, PaymentID: paymentID, OccurredAt: ev.At,
		Reason: reason, ReasonText: text, Event: ev.Raw, ReceivedAt: s.clock.Now(),
	})
	if err != nil {
		return EventOutcome{}, err
	}
	// The money is the provider's fact even when the books do not take
	// it: the audit row says how much waits for an admin.
	audit.SetTarget(ctx, relay.UUIDID(relay.TypeUnappliedPayment, u.ID))
	audit.SetAmount(ctx, u.Amount)
	return EventOutcome{Unapplied: &u}, nil
}

// refusal reports whether err is the books refusing the event (a client
// kind of error), as opposed to a failure to retry.
func refusal(err error) (*apperr.Error, bool) {
	e, ok := apperr.As(err)
	if !ok {
		return nil, false
	}
	switch e.Kind {
	case apperr.KindInvalid, apperr.KindNotFound, apperr.KindConflict, apperr.KindFailedPrecondition:
		return e, true
	}
	return nil, false
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
