package earnings

import (
	"context"
	"time"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/identity"
	"configmarket/internal/store"
)

// exportBatch is how many rows an export reads per statement: enough that
// a year of a busy party takes a few round trips, few enough that a
// streamed export holds little in memory.
const exportBatch = 1000

// ExportParty is the party an export of v is for. A developer or partner
// exports its own money; an admin names the party (developer or partner,
// exactly one). A party that is not the viewer's own answers apperr.Hidden.
func ExportParty(v identity.Viewer, developer, partner *uuid.UUID) (Party, uuid.UUID, error) {
	if v.Anonymous() {
		return "", uuid.Nil, hiddenParty(v)
	}
	if developer != nil && partner != nil {
		return "", uuid.Nil, apperr.Invalid("developer", "name a developer or a partner, not both")
	}
	party, id := store.Party(""), uuid.Nil
	switch {
	case developer != nil:
		party, id = PartyDeveloper, *developer
	case partner != nil:
		party, id = PartyPartner, *partner
	case v.Role == identity.RoleDeveloper:
		party, id = PartyDeveloper, v.ActingFor
	case v.Role == identity.RolePartner:
		party, id = PartyPartner, v.ActingFor
	case v.IsAdmin():
		return "", uuid.Nil, apperr.Invalid("developer", "an admin names the developer or partner to export")
	}
	// SECURITY: an export is the party's money in bulk: the same readers
	// as the ledger it copies (MayReadParty), the party itself and admins.
	if party == "" || !MayReadParty(v, party, id) {
		return "", uuid.Nil, hiddenParty(v)
	}
	return party, id, nil
}

// EachEntry calls fn with each of a party's ledger entries that occurred
// in [from, to) (a nil bound does not bound), newest first as the ledger
// pages are, reading exportBatch entries at a time. It stops at fn's
// first error. A viewer that may not read the party gets apperr.Hidden
// before fn is called.
func (l *Ledger) EachEntry(ctx context.Context, v identity.Viewer, party Party, id uuid.UUID, from, to *time.Time, fn func(LedgerEntry) error) error {
	if !MayReadParty(v, party, id) {
		return hiddenParty(v)
	}
	if from != nil && to != nil && !from.Before(*to) {
		return apperr.Invalid("to", "to must be after from")
	}
	return l.eachEntry(ctx, store.EntryFilter{Party: party, PartyID: id, From: from, To: to}, fn)
}

// eachEntry calls fn with each entry f selects, newest first, reading
// exportBatch at a time; it stops at fn's first error.
func (l *Ledger) eachEntry(ctx context.Context, f store.EntryFilter, fn func(LedgerEntry) error) error {
	var after *store.EntryKey
	for {
		rows, err := l.store.EntriesPage(ctx, f, after, exportBatch)
		if err != nil {
			return err
		}
		for _, e := range rows {
			if err := fn(e); err != nil {
				return err
			}
		}
		if len(rows) < exportBatch {
			return nil
		}
		last := rows[len(rows)-1]
		after = &store.EntryKey{At: last.OccurredAt, ID: last.ID}
	}
}

// EachPayout calls fn with each of a party's payouts, newest requested
// first, reading exportBatch at a time. It stops at fn's first error. A
// viewer that may not read the party gets apperr.Hidden before fn is
// called.
func (s *Payouts) EachPayout(ctx context.Context, v identity.Viewer, party Party, id uuid.UUID, fn func(Payout) error) error {
	if !MayReadParty(v, party, id) {
		return hiddenParty(v)
	}
	if err := checkPayoutParty(party); err != nil {
		return err
	}
	var after *store.TimeKey
	for {
		rows, err := s.store.PayoutsPage(ctx, party, id, after, exportBatch)
		if err != nil {
			return err
		}
		for _, p := range rows {
			if err := fn(p); err != nil {
				return err
			}
		}
		if len(rows) < exportBatch {
			return nil
		}
		last := rows[len(rows)-1]
		after = &store.TimeKey{At: last.RequestedAt, ID: last.ID}
	}
}
