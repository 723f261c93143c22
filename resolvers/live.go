package resolvers

import (
	"context"
	"strconv"

	"configmarket/graph/model"
	"configmarket/internal/earnings"
	"configmarket/internal/identity"
	"configmarket/internal/live"
	"configmarket/internal/money"
)

// stream sends the viewer's own ledger events: a snapshot first, then each
// committed entry, re-checked at delivery time for the subscribing party.
func (r *Resolver) stream(ctx context.Context, party earnings.Party) (<-chan *model.LedgerEvent, error) {
	v := identity.FromContext(ctx)
	id, err := earnings.LiveParty(v, party)
	if err != nil {
		return nil, err
	}
	snapshot := func() (*model.LedgerEvent, error) {
		s, err := r.EarningsLedger.Snapshot(ctx, v, party, id, r.CommerceService.Now())
		return toLedgerEvent(s), err
	}
	entry := func(ev live.Event) (*model.LedgerEvent, bool) {
		e, err := r.EarningsLedger.Event(ctx, v, party, id, ev.EntryID, r.CommerceService.Now())
		if err != nil || e == nil {
			return nil, false
		}
		return toLedgerEvent(*e), true
	}
	return live.Stream(ctx, r.LiveHub, live.Key{Party: string(party), ID: id}, snapshot, entry)
}

func toLedgerEvent(e earnings.LiveEvent) *model.LedgerEvent {
	out := &model.LedgerEvent{
		Sequence:   strconv.FormatInt(e.Sequence, 10),
		DayTotal:   toMoney(money.New(e.DayTotal, money.RUB)),
		MonthTotal: toMoney(money.New(e.MonthTotal, money.RUB)),
	}
	if e.Entry != nil {
		out.Entry = toLedgerEntry(e.Entry)
	}
	return out
}

// activity streams installation and moderation steps of key; the fields
// are loaded per event with the subscriber's own visibility.
func (r *Resolver) activity(ctx context.Context, key live.Key) (<-chan *model.Activity, error) {
	return live.Stream(ctx, r.LiveHub, key, nil, func(ev live.Event) (*model.Activity, bool) {
		a := &model.Activity{Kind: string(ev.Kind), ConfigurationID: ev.Configuration, VersionID: ev.Version}
		if ev.Kind.OfInstallation() {
			ref := ev.Ref
			a.InstallationID = &ref
		}
		return a, true
	})
}
