package apitest

import (
	"context"
	"slices"
	"strings"
	"testing"
)

func TestCatalogVersionNumbers(t *testing.T) {
	w := newCatmWorld(t)
	id := w.create(t, "developer", map[string]any{"slug": "versioned", "title": "Versioned"})
	ids := map[string]string{}
	// In order: each step sees the versions created before it.
	steps := []struct {
		name, number string
		code         []string // nil = accepted; else any of these codes
	}{
		{"first version", "1.0.0", nil},
		{"minor bump", "1.1.0", nil},
		{"lower than the newest", "1.0.5", []string{"VERSION_NOT_GREATER"}},
		{"equal to the newest", "1.1.0", []string{"VERSION_NOT_GREATER", "VERSION_EXISTS"}},
		{"equal to an older one", "1.0.0", []string{"VERSION_NOT_GREATER", "VERSION_EXISTS"}},
		{"lower major", "0.9.9", []string{"VERSION_NOT_GREATER"}},
		{"two parts", "1.0", []string{"VERSION_INVALID"}},
		{"v prefix", "v1.0.0", []string{"VERSION_INVALID"}},
		{"leading zero", "01.2.0", []string{"VERSION_INVALID"}},
		{"pre-release", "1.2.0-beta", []string{"VERSION_INVALID"}},
		{"four parts", "1.2.0.1", []string{"VERSION_INVALID"}},
		{"empty", "", []string{"VERSION_INVALID"}},
		{"patch bump", "1.1.1", nil},
		{"major bump", "2.0.0", nil},
	}
	for _, st := range steps {
		t.Run(st.name+" "+st.number, func(t *testing.T) {
			before := w.Count(t, "versions")
			res, p, ues := w.mutate(t, "developer", catmCreateVersion, "createVersion",
				map[string]any{"configurationId": id, "number": st.number, "changelog": "Notes"})
			if st.code == nil {
				catmOK(t, res, ues)
				if str(p, "version", "number") != st.number || str(p, "version", "state") != "DRAFT" {
					t.Fatalf("created: %s", res.Raw)
				}
				ids[st.number] = str(p, "version", "id")
				return
			}
			if res.Code() != "" || p == nil || p["version"] != nil || len(ues) != 1 ||
				!slices.Contains(st.code, ues[0].Code) || ues[0].Field != "input.number" {
				t.Fatalf("want one of %v on input.number, got %v: %s", st.code, ues, res.Raw)
			}
			if n := w.Count(t, "versions"); n != before {
				t.Fatalf("versions: %d rows, was %d", n, before)
			}
		})
	}

	t.Run("owner sees every draft newest first, others none", func(t *testing.T) {
		r := w.read(t, "developer", "versioned", "versions(first: 10) { nodes { number state } }")
		var got []string
		for _, n := range get(r.Data, "configuration", "versions", "nodes").([]any) {
			got = append(got, str(n, "number")+"/"+str(n, "state"))
		}
		if want := []string{"2.0.0/DRAFT", "1.1.1/DRAFT", "1.1.0/DRAFT", "1.0.0/DRAFT"}; !slices.Equal(got, want) {
			t.Fatalf("versions %v, want %v", got, want)
		}
		for _, actor := range []string{"anonymous", "other developer", "customer"} {
			n := w.Do(t, w.tok[actor], `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": ids["2.0.0"]})
			if n.Code() != "" || get(n.Data, "node") != nil {
				t.Errorf("%s sees a draft version: %s", actor, n.Raw)
			}
		}
	})

	t.Run("createVersion twins", func(t *testing.T) {
		w.expectDenied(t, catmNotOwner, catmCreateVersion, "createVersion", "version",
			map[string]any{"configurationId": id, "number": "3.0.0", "changelog": "Not mine"})
	})

	t.Run("updateVersion of a draft", func(t *testing.T) {
		v := ids["2.0.0"]
		res, p, ues := w.mutate(t, "developer", catmUpdateVersion, "updateVersion", map[string]any{"id": v, "number": "2.1.0", "changelog": "  Better  "})
		catmOK(t, res, ues)
		if str(p, "version", "number") != "2.1.0" || str(p, "version", "changelog") != "Better" {
			t.Fatalf("updated: %s", res.Raw)
		}
		for _, tc := range []struct{ number, code string }{
			{"1.0.5", "VERSION_NOT_GREATER"}, {"1.1.1", "VERSION_NOT_GREATER"}, {"2.1", "VERSION_INVALID"},
		} {
			before := w.fingerprint(t)
			res, p, ues := w.mutate(t, "developer", catmUpdateVersion, "updateVersion", map[string]any{"id": v, "number": tc.number})
			catmRefused(t, res, p, "version", ues, tc.code, "input.number")
			if w.fingerprint(t) != before {
				t.Fatalf("refused update to %s wrote", tc.number)
			}
		}
		// Lowering it is fine while it stays above every other version.
		res, p, ues = w.mutate(t, "developer", catmUpdateVersion, "updateVersion", map[string]any{"id": v, "number": "1.2.0"})
		catmOK(t, res, ues)
		if str(p, "version", "number") != "1.2.0" || str(p, "version", "changelog") != "Better" {
			t.Fatalf("updated: %s", res.Raw)
		}
	})

	t.Run("updateVersion twins", func(t *testing.T) {
		w.expectDenied(t, catmNotOwner, catmUpdateVersion, "updateVersion", "version", map[string]any{"id": ids["2.0.0"], "changelog": "Not mine"})
	})

	t.Run("only drafts are edited", func(t *testing.T) {
		rid := w.ready(t, "developer", "ready-versioned", "Ready versioned")
		v := w.version(t, "developer", rid, "1.0.0")
		w.submit(t, "developer", v)
		for name, input := range map[string]map[string]any{
			"changelog": {"id": v, "changelog": "Sneaky"}, "number": {"id": v, "number": "1.0.1"},
		} {
			before := w.fingerprint(t)
			res, p, ues := w.mutate(t, "developer", catmUpdateVersion, "updateVersion", input)
			catmRefused(t, res, p, "version", ues, "VERSION_NOT_DRAFT", "")
			if w.fingerprint(t) != before {
				t.Fatalf("edit of the %s of a version in review wrote", name)
			}
		}
		res, p, ues := w.mutate(t, "developer", catmSubmitVersion, "submitVersion", map[string]any{"id": v})
		catmRefused(t, res, p, "version", ues, "VERSION_NOT_DRAFT", "")
	})
}

// A draft that is not the newest version keeps its number; editing only
// its changelog must not be refused for the number it already has.
func TestCatalogVersionChangelogOfAnOlderDraft(t *testing.T) {
	w := newCatmWorld(t)
	id := w.create(t, "developer", map[string]any{"slug": "older-draft", "title": "Older draft"})
	older := w.version(t, "developer", id, "1.0.0")
	w.version(t, "developer", id, "1.1.0")
	res, p, ues := w.mutate(t, "developer", catmUpdateVersion, "updateVersion", map[string]any{"id": older, "changelog": "Typo fixed"})
	catmOK(t, res, ues)
	if str(p, "version", "changelog") != "Typo fixed" {
		t.Fatal(res.Raw)
	}
}

// ---------------------------------------------------------------- submit

func TestCatalogSubmitVersionChecks(t *testing.T) {
	w := newCatmWorld(t)
	ctx := context.Background()
	// Another developer's live configuration holds the title; a third,
	// archived one holds another title and must not block it.
	taken := w.create(t, "other developer", map[string]any{"slug": "the-original", "title": "Sales Pipeline Pro"})
	gone := w.create(t, "other developer", map[string]any{"slug": "the-archived", "title": "Archived Title"})
	if _, err := w.Pool.Exec(ctx, `update configurations set state = 'published', published_at = now() where id = $1`, catmUUID(t, taken, "Configuration")); err != nil {
		t.Fatal(err)
	}
	w.mutate(t, "other developer", catmArchiveConfiguration, "archiveConfiguration", map[string]any{"id": gone})

	id := w.create(t, "developer", map[string]any{"slug": "the-copy", "title": "  sales PIPELINE pro ", "saleModes": []string{"RENT", "SALE"}})
	res, p, ues := w.mutate(t, "developer", catmCreateVersion, "createVersion", map[string]any{"configurationId": id, "number": "1.0.0"})
	catmOK(t, res, ues)
	v := str(p, "version", "id")
	w.uploadPackage(t, w.tok["developer"], v)

	submit := func(t *testing.T) (Response, map[string]any, []catmUserError) {
		t.Helper()
		return w.mutate(t, "developer", catmSubmitVersion, "submitVersion", map[string]any{"id": v})
	}
	setRent := func(t *testing.T, plans ...string) {
		t.Helper()
		var rent []map[string]any
		for _, code := range plans {
			rent = append(rent, map[string]any{"plan": code, "amount": "500.00"})
		}
		res, _, ues := w.mutate(t, "developer", catmSetPrices, "setConfigurationPrices", map[string]any{"id": id, "rent": rent})
		catmOK(t, res, ues)
	}
	update := func(t *testing.T, input map[string]any) {
		t.Helper()
		input["id"] = id
		res, _, ues := w.mutate(t, "developer", catmUpdateConfiguration, "updateConfiguration", input)
		catmOK(t, res, ues)
	}

	// Each step fixes something; every remaining failure is reported at once.
	steps := []struct {
		name   string
		fix    func(t *testing.T)
		remain []string
	}{
		{"nothing filled in", func(*testing.T) {}, []string{
			"DUPLICATE_TITLE@configuration.title", "PRICE_MISSING@configuration.rentPrices", "PRICE_MISSING@configuration.salePrice",
			"REQUIRED_FIELD_MISSING@configuration.category", "REQUIRED_FIELD_MISSING@configuration.description",
			"REQUIRED_FIELD_MISSING@configuration.summary", "REQUIRED_FIELD_MISSING@version.changelog",
		}},
		{"summary and description", func(t *testing.T) { update(t, map[string]any{"summary": "Short", "description": "Long"}) }, []string{
			"DUPLICATE_TITLE@configuration.title", "PRICE_MISSING@configuration.rentPrices", "PRICE_MISSING@configuration.salePrice",
			"REQUIRED_FIELD_MISSING@configuration.category", "REQUIRED_FIELD_MISSING@version.changelog",
		}},
		{"blank summary counts as missing", func(t *testing.T) { update(t, map[string]any{"summary": "   ", "category": "sales"}) }, []string{
			"DUPLICATE_TITLE@configuration.title", "PRICE_MISSING@configuration.rentPrices", "PRICE_MISSING@configuration.salePrice",
			"REQUIRED_FIELD_MISSING@configuration.summary", "REQUIRED_FIELD_MISSING@version.changelog",
		}},
		{"changelog", func(t *testing.T) {
			update(t, map[string]any{"summary": "Short"})
			res, _, ues := w.mutate(t, "developer", catmUpdateVersion, "updateVersion", map[string]any{"id": v, "changelog": "First release"})
			catmOK(t, res, ues)
		}, []string{"DUPLICATE_TITLE@configuration.title", "PRICE_MISSING@configuration.rentPrices", "PRICE_MISSING@configuration.salePrice"}},
		{"rent on three plans of four and a sale price", func(t *testing.T) {
			setRent(t, "A", "B", "C")
			res, _, ues := w.mutate(t, "developer", catmSetPrices, "setConfigurationPrices", map[string]any{"id": id, "sale": "35000.00"})
			catmOK(t, res, ues)
		}, []string{"DUPLICATE_TITLE@configuration.title", "PRICE_MISSING@configuration.rentPrices"}},
		{"rent on the fourth plan", func(t *testing.T) { setRent(t, "D") }, []string{"DUPLICATE_TITLE@configuration.title"}},
		{"title only an archived configuration has", func(t *testing.T) { update(t, map[string]any{"title": "ARCHIVED title"}) }, nil},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.fix(t)
			if st.remain == nil {
				return
			}
			before := w.fingerprint(t)
			res, p, ues := submit(t)
			catmRefused(t, res, p, "version", ues, st.remain[0][:strings.Index(st.remain[0], "@")], "")
			if got := catmCodes(ues); !slices.Equal(got, st.remain) {
				t.Fatalf("userErrors\n got %v\nwant %v", got, st.remain)
			}
			if w.fingerprint(t) != before {
				t.Fatal("a refused submit wrote (state or moderation history)")
			}
		})
	}

	t.Run("twins", func(t *testing.T) {
		w.expectDenied(t, catmNotOwner, catmSubmitVersion, "submitVersion", "version", map[string]any{"id": v})
	})

	t.Run("all checks hold", func(t *testing.T) {
		res, p, ues := submit(t)
		catmOK(t, res, ues)
		if str(p, "version", "state") != "IN_REVIEW" || str(p, "version", "submittedAt") == "" {
			t.Fatalf("submitted: %s", res.Raw)
		}
		if n := w.countWhere(t, `select count(*) from moderation_events where version_id = $1 and action = 'submitted'`, catmUUID(t, v, "Version")); n != 1 {
			t.Fatalf("%d submitted events", n)
		}
	})

	t.Run("selling only needs no rent price", func(t *testing.T) {
		sid := w.create(t, "developer", map[string]any{"slug": "sale-only", "title": "Sale only", "summary": "S", "description": "D",
			"category": "finance", "saleModes": []string{"SALE"}})
		res, _, ues := w.mutate(t, "developer", catmSetPrices, "setConfigurationPrices", map[string]any{"id": sid, "sale": "35000.00"})
		catmOK(t, res, ues)
		sv := w.version(t, "developer", sid, "0.1.0")
		w.submit(t, "developer", sv)
	})
}
