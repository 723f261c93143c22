package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"configmarket/internal/commerce"
	"configmarket/internal/money"
	"configmarket/internal/relay"
	"configmarket/internal/store"
	"configmarket/internal/webhook"
)

// maxWebhookBody bounds what is read before the signature is checked.
const maxWebhookBody = 64 << 10

// providerName names the payment provider in provider_events and payments.
const providerName = "provider"

// maxEventField bounds the ids and the type an event carries.
const maxEventField = 200

// ProviderEvents applies the payment provider's events once.
type ProviderEvents interface {
	HandleProviderEvent(ctx context.Context, ev commerce.ProviderEvent) (commerce.EventOutcome, error)
}

// paymentEvent is the provider's event body; data depends on the type.
type paymentEvent struct {
	ID   string          `json:"id"`
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// eventData holds the fields of every type's data:
//
//	payment.succeeded  {paymentId, invoiceId, amount, currency, paidAt}
//	payment.refunded   {paymentId, refundId, amount, currency, refundedAt}
//	payment.chargeback {paymentId, chargebackId, amount, currency, at}
type eventData struct {
	PaymentID    string     `json:"paymentId"`
	InvoiceID    string     `json:"invoiceId"`
	RefundID     string     `json:"refundId"`
	ChargebackID string     `json:"chargebackId"`
	Amount       string     `json:"amount"`
	Currency     string     `json:"currency"`
	PaidAt       *time.Time `json:"paidAt"`
	RefundedAt   *time.Time `json:"refundedAt"`
	At           *time.Time `json:"at"`
}

// PaymentWebhook receives the payment provider's signed events. The body
// is verified (HMAC-SHA256 over timestamp and raw body) before it is
// parsed. Every verified, well-formed event answers 200: applied, kept as
// an unapplied payment for an admin, or (a replay, a type that moves no
// money) acknowledged. A bad signature (401) or a malformed body (400) is
// refused, and an internal failure answers 500: the provider then retries.
func PaymentWebhook(v *webhook.Verifier, events ProviderEvents) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
		if err != nil {
			writeJSONError(w, http.StatusRequestEntityTooLarge, "BAD_USER_INPUT", "body too large")
			return
		}
		if err := v.Verify(r.Header.Get(webhook.HeaderName), body); err != nil {
			slog.WarnContext(r.Context(), "payment webhook refused", "err", err)
			writeJSONError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "bad signature")
			return
		}
		ev, err := providerEvent(body)
		if err != nil {
			writeJSONError(w, http.StatusBadRequest, "BAD_USER_INPUT", err.Error())
			return
		}
		// SECURITY: the signature is the provider's authority; only after
		// it checks out may the event move every party's money (the domain
		// then acts as the platform itself).
		out, err := events.HandleProviderEvent(r.Context(), ev)
		if err != nil {
			slog.ErrorContext(r.Context(), "payment webhook failed", "event", ev.EventID, "err", err)
			writeJSONError(w, http.StatusInternalServerError, "INTERNAL", "internal error")
			return
		}
		answer := map[string]any{"applied": out.Applied}
		if u := out.Unapplied; u != nil {
			// Kept for an admin; the provider has nothing to resend.
			slog.WarnContext(r.Context(), "payment webhook kept unapplied", "event", ev.EventID, "reason", u.Reason)
			answer["unapplied"] = strings.ToUpper(string(u.Reason))
		}
		writeJSON(w, http.StatusOK, answer)
	})
}

// providerEvent reads a verified body. It refuses only what is malformed:
// anything that names money the books cannot take is the domain's to keep.
func providerEvent(body []byte) (commerce.ProviderEvent, error) {
	// PostgreSQL keeps the raw event as jsonb, which takes neither invalid
	// UTF-8 nor NUL characters; ids with them are no ids.
	if !utf8.Valid(body) || bytes.Contains(body, []byte(`\u0000`)) {
		return commerce.ProviderEvent{}, errors.New("malformed event")
	}
	var ev paymentEvent
	if err := json.Unmarshal(body, &ev); err != nil || !fieldOK(ev.ID) || !fieldOK(ev.Type) {
		return commerce.ProviderEvent{}, errors.New("malformed event")
	}
	out := commerce.ProviderEvent{Provider: providerName, EventID: ev.ID, Type: ev.Type, Raw: body}
	var at *time.Time
	var ref string
	switch ev.Type {
	case "payment.succeeded":
		out.Kind = store.EventPayment
	case "payment.refunded":
		out.Kind = store.EventRefund
	case "payment.chargeback":
		out.Kind = store.EventChargeback
	default:
		// Kept and acknowledged: it moves no money.
		return out, nil
	}
	var d eventData
	if err := json.Unmarshal(ev.Data, &d); err != nil {
		return out, errors.New("malformed event data")
	}
	switch out.Kind {
	case store.EventPayment:
		at = d.PaidAt
		out.InvoiceID = invoiceRef(d.InvoiceID)
	case store.EventRefund:
		at, ref = d.RefundedAt, d.RefundID
	case store.EventChargeback:
		at, ref = d.At, d.ChargebackID
	}
	if !fieldOK(d.PaymentID) || at == nil || at.IsZero() || (out.Kind != store.EventPayment && !fieldOK(ref)) {
		return out, errors.New(requiredFields[out.Kind])
	}
	amount, err := money.Parse(d.Amount, d.Currency)
	if err != nil {
		return out, errors.New("amount or currency is malformed")
	}
	out.PaymentID, out.RefundID, out.Amount, out.At = d.PaymentID, ref, amount, *at
	return out, nil
}

var requiredFields = map[store.EventKind]string{
	store.EventPayment:    "paymentId and paidAt are required",
	store.EventRefund:     "paymentId, refundId and refundedAt are required",
	store.EventChargeback: "paymentId, chargebackId and at are required",
}

// invoiceRef reads the invoice a payment names: our global id, or the raw
// id providers may echo. Anything else names no invoice of ours (the
// payment is kept unapplied, not refused).
func invoiceRef(s string) *uuid.UUID {
	if id, err := relay.ParseUUIDOf(s, "Invoice"); err == nil {
		return &id
	}
	if id, err := uuid.Parse(s); err == nil {
		return &id
	}
	return nil
}

func fieldOK(s string) bool { return s != "" && len(s) <= maxEventField }

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
