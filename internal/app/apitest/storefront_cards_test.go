package apitest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"configmarket/graph"
	"configmarket/internal/factory"
	"configmarket/internal/store"
)

// TestStorefrontCardsAnswerEveryFieldAsTheConfigurationDoes asks a
// storefront page for each field of Configuration alone, which lets the page
// read only its cards' columns where the field allows (fieldcost.Detail), and asks
// configuration(slug:), which reads the whole row, for the same field: the
// answers must be the same, for every field the schema has, as an anonymous
// visitor, the owner and an admin. A field answered from a column the card
// does not read fails here.
func TestStorefrontCardsAnswerEveryFieldAsTheConfigurationDoes(t *testing.T) {
	s := New(t)
	ctx := context.Background()
	owner := factory.Developer(t, s.Store)
	trial := 14
	c := factory.Configuration(t, s.Store, owner.OrgID, factory.ConfigurationOptions{
		Versions:  []store.VersionKey{{Major: 1}, {Major: 1, Minor: 1}, {Major: 2}},
		SaleMinor: 990_000, Tags: []string{"crm", "sales"}, TrialDays: &trial,
	})
	if _, err := s.Pool.Exec(ctx, `update configurations set summary = 'A pipeline for small teams',
		screenshots = array['https://img.example/1.png'], support_mode = 'platform',
		category_id = (select id from categories order by id limit 1), rating_count = 3, rating_sum = 13
		where id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool.Exec(ctx, `update developers set bio = 'Pipelines since 2019', website = 'https://studio.example'
		where id = $1`, owner.OrgID); err != nil {
		t.Fatal(err)
	}
	admin := factory.Admin(t, s.Store)
	ownerToken, _ := s.LogIn(t, owner, nil)
	adminToken, _ := s.LogIn(t, admin, nil)

	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	fields := schema.Types["Configuration"].Fields
	if len(fields) < 25 {
		t.Fatalf("Configuration has %d fields; the schema was not read", len(fields))
	}
	// Each field whole, and each field of an object field alone: a card
	// reads less of its developer when the document asks less.
	var selections []string
	for _, f := range fields {
		selections = append(selections, fieldSelection(schema, f, 0))
		head, subs := fieldParts(schema, f, 0)
		for i := 1; i < len(subs); i++ {
			selections = append(selections, head+" { "+subs[i]+" }")
		}
	}
	for _, selection := range selections {
		for viewer, token := range map[string]string{"anonymous": "", "owner": ownerToken, "admin": adminToken} {
			page := s.Do(t, token, `{ configurations(first: 5) { nodes { slug `+selection+` } } }`, nil)
			one := s.Do(t, token, `query ($slug: String!) { configuration(slug: $slug) { slug `+selection+` } }`, map[string]any{"slug": c.Slug})
			if len(page.Errors) > 0 || len(one.Errors) > 0 {
				t.Fatalf("%s as %s: %s / %s", selection, viewer, page.Raw, one.Raw)
			}
			var card any
			for _, n := range get(page.Data, "configurations", "nodes").([]any) {
				if str(n, "slug") == c.Slug {
					card = n
				}
			}
			got, _ := json.Marshal(card)
			want, _ := json.Marshal(get(one.Data, "configuration"))
			if string(got) != string(want) {
				t.Errorf("%s as %s:\n page %s\n want %s", selection, viewer, got, want)
			}
		}
	}
}

// TestStorefrontDevelopersReadTheirDetailWhenAskedAnywhere: a page's
// developers prime the loaders, so a developer's other fields asked
// elsewhere in the document (here deeper in the same card) must not find the summary
// the page read for its cards.
func TestStorefrontDevelopersReadTheirDetailWhenAskedAnywhere(t *testing.T) {
	s := New(t)
	ctx := context.Background()
	owner := factory.Developer(t, s.Store)
	c := factory.Configuration(t, s.Store, owner.OrgID, factory.ConfigurationOptions{})
	if _, err := s.Pool.Exec(ctx, `update developers set bio = 'Pipelines since 2019' where id = $1`, owner.OrgID); err != nil {
		t.Fatal(err)
	}
	// The deeper developer is read after the page primed the loaders.
	res := s.Do(t, "", `{ configurations(first: 5) { nodes { slug developer { name }
		currentVersion { configuration { developer { bio } } } } } }`, nil)
	if res.Code() != "" {
		t.Fatal(res.Raw)
	}
	nodes := get(res.Data, "configurations", "nodes").([]any)
	if len(nodes) != 1 || str(nodes[0], "slug") != c.Slug {
		t.Fatalf("page %s", res.Raw)
	}
	if got := str(nodes[0], "currentVersion", "configuration", "developer", "bio"); got != "Pipelines since 2019" {
		t.Errorf("bio %q after the page's cards: %s", got, res.Raw)
	}
}

// TestConfigurationPageIsOneStatement: configuration(slug:) reads the
// configuration with its developer, newest versions, prices and newest
// reviews in one statement, and answers as the loaders would have.
func TestConfigurationPageIsOneStatement(t *testing.T) {
	s := New(t)
	ctx := context.Background()
	owner := factory.Developer(t, s.Store)
	var versions []store.VersionKey
	for minor := range 7 {
		versions = append(versions, store.VersionKey{Major: 1, Minor: minor})
	}
	c := factory.Configuration(t, s.Store, owner.OrgID, factory.ConfigurationOptions{Versions: versions, SaleMinor: 990_000})
	for i := range 12 {
		customer := factory.Customer(t, s.Store)
		if _, err := s.Pool.Exec(ctx, `insert into reviews (configuration_id, customer_id, rating, body, created_at)
			values ($1, $2, $3, $4, now() - make_interval(mins => $5))`, c.ID, customer.OrgID, 1+i%5, fmt.Sprintf("review %d", i), i/2); err != nil {
			t.Fatal(err)
		}
	}
	s.Do(t, "", `{ tariffPlans { code } }`, nil) // plans are kept apart from the catalog
	query := `query ($slug: String!) { configuration(slug: $slug) {
		title description developer { name bio } currentVersion { number changelog }
		versions(first: 5) { nodes { number changelog } }
		rentPrices { tariffPlan { code } price { amount } } salePrice { amount } rating { average count }
		reviews(first: 10) { nodes { rating body } pageInfo { hasNextPage } }
	} }`
	before := s.Counter.Count()
	res := s.Do(t, "", query, map[string]any{"slug": c.Slug})
	if res.Code() != "" {
		t.Fatal(res.Raw)
	}
	if n := s.Counter.Count() - before; n != 1 {
		t.Errorf("%d statements for the configuration's page, want 1", n)
	}
	if got := str(res.Data, "configuration", "versions", "nodes", 0, "number"); got != "1.6.0" {
		t.Errorf("newest version %q: %s", got, res.Raw)
	}
	reviews := get(res.Data, "configuration", "reviews", "nodes").([]any)
	// Two reviews a minute, newest first; the same minute's by id.
	if len(reviews) != 10 || get(res.Data, "configuration", "reviews", "pageInfo", "hasNextPage") != true {
		t.Fatalf("reviews: %s", res.Raw)
	}
	want := s.Do(t, "", `query ($id: ID!) { node(id: $id) { ... on Configuration { reviews(first: 10, after: null) { nodes { rating body } } } } }`,
		map[string]any{"id": globalIDOf("Configuration", c.ID)})
	if got, w := fmt.Sprint(reviews), fmt.Sprint(get(want.Data, "node", "reviews", "nodes")); got != w {
		t.Errorf("reviews\n %s\nwant\n %s", got, w)
	}
}

// movesWithTheClock are fields computed from the moment they are read,
// which two requests cannot agree on.
var movesWithTheClock = map[string]bool{"holdUntil": true}

// fieldSelection selects field f, at depth 0 a field of Configuration,
// with its arguments filled in: a scalar as it is, an object with its
// scalars and its objects without arguments (a connection's nodes) one
// level down. Fields that need arguments below depth 0 are left out.
func fieldSelection(schema *ast.Schema, f *ast.FieldDefinition, depth int) string {
	head, subs := fieldParts(schema, f, depth)
	if len(subs) == 0 {
		return head
	}
	return head + " { " + strings.Join(subs, " ") + " }"
}

// fieldParts are f with its arguments ("" when it is left out) and, for an
// object, the selections under it, __typename first.
func fieldParts(schema *ast.Schema, f *ast.FieldDefinition, depth int) (string, []string) {
	if movesWithTheClock[f.Name] {
		return "", nil
	}
	var args []string
	for _, a := range f.Arguments {
		if !a.Type.NonNull {
			continue
		}
		if depth > 0 || a.Type.Name() != "String" {
			return "", nil
		}
		args = append(args, a.Name+`: "B"`)
	}
	head := f.Name
	if len(args) > 0 {
		head += "(" + strings.Join(args, ", ") + ")"
	}
	def := schema.Types[f.Type.Name()]
	if def.Kind != ast.Object && def.Kind != ast.Interface {
		return head, nil
	}
	if depth > 1 || (depth == 1 && len(f.Arguments) > 0) {
		return "", nil
	}
	subs := []string{"__typename"}
	for _, g := range def.Fields {
		if s := fieldSelection(schema, g, depth+1); s != "" && !strings.HasPrefix(g.Name, "__") {
			subs = append(subs, s)
		}
	}
	return head, subs
}
