package resolvers

import (
	"context"

	"configmarket/dataloaders"
	"configmarket/graph/model"
	"configmarket/internal/earnings"
	"configmarket/internal/money"
)

func toLedgerEntry(e *earnings.LedgerEntry) *model.LedgerEntry {
	m := &model.LedgerEntry{
		Party: toEnum[model.LedgerParty](e.Party), Amount: toMoney(e.Amount),
		Reversal: e.RefundID != nil, OccurredAt: e.OccurredAt, ConfigurationID: e.ConfigurationID,
	}
	if e.Rate != nil {
		r := money.Rate(*e.Rate).String()
		m.Rate = &r
	}
	if e.PaidFor != "" {
		pf := toEnum[model.PaidFor](e.PaidFor)
		m.PaidFor = &pf
	}
	return m
}

func toLedgerConnection(p earnings.EntryPage) *model.LedgerEntryConnection {
	edges, nodes := connection(p.Rows, p.Cursors, toLedgerEntry,
		func(c string, n *model.LedgerEntry) model.LedgerEntryEdge {
			return model.LedgerEntryEdge{Cursor: c, Node: n}
		})
	return &model.LedgerEntryConnection{Edges: edges, Nodes: nodes, PageInfo: pageInfo(p.Cursors, p.HasNext)}
}

func toEarningsTotals(ts []earnings.EntryTotal) []*model.EarningsTotal {
	if ts == nil {
		return nil
	}
	out := make([]*model.EarningsTotal, len(ts))
	for i, t := range ts {
		key := t.Key
		if !t.Month.IsZero() {
			key = t.Month.Format("2006-01-02T15:04:05Z")
		}
		out[i] = &model.EarningsTotal{
			Key: key, Label: t.Label, Entries: t.Entries,
			Gross: toMoney(money.New(t.Gross, t.Currency)), Share: toMoney(money.New(t.Share, t.Currency)),
		}
	}
	return out
}

func toStatement(s *earnings.Statement) *model.Statement {
	if s == nil {
		return nil
	}
	out := &model.Statement{
		Month: s.Month, Totals: toEarningsTotals(s.Totals),
		Gross: toMoney(money.New(s.Gross, money.RUB)), Share: toMoney(money.New(s.Share, money.RUB)),
		Entries:     make([]*model.LedgerEntry, len(s.Entries)),
		Payouts:     make([]*model.Payout, len(s.Payouts)),
		PayoutTotal: toMoney(money.New(s.PayoutTotal, money.RUB)),
	}
	for i := range s.Payouts {
		out.Payouts[i] = toPayout(&s.Payouts[i])
	}
	if out.Totals == nil {
		out.Totals = []*model.EarningsTotal{}
	}
	for i := range s.Entries {
		out.Entries[i] = toLedgerEntry(&s.Entries[i])
	}
	return out
}

func toRateTables(t earnings.RateTables) *model.RateTables {
	out := &model.RateTables{Developer: []*model.DeveloperRate{}, Partner: []*model.PartnerRate{}}
	for _, r := range t.Developer {
		out.Developer = append(out.Developer, &model.DeveloperRate{
			Status: toEnum[model.DeveloperStatus](r.Status), SupportMode: toEnum[model.SupportMode](r.Kind),
			Rate: money.Rate(r.Rate).String(), ValidFrom: r.ValidFrom,
		})
	}
	for _, r := range t.Partner {
		out.Partner = append(out.Partner, &model.PartnerRate{
			Status: toEnum[model.PartnerStatus](r.Status), PaidFor: toEnum[model.PaidFor](r.Kind),
			Rate: money.Rate(r.Rate).String(), ValidFrom: r.ValidFrom,
		})
	}
	return out
}

// ledgerFilter translates a LedgerFilter for one party.
func ledgerFilter(party earnings.Party, id [16]byte, f *model.LedgerFilter) (earnings.EntryFilter, error) {
	out := earnings.EntryFilter{Party: party, PartyID: id}
	if f == nil {
		return out, nil
	}
	out.From, out.To, out.PaidFor = f.From, f.To, fromEnumPtr[earnings.PaidFor](f.PaidFor)
	if f.Customer != nil {
		c, err := idArg("filter.customer", *f.Customer, typeCustomer)
		if err != nil {
			return out, err
		}
		out.CustomerID = &c
	}
	if f.Configuration != nil {
		c, err := idArg("filter.configuration", *f.Configuration, typeConfiguration)
		if err != nil {
			return out, err
		}
		out.ConfigurationID = &c
	}
	return out, nil
}

// entryTotals are f's totals by groupBy, through the operation's loaders
// (which sum the sibling fields' groupings in the same statement); never
// nil, as the schema's list is not.
func entryTotals(ctx context.Context, f earnings.EntryFilter, groupBy model.EarningsGrouping) ([]*model.EarningsTotal, error) {
	ts, err := dataloaders.From(ctx).EntryTotals(ctx, earnings.TotalsKeyOf(f, fromEnum[earnings.Grouping](groupBy)), siblingGroupings(ctx))
	out := toEarningsTotals(ts)
	if out == nil {
		out = []*model.EarningsTotal{}
	}
	return out, err
}

func parseRate(field string, d model.Decimal) (money.Rate, error) {
	r, err := money.ParseRate(string(d))
	if err != nil {
		return 0, invalidRate(field)
	}
	return r, nil
}
