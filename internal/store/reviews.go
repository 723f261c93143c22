package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Review is a customer's rating and text for a configuration.
type Review struct {
	ID              uuid.UUID
	ConfigurationID uuid.UUID
	CustomerID      uuid.UUID
	AuthorUserID    *uuid.UUID
	// AuthorName is the customer company's name, shown publicly.
	AuthorName string
	Rating     int
	Body       string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

const reviewColumns = `r.id, r.configuration_id, r.customer_id, r.author_user_id, cu.name, r.rating, r.body, r.created_at, r.updated_at`

// cardReviewColumns are a review's columns but whose it is, for a card
// that knows.
const cardReviewColumns = `r.id, r.customer_id, r.author_user_id, r.author_name, r.rating, r.body, r.created_at, r.updated_at`

func (r *Review) cardTargets(dst []any) []any {
	return append(dst, &r.ID, &r.CustomerID, &r.AuthorUserID, &r.AuthorName, &r.Rating, &r.Body, &r.CreatedAt, &r.UpdatedAt)
}

func scanReview(row pgx.CollectableRow) (Review, error) {
	var r Review
	err := row.Scan(&r.ID, &r.ConfigurationID, &r.CustomerID, &r.AuthorUserID, &r.AuthorName, &r.Rating, &r.Body, &r.CreatedAt, &r.UpdatedAt)
	return r, err
}

// ReviewsByIDs returns reviews by id; the caller checks visibility.
func (q *Queries) ReviewsByIDs(ctx context.Context, ids []uuid.UUID) ([]Review, error) {
	const sql = `select ` + reviewColumns + ` from reviews r join customers cu on cu.id = r.customer_id where r.id = any($1)`
	return list(ctx, q.db, "select reviews", scanReview, sql, ids)
}

// NewestReviews returns up to perParent newest reviews of each configuration.
func (q *Queries) NewestReviews(ctx context.Context, configurationIDs []uuid.UUID, perParent int) ([]Review, error) {
	const sql = `select ` + reviewColumns + ` from (
			select r.*, row_number() over (partition by r.configuration_id order by r.created_at desc, r.id desc) as n
			from reviews r where r.configuration_id = any($1)
		) r
		join customers cu on cu.id = r.customer_id
		where r.n <= $2
		order by r.configuration_id, r.created_at desc, r.id desc`
	return list(ctx, q.db, "select newest reviews", scanReview, sql, configurationIDs, perParent)
}

// ReviewsPage lists one configuration's reviews newest first after key.
func (q *Queries) ReviewsPage(ctx context.Context, configurationID uuid.UUID, after *TimeKey, limit int) ([]Review, error) {
	const sql = `select ` + reviewColumns + ` from reviews r join customers cu on cu.id = r.customer_id
		where r.configuration_id = $1 and ($2::boolean is not true or (r.created_at, r.id) < ($3, $4))
		order by r.created_at desc, r.id desc
		limit $5`
	k := after.OrZero()
	return list(ctx, q.db, "select reviews page", scanReview, sql, configurationID, after != nil, k.At, k.ID, limit)
}

// HasInstalled reports whether a customer has, or had, an installation of
// the configuration (a trial counts).
func (q *Queries) HasInstalled(ctx context.Context, customerID, configurationID uuid.UUID) (bool, error) {
	const sql = `select exists (select 1 from installations where customer_id = $1 and configuration_id = $2)`
	var ok bool
	err := q.db.QueryRow(ctx, sql, customerID, configurationID).Scan(&ok)
	return ok, mapErr(err, "select has installed")
}

// CreateReview inserts a review; the rating counters follow by trigger.
func (q *Queries) CreateReview(ctx context.Context, configurationID, customerID, authorUserID uuid.UUID, rating int, body string) (Review, error) {
	const sql = `with r as (
			insert into reviews (configuration_id, customer_id, author_user_id, rating, body)
			values ($1, $2, $3, $4, $5) returning *
		)
		select ` + reviewColumns + ` from r join customers cu on cu.id = r.customer_id`
	return one(ctx, q.db, "insert review", scanReview, sql, configurationID, customerID, authorUserID, rating, body)
}

// UpdateReview changes a review's rating and text.
func (q *Queries) UpdateReview(ctx context.Context, id uuid.UUID, authorUserID uuid.UUID, rating int, body string) (Review, error) {
	const sql = `with r as (
			update reviews set rating = $3, body = $4, author_user_id = $2, updated_at = now()
			where id = $1 returning *
		)
		select ` + reviewColumns + ` from r join customers cu on cu.id = r.customer_id`
	return one(ctx, q.db, "update review", scanReview, sql, id, authorUserID, rating, body)
}
