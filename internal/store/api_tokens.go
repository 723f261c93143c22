package store

import (
	"context"
	"net/netip"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// APIToken is a stored API token: never its secret, only the secret's hash
// (which stays in the store) and its display prefix.
type APIToken struct {
	ID         uuid.UUID
	UserID     uuid.UUID
	Name       string
	Role       string
	ActingFor  uuid.UUID
	Prefix     string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

const apiTokenColumns = `id, user_id, name, role, acting_for, prefix, created_at, expires_at, last_used_at, revoked_at`

func scanAPIToken(r pgx.CollectableRow) (APIToken, error) {
	var t APIToken
	err := r.Scan(&t.ID, &t.UserID, &t.Name, &t.Role, &t.ActingFor, &t.Prefix, &t.CreatedAt, &t.ExpiresAt, &t.LastUsedAt, &t.RevokedAt)
	return t, err
}

// NewAPIToken is a token to store.
type NewAPIToken struct {
	UserID    uuid.UUID
	Name      string
	Role      string
	ActingFor uuid.UUID
	Hash      []byte
	Prefix    string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// CreateAPIToken stores a new token for ctx's user (row-level security
// refuses any other user's).
func (q *Queries) CreateAPIToken(ctx context.Context, t NewAPIToken) (APIToken, error) {
	const sql = `insert into api_tokens (user_id, name, role, acting_for, token_hash, prefix, created_at, expires_at)
		values ($1, $2, $3, $4, $5, $6, $7, $8) returning ` + apiTokenColumns
	return oneMoney(ctx, q, "insert api token", scanAPIToken, sql,
		t.UserID, t.Name, t.Role, t.ActingFor, t.Hash, t.Prefix, t.CreatedAt, t.ExpiresAt)
}

// APITokensOf lists a user's tokens, newest first.
func (q *Queries) APITokensOf(ctx context.Context, userID uuid.UUID) ([]APIToken, error) {
	const sql = `select ` + apiTokenColumns + ` from api_tokens where user_id = $1 order by created_at desc, id desc`
	return listMoney(ctx, q, "select api tokens", scanAPIToken, sql, userID)
}

// RevokeAPIToken revokes the user's token id (at once; revoking a revoked
// token keeps its first time) and returns it; NotFound when the user has
// no such token.
func (q *Queries) RevokeAPIToken(ctx context.Context, userID, id uuid.UUID, at time.Time) (APIToken, error) {
	const sql = `update api_tokens set revoked_at = coalesce(revoked_at, $3)
		where id = $1 and user_id = $2 returning ` + apiTokenColumns
	return oneMoney(ctx, q, "revoke api token", scanAPIToken, sql, id, userID, at)
}

// APITokenGrant is a presented token with what decides whether it may act
// now: its user's erasure, role grant and allowed networks.
type APITokenGrant struct {
	Token APIToken
	// UserLive is false once the user's personal data is erased.
	UserLive bool
	// RoleHeld: the user still holds the token's role for its organisation.
	RoleHeld bool
	// IPAllowed: ip is within the user's allowed networks.
	IPAllowed bool
}

// APITokenByHash finds a token by the hash of its secret, with its user's
// state, as the platform (ctx must be identity.AsSystem: nobody is known
// before the token is).
func (q *Queries) APITokenByHash(ctx context.Context, hash []byte, ip *netip.Addr) (APITokenGrant, error) {
	const sql = `select t.id, t.user_id, t.name, t.role, t.acting_for, t.prefix, t.created_at, t.expires_at, t.last_used_at, t.revoked_at,
			u.erased_at is null,
			exists (select 1 from role_grants g where g.user_id = t.user_id and g.role = t.role and g.acting_for = t.acting_for),
			cardinality(u.allowed_networks) = 0 or ($2::inet is not null and $2::inet <<= any(u.allowed_networks))
		from api_tokens t join users u on u.id = t.user_id
		where t.token_hash = $1`
	return oneMoney(ctx, q, "select api token", func(r pgx.CollectableRow) (APITokenGrant, error) {
		var g APITokenGrant
		t := &g.Token
		err := r.Scan(&t.ID, &t.UserID, &t.Name, &t.Role, &t.ActingFor, &t.Prefix, &t.CreatedAt, &t.ExpiresAt, &t.LastUsedAt, &t.RevokedAt,
			&g.UserLive, &g.RoleHeld, &g.IPAllowed)
		return g, err
	}, sql, hash, ip)
}

// TouchAPIToken records a use of token id at now, unless one was recorded
// within the last interval: a busy CI writes about once a minute, not once
// a request.
func (q *Queries) TouchAPIToken(ctx context.Context, id uuid.UUID, now time.Time, interval time.Duration) error {
	const sql = `update api_tokens set last_used_at = $2
		where id = $1 and (last_used_at is null or last_used_at <= $2::timestamptz - $3::float8 * interval '1 second')`
	return q.withSubject(ctx, "touch api token", func(db dbtx) error {
		_, err := db.Exec(ctx, sql, id, now, interval.Seconds())
		return mapErr(err, "touch api token")
	})
}
