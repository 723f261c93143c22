package apitest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestCatalogCreateConfiguration(t *testing.T) {
	w := newCatmWorld(t)

	t.Run("defaults", func(t *testing.T) {
		res, p, ues := w.mutate(t, "developer", catmCreateConfiguration, "createConfiguration",
			map[string]any{"slug": "crm-pipeline", "title": "CRM pipeline"})
		catmOK(t, res, ues)
		// The payload and the next read agree: the defaults were stored.
		for _, c := range []any{get(p, "configuration"), get(w.read(t, "developer", "crm-pipeline", catmConfigurationFields).Data, "configuration")} {
			want := map[string]any{
				"slug": "crm-pipeline", "title": "CRM pipeline", "state": "DRAFT", "visibility": "PUBLIC",
				"supportMode": "DEVELOPER", "trialDays": float64(14), "summary": "", "description": "",
			}
			for k, v := range want {
				if got := get(c, k); got != v {
					t.Errorf("%s = %v, want %v", k, got, v)
				}
			}
			if modes, _ := json.Marshal(get(c, "saleModes")); string(modes) != `["RENT"]` {
				t.Errorf("saleModes = %s, want [RENT]", modes)
			}
			if str(c, "developer", "id") != globalIDOf("Developer", w.dev.OrgID) {
				t.Errorf("developer: %v", get(c, "developer"))
			}
			if get(c, "category") != nil || get(c, "publishedAt") != nil {
				t.Errorf("a new draft has no category and is not published: %v", c)
			}
		}
	})

	accepted := []struct {
		name  string
		input map[string]any
		check func(c any) bool
	}{
		{"no trial (0 days)", map[string]any{"trialDays": 0}, func(c any) bool { return get(c, "trialDays") == float64(0) }},
		{"longest trial (30 days)", map[string]any{"trialDays": 30}, func(c any) bool { return get(c, "trialDays") == float64(30) }},
		{"title of 120 characters", map[string]any{"title": strings.Repeat("я", 120)},
			func(c any) bool { return str(c, "title") == strings.Repeat("я", 120) }},
		{"title trimmed", map[string]any{"title": "  Spaced  "}, func(c any) bool { return str(c, "title") == "Spaced" }},
		{"https screenshots", map[string]any{"screenshots": []string{"https://img.example/1.png", "https://img.example/2.png"}},
			func(c any) bool { return len(get(c, "screenshots").([]any)) == 2 }},
		{"every field", map[string]any{
			"summary": "Short", "description": "Long", "category": "support", "tags": []string{"CRM", "crm ", "Sales"},
			"visibility": "UNLISTED", "saleModes": []string{"RENT", "SALE"}, "supportMode": "PLATFORM", "trialDays": 7,
		}, func(c any) bool {
			tags, _ := json.Marshal(get(c, "tags"))
			modes, _ := json.Marshal(get(c, "saleModes"))
			return str(c, "category", "slug") == "support" && string(tags) == `["crm","sales"]` &&
				str(c, "visibility") == "UNLISTED" && string(modes) == `["RENT","SALE"]` && str(c, "supportMode") == "PLATFORM"
		}},
		{"sale only", map[string]any{"saleModes": []string{"SALE"}}, func(c any) bool {
			modes, _ := json.Marshal(get(c, "saleModes"))
			return string(modes) == `["SALE"]`
		}},
	}
	for i, tc := range accepted {
		t.Run("accepted: "+tc.name, func(t *testing.T) {
			input := map[string]any{"slug": fmt.Sprintf("accepted-%d", i), "title": fmt.Sprintf("Accepted %d", i)}
			for k, v := range tc.input {
				input[k] = v
			}
			res, p, ues := w.mutate(t, "developer", catmCreateConfiguration, "createConfiguration", input)
			catmOK(t, res, ues)
			if !tc.check(get(p, "configuration")) {
				t.Fatalf("unexpected configuration: %s", res.Raw)
			}
		})
	}

	w.create(t, "other developer", map[string]any{"slug": "others-slug", "title": "Other's"})
	refused := []struct {
		name        string
		input       map[string]any
		code, field string
	}{
		{"slug taken by own configuration", map[string]any{"slug": "crm-pipeline"}, "SLUG_TAKEN", "input.slug"},
		{"slug taken by another developer", map[string]any{"slug": "others-slug"}, "SLUG_TAKEN", "input.slug"},
		{"slug with upper case", map[string]any{"slug": "CRM-pipeline"}, "SLUG_INVALID", "input.slug"},
		{"slug with a space", map[string]any{"slug": "crm pipeline"}, "SLUG_INVALID", "input.slug"},
		{"slug with leading dash", map[string]any{"slug": "-crm"}, "SLUG_INVALID", "input.slug"},
		{"slug with trailing dash", map[string]any{"slug": "crm-"}, "SLUG_INVALID", "input.slug"},
		{"slug with underscore", map[string]any{"slug": "crm_pipeline"}, "SLUG_INVALID", "input.slug"},
		{"slug in cyrillic", map[string]any{"slug": "срм"}, "SLUG_INVALID", "input.slug"},
		{"empty slug", map[string]any{"slug": ""}, "SLUG_INVALID", "input.slug"},
		{"slug of 65 characters", map[string]any{"slug": strings.Repeat("a", 65)}, "SLUG_INVALID", "input.slug"},
		{"empty title", map[string]any{"title": ""}, "BAD_USER_INPUT", "input.title"},
		{"blank title", map[string]any{"title": "   "}, "BAD_USER_INPUT", "input.title"},
		{"title of 121 characters", map[string]any{"title": strings.Repeat("a", 121)}, "BAD_USER_INPUT", "input.title"},
		{"trial of -1 days", map[string]any{"trialDays": -1}, "TRIAL_DAYS_INVALID", "input.trialDays"},
		{"trial of 31 days", map[string]any{"trialDays": 31}, "TRIAL_DAYS_INVALID", "input.trialDays"},
		{"no sale mode", map[string]any{"saleModes": []string{}}, "SALE_MODE_REQUIRED", "input.saleModes"},
		{"http screenshot", map[string]any{"screenshots": []string{"https://img.example/ok.png", "http://img.example/1.png"}}, "SCREENSHOT_INVALID", "input.screenshots"},
		{"screenshot without host", map[string]any{"screenshots": []string{"https:///1.png"}}, "SCREENSHOT_INVALID", "input.screenshots"},
		{"javascript screenshot", map[string]any{"screenshots": []string{"javascript:alert(1)"}}, "SCREENSHOT_INVALID", "input.screenshots"},
		{"relative screenshot", map[string]any{"screenshots": []string{"/img/1.png"}}, "SCREENSHOT_INVALID", "input.screenshots"},
		{"unknown category", map[string]any{"category": "astrology"}, "BAD_USER_INPUT", "input.category"},
	}
	for i, tc := range refused {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			input := map[string]any{"slug": fmt.Sprintf("refused-%d", i), "title": "Refused"}
			for k, v := range tc.input {
				input[k] = v
			}
			before := w.Count(t, "configurations")
			res, p, ues := w.mutate(t, "developer", catmCreateConfiguration, "createConfiguration", input)
			catmRefused(t, res, p, "configuration", ues, tc.code, tc.field)
			if n := w.Count(t, "configurations"); n != before {
				t.Fatalf("configurations: %d rows, was %d", n, before)
			}
		})
	}

	t.Run("every failure reported at once", func(t *testing.T) {
		before := w.Count(t, "configurations")
		res, p, ues := w.mutate(t, "developer", catmCreateConfiguration, "createConfiguration", map[string]any{
			"slug": "Bad Slug", "title": "", "trialDays": 31, "saleModes": []string{}, "screenshots": []string{"http://x.example/a.png"},
		})
		catmRefused(t, res, p, "configuration", ues, "SLUG_INVALID", "input.slug")
		want := []string{"BAD_USER_INPUT@input.title", "SALE_MODE_REQUIRED@input.saleModes", "SCREENSHOT_INVALID@input.screenshots",
			"SLUG_INVALID@input.slug", "TRIAL_DAYS_INVALID@input.trialDays"}
		if got := catmCodes(ues); !slices.Equal(got, want) {
			t.Fatalf("userErrors %v, want %v", got, want)
		}
		if n := w.Count(t, "configurations"); n != before {
			t.Fatalf("configurations: %d rows, was %d", n, before)
		}
	})

	t.Run("twins", func(t *testing.T) {
		w.expectDenied(t, catmNotDeveloper, catmCreateConfiguration, "createConfiguration", "configuration",
			map[string]any{"slug": "not-a-developer", "title": "Not a developer"})
		// The refused attempts did not reserve the slug.
		w.create(t, "developer", map[string]any{"slug": "not-a-developer", "title": "Not a developer"})
	})
}

// ---------------------------------------------------------------- update

func TestCatalogUpdateConfiguration(t *testing.T) {
	w := newCatmWorld(t)
	id := w.create(t, "developer", map[string]any{"slug": "draft-one", "title": "Draft one", "trialDays": 10})
	w.create(t, "other developer", map[string]any{"slug": "taken-slug", "title": "Taken"})

	t.Run("owner edits a draft, slug included", func(t *testing.T) {
		res, p, ues := w.mutate(t, "developer", catmUpdateConfiguration, "updateConfiguration", map[string]any{
			"id": id, "slug": "draft-renamed", "title": "Draft renamed", "summary": "Short", "category": "finance",
			"visibility": "UNLISTED", "supportMode": "PLATFORM", "saleModes": []string{"SALE"},
		})
		catmOK(t, res, ues)
		c := get(w.read(t, "developer", "draft-renamed", catmConfigurationFields).Data, "configuration")
		if str(c, "id") != id || str(c, "title") != "Draft renamed" || str(c, "summary") != "Short" ||
			str(c, "category", "slug") != "finance" || str(c, "visibility") != "UNLISTED" || str(c, "supportMode") != "PLATFORM" {
			t.Fatalf("after update: %v (payload %s)", c, res.Raw)
		}
		// Omitted fields keep their value.
		if get(c, "trialDays") != float64(10) || get(c, "description") != "" {
			t.Fatalf("omitted fields changed: %v", c)
		}
		if get(p, "configuration", "slug") != "draft-renamed" {
			t.Fatalf("payload: %s", res.Raw)
		}
		if old := w.read(t, "developer", "draft-one", "id"); get(old.Data, "configuration") != nil {
			t.Fatalf("old slug still resolves: %s", old.Raw)
		}
	})

	t.Run("empty category clears it", func(t *testing.T) {
		res, p, ues := w.mutate(t, "developer", catmUpdateConfiguration, "updateConfiguration", map[string]any{"id": id, "category": ""})
		catmOK(t, res, ues)
		if get(p, "configuration", "category") != nil {
			t.Fatalf("category kept: %s", res.Raw)
		}
	})

	refused := []struct {
		name        string
		input       map[string]any
		code, field string
	}{
		{"trial of 31 days", map[string]any{"trialDays": 31}, "TRIAL_DAYS_INVALID", "input.trialDays"},
		{"trial of -1 days", map[string]any{"trialDays": -1}, "TRIAL_DAYS_INVALID", "input.trialDays"},
		{"slug of another configuration", map[string]any{"slug": "taken-slug"}, "SLUG_TAKEN", "input.slug"},
		{"invalid slug", map[string]any{"slug": "Not OK"}, "SLUG_INVALID", "input.slug"},
		{"empty title", map[string]any{"title": ""}, "BAD_USER_INPUT", "input.title"},
		{"no sale mode", map[string]any{"saleModes": []string{}}, "SALE_MODE_REQUIRED", "input.saleModes"},
		{"http screenshot", map[string]any{"screenshots": []string{"http://img.example/1.png"}}, "SCREENSHOT_INVALID", "input.screenshots"},
	}
	for _, tc := range refused {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			input := map[string]any{"id": id}
			for k, v := range tc.input {
				input[k] = v
			}
			before := w.fingerprint(t)
			res, p, ues := w.mutate(t, "developer", catmUpdateConfiguration, "updateConfiguration", input)
			catmRefused(t, res, p, "configuration", ues, tc.code, tc.field)
			if after := w.fingerprint(t); after != before {
				t.Fatalf("refused update wrote")
			}
		})
	}

	t.Run("twins", func(t *testing.T) {
		w.expectDenied(t, catmNotOwner, catmUpdateConfiguration, "updateConfiguration", "configuration",
			map[string]any{"id": id, "title": "Hijacked", "slug": "hijacked"})
	})

	t.Run("someone else's configuration looks missing", func(t *testing.T) {
		_, _, foreign := w.mutate(t, "other developer", catmUpdateConfiguration, "updateConfiguration", map[string]any{"id": id, "title": "X"})
		_, _, missing := w.mutate(t, "other developer", catmUpdateConfiguration, "updateConfiguration",
			map[string]any{"id": globalIDOf("Configuration", uuid.New()), "title": "X"})
		if len(foreign) != 1 || len(missing) != 1 || foreign[0] != missing[0] {
			t.Fatalf("foreign %v vs missing %v", foreign, missing)
		}
	})

	t.Run("slug fixed once published", func(t *testing.T) {
		pub, _ := w.publish(t, "developer", "published-one", "Published one")
		before := w.fingerprint(t)
		res, p, ues := w.mutate(t, "developer", catmUpdateConfiguration, "updateConfiguration", map[string]any{"id": pub, "slug": "published-renamed"})
		catmRefused(t, res, p, "configuration", ues, "SLUG_FIXED", "input.slug")
		if w.fingerprint(t) != before {
			t.Fatal("refused slug change wrote")
		}
		// Sending the same slug back with other edits is fine.
		res, p, ues = w.mutate(t, "developer", catmUpdateConfiguration, "updateConfiguration",
			map[string]any{"id": pub, "slug": "published-one", "title": "Published, retitled"})
		catmOK(t, res, ues)
		if str(p, "configuration", "title") != "Published, retitled" || str(p, "configuration", "state") != "PUBLISHED" {
			t.Fatalf("update of a published configuration: %s", res.Raw)
		}
		if anon := w.read(t, "anonymous", "published-one", "title"); str(anon.Data, "configuration", "title") != "Published, retitled" {
			t.Fatalf("storefront did not see the edit on the next read: %s", anon.Raw)
		}
	})
}

// ---------------------------------------------------------------- archive

func TestCatalogArchiveConfiguration(t *testing.T) {
	w := newCatmWorld(t)
	id, _ := w.publish(t, "developer", "to-archive", "To archive")
	w.install(t, w.customer.OrgID, id)
	if !w.listed(t, "to-archive") { // also caches the anonymous listing
		t.Fatal("published configuration not listed")
	}

	t.Run("twins", func(t *testing.T) {
		w.expectDenied(t, catmNotOwner, catmArchiveConfiguration, "archiveConfiguration", "configuration", map[string]any{"id": id})
		if !w.listed(t, "to-archive") {
			t.Fatal("a refused archive took it off the storefront")
		}
	})

	res, p, ues := w.mutate(t, "developer", catmArchiveConfiguration, "archiveConfiguration", map[string]any{"id": id})
	catmOK(t, res, ues)
	if str(p, "configuration", "state") != "ARCHIVED" {
		t.Fatalf("archive: %s", res.Raw)
	}
	if w.listed(t, "to-archive") {
		t.Fatal("archived configuration still listed on the next read")
	}
	for actor, visible := range map[string]bool{"anonymous": false, "other developer": false, "developer": true, "admin": true, "customer": true} {
		got := w.read(t, actor, "to-archive", "state")
		if (get(got.Data, "configuration") != nil) != visible {
			t.Errorf("%s: visible=%v, want %v: %s", actor, !visible, visible, got.Raw)
		}
	}
	hist := w.read(t, "developer", "to-archive", "moderationHistory { action }")
	if !strings.Contains(hist.Raw, `"ARCHIVED"`) {
		t.Errorf("no ARCHIVED in the history: %s", hist.Raw)
	}

	t.Run("archiving again is harmless", func(t *testing.T) {
		res, p, ues := w.mutate(t, "developer", catmArchiveConfiguration, "archiveConfiguration", map[string]any{"id": id})
		catmOK(t, res, ues)
		if str(p, "configuration", "state") != "ARCHIVED" {
			t.Fatal(res.Raw)
		}
	})
	t.Run("no edits or versions after archiving", func(t *testing.T) {
		res, p, ues := w.mutate(t, "developer", catmUpdateConfiguration, "updateConfiguration", map[string]any{"id": id, "title": "Back"})
		catmRefused(t, res, p, "configuration", ues, "CONFIGURATION_ARCHIVED", "")
		res, p, ues = w.mutate(t, "developer", catmCreateVersion, "createVersion", map[string]any{"configurationId": id, "number": "2.0.0"})
		catmRefused(t, res, p, "version", ues, "CONFIGURATION_ARCHIVED", "")
	})
}
