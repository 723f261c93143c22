package earnings

import (
	"context"
	"time"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/identity"
	"configmarket/internal/store"
)

// LiveEvent is what a subscriber receives: a new entry (nil in the snapshot
// sent on subscribe) and the party's running totals after it.
type LiveEvent struct {
	Entry      *store.LedgerEntry
	Sequence   int64
	DayTotal   int64
	MonthTotal int64
}

// LiveParty is the party v streams as: its own developer or partner.
func LiveParty(v identity.Viewer, party store.Party) (uuid.UUID, error) {
	// SECURITY: a developer streams only its own earnings and a partner
	// only its own commissions; the party comes from the token, never from
	// the client.
	switch {
	case v.Anonymous():
	case party == store.PartyDeveloper && v.Role == identity.RoleDeveloper:
		return v.ActingFor, nil
	case party == store.PartyPartner && v.Role == identity.RolePartner:
		return v.ActingFor, nil
	}
	return uuid.Nil, apperr.Hidden(v, "only a %s subscribes to this", party)
}

// Snapshot is the party's running totals now, sent first so a subscriber
// that missed events (pub/sub is at most once) is right again.
func (l *Ledger) Snapshot(ctx context.Context, v identity.Viewer, party store.Party, id uuid.UUID, at time.Time) (LiveEvent, error) {
	if !MayReadParty(v, party, id) {
		return LiveEvent{}, apperr.Hidden(v, "not your ledger")
	}
	day, month, last, err := l.store.RunningTotals(ctx, party, id, at)
	return LiveEvent{Sequence: last, DayTotal: day, MonthTotal: month}, err
}

// Event reads an announced entry for its party, checked again at delivery
// time: an entry of another party is never returned (apperr.Hidden); nil
// for an entry that is not the party's.
func (l *Ledger) Event(ctx context.Context, v identity.Viewer, party store.Party, id uuid.UUID, entryID int64, at time.Time) (*LiveEvent, error) {
	if !MayReadParty(v, party, id) {
		return nil, hiddenParty(v)
	}
	e, err := l.store.PartyEntry(ctx, party, id, entryID)
	if apperr.Is(err, apperr.KindNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	day, month, _, err := l.store.RunningTotals(ctx, party, id, at)
	if err != nil {
		return nil, err
	}
	return &LiveEvent{Entry: &e, Sequence: e.ID, DayTotal: day, MonthTotal: month}, nil
}
