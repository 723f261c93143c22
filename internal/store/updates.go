package store

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"configmarket/internal/relay"
)

// QueueUpdate records that installations of a configuration must move to a
// newly approved version; written in the approval's transaction.
func (q *Queries) QueueUpdate(ctx context.Context, versionID, configurationID uuid.UUID) error {
	const sql = `insert into update_jobs (version_id, configuration_id) values ($1, $2) on conflict do nothing`
	_, err := q.db.Exec(ctx, sql, versionID, configurationID)
	return mapErr(err, "queue update")
}

// UpdateJob is a pending move of installations to a version.
type UpdateJob struct {
	VersionID       uuid.UUID
	ConfigurationID uuid.UUID
}

// ClaimUpdateJob locks the oldest pending update job that no other worker
// holds; found is false when none is left.
func (q *Queries) ClaimUpdateJob(ctx context.Context) (UpdateJob, bool, error) {
	const sql = `select version_id, configuration_id from update_jobs
		where finished_at is null order by created_at limit 1 for update skip locked`
	var j UpdateJob
	err := q.db.QueryRow(ctx, sql).Scan(&j.VersionID, &j.ConfigurationID)
	if errors.Is(err, pgx.ErrNoRows) {
		return UpdateJob{}, false, nil
	}
	return j, err == nil, mapErr(err, "claim update job")
}

// ActionUpdateInstallations is the audit action of a batch of automatic
// updates: one system row per batch that moved anything, the version as its
// target. Which installations moved, from which version, is in their update
// history (installation_updates), written by the same statement.
const ActionUpdateInstallations = "updateInstallations"

// MoveInstallations moves up to limit auto-updating, live installations of
// the job's configuration that run an older version to the job's version,
// and records each move and the batch's audit row. Installations already on
// a newer version stay.
func (q *Queries) MoveInstallations(ctx context.Context, j UpdateJob, limit int, now time.Time) (int, error) {
	const sql = `with target as (select major, minor, patch from versions where id = $2),
		batch as (
			select i.id, i.version_id from installations i
			join versions cur on cur.id = i.version_id, target t
			where i.configuration_id = $1 and i.auto_update and i.state in ('trialing', 'active', 'past_due')
				and (cur.major, cur.minor, cur.patch) < (t.major, t.minor, t.patch)
			order by i.id
			limit $3
			for update of i skip locked
		),
		moved as (
			update installations i set version_id = $2, updated_at = $4
			from batch b where i.id = b.id
			returning i.id, b.version_id as from_version
		)
		insert into installation_updates (installation_id, from_version_id, to_version_id, updated_at)
		select id, from_version, $2, $4 from moved`
	tag, err := q.db.Exec(ctx, sql, j.ConfigurationID, j.VersionID, limit, now)
	if err != nil || tag.RowsAffected() == 0 {
		return 0, mapErr(err, "move installations")
	}
	moved := int(tag.RowsAffected())
	return moved, q.InsertSystemAudits(ctx, ActionUpdateInstallations, []string{relay.UUIDID(relay.TypeVersion, j.VersionID)})
}

// UpdatesLeft counts installations the job still has to move, locked or not.
func (q *Queries) UpdatesLeft(ctx context.Context, j UpdateJob) (int, error) {
	const sql = `select count(*) from installations i
		join versions cur on cur.id = i.version_id
		join versions t on t.id = $2
		where i.configuration_id = $1 and i.auto_update and i.state in ('trialing', 'active', 'past_due')
			and (cur.major, cur.minor, cur.patch) < (t.major, t.minor, t.patch)`
	var n int
	err := q.db.QueryRow(ctx, sql, j.ConfigurationID, j.VersionID).Scan(&n)
	return n, mapErr(err, "count updates left")
}

// FinishUpdateJob marks a job done after its last batch.
func (q *Queries) FinishUpdateJob(ctx context.Context, versionID uuid.UUID, moved int, now time.Time) error {
	const sql = `update update_jobs set moved = moved + $2, finished_at = $3 where version_id = $1`
	_, err := q.db.Exec(ctx, sql, versionID, moved, now)
	return mapErr(err, "finish update job")
}

// CountUpdateJobMoves adds a batch's moves to the job's tally.
func (q *Queries) CountUpdateJobMoves(ctx context.Context, versionID uuid.UUID, moved int) error {
	const sql = `update update_jobs set moved = moved + $2 where version_id = $1`
	_, err := q.db.Exec(ctx, sql, versionID, moved)
	return mapErr(err, "count update moves")
}

// InstallationUpdate is one recorded automatic update.
type InstallationUpdate struct {
	InstallationID uuid.UUID
	FromVersionID  uuid.UUID
	ToVersionID    uuid.UUID
	At             time.Time
}

// InstallationUpdates lists installations' update history, oldest first.
func (q *Queries) InstallationUpdates(ctx context.Context, installationIDs []uuid.UUID) ([]InstallationUpdate, error) {
	const sql = `select installation_id, from_version_id, to_version_id, updated_at from installation_updates
		where installation_id = any($1) order by installation_id, updated_at, id`
	return list(ctx, q.db, "select installation updates", func(r pgx.CollectableRow) (InstallationUpdate, error) {
		var u InstallationUpdate
		err := r.Scan(&u.InstallationID, &u.FromVersionID, &u.ToVersionID, &u.At)
		return u, err
	}, sql, installationIDs)
}
