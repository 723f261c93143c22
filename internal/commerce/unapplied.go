package commerce

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/audit"
	"configmarket/internal/idempotency"
	"configmarket/internal/identity"
	"configmarket/internal/relay"
	"configmarket/internal/store"
)

// The admins' queue of unapplied payments, and the restoring of licenses a
// chargeback held.

// maxNote bounds an admin's note on a resolution.
const maxNote = 1000

// Resolution is what resolving an unapplied payment did; a replayed
// idempotency key returns it again.
type Resolution struct {
	UnappliedID uuid.UUID `json:"unappliedId"`
	// PaymentID is the payment an applied one became.
	PaymentID *uuid.UUID `json:"paymentId,omitempty"`
}

// mayHandleUnapplied decides who sees and resolves unapplied payments.
func mayHandleUnapplied(v identity.Viewer) error {
	if v.Anonymous() {
		return apperr.Unauthenticated("log in first")
	}
	// SECURITY: admins only: an unapplied payment is the provider's raw
	// event about a customer's money, which belongs to no party until the
	// platform decides where it goes.
	if !v.IsAdmin() {
		return apperr.Forbidden("only admins handle unapplied payments")
	}
	return nil
}

// UnappliedPayments lists unapplied payments newest first, optionally in
// one state (admins).
func (s *Service) UnappliedPayments(ctx context.Context, v identity.Viewer, state *store.UnappliedState, args relay.PageArgs) (Page[store.UnappliedPayment], error) {
	if mayHandleUnapplied(v) != nil {
		return Page[store.UnappliedPayment]{}, apperr.Hidden(v, "only admins handle unapplied payments")
	}
	limit, key, err := relay.TimePage(args.First, args.After)
	if err != nil {
		return Page[store.UnappliedPayment]{}, err
	}
	rows, err := s.store.UnappliedPage(ctx, state, key, limit+1)
	if err != nil {
		return Page[store.UnappliedPayment]{}, err
	}
	page := newestFirst(rows, limit, func(u store.UnappliedPayment) store.TimeKey {
		return store.TimeKey{At: u.ReceivedAt, ID: u.ID}
	})
	return page.Counted(args, func() (int, error) { return s.store.UnappliedCount(ctx, state) })
}

// UnappliedPaymentsByIDs returns the unapplied payments among ids that v
// may read: none unless v is an admin.
func (s *Service) UnappliedPaymentsByIDs(ctx context.Context, v identity.Viewer, ids []uuid.UUID) ([]store.UnappliedPayment, error) {
	if mayHandleUnapplied(v) != nil {
		return nil, nil
	}
	return s.store.UnappliedByIDs(ctx, ids)
}

// ApplyUnapplied applies an unapplied payment to an open invoice of
// exactly its amount: it then goes the way of every payment (pay: the
// ledger split, the invoice paid, the installation activated), dated now,
// when the books take it (the provider's date may be what kept it out).
// Once per unapplied payment and per idempotency key.
func (s *Service) ApplyUnapplied(ctx context.Context, v identity.Viewer, id, invoiceID uuid.UUID, note, idempotencyKey string) (Resolution, error) {
	audit.SetTarget(ctx, relay.UUIDID(relay.TypeUnappliedPayment, id))
	if err := mayHandleUnapplied(v); err != nil {
		return Resolution{}, err
	}
	note, err := noteOf(note)
	if err != nil {
		return Resolution{}, err
	}
	input := map[string]any{"id": id, "invoiceId": invoiceID, "note": note}
	out, err := idempotency.Once(ctx, s.store, v.UserID, idempotencyKey, "applyUnappliedPayment", input,
		func(q *store.Queries) (Resolution, error) {
			u, err := openUnapplied(ctx, q, id)
			if err != nil {
				return Resolution{}, err
			}
			if u.Kind != store.EventPayment {
				return Resolution{}, apperr.FailedPrecondition("a %s cannot be applied to an invoice; return it instead", u.Kind).
					WithCode("UNAPPLIED_NOT_A_PAYMENT").WithField("input", "id")
			}
			inv, err := q.LockInvoice(ctx, invoiceID)
			if apperr.Is(err, apperr.KindNotFound) {
				return Resolution{}, apperr.NotFound("no such invoice").WithField("input", "invoiceId")
			}
			if err != nil {
				return Resolution{}, err
			}
			if inv.State != store.InvoiceOpen {
				return Resolution{}, apperr.FailedPrecondition("the invoice is %s, not open", inv.State).
					WithCode("INVOICE_NOT_OPEN").WithField("input", "invoiceId")
			}
			if inv.Amount != u.Amount {
				return Resolution{}, apperr.Invalid("input.invoiceId", "the payment is %s but the invoice is %s", u.Amount, inv.Amount).
					WithCode("AMOUNT_MISMATCH")
			}
			now := s.clock.Now()
			p, err := s.pay(ctx, q, inv.ID, u.Amount, u.Provider, u.ProviderPaymentID, &v.UserID, now)
			if err != nil {
				return Resolution{}, err
			}
			if err := resolve(ctx, q, u.ID, store.UnappliedResolution{
				State: store.UnappliedApplied, By: v.UserID, Note: note, At: now, AppliedPaymentID: &p.ID, AppliedInvoiceID: &inv.ID,
			}); err != nil {
				return Resolution{}, err
			}
			// The admin acted on the unapplied payment; pay named the
			// payment it became.
			audit.SetTarget(ctx, relay.UUIDID(relay.TypeUnappliedPayment, u.ID))
			audit.SetAmount(ctx, u.Amount)
			return Resolution{UnappliedID: u.ID, PaymentID: &p.ID}, nil
		}, nil)
	if err == nil {
		s.public.Bump(ctx)
	}
	return out, err
}

// ReturnUnapplied records that an unapplied payment's money went back to
// the payer (or, for a refund or chargeback, was settled outside the
// books). Once per unapplied payment and per idempotency key.
func (s *Service) ReturnUnapplied(ctx context.Context, v identity.Viewer, id uuid.UUID, note, idempotencyKey string) (Resolution, error) {
	audit.SetTarget(ctx, relay.UUIDID(relay.TypeUnappliedPayment, id))
	if err := mayHandleUnapplied(v); err != nil {
		return Resolution{}, err
	}
	note, err := noteOf(note)
	if err != nil {
		return Resolution{}, err
	}
	input := map[string]any{"id": id, "note": note}
	return idempotency.Once(ctx, s.store, v.UserID, idempotencyKey, "returnUnappliedPayment", input,
		func(q *store.Queries) (Resolution, error) {
			u, err := openUnapplied(ctx, q, id)
			if err != nil {
				return Resolution{}, err
			}
			if err := resolve(ctx, q, u.ID, store.UnappliedResolution{
				State: store.UnappliedReturned, By: v.UserID, Note: note, At: s.clock.Now(),
			}); err != nil {
				return Resolution{}, err
			}
			audit.SetAmount(ctx, u.Amount)
			return Resolution{UnappliedID: u.ID}, nil
		}, nil)
}

// openUnapplied locks an unapplied payment that is still open.
func openUnapplied(ctx context.Context, q *store.Queries, id uuid.UUID) (store.UnappliedPayment, error) {
	u, err := q.LockUnapplied(ctx, id)
	if apperr.Is(err, apperr.KindNotFound) {
		return u, apperr.NotFound("no such unapplied payment").WithField("input", "id")
	}
	if err != nil {
		return u, err
	}
	if u.State != store.UnappliedOpen {
		return u, apperr.FailedPrecondition("the unapplied payment was already %s", u.State).
			WithCode("UNAPPLIED_ALREADY_RESOLVED").WithField("input", "id")
	}
	return u, nil
}

func resolve(ctx context.Context, q *store.Queries, id uuid.UUID, r store.UnappliedResolution) error {
	ok, err := q.ResolveUnapplied(ctx, id, r)
	if err == nil && !ok {
		// openUnapplied holds the row lock, so this is a bug, not a race.
		err = apperr.Internal(errNotResolved)
	}
	return err
}

var errNotResolved = errors.New("unapplied payment locked open but not resolved")

// RestoreLicense ends the hold a chargeback put on an installation's
// license (admins), with a note; the license check answers by the
// installation's state again.
func (s *Service) RestoreLicense(ctx context.Context, v identity.Viewer, installationID uuid.UUID, note string) (store.Installation, error) {
	audit.SetTarget(ctx, relay.UUIDID(relay.TypeInstallation, installationID))
	if v.Anonymous() {
		return store.Installation{}, apperr.Unauthenticated("log in first")
	}
	// SECURITY: admins only: a chargeback took the money back, and only
	// the platform decides that the customer may use the configuration
	// again (the payer settled, or the chargeback was reversed).
	if !v.IsAdmin() {
		return store.Installation{}, apperr.Forbidden("only admins restore licenses")
	}
	note, err := noteOf(note)
	if err != nil {
		return store.Installation{}, err
	}
	var inst store.Installation
	err = s.store.InTx(ctx, func(q *store.Queries) error {
		var err error
		inst, err = q.LockInstallationByID(ctx, installationID)
		if apperr.Is(err, apperr.KindNotFound) {
			return apperr.NotFound("no such installation").WithField("input", "installationId")
		}
		if err != nil {
			return err
		}
		n, err := q.RestoreLicense(ctx, inst.ID, v.UserID, note, s.clock.Now())
		if err == nil && n == 0 {
			err = apperr.FailedPrecondition("the installation's license is not held").
				WithCode("LICENSE_NOT_HELD").WithField("input", "installationId")
		}
		return err
	}, store.Audit(audit.From(ctx)))
	return inst, err
}

// noteOf checks an admin's note: 1 to maxNote characters, none of them
// NUL (which PostgreSQL refuses in text).
func noteOf(note string) (string, error) {
	note = strings.TrimSpace(note)
	if n := utf8.RuneCountInString(note); n < 1 || n > maxNote || strings.ContainsRune(note, 0) {
		return "", apperr.Invalid("input.note", "a note of 1 to %d characters is required", maxNote).WithCode("NOTE_REQUIRED")
	}
	return note, nil
}
