package apitest

import (
	"testing"

	"configmarket/internal/cache"
	"configmarket/internal/factory"
	"configmarket/internal/store"
)

const storefrontQuery = `{ configurations(first: 20) { nodes { slug rentPrice(plan: "B") { amount } } } }`

func priceOf(res Response, slug string) string {
	for _, n := range get(res.Data, "configurations", "nodes").([]any) {
		if str(n, "slug") == slug {
			return str(n, "rentPrice", "amount")
		}
	}
	return ""
}

func TestAnonymousAnswersAreCachedAndAWriteIsVisibleOnTheNextRead(t *testing.T) {
	s := New(t)
	dev := factory.Developer(t, s.Store)
	c := factory.Configuration(t, s.Store, dev.OrgID, factory.ConfigurationOptions{})
	devToken, _ := s.LogIn(t, dev, nil)
	// A second instance on the same cache keeps the answer in its process
	// too; the write below goes through the first one.
	srv2, _ := Start(t, s.Deps)
	other := &Server{Server: srv2}

	first := s.Do(t, "", storefrontQuery, nil)
	if priceOf(first, c.Slug) != "500.00" {
		t.Fatalf("first read: %s", first.Raw)
	}
	for range 2 {
		if got := priceOf(other.Do(t, "", storefrontQuery, nil), c.Slug); got != "500.00" {
			t.Fatalf("second instance reads %q", got)
		}
	}
	before := s.Counter.Count()
	again := s.Do(t, "", storefrontQuery, nil)
	if again.Raw != first.Raw || s.Counter.Count() != before {
		t.Fatalf("identical anonymous query not served from cache (%d statements)", s.Counter.Count()-before)
	}

	res := s.Do(t, devToken, `mutation($id: ID!) { setConfigurationPrices(input: {id: $id, rent: [{plan: "B", amount: "550.00"}]}) {
		userErrors { code } } }`, map[string]any{"id": globalIDOf("Configuration", c.ID)})
	if res.Code() != "" || len(get(res.Data, "setConfigurationPrices", "userErrors").([]any)) != 0 {
		t.Fatalf("price change: %s", res.Raw)
	}
	if got := priceOf(s.Do(t, "", storefrontQuery, nil), c.Slug); got != "550.00" {
		t.Fatalf("after the price change the next read shows %q", got)
	}
	if got := priceOf(other.Do(t, "", storefrontQuery, nil), c.Slug); got != "550.00" {
		t.Fatalf("after the price change the second instance shows %q", got)
	}
	slug := s.Do(t, "", `query($s: String!) { configuration(slug: $s) { rentPrice(plan: "B") { amount } } }`, map[string]any{"s": c.Slug})
	if str(slug.Data, "configuration", "rentPrice", "amount") != "550.00" {
		t.Fatalf("slug read: %s", slug.Raw)
	}
}

// What one viewer sees is never served to another: the developer's own view
// of its draft must not reach anonymous visitors, and anonymous cached
// answers must not stand in for a logged-in viewer's.
func TestCachedAnswersAreNeverSharedAcrossViewers(t *testing.T) {
	s := New(t)
	dev := factory.Developer(t, s.Store)
	draft := factory.Configuration(t, s.Store, dev.OrgID, factory.ConfigurationOptions{State: "draft"})
	public := factory.Configuration(t, s.Store, dev.OrgID, factory.ConfigurationOptions{})
	devToken, _ := s.LogIn(t, dev, nil)
	query := `query($s: String!) { configuration(slug: $s) { slug state activeInstallations } }`

	for range 2 { // the second round would hit any cache the first filled
		own := s.Do(t, devToken, query, map[string]any{"s": draft.Slug})
		if str(own.Data, "configuration", "state") != "DRAFT" {
			t.Fatalf("owner cannot see its draft: %s", own.Raw)
		}
		anon := s.Do(t, "", query, map[string]any{"s": draft.Slug})
		if get(anon.Data, "configuration") != nil {
			t.Fatalf("draft leaked to anonymous: %s", anon.Raw)
		}
	}
	// Anonymous first fills the cache; the owner then must still get its
	// private fields.
	s.Do(t, "", query, map[string]any{"s": public.Slug})
	own := s.Do(t, devToken, query, map[string]any{"s": public.Slug})
	if get(own.Data, "configuration", "activeInstallations") == nil {
		t.Fatalf("owner served the anonymous answer: %s", own.Raw)
	}
	anon := s.Do(t, "", query, map[string]any{"s": public.Slug})
	if get(anon.Data, "configuration", "activeInstallations") != nil {
		t.Fatalf("private field reached anonymous: %s", anon.Raw)
	}
}

// Redis is an optimisation: with it down, every read and write still works
// from PostgreSQL, without an error.
func TestRedisDownFallsBackToPostgres(t *testing.T) {
	client, err := cache.NewRedisClient("redis://127.0.0.1:1/0")
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	s := NewWithCache(t, cache.NewRedis(client, "dead:"))
	dev := factory.Developer(t, s.Store)
	c := factory.Configuration(t, s.Store, dev.OrgID, factory.ConfigurationOptions{Versions: []store.VersionKey{{Major: 1}}})
	devToken, _ := s.LogIn(t, dev, nil)

	for _, q := range []string{storefrontQuery, `{ tariffPlans { code } categories { slug } }`} {
		for range 2 {
			if res := s.Do(t, "", q, nil); res.Code() != "" {
				t.Fatalf("read with Redis down: %s", res.Raw)
			}
		}
	}
	res := s.Do(t, devToken, `mutation($id: ID!) { setConfigurationPrices(input: {id: $id, rent: [{plan: "B", amount: "600.00"}]}) {
		userErrors { code } } }`, map[string]any{"id": globalIDOf("Configuration", c.ID)})
	if res.Code() != "" {
		t.Fatalf("write with Redis down: %s", res.Raw)
	}
	if got := priceOf(s.Do(t, "", storefrontQuery, nil), c.Slug); got != "600.00" {
		t.Fatalf("read after write with Redis down: %q", got)
	}
	if ready := s.raw(t, "GET", "/readyz", "", "", nil); ready.status != 200 {
		t.Fatalf("readyz with Redis down: %d %s", ready.status, ready.body)
	}
}
