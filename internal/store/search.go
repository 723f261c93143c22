package store

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"configmarket/internal/relay"
)

// The admins' search of customers, developers, partners and users (issue
// 22 item 1): any part of a name, an e-mail, an INN or a CRM account id,
// case-insensitively, served by the trigram indexes of migration 0025.
// Each match clause reads its pattern as $1 (null: everything matches).

// Contains is the ILIKE pattern of a search term: its LIKE wildcards
// (and the escape character) match themselves.
func Contains(term *string) *string {
	if term == nil {
		return nil
	}
	p := "%" + likeEscaper.Replace(*term) + "%"
	return &p
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// NameKey is a keyset position in a by-name order.
type NameKey = relay.NameKey

// The match clauses. Each indexed column is its own branch of a union
// (an OR across columns and a subquery would scan the whole table); an
// organisation also matches by the e-mail or name of a user acting for it.
const (
	customerMatch = `($1::text is null or c.id in (
		select id from customers where name ilike $1
		union all select id from customers where inn ilike $1
		union all select id from customers where crm_account_id ilike $1
		union all select g.customer_id from role_grants g join users u on u.id = g.user_id
			where u.email ilike $1 or u.name ilike $1))`
	developerMatch = `($1::text is null or d.id in (
		select id from developers where name ilike $1
		union all select id from developers where slug ilike $1
		union all select g.developer_id from role_grants g join users u on u.id = g.user_id
			where u.email ilike $1 or u.name ilike $1))`
	partnerMatch = `($1::text is null or p.id in (
		select id from partners where name ilike $1
		union all select id from partners where inn ilike $1
		union all select g.partner_id from role_grants g join users u on u.id = g.user_id
			where u.email ilike $1 or u.name ilike $1))`
	userMatch = `($1::text is null or u.email ilike $1 or u.name ilike $1)`
)

// count runs a count(*) statement.
func (q *Queries) count(ctx context.Context, op, sql string, args ...any) (int, error) {
	var n int
	err := q.db.QueryRow(ctx, sql, args...).Scan(&n)
	return n, mapErr(err, op)
}

// CustomersPage lists customers matching search (a Contains pattern; nil:
// all) by name then id, strictly after the key if given.
func (q *Queries) CustomersPage(ctx context.Context, search *string, after *NameKey, limit int) ([]Customer, error) {
	const sql = `select ` + customerColumns + ` from customers c
		where ` + customerMatch + ` and ($2::boolean is not true or (c.name, c.id) > ($3, $4))
		order by c.name, c.id
		limit $5`
	k := after.OrZero()
	return list(ctx, q.db, "select customers page", scanCustomer, sql, search, after != nil, k.Name, k.ID, limit)
}

// CustomersCount counts the customers matching search.
func (q *Queries) CustomersCount(ctx context.Context, search *string) (int, error) {
	return q.count(ctx, "count customers", `select count(*) from customers c where `+customerMatch, search)
}

// PartnersPage lists partners matching search by name then id.
func (q *Queries) PartnersPage(ctx context.Context, search *string, after *NameKey, limit int) ([]Partner, error) {
	const sql = `select ` + partnerColumns + ` from partners p
		where ` + partnerMatch + ` and ($2::boolean is not true or (p.name, p.id) > ($3, $4))
		order by p.name, p.id
		limit $5`
	k := after.OrZero()
	return list(ctx, q.db, "select partners page", scanPartner, sql, search, after != nil, k.Name, k.ID, limit)
}

// PartnersCount counts the partners matching search.
func (q *Queries) PartnersCount(ctx context.Context, search *string) (int, error) {
	return q.count(ctx, "count partners", `select count(*) from partners p where `+partnerMatch, search)
}

// UsersPage lists users matching search by name then id.
func (q *Queries) UsersPage(ctx context.Context, search *string, after *NameKey, limit int) ([]User, error) {
	const sql = `select ` + userColumns + ` from users u
		where ` + userMatch + ` and ($2::boolean is not true or (u.name, u.id) > ($3, $4))
		order by u.name, u.id
		limit $5`
	k := after.OrZero()
	return list(ctx, q.db, "select users page", func(r pgx.CollectableRow) (User, error) { return scanUser(r) }, sql,
		search, after != nil, k.Name, k.ID, limit)
}

// UsersCount counts the users matching search.
func (q *Queries) UsersCount(ctx context.Context, search *string) (int, error) {
	return q.count(ctx, "count users", `select count(*) from users u where `+userMatch, search)
}
