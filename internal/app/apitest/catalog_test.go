package apitest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"configmarket/internal/cache"
	"configmarket/internal/factory"
	"configmarket/internal/money"
	"configmarket/internal/relay"
	"configmarket/internal/store"
)

// catalogWorld is one developer's configurations in every visibility and
// state, and a viewer of every role.
type catalogWorld struct {
	s      *Server
	owner  factory.Account
	tokens map[string]string
	confs  map[string]store.Configuration
}

func newCatalogWorld(t *testing.T) *catalogWorld {
	t.Helper()
	s := New(t)
	w := &catalogWorld{s: s, owner: factory.Developer(t, s.Store), tokens: map[string]string{"anonymous": ""}, confs: map[string]store.Configuration{}}
	invited := factory.Customer(t, s.Store)
	accounts := map[string]factory.Account{
		"owner":            w.owner,
		"other developer":  factory.Developer(t, s.Store),
		"customer":         factory.Customer(t, s.Store),
		"invited customer": invited,
		"partner":          factory.Partner(t, s.Store),
		"admin":            factory.Admin(t, s.Store),
	}
	for name, a := range accounts {
		w.tokens[name], _ = s.LogIn(t, a, nil)
	}
	w.confs["public"] = factory.Configuration(t, s.Store, w.owner.OrgID, factory.ConfigurationOptions{})
	w.confs["unlisted"] = factory.Configuration(t, s.Store, w.owner.OrgID, factory.ConfigurationOptions{Visibility: "unlisted"})
	w.confs["private"] = factory.Configuration(t, s.Store, w.owner.OrgID, factory.ConfigurationOptions{Visibility: "private"})
	w.confs["draft"] = factory.Configuration(t, s.Store, w.owner.OrgID, factory.ConfigurationOptions{State: "draft"})
	w.confs["suspended"] = factory.Configuration(t, s.Store, w.owner.OrgID, factory.ConfigurationOptions{State: "suspended"})
	if err := s.Store.InviteCustomer(context.Background(), w.confs["private"].ID, invited.OrgID); err != nil {
		t.Fatal(err)
	}
	return w
}

var everyone = []string{"anonymous", "owner", "other developer", "customer", "invited customer", "partner", "admin"}

func only(names ...string) map[string]bool {
	out := map[string]bool{}
	for _, n := range names {
		out[n] = true
	}
	return out
}

// TestConfigurationVisibilityMatrix checks every configuration kind against
// every role through each path: node(id:), configuration(slug:) and the
// storefront listing. Each allowed cell has its refused twin in the row.
func TestConfigurationVisibilityMatrix(t *testing.T) {
	w := newCatalogWorld(t)
	all := only(everyone...)
	matrix := []struct {
		conf   string
		byID   map[string]bool
		listed bool
	}{
		{"public", all, true},
		{"unlisted", all, false},
		{"private", only("owner", "invited customer", "admin"), false},
		{"draft", only("owner", "admin"), false},
		{"suspended", only("owner", "admin"), false},
	}
	for _, row := range matrix {
		c := w.confs[row.conf]
		id := globalIDOf("Configuration", c.ID)
		for _, viewer := range everyone {
			t.Run(row.conf+"/"+viewer, func(t *testing.T) {
				tok := w.tokens[viewer]
				byID := w.s.Do(t, tok, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id})
				bySlug := w.s.Do(t, tok, `query($s: String!) { configuration(slug: $s) { id } }`, map[string]any{"s": c.Slug})
				if byID.Code() != "" || bySlug.Code() != "" {
					t.Fatalf("errors: %s %s", byID.Raw, bySlug.Raw)
				}
				want := row.byID[viewer]
				if got := str(byID.Data, "node", "id") == id; got != want {
					t.Errorf("node(id:) visible=%v want %v", got, want)
				}
				if got := str(bySlug.Data, "configuration", "id") == id; got != want {
					t.Errorf("configuration(slug:) visible=%v want %v", got, want)
				}
				list := w.s.Do(t, tok, `{ configurations(first: 100) { nodes { id } } }`, nil)
				listed := false
				for _, n := range get(list.Data, "configurations", "nodes").([]any) {
					listed = listed || str(n, "id") == id
				}
				if listed != row.listed {
					t.Errorf("listed=%v want %v", listed, row.listed)
				}
			})
		}
	}
}

// Private fields resolve only for the owner and admins, also when the
// configuration is reached through a nested path.
func TestPrivateFieldsOnlyForOwnerAndAdmin(t *testing.T) {
	w := newCatalogWorld(t)
	c := w.confs["public"]
	query := `query($s: String!) { configuration(slug: $s) {
		activeInstallations priceHistory { price { amount } } moderationHistory { action }
		developer { configurations(first: 10) { nodes { slug state } } }
		versions(first: 10) { nodes { number state } } } }`
	for _, viewer := range everyone {
		t.Run(viewer, func(t *testing.T) {
			res := w.s.Do(t, w.tokens[viewer], query, map[string]any{"s": c.Slug})
			if res.Code() != "" {
				t.Fatal(res.Raw)
			}
			private := viewer == "owner" || viewer == "admin"
			if got := get(res.Data, "configuration", "activeInstallations") != nil; got != private {
				t.Errorf("activeInstallations visible=%v", got)
			}
			if got := get(res.Data, "configuration", "priceHistory") != nil; got != private {
				t.Errorf("priceHistory visible=%v", got)
			}
			if got := get(res.Data, "configuration", "moderationHistory") != nil; got != private {
				t.Errorf("moderationHistory visible=%v", got)
			}
			// The developer's portfolio: drafts and suspended ones only for
			// the owner and admins.
			states := map[string]bool{}
			for _, n := range get(res.Data, "configuration", "developer", "configurations", "nodes").([]any) {
				states[str(n, "state")] = true
			}
			if got := states["DRAFT"] || states["SUSPENDED"]; got != private {
				t.Errorf("draft/suspended in portfolio=%v (%v)", got, states)
			}
		})
	}
}

func TestDraftVersionsOnlyForOwnerAndAdmin(t *testing.T) {
	w := newCatalogWorld(t)
	c := w.confs["public"]
	draft, err := w.s.Store.CreateVersion(context.Background(), c.ID, store.VersionKey{Major: 2}, "next")
	if err != nil {
		t.Fatal(err)
	}
	for _, viewer := range everyone {
		t.Run(viewer, func(t *testing.T) {
			res := w.s.Do(t, w.tokens[viewer], `query($s: String!, $v: ID!) {
				configuration(slug: $s) { currentVersion { number } versions { nodes { number } } }
				node(id: $v) { id } }`, map[string]any{"s": c.Slug, "v": globalIDOf("Version", draft.ID)})
			private := viewer == "owner" || viewer == "admin"
			if got := str(res.Data, "configuration", "currentVersion", "number"); got != "1.0.0" {
				t.Errorf("current version %q: a draft is never current", got)
			}
			if got := len(get(res.Data, "configuration", "versions", "nodes").([]any)) == 2; got != private {
				t.Errorf("draft in versions=%v: %s", got, res.Raw)
			}
			if got := get(res.Data, "node") != nil; got != private {
				t.Errorf("draft by node(id:)=%v", got)
			}
		})
	}
}

// The storefront listing with every nested field costs the same four
// statements for 10, 50 and 100 configurations: the page, its developers,
// its prices, and its versions (currentVersion and versions share one).
func TestStorefrontListingIsNPlusOneFree(t *testing.T) {
	s := New(t)
	dev := factory.Developer(t, s.Store)
	for i := range 100 {
		factory.Configuration(t, s.Store, dev.OrgID, factory.ConfigurationOptions{
			Versions:  []store.VersionKey{{Major: 1}, {Major: 1, Minor: 1}, {Major: 1, Minor: 2}, {Major: 2}},
			SaleMinor: int64(3_500_000 + i),
		})
	}
	query := `query($n: Int) { configurations(first: $n) { nodes {
		slug developer { name } currentVersion { number } versions(first: 3) { nodes { number changelog } }
		rentPrices { tariffPlan { code } price { amount } } salePrice { amount } rating { average count } } } }`
	s.Do(t, "", `{ tariffPlans { code } }`, nil) // plans are cached apart from the catalog
	var counts []int64
	for _, n := range []int{10, 50, 100} {
		// Every round is a new generation: nothing is answered from cache.
		cache.NewGeneration(s.Cache, "public").Bump(context.Background())
		before := s.Counter.Count()
		res := s.Do(t, "", query, map[string]any{"n": n})
		if res.Code() != "" || len(get(res.Data, "configurations", "nodes").([]any)) != n {
			t.Fatalf("listing %d: %s", n, res.Raw[:min(300, len(res.Raw))])
		}
		if got := len(get(res.Data, "configurations", "nodes", 0, "versions", "nodes").([]any)); got != 3 {
			t.Fatalf("versions(first: 3) gave %d", got)
		}
		counts = append(counts, s.Counter.Count()-before)
	}
	t.Logf("statements for 10/50/100 configurations: %v", counts)
	for _, c := range counts {
		// The page statement reads the cards' developers, versions
		// and prices too.
		if c != 1 {
			t.Fatalf("statements %v: want one per page", counts)
		}
	}
}

// TestStorefrontCardsAreWhatEachViewerSees checks what the page statement
// reads for the cards against each viewer: the public versions for
// everyone, the owner's and admins' drafts through their own read, rent
// prices smallest plan first whatever order the plans' ids sort in.
func TestStorefrontCardsAreWhatEachViewerSees(t *testing.T) {
	s := New(t)
	ctx := context.Background()
	owner := factory.Developer(t, s.Store)
	c := factory.Configuration(t, s.Store, owner.OrgID, factory.ConfigurationOptions{
		Versions: []store.VersionKey{{Major: 1}, {Major: 2}}, SaleMinor: 990000,
	})
	if _, err := s.Store.CreateVersion(ctx, c.ID, store.VersionKey{Major: 3}, "Unreleased"); err != nil {
		t.Fatal(err)
	}
	plans, err := s.Store.TariffPlans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range plans {
		// A price a plan's size apart: 100.00 per allowed user.
		price := store.Price{ConfigurationID: c.ID, Kind: "rent", TariffPlanID: &p.ID, Amount: money.New(int64(p.MaxUsers)*10000, money.RUB)}
		if err := s.Store.InsertPrice(ctx, price); err != nil {
			t.Fatal(err)
		}
	}
	devs, err := s.Store.DevelopersByIDs(ctx, []uuid.UUID{owner.OrgID})
	if err != nil || len(devs) != 1 {
		t.Fatal(devs, err)
	}
	ownerToken, _ := s.LogIn(t, owner, nil)
	adminToken, _ := s.LogIn(t, factory.Admin(t, s.Store), nil)
	const query = `{ configurations(first: 50) { nodes { slug developer { name }
		currentVersion { number } versions(first: 5) { nodes { number } } latest: versions(first: 1) { nodes { number } }
		rentPrices { tariffPlan { code maxUsers } price { amount } } salePrice { amount } } } }`
	numbers := func(card any, field string) []string {
		var out []string
		for _, n := range get(card, field, "nodes").([]any) {
			out = append(out, str(n, "number"))
		}
		return out
	}
	// The same fields on the configuration alone (prefetched at once
	// rather than through the loaders' batch window).
	const detail = `query ($slug: String!) { configuration(slug: $slug) { slug developer { name }
		currentVersion { number } versions(first: 5) { nodes { number } } latest: versions(first: 1) { nodes { number } }
		rentPrices { tariffPlan { code maxUsers } price { amount } } salePrice { amount } } }`
	type ask struct {
		viewer, token string
		versions      []string
	}
	var asks []ask
	for _, a := range []ask{
		{"anonymous", "", []string{"2.0.0", "1.0.0"}},
		{"owner", ownerToken, []string{"3.0.0", "2.0.0", "1.0.0"}},
		{"admin", adminToken, []string{"3.0.0", "2.0.0", "1.0.0"}},
	} {
		asks = append(asks, a, ask{a.viewer + " (detail)", a.token, a.versions})
	}
	for _, tc := range asks {
		var card any
		if strings.HasSuffix(tc.viewer, "(detail)") {
			res := s.Do(t, tc.token, detail, map[string]any{"slug": c.Slug})
			if res.Code() != "" {
				t.Fatalf("%s: %s", tc.viewer, res.Raw)
			}
			card = get(res.Data, "configuration")
		} else {
			res := s.Do(t, tc.token, query, nil)
			if res.Code() != "" {
				t.Fatalf("%s: %s", tc.viewer, res.Raw)
			}
			for _, n := range get(res.Data, "configurations", "nodes").([]any) {
				if str(n, "slug") == c.Slug {
					card = n
				}
			}
		}
		if card == nil {
			t.Fatalf("%s: %s not listed", tc.viewer, c.Slug)
		}
		if got := str(get(card, "developer"), "name"); got != devs[0].Name {
			t.Errorf("%s: developer %q, want %q", tc.viewer, got, devs[0].Name)
		}
		if got := str(get(card, "currentVersion"), "number"); got != "2.0.0" {
			t.Errorf("%s: currentVersion %s, want 2.0.0", tc.viewer, got)
		}
		if got := numbers(card, "versions"); !slices.Equal(got, tc.versions) {
			t.Errorf("%s: versions %v, want %v", tc.viewer, got, tc.versions)
		}
		if got := numbers(card, "latest"); !slices.Equal(got, tc.versions[:1]) {
			t.Errorf("%s: versions(first: 1) %v, want %v", tc.viewer, got, tc.versions[:1])
		}
		prices := get(card, "rentPrices").([]any)
		if len(prices) != len(plans) {
			t.Fatalf("%s: %d rent prices, want %d", tc.viewer, len(prices), len(plans))
		}
		for i, p := range prices {
			users := int64(get(p, "tariffPlan", "maxUsers").(float64))
			want := money.New(users*10000, money.RUB).Amount()
			if got := str(get(p, "price"), "amount"); got != want || (i > 0 && users <= int64(get(prices[i-1], "tariffPlan", "maxUsers").(float64))) {
				t.Errorf("%s: rent prices %v: want smallest plan first at 100.00 per user", tc.viewer, prices)
			}
		}
		if got := str(get(card, "salePrice"), "amount"); got != "9900.00" {
			t.Errorf("%s: sale price %s, want 9900.00", tc.viewer, got)
		}
	}
	// A page reads descriptions only when it shows them, however it asks.
	res := s.Do(t, "", `{ configurations(first: 5) { edges { node { slug ...long } } } }
		fragment long on Configuration { description }`, nil)
	if got := str(get(res.Data, "configurations", "edges", 0, "node"), "description"); got != "About "+c.Title {
		t.Errorf("description through a fragment %q, want %q", got, "About "+c.Title)
	}
}

func TestStorefrontSearchFiltersAndOrders(t *testing.T) {
	s := New(t)
	ctx := context.Background()
	dev := factory.Developer(t, s.Store)
	zero := 0
	mk := func(title string, rent int64, tags []string, trial *int) store.Configuration {
		return factory.Configuration(t, s.Store, dev.OrgID, factory.ConfigurationOptions{Title: title, RentMinor: rent, Tags: tags, TrialDays: trial})
	}
	funnel := mk("Воронка продаж", 50000, []string{"продажи"}, nil)
	sales := mk("Sales Funnel Pro", 70000, []string{"sales", "pipeline"}, nil)
	hr := mk("HR Onboarding", 30000, []string{"hr"}, &zero)
	_ = ctx

	slugs := func(res Response) []string {
		var out []string
		for _, n := range get(res.Data, "configurations", "nodes").([]any) {
			out = append(out, str(n, "slug"))
		}
		return out
	}
	cases := []struct {
		name   string
		filter map[string]any
		order  map[string]any
		want   []string
	}{
		{"russian stem", map[string]any{"search": "воронки"}, nil, []string{funnel.Slug}},
		{"english stem", map[string]any{"search": "funnels"}, nil, []string{sales.Slug}},
		{"prefix", map[string]any{"search": "onboard"}, nil, []string{hr.Slug}},
		{"typo", map[string]any{"search": "Onbording"}, nil, []string{hr.Slug}},
		{"tag", map[string]any{"tags": []string{"pipeline"}}, nil, []string{sales.Slug}},
		{"no trial", map[string]any{"hasTrial": false}, nil, []string{hr.Slug}},
		{"price range on plan B", map[string]any{"price": map[string]any{"plan": "B", "min": "400.00", "max": "600.00"}}, nil, []string{funnel.Slug}},
		{"price ascending", nil, map[string]any{"field": "PRICE", "plan": "B"}, []string{hr.Slug, funnel.Slug, sales.Slug}},
		{"price descending", nil, map[string]any{"field": "PRICE", "direction": "DESC"}, []string{sales.Slug, funnel.Slug, hr.Slug}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := s.Do(t, "", `query($f: ConfigurationFilter, $o: ConfigurationOrder) {
				configurations(filter: $f, orderBy: $o) { nodes { slug } } }`, map[string]any{"f": tc.filter, "o": tc.order})
			if res.Code() != "" {
				t.Fatal(res.Raw)
			}
			if got := slugs(res); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("got %v want %v", got, tc.want)
			}
		})
	}
}

func TestStorefrontPagesByEveryOrderWithoutGaps(t *testing.T) {
	s := New(t)
	dev := factory.Developer(t, s.Store)
	for i := range 7 {
		// Equal prices and ratings force the id tie-breaker.
		factory.Configuration(t, s.Store, dev.OrgID, factory.ConfigurationOptions{RentMinor: int64(50000 + (i%2)*100)})
	}
	for _, order := range []string{"POPULARITY", "NEWEST", "RATING", "PRICE"} {
		t.Run(order, func(t *testing.T) {
			seen := map[string]bool{}
			var after any
			for page := 0; page < 10; page++ {
				res := s.Do(t, "", `query($a: String, $o: ConfigurationOrderField!) { configurations(first: 3, after: $a, orderBy: {field: $o}) {
					nodes { slug } pageInfo { hasNextPage endCursor } } }`, map[string]any{"a": after, "o": order})
				if res.Code() != "" {
					t.Fatal(res.Raw)
				}
				for _, n := range get(res.Data, "configurations", "nodes").([]any) {
					if seen[str(n, "slug")] {
						t.Fatalf("%s repeated", str(n, "slug"))
					}
					seen[str(n, "slug")] = true
				}
				if get(res.Data, "configurations", "pageInfo", "hasNextPage") != true {
					break
				}
				after = str(res.Data, "configurations", "pageInfo", "endCursor")
			}
			if len(seen) != 7 {
				t.Fatalf("saw %d of 7", len(seen))
			}
		})
	}
	// A cursor made in one order is refused by another.
	first := s.Do(t, "", `{ configurations(first: 1, orderBy: {field: PRICE}) { pageInfo { endCursor } } }`, nil)
	res := s.Do(t, "", `query($a: String) { configurations(after: $a, orderBy: {field: NEWEST}) { nodes { slug } } }`,
		map[string]any{"a": str(first.Data, "configurations", "pageInfo", "endCursor")})
	if res.Code() != "BAD_USER_INPUT" {
		t.Fatalf("foreign cursor: %s", res.Raw)
	}
}

// TestPricesInForceFollowTheHistory inserts a sale price history out of
// order — a change an hour ago, one scheduled ahead, a later change, one
// scheduled between — and checks the spans the database keeps and the
// price in force.
func TestPricesInForceFollowTheHistory(t *testing.T) {
	s := New(t)
	ctx := context.Background()
	dev := factory.Developer(t, s.Store)
	c := factory.Configuration(t, s.Store, dev.OrgID, factory.ConfigurationOptions{})
	now := time.Now()
	sale := func(minor int64, from time.Time) {
		t.Helper()
		if err := s.Store.InsertPrice(ctx, store.Price{ConfigurationID: c.ID, Kind: "sale", Amount: money.New(minor, money.RUB), ValidFrom: from}); err != nil {
			t.Fatal(err)
		}
	}
	inForce := func() []int64 {
		t.Helper()
		prices, err := s.Store.CurrentPrices(ctx, []uuid.UUID{c.ID})
		if err != nil {
			t.Fatal(err)
		}
		var found []int64
		for _, p := range prices {
			if p.Kind == "sale" {
				found = append(found, p.Amount.Minor)
			}
		}
		return found
	}
	sale(90000, now.Add(48*time.Hour)) // scheduled the day after tomorrow
	if got := inForce(); len(got) != 0 {
		t.Fatalf("sale prices in force %v before any started, want none", got)
	}
	sale(60000, now.Add(-time.Hour))   // a change an hour ago
	sale(70000, now.Add(-time.Minute)) // a later change
	sale(80000, now.Add(24*time.Hour)) // scheduled tomorrow, between
	if got := inForce(); !slices.Equal(got, []int64{70000}) {
		t.Fatalf("sale prices in force %v, want [70000]: the newest change not in the future", got)
	}
	rows, err := s.Pool.Query(ctx, `select amount_minor, valid_from, valid_until from prices
		where configuration_id = $1 and kind = 'sale' order by valid_from`, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	type span struct {
		amount int64
		from   time.Time
		until  *time.Time
	}
	spans, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (span, error) {
		var sp span
		return sp, r.Scan(&sp.amount, &sp.from, &sp.until)
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []int64{60000, 70000, 80000, 90000}
	if len(spans) != len(want) {
		t.Fatalf("history %v, want amounts %v", spans, want)
	}
	for i, sp := range spans {
		if sp.amount != want[i] {
			t.Fatalf("history %v, want amounts %v", spans, want)
		}
		last := i == len(spans)-1
		if last != (sp.until == nil) || !last && !sp.until.Equal(spans[i+1].from) {
			t.Errorf("%d: valid until %v, want the next row's start (none for the last)", sp.amount, sp.until)
		}
	}
}

// TestCardVersionCursorsPageOn pages through a card's versions with the
// cursors the listing gave, asked for directly and through a fragment: a
// listing encodes version cursors only when its document selects one.
func TestCardVersionCursorsPageOn(t *testing.T) {
	s := New(t)
	dev := factory.Developer(t, s.Store)
	c := factory.Configuration(t, s.Store, dev.OrgID, factory.ConfigurationOptions{
		Versions: []store.VersionKey{{Major: 1}, {Major: 1, Minor: 1}, {Major: 1, Minor: 2}, {Major: 2}, {Major: 3}},
	})
	for _, query := range []string{
		`{ configurations(first: 10) { nodes { slug versions(first: 2) { edges { cursor node { number } } pageInfo { endCursor } } } } }`,
		`{ configurations(first: 10) { nodes { slug versions(first: 2) { ...page } } } }
		fragment page on VersionConnection { nodes { number } pageInfo { endCursor } }`,
	} {
		res := s.Do(t, "", query, nil)
		card := get(res.Data, "configurations", "nodes", 0)
		if res.Code() != "" || str(card, "slug") != c.Slug {
			t.Fatalf("listing: %s", res.Raw)
		}
		end := str(get(card, "versions", "pageInfo"), "endCursor")
		next := s.Do(t, "", `query ($slug: String!, $after: String) { configuration(slug: $slug) {
			versions(first: 2, after: $after) { nodes { number } } } }`, map[string]any{"slug": c.Slug, "after": end})
		var got []string
		for _, n := range get(next.Data, "configuration", "versions", "nodes").([]any) {
			got = append(got, str(n, "number"))
		}
		if want := []string{"1.2.0", "1.1.0"}; !slices.Equal(got, want) {
			t.Errorf("after the card's end cursor %q: %v (%s), want %v", end, got, next.Raw, want)
		}
	}
}

// A page reads its versions' ids and states only when the document asks
// for one of them somewhere: a version's own field, any node's id (which
// may be a version's), or a version connection deeper in the document.
func TestStorefrontVersionsReadTheirIDsWhenAskedAnywhere(t *testing.T) {
	s := New(t)
	ctx := context.Background()
	c := listedWithTwoVersions(t, s)
	var newest uuid.UUID
	if err := s.Pool.QueryRow(ctx, `select id from versions where configuration_id = $1 and minor = 1`, c.ID).Scan(&newest); err != nil {
		t.Fatal(err)
	}
	for name, query := range map[string]string{
		"on the page": `{ configurations(first: 50) { nodes { slug v: versions(first: 3) { nodes { number id state } } } } }`,
		"as a node":   `{ configurations(first: 50) { nodes { slug v: versions(first: 3) { nodes { number ... on Node { id } } } } } }`,
		"in a fragment": `{ configurations(first: 50) { nodes { slug versions(first: 3) { nodes { number } } v: currentVersion { ...ids } } } }
			fragment ids on Version { id state }`,
		"deeper": `{ configurations(first: 50) { nodes { slug versions(first: 3) { nodes { number
			configuration { v: versions(first: 3) { nodes { id state } } } } } } } }`,
	} {
		v := listedVersion(t, s, query, c.Slug, name == "deeper")
		if got, want := str(v, "id"), relay.UUIDID("Version", newest); got != want {
			t.Errorf("%s: id %q, want %q", name, got, want)
		}
		if got := get(v, "state"); got != nil && got != "APPROVED" {
			t.Errorf("%s: state %v", name, got)
		}
	}
}

// listedWithTwoVersions is a listed configuration with approved versions
// 1.0.0 and 1.1.0.
func listedWithTwoVersions(t *testing.T, s *Server) store.Configuration {
	t.Helper()
	owner := factory.Developer(t, s.Store)
	return factory.Configuration(t, s.Store, owner.OrgID, factory.ConfigurationOptions{
		Versions: []store.VersionKey{{Major: 1}, {Major: 1, Minor: 1}},
	})
}

// listedVersion asks query and returns, on the card of slug, the first
// version under the alias v: on the card itself or, deeper, on the
// configuration of the card's first version.
func listedVersion(t *testing.T, s *Server, query, slug string, deeper bool) any {
	t.Helper()
	res := s.Do(t, "", query, nil)
	if res.Code() != "" {
		t.Fatalf("%s", res.Raw)
	}
	for _, n := range get(res.Data, "configurations", "nodes").([]any) {
		if str(n, "slug") != slug {
			continue
		}
		v := get(n, "v")
		if deeper {
			v = get(get(n, "versions", "nodes").([]any)[0], "configuration", "v")
		}
		if nodes, ok := get(v, "nodes").([]any); ok {
			v = nodes[0]
		}
		return v
	}
	t.Fatalf("%s not listed: %s", slug, res.Raw)
	return nil
}

// A page reads its versions' changelogs and moderation fields only when the
// document asks for one of them somewhere: on the page's versions, through
// a fragment, or on a version connection deeper in the document, which
// the page's versions prime the loaders for.
func TestStorefrontVersionsReadTheirDetailWhenAskedAnywhere(t *testing.T) {
	s := New(t)
	ctx := context.Background()
	c := listedWithTwoVersions(t, s)
	for _, columns := range []store.VersionColumns{store.VersionNumber, store.VersionSummary, store.VersionDetail} {
		rows, err := s.Store.StorefrontPage(ctx, store.StorefrontQuery{Order: store.OrderNewest, Desc: true, Limit: 50,
			With: store.CardRowsWanted{Versions: 4, VersionStates: []store.VersionState{store.VersionApproved}, VersionColumns: columns}})
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range rows.Configurations {
			if r.ID != c.ID {
				continue
			}
			v := rows.Cards[i].Versions[0]
			if v.Major != 1 || v.Minor != 1 || v.ConfigurationID != c.ID {
				t.Errorf("columns %d: newest version %+v", columns, v)
			}
			if summary := v.ID != uuid.Nil && v.State == "approved"; summary != (columns != store.VersionNumber) {
				t.Errorf("columns %d: id %v, state %q", columns, v.ID, v.State)
			}
			if detail := v.Changelog != "" && !v.CreatedAt.IsZero(); detail != (columns == store.VersionDetail) {
				t.Errorf("columns %d: changelog %q, created %v", columns, v.Changelog, v.CreatedAt)
			}
		}
	}
	for name, query := range map[string]string{
		"on the page": `{ configurations(first: 50) { nodes { slug v: versions(first: 3) { nodes { number changelog } } } } }`,
		"in a fragment": `{ configurations(first: 50) { nodes { slug versions(first: 3) { nodes { number } } v: currentVersion { ...log } } } }
			fragment log on Version { changelog }`,
		"deeper": `{ configurations(first: 50) { nodes { slug versions(first: 3) { nodes { number
			configuration { v: versions(first: 3) { nodes { changelog } } } } } } } }`,
	} {
		v := listedVersion(t, s, query, c.Slug, name == "deeper")
		if got := str(v, "changelog"); got != "Release 1.1.0" {
			t.Errorf("%s: changelog %q, want Release 1.1.0", name, got)
		}
	}
}

// A page reads the row past its end, which tells whether another page
// follows, only when the document asks a hasNextPage somewhere; asked on
// the page, on its cards' versions or through a fragment, it is right.
func TestPagesReadPastTheirEndOnlyForHasNextPage(t *testing.T) {
	s := New(t)
	owner := factory.Developer(t, s.Store)
	four := factory.Configuration(t, s.Store, owner.OrgID, factory.ConfigurationOptions{
		Versions: []store.VersionKey{{Major: 1}, {Major: 1, Minor: 1}, {Major: 1, Minor: 2}, {Major: 1, Minor: 3}},
	})
	one := factory.Configuration(t, s.Store, owner.OrgID, factory.ConfigurationOptions{})
	factory.Configuration(t, s.Store, owner.OrgID, factory.ConfigurationOptions{})
	s.Do(t, "", `{ configurations(first: 1) { nodes { slug } } }`, nil) // reference data read once

	for _, tc := range []struct {
		name, query string
		rows        int64
		pageNext    any
	}{
		{"not asked", `{ configurations(first: 2) { nodes { slug versions(first: 3) { nodes { number } } } } }`, 2, nil},
		{"on the page", `{ configurations(first: 2) { pageInfo { hasNextPage } nodes { slug } } }`, 3, true},
		{"on the page, all of it", `{ configurations(first: 3) { pageInfo { hasNextPage } nodes { slug } } }`, 3, false},
		{"on the versions, through a fragment", `{ configurations(first: 2) { nodes { slug versions(first: 3) { ...more } } } }
			fragment more on VersionConnection { pageInfo { hasNextPage } }`, 3, nil},
	} {
		before := s.Counter.Rows()
		res := s.Do(t, "", tc.query, nil)
		if res.Code() != "" {
			t.Fatalf("%s: %s", tc.name, res.Raw)
		}
		if got := s.Counter.Rows() - before; got != tc.rows {
			t.Errorf("%s: the page read %d rows, want %d", tc.name, got, tc.rows)
		}
		if got := get(res.Data, "configurations", "pageInfo", "hasNextPage"); got != tc.pageNext {
			t.Errorf("%s: page hasNextPage %v, want %v", tc.name, got, tc.pageNext)
		}
	}

	res := s.Do(t, "", `{ configurations(first: 3) { nodes { slug versions(first: 3) { pageInfo { hasNextPage } nodes { number } } } } }`, nil)
	if res.Code() != "" {
		t.Fatalf("%s", res.Raw)
	}
	want := map[string]bool{four.Slug: true, one.Slug: false}
	for _, n := range get(res.Data, "configurations", "nodes").([]any) {
		if next, ok := want[str(n, "slug")]; ok {
			if got := get(n, "versions", "pageInfo", "hasNextPage"); got != next {
				t.Errorf("%s: versions hasNextPage %v, want %v", str(n, "slug"), got, next)
			}
			if got := len(get(n, "versions", "nodes").([]any)); got != min(3, map[bool]int{true: 4, false: 1}[next]) {
				t.Errorf("%s: %d versions", str(n, "slug"), got)
			}
			delete(want, str(n, "slug"))
		}
	}
	if len(want) != 0 {
		t.Errorf("not listed: %v", want)
	}
}
