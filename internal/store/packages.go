package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// VersionPackage is a version's uploaded package (migration 0024).
type VersionPackage struct {
	VersionID uuid.UUID
	// DeveloperID is the developer of the version's configuration (read,
	// never written: who may see the package).
	DeveloperID uuid.UUID
	BlobKey     string
	SHA256      []byte
	Size        int64
	Manifest    json.RawMessage
	Problem     *string
	UploadedBy  *uuid.UUID
	UploadedAt  time.Time
}

const versionPackageColumns = `version_id, blob_key, sha256, size, manifest, problem, uploaded_by, uploaded_at`

// VersionPackages returns the packages of versions that have one, each with
// its configuration's developer, in one statement.
func (q *Queries) VersionPackages(ctx context.Context, versionIDs []uuid.UUID) ([]VersionPackage, error) {
	const sql = `select p.version_id, c.developer_id, p.blob_key, p.sha256, p.size, p.manifest, p.problem,
			p.uploaded_by, p.uploaded_at
		from version_packages p join versions v on v.id = p.version_id join configurations c on c.id = v.configuration_id
		where p.version_id = any($1)`
	return list(ctx, q.db, "select version packages", func(r pgx.CollectableRow) (VersionPackage, error) {
		var p VersionPackage
		err := r.Scan(&p.VersionID, &p.DeveloperID, &p.BlobKey, &p.SHA256, &p.Size, &p.Manifest, &p.Problem, &p.UploadedBy, &p.UploadedAt)
		return p, err
	}, sql, versionIDs)
}

// SaveVersionPackage records a version's package, replacing the one it had
// (whose blob key it returns, for deletion after commit). The database
// refuses it once the version is submitted (version_packages_frozen). The
// caller holds the version's lock (old must not lock the row: a row this
// statement updates would be skipped).
func (q *Queries) SaveVersionPackage(ctx context.Context, p VersionPackage) (replacedKey *string, err error) {
	const sql = `with old as (select blob_key from version_packages where version_id = $1),
		saved as (
			insert into version_packages (` + versionPackageColumns + `) values ($1, $2, $3, $4, $5, $6, $7, $8)
			on conflict (version_id) do update set blob_key = excluded.blob_key, sha256 = excluded.sha256,
				size = excluded.size, manifest = excluded.manifest, problem = excluded.problem,
				uploaded_by = excluded.uploaded_by, uploaded_at = excluded.uploaded_at
			returning 1
		)
		select (select blob_key from old) from saved`
	err = q.db.QueryRow(ctx, sql, p.VersionID, p.BlobKey, p.SHA256, p.Size, p.Manifest, p.Problem, p.UploadedBy, p.UploadedAt).
		Scan(&replacedKey)
	return replacedKey, mapErr(err, "save version package")
}

// PackageOfOtherDeveloper reports whether the same bytes are the package of
// a version of another developer's configuration.
func (q *Queries) PackageOfOtherDeveloper(ctx context.Context, sha256 []byte, developerID uuid.UUID) (bool, error) {
	const sql = `select exists (select 1 from version_packages p
		join versions v on v.id = p.version_id
		join configurations c on c.id = v.configuration_id
		where p.sha256 = $1 and c.developer_id <> $2)`
	var found bool
	err := q.db.QueryRow(ctx, sql, sha256, developerID).Scan(&found)
	return found, mapErr(err, "select copied package")
}

// CountPackageDownload counts one fetch of an installation's package.
func (q *Queries) CountPackageDownload(ctx context.Context, installationID, versionID uuid.UUID, at time.Time) error {
	const sql = `insert into package_downloads (installation_id, downloads, last_version_id, last_at) values ($1, 1, $2, $3)
		on conflict (installation_id) do update set downloads = package_downloads.downloads + 1,
			last_version_id = excluded.last_version_id, last_at = excluded.last_at`
	_, err := q.db.Exec(ctx, sql, installationID, versionID, at)
	return mapErr(err, "count package download")
}

// PackageDownloads is how many times each installation's CRM fetched its
// package; installations never fetched are missing.
func (q *Queries) PackageDownloads(ctx context.Context, installationIDs []uuid.UUID) (map[uuid.UUID]int64, error) {
	const sql = `select installation_id, downloads from package_downloads where installation_id = any($1)`
	type count struct {
		id uuid.UUID
		n  int64
	}
	rows, err := list(ctx, q.db, "select package downloads", func(r pgx.CollectableRow) (count, error) {
		var c count
		err := r.Scan(&c.id, &c.n)
		return c, err
	}, sql, installationIDs)
	out := make(map[uuid.UUID]int64, len(rows))
	for _, d := range rows {
		out[d.id] = d.n
	}
	return out, err
}

// UnpackagedVersion is a version that has no package yet.
type UnpackagedVersion struct {
	VersionID uuid.UUID
	Slug      string
	Key       VersionKey
	Changelog string
}

// VersionsWithoutPackage lists the versions in states that have no package.
func (q *Queries) VersionsWithoutPackage(ctx context.Context, states []VersionState) ([]UnpackagedVersion, error) {
	const sql = `select v.id, c.slug, v.major, v.minor, v.patch, v.changelog from versions v
		join configurations c on c.id = v.configuration_id
		where v.state = any($1) and not exists (select 1 from version_packages p where p.version_id = v.id)
		order by c.slug, v.major, v.minor, v.patch, v.id`
	return list(ctx, q.db, "select unpackaged versions", func(r pgx.CollectableRow) (UnpackagedVersion, error) {
		var u UnpackagedVersion
		err := r.Scan(&u.VersionID, &u.Slug, &u.Key.Major, &u.Key.Minor, &u.Key.Patch, &u.Changelog)
		return u, err
	}, sql, states)
}
