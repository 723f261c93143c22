package apitest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"configmarket/graph"
	"configmarket/internal/dbtest"
	"configmarket/internal/factory"
	"configmarket/internal/relay"
	"configmarket/internal/store"
)

// The bad-input sweep (issue 19, item 9): every root Query and Mutation
// field, and every field with arguments reachable from Query, read from the
// schema the server runs, gets odd values (NUL, 100 KB strings, bidi and
// emoji text, out-of-range ints, malformed decimals and dates, ids of
// another type, garbage cursors) in each scalar position of its arguments,
// as each role, through the real handler; malformed JSON bodies go to the
// endpoint. No answer may be INTERNAL, a 5xx or slower than sweepSlow, and
// a mutation refused as bad input must have written nothing. New fields are
// swept without touching this file.

// sweepRoles are the viewers every field is asked as.
var sweepRoles = []string{"anonymous", "customer", "developer", "partner", "admin"}

// sweepSlow is the slowest answer the sweep accepts. The race detector
// slows everything several times over (make test runs with -race).
func sweepSlow() time.Duration {
	if raceDetector {
		return 4 * time.Second
	}
	return time.Second
}

// sweepServer is the real handler with the production body limit (so a
// 100 KB string reaches the resolvers) and a trusted proxy, so each request
// can come from an address of its own: the login throttle and the query
// budget count per address, and the sweep must not throttle itself.
func sweepServer(t *testing.T) *Server {
	t.Helper()
	url := dbtest.URL(t)
	pool := dbtest.OwnerPool(t, url)
	appPool, counter := dbtest.AppPool(t, url)
	c := NewCache(t)
	d, spec := NewDeps(t, store.New(appPool), c)
	d.MaxBodyBytes = 1 << 20 // MAX_BODY_BYTES' default
	d.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	srv, a := Start(t, d)
	return &Server{Server: srv, Pool: pool, Store: store.New(pool), Cache: c, Counter: counter, KeySpec: spec,
		Health: a.Health(), Commerce: a.Commerce(), App: a, Deps: d}
}

// sweepWorld is the data the sweep's valid parts point at: each role's own
// objects, so a request goes as deep as its one odd value lets it.
type sweepWorld struct {
	s        *Server
	schema   *ast.Schema
	accounts map[string]factory.Account
	// ids are the objects every field shares, by type name, for ID
	// positions; each field adds a configuration and a version of its own.
	ids map[string]uuid.UUID
	// plan is a tariff plan's code, for plan positions.
	plan string
	// marker numbers every request; its strings carry "zq<n>x".
	marker atomic.Int64
	// addr numbers the client addresses requests come from.
	addr atomic.Int64

	mu sync.Mutex
	// refused are the markers of mutations refused as bad input.
	refused map[string]string
	// throttled counts answers a budget refused: each is a request the
	// sweep did not really make.
	throttled int
}

func newSweepWorld(t *testing.T) *sweepWorld {
	t.Helper()
	s := sweepServer(t)
	w := &sweepWorld{s: s, schema: graph.NewExecutableSchema(graph.Config{}).Schema(), refused: map[string]string{},
		accounts: map[string]factory.Account{
			"customer": factory.Customer(t, s.Store), "developer": factory.Developer(t, s.Store),
			"partner": factory.Partner(t, s.Store), "admin": factory.Admin(t, s.Store),
		}}
	plans, err := s.Store.TariffPlans(context.Background())
	if err != nil || len(plans) == 0 {
		t.Fatalf("tariff plans: %v", err)
	}
	w.plan = plans[0].Code
	// A user no role logs in as: admin mutations on users (roles,
	// erasure) act on it, not on the sweep's own accounts.
	bystander := factory.Customer(t, s.Store)
	w.ids = map[string]uuid.UUID{
		"User": bystander.UserID, "Customer": w.accounts["customer"].OrgID,
		"Developer": w.accounts["developer"].OrgID, "Partner": w.accounts["partner"].OrgID,
	}
	return w
}

// fieldIDs are the objects one field's requests point at: the shared ones
// and a published configuration of the developer's (sold and rented, the
// customer on a trial of it) with a draft version, its own so that one
// field archiving or suspending it leaves the others' alone.
func (w *sweepWorld) fieldIDs(t *testing.T) map[string]uuid.UUID {
	t.Helper()
	conf := factory.Configuration(t, w.s.Store, w.accounts["developer"].OrgID, factory.ConfigurationOptions{SaleMinor: 90000})
	factory.Installation(t, w.s.Store, w.accounts["customer"].OrgID, conf)
	draft, err := w.s.Store.CreateVersion(context.Background(), conf.ID, store.VersionKey{Major: 2}, "Draft")
	if err != nil {
		t.Fatal(err)
	}
	ids := maps.Clone(w.ids)
	ids["Configuration"], ids["Version"] = conf.ID, draft.ID
	return ids
}

// session logs role in afresh: each field gets sessions of its own, so a
// field that ends a session (logOut) ends only its own.
func (w *sweepWorld) session(t *testing.T, role string) string {
	t.Helper()
	if role == "anonymous" {
		return ""
	}
	res := w.post(t, "", logInMutation, map[string]any{"input": map[string]any{"email": w.accounts[role].Email, "password": factory.Password}})
	token := str(res.Data, "logIn", "session", "accessToken")
	if token == "" {
		t.Fatalf("log in as %s: %s", role, res.Raw)
	}
	return token
}

// sweepAnswer is one answer and how long it took.
type sweepAnswer struct {
	status  int
	raw     string
	elapsed time.Duration
}

// sweepResponse is the answer to one request of the sweep: the decoded
// first answer, and every answer (a slow one is asked again).
type sweepResponse struct {
	Response
	answers []sweepAnswer
}

func (w *sweepWorld) post(t *testing.T, token, query string, vars map[string]any) sweepResponse {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	answers := w.send(t, token, "application/json", body)
	out := sweepResponse{Response: Response{Status: answers[0].status, Raw: answers[0].raw}, answers: answers}
	_ = json.Unmarshal([]byte(answers[0].raw), &out.Response)
	return out
}

// send posts body, each time from an address of its own, and times the
// answer. A slow answer is asked for once more: the sweep shares a small
// machine, and an input that makes the server slow is slow twice, where
// a moment of contention is not.
func (w *sweepWorld) send(t *testing.T, token, contentType string, body []byte) []sweepAnswer {
	t.Helper()
	var out []sweepAnswer
	for len(out) < 2 {
		req, err := http.NewRequest(http.MethodPost, w.s.URL+"/graphql", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", contentType)
		n := w.addr.Add(1)
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		start := time.Now()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		out = append(out, sweepAnswer{status: res.StatusCode, raw: string(b), elapsed: time.Since(start)})
		if out[len(out)-1].elapsed <= sweepSlow() {
			break
		}
	}
	return out
}

// check fails the test on answers that blame the server: a 5xx, an
// INTERNAL error, an answer that is not JSON, or slow ones.
func (w *sweepWorld) check(t *testing.T, what string, answers []sweepAnswer) {
	t.Helper()
	fastest := answers[0].elapsed
	for _, a := range answers {
		fastest = min(fastest, a.elapsed)
		var body struct {
			Errors []struct {
				Message    string         `json:"message"`
				Extensions map[string]any `json:"extensions"`
			} `json:"errors"`
		}
		switch {
		case a.status >= 500:
			t.Errorf("%s: HTTP %d: %s", what, a.status, clip(a.raw))
		case json.Unmarshal([]byte(a.raw), &body) != nil:
			t.Errorf("%s: HTTP %d, not JSON: %s", what, a.status, clip(a.raw))
		}
		for _, e := range body.Errors {
			code, _ := e.Extensions["code"].(string)
			if code == "INTERNAL" || e.Message == "internal error" {
				t.Errorf("%s: INTERNAL: %s", what, clip(a.raw))
			}
			if code == "RATE_LIMITED" {
				w.mu.Lock()
				w.throttled++
				w.mu.Unlock()
			}
		}
	}
	if fastest > sweepSlow() {
		t.Errorf("%s: answered in %s, twice over the limit of %s: %s", what, fastest.Round(time.Millisecond), sweepSlow(), clip(answers[0].raw))
	}
}

func clip(s string) string {
	if len(s) > 600 {
		return s[:600] + "…"
	}
	return s
}

// sweepTarget is one field to sweep: a root field, or a field with
// arguments under a path of argument-free fields from Query.
type sweepTarget struct {
	op    string // query or mutation
	path  []*ast.FieldDefinition
	field *ast.FieldDefinition
}

func (tg sweepTarget) name() string {
	names := make([]string, 0, len(tg.path)+1)
	for _, f := range tg.path {
		names = append(names, f.Name)
	}
	return tg.op + "." + strings.Join(append(names, tg.field.Name), ".")
}

// sweepTargets reads the fields to sweep from the schema: every field of
// Query and Mutation, and every field with arguments on a type reachable
// from Query through fields that need no arguments (the shortest way).
func sweepTargets(schema *ast.Schema) []sweepTarget {
	var out []sweepTarget
	for _, root := range []*ast.Definition{schema.Query, schema.Mutation} {
		if root == nil {
			continue
		}
		for _, f := range root.Fields {
			if !strings.HasPrefix(f.Name, "__") {
				out = append(out, sweepTarget{op: strings.ToLower(root.Name), field: f})
			}
		}
	}
	type step struct {
		typ  *ast.Definition
		path []*ast.FieldDefinition
	}
	seen := map[string]bool{schema.Query.Name: true}
	queue := []step{{typ: schema.Query}}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, f := range cur.typ.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			if len(cur.path) > 0 && len(f.Arguments) > 0 {
				out = append(out, sweepTarget{op: "query", path: cur.path, field: f})
			}
			next := schema.Types[f.Type.Name()]
			if next == nil || next.Kind != ast.Object || seen[next.Name] || requiresArguments(f) {
				continue
			}
			seen[next.Name] = true
			queue = append(queue, step{typ: next, path: append(slices.Clip(cur.path), f)})
		}
	}
	return out
}

func requiresArguments(f *ast.FieldDefinition) bool {
	for _, a := range f.Arguments {
		if a.Type.NonNull && a.DefaultValue == nil {
			return true
		}
	}
	return false
}

// position is one leaf of a field's arguments: an argument, or a field of
// an input object in one (at any depth), that holds a scalar or an enum.
type position struct {
	path []string // argument, input fields; "0" steps into a list
	// owner is the input object the leaf is a field of ("" for an argument).
	owner string
	typ   *ast.Definition
}

func (p position) String() string { return strings.Join(p.path, ".") }

// positions lists the leaves of args in schema order.
func positions(schema *ast.Schema, args ast.ArgumentDefinitionList) []position {
	var out []position
	var walk func(path []string, owner string, t *ast.Type, inside map[string]bool)
	walk = func(path []string, owner string, t *ast.Type, inside map[string]bool) {
		if t.Elem != nil {
			walk(append(slices.Clip(path), "0"), owner, t.Elem, inside)
			return
		}
		def := schema.Types[t.NamedType]
		if def.Kind != ast.InputObject {
			out = append(out, position{path: path, owner: owner, typ: def})
			return
		}
		if inside[def.Name] {
			return // a recursive input type: one level is enough
		}
		inside = maps.Clone(inside)
		inside[def.Name] = true
		for _, f := range def.Fields {
			walk(append(slices.Clip(path), f.Name), def.Name, f.Type, inside)
		}
	}
	for _, a := range args {
		walk([]string{a.Name}, "", a.Type, map[string]bool{})
	}
	return out
}

// oddValue is a value no client should send, named for the report.
type oddValue struct {
	name  string
	value any
}

const hundredKB = 100 << 10

// The 100 KB values, made once: a sweep lists odd values thousands of times.
var (
	text100KB   = strings.Repeat("я", hundredKB/2)
	digits100KB = strings.Repeat("9", hundredKB)
)

// oddValues are the odd values of a scalar or enum position; marker goes
// into every string so what a request wrote can be found again.
func (w *sweepWorld) oddValues(p position, marker string) []oddValue {
	text := []oddValue{
		{"NUL", marker + "\x00nul"},
		{"100 KB", marker + text100KB},
		{"bidi", marker + "\u202egnp.exe\u202c\u2066\u2069"},
		{"emoji", marker + "🚀👩🏽‍💻🏳️‍🌈"},
		{"empty", ""},
		{"spaces", " \t\n "},
	}
	switch p.typ.Name {
	case "String":
		if isCursor(p) {
			return append(text,
				oddValue{"garbage cursor", "%%%" + marker},
				oddValue{"cursor of another shape", relay.EncodeCursor(1, 2, 3)},
				oddValue{"cursor holding NUL", relay.EncodeCursor("\x00", uuid.NewString())},
				oddValue{"cursor holding a huge number", base64.RawURLEncoding.EncodeToString([]byte(`[1e999,"x"]`))},
				oddValue{"cursor of raw JSON", base64.RawURLEncoding.EncodeToString([]byte(`{"a":`))},
			)
		}
		return text
	case "ID":
		want := w.idType(p)
		other := "TariffPlan"
		if want == other {
			other = "Configuration"
		}
		return append(text,
			oddValue{"id of another type", relay.ID(other, uuid.NewString())},
			oddValue{"id garbage", "not base64! " + marker},
			oddValue{"id holding NUL", relay.ID(want, "\x00")},
			oddValue{"id without a uuid", relay.ID(want, marker)},
			oddValue{"id of nothing", relay.ID(want, uuid.NewString())},
		)
	case "Int":
		return []oddValue{{"2^31", int64(2147483648)}, {"-1", -1}, {"0", 0}, {"-2^31-1", int64(-2147483649)}, {"2^31-1", 2147483647}, {"2^53+1", int64(9007199254740993)}}
	case "Float":
		return []oddValue{{"1e308", 1e308}, {"-1e308", -1e308}, {"5e-324", 5e-324}}
	case "Boolean":
		return []oddValue{{"true", true}, {"false", false}}
	case "Decimal":
		return []oddValue{
			{"exponent", "1e5"}, {"NaN", "NaN"}, {"minus zero", "-0"}, {"empty", ""}, {"NUL", "1\x00"},
			{"largest", "999999999999999999.999999999999999999"}, {"smallest negative", "-999999999999999999"},
			{"tiny", "0.000000000000000001"}, {"full-width digits", "１２３"}, {"100 KB", digits100KB},
		}
	case "DateTime":
		return []oddValue{
			{"month 13 day 45", "2026-13-45T99:99:99Z"}, {"yesterday", "yesterday"}, {"date only", "2026-01-01"},
			{"empty", ""}, {"NUL", "2026-01-01T00:00:00Z\x00"}, {"year 1", "0001-01-01T00:00:00Z"},
			{"year 9999", "9999-12-31T23:59:59Z"}, {"far zone", "2026-01-01T00:00:00+23:59"}, {"no zone", "2026-01-01 00:00:00"},
		}
	}
	if p.typ.Kind == ast.Enum {
		return []oddValue{{"unknown enum value", "NOT_A_" + p.typ.Name}}
	}
	return text
}

// idType guesses the type an ID position names, so the valid ids of a
// request point at real objects: "configurationId" or "configuration" →
// Configuration; "id" → the Node type the input is named after that no
// other id of the input names (InviteCustomerInput{id, customerId}: id is
// not the customer). A wrong guess only makes the request shallower.
func (w *sweepWorld) idType(p position) string {
	name := strings.TrimSuffix(strings.TrimSuffix(p.path[len(p.path)-1], "s"), "Id")
	if t := w.schema.Types[strings.ToUpper(name[:1])+name[1:]]; name != "id" && t != nil && t.Kind == ast.Object {
		return t.Name
	}
	owner := w.schema.Types[p.owner]
	if owner == nil {
		return "Configuration"
	}
	taken := map[string]bool{}
	for _, f := range owner.Fields {
		if n := strings.TrimSuffix(f.Name, "Id"); n != f.Name {
			taken[strings.ToUpper(n[:1])+n[1:]] = true
		}
	}
	best := ""
	for _, impl := range w.schema.GetPossibleTypes(w.schema.Types["Node"]) {
		if strings.Contains(p.owner, impl.Name) && !taken[impl.Name] && len(impl.Name) > len(best) {
			best = impl.Name
		}
	}
	if best == "" {
		return "Configuration"
	}
	return best
}

// baseValue is a valid-looking value for a position, so the request's one
// odd value is what it is refused for, if anything.
func (w *sweepWorld) baseValue(p position, m sweepMarker) any {
	switch p.typ.Name {
	case "ID":
		typ := w.idType(p)
		id, ok := m.ids[typ]
		if !ok {
			id = uuid.New()
		}
		return relay.ID(typ, id.String())
	case "Int":
		return 1
	case "Float":
		return 1.5
	case "Boolean":
		return false
	case "Decimal":
		return "1.00"
	case "DateTime":
		return "2026-01-01T00:00:00Z"
	case "String":
		name := strings.ToLower(p.path[len(p.path)-1])
		switch {
		case strings.Contains(name, "email"):
			return m.text + "@example.test"
		case strings.Contains(name, "password"):
			return m.text + "-a-long-password"
		case strings.Contains(name, "plan"):
			return w.plan
		case name == "number":
			// Versions: greater than every earlier one.
			return fmt.Sprintf("%d.0.0", m.n+2)
		}
		return m.text
	}
	if p.typ.Kind == ast.Enum {
		return p.typ.EnumValues[0].Name
	}
	return m.text
}

// sweepMarker is what one request's values are made of: its number, the
// marker its strings carry, and the objects its ids point at.
type sweepMarker struct {
	n    int64
	text string
	ids  map[string]uuid.UUID
}

// arguments builds a field's arguments: every required one valid, and the
// one at p (if any) holding odd.
func (w *sweepWorld) arguments(args ast.ArgumentDefinitionList, p *position, odd any, m sweepMarker) map[string]any {
	out := map[string]any{}
	for _, a := range args {
		onPath := p != nil && p.path[0] == a.Name
		if !onPath && (!a.Type.NonNull || a.DefaultValue != nil) {
			continue
		}
		var rest []string
		if onPath {
			rest = p.path[1:]
		}
		out[a.Name] = w.value(a.Type, "", a.Name, rest, onPath, odd, m)
	}
	return out
}

// value builds a value of type t; when onPath, rest leads to the odd one.
func (w *sweepWorld) value(t *ast.Type, owner, name string, rest []string, onPath bool, odd any, m sweepMarker) any {
	if t.Elem != nil {
		if onPath {
			rest = rest[1:] // the "0"
		}
		return []any{w.value(t.Elem, owner, name, rest, onPath, odd, m)}
	}
	def := w.schema.Types[t.NamedType]
	if def.Kind != ast.InputObject {
		if onPath && len(rest) == 0 {
			return odd
		}
		return w.baseValue(position{path: []string{name}, owner: owner, typ: def}, m)
	}
	obj := map[string]any{}
	for _, f := range def.Fields {
		here := onPath && len(rest) > 0 && rest[0] == f.Name
		if !here && (!f.Type.NonNull || f.DefaultValue != nil) {
			continue
		}
		var next []string
		if here {
			next = rest[1:]
		}
		obj[f.Name] = w.value(f.Type, def.Name, f.Name, next, here, odd, m)
	}
	return obj
}

// document writes the operation asking tg with args, as variables or as
// literals in the document.
func (w *sweepWorld) document(tg sweepTarget, args map[string]any, literal bool) (string, map[string]any) {
	var defs, call []string
	vars := map[string]any{}
	for _, a := range tg.field.Arguments {
		v, ok := args[a.Name]
		if !ok {
			continue
		}
		if literal {
			call = append(call, a.Name+": "+graphQLLiteral(w.schema, a.Type, v))
			continue
		}
		defs = append(defs, "$"+a.Name+": "+a.Type.String())
		call = append(call, a.Name+": $"+a.Name)
		vars[a.Name] = v
	}
	var doc strings.Builder
	doc.WriteString(tg.op + " Sweep")
	if len(defs) > 0 {
		doc.WriteString("(" + strings.Join(defs, ", ") + ")")
	}
	doc.WriteString(" { ")
	for _, f := range tg.path {
		doc.WriteString(f.Name + " { ")
	}
	doc.WriteString(tg.field.Name)
	if len(call) > 0 {
		doc.WriteString("(" + strings.Join(call, ", ") + ")")
	}
	doc.WriteString(selectionOf(w.schema, tg.field.Type))
	for range tg.path {
		doc.WriteString(" }")
	}
	doc.WriteString(" }")
	return doc.String(), vars
}

// selectionOf selects what every composite type has, and a payload's
// userErrors, so a refusal can be told from a success.
func selectionOf(schema *ast.Schema, t *ast.Type) string {
	def := schema.Types[t.Name()]
	if def == nil || (def.Kind != ast.Object && def.Kind != ast.Interface && def.Kind != ast.Union) {
		return ""
	}
	if def.Kind == ast.Object && def.Fields.ForName("userErrors") != nil {
		return " { __typename userErrors { code } }"
	}
	return " { __typename }"
}

var graphQLName = regexp.MustCompile(`^[_A-Za-z][_0-9A-Za-z]*$`)

// graphQLLiteral writes v as a GraphQL literal of type t. JSON's string
// escapes are GraphQL's too.
func graphQLLiteral(schema *ast.Schema, t *ast.Type, v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = graphQLLiteral(schema, t.Elem, e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		def := schema.Types[t.Name()]
		parts := make([]string, 0, len(v))
		for _, f := range def.Fields {
			if e, ok := v[f.Name]; ok {
				parts = append(parts, f.Name+": "+graphQLLiteral(schema, f.Type, e))
			}
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case string:
		if def := schema.Types[t.Name()]; def != nil && def.Kind == ast.Enum && graphQLName.MatchString(v) {
			return v
		}
		b, _ := json.Marshal(v)
		return string(b)
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// sweepRequest is one request of a field's sweep.
type sweepRequest struct {
	role, what string
	literal    bool
	pos        *position
	odd        string // the odd value's name
}

// requests are a field's matrix: as every role the valid arguments; per
// position, one odd value as every role (the value turning with the role),
// as variables; and every odd value of each kind of position the field
// has, spread over the positions of that kind (and over the roles), as
// literals in the document.
func (w *sweepWorld) requests(tg sweepTarget) []sweepRequest {
	var out []sweepRequest
	for _, role := range sweepRoles {
		out = append(out, sweepRequest{role: role, what: "valid arguments"})
	}
	var kinds []string
	ofKind := map[string][]position{}
	for i, p := range positions(w.schema, tg.field.Arguments) {
		odds := w.oddValues(p, "")
		for r, role := range sweepRoles {
			o := odds[(i+r)%len(odds)]
			out = append(out, sweepRequest{role: role, what: p.String() + " = " + o.name, pos: &p, odd: o.name})
		}
		k := oddKind(p)
		if ofKind[k] == nil {
			kinds = append(kinds, k)
		}
		ofKind[k] = append(ofKind[k], p)
	}
	for g, k := range kinds {
		ps := ofKind[k]
		for j, o := range w.oddValues(ps[0], "") {
			p := ps[j%len(ps)]
			out = append(out, sweepRequest{role: sweepRoles[(g+j)%len(sweepRoles)], what: p.String() + " = " + o.name + " (literal)", pos: &p, odd: o.name, literal: true})
		}
	}
	return out
}

// oddKind groups positions that get the same odd values: by type, cursors
// apart from other strings.
func oddKind(p position) string {
	if p.typ.Name == "String" && isCursor(p) {
		return "cursor"
	}
	return p.typ.Name
}

func isCursor(p position) bool {
	last := p.path[len(p.path)-1]
	return last == "after" || last == "before" || strings.HasSuffix(strings.ToLower(last), "cursor")
}

// oddNamed is the odd value of p called name, with marker inside.
func (w *sweepWorld) oddNamed(p position, name, marker string) any {
	for _, o := range w.oddValues(p, marker) {
		if o.name == name {
			return o.value
		}
	}
	panic("no odd value " + name)
}

func TestBadInputSweep(t *testing.T) {
	w := newSweepWorld(t)
	targets := sweepTargets(w.schema)
	var requests atomic.Int64
	start := time.Now()
	t.Run("fields", func(t *testing.T) {
		for _, tg := range targets {
			t.Run(tg.name(), func(t *testing.T) {
				t.Parallel()
				tokens := map[string]string{}
				for _, role := range sweepRoles {
					tokens[role] = w.session(t, role)
				}
				ids := w.fieldIDs(t)
				for _, rq := range w.requests(tg) {
					n := w.marker.Add(1)
					m := sweepMarker{n: n, text: fmt.Sprintf("zq%dx", n), ids: ids}
					var odd any
					if rq.pos != nil {
						odd = w.oddNamed(*rq.pos, rq.odd, m.text)
					}
					query, vars := w.document(tg, w.arguments(tg.field.Arguments, rq.pos, odd, m), rq.literal)
					res := w.post(t, tokens[rq.role], query, vars)
					requests.Add(1)
					w.check(t, tg.name()+" as "+rq.role+": "+rq.what, res.answers)
					if tg.op == "mutation" && refusedAsBadInput(res.Response, tg.field.Name) {
						w.mu.Lock()
						w.refused[m.text] = tg.name() + " as " + rq.role + ": " + rq.what
						w.mu.Unlock()
					}
				}
			})
		}
	})
	t.Run("bodies", func(t *testing.T) {
		for _, b := range malformedBodies() {
			answers := w.send(t, "", b.contentType, b.body)
			requests.Add(1)
			w.check(t, "body "+b.name, answers)
			if a := answers[0]; !b.lenient && a.status == http.StatusOK && !strings.Contains(a.raw, `"errors"`) {
				t.Errorf("body %s: answered as if fine: %s", b.name, clip(a.raw))
			}
		}
	})
	t.Logf("%d fields, %d requests in %s", len(targets), requests.Load(), time.Since(start).Round(time.Millisecond))
	if w.throttled > 0 {
		t.Errorf("%d answers were RATE_LIMITED: the sweep did not make the requests it counts", w.throttled)
	}
	w.refusedWroteNothing(t)
}

// refusedAsBadInput tells whether a mutation was refused for its input:
// a BAD_USER_INPUT error, or userErrors in its payload.
func refusedAsBadInput(res Response, field string) bool {
	for _, e := range res.Errors {
		if e.Extensions["code"] == "BAD_USER_INPUT" {
			return true
		}
	}
	ues, _ := get(res.Data, field, "userErrors").([]any)
	return len(ues) > 0
}

// sweepBookkeeping are the tables that record a refused request on
// purpose: the audit log (SPEC §9) and the addresses it was asked from.
var sweepBookkeeping = map[string]bool{"audit_log": true, "audit_log_ips": true}

// refusedWroteNothing looks for the markers of refused mutations in every
// row of every other table.
func (w *sweepWorld) refusedWroteNothing(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	rows, err := w.s.Pool.Query(ctx, `select tablename from pg_tables where schemaname = 'public' order by tablename`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	found := map[string][]string{}
	written := 0
	for _, table := range tables {
		if sweepBookkeeping[table] {
			continue
		}
		rows, err := w.s.Pool.Query(ctx, `select distinct m[1] from `+pgx.Identifier{table}.Sanitize()+` t, regexp_matches(t::text, '(zq[0-9]+x)', 'g') m`)
		if err != nil {
			t.Fatal(err)
		}
		markers, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		written += len(markers)
		for _, m := range markers {
			if what, ok := w.refused[m]; ok {
				found[table] = append(found[table], what)
			}
		}
	}
	// The look finds what the sweep's successful mutations wrote, or it
	// would find nothing refused either.
	if written == 0 {
		t.Error("no marker found in any table: the look for written markers is broken")
	}
	if len(w.refused) == 0 {
		t.Error("no mutation was refused: telling refusals apart is broken")
	}
	for table, whats := range found {
		sort.Strings(whats)
		t.Errorf("%s holds rows of %d refused mutations, e.g. %s", table, len(whats), whats[0])
	}
}

// malformedBody is a request body no GraphQL client sends. A lenient one
// may be answered as the request it resembles (JSON decoding replaces
// invalid UTF-8, the last of duplicate keys wins, gqlgen reads the first
// JSON value and ignores what follows); the others must be refused.
type malformedBody struct {
	name, contentType string
	body              []byte
	lenient           bool
}

func malformedBodies() []malformedBody {
	j := "application/json"
	deep := strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)
	bodies := []malformedBody{
		{"empty", j, nil, false},
		{"not JSON", j, []byte("query { viewer { __typename } }"), false},
		{"truncated", j, []byte(`{"query": "{ viewer { __typename } }"`), false},
		{"trailing garbage", j, []byte(`{"query": "{ viewer { __typename } }"} xyz`), true},
		{"null", j, []byte(`null`), false},
		{"a string", j, []byte(`"{ viewer { __typename } }"`), false},
		{"a batch", j, []byte(`[{"query": "{ viewer { __typename } }"}]`), false},
		{"query a number", j, []byte(`{"query": 1}`), false},
		{"query null", j, []byte(`{"query": null}`), false},
		{"query empty", j, []byte(`{"query": ""}`), false},
		{"query NUL", j, []byte(`{"query": "\u0000"}`), false},
		{"query with a raw NUL in a string", j, []byte(`{"query": "{ configuration(slug: \"a\u0000b\") { id } }"}`), false},
		{"variables a string", j, []byte(`{"query": "{ viewer { __typename } }", "variables": "x"}`), false},
		{"variables a list", j, []byte(`{"query": "{ viewer { __typename } }", "variables": [1]}`), false},
		{"variable of 1e999", j, []byte(`{"query": "query($f: Int) { developers(first: $f) { __typename } }", "variables": {"f": 1e999}}`), false},
		{"variable of -0.5", j, []byte(`{"query": "query($f: Int) { developers(first: $f) { __typename } }", "variables": {"f": -0.5}}`), false},
		{"operationName a number", j, []byte(`{"query": "{ viewer { __typename } }", "operationName": 5}`), false},
		{"operationName unknown", j, []byte(`{"query": "{ viewer { __typename } }", "operationName": "Nope"}`), false},
		{"extensions a string", j, []byte(`{"query": "{ viewer { __typename } }", "extensions": "x"}`), false},
		{"persisted query of a bad hash", j, []byte(`{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "zz"}}}`), false},
		{"persisted query of version 99", j, []byte(`{"query": "{ viewer { __typename } }", "extensions": {"persistedQuery": {"version": 99, "sha256Hash": "00"}}}`), false},
		{"invalid UTF-8", j, []byte("{\"query\": \"{ configuration(slug: \\\"\xff\xfe\\\") { id } }\"}"), true},
		{"duplicate keys", j, []byte(`{"query": "{ viewer { __typename } }", "query": "{ tariffPlans { code } }"}`), true},
		{"deeply nested", j, []byte(`{"query": "{ viewer { __typename } }", "variables": {"x": ` + deep + `}}`), false},
		{"100 KB query of spaces", j, []byte(`{"query": "{` + strings.Repeat(" ", hundredKB) + `viewer { __typename } }"}`), true},
		{"over the body limit", j, []byte(`{"query": "{ viewer { __typename } }", "variables": {"x": "` + strings.Repeat("a", 1<<20) + `"}}`), false},
		{"text/plain", "text/plain", []byte(`{"query": "{ viewer { __typename } }"}`), false},
		{"form", "application/x-www-form-urlencoded", []byte(`query=%7B+viewer+%7B+__typename+%7D+%7D`), false},
		{"no content type", "", []byte(`{"query": "{ viewer { __typename } }"}`), false},
		{"JSON with a bad charset", "application/json; charset=latin-1", []byte(`{"query": "{ viewer { __typename } }"}`), true},
	}
	return bodies
}

// TestBadInputSweepIsDerivedFromTheSchema keeps the sweep honest: it finds
// the fields the issue names, the scalars it must vary, and builds
// documents the schema accepts.
func TestBadInputSweepIsDerivedFromTheSchema(t *testing.T) {
	w := &sweepWorld{schema: graph.NewExecutableSchema(graph.Config{}).Schema(), ids: map[string]uuid.UUID{}}
	names := map[string]sweepTarget{}
	for _, tg := range sweepTargets(w.schema) {
		names[tg.name()] = tg
	}
	for _, want := range []string{"query.configurations", "query.configuration", "query.licenseCheck", "mutation.signUp",
		"query.viewer.developer.statement", "query.viewer.developer.earnings", "query.viewer.partner.statement"} {
		if _, ok := names[want]; !ok {
			t.Errorf("the sweep misses %s", want)
		}
	}
	for _, root := range []*ast.Definition{w.schema.Query, w.schema.Mutation} {
		for _, f := range root.Fields {
			if _, ok := names[strings.ToLower(root.Name)+"."+f.Name]; !ok && !strings.HasPrefix(f.Name, "__") {
				t.Errorf("root field %s.%s is not swept", root.Name, f.Name)
			}
		}
	}
	scalars := map[string]bool{}
	for _, tg := range names {
		for _, p := range positions(w.schema, tg.field.Arguments) {
			scalars[p.typ.Name] = true
		}
	}
	for _, s := range []string{"String", "ID", "Int", "Decimal", "DateTime"} {
		if !scalars[s] {
			t.Errorf("no argument position of type %s is swept", s)
		}
	}
	if got := w.idType(position{path: []string{"input", "id"}, owner: "InviteCustomerInput"}); got != "Configuration" {
		t.Errorf("InviteCustomerInput.id guessed as %s", got)
	}
	if got := w.idType(position{path: []string{"filter", "developer"}, owner: "ConfigurationFilter"}); got != "Developer" {
		t.Errorf("ConfigurationFilter.developer guessed as %s", got)
	}
	// Every document the sweep writes with variables validates against
	// the schema; with literals, only an odd enum value may not. (Each
	// distinct document once; a 100 KB literal is shaped as the others.)
	m := sweepMarker{n: 1, text: "zq1x", ids: map[string]uuid.UUID{}}
	seen := map[string]bool{}
	for _, tg := range names {
		for _, rq := range w.requests(tg) {
			var odd any
			if rq.pos != nil {
				odd = w.oddNamed(*rq.pos, rq.odd, m.text)
			}
			query, _ := w.document(tg, w.arguments(tg.field.Arguments, rq.pos, odd, m), rq.literal)
			if seen[query] || len(query) > 10_000 {
				continue
			}
			seen[query] = true
			_, errs := gqlparser.LoadQuery(w.schema, query)
			if errs != nil && !(rq.literal && rq.pos.typ.Kind == ast.Enum) {
				t.Errorf("%s: %s: document does not validate: %v\n%s", tg.name(), rq.what, errs, clip(query))
			}
		}
	}
}

// TestBadInputIsTheClientsError is issue 19, item 9, by its examples: a
// NUL character (PostgreSQL refuses it in text) in a search, a slug, a
// license key or any other argument, and a malformed DateTime, Decimal, ID
// or cursor, are BAD_USER_INPUT naming the argument; NUL is refused before
// any SQL, and a refused mutation writes nothing.
func TestBadInputIsTheClientsError(t *testing.T) {
	s := sweepServer(t)
	dev := factory.Developer(t, s.Store)
	devToken, _ := s.LogIn(t, dev, nil)
	cases := []struct {
		name, token, query string
		vars               map[string]any
		path               []any
		field              []any
		// noSQL: refused before any statement (anonymous requests read
		// no session either).
		noSQL bool
	}{
		{"NUL in a search, literal", "", `{ configurations(filter: {search: "crm\u0000"}) { nodes { id } } }`, nil,
			[]any{"configurations", "filter", "search"}, []any{"filter", "search"}, true},
		{"NUL in a search, variable", "", `query($f: ConfigurationFilter) { shop: configurations(filter: $f) { nodes { id } } }`,
			map[string]any{"f": map[string]any{"search": "crm\x00"}}, []any{"shop", "filter", "search"}, []any{"filter", "search"}, true},
		{"NUL in a slug", "", `query($s: String!) { configuration(slug: $s) { id } }`, map[string]any{"s": "crm\x00"},
			[]any{"configuration", "slug"}, []any{"slug"}, true},
		{"NUL in a license key", "", `query($k: String!) { licenseCheck(key: $k, accountId: "acc-1") { valid } }`, map[string]any{"k": "CM-\x00"},
			[]any{"licenseCheck", "key"}, []any{"key"}, true},
		{"NUL in a list element", "", `{ configurations(filter: {tags: ["crm", "a\u0000"]}) { nodes { id } } }`, nil,
			[]any{"configurations", "filter", "tags", 1.0}, []any{"filter", "tags", "1"}, true},
		{"NUL in a fragment's field", "", `{ ...F } fragment F on Query { viewer { user { id } } configuration(slug: "a\u0000") { id } }`, nil,
			[]any{"configuration", "slug"}, []any{"slug"}, true},
		{"NUL in a variable's default", "", `query($s: String! = "a\u0000") { configuration(slug: $s) { id } }`, nil,
			[]any{"configuration", "slug"}, []any{"slug"}, true},
		{"NUL inside a global id", "", `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": relay.ID("Configuration", "\x00")},
			[]any{"node"}, []any{"id"}, false},
		{"NUL inside a cursor", "", `query($c: String) { developers(after: $c) { nodes { id } } }`,
			map[string]any{"c": relay.EncodeCursor("\x00", uuid.New())}, []any{"developers"}, []any{"after"}, false},
		{"DateTime 2026-13-45T99:99:99Z in statement(month:)", devToken, `{ viewer { developer { statement(month: "2026-13-45T99:99:99Z") { __typename } } } }`, nil,
			[]any{"viewer", "developer", "statement", "month"}, []any{"month"}, false},
		{"DateTime yesterday in statement(month:)", devToken, `query($m: DateTime!) { viewer { developer { statement(month: $m) { __typename } } } }`,
			map[string]any{"m": "yesterday"}, []any{"viewer", "developer", "statement", "month"}, []any{"month"}, false},
		{"DateTime 2026-01-01 in statement(month:)", devToken, `{ viewer { developer { statement(month: "2026-01-01") { __typename } } } }`, nil,
			[]any{"viewer", "developer", "statement", "month"}, []any{"month"}, false},
		{"DateTime 2026-01-01 in a ledger filter", devToken, `query($f: LedgerFilter) { viewer { developer { earnings(filter: $f) { __typename } } } }`,
			map[string]any{"f": map[string]any{"from": "2026-01-01"}}, []any{"viewer", "developer", "earnings", "filter", "from"}, []any{"filter", "from"}, false},
		{"DateTime empty", devToken, `{ viewer { developer { statement(month: "") { __typename } } } }`, nil,
			[]any{"viewer", "developer", "statement", "month"}, []any{"month"}, false},
		{"Decimal 1e5 in a price filter", "", `{ configurations(filter: {price: {min: "1e5"}}) { nodes { id } } }`, nil,
			[]any{"configurations", "filter", "price", "min"}, []any{"filter", "price", "min"}, false},
		{"id of another type", "", `query($d: ID) { configurations(filter: {developer: $d}) { nodes { id } } }`,
			map[string]any{"d": relay.ID("Configuration", uuid.NewString())}, []any{"configurations"}, []any{"filter", "developer"}, false},
		{"garbage cursor", "", `{ configurations(after: "%%%") { nodes { id } } }`, nil, []any{"configurations"}, []any{"after"}, false},
		{"first: 2147483648", "", `{ developers(first: 2147483648) { nodes { id } } }`, nil, []any{"developers"}, []any{"first"}, false},
		{"first: -1", "", `{ developers(first: -1) { nodes { id } } }`, nil, []any{"developers"}, []any{"first"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := s.Counter.Count()
			res := s.Do(t, tc.token, tc.query, tc.vars)
			statements := s.Counter.Count() - before
			if res.Status != http.StatusOK || len(res.Errors) != 1 || res.Code() != "BAD_USER_INPUT" {
				t.Fatalf("want one BAD_USER_INPUT: %d %s", res.Status, res.Raw)
			}
			e := res.Errors[0]
			if !slices.Equal(e.Path, tc.path) || !slices.Equal(e.Extensions["field"].([]any), tc.field) {
				t.Errorf("path %v, field %v; want %v, %v", e.Path, e.Extensions["field"], tc.path, tc.field)
			}
			if tc.noSQL && statements != 0 {
				t.Errorf("%d statements ran before the refusal", statements)
			}
			for _, leak := range []string{"SQLSTATE", "pgx", "time.Parse", "RFC3339Nano", "relay", "invalid byte sequence"} {
				if strings.Contains(res.Raw, leak) {
					t.Errorf("the answer shows %q: %s", leak, res.Raw)
				}
			}
		})
	}

	t.Run("a mutation refused for NUL writes nothing", func(t *testing.T) {
		tables := []string{"users", "customers", "role_grants", "auth_sessions", "audit_log"}
		counts := map[string]int{}
		for _, tb := range tables {
			counts[tb] = s.Count(t, tb)
		}
		before := s.Counter.Count()
		res := s.Do(t, "", signUpMutation, signUpInput(map[string]any{"email": "nul@example.test", "name": "Nul\x00l"}))
		if res.Code() != "BAD_USER_INPUT" || !slices.Equal(res.Errors[0].Extensions["field"].([]any), []any{"input", "name"}) {
			t.Fatalf("want BAD_USER_INPUT on input.name: %s", res.Raw)
		}
		if n := s.Counter.Count() - before; n != 0 {
			t.Errorf("%d statements ran", n)
		}
		for _, tb := range tables {
			if n := s.Count(t, tb); n != counts[tb] {
				t.Errorf("%s: %d rows, was %d", tb, n, counts[tb])
			}
		}
	})

	t.Run("odd text is answered, a search too long refused", func(t *testing.T) {
		for name, search := range map[string]string{
			"100 KB":  strings.Repeat("воронка ", hundredKB/len("воронка ")),
			"bidi":    "\u202egnp.exe\u202c crm",
			"emoji":   "🚀 crm 👩🏽‍💻",
			"spaces":  " \t\n ",
			"symbols": `!@#$%^&*()_+{}|:"<>?~\'; -- /* */ & | ! :*`,
		} {
			start := time.Now()
			res := s.Do(t, "", `query($q: String) { configurations(filter: {search: $q}) { nodes { id } } }`, map[string]any{"q": search})
			want := ""
			if name == "100 KB" {
				want = "BAD_USER_INPUT"
			}
			if res.Status != http.StatusOK || res.Code() != want {
				t.Errorf("%s: %d %s", name, res.Status, clip(res.Raw))
			}
			if d := time.Since(start); d > sweepSlow() {
				t.Errorf("%s: answered in %s", name, d)
			}
		}
	})
}
