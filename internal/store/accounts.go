package store

import (
	"context"
	"net/netip"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"configmarket/internal/apperr"
)

// User is a human who logs in.
type User struct {
	ID           uuid.UUID
	Email        string
	PasswordHash string
	Name         string
	Phone        *string
	CreatedAt    time.Time
}

// RoleGrant is one role a user holds and the organisation it acts for.
type RoleGrant struct {
	UserID    uuid.UUID
	Role      string
	ActingFor *uuid.UUID
	// OrgName is the customer's, developer's or partner's name; empty for admin.
	OrgName string
}

// Session is one login in one role.
type Session struct {
	ID        uuid.UUID
	UserID    uuid.UUID
	Role      string
	ActingFor *uuid.UUID
	ExpiresAt time.Time
	RevokedAt *time.Time
}

const userColumns = `id, email, password_hash, name, phone, created_at`

func scanUser(row pgx.Row) (User, error) {
	var u User
	err := row.Scan(&u.ID, &u.Email, &u.PasswordHash, &u.Name, &u.Phone, &u.CreatedAt)
	return u, err
}

// CreateUser inserts a user; email must already be normalised.
func (q *Queries) CreateUser(ctx context.Context, email, passwordHash, name string, phone *string) (User, error) {
	const sql = `insert into users (email, password_hash, name, phone) values ($1, $2, $3, $4)
		returning ` + userColumns
	u, err := scanUser(q.db.QueryRow(ctx, sql, email, passwordHash, name, phone))
	return u, mapErr(err, "insert user")
}

// UserByEmail finds a user by normalised email.
func (q *Queries) UserByEmail(ctx context.Context, email string) (User, error) {
	const sql = `select ` + userColumns + ` from users where email = $1`
	u, err := scanUser(q.db.QueryRow(ctx, sql, email))
	return u, mapErr(err, "select user by email")
}

// UsersByIDs returns the users among ids, in no particular order.
func (q *Queries) UsersByIDs(ctx context.Context, ids []uuid.UUID) ([]User, error) {
	const sql = `select ` + userColumns + ` from users where id = any($1)`
	return list(ctx, q.db, "select users", func(r pgx.CollectableRow) (User, error) { return scanUser(r) }, sql, ids)
}

// UpdatePasswordHash replaces a user's hash (rehash on login).
func (q *Queries) UpdatePasswordHash(ctx context.Context, userID uuid.UUID, hash string) error {
	const sql = `update users set password_hash = $2, updated_at = now() where id = $1`
	_, err := q.db.Exec(ctx, sql, userID, hash)
	return mapErr(err, "update password hash")
}

// GrantRole gives a user a role acting for org (nil for admin).
func (q *Queries) GrantRole(ctx context.Context, userID uuid.UUID, role string, org *uuid.UUID) error {
	const sql = `insert into role_grants (user_id, role, customer_id, developer_id, partner_id)
		values ($1, $2::text,
			case when $2 = 'customer' then $3::uuid end,
			case when $2 = 'developer' then $3::uuid end,
			case when $2 = 'partner' then $3::uuid end)`
	_, err := q.db.Exec(ctx, sql, userID, role, org)
	return mapErr(err, "insert role grant")
}

// RoleGrants lists the roles a user holds, admin first, then by role and
// organisation name.
func (q *Queries) RoleGrants(ctx context.Context, userID uuid.UUID) ([]RoleGrant, error) {
	const sql = `select g.user_id, g.role, g.acting_for, coalesce(c.name, d.name, p.name, '')
		from role_grants g
		left join customers c on c.id = g.customer_id
		left join developers d on d.id = g.developer_id
		left join partners p on p.id = g.partner_id
		where g.user_id = $1
		order by g.role <> 'admin', g.role, coalesce(c.name, d.name, p.name, ''), g.id`
	return list(ctx, q.db, "select role grants", func(r pgx.CollectableRow) (RoleGrant, error) {
		var g RoleGrant
		err := r.Scan(&g.UserID, &g.Role, &g.ActingFor, &g.OrgName)
		return g, err
	}, sql, userID)
}

// CreateSession opens a session in one role.
func (q *Queries) CreateSession(ctx context.Context, userID uuid.UUID, role string, actingFor *uuid.UUID, expiresAt time.Time, ip *netip.Addr, userAgent string) (Session, error) {
	const sql = `insert into auth_sessions (user_id, role, acting_for, expires_at, ip, user_agent)
		values ($1, $2, $3, $4, $5, nullif($6, ''))
		returning id, user_id, role, acting_for, expires_at, revoked_at`
	var s Session
	err := q.db.QueryRow(ctx, sql, userID, role, actingFor, expiresAt, ip, userAgent).
		Scan(&s.ID, &s.UserID, &s.Role, &s.ActingFor, &s.ExpiresAt, &s.RevokedAt)
	return s, mapErr(err, "insert session")
}

// ActiveGrant reports whether the session is live, whether its user still
// holds the role for the organisation, and whether ip is within the user's
// allowed networks — the check behind every authenticated request. One
// indexed lookup.
func (q *Queries) ActiveGrant(ctx context.Context, sessionID, userID uuid.UUID, role string, actingFor *uuid.UUID, ip *netip.Addr) (sessionLive, roleHeld, ipAllowed bool, err error) {
	const sql = `select
			exists (select 1 from auth_sessions s
				where s.id = $1 and s.user_id = $2 and s.revoked_at is null and s.expires_at > now()),
			exists (select 1 from role_grants g
				where g.user_id = $2 and g.role = $3 and g.acting_for is not distinct from $4),
			coalesce((select cardinality(u.allowed_networks) = 0 or ($5::inet is not null and $5::inet <<= any(u.allowed_networks))
				from users u where u.id = $2), false)`
	err = q.db.QueryRow(ctx, sql, sessionID, userID, role, actingFor, ip).Scan(&sessionLive, &roleHeld, &ipAllowed)
	return sessionLive, roleHeld, ipAllowed, mapErr(err, "select active grant")
}

// AllowedFrom reports whether ip is within the user's allowed networks.
func (q *Queries) AllowedFrom(ctx context.Context, userID uuid.UUID, ip *netip.Addr) (bool, error) {
	const sql = `select cardinality(allowed_networks) = 0 or ($2::inet is not null and $2::inet <<= any(allowed_networks))
		from users where id = $1`
	var ok bool
	err := q.db.QueryRow(ctx, sql, userID, ip).Scan(&ok)
	return ok, mapErr(err, "select allowed networks")
}

// SetAllowedNetworks replaces the user's allowed networks.
func (q *Queries) SetAllowedNetworks(ctx context.Context, userID uuid.UUID, networks []netip.Prefix) error {
	const sql = `update users set allowed_networks = $2::cidr[], updated_at = now() where id = $1`
	strs := make([]string, len(networks))
	for i, n := range networks {
		strs[i] = n.Masked().String()
	}
	_, err := q.db.Exec(ctx, sql, userID, strs)
	return mapErr(err, "set allowed networks")
}

// RevokeReason is why a session was revoked.
type RevokeReason string

const (
	RevokeLogout         RevokeReason = "logout"
	RevokeRefreshReuse   RevokeReason = "refresh_reuse"
	RevokePasswordChange RevokeReason = "password_change"
	RevokeRoleChange     RevokeReason = "role_change"
	RevokeErasure        RevokeReason = "erasure"
	RevokeAdmin          RevokeReason = "admin"
)

// RevokeSession revokes a live session; it reports whether one was revoked.
func (q *Queries) RevokeSession(ctx context.Context, sessionID uuid.UUID, reason RevokeReason) (bool, error) {
	const sql = `update auth_sessions set revoked_at = now(), revoke_reason = $2
		where id = $1 and revoked_at is null`
	tag, err := q.db.Exec(ctx, sql, sessionID, reason)
	return tag.RowsAffected() == 1, mapErr(err, "revoke session")
}

// InsertRefreshToken stores the hash of a new refresh token.
func (q *Queries) InsertRefreshToken(ctx context.Context, hash []byte, sessionID uuid.UUID, expiresAt time.Time) error {
	const sql = `insert into refresh_tokens (token_hash, session_id, expires_at) values ($1, $2, $3)`
	_, err := q.db.Exec(ctx, sql, hash, sessionID, expiresAt)
	return mapErr(err, "insert refresh token")
}

// RefreshToken is a stored refresh token with its session.
type RefreshToken struct {
	Session   Session
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// UseRefreshToken locks the token row, marks it used and returns it as it
// was before. The row lock makes two concurrent uses of one token see each
// other: the second one sees UsedAt set.
func (q *Queries) UseRefreshToken(ctx context.Context, hash []byte) (RefreshToken, error) {
	const sql = `with old as (
			select t.token_hash, t.session_id, t.expires_at, t.used_at from refresh_tokens t
			where t.token_hash = $1 for update
		), mark as (
			update refresh_tokens t set used_at = coalesce(t.used_at, now())
			from old where t.token_hash = old.token_hash
		)
		select s.id, s.user_id, s.role, s.acting_for, s.expires_at, s.revoked_at, old.expires_at, old.used_at
		from old join auth_sessions s on s.id = old.session_id`
	var rt RefreshToken
	s := &rt.Session
	err := q.db.QueryRow(ctx, sql, hash).
		Scan(&s.ID, &s.UserID, &s.Role, &s.ActingFor, &s.ExpiresAt, &s.RevokedAt, &rt.ExpiresAt, &rt.UsedAt)
	return rt, mapErr(err, "use refresh token")
}

// SessionByRefreshToken finds the session a refresh token belongs to.
func (q *Queries) SessionByRefreshToken(ctx context.Context, hash []byte) (Session, error) {
	const sql = `select s.id, s.user_id, s.role, s.acting_for, s.expires_at, s.revoked_at
		from refresh_tokens t join auth_sessions s on s.id = t.session_id
		where t.token_hash = $1`
	var s Session
	err := q.db.QueryRow(ctx, sql, hash).Scan(&s.ID, &s.UserID, &s.Role, &s.ActingFor, &s.ExpiresAt, &s.RevokedAt)
	return s, mapErr(err, "select session by refresh token")
}

// RevokeUserSessions revokes every live session of a user.
func (q *Queries) RevokeUserSessions(ctx context.Context, userID uuid.UUID, reason RevokeReason) error {
	const sql = `update auth_sessions set revoked_at = now(), revoke_reason = $2 where user_id = $1 and revoked_at is null`
	_, err := q.db.Exec(ctx, sql, userID, reason)
	return mapErr(err, "revoke user sessions")
}

// RevokeRole takes a role from a user; false when the user did not hold it.
func (q *Queries) RevokeRole(ctx context.Context, userID uuid.UUID, role string, org *uuid.UUID) (bool, error) {
	const sql = `delete from role_grants where user_id = $1 and role = $2 and acting_for is not distinct from $3`
	tag, err := q.db.Exec(ctx, sql, userID, role, org)
	return tag.RowsAffected() > 0, mapErr(err, "delete role grant")
}

// UserExists reports whether a user with id exists and is not erased.
func (q *Queries) UserExists(ctx context.Context, id uuid.UUID) (bool, error) {
	var ok bool
	err := q.db.QueryRow(ctx, `select exists (select 1 from users where id = $1 and erased_at is null)`, id).Scan(&ok)
	return ok, mapErr(err, "select user exists")
}

// ErasePersonalData irreversibly replaces a user's name, e-mail and phone,
// forgets its IP history (sessions, audit IPs) and allow-list, and
// pseudonymises the customers, developers and partners only this user acts
// for. Ids stay, so invoices, payments and the ledger keep their links.
// It reports whether a developer was renamed (the storefront shows them).
func (q *Queries) ErasePersonalData(ctx context.Context, userID uuid.UUID) (developerRenamed bool, err error) {
	const sql = `with
		erased_user as (
			update users set email = 'erased-' || replace(id::text, '-', '') || '@erased.invalid',
				name = 'Erased user', phone = null, password_hash = '!', allowed_networks = '{}',
				erased_at = now(), updated_at = now()
			where id = $1 and erased_at is null
			returning id),
		sessions as (
			update auth_sessions set ip = null, user_agent = null where user_id = $1 and (ip is not null or user_agent is not null)),
		ips as (
			delete from audit_log_ips where actor_user_id = $1),
		sole as (
			select g.customer_id, g.developer_id, g.partner_id from role_grants g
			where g.user_id = $1 and g.role <> 'admin'
				and not exists (select 1 from role_grants o where o.acting_for = g.acting_for and o.user_id <> $1)),
		customers_erased as (
			update customers set name = 'Erased customer ' || left(id::text, 8), inn = null
			where id in (select customer_id from sole)),
		partners_erased as (
			update partners set name = 'Erased partner ' || left(id::text, 8), inn = null, website = null
			where id in (select partner_id from sole)),
		developers_erased as (
			update developers set name = 'Erased developer ' || left(id::text, 8),
				slug = 'erased-' || replace(id::text, '-', ''), bio = '', website = null
			where id in (select developer_id from sole)
			returning id)
		select (select count(*) from erased_user), (select count(*) from developers_erased)`
	var users, developers int
	if err := q.db.QueryRow(ctx, sql, userID).Scan(&users, &developers); err != nil {
		return false, mapErr(err, "erase personal data")
	}
	if users == 0 {
		return false, apperr.NotFound("user")
	}
	return developers > 0, nil
}
