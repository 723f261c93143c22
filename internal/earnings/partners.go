package earnings

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/audit"
	"configmarket/internal/clock"
	"configmarket/internal/identity"
	"configmarket/internal/store"
)

// PartnerStatus is a partner's status (SPEC §7); it sets the partner's
// commission rate on later payments (SPEC §5).
type PartnerStatus string

const (
	PartnerAgent      PartnerStatus = "agent"
	PartnerDealer     PartnerStatus = "dealer"
	PartnerIntegrator PartnerStatus = "integrator"
)

// Valid reports whether s is one of the three statuses.
func (s PartnerStatus) Valid() bool {
	switch s {
	case PartnerAgent, PartnerDealer, PartnerIntegrator:
		return true
	}
	return false
}

// maxStatusReason bounds an admin's reason (the database checks the same).
const maxStatusReason = 2000

// PartnerStatuses lets admins set partners' statuses and shows the history.
type PartnerStatuses struct {
	store *store.Store
	clock clock.Clock
}

// NewPartnerStatuses builds the service; clk stamps each decision.
func NewPartnerStatuses(st *store.Store, clk clock.Clock) *PartnerStatuses {
	return &PartnerStatuses{store: st, clock: clk}
}

var errPartnerNotFound = apperr.NotFound("partner not found").WithField("input", "partnerId")

// SetStatus sets a partner's status with the admin's reason and records the
// change in its history. The new status applies to payments recorded from
// then on (RecordPayment reads the partner's status when it splits a
// payment); entries already written keep the rate stored with them.
//
// A "change" to the status the partner already has is refused
// (PARTNER_STATUS_UNCHANGED): the history holds real changes only, so each
// of its rows says when a rate started to apply.
func (p *PartnerStatuses) SetStatus(ctx context.Context, v identity.Viewer, partnerID uuid.UUID, status PartnerStatus, reason string) (store.Partner, error) {
	if v.Anonymous() {
		return store.Partner{}, apperr.Unauthenticated("log in first")
	}
	// SECURITY: only admins set a partner's status (SPEC §1, §7: "the admin
	// sets the status"); a partner setting it would raise its own
	// commission rate.
	if !v.IsAdmin() {
		return store.Partner{}, apperr.Forbidden("only admins set partner statuses")
	}
	var errs apperr.List
	if !status.Valid() {
		errs = append(errs, apperr.Invalid("input.status", "status must be agent, dealer or integrator"))
	}
	reason, rerr := statusReason(reason)
	if rerr != nil {
		errs = append(errs, rerr)
	}
	if err := errs.Err(); err != nil {
		return store.Partner{}, err
	}
	now := p.clock.Now()
	var out store.Partner
	err := p.store.InTx(ctx, func(q *store.Queries) error {
		cur, err := q.LockPartner(ctx, partnerID)
		if apperr.Is(err, apperr.KindNotFound) {
			return errPartnerNotFound
		}
		if err != nil {
			return err
		}
		if PartnerStatus(cur.Status) == status {
			return apperr.FailedPrecondition("the partner is already %s", status).
				WithCode("PARTNER_STATUS_UNCHANGED").WithField("input", "status")
		}
		if out, err = q.SetPartnerStatus(ctx, partnerID, string(status)); err != nil {
			return err
		}
		return q.InsertPartnerStatusChange(ctx, store.PartnerStatusChange{
			PartnerID: partnerID, Status: string(status), Reason: reason, DecidedBy: &v.UserID, DecidedAt: now,
		})
	}, store.Audit(audit.From(ctx)))
	if err != nil {
		return store.Partner{}, fmt.Errorf("set partner status: %w", err)
	}
	return out, nil
}

// statusReason trims an admin's reason and checks it: required, at most
// maxStatusReason characters, no control characters but line breaks and tabs.
func statusReason(raw string) (string, *apperr.Error) {
	reason := strings.TrimSpace(raw)
	if reason == "" {
		return "", apperr.Invalid("input.reason", "say why the status changes").WithCode("REASON_REQUIRED")
	}
	control := func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }
	if !utf8.ValidString(reason) || utf8.RuneCountInString(reason) > maxStatusReason || strings.IndexFunc(reason, control) >= 0 {
		return "", apperr.Invalid("input.reason", "the reason must be at most %d characters without control characters", maxStatusReason)
	}
	return reason, nil
}

// StatusHistory is a partner's status history, newest first.
func (p *PartnerStatuses) StatusHistory(ctx context.Context, v identity.Viewer, partnerID uuid.UUID) ([]store.PartnerStatusChange, error) {
	// SECURITY: the partner itself and admins only (MayReadParty): the
	// reasons are the platform's assessment of the partner, nobody else's
	// business.
	if !MayReadParty(v, store.PartyPartner, partnerID) {
		return nil, apperr.Hidden(v, "only the partner itself or an admin may see its status history")
	}
	return p.store.PartnerStatusHistory(ctx, partnerID)
}
