package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// LockPartner reads a partner for a status change and locks its row for the
// rest of the transaction, so two admins' changes of one partner run one
// at a time and each history row follows the status it replaced. FOR NO
// KEY UPDATE does not block the key-share locks that payments take through
// the ledger's and pins' foreign keys.
func (q *Queries) LockPartner(ctx context.Context, partnerID uuid.UUID) (Partner, error) {
	const sql = `select ` + partnerColumns + ` from partners where id = $1 for no key update`
	return one(ctx, q.db, "lock partner", scanPartner, sql, partnerID)
}

// SetPartnerStatus sets a partner's status; payments recorded from then on
// read it (ActivePinAt).
func (q *Queries) SetPartnerStatus(ctx context.Context, partnerID uuid.UUID, status string) (Partner, error) {
	const sql = `update partners set status = $2 where id = $1 returning ` + partnerColumns
	return one(ctx, q.db, "update partner status", scanPartner, sql, partnerID, status)
}

// PartnerStatusChange is one row of a partner's status history.
type PartnerStatusChange struct {
	ID        int64
	PartnerID uuid.UUID
	Status    string
	Reason    string
	// DecidedBy is the admin who set the status; nil where the platform
	// set it (a new partner's first status).
	DecidedBy *uuid.UUID
	DecidedAt time.Time
}

// InsertPartnerStatusChange appends a row to a partner's status history.
func (q *Queries) InsertPartnerStatusChange(ctx context.Context, c PartnerStatusChange) error {
	const sql = `insert into partner_status_history (partner_id, status, reason, decided_by, decided_at)
		values ($1, $2, $3, $4, $5)`
	_, err := q.db.Exec(ctx, sql, c.PartnerID, c.Status, c.Reason, c.DecidedBy, c.DecidedAt)
	return mapErr(err, "insert partner status change")
}

// PartnerStatusHistory lists a partner's status history, newest first: in
// the order the rows were written (a new partner's first row is stamped by
// the database's clock, later ones by the business clock).
func (q *Queries) PartnerStatusHistory(ctx context.Context, partnerID uuid.UUID) ([]PartnerStatusChange, error) {
	const sql = `select id, partner_id, status, reason, decided_by, decided_at from partner_status_history
		where partner_id = $1
		order by id desc`
	return list(ctx, q.db, "select partner status history", func(r pgx.CollectableRow) (PartnerStatusChange, error) {
		var c PartnerStatusChange
		err := r.Scan(&c.ID, &c.PartnerID, &c.Status, &c.Reason, &c.DecidedBy, &c.DecidedAt)
		return c, err
	}, sql, partnerID)
}
