package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"configmarket/internal/apperr"
	"configmarket/internal/money"
)

// TariffPlan is a platform plan by number of CRM users (SPEC §3).
type TariffPlan struct {
	ID           uuid.UUID
	Code         string
	Name         string
	MaxUsers     int
	MonthlyPrice money.Money
	IsDefault    bool
}

const tariffPlanColumns = `id, code, name, max_users, monthly_price_minor, currency, is_default`

func scanTariffPlan(r pgx.CollectableRow) (TariffPlan, error) {
	var p TariffPlan
	err := r.Scan(&p.ID, &p.Code, &p.Name, &p.MaxUsers, &p.MonthlyPrice.Minor, &p.MonthlyPrice.Currency, &p.IsDefault)
	return p, err
}

// TariffPlans lists every plan, smallest first.
func (q *Queries) TariffPlans(ctx context.Context) ([]TariffPlan, error) {
	const sql = `select ` + tariffPlanColumns + ` from tariff_plans order by max_users, code`
	return list(ctx, q.db, "select tariff plans", scanTariffPlan, sql)
}

// TariffPlanByCode finds a plan by its letter.
func (q *Queries) TariffPlanByCode(ctx context.Context, code string) (TariffPlan, error) {
	const sql = `select ` + tariffPlanColumns + ` from tariff_plans where code = $1`
	return one(ctx, q.db, "select tariff plan", scanTariffPlan, sql, code)
}

// DefaultTariffPlan is the plan new customers start on.
func (q *Queries) DefaultTariffPlan(ctx context.Context) (TariffPlan, error) {
	const sql = `select ` + tariffPlanColumns + ` from tariff_plans where is_default`
	return one(ctx, q.db, "select default tariff plan", scanTariffPlan, sql)
}

// TariffPlansByIDs returns the plans among ids.
func (q *Queries) TariffPlansByIDs(ctx context.Context, ids []uuid.UUID) ([]TariffPlan, error) {
	const sql = `select ` + tariffPlanColumns + ` from tariff_plans where id = any($1)`
	return list(ctx, q.db, "select tariff plans by id", scanTariffPlan, sql, ids)
}

// Developer is a developer's row; which fields a viewer sees is the domain's
// decision.
type Developer struct {
	ID                  uuid.UUID
	Slug                string
	Name                string
	Bio                 string
	Website             *string
	Status              string
	KnowledgeTestPassed bool
	WebsiteInfo         bool
	ContractSigned      bool
	CreatedAt           time.Time
}

const developerColumns = `id, slug, name, bio, website, status, knowledge_test_passed, website_info, contract_signed, created_at`

// developerSummaryColumns are what a storefront card shows of its developer.
const developerSummaryColumns = `id, slug, name`

func (d *Developer) summaryTargets(dst []any) []any {
	return append(dst, &d.ID, &d.Slug, &d.Name)
}

func (d *Developer) scanTargets(dst []any) []any {
	return append(dst, &d.ID, &d.Slug, &d.Name, &d.Bio, &d.Website, &d.Status,
		&d.KnowledgeTestPassed, &d.WebsiteInfo, &d.ContractSigned, &d.CreatedAt)
}

func scanDeveloper(r pgx.CollectableRow) (Developer, error) {
	var d Developer
	err := r.Scan(d.scanTargets(nil)...)
	return d, err
}

// CreateDeveloper inserts a developer organisation.
func (q *Queries) CreateDeveloper(ctx context.Context, slug, name string) (Developer, error) {
	const sql = `insert into developers (slug, name) values ($1, $2) returning ` + developerColumns
	return one(ctx, q.db, "insert developer", scanDeveloper, sql, slug, name)
}

// DevelopersByIDs returns the developers among ids.
func (q *Queries) DevelopersByIDs(ctx context.Context, ids []uuid.UUID) ([]Developer, error) {
	const sql = `select ` + developerColumns + ` from developers where id = any($1)`
	return list(ctx, q.db, "select developers", scanDeveloper, sql, ids)
}

// DeveloperKey is the keyset position of a developer in the by-name order.
type DeveloperKey = NameKey

// DevelopersPage lists up to limit developers ordered by name then id,
// strictly after the key if given, matching search (a Contains pattern;
// nil: all).
func (q *Queries) DevelopersPage(ctx context.Context, search *string, after *DeveloperKey, limit int) ([]Developer, error) {
	const sql = `select ` + developerColumns + ` from developers d
		where ` + developerMatch + ` and ($2::boolean is not true or (d.name, d.id) > ($3, $4))
		order by d.name, d.id
		limit $5`
	k := after.OrZero()
	return list(ctx, q.db, "select developers page", scanDeveloper, sql, search, after != nil, k.Name, k.ID, limit)
}

// DevelopersCount counts the developers matching search.
func (q *Queries) DevelopersCount(ctx context.Context, search *string) (int, error) {
	return q.count(ctx, "count developers", `select count(*) from developers d where `+developerMatch, search)
}

// DeveloperBySlug finds a developer by its public handle.
func (q *Queries) DeveloperBySlug(ctx context.Context, slug string) (Developer, error) {
	const sql = `select ` + developerColumns + ` from developers where slug = $1`
	return one(ctx, q.db, "select developer by slug", scanDeveloper, sql, slug)
}

// Customer is a CRM account.
type Customer struct {
	ID           uuid.UUID
	Name         string
	INN          *string
	CRMAccountID *string
	TariffPlanID uuid.UUID
	CreatedAt    time.Time
}

const customerColumns = `id, name, inn, crm_account_id, tariff_plan_id, created_at`

func scanCustomer(r pgx.CollectableRow) (Customer, error) {
	var c Customer
	err := r.Scan(&c.ID, &c.Name, &c.INN, &c.CRMAccountID, &c.TariffPlanID, &c.CreatedAt)
	return c, err
}

// CreateCustomer inserts a CRM account on a plan.
func (q *Queries) CreateCustomer(ctx context.Context, name string, inn, crmAccountID *string, planID uuid.UUID) (Customer, error) {
	const sql = `insert into customers (name, inn, crm_account_id, tariff_plan_id) values ($1, $2, $3, $4)
		returning ` + customerColumns
	return one(ctx, q.db, "insert customer", scanCustomer, sql, name, inn, crmAccountID, planID)
}

// SetCRMAccountID links a customer that has no CRM account id yet to one.
// set is false when the customer already has one (or does not exist): the
// id is written once, and two concurrent calls cannot both write it. An id
// another customer holds violates customers_crm_account_id_key
// (CRM_ACCOUNT_TAKEN).
func (q *Queries) SetCRMAccountID(ctx context.Context, customerID uuid.UUID, crmAccountID string) (c Customer, set bool, err error) {
	const sql = `update customers set crm_account_id = $2 where id = $1 and crm_account_id is null
		returning ` + customerColumns
	c, err = one(ctx, q.db, "set crm account id", scanCustomer, sql, customerID, crmAccountID)
	if apperr.Is(err, apperr.KindNotFound) {
		return Customer{}, false, nil
	}
	return c, err == nil, err
}

// CustomersByIDs returns the customers among ids.
func (q *Queries) CustomersByIDs(ctx context.Context, ids []uuid.UUID) ([]Customer, error) {
	const sql = `select ` + customerColumns + ` from customers where id = any($1)`
	return list(ctx, q.db, "select customers", scanCustomer, sql, ids)
}

// Partner is a reseller or integrator.
type Partner struct {
	ID        uuid.UUID
	Name      string
	INN       *string
	Website   *string
	Status    string
	CreatedAt time.Time
}

const partnerColumns = `id, name, inn, website, status, created_at`

func scanPartner(r pgx.CollectableRow) (Partner, error) {
	var p Partner
	err := r.Scan(&p.ID, &p.Name, &p.INN, &p.Website, &p.Status, &p.CreatedAt)
	return p, err
}

// CreatePartner inserts a partner organisation, an agent, and the first row
// of its status history (decided by no admin).
func (q *Queries) CreatePartner(ctx context.Context, name string, inn *string) (Partner, error) {
	const sql = `with p as (
			insert into partners (name, inn) values ($1, $2) returning ` + partnerColumns + `),
		h as (
			insert into partner_status_history (partner_id, status, reason, decided_at)
			select id, status, $3, created_at from p)
		select ` + partnerColumns + ` from p`
	return one(ctx, q.db, "insert partner", scanPartner, sql, name, inn, PartnerSignedUpReason)
}

// PartnerSignedUpReason is the reason of a new partner's first status.
const PartnerSignedUpReason = "signed up"

// PartnersByIDs returns the partners among ids.
func (q *Queries) PartnersByIDs(ctx context.Context, ids []uuid.UUID) ([]Partner, error) {
	const sql = `select ` + partnerColumns + ` from partners where id = any($1)`
	return list(ctx, q.db, "select partners", scanPartner, sql, ids)
}
