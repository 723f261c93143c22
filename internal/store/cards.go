package store

import (
	"strconv"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
)

// CardRowsWanted are the rows of other tables a configuration's card reads
// with it, in the same statement: a storefront page's cards, and the page
// of one configuration.
type CardRowsWanted struct {
	Developer bool
	// DeveloperDetail reads the developers' bio, website, status, flags
	// and time too; without it only their id, slug and name are read.
	DeveloperDetail bool
	// Versions is how many of the newest versions in VersionStates; 0 reads none.
	Versions       int
	VersionStates  []VersionState
	VersionColumns VersionColumns
	Prices         bool
	// Reviews is how many of the newest reviews; 0 reads none.
	Reviews int
}

// VersionColumns are how much of each version a card reads; what it does
// not read is left zero.
type VersionColumns int

const (
	// VersionSummary reads a version's id, number and state.
	VersionSummary VersionColumns = iota
	// VersionNumber reads its number alone: a card that shows only that
	// reads a quarter fewer bytes than with the id and state.
	VersionNumber
	// VersionDetail reads every column, the changelog and moderation
	// fields too (a page's versions weigh a third more).
	VersionDetail
)

// CardRows are the rows a configuration's card shows besides the
// configuration; what was not wanted is nil.
type CardRows struct {
	Developer *Developer
	// Versions are newest first.
	Versions []Version
	// Prices are the prices in force, as CurrentPrices orders them, without
	// ValidFrom and CreatedBy (cardPriceColumns).
	Prices []Price
	// Reviews are newest first, as NewestReviews reads them.
	Reviews []Review
}

// cardSelects are the columns that read, for the row of configurations c
// they follow, the rows its card shows: one scalar subquery each, reading
// by index what belongs to that one configuration. The aggregates take
// their rows in the order of the subquery they read (nothing joins in
// between); an ORDER BY of their own sorted again and cost a quarter of a
// storefront page. Limits are written into the statement: as parameters
// they kept PostgreSQL from settling on a generic plan.
func cardSelects(args *sqlArgs, with CardRowsWanted) string {
	var card string
	if with.Developer {
		columns := developerSummaryColumns
		if with.DeveloperDetail {
			columns = developerColumns
		}
		card += `, (select row(` + columns + `) from developers where id = c.developer_id)`
	}
	if with.Versions > 0 {
		columns := versionSummaryColumns
		switch with.VersionColumns {
		case VersionNumber:
			columns = versionNumberColumns
		case VersionDetail:
			columns = versionColumns
		}
		card += `, (select array_agg(row(` + columns + `))
			from (` + newestVersionsOf("c.id", args.add(with.VersionStates), strconv.Itoa(with.Versions)) + `) v)`
	}
	if with.Prices {
		card += `, (select array_agg(row(` + cardPriceColumns + `)) from (` + pricesInForce("c.id") + `) p)`
	}
	if with.Reviews > 0 {
		card += `, (select array_agg(row(` + cardReviewColumns + `)) from (
			select r.*, cu.name as author_name from reviews r join customers cu on cu.id = r.customer_id
			where r.configuration_id = c.id
			order by r.created_at desc, r.id desc
			limit ` + strconv.Itoa(with.Reviews) + `) r)`
	}
	return card
}

// cardDecoder decodes the columns cardSelects added, row by row.
type cardDecoder struct {
	with       CardRowsWanted
	developers *nested[Developer]
	versions   *nested[Version]
	prices     *nested[Price]
	reviews    *nested[Review]
}

func newCardDecoder(types *pgtype.Map, values *arena, with CardRowsWanted) *cardDecoder {
	d := &cardDecoder{with: with,
		developers: newNested(types, values, (*Developer).summaryTargets),
		versions:   newNested(types, values, (*Version).summaryTargets),
		prices:     newNested(types, values, (*Price).cardTargets),
		reviews:    newNested(types, values, (*Review).cardTargets),
	}
	if with.DeveloperDetail {
		d.developers = newNested(types, values, (*Developer).scanTargets)
	}
	switch with.VersionColumns {
	case VersionNumber:
		d.versions = newNested(types, values, (*Version).numberTargets)
	case VersionDetail:
		d.versions = newNested(types, values, (*Version).scanTargets)
	}
	return d
}

// decode reads the card of configuration id from raw, its columns in
// cardSelects' order.
func (d *cardDecoder) decode(id uuid.UUID, raw [][]byte) (CardRows, error) {
	var card CardRows
	var err error
	if d.with.Developer {
		card.Developer = new(Developer)
		err = d.developers.record(raw[0], card.Developer)
		raw = raw[1:]
	}
	if d.with.Versions > 0 && err == nil {
		card.Versions, err = d.versions.array(raw[0])
		raw = raw[1:]
	}
	if d.with.Prices && err == nil {
		card.Prices, err = d.prices.array(raw[0])
		raw = raw[1:]
	}
	if d.with.Reviews > 0 && err == nil {
		card.Reviews, err = d.reviews.array(raw[0])
	}
	// A card's records leave out whose they are: the card's own id.
	for i := range card.Versions {
		card.Versions[i].ConfigurationID = id
	}
	for i := range card.Prices {
		card.Prices[i].ConfigurationID = id
	}
	for i := range card.Reviews {
		card.Reviews[i].ConfigurationID = id
	}
	return card, err
}
