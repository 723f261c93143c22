package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// salesRange is what "sales of a developer's configurations" means (SPEC
// §6): the gross amount paid, i.e. the entries of every party (developer,
// partner, platform) of payments for the configurations, refunds' negative
// entries included, that occurred in [$1, $2) in currency $3. It reads the
// ledger alone: each entry carries its configuration and occurrence time.
const salesRange = `from ledger_entries le
	join configurations c on c.id = le.configuration_id
	where le.occurred_at >= $1 and le.occurred_at < $2 and le.currency = $3`

// DeveloperSales sums the sales of the developer's configurations that
// occurred in [from, to), in minor units of currency.
func (q *Queries) DeveloperSales(ctx context.Context, developerID uuid.UUID, from, to time.Time, currency string) (int64, error) {
	const sql = `select coalesce(sum(le.amount_minor), 0)::bigint ` + salesRange + ` and c.developer_id = $4`
	var sum int64
	err := q.scanMoney(ctx, "select developer sales", sql, []any{from, to, currency, developerID}, &sum)
	return sum, err
}

// SalesByDeveloper is DeveloperSales for every developer with entries in
// the range, in one pass over the range; a developer without any is absent.
func (q *Queries) SalesByDeveloper(ctx context.Context, from, to time.Time, currency string) (map[uuid.UUID]int64, error) {
	const sql = `select c.developer_id, sum(le.amount_minor)::bigint ` + salesRange + `
		group by c.developer_id order by c.developer_id`
	type row struct {
		id  uuid.UUID
		sum int64
	}
	rows, err := listMoney(ctx, q, "select sales by developer", func(r pgx.CollectableRow) (row, error) {
		var x row
		err := r.Scan(&x.id, &x.sum)
		return x, err
	}, sql, from, to, currency)
	if err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID]int64, len(rows))
	for _, x := range rows {
		out[x.id] = x.sum
	}
	return out, nil
}

// DeveloperStanding is what a status decision reads of a developer.
type DeveloperStanding struct {
	ID                  uuid.UUID
	Status              string
	KnowledgeTestPassed bool
	WebsiteInfo         bool
	ContractSigned      bool
}

const standingColumns = `id, status, knowledge_test_passed, website_info, contract_signed`

func scanStanding(r pgx.CollectableRow) (DeveloperStanding, error) {
	var d DeveloperStanding
	err := r.Scan(&d.ID, &d.Status, &d.KnowledgeTestPassed, &d.WebsiteInfo, &d.ContractSigned)
	return d, err
}

// LockDeveloperStanding locks a developer's row for the rest of the
// transaction, so status decisions and flag changes of one developer run
// one at a time. FOR NO KEY UPDATE does not block the key-share locks that
// payments take through the ledger's foreign keys.
func (q *Queries) LockDeveloperStanding(ctx context.Context, developerID uuid.UUID) (DeveloperStanding, error) {
	const sql = `select ` + standingColumns + ` from developers where id = $1 for no key update`
	return one(ctx, q.db, "lock developer standing", scanStanding, sql, developerID)
}

// LockAllDeveloperStandings locks every developer's row, in id order (the
// order every multi-row lock of developers must take to avoid deadlocks).
func (q *Queries) LockAllDeveloperStandings(ctx context.Context) ([]DeveloperStanding, error) {
	const sql = `select ` + standingColumns + ` from developers order by id for no key update`
	return list(ctx, q.db, "lock developer standings", scanStanding, sql)
}

// DeveloperStandingFlags are the admin-set flags; a nil field is left as is.
type DeveloperStandingFlags struct {
	KnowledgeTestPassed *bool
	WebsiteInfo         *bool
	ContractSigned      *bool
}

// SetDeveloperFlags changes the given flags in one statement (two admins
// setting different flags at once both win) and returns the developer's
// standing after the change.
func (q *Queries) SetDeveloperFlags(ctx context.Context, developerID uuid.UUID, f DeveloperStandingFlags) (DeveloperStanding, error) {
	const sql = `update developers set
			knowledge_test_passed = coalesce($2, knowledge_test_passed),
			website_info = coalesce($3, website_info),
			contract_signed = coalesce($4, contract_signed)
		where id = $1 returning ` + standingColumns
	return one(ctx, q.db, "update developer flags", scanStanding, sql, developerID, f.KnowledgeTestPassed, f.WebsiteInfo, f.ContractSigned)
}

// StatusChange is a developer's new status.
type StatusChange struct {
	DeveloperID uuid.UUID
	Status      string
}

// SetDeveloperStatuses applies the changes in one statement.
func (q *Queries) SetDeveloperStatuses(ctx context.Context, changes []StatusChange) error {
	if len(changes) == 0 {
		return nil
	}
	const sql = `update developers d set status = u.status
		from unnest($1::uuid[], $2::text[]) as u(id, status) where d.id = u.id`
	ids := make([]uuid.UUID, len(changes))
	statuses := make([]string, len(changes))
	for i, c := range changes {
		ids[i], statuses[i] = c.DeveloperID, c.Status
	}
	_, err := q.db.Exec(ctx, sql, ids, statuses)
	return mapErr(err, "update developer statuses")
}

// StatusHistoryEntry is one row of a developer's status history: the
// status decided, the sales of the month it was based on and why.
type StatusHistoryEntry struct {
	ID          uuid.UUID
	DeveloperID uuid.UUID
	Status      string
	SalesMinor  int64
	// SalesMonth is the first day (UTC) of the month the sales are of.
	SalesMonth *time.Time
	Reason     string
	DecidedAt  time.Time
}

// InsertStatusHistory appends history rows in one statement.
func (q *Queries) InsertStatusHistory(ctx context.Context, rows []StatusHistoryEntry) error {
	if len(rows) == 0 {
		return nil
	}
	const sql = `insert into developer_status_history (developer_id, status, sales_minor, sales_month, reason, decided_at)
		select * from unnest($1::uuid[], $2::text[], $3::bigint[], $4::date[], $5::text[], $6::timestamptz[])`
	var (
		ids      = make([]uuid.UUID, len(rows))
		statuses = make([]string, len(rows))
		sales    = make([]int64, len(rows))
		months   = make([]*time.Time, len(rows))
		reasons  = make([]string, len(rows))
		at       = make([]time.Time, len(rows))
	)
	for i, r := range rows {
		ids[i], statuses[i], sales[i], months[i], reasons[i], at[i] = r.DeveloperID, r.Status, r.SalesMinor, r.SalesMonth, r.Reason, r.DecidedAt
	}
	_, err := q.db.Exec(ctx, sql, ids, statuses, sales, months, reasons, at)
	return mapErr(err, "insert status history")
}

// DeveloperStatusHistory lists a developer's status history, newest first.
func (q *Queries) DeveloperStatusHistory(ctx context.Context, developerID uuid.UUID) ([]StatusHistoryEntry, error) {
	const sql = `select id, developer_id, status, sales_minor, sales_month, reason, decided_at
		from developer_status_history where developer_id = $1 order by decided_at desc, id desc`
	return list(ctx, q.db, "select status history", func(r pgx.CollectableRow) (StatusHistoryEntry, error) {
		var e StatusHistoryEntry
		err := r.Scan(&e.ID, &e.DeveloperID, &e.Status, &e.SalesMinor, &e.SalesMonth, &e.Reason, &e.DecidedAt)
		return e, err
	}, sql, developerID)
}

// TryStatusRecomputeLock takes the transaction-scoped advisory lock of the
// monthly status recompute; false means another instance is running it.
func (q *Queries) TryStatusRecomputeLock(ctx context.Context) (bool, error) {
	var ok bool
	err := q.db.QueryRow(ctx, `select pg_try_advisory_xact_lock(hashtext('configmarket:developer-status'))`).Scan(&ok)
	return ok, mapErr(err, "developer status lock")
}

// StatusHistoryRecorded reports whether any history row with reason was
// recorded for the sales of month (its first day).
func (q *Queries) StatusHistoryRecorded(ctx context.Context, reason string, month time.Time) (bool, error) {
	const sql = `select exists (select 1 from developer_status_history where reason = $1 and sales_month = $2)`
	var ok bool
	err := q.db.QueryRow(ctx, sql, reason, month).Scan(&ok)
	return ok, mapErr(err, "select status history recorded")
}
