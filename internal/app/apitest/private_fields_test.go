package apitest

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2/ast"

	"configmarket/graph"
	"configmarket/internal/commerce"
	"configmarket/internal/factory"
	"configmarket/internal/money"
	"configmarket/internal/store"
)

// The accounting of private fields (issue 21 item 3, Coder's dbauthz idea):
// every field of every object type of the schema is classified below, and
// every private one is read as anonymous, another customer, another
// developer, another partner and every account of the world that is not
// its reader: each must see nothing (null, an empty list or connection,
// or, for a root field, a refusal that names nothing), while its first
// reader sees it. internal/privacy holds the domain reads behind them.

// fieldClasses classifies, type by type, every field of every object type
// (space-separated names):
//   - public: whoever sees the object sees the field;
//   - private: only the readers of its reach (fieldReaches) and admins;
//   - action: a mutation or subscription: the domain refuses whoever may not
//     act (each has its refusals tested), and the reads behind the
//     subscriptions are in internal/privacy.
//
// A type whose every field is private is an object only its owners reach
// (node(id:) answers null to anyone else); a type with public fields shows
// some of itself to strangers, and its private fields are hidden one by one.
var fieldClasses = map[string]struct{ public, private, action string }{
	"Query": {
		public:  "node nodes viewer tariffPlans developers developer configurations configuration categories licenseCheck rates",
		private: "moderationQueue rateHistory auditLog auditLogBrokenAt unappliedPayments settings payouts invoices pins customers partners users",
	},
	"Mutation": {action: "startTrial rentConfiguration convertTrial buyConfiguration cancelRental changeTariffPlan recordPayment " +
		"refundPayment applyUnappliedPayment returnUnappliedPayment restoreLicense setDeveloperRate setPartnerRate pinCustomer " +
		"confirmPin declinePin renewPin refusePin requestPayout decidePayout recomputeDeveloperStatus setDeveloperFlags " +
		"setPartnerStatus createConfiguration updateConfiguration setConfigurationPrices archiveConfiguration inviteCustomer " +
		"createVersion updateVersion submitVersion approveVersion rejectVersion suspendConfiguration restoreConfiguration " +
		"createReview updateReview signUp logIn refreshToken logOut changePassword setAllowedNetworks setCrmAccountId grantRole " +
		"revokeRole erasePersonalData updateSetting createApiToken revokeApiToken updateProfile updateDeveloperProfile " +
		"updatePartnerProfile updateCustomerProfile"},
	"Subscription": {action: "commissionAdded earningAdded developerActivity moderationQueue"},

	// Objects with a public side.
	"Configuration": {
		public: "id slug title summary description category tags screenshots visibility saleModes supportMode trialDays state " +
			"developer currentVersion versions rentPrices rentPrice salePrice isFree rating reviews createdAt publishedAt",
		private: "activeInstallations priceHistory moderationHistory suspendedReason",
	},
	"Developer": {
		public:  "id slug name bio website status createdAt configurations",
		private: "installations payments earnings earningsTotals statement balance statusProgress payouts",
	},
	"Version": {
		public:  "id number changelog state configuration createdAt submittedAt decidedAt",
		private: "rejectionReason package",
	},

	// Objects only their owners reach.
	"Customer":         {private: "installations invoices payments pins id name inn crmAccountId tariffPlan createdAt"},
	"Partner":          {private: "commissions commissionTotals statement balance payouts pins statusHistory id name inn website status createdAt"},
	"User":             {private: "id email name phone createdAt"},
	"Installation":     {private: "id configuration mode state version autoUpdate licenseKey trialEndsAt trialDaysLeft currentPeriodStart currentPeriodEnd cancelAtPeriodEnd backupRef backupUrl packageDownloads dataRetainedUntil createdAt updates"},
	"Invoice":          {private: "id installation configuration paidFor amount periodStart periodEnd state issuedAt paidAt expiresAt"},
	"Payment":          {private: "id configuration paidFor amount provider receivedAt"},
	"Payout":           {private: "id amount method state failureReason requestedAt decidedAt"},
	"Pin":              {private: "id state partnerName requestedAt requestedVia startsAt expiresAt decidedAt reason events"},
	"UnappliedPayment": {private: "id kind eventId providerPaymentId providerRefundId amount occurredAt reason reasonText invoice payment event receivedAt state resolvedAt resolvedBy note appliedInvoice appliedPayment"},

	// Objects seen wherever the field holding them is seen: they are parts
	// of public objects, or of the private fields and objects above, or
	// the viewer's own (Viewer, RoleGrant, AuthSession).
	"Activity":                   {public: "kind installation version configuration"},
	"ApiToken":                   {public: "id name role actingFor prefix createdAt expiresAt lastUsedAt revokedAt"},
	"AuditEntry":                 {public: "id at actor role action target result ip requestId amount eventId apiToken"},
	"AuditEntryConnection":       {public: "edges nodes pageInfo"},
	"AuditEntryEdge":             {public: "cursor node"},
	"AuthSession":                {public: "accessToken accessTokenExpiresAt refreshToken refreshTokenExpiresAt role"},
	"Balance":                    {public: "total available onHold paidOrRequested holdUntil"},
	"Category":                   {public: "id slug name"},
	"ChangeTariffPlanPayload":    {public: "customer userErrors"},
	"ChargePayload":              {public: "installation invoice userErrors"},
	"ConfigurationConnection":    {public: "edges nodes pageInfo"},
	"ConfigurationEdge":          {public: "cursor node"},
	"ConfigurationPayload":       {public: "configuration userErrors"},
	"CreateApiTokenPayload":      {public: "secret apiToken userErrors"},
	"CustomerConnection":         {public: "edges nodes pageInfo totalCount"},
	"CustomerEdge":               {public: "cursor node"},
	"DeveloperConnection":        {public: "edges nodes pageInfo totalCount"},
	"DeveloperEdge":              {public: "cursor node"},
	"DeveloperFlags":             {public: "knowledgeTestPassed websiteInfo contractSigned"},
	"DeveloperRate":              {public: "status supportMode rate validFrom"},
	"DeveloperStatusPayload":     {public: "developer userErrors"},
	"EarningsTotal":              {public: "key label gross share entries"},
	"ErasePersonalDataPayload":   {public: "erased userErrors"},
	"InstallationConnection":     {public: "edges nodes pageInfo"},
	"InstallationEdge":           {public: "cursor node"},
	"InstallationPayload":        {public: "installation userErrors"},
	"InstallationUpdate":         {public: "fromVersion toVersion at"},
	"InvoiceConnection":          {public: "edges nodes pageInfo totalCount"},
	"InvoiceEdge":                {public: "cursor node"},
	"LedgerEntry":                {public: "party amount rate paidFor configuration reversal occurredAt"},
	"LedgerEntryConnection":      {public: "edges nodes pageInfo"},
	"LedgerEntryEdge":            {public: "cursor node"},
	"LedgerEvent":                {public: "sequence entry dayTotal monthTotal"},
	"LicenseCheck":               {public: "valid configuration mode validUntil"},
	"LogInPayload":               {public: "session userErrors"},
	"LogOutPayload":              {public: "loggedOut userErrors"},
	"ModerationEvent":            {public: "action version reason at"},
	"Money":                      {public: "amount currencyCode"},
	"PackageManifest":            {public: "slug version platformVersion"},
	"PageInfo":                   {public: "hasNextPage hasPreviousPage startCursor endCursor"},
	"PartnerConnection":          {public: "edges nodes pageInfo totalCount"},
	"PartnerEdge":                {public: "cursor node"},
	"PartnerRate":                {public: "status paidFor rate validFrom"},
	"PartnerStatusChange":        {public: "status reason decidedBy decidedAt"},
	"PaymentConnection":          {public: "edges nodes pageInfo"},
	"PaymentEdge":                {public: "cursor node"},
	"PaymentPayload":             {public: "payment userErrors"},
	"PayoutConnection":           {public: "edges nodes pageInfo totalCount"},
	"PayoutEdge":                 {public: "cursor node"},
	"PayoutPayload":              {public: "payout userErrors"},
	"PinConnection":              {public: "edges nodes pageInfo totalCount"},
	"PinEdge":                    {public: "cursor node"},
	"PinEvent":                   {public: "action reason expiresAt at"},
	"PinPayload":                 {public: "pin userErrors"},
	"PlanPrice":                  {public: "tariffPlan price"},
	"PriceChange":                {public: "saleMode tariffPlan price validFrom"},
	"RateTables":                 {public: "developer partner"},
	"RatesPayload":               {public: "rates userErrors"},
	"Rating":                     {public: "average count"},
	"RefreshTokenPayload":        {public: "session userErrors"},
	"Review":                     {public: "id rating body authorName configuration createdAt updatedAt"},
	"ReviewConnection":           {public: "edges nodes pageInfo"},
	"ReviewEdge":                 {public: "cursor node"},
	"ReviewPayload":              {public: "review userErrors"},
	"RevokeApiTokenPayload":      {public: "apiToken userErrors"},
	"RoleChangePayload":          {public: "roles userErrors"},
	"RoleGrant":                  {public: "role actingFor organizationName"},
	"SetAllowedNetworksPayload":  {public: "networks userErrors"},
	"SetCrmAccountIdPayload":     {public: "customer userErrors"},
	"SetPartnerStatusPayload":    {public: "partner userErrors"},
	"Setting":                    {public: "key value default min max unit description updatedAt updatedBy history"},
	"SettingChange":              {public: "oldValue newValue changedAt changedBy"},
	"SignUpPayload":              {public: "session userErrors"},
	"Statement":                  {public: "month entries totals gross share payouts payoutTotal"},
	"StatusProgress":             {public: "status eligible next threshold lastMonth lastMonthSales currentMonth currentMonthSales flags missing"},
	"StatusRequirement":          {public: "code text"},
	"TariffPlan":                 {public: "id code name maxUsers monthlyPrice isDefault"},
	"UnappliedPaymentConnection": {public: "edges nodes pageInfo totalCount"},
	"UnappliedPaymentEdge":       {public: "cursor node"},
	"UnappliedPaymentPayload":    {public: "unappliedPayment payment userErrors"},
	"UpdateSettingPayload":       {public: "setting userErrors"},
	"UserConnection":             {public: "edges nodes pageInfo totalCount"},
	"UserEdge":                   {public: "cursor node"},
	"UserError":                  {public: "field message code"},
	"VersionConnection":          {public: "edges nodes pageInfo"},
	"VersionEdge":                {public: "cursor node"},
	"VersionPackage":             {public: "sha256 size uploadedAt manifest problem downloadPath"},
	"VersionPayload":             {public: "version userErrors"},
	"Viewer":                     {public: "user role roles customer developer partner apiTokens"},

	// Issue 22 item 3: the profiles' payloads show what their mutation saved.
	"UpdateProfilePayload":          {public: "user userErrors"},
	"UpdateDeveloperProfilePayload": {public: "developer userErrors"},
	"UpdatePartnerProfilePayload":   {public: "partner userErrors"},
	"UpdateCustomerProfilePayload":  {public: "customer userErrors"},
}

// A fieldReach is how the readers of a private field reach an object that
// holds it; strangers send the same document. of names the world's object
// (privateWorld.ids); readers are the world's accounts that may read the
// field besides admins, the first of which must see it.
type fieldReach struct {
	of      string
	readers []string
}

// fieldReaches are keyed by type, or by "Type.field" where one field has
// another object or fewer readers than the rest of its type.
var fieldReaches = map[string]fieldReach{
	"Query":                         {},
	"Configuration":                 {of: "sold", readers: []string{"developer"}},
	"Configuration.suspendedReason": {of: "suspended", readers: []string{"developer"}},
	"Developer":                     {of: "developer", readers: []string{"developer"}},
	"Version":                       {of: "version", readers: []string{"developer"}},
	"Version.rejectionReason":       {of: "rejected", readers: []string{"developer"}},
	"Customer":                      {of: "customer", readers: []string{"customer"}},
	"Partner":                       {of: "partner", readers: []string{"partner"}},
	"User":                          {of: "customer user", readers: []string{"customer"}},
	"Installation":                  {of: "installation", readers: []string{"customer", "developer"}},
	// The license key and backup are the customer's, not the developer's.
	"Installation.licenseKey": {of: "installation", readers: []string{"customer"}},
	"Installation.backupRef":  {of: "installation", readers: []string{"customer"}},
	"Installation.backupUrl":  {of: "installation", readers: []string{"customer"}},
	"Invoice":                 {of: "invoice", readers: []string{"customer"}},
	"Payment":                 {of: "payment", readers: []string{"customer", "developer"}},
	"Payout":                  {of: "payout", readers: []string{"developer"}},
	"Pin":                     {of: "pin", readers: []string{"partner", "customer"}},
	"UnappliedPayment":        {of: "unapplied"},
}

// ownerMaySeeNothing are private fields of objects with a public side that
// read null even for their readers in this world, and why.
var ownerMaySeeNothing = map[string]string{
	"Query.auditLogBrokenAt": "null while the audit log's hash chain is intact",
}

func TestEveryFieldIsClassified(t *testing.T) {
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	for _, def := range objectTypes(schema) {
		c, ok := fieldClasses[def.Name]
		if !ok {
			t.Errorf("type %s is not classified: add it to fieldClasses in private_fields_test.go, each field public, private (with a fieldReaches entry) or action", def.Name)
			continue
		}
		listed := map[string]int{}
		for _, names := range []string{c.public, c.private, c.action} {
			for _, n := range strings.Fields(names) {
				listed[n]++
			}
		}
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			switch listed[f.Name] {
			case 0:
				t.Errorf("%s.%s is not classified: add it to fieldClasses[%q] in private_fields_test.go as public, private or action", def.Name, f.Name, def.Name)
			case 1:
			default:
				t.Errorf("%s.%s is classified twice in fieldClasses", def.Name, f.Name)
			}
			delete(listed, f.Name)
		}
		for n := range listed {
			t.Errorf("fieldClasses[%q] names %s, which the schema does not have", def.Name, n)
		}
		for _, n := range strings.Fields(c.private) {
			if _, ok := reachOf(def.Name, n); !ok {
				t.Errorf("%s.%s is private but has no fieldReaches entry (by type or Type.field) saying how its readers reach it", def.Name, n)
			}
		}
	}
	for name := range fieldClasses {
		if d := schema.Types[name]; d == nil || d.Kind != ast.Object {
			t.Errorf("fieldClasses names %s, which is no object type of the schema", name)
		}
	}
}

func objectTypes(schema *ast.Schema) []*ast.Definition {
	var out []*ast.Definition
	for _, d := range schema.Types {
		if d.Kind == ast.Object && !d.BuiltIn && !strings.HasPrefix(d.Name, "__") {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func reachOf(typ, field string) (fieldReach, bool) {
	if r, ok := fieldReaches[typ+"."+field]; ok {
		return r, true
	}
	r, ok := fieldReaches[typ]
	return r, ok
}

// privateWorld is one server with an object of every type that has
// private fields, and a token for every reader and stranger.
type privateWorld struct {
	s      *Server
	tokens map[string]string
	// ids are global ids by the names fieldReaches use.
	ids map[string]string
	// secrets are ids that no stranger's answer may hold.
	secrets []string
}

// strangers are tried on every private field besides the world's accounts
// that are not its readers.
var fieldStrangers = []string{"anonymous", "another customer", "another developer", "another partner"}

func newPrivateWorld(t *testing.T) *privateWorld {
	t.Helper()
	s := New(t)
	ctx := context.Background()
	accounts := map[string]factory.Account{
		"admin": factory.Admin(t, s.Store), "customer": factory.Customer(t, s.Store), "developer": factory.Developer(t, s.Store),
		"partner": factory.Partner(t, s.Store), "another customer": factory.Customer(t, s.Store),
		"another developer": factory.Developer(t, s.Store), "another partner": factory.Partner(t, s.Store),
	}
	w := &privateWorld{s: s, tokens: map[string]string{"anonymous": ""}, ids: map[string]string{}}
	for name, a := range accounts {
		w.tokens[name], _ = s.LogIn(t, a, nil)
	}
	cust, dev, partner := accounts["customer"], accounts["developer"], accounts["partner"]
	w.ids["customer"], w.ids["customer user"] = globalIDOf("Customer", cust.OrgID), globalIDOf("User", cust.UserID)
	w.ids["developer"], w.ids["partner"] = globalIDOf("Developer", dev.OrgID), globalIDOf("Partner", partner.OrgID)

	// Sold: published through moderation (submitted and approved with its
	// package), with a rejected version and one waiting in the queue.
	if _, err := s.Pool.Exec(ctx, `insert into categories (slug, name, position) values ('sales', 'Sales', 1)`); err != nil {
		t.Fatal(err)
	}
	sold := factory.Configuration(t, s.Store, dev.OrgID, factory.ConfigurationOptions{State: "draft", SaleMinor: 3_500_000})
	w.ids["sold"] = globalIDOf("Configuration", sold.ID)
	w.mutate(t, "developer", "updateConfiguration", "UpdateConfigurationInput!", "configuration { id }", map[string]any{"id": w.ids["sold"], "category": "sales"})
	vs, err := s.Store.NewestVersions(ctx, []uuid.UUID{sold.ID}, []store.VersionState{store.VersionDraft}, 1)
	if err != nil || len(vs) != 1 {
		t.Fatalf("sold's draft version: %v", err)
	}
	w.ids["version"] = globalIDOf("Version", vs[0].ID)
	w.moderate(t, w.ids["version"], "approveVersion", nil)
	w.ids["rejected"] = w.moderate(t, w.newVersion(t, "2.0.0"), "rejectVersion", map[string]any{"reason": "the manifest names another product"})
	w.newVersion(t, "3.0.0")

	// Suspended after the customer installed and reviewed it: the customer
	// still sees it, strangers do not.
	suspended := factory.Configuration(t, s.Store, dev.OrgID, factory.ConfigurationOptions{})
	w.ids["suspended"] = globalIDOf("Configuration", suspended.ID)
	factory.Installation(t, s.Store, cust.OrgID, suspended)
	w.mutate(t, "customer", "createReview", "CreateReviewInput!", "review { id }", map[string]any{"configurationId": w.ids["suspended"], "rating": 4, "body": "Works"})
	w.mutate(t, "admin", "suspendConfiguration", "SuspendConfigurationInput!", "configuration { id }", map[string]any{"id": w.ids["suspended"], "reason": "copied content"})

	// The partner pins the customer, who then buys sold: both parties earn.
	w.ids["pin"] = str(w.mutate(t, "partner", "pinCustomer", "PinCustomerInput!", "pin { id }", map[string]any{"crmAccountId": cust.CRMAccountID}), "pin", "id")
	bought := w.mutate(t, "customer", "buyConfiguration", "ChargeInput!", "installation { id } invoice { id }",
		map[string]any{"configurationId": w.ids["sold"], "idempotencyKey": "buy"})
	w.ids["installation"], w.ids["invoice"] = str(bought, "installation", "id"), str(bought, "invoice", "id")
	w.ids["payment"] = str(w.mutate(t, "admin", "recordPayment", "RecordPaymentInput!", "payment { id }",
		map[string]any{"invoiceId": w.ids["invoice"], "amount": "35000.00", "reference": "bank transfer", "idempotencyKey": "pay"}), "payment", "id")

	// Past the hold, both draw on their balances.
	s.Clock.Advance(15 * 24 * time.Hour)
	payout := map[string]any{"amount": "1000.00", "method": "BANK_ACCOUNT", "idempotencyKey": "payout"}
	w.ids["payout"] = str(w.mutate(t, "developer", "requestPayout", "RequestPayoutInput!", "payout { id }", payout), "payout", "id")
	w.ids["partner payout"] = str(w.mutate(t, "partner", "requestPayout", "RequestPayoutInput!", "payout { id }", payout), "payout", "id")

	// A provider's payment for an invoice that is not ours.
	out, err := s.Commerce.HandleProviderEvent(ctx, commerce.ProviderPayment{
		Provider: "test", EventID: "evt-unknown", PaymentID: "pay-unknown", InvoiceID: uuid.New(),
		Amount: money.New(50_000, money.RUB), PaidAt: s.Clock.Now(),
	}.Event())
	if err != nil || out.Unapplied == nil {
		t.Fatalf("unapplied payment: %+v, %v", out, err)
	}
	w.ids["unapplied"] = globalIDOf("UnappliedPayment", out.Unapplied.ID)

	for name, id := range w.ids {
		if id == "" {
			t.Fatalf("the world has no %s", name)
		}
		if name != "sold" && name != "version" && name != "developer" {
			w.secrets = append(w.secrets, id)
		}
	}
	w.secrets = append(w.secrets, cust.Email, partner.Email, "the manifest names another product", "copied content")
	return w
}

// mutate runs one mutation as the named account and fails on any error.
func (w *privateWorld) mutate(t *testing.T, as, name, inputType, selection string, input map[string]any) any {
	t.Helper()
	r := w.s.Do(t, w.tokens[as], fmt.Sprintf(`mutation($input: %s) { %s(input: $input) { %s userErrors { code } } }`, inputType, name, selection),
		map[string]any{"input": input})
	if len(r.Errors) > 0 || len(get(r.Data, name, "userErrors").([]any)) > 0 {
		t.Fatalf("%s as %s: %s", name, as, r.Raw)
	}
	return get(r.Data, name)
}

// newVersion adds a version of sold with its package, sent to moderation.
func (w *privateWorld) newVersion(t *testing.T, number string) string {
	t.Helper()
	id := str(w.mutate(t, "developer", "createVersion", "CreateVersionInput!", "version { id }",
		map[string]any{"configurationId": w.ids["sold"], "number": number, "changelog": "Release " + number}), "version", "id")
	w.s.uploadPackage(t, w.tokens["developer"], id)
	w.mutate(t, "developer", "submitVersion", "VersionIdInput!", "version { id }", map[string]any{"id": id})
	return id
}

// moderate submits a draft version (with a package) if it is one, then has
// an admin decide it.
func (w *privateWorld) moderate(t *testing.T, version, decision string, extra map[string]any) string {
	t.Helper()
	if state := str(w.s.Do(t, w.tokens["developer"], `query($v: ID!) { node(id: $v) { ... on Version { state } } }`, map[string]any{"v": version}).Data, "node", "state"); state == "DRAFT" {
		w.s.uploadPackage(t, w.tokens["developer"], version)
		w.mutate(t, "developer", "submitVersion", "VersionIdInput!", "version { id }", map[string]any{"id": version})
	}
	input := map[string]any{"id": version}
	for k, v := range extra {
		input[k] = v
	}
	w.mutate(t, "admin", decision, map[string]string{"approveVersion": "VersionIdInput!", "rejectVersion": "RejectVersionInput!"}[decision], "version { id }", input)
	return version
}

// selection reads field of def with a value for each required argument
// and, for an object, its type name (and its nodes, for a connection).
func selection(schema *ast.Schema, f *ast.FieldDefinition) string {
	var args []string
	for _, a := range f.Arguments {
		if !a.Type.NonNull || a.DefaultValue != nil {
			continue
		}
		switch arg := schema.Types[a.Type.Name()]; {
		case arg.Kind == ast.Enum:
			args = append(args, a.Name+": "+arg.EnumValues[0].Name)
		case arg.Name == "DateTime":
			args = append(args, a.Name+": "+fmt.Sprintf("%q", time.Now().UTC().Format(time.RFC3339)))
		default:
			args = append(args, a.Name+`: "B"`)
		}
	}
	out := f.Name
	if len(args) > 0 {
		out += "(" + strings.Join(args, ", ") + ")"
	}
	switch t := schema.Types[f.Type.Name()]; t.Kind {
	case ast.Object, ast.Interface, ast.Union:
		sub := "__typename"
		if t.Fields.ForName("nodes") != nil {
			sub += " nodes { __typename }"
		}
		out += " { " + sub + " }"
	}
	return out
}

// sawNothing reports whether a field's value shows nothing: null, an empty
// list, or a connection without nodes.
func sawNothing(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case []any:
		return len(x) == 0
	case map[string]any:
		nodes, ok := x["nodes"].([]any)
		return ok && len(nodes) == 0
	}
	return false
}

// TestStrangersSeeNoPrivateField reads every private field, grouped by the
// object its readers reach, as every stranger and as its first reader.
func TestStrangersSeeNoPrivateField(t *testing.T) {
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	w := newPrivateWorld(t)
	type group struct {
		typ    string
		reach  fieldReach
		fields []*ast.FieldDefinition
	}
	groups := map[string]*group{}
	for typ, c := range fieldClasses {
		for _, name := range strings.Fields(c.private) {
			r, _ := reachOf(typ, name)
			key := typ + "/" + r.of + "/" + strings.Join(r.readers, ",")
			if groups[key] == nil {
				groups[key] = &group{typ: typ, reach: r}
			}
			groups[key].fields = append(groups[key].fields, schema.Types[typ].Fields.ForName(name))
		}
	}
	fields := 0
	for key, g := range groups {
		t.Run(key, func(t *testing.T) {
			var sel []string
			for _, f := range g.fields {
				sel = append(sel, selection(schema, f))
			}
			doc, vars := "{ "+strings.Join(sel, " ")+" }", map[string]any(nil)
			if g.typ != "Query" {
				doc = fmt.Sprintf(`query($id: ID!) { node(id: $id) { ... on %s { %s } } }`, g.typ, strings.Join(sel, " "))
				vars = map[string]any{"id": w.ids[g.reach.of]}
			}
			at := func(r Response, f *ast.FieldDefinition) (any, bool) {
				parent, ok := r.Data, r.Data != nil
				if g.typ != "Query" {
					parent, ok = r.Data["node"].(map[string]any)
				}
				v, has := parent[f.Name]
				return v, ok && has
			}

			reader := "admin"
			if len(g.reach.readers) > 0 {
				reader = g.reach.readers[0]
			}
			r := w.s.Do(t, w.tokens[reader], doc, vars)
			if len(r.Errors) > 0 {
				t.Fatalf("its reader %s: %s", reader, r.Raw)
			}
			// A private object's fields stand or fall with the object; a
			// field hidden on its own must show its reader something, or
			// the test would prove nothing about its check.
			alone := fieldClasses[g.typ].public != "" || len(g.reach.readers) < len(fieldReaches[g.typ].readers)
			for _, f := range g.fields {
				v, reached := at(r, f)
				if !reached {
					t.Errorf("its reader %s does not reach %s.%s: %s", reader, g.typ, f.Name, r.Raw)
				} else if _, why := ownerMaySeeNothing[g.typ+"."+f.Name]; alone && !why && sawNothing(v) {
					t.Errorf("its reader %s sees nothing of %s.%s: %s", reader, g.typ, f.Name, r.Raw)
				}
			}

			who := slices.Clone(fieldStrangers)
			for _, acct := range []string{"customer", "developer", "partner"} {
				if !slices.Contains(g.reach.readers, acct) {
					who = append(who, acct)
				}
			}
			for _, stranger := range who {
				r := w.s.Do(t, w.tokens[stranger], doc, vars)
				for _, e := range r.Errors {
					// A root field refuses with its code; a field of an
					// object answers nothing and no error.
					code, _ := e.Extensions["code"].(string)
					if g.typ != "Query" || (code != "FORBIDDEN" && code != "UNAUTHENTICATED") {
						t.Errorf("%s gets an error: %s", stranger, r.Raw)
					}
				}
				for _, f := range g.fields {
					if v, _ := at(r, f); !sawNothing(v) {
						t.Errorf("%s sees %s.%s: %v", stranger, g.typ, f.Name, v)
					}
				}
				for _, secret := range w.secrets {
					if strings.Contains(r.Raw, secret) {
						t.Errorf("%s reads %q: %s", stranger, secret, r.Raw)
					}
				}
			}
		})
		fields += len(g.fields)
	}
	if fields < 100 {
		t.Errorf("only %d private fields read", fields)
	}
}
