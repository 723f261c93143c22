// Package live delivers ledger events to GraphQL subscribers. Each server
// instance LISTENs on PostgreSQL's cm_ledger channel, which the database
// notifies only after a payment's transaction commits, so a subscriber on
// any instance hears what happened on every other one — with or without
// Redis. Delivery is at most once: subscribers start from a snapshot and
// events carry the entry id as a sequence number.
package live

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Event announces one committed ledger entry, or (Kind set) one step of
// an installation or of moderation.
type Event struct {
	EntryID   int64      `json:"-"`
	Party     string     `json:"party"`
	Developer *uuid.UUID `json:"developer"`
	Partner   *uuid.UUID `json:"partner"`
	// Activity events: what happened, to which row, of which configuration.
	Kind          Kind       `json:"kind"`
	Ref           uuid.UUID  `json:"-"`
	Configuration *uuid.UUID `json:"configuration"`
	Version       *uuid.UUID `json:"version"`
}

// Kind is what an activity event reports, as the triggers of migration
// 0010 name it: a step of an installation (Ref is the installation), or a
// moderation action in upper case (Ref is the moderation event).
type Kind string

const (
	KindTrialStarted   Kind = "TRIAL_STARTED"
	KindInstalled      Kind = "INSTALLED"
	KindTrialConverted Kind = "TRIAL_CONVERTED"
	KindTrialExpired   Kind = "TRIAL_EXPIRED"
	KindCanceled       Kind = "CANCELED"
	KindStateChanged   Kind = "STATE_CHANGED"

	KindSubmitted Kind = "SUBMITTED"
	KindApproved  Kind = "APPROVED"
	KindRejected  Kind = "REJECTED"
)

// OfInstallation reports whether k is a step of an installation.
func (k Kind) OfInstallation() bool {
	switch k {
	case KindTrialStarted, KindInstalled, KindTrialConverted, KindTrialExpired, KindCanceled, KindStateChanged:
		return true
	}
	return false
}

// Keys of the activity streams: a developer's own, and the moderators'.
const (
	PartyActivity   = "developer-activity"
	PartyModeration = "moderation"
)

// moderationKinds reach the moderators' queue stream.
var moderationKinds = map[Kind]bool{KindSubmitted: true, KindApproved: true, KindRejected: true}

// Key addresses the events of one party.
type Key struct {
	Party string
	ID    uuid.UUID
}

func (e Event) keys() []Key {
	if e.Kind != "" {
		var keys []Key
		if e.Developer != nil {
			keys = append(keys, Key{PartyActivity, *e.Developer})
		}
		if moderationKinds[e.Kind] {
			keys = append(keys, Key{Party: PartyModeration})
		}
		return keys
	}
	if k, ok := e.key(); ok {
		return []Key{k}
	}
	return nil
}

func (e Event) key() (Key, bool) {
	switch {
	case e.Party == "developer" && e.Developer != nil:
		return Key{"developer", *e.Developer}, true
	case e.Party == "partner" && e.Partner != nil:
		return Key{"partner", *e.Partner}, true
	}
	return Key{}, false
}

// Buffer is how many events a subscriber may fall behind before it is
// dropped: a slow reader must not slow the others or grow memory.
const Buffer = 64

// Hub fans notifications out to this instance's subscribers.
type Hub struct {
	pool *pgxpool.Pool
	mu   sync.Mutex
	subs map[Key]map[*Subscription]struct{}
}

// Subscription is one subscriber's stream; C closes when the subscriber is
// dropped or cancels.
type Subscription struct {
	C       chan Event
	once    sync.Once
	dropped bool
}

// NewHub returns a hub; Run starts listening.
func NewHub(pool *pgxpool.Pool) *Hub {
	return &Hub{pool: pool, subs: map[Key]map[*Subscription]struct{}{}}
}

// Subscribe streams the events of key until ctx ends or the subscriber is
// dropped for falling behind.
func (h *Hub) Subscribe(ctx context.Context, key Key) *Subscription {
	s := &Subscription{C: make(chan Event, Buffer)}
	h.mu.Lock()
	if h.subs[key] == nil {
		h.subs[key] = map[*Subscription]struct{}{}
	}
	h.subs[key][s] = struct{}{}
	h.mu.Unlock()
	context.AfterFunc(ctx, func() { h.remove(key, s) })
	return s
}

// Dropped reports whether the subscription ended because it fell behind.
func (s *Subscription) Dropped() bool { return s.dropped }

func (h *Hub) remove(key Key, s *Subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if subs := h.subs[key]; subs != nil {
		delete(subs, s)
		if len(subs) == 0 {
			delete(h.subs, key)
		}
	}
	s.once.Do(func() { close(s.C) })
}

// Subscribers counts this instance's subscriptions (for tests and metrics).
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, subs := range h.subs {
		n += len(subs)
	}
	return n
}

func (h *Hub) deliver(e Event) {
	for _, key := range e.keys() {
		h.deliverTo(key, e)
	}
}

func (h *Hub) deliverTo(key Key, e Event) {
	h.mu.Lock()
	var slow []*Subscription
	for s := range h.subs[key] {
		select {
		case s.C <- e:
		default:
			slow = append(slow, s)
		}
	}
	h.mu.Unlock()
	for _, s := range slow {
		s.dropped = true
		h.remove(key, s)
	}
}

// Run listens until ctx ends, reconnecting after failures; missed events
// are covered by the subscribers' snapshots.
func (h *Hub) Run(ctx context.Context) {
	for ctx.Err() == nil {
		if err := h.listen(ctx); err != nil && ctx.Err() == nil {
			slog.WarnContext(ctx, "ledger listener failed; reconnecting", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

func (h *Hub) listen(ctx context.Context) error {
	conn, err := h.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// A listening connection is never handed back to the pool.
	pc := conn.Hijack()
	defer pc.Close(context.WithoutCancel(ctx))
	if _, err := pc.Exec(ctx, "listen cm_ledger; listen cm_activity"); err != nil {
		return err
	}
	for {
		n, err := pc.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		e, err := parse(n.Payload)
		if err != nil {
			slog.WarnContext(ctx, "malformed notification", "channel", n.Channel, "payload", n.Payload)
			continue
		}
		h.deliver(e)
	}
}

// parse reads a notification: ledger entries carry a numeric id, activity
// events a row uuid.
func parse(payload string) (Event, error) {
	var raw struct {
		Event
		ID json.RawMessage `json:"id"`
	}
	if err := json.Unmarshal([]byte(payload), &raw); err != nil {
		return Event{}, err
	}
	e := raw.Event
	if e.Kind == "" {
		return e, json.Unmarshal(raw.ID, &e.EntryID)
	}
	return e, json.Unmarshal(raw.ID, &e.Ref)
}
