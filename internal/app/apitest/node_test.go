package apitest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"configmarket/internal/cache"
	"configmarket/internal/factory"
)

// Each private object is checked from every role: visible to its own and to
// admins, null (exactly like a missing id) to everyone else.
func TestNodeVisibility(t *testing.T) {
	s := New(t)
	cust := factory.Customer(t, s.Store)
	other := factory.Customer(t, s.Store)
	partner := factory.Partner(t, s.Store)
	dev := factory.Developer(t, s.Store)
	admin := factory.Admin(t, s.Store)
	token := map[string]string{"anonymous": ""}
	for name, a := range map[string]factory.Account{"customer": cust, "other customer": other, "partner": partner, "developer": dev, "admin": admin} {
		token[name], _ = s.LogIn(t, a, nil)
	}

	cases := []struct {
		object  string
		id      string
		visible map[string]bool
	}{
		{"customer", globalIDOf("Customer", cust.OrgID), map[string]bool{"customer": true, "admin": true}},
		{"partner", globalIDOf("Partner", partner.OrgID), map[string]bool{"partner": true, "admin": true}},
		{"user", globalIDOf("User", cust.UserID), map[string]bool{"customer": true, "admin": true}},
		{"developer profile (public)", globalIDOf("Developer", dev.OrgID), map[string]bool{
			"anonymous": true, "customer": true, "other customer": true, "partner": true, "developer": true, "admin": true}},
	}
	for _, tc := range cases {
		for viewer, tok := range token {
			t.Run(tc.object+" as "+viewer, func(t *testing.T) {
				res := s.Do(t, tok, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": tc.id})
				if res.Code() != "" {
					t.Fatalf("error: %s", res.Raw)
				}
				got := str(res.Data, "node", "id") == tc.id
				if got != tc.visible[viewer] {
					t.Fatalf("visible=%v, want %v: %s", got, tc.visible[viewer], res.Raw)
				}
			})
		}
	}
}

func TestNodeOfMissingOrUnknownTypeIsNull(t *testing.T) {
	s := New(t)
	for _, id := range []string{
		globalIDOf("Developer", [16]byte{1}),
		globalIDOf("Spaceship", [16]byte{1}),
	} {
		res := s.Do(t, "", `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id})
		if res.Code() != "" || get(res.Data, "node") != nil {
			t.Fatalf("%s: %s", id, res.Raw)
		}
	}
}

// nodes(ids:) for N objects costs one statement per type, not one per
// object; tariff plans come from the cached plan list and cost none.
func TestNodesBatchesOneQueryPerType(t *testing.T) {
	s := New(t)
	ctx := context.Background()
	var ids []string
	for i := range 12 {
		d, err := s.Store.CreateDeveloper(ctx, fmt.Sprintf("batch-%d", i), fmt.Sprintf("Batch %d", i))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, globalIDOf("Developer", d.ID))
	}
	plans, err := s.Store.TariffPlans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range plans {
		ids = append(ids, globalIDOf("TariffPlan", p.ID))
	}
	query := `query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Developer { slug } ... on TariffPlan { code } } }`

	measure := func() int64 {
		before := s.Counter.Count()
		res := s.Do(t, "", query, map[string]any{"ids": ids})
		if res.Code() != "" || len(get(res.Data, "nodes").([]any)) != len(ids) {
			t.Fatalf("nodes: %s", res.Raw)
		}
		for i, id := range ids {
			if str(res.Data, "nodes", i, "id") != id {
				t.Fatalf("order not kept at %d: %s", i, res.Raw)
			}
		}
		return s.Counter.Count() - before
	}
	measure()                                        // warms the cached plan list
	cache.NewGeneration(s.Cache, "public").Bump(ctx) // and skips the response cache
	if n := measure(); n != 1 {
		t.Fatalf("%d statements for %d nodes of 2 types, want 1", n, len(ids))
	}
}

func TestDeveloperConnectionPagesWithoutGapsOrRepeats(t *testing.T) {
	s := New(t)
	ctx := context.Background()
	want := map[string]bool{}
	for i := range 7 {
		// Equal names force the id tie-breaker in the keyset.
		d, err := s.Store.CreateDeveloper(ctx, fmt.Sprintf("same-%d", i), "Same Name")
		if err != nil {
			t.Fatal(err)
		}
		want[d.Slug] = true
	}
	seen := map[string]bool{}
	var after any
	for page := 0; ; page++ {
		res := s.Do(t, "", `query($after: String) { developers(first: 3, after: $after) {
			edges { cursor node { slug } } pageInfo { hasNextPage endCursor } } }`, map[string]any{"after": after})
		if res.Code() != "" {
			t.Fatal(res.Raw)
		}
		for _, e := range get(res.Data, "developers", "edges").([]any) {
			slug := str(e, "node", "slug")
			if seen[slug] {
				t.Fatalf("%s repeated", slug)
			}
			seen[slug] = true
		}
		if get(res.Data, "developers", "pageInfo", "hasNextPage") != true {
			break
		}
		after = str(res.Data, "developers", "pageInfo", "endCursor")
		if page > 5 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("saw %d developers, want %d", len(seen), len(want))
	}
}

func TestMoneyIsADecimalString(t *testing.T) {
	s := New(t)
	res := s.Do(t, "", `{ tariffPlans { code monthlyPrice { amount currencyCode } } }`, nil)
	if !strings.Contains(res.Raw, `{"code":"B","monthlyPrice":{"amount":"4500.00","currencyCode":"RUB"}}`) {
		t.Fatalf("money shape: %s", res.Raw)
	}
}
