package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/commerce"
	"configmarket/internal/identity"
	"configmarket/internal/money"
	"configmarket/internal/relay"
	"configmarket/internal/webhook"
)

// maxWebhookBody bounds what is read before the signature is checked.
const maxWebhookBody = 64 << 10

// PaymentApplier records a provider's payment once.
type PaymentApplier interface {
	ApplyProviderPayment(ctx context.Context, p commerce.ProviderPayment) (bool, error)
}

// paymentEvent is the provider's event body.
type paymentEvent struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Data struct {
		PaymentID string    `json:"paymentId"`
		InvoiceID string    `json:"invoiceId"`
		Amount    string    `json:"amount"`
		Currency  string    `json:"currency"`
		PaidAt    time.Time `json:"paidAt"`
	} `json:"data"`
}

// PaymentWebhook receives the payment provider's signed events. The body
// is verified (HMAC-SHA256 over timestamp and raw body) before it is
// parsed; a replayed event answers 200 and changes nothing.
func PaymentWebhook(v *webhook.Verifier, payments PaymentApplier) http.Handler {
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
		var ev paymentEvent
		if err := json.Unmarshal(body, &ev); err != nil || ev.ID == "" {
			writeJSONError(w, http.StatusBadRequest, "BAD_USER_INPUT", "malformed event")
			return
		}
		if ev.Type != "payment.succeeded" {
			// Events we do not act on are acknowledged so the provider
			// stops resending them.
			writeJSON(w, http.StatusOK, map[string]any{"applied": false})
			return
		}
		p, err := providerPayment(ev)
		if err != nil {
			writeJSONError(w, http.StatusBadRequest, "BAD_USER_INPUT", err.Error())
			return
		}
		// SECURITY: the signature is the provider's authority; only after
		// it checks out may the event write every party's ledger rows.
		applied, err := payments.ApplyProviderPayment(identity.AsSystem(r.Context()), p)
		if err != nil {
			e, ok := apperr.As(err)
			if !ok || e.Kind == apperr.KindInternal {
				slog.ErrorContext(r.Context(), "payment webhook failed", "event", ev.ID, "err", err)
				writeJSONError(w, http.StatusInternalServerError, "INTERNAL", "internal error")
				return
			}
			// A payment the books cannot take (wrong amount, invoice
			// not open) needs a person, not a retry.
			slog.WarnContext(r.Context(), "payment webhook not applied", "event", ev.ID, "err", err)
			writeJSONError(w, http.StatusUnprocessableEntity, e.PublicCode(), e.Message)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"applied": applied})
	})
}

func providerPayment(ev paymentEvent) (commerce.ProviderPayment, error) {
	invoice, err := relay.ParseUUIDOf(ev.Data.InvoiceID, "Invoice")
	if err != nil {
		// Providers may echo the raw id we gave them.
		if invoice, err = uuid.Parse(ev.Data.InvoiceID); err != nil {
			return commerce.ProviderPayment{}, errors.New("invoiceId is not an invoice id")
		}
	}
	amount, err := money.Parse(ev.Data.Amount, ev.Data.Currency)
	if err != nil {
		return commerce.ProviderPayment{}, errors.New("amount or currency is malformed")
	}
	if ev.Data.PaymentID == "" || ev.Data.PaidAt.IsZero() {
		return commerce.ProviderPayment{}, errors.New("paymentId and paidAt are required")
	}
	return commerce.ProviderPayment{
		Provider: "provider", EventID: ev.ID, PaymentID: ev.Data.PaymentID,
		InvoiceID: invoice, Amount: amount, PaidAt: ev.Data.PaidAt,
	}, nil
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
