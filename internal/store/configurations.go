package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"configmarket/internal/relay"
)

// ConfigurationState is where a configuration stands in its life cycle.
type ConfigurationState string

const (
	ConfigurationDraft     ConfigurationState = "draft"
	ConfigurationPublished ConfigurationState = "published"
	ConfigurationSuspended ConfigurationState = "suspended"
	ConfigurationArchived  ConfigurationState = "archived"
)

// Visibility is who may find a configuration.
type Visibility string

const (
	VisibilityPublic   Visibility = "public"
	VisibilityUnlisted Visibility = "unlisted"
	VisibilityPrivate  Visibility = "private"
)

// SupportMode is who supports a configuration's customers; it sets the
// developer's share.
type SupportMode string

const (
	SupportDeveloper SupportMode = "developer"
	SupportPlatform  SupportMode = "platform"
)

// Configuration is a configuration's row, counters included.
type Configuration struct {
	ID                  uuid.UUID
	DeveloperID         uuid.UUID
	Slug                string
	Title               string
	Summary             string
	Description         string
	CategoryID          *uuid.UUID
	Tags                []string
	Screenshots         []string
	Visibility          Visibility
	SellsRent           bool
	SellsPurchase       bool
	SupportMode         SupportMode
	TrialDays           int
	State               ConfigurationState
	RatingCount         int
	RatingSum           int
	ActiveInstallations int
	SuspendedReason     *string
	CreatedAt           time.Time
	UpdatedAt           time.Time
	PublishedAt         *time.Time
}

const configurationColumns = `c.id, c.developer_id, c.slug, c.title, c.summary, c.description, c.category_id,
	c.tags, c.screenshots, c.visibility, c.sells_rent, c.sells_purchase, c.support_mode, c.trial_days, c.state,
	c.rating_count, c.rating_sum, c.active_installations, c.suspended_reason, c.created_at, c.updated_at, c.published_at`

// configurationCardColumns are the columns a storefront card needs
// whatever it shows: its identity, who owns it, whether it is for sale and
// its rating. The other columns (StorefrontQuery.Details) are read only when
// a page shows one of them.
const configurationCardColumns = `c.id, c.developer_id, c.slug, c.title, c.visibility, c.sells_rent, c.sells_purchase,
	c.state, c.rating_count, c.rating_sum, c.active_installations`

// The targets of typed vocabularies are their strings: scanCommon decodes
// *string without a pgx plan and shares the few values every row repeats
// (text), which a *ConfigurationState target would lose.
func (c *Configuration) cardTargets(dst []any) []any {
	return append(dst, &c.ID, &c.DeveloperID, &c.Slug, &c.Title, (*string)(&c.Visibility), &c.SellsRent, &c.SellsPurchase,
		(*string)(&c.State), &c.RatingCount, &c.RatingSum, &c.ActiveInstallations)
}

func (c *Configuration) scanTargets(dst []any) []any {
	return append(dst, &c.ID, &c.DeveloperID, &c.Slug, &c.Title, &c.Summary, &c.Description, &c.CategoryID,
		&c.Tags, &c.Screenshots, (*string)(&c.Visibility), &c.SellsRent, &c.SellsPurchase, (*string)(&c.SupportMode), &c.TrialDays, (*string)(&c.State),
		&c.RatingCount, &c.RatingSum, &c.ActiveInstallations, &c.SuspendedReason, &c.CreatedAt, &c.UpdatedAt, &c.PublishedAt)
}

func scanConfiguration(r pgx.CollectableRow) (Configuration, error) {
	var c Configuration
	err := r.Scan(c.scanTargets(nil)...)
	return c, err
}

// Scope is what a viewer may see of the catalog; the domain decides it, the
// SQL below applies it.
type Scope struct {
	// All sees every configuration in every state (admins).
	All bool
	// DeveloperID sees its own configurations in every state.
	DeveloperID *uuid.UUID
	// CustomerID additionally sees private configurations it was invited
	// to and any configuration it has an installation of.
	CustomerID *uuid.UUID
}

// visibleTo is the one visibility predicate over configurations c; its
// parameters are $1 (all), $2 (developer) and $3 (customer).
const visibleTo = `($1::boolean
	or c.developer_id = $2::uuid
	or (c.state = 'published' and (c.visibility <> 'private'
		or exists (select 1 from configuration_invites i where i.configuration_id = c.id and i.customer_id = $3::uuid)))
	or exists (select 1 from installations ins where ins.configuration_id = c.id and ins.customer_id = $3::uuid))`

func (s Scope) args() []any { return []any{s.All, s.DeveloperID, s.CustomerID} }

// ConfigurationsByIDs returns the configurations among ids visible in scope.
func (q *Queries) ConfigurationsByIDs(ctx context.Context, ids []uuid.UUID, scope Scope) ([]Configuration, error) {
	const sql = `select ` + configurationColumns + ` from configurations c where c.id = any($4) and ` + visibleTo
	return list(ctx, q.db, "select configurations", scanConfiguration, sql, append(scope.args(), ids)...)
}

// ConfigurationCardBySlug finds a configuration visible in scope, with the
// rows its page shows (with), in one statement: the configuration page
// took five, one per kind of row.
func (q *Queries) ConfigurationCardBySlug(ctx context.Context, slug string, scope Scope, with CardRowsWanted) (Configuration, CardRows, error) {
	args := sqlArgs(append(scope.args(), slug))
	sql := `select ` + configurationColumns + cardSelects(&args, with) + ` from configurations c where c.slug = $4 and ` + visibleTo
	rows, err := q.db.Query(ctx, sql, args...)
	if err != nil {
		return Configuration{}, CardRows{}, mapErr(err, "select configuration card")
	}
	types := rows.Conn().TypeMap()
	values := new(arena)
	fields, columns := rows.FieldDescriptions(), fieldDecoder{types: types, values: values}
	cards := newCardDecoder(types, values, with)
	type configurationCard struct {
		Configuration
		card CardRows
	}
	out, err := pgx.CollectExactlyOneRow(rows, func(r pgx.CollectableRow) (configurationCard, error) {
		var c configurationCard
		raw := r.RawValues()
		targets := c.Configuration.scanTargets(nil)
		if err := columns.row(fields, raw, targets); err != nil {
			return c, err
		}
		var err error
		c.card, err = cards.decode(c.ID, raw[len(targets):])
		return c, err
	})
	return out.Configuration, out.card, mapErr(err, "select configuration card")
}

// LockConfiguration reads a configuration for a change, holding its row
// lock to the end of the transaction so concurrent changes serialise.
func (q *Queries) LockConfiguration(ctx context.Context, id uuid.UUID) (Configuration, error) {
	const sql = `select ` + configurationColumns + ` from configurations c where c.id = $1 for update`
	return one(ctx, q.db, "lock configuration", scanConfiguration, sql, id)
}

// ConfigurationFields are the fields a developer edits.
type ConfigurationFields struct {
	Slug          string
	Title         string
	Summary       string
	Description   string
	CategoryID    *uuid.UUID
	Tags          []string
	Screenshots   []string
	Visibility    Visibility
	SellsRent     bool
	SellsPurchase bool
	SupportMode   SupportMode
	TrialDays     int
}

// CreateConfiguration inserts a draft configuration.
func (q *Queries) CreateConfiguration(ctx context.Context, developerID uuid.UUID, f ConfigurationFields) (Configuration, error) {
	const sql = `insert into configurations as c (developer_id, slug, title, summary, description, category_id, tags,
			screenshots, visibility, sells_rent, sells_purchase, support_mode, trial_days)
		values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		returning ` + configurationColumns
	return one(ctx, q.db, "insert configuration", scanConfiguration, sql, developerID, f.Slug, f.Title, f.Summary,
		f.Description, f.CategoryID, f.Tags, f.Screenshots, f.Visibility, f.SellsRent, f.SellsPurchase, f.SupportMode, f.TrialDays)
}

// UpdateConfiguration replaces the editable fields.
func (q *Queries) UpdateConfiguration(ctx context.Context, id uuid.UUID, f ConfigurationFields) (Configuration, error) {
	const sql = `update configurations as c set slug = $2, title = $3, summary = $4, description = $5, category_id = $6,
			tags = $7, screenshots = $8, visibility = $9, sells_rent = $10, sells_purchase = $11, support_mode = $12,
			trial_days = $13, updated_at = now()
		where c.id = $1
		returning ` + configurationColumns
	return one(ctx, q.db, "update configuration", scanConfiguration, sql, id, f.Slug, f.Title, f.Summary,
		f.Description, f.CategoryID, f.Tags, f.Screenshots, f.Visibility, f.SellsRent, f.SellsPurchase, f.SupportMode, f.TrialDays)
}

// SetConfigurationState moves a configuration to state; publishing stamps
// published_at once.
func (q *Queries) SetConfigurationState(ctx context.Context, id uuid.UUID, state ConfigurationState, suspendedReason *string) (Configuration, error) {
	const sql = `update configurations as c set state = $2, suspended_reason = $3, updated_at = now(),
			published_at = case when $2 = 'published' then coalesce(c.published_at, now()) else c.published_at end
		where c.id = $1
		returning ` + configurationColumns
	return one(ctx, q.db, "set configuration state", scanConfiguration, sql, id, state, suspendedReason)
}

// TitleTakenByAnother reports whether another live configuration has the
// same title, case and surrounding spaces ignored.
func (q *Queries) TitleTakenByAnother(ctx context.Context, id uuid.UUID, title string) (bool, error) {
	const sql = `select exists (select 1 from configurations
		where lower(title) = lower(trim($2)) and id <> $1 and state <> 'archived')`
	var taken bool
	err := q.db.QueryRow(ctx, sql, id, title).Scan(&taken)
	return taken, mapErr(err, "select title taken")
}

// InviteCustomer lets a customer see and install a private configuration.
func (q *Queries) InviteCustomer(ctx context.Context, configurationID, customerID uuid.UUID) error {
	const sql = `insert into configuration_invites (configuration_id, customer_id) values ($1, $2) on conflict do nothing`
	_, err := q.db.Exec(ctx, sql, configurationID, customerID)
	return mapErr(err, "insert invite")
}

// DeveloperConfigurationsPage lists a developer's configurations visible in
// scope, newest first, after the (created_at, id) key if given.
func (q *Queries) DeveloperConfigurationsPage(ctx context.Context, developerID uuid.UUID, scope Scope, after *TimeKey, limit int) ([]Configuration, error) {
	const sql = `select ` + configurationColumns + ` from configurations c
		where c.developer_id = $4 and ` + visibleTo + `
			and ($5::boolean is not true or (c.created_at, c.id) < ($6, $7))
		order by c.created_at desc, c.id desc
		limit $8`
	k := after.OrZero()
	args := append(scope.args(), developerID, after != nil, k.At, k.ID, limit)
	return list(ctx, q.db, "select developer configurations", scanConfiguration, sql, args...)
}

// TimeKey is a keyset position in a newest-first order.
type TimeKey = relay.TimeKey

// Category groups configurations in the storefront.
type Category struct {
	ID       uuid.UUID
	Slug     string
	Name     string
	Position int
}

func scanCategory(r pgx.CollectableRow) (Category, error) {
	var c Category
	err := r.Scan(&c.ID, &c.Slug, &c.Name, &c.Position)
	return c, err
}

// Categories lists the categories in display order.
func (q *Queries) Categories(ctx context.Context) ([]Category, error) {
	const sql = `select id, slug, name, position from categories order by position, slug`
	return list(ctx, q.db, "select categories", scanCategory, sql)
}

// CategoryBySlug finds a category.
func (q *Queries) CategoryBySlug(ctx context.Context, slug string) (Category, error) {
	const sql = `select id, slug, name, position from categories where slug = $1`
	return one(ctx, q.db, "select category", scanCategory, sql, slug)
}

// StorefrontOrder is a sort of the storefront listing.
type StorefrontOrder int

const (
	OrderPopularity StorefrontOrder = iota
	OrderNewest
	OrderRating
	OrderPrice
	OrderRelevance
)

// sortKeys are the fixed SQL expressions each order sorts by, and the type
// their cursor value is cast back to. Values never enter this SQL.
var sortKeys = map[StorefrontOrder]struct{ expr, cast string }{
	// The bare column, so configurations_storefront_idx serves the order
	// (a cast would hide it and sort every public configuration).
	OrderPopularity: {"c.active_installations", "integer"},
	OrderNewest:     {"c.published_at", "timestamptz"},
	OrderRating:     {"(case when c.rating_count = 0 then 0 else round(c.rating_sum::numeric / c.rating_count, 4) end)", "numeric"},
	// Configurations without a rent price on the plan sort last.
	OrderPrice:     {"coalesce(rp.amount_minor, 9223372036854775807)", "bigint"},
	OrderRelevance: {"round((ts_rank(c.search, sq.q) + word_similarity(sq.raw, c.title))::numeric, 6)", "numeric"},
}

// StorefrontQuery is a page of the public storefront.
type StorefrontQuery struct {
	// Search is the raw text; Prefix a sanitized "w1:* & w2:*" tsquery.
	Search      string
	Prefix      string
	CategoryID  *uuid.UUID
	Tags        []string
	SellsRent   *bool
	SellsSale   *bool
	HasTrial    *bool
	DeveloperID *uuid.UUID
	// PlanID is the plan whose rent price is filtered on and sorted by.
	PlanID   *uuid.UUID
	MinPrice *int64
	MaxPrice *int64
	Order    StorefrontOrder
	Desc     bool
	// After is the cursor position: the sort key as text and the id.
	After *SortKey
	Limit int
	// Description reads each configuration's description, a kilobyte a
	// card and most of a page's bytes; a page that does not show it leaves
	// it empty.
	Description bool
	// Details reads the configuration's columns beyond its card's
	// (configurationCardColumns): summary, category, tags, screenshots,
	// support mode, trial days, times and suspension reason. A page that
	// shows none of them leaves them empty (a tenth of the statement's
	// database time).
	Details bool
	// With names what the page's cards show besides the configuration,
	// read by the same statement.
	With CardRowsWanted
}

// SortKey is a keyset position: the sort expression's value and the id.
type SortKey struct {
	Value string
	ID    uuid.UUID
}

// StorefrontRows are a storefront page: its configurations, each one's
// keyset position and the rows its card shows, at the same index. Kept
// apart, the page's configurations and cards are handed on as read, not
// copied out of rows that hold all three.
type StorefrontRows struct {
	Configurations []Configuration
	Keys           []SortKey
	Cards          []CardRows
}

// StorefrontPage lists public, published configurations. The statement is
// put together from fixed fragments, only those the query uses, so each
// shape of listing is its own prepared statement with a plan PostgreSQL
// keeps (a catch-all statement with "$n is null or …" for every filter was
// planned anew on every execution, which cost more than running it); every
// value is a parameter.
func (q *Queries) StorefrontPage(ctx context.Context, sq StorefrontQuery) (StorefrontRows, error) {
	key, ok := sortKeys[sq.Order]
	if !ok {
		return StorefrontRows{}, fmt.Errorf("store: unknown storefront order %d", sq.Order)
	}
	cmp, dir := ">", "asc"
	if sq.Desc {
		cmp, dir = "<", "desc"
	}
	var args sqlArgs
	var with, joins string
	where := []string{"c.state = 'published'", "c.visibility = 'public'"}
	if sq.Search != "" || sq.Order == OrderRelevance {
		raw, prefix := args.add(sq.Search), args.add(sq.Prefix)
		with = `with sq as (
			select ` + raw + `::text as raw,
				websearch_to_tsquery('russian', ` + raw + `) || websearch_to_tsquery('english', ` + raw + `)
					|| case when ` + prefix + ` = '' then ''::tsquery else to_tsquery('simple', ` + prefix + `) end as q
		) `
		joins += ` cross join sq`
	}
	if sq.Search != "" {
		where = append(where, "(c.search @@ sq.q or sq.raw <% c.title)")
	}
	if sq.MinPrice != nil || sq.MaxPrice != nil || sq.Order == OrderPrice {
		// One plan's price in force, the newest row not in the future,
		// read backwards along prices_unique. Asked through the spans
		// (pricesInForce), the price order read the whole price table.
		joins += ` left join lateral (
			select p.amount_minor from prices p
			where p.configuration_id = c.id and p.kind = 'rent' and p.tariff_plan_id = ` + args.add(sq.PlanID) + `::uuid and p.valid_from <= now()
			order by p.valid_from desc limit 1
		) rp on true`
	}
	if sq.CategoryID != nil {
		where = append(where, "c.category_id = "+args.add(*sq.CategoryID))
	}
	if len(sq.Tags) > 0 {
		where = append(where, "c.tags @> "+args.add(sq.Tags)+"::text[]")
	}
	if sq.SellsRent != nil {
		where = append(where, "c.sells_rent = "+args.add(*sq.SellsRent))
	}
	if sq.SellsSale != nil {
		where = append(where, "c.sells_purchase = "+args.add(*sq.SellsSale))
	}
	if sq.HasTrial != nil {
		where = append(where, "(c.trial_days > 0) = "+args.add(*sq.HasTrial))
	}
	if sq.DeveloperID != nil {
		where = append(where, "c.developer_id = "+args.add(*sq.DeveloperID))
	}
	if sq.MinPrice != nil {
		where = append(where, "rp.amount_minor >= "+args.add(*sq.MinPrice))
	}
	if sq.MaxPrice != nil {
		where = append(where, "rp.amount_minor <= "+args.add(*sq.MaxPrice))
	}
	if sq.After != nil {
		where = append(where, "(("+key.expr+"), c.id) "+cmp+" ("+args.add(sq.After.Value)+"::"+key.cast+", "+args.add(sq.After.ID)+"::uuid)")
	}
	// The page is chosen first, then each of its few rows reads its card's
	// rows by index (cardSelects): one statement and one round trip for
	// what used to take four, and no join ever runs over more than the
	// page. Limits are written into the statement: given as parameters,
	// they kept PostgreSQL from settling on a generic plan, and it planned
	// every execution anew (0.25 ms, a third of the statement's run).
	columns, pageTargets := configurationColumns, (*Configuration).scanTargets
	if !sq.Details && !sq.Description {
		columns, pageTargets = configurationCardColumns, (*Configuration).cardTargets
	}
	inner := columns
	if !sq.Description {
		inner = strings.Replace(columns, "c.description", "''::text as description", 1)
	}
	card := cardSelects(&args, sq.With)
	sql := with + `select ` + columns + `, c.sort_key::text` + card + `
		from (
			select ` + inner + `, ` + key.expr + ` as sort_key
			from configurations c` + joins + `
			where ` + strings.Join(where, " and ") + `
			order by ` + key.expr + ` ` + dir + `, c.id ` + dir + `
			limit ` + strconv.Itoa(sq.Limit) + `
		) c
		order by c.sort_key ` + dir + `, c.id ` + dir
	if sq.Search != "" {
		// A search is planned for its words each time: the plan PostgreSQL
		// keeps for a prepared search estimates any words alike and ran
		// the bench's searches 1.7× slower than a plan made for them.
		args = append([]any{pgx.QueryExecModeCacheDescribe}, args...)
	}
	rows, err := q.db.Query(ctx, sql, args...)
	if err != nil {
		return StorefrontRows{}, mapErr(err, "select storefront")
	}
	defer rows.Close()
	types := rows.Conn().TypeMap()
	values := new(arena)
	// The page's own columns are decoded like its cards' records: pgx's
	// Scan plans every column of every row through reflection.
	fields, page := rows.FieldDescriptions(), fieldDecoder{types: types, values: values}
	var targets []any
	cards := newCardDecoder(types, values, sq.With)
	out := StorefrontRows{
		Configurations: make([]Configuration, 0, sq.Limit), Keys: make([]SortKey, 0, sq.Limit), Cards: make([]CardRows, 0, sq.Limit),
	}
	for i := 0; rows.Next(); i++ {
		// Decoded in place: the scan targets point into the page's slices.
		out.Configurations, out.Keys = append(out.Configurations, Configuration{}), append(out.Keys, SortKey{})
		c, key := &out.Configurations[i], &out.Keys[i]
		raw := rows.RawValues()
		targets = append(pageTargets(c, targets[:0]), &key.Value)
		if err := page.row(fields, raw, targets); err != nil {
			return StorefrontRows{}, mapErr(err, "select storefront")
		}
		key.ID = c.ID
		card, err := cards.decode(c.ID, raw[len(targets):])
		if err != nil {
			return StorefrontRows{}, mapErr(err, "select storefront")
		}
		out.Cards = append(out.Cards, card)
	}
	if err := rows.Err(); err != nil {
		return StorefrontRows{}, mapErr(err, "select storefront")
	}
	return out, nil
}
