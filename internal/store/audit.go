package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"configmarket/internal/audit"
	"configmarket/internal/identity"
	"configmarket/internal/money"
)

// AuditRow is one audited action.
type AuditRow struct {
	ID        int64
	At        time.Time
	ActorID   *uuid.UUID
	Role      *string
	Action    string
	Target    *string
	Result    audit.Result
	IP        *string
	RequestID *string
	// Amount is the money the action moved; nil when it moved none.
	Amount *money.Money
	// EventID is the payment provider's event id of a webhook action.
	EventID *string
	// APITokenID is the API token the actor acted with; nil for a session.
	APITokenID *uuid.UUID
}

// InsertAudit writes p's row (its action, target, amount and provider
// event id) with result, for the viewer and origin of ctx; the database
// chains its hash. The actor is the viewer; a platform action (a job, a
// webhook event: identity.AsSystem with no viewer) is written with the role
// system and no actor. An amount is kept only on a row whose action
// succeeded, because only then did the money move.
func (q *Queries) InsertAudit(ctx context.Context, p *audit.Pending, result audit.Result) error {
	v, o := identity.FromContext(ctx), identity.OriginFrom(ctx)
	var actor *uuid.UUID
	var role *string
	switch {
	case !v.Anonymous():
		actor, role = &v.UserID, ptrString(string(v.Role))
	case identity.IsSystem(ctx):
		role = ptrString(string(identity.RoleSystem))
	}
	var ip *string
	if o.IP.IsValid() && !p.WithoutIP {
		ip = ptrString(o.IP.String())
	}
	var amountMinor *int64
	var currency, eventID *string
	if p.Amount != nil && result == audit.OK {
		amountMinor, currency = &p.Amount.Minor, &p.Amount.Currency
	}
	if p.EventID != "" {
		eventID = &p.EventID
	}
	var token *uuid.UUID
	if !v.Anonymous() && v.APITokenID != uuid.Nil {
		token = &v.APITokenID
	}
	// The IP goes to its own table, outside the hash chain, so that an
	// erasure can remove it (migration 0013).
	const sql = `with written as (
			insert into audit_log (actor_user_id, role, action, target, result, request_id, amount_minor, currency, event_id, api_token_id)
			values ($1, $2, $3, nullif($4, ''), $5, nullif($7, ''), $8, $9, $10, $11)
			returning id, actor_user_id)
		insert into audit_log_ips (audit_id, actor_user_id, ip)
		select id, actor_user_id, $6::inet from written where $6::inet is not null`
	_, err := q.db.Exec(ctx, sql, actor, role, p.Action, p.Target, result, ip, o.RequestID, amountMinor, currency, eventID, token)
	return mapErr(err, "insert audit row")
}

// InsertSystemAudits writes one row per target, in their order, for an
// action the platform took on its own (a job) on several objects at once:
// role system, no actor, no address; one statement, chained like any row.
// Write it in the transaction that makes the effect.
func (q *Queries) InsertSystemAudits(ctx context.Context, action string, targets []string) error {
	if len(targets) == 0 {
		return nil
	}
	const sql = `insert into audit_log (role, action, target, result)
		select $1, $2, t.target, 'ok' from unnest($3::text[]) with ordinality as t(target, n)
		order by t.n`
	_, err := q.db.Exec(ctx, sql, string(identity.RoleSystem), action, targets)
	return mapErr(err, "insert system audit rows")
}

// auditInTx writes p, the audit row the transaction carries (Audit), in
// the transaction that makes its effect, unless an earlier one committed it.
func (q *Queries) auditInTx(ctx context.Context, p *audit.Pending) error {
	if p == nil || p.Written() {
		return nil
	}
	return q.InsertAudit(ctx, p, audit.OK)
}

// AuditFilter narrows the audit log.
type AuditFilter struct {
	ActorID  *uuid.UUID
	Action   *string
	From, To *time.Time
}

// AuditPage lists the audit log newest first.
func (q *Queries) AuditPage(ctx context.Context, f AuditFilter, after *int64, limit int) ([]AuditRow, error) {
	const sql = `select id, at, actor_user_id, role, action, target, result,
			(select host(ip) from audit_log_ips where audit_id = id), request_id, amount_minor, currency, event_id, api_token_id
		from audit_log
		where ($1::uuid is null or actor_user_id = $1) and ($2::text is null or action = $2)
			and ($3::timestamptz is null or at >= $3) and ($4::timestamptz is null or at < $4)
			and ($5::bigint is null or id < $5)
		order by id desc limit $6`
	return list(ctx, q.db, "select audit page", func(r pgx.CollectableRow) (AuditRow, error) {
		var a AuditRow
		var minor *int64
		var currency *string
		err := r.Scan(&a.ID, &a.At, &a.ActorID, &a.Role, &a.Action, &a.Target, &a.Result, &a.IP, &a.RequestID, &minor, &currency, &a.EventID, &a.APITokenID)
		if minor != nil && currency != nil {
			m := money.New(*minor, *currency)
			a.Amount = &m
		}
		return a, err
	}, sql, f.ActorID, f.Action, f.From, f.To, after, limit)
}

// BrokenAuditRow recomputes the hash chain and returns the first row whose
// hash does not follow, or 0 when the chain is intact.
func (q *Queries) BrokenAuditRow(ctx context.Context) (int64, error) {
	const sql = `select coalesce(min(id), 0) from (
			select id, hash, prev_hash, lag(hash) over (order by id) as before,
				sha256(coalesce(prev_hash, ''::bytea) || convert_to(cm_audit_row_text(a), 'UTF8')) as recomputed
			from audit_log a
		) t
		where hash is distinct from recomputed or prev_hash is distinct from before`
	var id int64
	err := q.db.QueryRow(ctx, sql).Scan(&id)
	return id, mapErr(err, "verify audit chain")
}

func ptrString(s string) *string { return &s }
