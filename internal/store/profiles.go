package store

import (
	"context"

	"github.com/google/uuid"
)

// UpdateUserProfile writes a user's name and phone unless the user's
// personal data was erased: the check is on the row being updated, so an
// erasure that commits first re-evaluates it and wins. NotFound when the
// user is gone or erased.
func (q *Queries) UpdateUserProfile(ctx context.Context, userID uuid.UUID, name string, phone *string) (User, error) {
	const sql = `update users set name = $2, phone = $3, updated_at = now()
		where id = $1 and erased_at is null
		returning ` + userColumns
	u, err := scanUser(q.db.QueryRow(ctx, sql, userID, name, phone))
	return u, mapErr(err, "update user profile")
}

// LockDeveloper reads a developer for a profile edit and locks its row for
// the rest of the transaction (an erasure waits for it, or it for the
// erasure).
func (q *Queries) LockDeveloper(ctx context.Context, id uuid.UUID) (Developer, error) {
	const sql = `select ` + developerColumns + ` from developers where id = $1 for no key update`
	return one(ctx, q.db, "lock developer", scanDeveloper, sql, id)
}

// LockCustomer reads a customer for a profile edit and locks its row.
func (q *Queries) LockCustomer(ctx context.Context, id uuid.UUID) (Customer, error) {
	const sql = `select ` + customerColumns + ` from customers where id = $1 for no key update`
	return one(ctx, q.db, "lock customer", scanCustomer, sql, id)
}

// OrganisationErased reports whether the customer, developer or partner id
// was pseudonymised by an erasure: some user that acted for it is erased
// and no user that is not acts for it any more.
func (q *Queries) OrganisationErased(ctx context.Context, id uuid.UUID) (bool, error) {
	const sql = `select exists (select 1 from role_grants g join users u on u.id = g.user_id
			where g.acting_for = $1 and u.erased_at is not null)
		and not exists (select 1 from role_grants g join users u on u.id = g.user_id
			where g.acting_for = $1 and u.erased_at is null)`
	var erased bool
	err := q.db.QueryRow(ctx, sql, id).Scan(&erased)
	return erased, mapErr(err, "select organisation erased")
}

// DeveloperHasPublished reports whether any configuration of the developer
// was ever published (published_at stays set when it is later suspended or
// archived).
func (q *Queries) DeveloperHasPublished(ctx context.Context, id uuid.UUID) (bool, error) {
	const sql = `select exists (select 1 from configurations where developer_id = $1 and published_at is not null)`
	var published bool
	err := q.db.QueryRow(ctx, sql, id).Scan(&published)
	return published, mapErr(err, "select developer published")
}

// UpdateDeveloperProfile writes a developer's public profile.
func (q *Queries) UpdateDeveloperProfile(ctx context.Context, d Developer) (Developer, error) {
	const sql = `update developers set slug = $2, name = $3, bio = $4, website = $5 where id = $1
		returning ` + developerColumns
	return one(ctx, q.db, "update developer profile", scanDeveloper, sql, d.ID, d.Slug, d.Name, d.Bio, d.Website)
}

// UpdatePartnerProfile writes a partner's name, INN and website.
func (q *Queries) UpdatePartnerProfile(ctx context.Context, p Partner) (Partner, error) {
	const sql = `update partners set name = $2, inn = $3, website = $4 where id = $1 returning ` + partnerColumns
	return one(ctx, q.db, "update partner profile", scanPartner, sql, p.ID, p.Name, p.INN, p.Website)
}

// UpdateCustomerProfile writes a customer's organisation name and INN.
func (q *Queries) UpdateCustomerProfile(ctx context.Context, c Customer) (Customer, error) {
	const sql = `update customers set name = $2, inn = $3 where id = $1 returning ` + customerColumns
	return one(ctx, q.db, "update customer profile", scanCustomer, sql, c.ID, c.Name, c.INN)
}
