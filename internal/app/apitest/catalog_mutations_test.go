package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"configmarket/internal/factory"
	"configmarket/internal/relay"
)

// Catalog mutations through the real handler (SPEC §2, §3). Every allowed
// case has its refused twins: another developer (a NOT_FOUND userError, as
// if the object did not exist), the wrong role (FORBIDDEN) and anonymous
// (UNAUTHENTICATED); a refused attempt writes nothing.

// catmWorld is a server with one viewer of every role and some categories.
type catmWorld struct {
	*Server
	dev, otherDev, customer, partner, admin factory.Account
	// tok is the access token by actor name; "anonymous" is "".
	tok   map[string]string
	plans []string
}

func newCatmWorld(t *testing.T) *catmWorld {
	t.Helper()
	s := New(t)
	ctx := context.Background()
	if _, err := s.Pool.Exec(ctx, `insert into categories (slug, name, position)
		values ('sales', 'Sales', 1), ('support', 'Support', 2), ('finance', 'Finance', 3)`); err != nil {
		t.Fatal(err)
	}
	w := &catmWorld{
		Server: s,
		dev:    factory.Developer(t, s.Store), otherDev: factory.Developer(t, s.Store),
		customer: factory.Customer(t, s.Store), partner: factory.Partner(t, s.Store), admin: factory.Admin(t, s.Store),
		tok: map[string]string{"anonymous": ""},
	}
	for name, a := range map[string]factory.Account{
		"developer": w.dev, "other developer": w.otherDev, "customer": w.customer, "partner": w.partner, "admin": w.admin,
	} {
		w.tok[name], _ = s.LogIn(t, a, nil)
	}
	rows, err := s.Pool.Query(ctx, `select code from tariff_plans order by max_users`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var code string
		if err := rows.Scan(&code); err != nil {
			t.Fatal(err)
		}
		w.plans = append(w.plans, code)
	}
	if !slices.Equal(w.plans, []string{"A", "B", "C", "D"}) {
		t.Fatalf("tariff plans %v, want the SPEC's A-D", w.plans)
	}
	return w
}

// catmUserError is one decoded userError; Field is the path joined by dots.
type catmUserError struct{ Field, Code, Message string }

func (u catmUserError) String() string { return u.Code + "@" + u.Field }

// mutate runs a mutation taking $input and returns the response, its
// payload and the payload's userErrors.
func (w *catmWorld) mutate(t *testing.T, actor, mutation, name string, input map[string]any) (Response, map[string]any, []catmUserError) {
	t.Helper()
	token, ok := w.tok[actor]
	if !ok {
		t.Fatalf("unknown actor %q", actor)
	}
	res := w.Do(t, token, mutation, map[string]any{"input": input})
	return res, catmPayload(res, name), catmUserErrors(res, name)
}

func catmPayload(res Response, name string) map[string]any {
	p, _ := get(res.Data, name).(map[string]any)
	return p
}

func catmUserErrors(res Response, name string) []catmUserError {
	var out []catmUserError
	list, _ := get(res.Data, name, "userErrors").([]any)
	for _, ue := range list {
		var path []string
		fields, _ := get(ue, "field").([]any)
		for _, f := range fields {
			s, _ := f.(string)
			path = append(path, s)
		}
		out = append(out, catmUserError{Field: strings.Join(path, "."), Code: str(ue, "code"), Message: str(ue, "message")})
	}
	return out
}

// catmOK fails unless the mutation succeeded without any error.
func catmOK(t *testing.T, res Response, ues []catmUserError) {
	t.Helper()
	if res.Code() != "" || len(ues) > 0 {
		t.Fatalf("mutation failed: %v %s", ues, res.Raw)
	}
}

// catmRefused fails unless the mutation answered exactly with userErrors
// holding code on field (field "" = any field), with no top-level error
// and no object in the payload.
func catmRefused(t *testing.T, res Response, payload map[string]any, object string, ues []catmUserError, code, field string) {
	t.Helper()
	if res.Code() != "" {
		t.Fatalf("want userError %s, got top-level %s: %s", code, res.Code(), res.Raw)
	}
	if payload == nil || payload[object] != nil {
		t.Fatalf("want no %s in the payload: %s", object, res.Raw)
	}
	for _, ue := range ues {
		if ue.Code == code && (field == "" || ue.Field == field) {
			return
		}
	}
	t.Fatalf("want userError %s on %q, got %v: %s", code, field, ues, res.Raw)
}

func catmCodes(ues []catmUserError) []string {
	out := make([]string, len(ues))
	for i, u := range ues {
		out[i] = u.String()
	}
	sort.Strings(out)
	return out
}

// fingerprint hashes every catalog table, so a refused attempt can be shown
// to have written nothing at all.
func (w *catmWorld) fingerprint(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, table := range []string{"configurations", "versions", "prices", "reviews", "moderation_events", "configuration_invites"} {
		var n int
		var h string
		err := w.Pool.QueryRow(context.Background(),
			`select count(*), coalesce(md5(string_agg(x::text, '|' order by x::text)), '') from `+table+` x`).Scan(&n, &h)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s=%d/%s ", table, n, h)
	}
	return b.String()
}

// catmDenial is a refused twin: the actor gets either a top-level code or
// (when top is "") a userError code.
type catmDenial struct{ actor, top, user string }

var (
	// catmNotOwner are the twins of a developer's change to its own object.
	catmNotOwner = []catmDenial{
		{"other developer", "", "NOT_FOUND"},
		{"customer", "FORBIDDEN", ""},
		{"partner", "FORBIDDEN", ""},
		{"admin", "FORBIDDEN", ""},
		{"anonymous", "UNAUTHENTICATED", ""},
	}
	// catmNotDeveloper are the twins of a developer's creation.
	catmNotDeveloper = catmNotOwner[1:]
	// catmNotAdmin are the twins of a moderator's decision; the owning
	// developer is refused too.
	catmNotAdmin = []catmDenial{
		{"developer", "FORBIDDEN", ""},
		{"other developer", "FORBIDDEN", ""},
		{"customer", "FORBIDDEN", ""},
		{"partner", "FORBIDDEN", ""},
		{"anonymous", "UNAUTHENTICATED", ""},
	}
	// catmNotCustomer are the twins of a customer's review.
	catmNotCustomer = []catmDenial{
		{"developer", "FORBIDDEN", ""},
		{"partner", "FORBIDDEN", ""},
		{"admin", "FORBIDDEN", ""},
		{"anonymous", "UNAUTHENTICATED", ""},
	}
)

// expectDenied runs the mutation as each denied actor: each is refused
// with its code, gets no object back, and nothing is written.
func (w *catmWorld) expectDenied(t *testing.T, denials []catmDenial, mutation, name, object string, input map[string]any) {
	t.Helper()
	for _, d := range denials {
		t.Run("refused for "+d.actor, func(t *testing.T) {
			before := w.fingerprint(t)
			res, payload, ues := w.mutate(t, d.actor, mutation, name, input)
			if d.top != "" {
				if res.Code() != d.top {
					t.Fatalf("want top-level %s, got %q: %s", d.top, res.Code(), res.Raw)
				}
				if payload != nil && payload[object] != nil {
					t.Fatalf("%s returned despite %s: %s", object, d.top, res.Raw)
				}
			} else {
				catmRefused(t, res, payload, object, ues, d.user, "")
			}
			if after := w.fingerprint(t); after != before {
				t.Fatalf("a refused %s wrote:\nbefore %s\nafter  %s", name, before, after)
			}
		})
	}
}

const catmUserErrorFields = `userErrors { field message code }`

const catmConfigurationFields = `id slug title summary description state visibility saleModes supportMode trialDays
	screenshots tags category { slug } developer { id } publishedAt`

var (
	catmCreateConfiguration = `mutation($input: CreateConfigurationInput!) { createConfiguration(input: $input) {
		configuration { ` + catmConfigurationFields + ` } ` + catmUserErrorFields + ` } }`
	catmUpdateConfiguration = `mutation($input: UpdateConfigurationInput!) { updateConfiguration(input: $input) {
		configuration { ` + catmConfigurationFields + ` } ` + catmUserErrorFields + ` } }`
	catmArchiveConfiguration = `mutation($input: ConfigurationIdInput!) { archiveConfiguration(input: $input) {
		configuration { id state } ` + catmUserErrorFields + ` } }`
	catmSetPrices = `mutation($input: SetConfigurationPricesInput!) { setConfigurationPrices(input: $input) {
		configuration { id rentPrice(plan: "B") { amount currencyCode } salePrice { amount currencyCode } } ` + catmUserErrorFields + ` } }`
	catmCreateVersion = `mutation($input: CreateVersionInput!) { createVersion(input: $input) {
		version { id number state changelog } ` + catmUserErrorFields + ` } }`
	catmUpdateVersion = `mutation($input: UpdateVersionInput!) { updateVersion(input: $input) {
		version { id number state changelog } ` + catmUserErrorFields + ` } }`
	catmSubmitVersion = `mutation($input: VersionIdInput!) { submitVersion(input: $input) {
		version { id number state submittedAt } ` + catmUserErrorFields + ` } }`
	catmApproveVersion = `mutation($input: VersionIdInput!) { approveVersion(input: $input) {
		version { id number state decidedAt configuration { state } } ` + catmUserErrorFields + ` } }`
	catmRejectVersion = `mutation($input: RejectVersionInput!) { rejectVersion(input: $input) {
		version { id number state rejectionReason } ` + catmUserErrorFields + ` } }`
	catmSuspendConfiguration = `mutation($input: SuspendConfigurationInput!) { suspendConfiguration(input: $input) {
		configuration { id state suspendedReason } ` + catmUserErrorFields + ` } }`
	catmRestoreConfiguration = `mutation($input: ConfigurationIdInput!) { restoreConfiguration(input: $input) {
		configuration { id state suspendedReason } ` + catmUserErrorFields + ` } }`
	catmCreateReview = `mutation($input: CreateReviewInput!) { createReview(input: $input) {
		review { id rating body authorName configuration { rating { average count } } } ` + catmUserErrorFields + ` } }`
	catmUpdateReview = `mutation($input: UpdateReviewInput!) { updateReview(input: $input) {
		review { id rating body configuration { rating { average count } } } ` + catmUserErrorFields + ` } }`
)

// create makes a configuration as actor and returns its global id.
func (w *catmWorld) create(t *testing.T, actor string, input map[string]any) string {
	t.Helper()
	res, p, ues := w.mutate(t, actor, catmCreateConfiguration, "createConfiguration", input)
	catmOK(t, res, ues)
	return str(p, "configuration", "id")
}

// ready creates a configuration of actor that passes every submit check:
// texts, a category, rent on every plan and a sale price.
func (w *catmWorld) ready(t *testing.T, actor, slug, title string) string {
	t.Helper()
	id := w.create(t, actor, map[string]any{
		"slug": slug, "title": title, "summary": "Pipelines for " + title, "description": "# " + title + "\nEverything.",
		"category": "sales", "tags": []string{"crm"}, "saleModes": []string{"RENT", "SALE"},
	})
	res, _, ues := w.mutate(t, actor, catmSetPrices, "setConfigurationPrices", map[string]any{"id": id, "rent": []map[string]any{
		{"plan": "A", "amount": "300.00"}, {"plan": "B", "amount": "400.00"},
		{"plan": "C", "amount": "900.00"}, {"plan": "D", "amount": "2000.00"},
	}, "sale": "30000.00"})
	catmOK(t, res, ues)
	return id
}

// version creates a draft version as actor and returns its id.
func (w *catmWorld) version(t *testing.T, actor, configurationID, number string) string {
	t.Helper()
	res, p, ues := w.mutate(t, actor, catmCreateVersion, "createVersion", map[string]any{
		"configurationId": configurationID, "number": number, "changelog": "What is new in " + number,
	})
	catmOK(t, res, ues)
	return str(p, "version", "id")
}

func (w *catmWorld) submit(t *testing.T, actor, versionID string) {
	t.Helper()
	w.uploadPackage(t, w.tok[actor], versionID)
	res, p, ues := w.mutate(t, actor, catmSubmitVersion, "submitVersion", map[string]any{"id": versionID})
	catmOK(t, res, ues)
	if str(p, "version", "state") != "IN_REVIEW" {
		t.Fatalf("submitted version: %s", res.Raw)
	}
}

func (w *catmWorld) approve(t *testing.T, versionID string) {
	t.Helper()
	res, p, ues := w.mutate(t, "admin", catmApproveVersion, "approveVersion", map[string]any{"id": versionID})
	catmOK(t, res, ues)
	if str(p, "version", "state") != "APPROVED" {
		t.Fatalf("approved version: %s", res.Raw)
	}
}

// publish makes a ready configuration of actor and has version 1.0.0 of it
// approved; it returns the configuration's and the version's ids.
func (w *catmWorld) publish(t *testing.T, actor, slug, title string) (configurationID, versionID string) {
	t.Helper()
	configurationID = w.ready(t, actor, slug, title)
	versionID = w.version(t, actor, configurationID, "1.0.0")
	w.submit(t, actor, versionID)
	w.approve(t, versionID)
	return configurationID, versionID
}

// read asks configuration(slug:) for fields as actor.
func (w *catmWorld) read(t *testing.T, actor, slug, fields string) Response {
	t.Helper()
	res := w.Do(t, w.tok[actor], `query($slug: String!) { configuration(slug: $slug) { `+fields+` } }`, map[string]any{"slug": slug})
	if res.Code() != "" {
		t.Fatalf("read %s as %s: %s", slug, actor, res.Raw)
	}
	return res
}

const catmListingQuery = `{ configurations(first: 100) { nodes { slug state } } }`

// listed reports whether slug is in the storefront listing anonymous visitors get.
func (w *catmWorld) listed(t *testing.T, slug string) bool {
	t.Helper()
	res := w.Do(t, "", catmListingQuery, nil)
	if res.Code() != "" {
		t.Fatalf("listing: %s", res.Raw)
	}
	nodes, _ := get(res.Data, "configurations", "nodes").([]any)
	for _, n := range nodes {
		if str(n, "slug") == slug {
			return true
		}
	}
	return false
}

func catmUUID(t *testing.T, global, typeName string) uuid.UUID {
	t.Helper()
	id, err := relay.ParseUUIDOf(global, typeName)
	if err != nil {
		t.Fatalf("%s id %q: %v", typeName, global, err)
	}
	return id
}

// install gives a customer a trial installation of the configuration's
// newest approved version, as the commerce side would.
func (w *catmWorld) install(t *testing.T, customerID uuid.UUID, configurationID string) {
	t.Helper()
	tag, err := w.Pool.Exec(context.Background(), `insert into installations
			(customer_id, configuration_id, mode, state, version_id, license_key, trial_ends_at)
		select $1, v.configuration_id, 'trial', 'trialing', v.id, $3, now() + interval '14 days'
		from versions v where v.configuration_id = $2 and v.state = 'approved'
		order by v.major desc, v.minor desc, v.patch desc limit 1`,
		customerID, catmUUID(t, configurationID, "Configuration"), "LK-"+uuid.NewString())
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("install: %v (%d rows)", err, tag.RowsAffected())
	}
}

func (w *catmWorld) countWhere(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := w.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// ---------------------------------------------------------------- create

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

// ---------------------------------------------------------------- prices

const catmPriceHistoryFields = `priceHistory { saleMode tariffPlan { code } price { amount currencyCode } validFrom }`

func TestCatalogConfigurationPrices(t *testing.T) {
	w := newCatmWorld(t)
	id, _ := w.publish(t, "developer", "priced", "Priced") // B 400.00, sale 30000.00
	const readPrices = `rentPrice(plan: "B") { amount currencyCode } salePrice { amount currencyCode }
		rentPrices { tariffPlan { code } price { amount } }`
	// The storefront has the old prices cached.
	if r := w.read(t, "anonymous", "priced", readPrices); str(r.Data, "configuration", "rentPrice", "amount") != "400.00" {
		t.Fatalf("initial prices: %s", r.Raw)
	}
	setPrices := func(t *testing.T, actor string, input map[string]any) (Response, map[string]any, []catmUserError) {
		t.Helper()
		input["id"] = id
		return w.mutate(t, actor, catmSetPrices, "setConfigurationPrices", input)
	}

	res, p, ues := setPrices(t, "developer", map[string]any{"rent": []map[string]any{{"plan": "B", "amount": "500.00"}}, "sale": "35000.00"})
	catmOK(t, res, ues)
	if !strings.Contains(res.Raw, `"rentPrice":{"amount":"500.00","currencyCode":"RUB"},"salePrice":{"amount":"35000.00","currencyCode":"RUB"}`) {
		t.Fatalf("payload prices: %s", res.Raw)
	}
	_ = p
	for _, actor := range []string{"anonymous", "customer", "developer"} {
		r := w.read(t, actor, "priced", readPrices)
		if !strings.Contains(r.Raw, `"rentPrice":{"amount":"500.00","currencyCode":"RUB"},"salePrice":{"amount":"35000.00","currencyCode":"RUB"}`) {
			t.Errorf("%s does not see the new prices on the very next read: %s", actor, r.Raw)
		}
		var plans []string
		for _, pp := range get(r.Data, "configuration", "rentPrices").([]any) {
			plans = append(plans, str(pp, "tariffPlan", "code")+"="+str(pp, "price", "amount"))
		}
		if want := []string{"A=300.00", "B=500.00", "C=900.00", "D=2000.00"}; !slices.Equal(plans, want) {
			t.Errorf("%s: rentPrices %v, want %v", actor, plans, want)
		}
	}

	res, _, ues = setPrices(t, "developer", map[string]any{"rent": []map[string]any{{"plan": "B", "amount": "550.00"}}})
	catmOK(t, res, ues)

	history := func(t *testing.T) []any {
		t.Helper()
		h, _ := get(w.read(t, "developer", "priced", catmPriceHistoryFields).Data, "configuration", "priceHistory").([]any)
		return h
	}
	t.Run("history keeps every price, newest first", func(t *testing.T) {
		h := history(t)
		var planB, sale []string
		var prev time.Time
		for i, e := range h {
			at, err := time.Parse(time.RFC3339Nano, str(e, "validFrom"))
			if err != nil {
				t.Fatalf("validFrom %q: %v", str(e, "validFrom"), err)
			}
			if i > 0 && at.After(prev) {
				t.Fatalf("history not newest first at %d: %v", i, h)
			}
			prev = at
			if str(e, "price", "currencyCode") != "RUB" {
				t.Fatalf("currency: %v", e)
			}
			switch {
			case str(e, "saleMode") == "RENT" && str(e, "tariffPlan", "code") == "B":
				planB = append(planB, str(e, "price", "amount"))
			case str(e, "saleMode") == "SALE":
				if get(e, "tariffPlan") != nil {
					t.Fatalf("sale price with a plan: %v", e)
				}
				sale = append(sale, str(e, "price", "amount"))
			}
		}
		if !slices.Equal(planB, []string{"550.00", "500.00", "400.00"}) || !slices.Equal(sale, []string{"35000.00", "30000.00"}) {
			t.Fatalf("plan B %v, sale %v", planB, sale)
		}
		if len(h) != 4+1+2+1 { // 4 rent + sale at creation, then B+sale, then B
			t.Fatalf("%d history rows: %v", len(h), h)
		}
	})

	t.Run("unchanged prices add no history", func(t *testing.T) {
		before := w.Count(t, "prices")
		res, _, ues := setPrices(t, "developer", map[string]any{"rent": []map[string]any{
			{"plan": "A", "amount": "300.00"}, {"plan": "B", "amount": "550.00"}, {"plan": "C", "amount": "900"},
		}, "sale": "35000"})
		catmOK(t, res, ues)
		if n := w.Count(t, "prices"); n != before {
			t.Fatalf("prices: %d rows, was %d", n, before)
		}
		res, _, ues = setPrices(t, "developer", map[string]any{"rent": []map[string]any{
			{"plan": "B", "amount": "550.00"}, {"plan": "D", "amount": "2100.00"},
		}})
		catmOK(t, res, ues)
		if n := w.Count(t, "prices"); n != before+1 {
			t.Fatalf("one changed price: %d rows, want %d", n, before+1)
		}
	})

	refused := []struct {
		name        string
		input       map[string]any
		code, field string
	}{
		{"negative rent", map[string]any{"rent": []map[string]any{{"plan": "B", "amount": "-1.00"}}}, "PRICE_INVALID", "input.rent.0"},
		{"negative sale", map[string]any{"sale": "-35000.00"}, "PRICE_INVALID", "input.sale"},
		{"fractions of a kopeck", map[string]any{"rent": []map[string]any{{"plan": "A", "amount": "1.00"}, {"plan": "B", "amount": "500.001"}}}, "PRICE_INVALID", "input.rent.1"},
		{"malformed sale", map[string]any{"sale": "35000.5.0"}, "", ""},
		{"not a number", map[string]any{"rent": []map[string]any{{"plan": "B", "amount": "five hundred"}}}, "", ""},
		{"number instead of a string", map[string]any{"sale": 35000}, "", ""},
		{"unknown plan", map[string]any{"rent": []map[string]any{{"plan": "Z", "amount": "500.00"}}}, "TARIFF_PLAN_UNKNOWN", "input.rent.0"},
		{"one bad price among good ones", map[string]any{"rent": []map[string]any{{"plan": "A", "amount": "1.00"}, {"plan": "C", "amount": "-5"}}, "sale": "1.00"}, "PRICE_INVALID", "input.rent.1"},
	}
	for _, tc := range refused {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			before := w.fingerprint(t)
			res, p, ues := setPrices(t, "developer", tc.input)
			if tc.code == "" {
				// Malformed decimals may be refused by the Decimal scalar
				// (top-level BAD_USER_INPUT) or by the domain (PRICE_INVALID).
				if res.Code() != "BAD_USER_INPUT" && !slices.ContainsFunc(ues, func(u catmUserError) bool { return u.Code == "PRICE_INVALID" }) {
					t.Fatalf("malformed amount accepted: %s", res.Raw)
				}
			} else {
				catmRefused(t, res, p, "configuration", ues, tc.code, tc.field)
			}
			if w.fingerprint(t) != before {
				t.Fatal("a refused price change wrote")
			}
		})
	}

	t.Run("twins", func(t *testing.T) {
		w.expectDenied(t, catmNotOwner, catmSetPrices, "setConfigurationPrices", "configuration",
			map[string]any{"id": id, "rent": []map[string]any{{"plan": "B", "amount": "1.00"}}, "sale": "1.00"})
		if r := w.read(t, "anonymous", "priced", readPrices); str(r.Data, "configuration", "rentPrice", "amount") != "550.00" {
			t.Fatalf("price changed by a refused attempt: %s", r.Raw)
		}
	})

	t.Run("history is private", func(t *testing.T) {
		for actor, visible := range map[string]bool{
			"developer": true, "admin": true, "other developer": false, "customer": false, "partner": false, "anonymous": false,
		} {
			r := w.read(t, actor, "priced", "slug "+catmPriceHistoryFields)
			if str(r.Data, "configuration", "slug") != "priced" {
				t.Fatalf("%s cannot see the configuration: %s", actor, r.Raw)
			}
			if got := get(r.Data, "configuration", "priceHistory") != nil; got != visible {
				t.Errorf("%s: priceHistory visible=%v, want %v: %s", actor, got, visible, r.Raw)
			}
		}
	})
}

// The same plan twice in one request is the client's mistake; it must be
// answered as such, not as an internal error (both rows would get the same
// valid_from and hit prices_unique).
func TestCatalogPricesSamePlanTwiceInOneRequest(t *testing.T) {
	w := newCatmWorld(t)
	id := w.create(t, "developer", map[string]any{"slug": "twice", "title": "Twice"})
	before := w.fingerprint(t)
	res, _, ues := w.mutate(t, "developer", catmSetPrices, "setConfigurationPrices", map[string]any{"id": id, "rent": []map[string]any{
		{"plan": "B", "amount": "500.00"}, {"plan": "B", "amount": "600.00"},
	}})
	if res.Code() == "INTERNAL" {
		t.Fatalf("duplicate plan answered with an internal error: %s", res.Raw)
	}
	if res.Code() == "" && len(ues) == 0 {
		// Accepting it is defensible only if one price is in force.
		r := w.read(t, "developer", "twice", `rentPrice(plan: "B") { amount }`)
		t.Logf("accepted; plan B now %s", str(r.Data, "configuration", "rentPrice", "amount"))
		return
	}
	if w.fingerprint(t) != before {
		t.Fatal("a refused price change wrote")
	}
}

// A userError names the input element at fault, also past the tenth.
func TestCatalogPriceErrorNamesItsElement(t *testing.T) {
	w := newCatmWorld(t)
	id := w.create(t, "developer", map[string]any{"slug": "eleven", "title": "Eleven"})
	var rent []map[string]any
	for i := range 10 {
		rent = append(rent, map[string]any{"plan": w.plans[i%4], "amount": "100.00"})
	}
	rent = append(rent, map[string]any{"plan": "B", "amount": "-1.00"}) // index 10
	res, p, ues := w.mutate(t, "developer", catmSetPrices, "setConfigurationPrices", map[string]any{"id": id, "rent": rent})
	catmRefused(t, res, p, "configuration", ues, "PRICE_INVALID", "")
	// Elements 4 to 9 price a plan a second time and are refused too.
	found := false
	for _, ue := range ues {
		found = found || (ue.Field == "input.rent.10" && ue.Code == "PRICE_INVALID")
	}
	if !found {
		t.Fatalf("want PRICE_INVALID on input.rent.10, got %v", ues)
	}
}

// ---------------------------------------------------------------- versions

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

// ---------------------------------------------------------------- moderation

const catmQueueQuery = `{ moderationQueue(first: 10) { nodes { id number state configuration { slug } } } }`

func TestCatalogModerationQueueAndApproval(t *testing.T) {
	w := newCatmWorld(t)
	a := w.ready(t, "developer", "queue-a", "Queue A")
	b := w.ready(t, "other developer", "queue-b", "Queue B")
	va, vb := w.version(t, "developer", a, "1.0.0"), w.version(t, "other developer", b, "1.0.0")
	w.submit(t, "developer", va)
	w.submit(t, "other developer", vb)

	queue := func(t *testing.T) []string {
		t.Helper()
		res := w.Do(t, w.tok["admin"], catmQueueQuery, nil)
		if res.Code() != "" {
			t.Fatal(res.Raw)
		}
		var out []string
		for _, n := range get(res.Data, "moderationQueue", "nodes").([]any) {
			if str(n, "state") != "IN_REVIEW" {
				t.Fatalf("queue holds a version %s", str(n, "state"))
			}
			out = append(out, str(n, "configuration", "slug"))
		}
		return out
	}
	t.Run("queue oldest first, admins only", func(t *testing.T) {
		if got := queue(t); !slices.Equal(got, []string{"queue-a", "queue-b"}) {
			t.Fatalf("queue %v", got)
		}
		for _, d := range catmNotAdmin {
			res := w.Do(t, w.tok[d.actor], catmQueueQuery, nil)
			if res.Code() != d.top || get(res.Data, "moderationQueue") != nil || strings.Contains(res.Raw, va) {
				t.Errorf("%s: want %s and no queue, got %s", d.actor, d.top, res.Raw)
			}
		}
	})

	// The storefront is asked (and so caches its answers) before approval.
	anonBySlug := func(t *testing.T) Response {
		return w.read(t, "anonymous", "queue-a", "slug state publishedAt currentVersion { number }")
	}
	if w.listed(t, "queue-a") || get(anonBySlug(t).Data, "configuration") != nil {
		t.Fatal("a configuration in review is on the storefront")
	}

	t.Run("approve twins", func(t *testing.T) {
		w.expectDenied(t, catmNotAdmin, catmApproveVersion, "approveVersion", "version", map[string]any{"id": va})
	})

	res, p, ues := w.mutate(t, "admin", catmApproveVersion, "approveVersion", map[string]any{"id": va})
	catmOK(t, res, ues)
	if str(p, "version", "state") != "APPROVED" || str(p, "version", "decidedAt") == "" || str(p, "version", "configuration", "state") != "PUBLISHED" {
		t.Fatalf("approve: %s", res.Raw)
	}
	t.Run("first approval publishes on the very next read", func(t *testing.T) {
		if !w.listed(t, "queue-a") {
			t.Error("not in the anonymous listing after approval")
		}
		r := anonBySlug(t)
		if str(r.Data, "configuration", "state") != "PUBLISHED" || str(r.Data, "configuration", "currentVersion", "number") != "1.0.0" ||
			str(r.Data, "configuration", "publishedAt") == "" {
			t.Errorf("configuration(slug:) after approval: %s", r.Raw)
		}
		if w.listed(t, "queue-b") {
			t.Error("the other configuration in review is listed")
		}
		if got := queue(t); !slices.Equal(got, []string{"queue-b"}) {
			t.Errorf("queue after approval %v", got)
		}
	})

	t.Run("only versions in review are decided", func(t *testing.T) {
		draft := w.version(t, "developer", a, "1.1.0")
		for name, id := range map[string]string{"approved": va, "draft": draft} {
			for _, m := range []struct {
				mutation, name string
				input          map[string]any
			}{
				{catmApproveVersion, "approveVersion", map[string]any{"id": id}},
				{catmRejectVersion, "rejectVersion", map[string]any{"id": id, "reason": "Because"}},
			} {
				before := w.fingerprint(t)
				res, p, ues := w.mutate(t, "admin", m.mutation, m.name, m.input)
				catmRefused(t, res, p, "version", ues, "VERSION_NOT_IN_REVIEW", "")
				if w.fingerprint(t) != before {
					t.Fatalf("%s of a %s version wrote", m.name, name)
				}
			}
		}
		res, p, ues := w.mutate(t, "admin", catmApproveVersion, "approveVersion", map[string]any{"id": globalIDOf("Version", uuid.New())})
		catmRefused(t, res, p, "version", ues, "NOT_FOUND", "input.id")
	})

	t.Run("a later approval moves the current version, not publishedAt", func(t *testing.T) {
		published := str(anonBySlug(t).Data, "configuration", "publishedAt")
		v2 := w.version(t, "developer", a, "1.2.0")
		w.submit(t, "developer", v2)
		w.approve(t, v2)
		r := anonBySlug(t)
		if str(r.Data, "configuration", "currentVersion", "number") != "1.2.0" || str(r.Data, "configuration", "publishedAt") != published {
			t.Fatalf("after the second approval: %s (published %s)", r.Raw, published)
		}
	})
}

func TestCatalogModerationRejection(t *testing.T) {
	w := newCatmWorld(t)
	id, v1 := w.publish(t, "developer", "rejectable", "Rejectable")
	v2 := w.version(t, "developer", id, "1.1.0")
	w.submit(t, "developer", v2)
	const reason = "Screenshots show another vendor's product"

	for _, blank := range []string{"", "   "} {
		t.Run(fmt.Sprintf("reason %q refused", blank), func(t *testing.T) {
			before := w.fingerprint(t)
			res, p, ues := w.mutate(t, "admin", catmRejectVersion, "rejectVersion", map[string]any{"id": v2, "reason": blank})
			catmRefused(t, res, p, "version", ues, "REASON_REQUIRED", "input.reason")
			if w.fingerprint(t) != before {
				t.Fatal("refused rejection wrote")
			}
		})
	}
	t.Run("twins", func(t *testing.T) {
		w.expectDenied(t, catmNotAdmin, catmRejectVersion, "rejectVersion", "version", map[string]any{"id": v2, "reason": reason})
	})

	res, p, ues := w.mutate(t, "admin", catmRejectVersion, "rejectVersion", map[string]any{"id": v2, "reason": "  " + reason + "  "})
	catmOK(t, res, ues)
	if str(p, "version", "state") != "REJECTED" || str(p, "version", "rejectionReason") != reason {
		t.Fatalf("reject: %s", res.Raw)
	}

	const fields = `state currentVersion { number } versions(first: 10) { nodes { number state rejectionReason } }
		moderationHistory { action reason version { number } at }`
	for _, actor := range []string{"developer", "admin"} {
		t.Run(actor+" sees the reason and the history", func(t *testing.T) {
			c := get(w.read(t, actor, "rejectable", fields).Data, "configuration")
			var versions []string
			for _, n := range get(c, "versions", "nodes").([]any) {
				versions = append(versions, str(n, "number")+"/"+str(n, "state")+"/"+str(n, "rejectionReason"))
			}
			if want := []string{"1.1.0/REJECTED/" + reason, "1.0.0/APPROVED/"}; !slices.Equal(versions, want) {
				t.Errorf("versions %v, want %v", versions, want)
			}
			var history []string
			for _, e := range get(c, "moderationHistory").([]any) {
				history = append(history, str(e, "action")+"/"+str(e, "version", "number")+"/"+str(e, "reason"))
			}
			want := []string{"SUBMITTED/1.0.0/", "APPROVED/1.0.0/", "SUBMITTED/1.1.0/", "REJECTED/1.1.0/" + reason}
			if !slices.Equal(history, want) {
				t.Errorf("history %v, want %v", history, want)
			}
			if str(c, "state") != "PUBLISHED" || str(c, "currentVersion", "number") != "1.0.0" {
				t.Errorf("a rejection changed the published side: %v", c)
			}
		})
	}
	for _, actor := range []string{"anonymous", "other developer", "customer", "partner"} {
		t.Run(actor+" sees neither", func(t *testing.T) {
			r := w.read(t, actor, "rejectable", fields)
			c := get(r.Data, "configuration")
			if nodes := get(c, "versions", "nodes").([]any); len(nodes) != 1 || str(nodes[0], "number") != "1.0.0" {
				t.Errorf("versions: %s", r.Raw)
			}
			if get(c, "moderationHistory") != nil || strings.Contains(r.Raw, "vendor") || strings.Contains(r.Raw, "REJECTED") {
				t.Errorf("private history leaked: %s", r.Raw)
			}
			for id, visible := range map[string]bool{v1: true, v2: false} {
				n := w.Do(t, w.tok[actor], `query($id: ID!) { node(id: $id) { id ... on Version { state rejectionReason } } }`, map[string]any{"id": id})
				if (get(n.Data, "node") != nil) != visible || strings.Contains(n.Raw, "vendor") {
					t.Errorf("node(%s): %s", id, n.Raw)
				}
			}
		})
	}

	t.Run("a rejected number still counts", func(t *testing.T) {
		res, p, ues := w.mutate(t, "developer", catmCreateVersion, "createVersion", map[string]any{"configurationId": id, "number": "1.0.9"})
		catmRefused(t, res, p, "version", ues, "VERSION_NOT_GREATER", "input.number")
		w.version(t, "developer", id, "1.1.1")
	})
}

func TestCatalogModerationSuspendAndRestore(t *testing.T) {
	w := newCatmWorld(t)
	id, _ := w.publish(t, "developer", "suspendable", "Suspendable")
	if !w.listed(t, "suspendable") { // cached before the change
		t.Fatal("not listed")
	}
	const reason = "Copied from another developer"

	t.Run("reason required", func(t *testing.T) {
		res, p, ues := w.mutate(t, "admin", catmSuspendConfiguration, "suspendConfiguration", map[string]any{"id": id, "reason": " "})
		catmRefused(t, res, p, "configuration", ues, "REASON_REQUIRED", "input.reason")
	})
	t.Run("suspend twins", func(t *testing.T) {
		w.expectDenied(t, catmNotAdmin, catmSuspendConfiguration, "suspendConfiguration", "configuration", map[string]any{"id": id, "reason": reason})
	})
	t.Run("restore of a published one", func(t *testing.T) {
		res, p, ues := w.mutate(t, "admin", catmRestoreConfiguration, "restoreConfiguration", map[string]any{"id": id})
		catmRefused(t, res, p, "configuration", ues, "CONFIGURATION_STATE", "")
	})

	res, p, ues := w.mutate(t, "admin", catmSuspendConfiguration, "suspendConfiguration", map[string]any{"id": id, "reason": reason})
	catmOK(t, res, ues)
	if str(p, "configuration", "state") != "SUSPENDED" || str(p, "configuration", "suspendedReason") != reason {
		t.Fatalf("suspend: %s", res.Raw)
	}
	t.Run("suspended is off the storefront", func(t *testing.T) {
		if w.listed(t, "suspendable") {
			t.Error("still listed")
		}
		for actor, visible := range map[string]bool{"anonymous": false, "other developer": false, "customer": false, "developer": true, "admin": true} {
			r := w.read(t, actor, "suspendable", "state suspendedReason")
			if (get(r.Data, "configuration") != nil) != visible {
				t.Errorf("%s: %s", actor, r.Raw)
			}
			if visible && (str(r.Data, "configuration", "state") != "SUSPENDED" || str(r.Data, "configuration", "suspendedReason") != reason) {
				t.Errorf("%s: %s", actor, r.Raw)
			}
		}
		res, p, ues := w.mutate(t, "admin", catmSuspendConfiguration, "suspendConfiguration", map[string]any{"id": id, "reason": reason})
		catmRefused(t, res, p, "configuration", ues, "CONFIGURATION_STATE", "")
	})

	t.Run("restore twins", func(t *testing.T) {
		w.expectDenied(t, catmNotAdmin, catmRestoreConfiguration, "restoreConfiguration", "configuration", map[string]any{"id": id})
	})
	res, p, ues = w.mutate(t, "admin", catmRestoreConfiguration, "restoreConfiguration", map[string]any{"id": id})
	catmOK(t, res, ues)
	if str(p, "configuration", "state") != "PUBLISHED" || get(p, "configuration", "suspendedReason") != nil {
		t.Fatalf("restore: %s", res.Raw)
	}
	if !w.listed(t, "suspendable") || get(w.read(t, "anonymous", "suspendable", "state").Data, "configuration") == nil {
		t.Fatal("restored configuration is not back on the storefront")
	}
	hist := w.read(t, "developer", "suspendable", "moderationHistory { action reason }")
	var actions []string
	for _, e := range get(hist.Data, "configuration", "moderationHistory").([]any) {
		actions = append(actions, str(e, "action")+"/"+str(e, "reason"))
	}
	if want := []string{"SUBMITTED/", "APPROVED/", "SUSPENDED/" + reason, "RESTORED/"}; !slices.Equal(actions, want) {
		t.Fatalf("history %v, want %v", actions, want)
	}
}

// ---------------------------------------------------------------- reviews

func TestCatalogReviews(t *testing.T) {
	w := newCatmWorld(t)
	id, _ := w.publish(t, "developer", "reviewed", "Reviewed")
	second := factory.Customer(t, w.Store)
	stranger := factory.Customer(t, w.Store)
	w.tok["second customer"], _ = w.LogIn(t, second, nil)
	w.tok["customer without installation"], _ = w.LogIn(t, stranger, nil)
	w.install(t, w.customer.OrgID, id)
	w.install(t, second.OrgID, id)
	rating := func(t *testing.T) string {
		t.Helper()
		r := w.read(t, "anonymous", "reviewed", "rating { average count }")
		b, _ := json.Marshal(get(r.Data, "configuration", "rating"))
		return string(b)
	}
	if got := rating(t); got != `{"average":null,"count":0}` { // and cached
		t.Fatalf("no reviews yet: %s", got)
	}
	input := func(r int) map[string]any {
		return map[string]any{"configurationId": id, "rating": r, "body": "Works for us"}
	}

	t.Run("createReview twins", func(t *testing.T) {
		w.expectDenied(t, catmNotCustomer, catmCreateReview, "createReview", "review", input(5))
	})
	t.Run("without an installation", func(t *testing.T) {
		before := w.fingerprint(t)
		res, p, ues := w.mutate(t, "customer without installation", catmCreateReview, "createReview", input(5))
		catmRefused(t, res, p, "review", ues, "NOT_INSTALLED", "")
		if w.fingerprint(t) != before {
			t.Fatal("wrote")
		}
	})
	for _, r := range []int{0, 6, -1} {
		t.Run(fmt.Sprintf("rating %d", r), func(t *testing.T) {
			before := w.fingerprint(t)
			res, p, ues := w.mutate(t, "customer", catmCreateReview, "createReview", input(r))
			catmRefused(t, res, p, "review", ues, "RATING_INVALID", "input.rating")
			if w.fingerprint(t) != before {
				t.Fatal("wrote")
			}
		})
	}

	res, p, ues := w.mutate(t, "customer", catmCreateReview, "createReview", input(4))
	catmOK(t, res, ues)
	reviewID := str(p, "review", "id")
	if get(p, "review", "rating") != float64(4) || str(p, "review", "body") != "Works for us" || !strings.HasPrefix(str(p, "review", "authorName"), "Customer ") {
		t.Fatalf("review: %s", res.Raw)
	}
	if got := rating(t); got != `{"average":4,"count":1}` {
		t.Fatalf("after one review: %s", got)
	}

	t.Run("one review per customer", func(t *testing.T) {
		before := w.fingerprint(t)
		res, p, ues := w.mutate(t, "customer", catmCreateReview, "createReview", input(1))
		catmRefused(t, res, p, "review", ues, "ALREADY_REVIEWED", "")
		if w.fingerprint(t) != before {
			t.Fatal("wrote")
		}
	})

	res, _, ues = w.mutate(t, "second customer", catmCreateReview, "createReview", input(1))
	catmOK(t, res, ues)
	if got := rating(t); got != `{"average":2.5,"count":2}` {
		t.Fatalf("after two reviews: %s", got)
	}

	t.Run("author edits", func(t *testing.T) {
		res, p, ues := w.mutate(t, "customer", catmUpdateReview, "updateReview", map[string]any{"id": reviewID, "rating": 5, "body": "Even better"})
		catmOK(t, res, ues)
		if get(p, "review", "rating") != float64(5) || str(p, "review", "body") != "Even better" {
			t.Fatalf("update: %s", res.Raw)
		}
		if got := rating(t); got != `{"average":3,"count":2}` {
			t.Fatalf("after the edit: %s", got)
		}
		r := w.read(t, "anonymous", "reviewed", "reviews(first: 5) { nodes { id rating body } }")
		if !strings.Contains(r.Raw, `"rating":5,"body":"Even better"`) {
			t.Fatalf("edited review not shown: %s", r.Raw)
		}
	})
	t.Run("invalid edit", func(t *testing.T) {
		res, p, ues := w.mutate(t, "customer", catmUpdateReview, "updateReview", map[string]any{"id": reviewID, "rating": 0})
		catmRefused(t, res, p, "review", ues, "RATING_INVALID", "input.rating")
	})
	t.Run("updateReview twins", func(t *testing.T) {
		w.expectDenied(t, append([]catmDenial{
			{"second customer", "", "NOT_FOUND"},
			{"customer without installation", "", "NOT_FOUND"},
		}, catmNotCustomer...), catmUpdateReview, "updateReview", "review", map[string]any{"id": reviewID, "rating": 1, "body": "Hijacked"})
		if got := rating(t); got != `{"average":3,"count":2}` {
			t.Fatalf("rating changed by a refused edit: %s", got)
		}
	})
}

// catmPost is do without testing.T, for goroutines.
func (w *catmWorld) catmPost(token, query string, vars map[string]any) (Response, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, w.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(res.Body)
	out := Response{Status: res.StatusCode, Raw: buf.String()}
	return out, json.Unmarshal(buf.Bytes(), &out)
}

// concurrently runs one request per token at the same moment and returns
// the responses in token order.
func (w *catmWorld) concurrently(t *testing.T, tokens []string, query string, vars func(i int) map[string]any) []Response {
	t.Helper()
	out := make([]Response, len(tokens))
	errs := make([]error, len(tokens))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, tok := range tokens {
		wg.Go(func() {
			<-start
			out[i], errs[i] = w.catmPost(tok, query, vars(i))
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	return out
}

func TestCatalogConcurrentReviews(t *testing.T) {
	w := newCatmWorld(t)
	id, _ := w.publish(t, "developer", "popular", "Popular")
	const n = 20
	tokens := make([]string, n)
	ratings := make([]int, n)
	sum := 0
	for i := range n {
		c := factory.Customer(t, w.Store)
		w.install(t, c.OrgID, id)
		tokens[i], _ = w.LogIn(t, c, nil)
		ratings[i] = []int{5, 5, 4, 3, 5, 1, 4, 2}[i%8] // sum 75, mean 3.75
		sum += ratings[i]
	}
	check := func(t *testing.T, sum int) {
		t.Helper()
		r := w.read(t, "anonymous", "popular", "rating { average count } reviews(first: 100) { nodes { rating } }")
		want := math.Round(float64(sum)/n*100) / 100
		if get(r.Data, "configuration", "rating", "count") != float64(n) || get(r.Data, "configuration", "rating", "average") != want {
			t.Fatalf("rating: %s, want average %v of %d", r.Raw, want, n)
		}
		if nodes := get(r.Data, "configuration", "reviews", "nodes").([]any); len(nodes) != n {
			t.Fatalf("%d reviews listed", len(nodes))
		}
		var count, total int
		if err := w.Pool.QueryRow(context.Background(), `select rating_count, rating_sum from configurations where id = $1`,
			catmUUID(t, id, "Configuration")).Scan(&count, &total); err != nil || count != n || total != sum {
			t.Fatalf("counters %d/%d, want %d/%d (%v)", count, total, n, sum, err)
		}
	}

	created := w.concurrently(t, tokens, catmCreateReview, func(i int) map[string]any {
		return map[string]any{"input": map[string]any{"configurationId": id, "rating": ratings[i]}}
	})
	reviewIDs := make([]string, n)
	for i, res := range created {
		if res.Code() != "" || len(catmUserErrors(res, "createReview")) > 0 {
			t.Fatalf("review %d: %s", i, res.Raw)
		}
		reviewIDs[i] = str(res.Data, "createReview", "review", "id")
	}
	check(t, sum)

	// Every author changes its mind at once: r becomes 6-r.
	updated := w.concurrently(t, tokens, catmUpdateReview, func(i int) map[string]any {
		return map[string]any{"input": map[string]any{"id": reviewIDs[i], "rating": 6 - ratings[i]}}
	})
	for i, res := range updated {
		if res.Code() != "" || len(catmUserErrors(res, "updateReview")) > 0 {
			t.Fatalf("update %d: %s", i, res.Raw)
		}
	}
	check(t, 6*n-sum)

	t.Run("one customer racing itself gets one review", func(t *testing.T) {
		c := factory.Customer(t, w.Store)
		w.install(t, c.OrgID, id)
		tok, _ := w.LogIn(t, c, nil)
		tokens := []string{tok, tok, tok, tok, tok}
		res := w.concurrently(t, tokens, catmCreateReview, func(int) map[string]any {
			return map[string]any{"input": map[string]any{"configurationId": id, "rating": 5}}
		})
		ok, already := 0, 0
		for _, r := range res {
			ues := catmUserErrors(r, "createReview")
			switch {
			case r.Code() == "" && len(ues) == 0:
				ok++
			case len(ues) == 1 && ues[0].Code == "ALREADY_REVIEWED":
				already++
			default:
				t.Errorf("unexpected answer: %s", r.Raw)
			}
		}
		if ok != 1 || already != len(tokens)-1 {
			t.Fatalf("%d created, %d ALREADY_REVIEWED", ok, already)
		}
		if got := w.countWhere(t, `select count(*) from reviews where customer_id = $1`, c.OrgID); got != 1 {
			t.Fatalf("%d reviews", got)
		}
	})
}
