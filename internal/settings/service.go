package settings

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/audit"
	"configmarket/internal/clock"
	"configmarket/internal/identity"
	"configmarket/internal/relay"
	"configmarket/internal/store"
)

// Source is what a domain reads its numbers from.
type Source interface {
	Snapshot(ctx context.Context) (Snapshot, error)
}

// Fixed is a Source that never changes: a domain built without the
// settings table (unit tests) reads SPEC's defaults, or the values given.
type Fixed Snapshot

// Snapshot returns the fixed values.
func (f Fixed) Snapshot(context.Context) (Snapshot, error) { return Snapshot(f), nil }

// Overlay is base with src's values laid over it by apply: the rules a
// domain was built with (tests build some with their own numbers), as the
// settings say now. A nil src leaves base as it is. Read it before a
// transaction opens: a snapshot may take a pool connection of its own.
func Overlay[R any](ctx context.Context, src Source, base R, apply func(Snapshot, R) R) (R, error) {
	if src == nil {
		return base, nil
	}
	set, err := src.Snapshot(ctx)
	if err != nil {
		var zero R
		return zero, err
	}
	return apply(set, base), nil
}

// CacheTTL is how long a read snapshot serves before the table is read
// again. Another instance's change reaches this one within it; this
// instance's own changes apply at once.
const CacheTTL = 5 * time.Second

// Service is the settings domain: the one accessor every rule reads
// through, and the admin's list and update.
type Service struct {
	store *store.Store
	clock clock.Clock
	ttl   time.Duration

	mu     sync.Mutex
	cached Snapshot
	// readAt is wall time, not the business clock (tests move that one).
	readAt time.Time
	// gen counts updates, so a read that raced an update is not cached
	// over it.
	gen uint64
}

// New builds the service.
func New(st *store.Store, clk clock.Clock) *Service {
	return &Service{store: st, clock: clk, ttl: CacheTTL}
}

// SetCacheTTL replaces CacheTTL (tests of several instances).
func (s *Service) SetCacheTTL(d time.Duration) { s.ttl = d }

// Snapshot is every setting now, from the cache when it is younger than
// CacheTTL. Read it before opening a transaction: a read inside one would
// take a second pool connection.
func (s *Service) Snapshot(ctx context.Context) (Snapshot, error) {
	s.mu.Lock()
	if s.cached.values != nil && time.Since(s.readAt) < s.ttl {
		snap := s.cached
		s.mu.Unlock()
		return snap, nil
	}
	gen := s.gen
	s.mu.Unlock()
	rows, err := s.store.Settings(ctx)
	if err != nil {
		return Snapshot{}, err
	}
	m := make(map[string]int64, len(rows))
	for _, r := range rows {
		m[r.Key] = r.Value
	}
	snap := Snapshot{values: m}
	s.mu.Lock()
	if s.gen == gen {
		s.cached, s.readAt = snap, time.Now()
	}
	s.mu.Unlock()
	return snap, nil
}

// Duration reads one setting in days, hours or minutes.
func (s *Service) Duration(ctx context.Context, k DurationKey) (time.Duration, error) {
	snap, err := s.Snapshot(ctx)
	return snap.Duration(k), err
}

// Count reads one plain-number setting.
func (s *Service) Count(ctx context.Context, k CountKey) (int64, error) {
	snap, err := s.Snapshot(ctx)
	return snap.Count(k), err
}

// invalidate drops the cache after a committed change.
func (s *Service) invalidate() {
	s.mu.Lock()
	s.gen++
	s.cached = Snapshot{}
	s.mu.Unlock()
}

// Entry is a setting as the admin sees it.
type Entry struct {
	Def
	Value     int64
	UpdatedAt time.Time
	UpdatedBy *uuid.UUID
	// History is every change of the setting, newest first.
	History []Change
}

// Change is one row of a setting's history.
type Change = store.SettingChange

func requireAdmin(v identity.Viewer) error {
	// SECURITY: only platform staff read or change the platform's
	// settings; anyone else gets nothing, as if there were none.
	if !v.IsAdmin() {
		return apperr.Hidden(v, "only admins see settings")
	}
	return nil
}

// MayRead reports whether v may read the settings.
func MayRead(v identity.Viewer) bool { return requireAdmin(v) == nil }

// List is every setting with its history, in the order Defs lists them.
func (s *Service) List(ctx context.Context, v identity.Viewer) ([]Entry, error) {
	if err := requireAdmin(v); err != nil {
		return nil, err
	}
	rows, err := s.store.Settings(ctx)
	if err != nil {
		return nil, err
	}
	history, err := s.store.SettingHistory(ctx)
	if err != nil {
		return nil, err
	}
	return entries(rows, history), nil
}

func entries(rows []store.Setting, history []store.SettingChange) []Entry {
	byRow := make(map[string]store.Setting, len(rows))
	for _, r := range rows {
		byRow[r.Key] = r
	}
	byChange := make(map[string][]Change)
	for _, c := range history {
		byChange[c.Key] = append(byChange[c.Key], c)
	}
	out := make([]Entry, 0, len(defs))
	for _, d := range defs {
		e := Entry{Def: d, Value: d.Default, History: byChange[d.Key]}
		if r, ok := byRow[d.Key]; ok {
			e.Value, e.UpdatedAt, e.UpdatedBy = r.Value, r.UpdatedAt, r.UpdatedBy
		}
		out = append(out, e)
	}
	return out
}

// Error codes of Update.
const (
	CodeUnknown      = "SETTING_UNKNOWN"
	CodeInvalid      = "SETTING_INVALID"
	CodeOutOfRange   = "SETTING_OUT_OF_RANGE"
	CodeInconsistent = "SETTING_INCONSISTENT"
	CodeUnchanged    = "SETTING_UNCHANGED"
)

// pairs are settings whose values must keep an order: the first never
// above the second.
var pairs = [][2]string{
	{string(TrialDefaultDays), string(TrialMaxDays)},
	{string(RentalPastDue), string(RentalCancel)},
	{string(StandardSales), string(PremiumSales)},
}

// Update sets key to value (in the unit's notation: "7" days, "500.00"
// RUB) from now on, recording who changed it from what. Nothing is written
// unless every check passes.
func (s *Service) Update(ctx context.Context, v identity.Viewer, key, value string) (Entry, error) {
	if err := requireAdmin(v); err != nil {
		return Entry{}, err
	}
	d, ok := Lookup(key)
	if !ok {
		return Entry{}, apperr.Invalid("input.key", "no setting is named %q", key).WithCode(CodeUnknown)
	}
	n, err := d.Parse(value)
	if err != nil {
		return Entry{}, apperr.Invalid("input.value", "%s takes a number of %s", key, d.Unit).WithCode(CodeInvalid)
	}
	if n < d.Min || n > d.Max {
		return Entry{}, apperr.Invalid("input.value", "%s must be between %s and %s %s", key, d.Format(d.Min), d.Format(d.Max), d.Unit).WithCode(CodeOutOfRange)
	}
	audit.SetTarget(ctx, relay.ID(relay.TypeSetting, key))
	var out Entry
	err = s.store.InTx(ctx, func(q *store.Queries) error {
		rows, err := q.LockSettings(ctx)
		if err != nil {
			return err
		}
		current := map[string]int64{}
		for _, r := range rows {
			current[r.Key] = r.Value
		}
		old, ok := current[key]
		if !ok {
			return apperr.Invalid("input.key", "no setting is named %q", key).WithCode(CodeUnknown)
		}
		if old == n {
			return apperr.FailedPrecondition("%s is already %s", key, d.Format(n)).WithCode(CodeUnchanged).WithField("input", "value")
		}
		current[key] = n
		for _, p := range pairs {
			if current[p[0]] > current[p[1]] {
				return apperr.FailedPrecondition("%s may not exceed %s", p[0], p[1]).WithCode(CodeInconsistent).WithField("input", "value")
			}
		}
		row, err := q.SetSetting(ctx, store.SettingChange{Key: key, OldValue: old, NewValue: n, ChangedBy: &v.UserID, ChangedAt: s.clock.Now()})
		if err != nil {
			return err
		}
		history, err := q.SettingHistory(ctx)
		if err != nil {
			return err
		}
		out = entries([]store.Setting{row}, history)[indexOf(key)]
		return nil
	}, store.Audit(audit.From(ctx)))
	if err != nil {
		return Entry{}, err
	}
	s.invalidate()
	return out, nil
}

func indexOf(key string) int {
	for i, d := range defs {
		if d.Key == key {
			return i
		}
	}
	return -1
}
