package store

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// NewInstallation is an installation to create.
type NewInstallation struct {
	CustomerID      uuid.UUID
	ConfigurationID uuid.UUID
	// Mode is trial, rent or purchase; State its matching state.
	Mode        InstallationMode
	State       InstallationState
	VersionID   uuid.UUID
	LicenseKey  string
	TrialEndsAt *time.Time
}

// CreateInstallation inserts an installation and returns its id; one per
// customer and configuration (installations_one_per_customer).
func (q *Queries) CreateInstallation(ctx context.Context, in NewInstallation) (uuid.UUID, error) {
	const sql = `insert into installations (customer_id, configuration_id, mode, state, version_id, license_key, trial_ends_at)
		values ($1, $2, $3, $4, $5, $6, $7)
		returning id`
	var id uuid.UUID
	err := q.db.QueryRow(ctx, sql, in.CustomerID, in.ConfigurationID, in.Mode, in.State, in.VersionID, in.LicenseKey, in.TrialEndsAt).Scan(&id)
	return id, mapErr(err, "insert installation")
}
