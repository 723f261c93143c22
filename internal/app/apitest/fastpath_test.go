package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"configmarket/internal/cache"
	"configmarket/internal/demo"
	"configmarket/internal/fastpath"
	"configmarket/internal/ratelimit"
	"configmarket/internal/relay"
)

// TestListingFastPathAnswersAsGqlgen asks the same storefront listings of
// two servers on one database — one with the listing's fast path, one
// answering through gqlgen alone — as four viewers, and requires the same
// bytes back: every field the fast path writes, random selections of them
// with aliases, fragments, __typename and directives, every filter and
// order, later pages, the storefront client's own document, and the
// arguments and selections it must hand back to gqlgen (errors included).
func TestListingFastPathAnswersAsGqlgen(t *testing.T) {
	s := NewWithCache(t, &cache.None{})
	ctx := context.Background()
	if err := demo.Load(ctx, s.Pool); err != nil {
		t.Fatal(err)
	}
	// Variety the demo lacks: a listed configuration with no ratings, no
	// category, no sale price and a draft its developer (alfa) sees.
	for _, sql := range []string{
		`update configurations set rating_count = 0, rating_sum = 0, category_id = null
			where id = (select id from configurations where state = 'published' and visibility = 'public' order by slug limit 1)`,
		`update configurations set sells_purchase = false
			where id = (select id from configurations where state = 'published' and visibility = 'public' order by slug desc limit 1)`,
		`insert into versions (configuration_id, major, minor, patch, changelog, state)
			select c.id, 9, 0, 0, 'Unreleased', 'draft' from configurations c join developers d on d.id = c.developer_id
			where d.slug = 'alfa-solutions' and c.state = 'published' and c.visibility = 'public' limit 1`,
	} {
		if tag, err := s.Pool.Exec(ctx, sql); err != nil || tag.RowsAffected() != 1 {
			t.Fatalf("%s: %v, %d rows", sql, err, tag.RowsAffected())
		}
	}
	// Two servers on the database, trusting the test's X-Forwarded-For so
	// every request spends its own query budget.
	d := s.Deps
	d.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	fastSrv, fastApp := Start(t, d)
	d.ListingByGqlgen = true
	d.Limiter = ratelimit.New(nil, "")
	gqlgenSrv, _ := Start(t, d)
	fast, gqlgen := &Server{Server: fastSrv}, &Server{Server: gqlgenSrv}

	viewers := map[string]string{"anonymous": ""}
	for name, email := range map[string]string{"customer": "romashka@configmarket.test", "developer": "alfa@configmarket.test", "admin": "admin@configmarket.test"} {
		res := s.Do(t, "", logInMutation, map[string]any{"input": map[string]any{"email": email, "password": demo.Password}})
		if viewers[name] = str(res.Data, "logIn", "session", "accessToken"); viewers[name] == "" {
			t.Fatalf("log in %s: %s", email, res.Raw)
		}
	}

	type ask struct {
		name  string
		query string
		vars  map[string]any
		// declined: the fast path must hand it to gqlgen; declinedFor:
		// only when these viewers ask (an admin's cards list drafts, and
		// so do a developer's own: the page's cards read public versions).
		declined    bool
		declinedFor []string
		// anonymousOnly keeps logged-in viewers, whose query budget is
		// theirs whatever the address, within it.
		anonymousOnly bool
	}
	every := everyListingField("ConfigurationConnection", fastpath.Fields())
	var alfaID uuid.UUID
	if err := s.Pool.QueryRow(ctx, `select id from developers where slug = 'alfa-solutions'`).Scan(&alfaID); err != nil {
		t.Fatal(err)
	}
	alfa := relay.UUIDID("Developer", alfaID)
	asks := []ask{
		{name: "every field", query: `{ configurations(first: 7) ` + every + ` }`},
		{name: "every field, page 2", query: `query($after: String) { configurations(first: 3, after: $after) ` + every + ` }`, vars: map[string]any{"after": pageCursor(t, s, 3)}},
		{name: "two aliases of the listing", query: `{ a: configurations(first: 2) { nodes { slug } } b: configurations(first: 3, orderBy: {field: NEWEST}) { nodes { title slug } } __typename }`},
		{name: "storefront client document", query: operationDocument(t, "storefront/Configurations.graphql"), vars: map[string]any{"first": 4, "plan": "B"}},
		{name: "storefront client document, search", query: operationDocument(t, "storefront/Configurations.graphql"), vars: map[string]any{"filter": map[string]any{"search": "crm"}, "plan": "A"}},
		{name: "a developer's own configurations with their versions", query: `query($dev: ID!) { configurations(first: 20, filter: {developer: $dev}) {
			nodes { slug currentVersion { number } versions(first: 5) { nodes { number state } } } } }`,
			vars: map[string]any{"dev": alfa}, declinedFor: []string{"developer", "admin"}},
		{name: "a developer's own configurations without versions", query: `query($dev: ID!) { configurations(first: 20, filter: {developer: $dev}) {
			nodes { slug currentVersion { number state } } } }`, vars: map[string]any{"dev": alfa}},
		{name: "selection it does not know", query: `{ configurations(first: 2) { nodes { slug reviews(first: 1) { nodes { body } } } } }`, declined: true},
		{name: "private field", query: `{ configurations(first: 2) { nodes { slug activeInstallations } } }`, declined: true},
		{name: "page too large", query: `{ configurations(first: 101) { nodes { slug } } }`, declined: true},
		{name: "bad cursor", query: `{ configurations(first: 2, after: "nope") { nodes { slug } } }`, declined: true},
		{name: "bad decimal", query: `{ configurations(filter: {price: {min: "1,5"}}) { nodes { slug } } }`, declined: true},
		{name: "unknown plan", query: `{ configurations(orderBy: {field: PRICE, plan: "Z"}) { nodes { slug } } }`, declined: true},
		{name: "bad nested page", query: `{ configurations(first: 1) { nodes { versions(first: 0) { nodes { number } } } } }`, declined: true},
	}
	for _, f := range []string{
		`{search: "crm"}`, `{search: "прод"}`, `{saleMode: RENT}`, `{saleMode: SALE}`, `{hasTrial: true}`, `{tags: ["crm"]}`,
		`{category: "sales"}`, `{price: {min: "100.00", max: "2000.00"}}`, `{price: {plan: "C", max: "5000.00"}}`,
	} {
		asks = append(asks, ask{name: "filter " + f, query: `{ configurations(first: 5, filter: ` + f + `) ` + every + ` }`, anonymousOnly: true})
	}
	for _, o := range []string{`{field: POPULARITY}`, `{field: NEWEST, direction: ASC}`, `{field: RATING}`, `{field: PRICE, plan: "D"}`, `{field: PRICE, direction: DESC}`} {
		asks = append(asks, ask{name: "order " + o, query: `{ configurations(first: 5, orderBy: ` + o + `) { edges { cursor node { slug } } pageInfo { endCursor hasNextPage } } }`})
	}
	rng := rand.New(rand.NewPCG(8, 2026))
	for i := range 40 {
		vars := map[string]any{"yes": i%2 == 0, "first": 1 + i%6}
		sel := randomListingSelection(rng, "ConfigurationConnection", fastpath.Fields(), 0)
		asks = append(asks, ask{
			name: fmt.Sprintf("random selection %d", i),
			query: `query($yes: Boolean!, $first: Int) { configurations(first: $first) { n0: nodes { ...Card t: __typename @include(if: $yes) } ...on ConfigurationConnection ` +
				sel + ` } } fragment Card on Configuration { slug title ... on Node { id } }`,
			vars:          vars,
			anonymousOnly: true,
		})
	}

	asked := map[string]bool{}
	for viewer, token := range viewers {
		for _, a := range asks {
			if a.anonymousOnly && token != "" {
				continue
			}
			before, collections := fastApp.Listing().Served(), fastApp.Listing().Collections()
			ours := postRaw(t, fast, token, a.query, a.vars)
			theirs := postRaw(t, gqlgen, token, a.query, a.vars)
			if !bytes.Equal(ours, theirs) {
				t.Errorf("%s, %s: answers differ\nfast path: %s\ngqlgen:    %s", viewer, a.name, ours, theirs)
			}
			declined := a.declined || slices.Contains(a.declinedFor, viewer) ||
				viewer == "admin" && strings.Contains(a.query, "versions")
			served := fastApp.Listing().Served() > before
			if served == declined {
				t.Errorf("%s, %s: served by the fast path = %v", viewer, a.name, served)
			}
			// A document without variables asked again is written from
			// what the fast path kept of it the first time.
			if again := fastApp.Listing().Collections() - collections; served && a.vars == nil && asked[a.query] && again != 0 {
				t.Errorf("%s, %s: asked again, %d selection sets collected anew", viewer, a.name, again)
			}
			asked[a.query] = true
			if !declined && bytes.Contains(ours, []byte(`"errors"`)) {
				t.Errorf("%s, %s: %s", viewer, a.name, ours)
			}
		}
	}
}

// everyListingField selects every field the fast path writes on typ, at
// every depth.
func everyListingField(typ string, fields map[string]map[string]string) string {
	names := slices.Sorted(func(yield func(string) bool) {
		for name := range fields[typ] {
			if !yield(name) {
				return
			}
		}
	})
	var b strings.Builder
	b.WriteString("{ __typename")
	for _, name := range names {
		b.WriteString(" " + name + listingFieldArgs(name))
		if child := fields[typ][name]; child != "" {
			b.WriteString(" " + everyListingField(child, fields))
		}
	}
	b.WriteString(" }")
	return b.String()
}

func listingFieldArgs(field string) string {
	switch field {
	case "versions":
		return "(first: 2)"
	case "rentPrice":
		return `(plan: "B")`
	}
	return ""
}

// randomListingSelection picks fields of typ at random, some aliased, some
// twice, some behind fragments or @include/@skip on $yes.
func randomListingSelection(rng *rand.Rand, typ string, fields map[string]map[string]string, depth int) string {
	names := slices.Sorted(func(yield func(string) bool) {
		for name := range fields[typ] {
			if !yield(name) {
				return
			}
		}
	})
	var parts []string
	for _, name := range names {
		if rng.IntN(10) < 4 {
			continue
		}
		f := name + listingFieldArgs(name)
		if rng.IntN(5) == 0 {
			f = fmt.Sprintf("a%d_%s: %s", depth, name, f)
		}
		switch rng.IntN(8) {
		case 0:
			f += " @include(if: $yes)"
		case 1:
			f += " @skip(if: $yes)"
		}
		if child := fields[typ][name]; child != "" {
			f += " " + randomListingSelection(rng, child, fields, depth+1)
		}
		if rng.IntN(8) == 0 {
			f = "... on " + typ + " { " + f + " }"
		}
		parts = append(parts, f)
		if rng.IntN(10) == 0 {
			parts = append(parts, f) // the same field twice merges into one
		}
	}
	if typ == "Configuration" && rng.IntN(3) == 0 {
		parts = append(parts, "...Card")
	}
	if rng.IntN(3) == 0 || len(parts) == 0 {
		parts = append(parts, "__typename")
	}
	return "{ " + strings.Join(parts, " ") + " }"
}

// pageCursor is the end cursor of the listing's first page of n.
func pageCursor(t *testing.T, s *Server, n int) string {
	t.Helper()
	res := s.Do(t, "", `query($n: Int) { configurations(first: $n) { pageInfo { endCursor } } }`, map[string]any{"n": n})
	c := str(res.Data, "configurations", "pageInfo", "endCursor")
	if c == "" {
		t.Fatalf("no cursor: %s", res.Raw)
	}
	return c
}

func operationDocument(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Root(), "operations", path))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// postRaw returns an answer's bytes as sent, with the request id (which
// differs by request) taken out of error extensions.
func postRaw(t *testing.T, s *Server, token, query string, vars map[string]any) []byte {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	s.visitors++
	headers := map[string]string{"X-Forwarded-For": fmt.Sprintf("10.9.%d.%d", s.visitors/256%256, s.visitors%256)}
	if token != "" {
		headers["Authorization"] = "Bearer " + token
	}
	res := s.raw(t, http.MethodPost, "/graphql", "application/json", string(body), headers)
	return requestIDs.ReplaceAll([]byte(res.body), []byte(`"requestId":"-"`))
}

var requestIDs = regexp.MustCompile(`"requestId":"[^"]*"`)
