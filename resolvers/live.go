package resolvers

import (
	"context"
	"strconv"

	"configmarket/graph/model"
	"configmarket/internal/apperr"
	"configmarket/internal/earnings"
	"configmarket/internal/identity"
	"configmarket/internal/live"
	"configmarket/internal/money"
	"configmarket/internal/store"
	"configmarket/internal/web"
)

// stream sends the viewer's own ledger events: a snapshot first, then each
// committed entry, re-checked at delivery time for the subscribing party.
func (r *Resolver) stream(ctx context.Context, party store.Party) (<-chan *model.LedgerEvent, error) {
	v := identity.FromContext(ctx)
	id, err := earnings.LiveParty(v, party)
	if err != nil {
		return nil, err
	}
	release, ok := live.Take(ctx)
	if !ok {
		return nil, apperr.RateLimited("at most %d subscriptions per connection", live.MaxSubscriptionsPerConnection)
	}
	snapshot, err := r.Ledger.Snapshot(ctx, v, party, id, r.Commerce.Now())
	if err != nil {
		release()
		return nil, err
	}
	sub := r.Hub.Subscribe(ctx, live.Key{Party: string(party), ID: id})
	out := make(chan *model.LedgerEvent, 1)
	go func() {
		defer release()
		defer close(out)
		send := func(e earnings.LiveEvent) bool {
			select {
			case out <- toLedgerEvent(e):
				return true
			case <-ctx.Done():
				return false
			}
		}
		if !send(snapshot) {
			return
		}
		// A subscriber that falls behind is dropped by the hub (its channel
		// closes) and the stream completes; the client resubscribes and
		// starts from a fresh snapshot.
		for ev := range sub.C {
			e, err := r.Ledger.Event(ctx, v, party, id, ev.EntryID, r.Commerce.Now())
			if err != nil || e == nil {
				continue
			}
			if !send(*e) {
				return
			}
		}
		if sub.Dropped() {
			web.CloseSlowReader(ctx)
		}
	}()
	return out, nil
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
	release, ok := live.Take(ctx)
	if !ok {
		return nil, apperr.RateLimited("at most %d subscriptions per connection", live.MaxSubscriptionsPerConnection)
	}
	sub := r.Hub.Subscribe(ctx, key)
	out := make(chan *model.Activity, 1)
	go func() {
		defer release()
		defer close(out)
		for ev := range sub.C {
			a := &model.Activity{Kind: string(ev.Kind), ConfigurationID: ev.Configuration, VersionID: ev.Version}
			if ev.Kind.OfInstallation() {
				ref := ev.Ref
				a.InstallationID = &ref
			}
			select {
			case out <- a:
			case <-ctx.Done():
				return
			}
		}
		if sub.Dropped() {
			web.CloseSlowReader(ctx)
		}
	}()
	return out, nil
}
