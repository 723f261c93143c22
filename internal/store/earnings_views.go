package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"configmarket/internal/apperr"
)

// EntryFilter narrows one party's ledger entries.
type EntryFilter struct {
	// Party is developer or partner; PartyID its id.
	Party           Party
	PartyID         uuid.UUID
	From, To        *time.Time
	PaidFor         *PaidFor
	CustomerID      *uuid.UUID
	ConfigurationID *uuid.UUID
}

// partyMatch is the condition "entry of party $1 with id $2". The party
// comes from code, never from a client; naming its column in the text (not
// choosing it with a CASE on $1) lets each variant use that column's index.
func partyMatch(party Party) (string, error) {
	switch party {
	case PartyDeveloper:
		return `e.party = $1 and e.developer_id = $2`, nil
	case PartyPartner:
		return `e.party = $1 and e.partner_id = $2`, nil
	}
	return "", apperr.Internal(fmt.Errorf("unknown ledger party %q", party))
}

// conditions is "entry of party $1 with id $2" and the filters f uses, as
// SQL, with its arguments; a caller's own arguments follow them. Only the
// filters in use are named: with a catch-all "$n is null or …" for each,
// PostgreSQL estimates a party's entries at a row or two and plans for that.
func (f EntryFilter) conditions() (string, sqlArgs, error) {
	match, err := partyMatch(f.Party)
	if err != nil {
		return "", nil, err
	}
	conds, args := []string{match}, sqlArgs{f.Party, f.PartyID}
	if f.From != nil {
		conds = append(conds, "e.occurred_at >= "+args.add(*f.From))
	}
	if f.To != nil {
		conds = append(conds, "e.occurred_at < "+args.add(*f.To))
	}
	if f.PaidFor != nil {
		conds = append(conds, "e.paid_for = "+args.add(*f.PaidFor))
	}
	if f.CustomerID != nil {
		conds = append(conds, "e.customer_id = "+args.add(*f.CustomerID))
	}
	if f.ConfigurationID != nil {
		conds = append(conds, "e.configuration_id = "+args.add(*f.ConfigurationID))
	}
	return strings.Join(conds, " and "), args, nil
}

// EntryKey is a keyset position in newest-first entry order.
type EntryKey struct {
	At time.Time
	ID int64
}

// EntriesPage lists a party's entries newest first.
func (q *Queries) EntriesPage(ctx context.Context, f EntryFilter, after *EntryKey, limit int) ([]LedgerEntry, error) {
	where, args, err := f.conditions()
	if err != nil {
		return nil, err
	}
	if after != nil {
		where += " and (e.occurred_at, e.id) < (" + args.add(after.At) + ", " + args.add(after.ID) + ")"
	}
	sql := `select e.id, e.payment_id, e.refund_id, e.party, e.developer_id, e.partner_id, e.amount_minor, e.currency,
			e.rate, coalesce(e.paid_for, ''), e.configuration_id, e.customer_id, e.occurred_at
		from ledger_entries e
		where ` + where + `
		order by e.occurred_at desc, e.id desc
		limit ` + args.add(limit)
	return listMoney(ctx, q, "select entries page", func(r pgx.CollectableRow) (LedgerEntry, error) {
		var e LedgerEntry
		err := r.Scan(&e.ID, &e.PaymentID, &e.RefundID, &e.Party, &e.DeveloperID, &e.PartnerID, &e.Amount.Minor,
			&e.Amount.Currency, &e.Rate, &e.PaidFor, &e.ConfigurationID, &e.CustomerID, &e.OccurredAt)
		return e, err
	}, sql, args...)
}

// EntryTotal is a sum of a party's entries for one group.
type EntryTotal struct {
	// Month is the first instant of the UTC month; zero when not grouped by month.
	Month time.Time
	// Key is what was paid for, the customer or the configuration, by grouping.
	Key string
	// Label names the key: the customer's or configuration's name.
	Label string
	// Gross is the sum of the payments (and refunds) the entries came from.
	Gross int64
	// Share is the party's own sum.
	Share    int64
	Entries  int
	Currency string
}

// Grouping says how EntryTotals groups.
type Grouping string

const (
	ByMonth         Grouping = "month"
	ByPaidFor       Grouping = "paid_for"
	ByCustomer      Grouping = "customer"
	ByConfiguration Grouping = "configuration"
)

// groupings are the fixed SQL expressions of each grouping.
var groupings = map[Grouping]struct{ key, label string }{
	ByMonth:         {`date_trunc('month', e.occurred_at at time zone 'UTC')::text`, `''`},
	ByPaidFor:       {`coalesce(e.paid_for, '')`, `''`},
	ByCustomer:      {`coalesce(e.customer_id::text, '')`, `coalesce(cu.name, '')`},
	ByConfiguration: {`coalesce(e.configuration_id::text, '')`, `coalesce(co.title, '')`},
}

// EntryTotals sums a party's entries by one grouping.
func (q *Queries) EntryTotals(ctx context.Context, f EntryFilter, g Grouping) ([]EntryTotal, error) {
	sets, err := q.EntryTotalsBy(ctx, f, []Grouping{g})
	return sets[g], err
}

// EntryTotalsBy sums a party's entries by several groupings in one pass
// over them (GROUPING SETS): a dashboard asking for totals by month and by
// what was paid for reads the entries, and joins their payments for the
// gross, once. Every grouping asked for has a (possibly empty) list.
func (q *Queries) EntryTotalsBy(ctx context.Context, f EntryFilter, gs []Grouping) (map[Grouping][]EntryTotal, error) {
	where, args, err := f.conditions()
	if err != nil {
		return nil, err
	}
	var cols, sets, which []string
	for i, g := range gs {
		expr, ok := groupings[g]
		if !ok {
			return nil, apperr.Internal(fmt.Errorf("unknown grouping %q", g))
		}
		cols = append(cols, fmt.Sprintf("%s as k%d, %s as l%d", expr.key, i, expr.label, i))
		sets = append(sets, fmt.Sprintf("(k%d, l%d)", i, i))
		which = append(which, fmt.Sprintf("when grouping(k%d, l%d) = 0 then %d", i, i, i))
	}
	keys := func(prefix string) string {
		var ks []string
		for i := range gs {
			ks = append(ks, fmt.Sprintf("%s%d", prefix, i))
		}
		return strings.Join(ks, ", ")
	}
	sql := `with e as (
			select ` + strings.Join(cols, ", ") + `,
				case when e.refund_id is null then p.amount_minor else -r.amount_minor end as gross,
				e.amount_minor as share, e.currency
			from ledger_entries e
			join payments p on p.id = e.payment_id
			left join refunds r on r.id = e.refund_id
			left join customers cu on cu.id = e.customer_id
			left join configurations co on co.id = e.configuration_id
			where ` + where + `
		)
		select case ` + strings.Join(which, " ") + ` end as set, coalesce(` + keys("k") + `), coalesce(` + keys("l") + `),
			sum(gross), sum(share), count(*), min(currency)
		from e group by grouping sets (` + strings.Join(sets, ", ") + `)
		order by 1, 2`
	type row struct {
		set int
		t   EntryTotal
	}
	rows, err := listMoney(ctx, q, "select entry totals", func(r pgx.CollectableRow) (row, error) {
		var x row
		err := r.Scan(&x.set, &x.t.Key, &x.t.Label, &x.t.Gross, &x.t.Share, &x.t.Entries, &x.t.Currency)
		if err == nil && gs[x.set] == ByMonth {
			x.t.Month, err = time.Parse("2006-01-02 15:04:05", x.t.Key)
			x.t.Month = x.t.Month.UTC()
		}
		return x, err
	}, sql, args...)
	if err != nil {
		return nil, err
	}
	out := make(map[Grouping][]EntryTotal, len(gs))
	for _, g := range gs {
		out[g] = []EntryTotal{}
	}
	for _, x := range rows {
		out[gs[x.set]] = append(out[gs[x.set]], x.t)
	}
	return out, nil
}

// PartyEntry returns entry id if it belongs to the party.
func (q *Queries) PartyEntry(ctx context.Context, party Party, partyID uuid.UUID, id int64) (LedgerEntry, error) {
	match, err := partyMatch(party)
	if err != nil {
		return LedgerEntry{}, err
	}
	sql := `select e.id, e.payment_id, e.refund_id, e.party, e.developer_id, e.partner_id, e.amount_minor, e.currency,
			e.rate, coalesce(e.paid_for, ''), e.configuration_id, e.customer_id, e.occurred_at
		from ledger_entries e
		where e.id = $3 and ` + match
	return oneMoney(ctx, q, "select party entry", func(r pgx.CollectableRow) (LedgerEntry, error) {
		var e LedgerEntry
		err := r.Scan(&e.ID, &e.PaymentID, &e.RefundID, &e.Party, &e.DeveloperID, &e.PartnerID, &e.Amount.Minor,
			&e.Amount.Currency, &e.Rate, &e.PaidFor, &e.ConfigurationID, &e.CustomerID, &e.OccurredAt)
		return e, err
	}, sql, party, partyID, id)
}

// RunningTotals sums a party's entries since the start of the UTC day and
// month of at, and returns the newest entry id (0 for none).
func (q *Queries) RunningTotals(ctx context.Context, party Party, partyID uuid.UUID, at time.Time) (day, month, lastID int64, err error) {
	match, err := partyMatch(party)
	if err != nil {
		return 0, 0, 0, err
	}
	sql := `select
			coalesce(sum(e.amount_minor) filter (where e.occurred_at >= date_trunc('day', $3::timestamptz at time zone 'UTC') at time zone 'UTC'), 0),
			coalesce(sum(e.amount_minor), 0),
			coalesce(max(e.id), 0)
		from ledger_entries e
		where ` + match + `
			and e.occurred_at >= date_trunc('month', $3::timestamptz at time zone 'UTC') at time zone 'UTC'`
	err = q.scanMoney(ctx, "select running totals", sql, []any{party, partyID, at}, &day, &month, &lastID)
	return day, month, lastID, err
}
