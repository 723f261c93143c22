package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Setting is one row of the settings table: a value in its key's unit.
type Setting struct {
	Key       string
	Value     int64
	UpdatedAt time.Time
	// UpdatedBy is the admin who set it last; nil for the seeded default.
	UpdatedBy *uuid.UUID
}

// SettingChange is one row of a setting's history.
type SettingChange struct {
	ID        int64
	Key       string
	OldValue  int64
	NewValue  int64
	ChangedBy *uuid.UUID
	ChangedAt time.Time
}

func scanSetting(r pgx.CollectableRow) (Setting, error) {
	var s Setting
	err := r.Scan(&s.Key, &s.Value, &s.UpdatedAt, &s.UpdatedBy)
	return s, err
}

// Settings lists every setting by key.
func (q *Queries) Settings(ctx context.Context) ([]Setting, error) {
	const sql = `select key, value, updated_at, updated_by from settings order by key`
	return list(ctx, q.db, "select settings", scanSetting, sql)
}

// LockSettings reads every setting for a change and locks the rows, so
// admins' changes run one at a time: each history row names the value it
// replaced, and a rule that ties two keys (trial default ≤ maximum) is
// checked against values no one else is changing.
func (q *Queries) LockSettings(ctx context.Context) ([]Setting, error) {
	const sql = `select key, value, updated_at, updated_by from settings order by key for update`
	return list(ctx, q.db, "lock settings", scanSetting, sql)
}

// SetSetting writes a setting's new value and appends the change to its
// history, in one statement.
func (q *Queries) SetSetting(ctx context.Context, c SettingChange) (Setting, error) {
	const sql = `with h as (
			insert into settings_history (key, old_value, new_value, changed_by, changed_at)
			values ($1, $2, $3, $4, $5))
		update settings set value = $3, updated_at = $5, updated_by = $4 where key = $1
		returning key, value, updated_at, updated_by`
	return one(ctx, q.db, "update setting", scanSetting, sql, c.Key, c.OldValue, c.NewValue, c.ChangedBy, c.ChangedAt)
}

// SettingHistory lists every change of every setting, newest first.
func (q *Queries) SettingHistory(ctx context.Context) ([]SettingChange, error) {
	const sql = `select id, key, old_value, new_value, changed_by, changed_at from settings_history order by id desc`
	return list(ctx, q.db, "select setting history", func(r pgx.CollectableRow) (SettingChange, error) {
		var c SettingChange
		err := r.Scan(&c.ID, &c.Key, &c.OldValue, &c.NewValue, &c.ChangedBy, &c.ChangedAt)
		return c, err
	}, sql)
}
