package earnings

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"configmarket/internal/money"
	"configmarket/internal/store"
)

// RecordPayment writes a payment's ledger entries in the caller's
// transaction, with the rates in force when it was received, and stores
// each rate with its entry: later status or rate changes never rewrite it.
// The database refuses the commit if the entries do not sum to the payment.
func RecordPayment(ctx context.Context, q *store.Queries, p store.Payment) error {
	at := p.ReceivedAt
	var devRate money.Rate
	var devID *uuid.UUID
	if p.ConfigurationID != nil {
		earner, err := q.EarnerOf(ctx, *p.ConfigurationID)
		if err != nil {
			return err
		}
		r, err := q.DeveloperRateAt(ctx, earner.DeveloperStatus, earner.SupportMode, at)
		if err != nil {
			return fmt.Errorf("developer rate: %w", err)
		}
		devRate, devID = money.Rate(r), &earner.DeveloperID
	}
	// Commission accrues only while a pin is active; a customer that came
	// on its own earns no partner anything (SPEC §5, §7).
	pin, pinned, err := q.ActivePinAt(ctx, p.CustomerID, at)
	if err != nil {
		return err
	}
	var partnerRate *money.Rate
	if pinned {
		r, err := q.PartnerRateAt(ctx, pin.Status, p.PaidFor, at)
		if err != nil {
			return fmt.Errorf("partner rate: %w", err)
		}
		pr := money.Rate(r)
		partnerRate = &pr
	}
	s, err := Split(p.Amount, devRate, partnerRate)
	if err != nil {
		return err
	}
	base := store.LedgerEntry{
		PaymentID: p.ID, PaidFor: p.PaidFor, ConfigurationID: p.ConfigurationID, CustomerID: p.CustomerID, OccurredAt: at,
	}
	var entries []store.LedgerEntry
	if devID != nil {
		e := base
		e.Party, e.DeveloperID, e.Amount, e.Rate = store.PartyDeveloper, devID, s.Developer, ptr(int64(devRate))
		entries = append(entries, e)
	}
	if pinned {
		e := base
		e.Party, e.PartnerID, e.Amount, e.Rate = store.PartyPartner, &pin.PartnerID, s.Partner, ptr(int64(*partnerRate))
		entries = append(entries, e)
	}
	e := base
	e.Party, e.Amount = store.PartyPlatform, s.Platform
	return q.InsertLedgerEntries(ctx, append(entries, e))
}

// RecordRefund writes the entries reversing a refund's part of a payment
// in the payment's proportions (see Reverse).
func RecordRefund(ctx context.Context, q *store.Queries, p store.Payment, refundID uuid.UUID, refund money.Money, refundedBefore int64, at time.Time) error {
	entries, err := q.PaymentEntries(ctx, p.ID)
	if err != nil {
		return err
	}
	zero := money.New(0, p.Amount.Currency)
	original, left := Shares{zero, zero, zero}, Shares{zero, zero, zero}
	var devEntry, partnerEntry, platformEntry *store.LedgerEntry
	for i := range entries {
		e := &entries[i]
		share := pick(&left, e.Party)
		*share = money.New(share.Minor+e.Amount.Minor, share.Currency)
		if e.RefundID == nil {
			*pick(&original, e.Party) = e.Amount
			switch e.Party {
			case store.PartyDeveloper:
				devEntry = e
			case store.PartyPartner:
				partnerEntry = e
			default:
				platformEntry = e
			}
		}
	}
	if platformEntry == nil {
		return fmt.Errorf("earnings: payment %s has no ledger entries", p.ID)
	}
	back := Reverse(p.Amount, refund, money.New(refundedBefore, refund.Currency), original, left)
	reverse := func(of *store.LedgerEntry, amount money.Money) store.LedgerEntry {
		e := *of
		e.ID, e.RefundID, e.Amount, e.OccurredAt = 0, &refundID, amount.Neg(), at
		return e
	}
	out := []store.LedgerEntry{reverse(platformEntry, back.Platform)}
	if devEntry != nil {
		out = append(out, reverse(devEntry, back.Developer))
	}
	if partnerEntry != nil {
		out = append(out, reverse(partnerEntry, back.Partner))
	}
	return q.InsertLedgerEntries(ctx, out)
}

func pick(s *Shares, party store.Party) *money.Money {
	switch party {
	case store.PartyDeveloper:
		return &s.Developer
	case store.PartyPartner:
		return &s.Partner
	}
	return &s.Platform
}

func ptr[T any](v T) *T { return &v }
