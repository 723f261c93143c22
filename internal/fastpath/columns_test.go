package fastpath

import (
	"context"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"configmarket/graph"
	"configmarket/internal/dbtest"
	"configmarket/internal/factory"
	"configmarket/internal/fieldcost"
	"configmarket/internal/store"
)

// readsFor is the store option that reads what cost says a field of typ
// needs of its own row, as the resolvers' prefetch chooses it: the card's
// columns unless Detail (and the description only for Description), a
// developer's summary unless Detail, a version's number, summary or
// every column.
func readsFor(typ string, cost fieldcost.Cost) store.StorefrontQuery {
	q := store.StorefrontQuery{With: store.CardRowsWanted{Developer: true, Versions: 1,
		VersionStates: []store.VersionState{store.VersionApproved}, VersionColumns: store.VersionNumber}}
	switch typ {
	case "Configuration":
		q.Details, q.Description = cost.Has(fieldcost.Detail), cost.Has(fieldcost.Description)
	case "Developer":
		q.With.DeveloperDetail = cost.Has(fieldcost.Detail)
	case "Version":
		switch {
		case cost.Has(fieldcost.Detail):
			q.With.VersionColumns = store.VersionDetail
		case cost.Has(fieldcost.Summary):
			q.With.VersionColumns = store.VersionSummary
		}
	}
	return q
}

// TestStoreColumnSetsAnswerWhatFieldcostSays holds the store's column sets
// (a configuration's card, a developer's summary, a version's number and
// summary) to internal/fieldcost: every field the fast path writes of its
// own row answers, from the row read with the option its cost chooses
// (readsFor), exactly as from the row read whole. A field whose cost is
// too low, or a column dropped from a set, fails here; the differential
// test then holds gqlgen's answers to the fast path's.
func TestStoreColumnSetsAnswerWhatFieldcostSays(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.Pool(t)
	st := store.New(pool)
	owner := factory.Developer(t, st)
	c := factory.Configuration(t, st, owner.OrgID, factory.ConfigurationOptions{Tags: []string{"crm"}})
	// Every column set, none left at a value its zero would also write.
	if _, err := pool.Exec(ctx, `update configurations set summary = 'Pipelines', description = 'Long text',
		screenshots = array['https://img.example/1.png'], support_mode = 'platform',
		category_id = (select id from categories order by id limit 1) where id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `update developers set bio = 'Since 2019', website = 'https://studio.example' where id = $1`, owner.OrgID); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `update versions set submitted_at = created_at where configuration_id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	read := func(q store.StorefrontQuery) (*store.Configuration, *store.CardRows) {
		q.Order, q.Desc, q.Limit = store.OrderNewest, true, 50
		rows, err := st.StorefrontPage(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for i := range rows.Configurations {
			if rows.Configurations[i].ID == c.ID {
				return &rows.Configurations[i], &rows.Cards[i]
			}
		}
		t.Fatal("the configuration is not listed")
		return nil, nil
	}
	whole := readsFor("Version", fieldcost.Detail)
	whole.Details, whole.Description, whole.With.DeveloperDetail = true, true, true

	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	// write writes field of typ, alone, from the rows q reads.
	write := func(typ, field string, q store.StorefrontQuery) string {
		path := map[string]string{"Configuration": field, "Developer": "developer { " + field + " }",
			"Version": "currentVersion { " + field + " }"}[typ]
		doc, errs := gqlparser.LoadQuery(schema, `{ configurations { nodes { `+path+` } } }`)
		if errs != nil {
			t.Fatal(errs)
		}
		sel := doc.Operations[0].SelectionSet[0].(*ast.Field).SelectionSet[0].(*ast.Field).SelectionSet
		if typ != "Configuration" {
			sel = sel[0].(*ast.Field).SelectionSet
		}
		w := writer{op: &graphql.OperationContext{Doc: doc, Operation: doc.Operations[0], Variables: map[string]any{}}}
		c, card := read(q)
		var ok bool
		switch typ {
		case "Configuration":
			ok = w.configuration(c, card, sel)
		case "Developer":
			ok = w.developer(card.Developer, sel)
		case "Version":
			ok = w.version(&card.Versions[0], sel)
		}
		if !ok {
			return "nothing (handed back to gqlgen)"
		}
		return string(w.buf)
	}

	checked := 0
	for typ, fields := range fieldcost.Table() {
		if typ != "Configuration" && typ != "Developer" && typ != "Version" {
			continue
		}
		for field, f := range fields {
			ownRow := fieldcost.Detail | fieldcost.Summary | fieldcost.Description
			if !f.Fast || Fields()[typ][field] != "" || f.Cost&^ownRow != 0 {
				continue // another table's rows, or an object the prefetch reads otherwise
			}
			checked++
			if got, want := write(typ, field, readsFor(typ, f.Cost)), write(typ, field, whole); got != want {
				t.Errorf("%s.%s (cost %b): %s from the rows its cost reads, %s from the whole rows", typ, field, f.Cost, got, want)
			}
		}
	}
	if checked < 20 {
		t.Fatalf("only %d fields checked", checked)
	}
}
