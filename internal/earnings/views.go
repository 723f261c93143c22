package earnings

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/identity"
	"configmarket/internal/relay"
	"configmarket/internal/store"
)

// Ledger reads a party's entries: a developer's earnings, a partner's
// commissions.
type Ledger struct {
	store *store.Store
}

// NewLedger builds the reader.
func NewLedger(st *store.Store) *Ledger { return &Ledger{store: st} }

// MayReadParty decides who reads what a developer or a partner earns: its
// ledger entries, totals, statements, balance, payouts and status.
func MayReadParty(v identity.Viewer, party store.Party, id uuid.UUID) bool {
	// SECURITY: the party itself and admins only (SPEC §1). A partner's
	// entries exist only for payments made under its pins, so a partner
	// never sees a payment or customer it had no pin for.
	switch party {
	case store.PartyDeveloper:
		return v.IsAdmin() || v.IsDeveloper(id)
	case store.PartyPartner:
		return v.IsAdmin() || v.IsPartner(id)
	}
	return false
}

// EntryFilter narrows one party's ledger entries: Party (developer or
// partner) and PartyID name the party; a nil field does not narrow them.
// It is the store's query under the domain's name: the fields a caller
// may narrow by are exactly the columns the statement filters on.
type EntryFilter store.EntryFilter

// EntryPage is a page of entries.
type EntryPage = relay.Connection[store.LedgerEntry]

// hiddenParty is the answer to a stranger asking for a party's money.
func hiddenParty(v identity.Viewer) error {
	return apperr.Hidden(v, "only the party itself and admins read this")
}

// Entries pages through a party's entries, newest first. Someone else's
// entries answer apperr.Hidden.
func (l *Ledger) Entries(ctx context.Context, v identity.Viewer, f EntryFilter, first *int, after *string) (EntryPage, error) {
	if !MayReadParty(v, f.Party, f.PartyID) {
		return EntryPage{}, hiddenParty(v)
	}
	limit, err := relay.PageSize(first)
	if err != nil {
		return EntryPage{}, apperr.Wrap(apperr.KindInvalid, "first", err)
	}
	var key *store.EntryKey
	if after != nil {
		var k store.EntryKey
		if err := relay.DecodeCursor(*after, &k.At, &k.ID); err != nil {
			return EntryPage{}, apperr.Wrap(apperr.KindInvalid, "after", err)
		}
		key = &k
	}
	rows, err := l.store.EntriesPage(ctx, store.EntryFilter(f), key, limit+1)
	if err != nil {
		return EntryPage{}, err
	}
	return relay.Cut(rows, limit, func(e store.LedgerEntry) string { return relay.EncodeCursor(e.OccurredAt, e.ID) }), nil
}

// TotalsKey asks for a party's totals by one grouping within a filter. It
// holds values, not pointers, so that equal questions are equal keys.
type TotalsKey struct {
	Party                       store.Party
	PartyID                     uuid.UUID
	From, To                    time.Time     // zero: open
	PaidFor                     store.PaidFor // empty: any
	CustomerID, ConfigurationID uuid.UUID     // nil: any
	Grouping                    store.Grouping
}

// TotalsKeyOf is the key of f's totals by g.
func TotalsKeyOf(f EntryFilter, g Grouping) TotalsKey {
	k := TotalsKey{Party: f.Party, PartyID: f.PartyID, Grouping: g}
	if f.From != nil {
		k.From = *f.From
	}
	if f.To != nil {
		k.To = *f.To
	}
	if f.PaidFor != nil {
		k.PaidFor = *f.PaidFor
	}
	if f.CustomerID != nil {
		k.CustomerID = *f.CustomerID
	}
	if f.ConfigurationID != nil {
		k.ConfigurationID = *f.ConfigurationID
	}
	return k
}

func (k TotalsKey) filter() store.EntryFilter {
	f := store.EntryFilter{Party: k.Party, PartyID: k.PartyID}
	if !k.From.IsZero() {
		f.From = &k.From
	}
	if !k.To.IsZero() {
		f.To = &k.To
	}
	if k.PaidFor != "" {
		f.PaidFor = &k.PaidFor
	}
	if k.CustomerID != uuid.Nil {
		f.CustomerID = &k.CustomerID
	}
	if k.ConfigurationID != uuid.Nil {
		f.ConfigurationID = &k.ConfigurationID
	}
	return f
}

// Totals sums parties' entries by month, by what was paid for, by customer
// or by configuration. The groupings asked of one filter are summed in one
// statement. A key naming someone else's entries makes the whole answer
// apperr.Hidden: the loader asks for one party's groupings at a time.
func (l *Ledger) Totals(ctx context.Context, v identity.Viewer, keys []TotalsKey) (map[TotalsKey][]store.EntryTotal, error) {
	type question struct {
		filter TotalsKey // Grouping left empty
		gs     []store.Grouping
	}
	var questions []*question
	byFilter := map[TotalsKey]*question{}
	out := make(map[TotalsKey][]store.EntryTotal, len(keys))
	for _, k := range keys {
		if !MayReadParty(v, k.Party, k.PartyID) {
			return nil, hiddenParty(v)
		}
		fk := k
		fk.Grouping = ""
		q := byFilter[fk]
		if q == nil {
			q = &question{filter: fk}
			byFilter[fk] = q
			questions = append(questions, q)
		}
		if !slices.Contains(q.gs, k.Grouping) {
			q.gs = append(q.gs, k.Grouping)
		}
	}
	for _, q := range questions {
		sets, err := l.store.EntryTotalsBy(ctx, q.filter.filter(), q.gs)
		if err != nil {
			return nil, err
		}
		for g, totals := range sets {
			k := q.filter
			k.Grouping = g
			out[k] = totals
		}
	}
	return out, nil
}

// Statement is a party's month: its entries and totals, to the kopeck the
// ledger's.
type Statement struct {
	Month   time.Time
	Entries []store.LedgerEntry
	// Totals by what was paid for within the month.
	Totals []store.EntryTotal
	Share  int64
	Gross  int64
	// Payouts requested in the month, and what they amount to (failed
	// ones excluded from the sum: their money stayed).
	Payouts     []store.Payout
	PayoutTotal int64
}

// MonthStatement is the statement of the UTC calendar month containing at.
func (l *Ledger) MonthStatement(ctx context.Context, v identity.Viewer, party store.Party, id uuid.UUID, at time.Time) (*Statement, error) {
	if !MayReadParty(v, party, id) {
		return nil, hiddenParty(v)
	}
	from := time.Date(at.Year(), at.Month(), 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 1, 0)
	f := store.EntryFilter{Party: party, PartyID: id, From: &from, To: &to}
	st := &Statement{Month: from}
	if err := l.eachEntry(ctx, f, func(e LedgerEntry) error { st.Entries = append(st.Entries, e); return nil }); err != nil {
		return nil, err
	}
	totals, err := l.store.EntryTotals(ctx, f, store.ByPaidFor)
	if err != nil {
		return nil, err
	}
	st.Totals = totals
	for _, t := range totals {
		st.Share += t.Share
		st.Gross += t.Gross
	}
	if st.Payouts, err = l.store.PayoutsRequestedIn(ctx, party, id, from, to); err != nil {
		return nil, err
	}
	for _, p := range st.Payouts {
		if p.State != store.PayoutFailed {
			st.PayoutTotal += p.Amount.Minor
		}
	}
	return st, nil
}
