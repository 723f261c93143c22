package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// VersionState is where a version stands in moderation.
type VersionState string

const (
	VersionDraft    VersionState = "draft"
	VersionInReview VersionState = "in_review"
	VersionApproved VersionState = "approved"
	VersionRejected VersionState = "rejected"
)

// Version is one semantic version of a configuration.
type Version struct {
	ID              uuid.UUID
	ConfigurationID uuid.UUID
	Major           int
	Minor           int
	Patch           int
	Changelog       string
	State           VersionState
	RejectionReason *string
	SubmittedAt     *time.Time
	DecidedAt       *time.Time
	DecidedBy       *uuid.UUID
	CreatedAt       time.Time
}

const versionColumns = `v.id, v.configuration_id, v.major, v.minor, v.patch, v.changelog, v.state,
	v.rejection_reason, v.submitted_at, v.decided_at, v.decided_by, v.created_at`

// The state is scanned as the string it is, as Configuration's are.
func (v *Version) scanTargets(dst []any) []any {
	return append(dst, &v.ID, &v.ConfigurationID, &v.Major, &v.Minor, &v.Patch, &v.Changelog, (*string)(&v.State),
		&v.RejectionReason, &v.SubmittedAt, &v.DecidedAt, &v.DecidedBy, &v.CreatedAt)
}

// versionSummaryColumns are what a version's number and visibility need,
// all in versions_configuration_summary_idx (an index-only read); the
// storefront card that reads them knows whose versions they are.
const versionSummaryColumns = `v.id, v.major, v.minor, v.patch, v.state`

func (v *Version) summaryTargets(dst []any) []any {
	return append(dst, &v.ID, &v.Major, &v.Minor, &v.Patch, (*string)(&v.State))
}

const versionNumberColumns = `v.major, v.minor, v.patch`

func (v *Version) numberTargets(dst []any) []any {
	return append(dst, &v.Major, &v.Minor, &v.Patch)
}

func scanVersion(r pgx.CollectableRow) (Version, error) {
	var v Version
	err := r.Scan(v.scanTargets(nil)...)
	return v, err
}

// VersionsByIDs returns versions by id; the caller checks visibility.
func (q *Queries) VersionsByIDs(ctx context.Context, ids []uuid.UUID) ([]Version, error) {
	const sql = `select ` + versionColumns + ` from versions v where v.id = any($1)`
	return list(ctx, q.db, "select versions", scanVersion, sql, ids)
}

// LockVersion reads a version for a change, holding its configuration's
// row lock: every version change of one configuration is serialised there.
func (q *Queries) LockVersion(ctx context.Context, id uuid.UUID) (Version, error) {
	const sql = `select ` + versionColumns + ` from versions v
		join configurations c on c.id = v.configuration_id
		where v.id = $1 for update of c`
	return one(ctx, q.db, "lock version", scanVersion, sql, id)
}

// NewestVersions returns, for each configuration, its newest versions in
// the given states, at most perParent each, newest first — one statement
// for a whole page of configurations.
func (q *Queries) NewestVersions(ctx context.Context, configurationIDs []uuid.UUID, states []VersionState, perParent int) ([]Version, error) {
	// A lateral join reads perParent rows of each configuration from
	// versions_configuration_summary_idx, however many versions it has.
	return list(ctx, q.db, "select newest versions", scanVersion, newestVersionsSQL, configurationIDs, states, perParent)
}

var newestVersionsSQL = `select ` + versionColumns + ` from (select distinct unnest($1::uuid[]) as id) ids
	cross join lateral (` + newestVersionsOf("ids.id", "$2", "$3") + `) v
	order by v.configuration_id, v.major desc, v.minor desc, v.patch desc`

// newestVersionsOf selects the newest versions in states (an SQL
// expression for a text array), at most limit, of the configuration whose
// id is the SQL expression id. The order names versions_configuration_summary_idx's
// whole key (the id after a number changes nothing: numbers are unique per
// configuration), so that index is the one that yields it: with the number
// alone, the planner chose among three near-equal indexes by the sampled
// statistics, two of which visit the table for every version.
func newestVersionsOf(id, states, limit string) string {
	return `select * from versions v
		where v.configuration_id = ` + id + ` and v.state = any(` + states + `)
		order by v.major desc, v.minor desc, v.patch desc, v.id
		limit ` + limit
}

// VersionKey is a keyset position in newest-first version order.
type VersionKey struct{ Major, Minor, Patch int }

// VersionsPage lists one configuration's versions in states, newest first,
// after key if given.
func (q *Queries) VersionsPage(ctx context.Context, configurationID uuid.UUID, states []VersionState, after *VersionKey, limit int) ([]Version, error) {
	const sql = `select ` + versionColumns + ` from versions v
		where v.configuration_id = $1 and v.state = any($2)
			and ($3::boolean is not true or (v.major, v.minor, v.patch) < ($4, $5, $6))
		order by v.major desc, v.minor desc, v.patch desc
		limit $7`
	var k VersionKey
	if after != nil {
		k = *after
	}
	return list(ctx, q.db, "select versions page", scanVersion, sql, configurationID, states, after != nil, k.Major, k.Minor, k.Patch, limit)
}

// HighestVersion is the greatest version number of a configuration among
// versions in states (other than except), or nil when there is none.
func (q *Queries) HighestVersion(ctx context.Context, configurationID uuid.UUID, states []VersionState, except uuid.UUID) (*VersionKey, error) {
	const sql = `select major, minor, patch from versions
		where configuration_id = $1 and state = any($2) and id <> $3
		order by major desc, minor desc, patch desc limit 1`
	var k VersionKey
	err := q.db.QueryRow(ctx, sql, configurationID, states, except).Scan(&k.Major, &k.Minor, &k.Patch)
	if err == pgx.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, mapErr(err, "select highest version")
	}
	return &k, nil
}

// CreateVersion inserts a draft version.
func (q *Queries) CreateVersion(ctx context.Context, configurationID uuid.UUID, k VersionKey, changelog string) (Version, error) {
	const sql = `insert into versions as v (configuration_id, major, minor, patch, changelog)
		values ($1, $2, $3, $4, $5) returning ` + versionColumns
	return one(ctx, q.db, "insert version", scanVersion, sql, configurationID, k.Major, k.Minor, k.Patch, changelog)
}

// UpdateVersion replaces a version's number and changelog.
func (q *Queries) UpdateVersion(ctx context.Context, id uuid.UUID, k VersionKey, changelog string) (Version, error) {
	const sql = `update versions as v set major = $2, minor = $3, patch = $4, changelog = $5
		where v.id = $1 returning ` + versionColumns
	return one(ctx, q.db, "update version", scanVersion, sql, id, k.Major, k.Minor, k.Patch, changelog)
}

// SubmitVersion moves a version into review.
func (q *Queries) SubmitVersion(ctx context.Context, id uuid.UUID) (Version, error) {
	const sql = `update versions as v set state = 'in_review', submitted_at = now()
		where v.id = $1 returning ` + versionColumns
	return one(ctx, q.db, "submit version", scanVersion, sql, id)
}

// DecideVersion records a moderator's decision on a version.
// by is nil for decisions made without a moderator (seed data).
func (q *Queries) DecideVersion(ctx context.Context, id uuid.UUID, state VersionState, reason *string, by *uuid.UUID) (Version, error) {
	const sql = `update versions as v set state = $2, rejection_reason = $3, decided_at = now(), decided_by = $4
		where v.id = $1 returning ` + versionColumns
	return one(ctx, q.db, "decide version", scanVersion, sql, id, state, reason, by)
}

// ReviewQueuePage lists versions in review, oldest submission first.
func (q *Queries) ReviewQueuePage(ctx context.Context, after *TimeKey, limit int) ([]Version, error) {
	const sql = `select ` + versionColumns + ` from versions v
		where v.state = 'in_review'
			and ($1::boolean is not true or (v.submitted_at, v.id) > ($2, $3))
		order by v.submitted_at, v.id
		limit $4`
	k := after.OrZero()
	return list(ctx, q.db, "select review queue", scanVersion, sql, after != nil, k.At, k.ID, limit)
}

// ModerationAction is a moderation step: a version submitted, approved or
// rejected; a configuration suspended, restored or archived.
type ModerationAction string

const (
	ModerationSubmitted ModerationAction = "submitted"
	ModerationApproved  ModerationAction = "approved"
	ModerationRejected  ModerationAction = "rejected"
	ModerationSuspended ModerationAction = "suspended"
	ModerationRestored  ModerationAction = "restored"
	ModerationArchived  ModerationAction = "archived"
)

// ModerationEvent is one recorded moderation step.
type ModerationEvent struct {
	ID              uuid.UUID
	ConfigurationID uuid.UUID
	VersionID       *uuid.UUID
	Action          ModerationAction
	Reason          *string
	ActorUserID     *uuid.UUID
	CreatedAt       time.Time
}

// InsertModerationEvent records who did what, when and why.
func (q *Queries) InsertModerationEvent(ctx context.Context, configurationID uuid.UUID, versionID *uuid.UUID, action ModerationAction, reason *string, actor uuid.UUID) error {
	const sql = `insert into moderation_events (configuration_id, version_id, action, reason, actor_user_id)
		values ($1, $2, $3, $4, $5)`
	_, err := q.db.Exec(ctx, sql, configurationID, versionID, action, reason, actor)
	return mapErr(err, "insert moderation event")
}

// ModerationEvents lists the moderation history of configurations, oldest first.
func (q *Queries) ModerationEvents(ctx context.Context, configurationIDs []uuid.UUID) ([]ModerationEvent, error) {
	const sql = `select id, configuration_id, version_id, action, reason, actor_user_id, created_at
		from moderation_events where configuration_id = any($1)
		order by configuration_id, created_at, id`
	return list(ctx, q.db, "select moderation events", func(r pgx.CollectableRow) (ModerationEvent, error) {
		var e ModerationEvent
		err := r.Scan(&e.ID, &e.ConfigurationID, &e.VersionID, &e.Action, &e.Reason, &e.ActorUserID, &e.CreatedAt)
		return e, err
	}, sql, configurationIDs)
}
