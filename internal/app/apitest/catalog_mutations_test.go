package apitest

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/uuid"

	"configmarket/internal/factory"
	"configmarket/internal/relay"
)

// Catalog mutations through the real handler (SPEC §2, §3). Every allowed
// case has its refused twins: another developer (a NOT_FOUND userError, as
// if the object did not exist), the wrong role (FORBIDDEN) and anonymous
// (UNAUTHENTICATED); a refused attempt writes nothing.
//
// This file holds the world, helpers and documents those tests share; the
// tests are in catalog_configurations_test.go, catalog_prices_test.go,
// catalog_versions_test.go, catalog_moderation_test.go and
// catalog_reviews_test.go.

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
