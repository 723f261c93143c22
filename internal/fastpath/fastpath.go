// Package fastpath answers the storefront listing, Query.configurations,
// without gqlgen's per-field machinery.
//
// gqlgen resolves every field that has a resolver, and every element of a
// list of objects, on a goroutine of its own, with a field context and a
// deferred field set each: about 55,000 allocations and most of the CPU of
// a 50-card page, the hottest uncached question the server is asked
// (docs/performance.md). This package is a second, sequential executor for
// that one field. It reads the page as the field's resolver does, through
// the resolvers (Pages), cards included, and writes each card straight from
// its rows: the loaders, models and field resolvers gqlgen goes through
// cost the fast path twice what writing the answer did. What a card shows
// beyond its columns (its rent prices, sale price and rating) comes from
// the catalog's functions the field resolvers call too, and the scalars
// are written byte for byte as gqlgen's marshallers write them.
//
// It serves a field only when every field selected under it is one it
// writes (marked Fast in internal/fieldcost's table; each field's type and
// each type's interfaces come from the executable schema, see types) and
// everything resolves without an error; otherwise, before anything is
// written, it hands the field back to gqlgen, which then answers it —
// errors, paths and null propagation included — as it always has. The two
// are kept byte-identical by a differential test over every field it
// writes, as every kind of viewer (TestListingFastPathAnswersAsGqlgen).
//
// When to remove it: the fast path is a second executor to keep in step
// with gqlgen, so it goes — its middleware unregistered, this package,
// fieldcost's Fast marks, the LISTING_FAST_PATH switch and the differential
// test deleted — as soon as either holds:
//   - gqlgen resolves a field's resolvers and a list's elements inline, on
//     the caller's goroutine, without a field context and deferred set each
//     (99designs/gqlgen#4321, PR #4322's @disableConcurrency covers the
//     fields but not the lists), and the server is built that way; or
//   - the measured gap falls under 10 %: BenchmarkStorefrontListing's
//     "cold-gqlgen" (this field through gqlgen alone) takes less than 1.10×
//     the time per operation of "cold" (through the fast path), on the same
//     machine and run.
package fastpath

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"configmarket/graph/model"
	"configmarket/internal/catalog"
	"configmarket/internal/identity"
	"configmarket/internal/money"
	"configmarket/internal/store"
)

// Pages reads the storefront's pages as Query.configurations' resolver
// does (resolvers.Resolver): the same arguments, checks and card rows.
type Pages interface {
	StorefrontPage(ctx context.Context, first *int, after *string, filter *model.ConfigurationFilter, orderBy *model.ConfigurationOrder) (catalog.StorefrontPage, error)
}

// Listing serves Query.configurations from the pages of pages and the
// reference data (plans, categories) of cat.
type Listing struct {
	pages  Pages
	cat    *catalog.Service
	served atomic.Int64
	// analyses are what the fast path learnt of a root field's selection
	// before writing, for operations without variables: gqlgen hands every
	// request with the same text the same parsed document, so the
	// selection is walked once, not on every request (5 % of a loaded
	// server's CPU).
	analyses *lru.Cache[*ast.Field, analysis]
	// collections counts the selection sets whose fields were collected.
	collections atomic.Int64
}

// analysis is whether the fast path writes everything selected under a
// root field, and the fields it collected on the way.
type analysis struct {
	// doc holds the field's document: while it is kept, the field's
	// address cannot be reused by another document.
	doc *ast.QueryDocument
	// root is the field's selection the fields were collected from. The
	// writer starts from it, not from the request's own copy: gqlgen
	// collects a field's selection into a new slice on every request, and
	// collected sets are found by their first selection's address.
	root      ast.SelectionSet
	supported bool
	versions  bool
	collected []*collected
}

// analysesKept is how many root fields' analyses are kept: a storefront
// sends a few documents, over and over.
const analysesKept = 256

// Served counts the fields the fast path answered itself.
func (l *Listing) Served() int64 { return l.served.Load() }

// Collections counts the selection sets whose fields the fast path
// collected: a document without variables asked again collects none.
func (l *Listing) Collections() int64 { return l.collections.Load() }

// New returns the fast path over the pages the resolvers read.
func New(pages Pages, cat *catalog.Service) *Listing {
	analyses, err := lru.New[*ast.Field, analysis](analysesKept)
	if err != nil {
		panic(err)
	}
	return &Listing{pages: pages, cat: cat, analyses: analyses}
}

// RootField is a gqlgen root-field middleware (AroundRootFields). Register
// it last so the others (telemetry) still wrap the field it answers.
func (l *Listing) RootField(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	if out, ok := l.answer(ctx); ok {
		l.served.Add(1)
		return out
	}
	return next(ctx)
}

// listingArgs are the arguments of Query.configurations.
type listingArgs struct {
	First   *int                       `json:"first"`
	After   *string                    `json:"after"`
	Filter  *model.ConfigurationFilter `json:"filter"`
	OrderBy *model.ConfigurationOrder  `json:"orderBy"`
}

func (l *Listing) answer(ctx context.Context) (graphql.Marshaler, bool) {
	rf := graphql.GetRootFieldContext(ctx)
	op := graphql.GetOperationContext(ctx)
	if rf == nil || op == nil || op.Operation == nil || op.Operation.Operation != ast.Query || rf.Field.Name != "configurations" {
		return nil, false
	}
	w := writer{op: op, cat: l.cat, viewer: identity.FromContext(ctx), args: map[*ast.Field]any{}}
	sel, ok := l.analyse(&w, op, rf.Field)
	if !ok {
		return nil, false
	}
	// An admin's cards list every version, drafts included: the page's
	// cards read the public ones only, so gqlgen's loaders answer them.
	if w.versions && w.viewer.IsAdmin() {
		return nil, false
	}
	raw := rf.Field.ArgumentMap(op.Variables)
	var args listingArgs
	if !decode(raw, &args) || !decimalsValid(args.Filter) {
		return nil, false
	}
	// The resolvers read the selection (what the cards read) from the
	// field context gqlgen would have given the field.
	ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{
		Object: "Query", Field: rf.Field, Args: raw, IsMethod: true, IsResolver: true,
	})
	page, err := l.pages.StorefrontPage(ctx, args.First, args.After, args.Filter, args.OrderBy)
	if err != nil || len(page.Cards) != len(page.Rows) {
		return nil, false
	}
	w.ctx = ctx
	pooled := answers.Get().(*[]byte)
	w.buf = (*pooled)[:0]
	analysed := len(w.collected)
	ok = w.configurationConnection(page, sel)
	l.collections.Add(int64(len(w.collected) - analysed))
	*pooled = w.buf
	if !ok {
		release(pooled)
		return nil, false
	}
	return &pooledJSON{buf: pooled}, true
}

// analyse tells whether the fast path writes everything selected under the
// root field, and leaves on w the fields collected on the way; the writer
// starts from the selection it returns. Without variables the fields
// collected depend on the document alone (@skip and @include can only name
// literals), so the analysis is kept.
func (l *Listing) analyse(w *writer, op *graphql.OperationContext, root graphql.CollectedField) (ast.SelectionSet, bool) {
	keep := len(op.Operation.VariableDefinitions) == 0
	if keep {
		if a, ok := l.analyses.Get(root.Field); ok && a.doc == op.Doc {
			w.collected, w.versions = a.collected, a.versions
			return a.root, a.supported
		}
	}
	supported := w.supported(root.Selections, "ConfigurationConnection")
	l.collections.Add(int64(len(w.collected)))
	if keep {
		// Clipped, so the writer's appends copy rather than write into
		// what other requests read.
		w.collected = slices.Clip(w.collected)
		l.analyses.Add(root.Field, analysis{doc: op.Doc, root: root.Selections, supported: supported, versions: w.versions, collected: w.collected})
	}
	return root.Selections, supported
}

// decode reads validated argument values into typed arguments as gqlgen's
// generated unmarshallers would: the shapes through JSON (enums check
// themselves there), the Decimal scalar by its own check, since JSON takes
// any string.
func decode(raw map[string]any, into any) bool {
	b, err := json.Marshal(raw)
	return err == nil && json.Unmarshal(b, into) == nil
}

func decimalsValid(f *model.ConfigurationFilter) bool {
	if f == nil || f.Price == nil {
		return true
	}
	for _, d := range []*model.Decimal{f.Price.Min, f.Price.Max} {
		if d != nil && new(model.Decimal).UnmarshalGQL(string(*d)) != nil {
			return false
		}
	}
	return true
}

// answers are the buffers answers are written in. An answer is copied
// into gqlgen's as soon as the operation's answer is put together, so a
// few buffers serve every request instead of a new one of 30 KB each
// (a sixth of a page's allocated bytes).
var answers = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledAnswer: a buffer grown far past a page of 100 cards is left
// to the collector rather than kept.
const maxPooledAnswer = 512 << 10

func release(b *[]byte) {
	if cap(*b) <= maxPooledAnswer {
		answers.Put(b)
	}
}

// pooledJSON is an answer in a pooled buffer. gqlgen marshals a root
// field's value once, into the operation's answer; the buffer goes back
// to the pool then. An answer gqlgen drops (the operation failed on
// another field) leaves its buffer to the collector.
type pooledJSON struct{ buf *[]byte }

func (p *pooledJSON) MarshalGQL(w io.Writer) {
	if p.buf == nil {
		panic("fastpath: an answer marshalled twice")
	}
	_, _ = w.Write(*p.buf)
	release(p.buf)
	p.buf = nil
}

// writer writes one answer; every method reports false when the field
// must go back to gqlgen (an error, or a null the schema does not allow).
type writer struct {
	ctx    context.Context
	op     *graphql.OperationContext
	cat    *catalog.Service
	viewer identity.Viewer
	// buf is the answer so far, appended to directly: bytes.Buffer's
	// checks on every byte were 8 % of the writer's time.
	buf []byte
	// collected are the selections' fields by selection set and type, and
	// args the decoded arguments by field: a page selects the same set on
	// every row.
	collected []*collected
	args      map[*ast.Field]any
	// versions: the document selects a configuration's versions.
	versions bool
	// plans and categories are read once an answer needs them; rent is
	// reused from card to card.
	plans        []store.TariffPlan
	categories   []store.Category
	rent         []catalog.RentOnPlan
	plansWritten []writtenPlan
}

// collected are the fields of one selection set on one type. A document
// has a few such sets, each asked for on every row: a short list compared
// by pointer is cheaper than hashing a map key with a string in it, which
// was 4.6 % of the loaded server's CPU.
type collected struct {
	first  *ast.Selection
	typ    string
	fields []graphql.CollectedField
	// keys open each field's member: `{"alias":` for the first, `,"alias":`
	// for the others (aliases and field names are GraphQL names: nothing
	// to escape).
	keys [][]byte
}

func (w *writer) collect(sel ast.SelectionSet, typ string) *collected {
	var first *ast.Selection
	if len(sel) > 0 {
		first = &sel[0]
	}
	for i := range w.collected {
		if c := w.collected[i]; c.first == first && c.typ == typ {
			return c
		}
	}
	c := &collected{first: first, typ: typ}
	if first != nil {
		c.fields = graphql.CollectFields(w.op, sel, types[typ].implements)
	}
	for i, f := range c.fields {
		key := []byte{','}
		if i == 0 {
			key[0] = '{'
		}
		c.keys = append(c.keys, append(append(append(key, '"'), f.Alias...), `":`...))
	}
	w.collected = append(w.collected, c)
	return c
}

// object writes the fields selected on a value of typ in gqlgen's order,
// each through field.
func (w *writer) object(typ string, sel ast.SelectionSet, field func(f graphql.CollectedField) bool) bool {
	c := w.collect(sel, typ)
	if len(c.fields) == 0 {
		w.buf = append(w.buf, "{}"...)
		return true
	}
	for i, f := range c.fields {
		w.buf = append(w.buf, c.keys[i]...)
		if f.Name == "__typename" {
			w.string(typ)
			continue
		}
		if !field(f) {
			return false
		}
	}
	w.buf = append(w.buf, '}')
	return true
}

// list writes n elements, each through elem.
func (w *writer) list(n int, elem func(i int) bool) bool {
	w.buf = append(w.buf, '[')
	for i := range n {
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		if !elem(i) {
			return false
		}
	}
	w.buf = append(w.buf, ']')
	return true
}

// Write lets marshallers write into the answer.
func (w *writer) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	return len(p), nil
}

func (w *writer) null() bool {
	w.buf = append(w.buf, "null"...)
	return true
}

func (w *writer) marshal(m graphql.Marshaler) bool {
	m.MarshalGQL(w)
	return true
}

// string writes s as gqlgen's MarshalString does, byte for byte
// (TestScalarsAreWrittenAsGqlgenWrites), without the closure and interface
// value gqlgen allocates for every string.
func (w *writer) string(s string) bool {
	const hex = "0123456789ABCDEF"
	w.buf = append(w.buf, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '\\' && c != '"' {
			continue
		}
		w.buf = append(w.buf, s[start:i]...)
		switch c {
		case '\t':
			w.buf = append(w.buf, `\t`...)
		case '\r':
			w.buf = append(w.buf, `\r`...)
		case '\n':
			w.buf = append(w.buf, `\n`...)
		case '\\':
			w.buf = append(w.buf, `\\`...)
		case '"':
			w.buf = append(w.buf, `\"`...)
		default:
			w.buf = append(w.buf, `\u00`...)
			w.buf = append(w.buf, hex[c>>4])
			w.buf = append(w.buf, hex[c&0xf])
		}
		start = i + 1
	}
	w.buf = append(w.buf, s[start:]...)
	w.buf = append(w.buf, '"')
	return true
}

func (w *writer) nodeID(id model.NodeID) bool {
	id.MarshalGQL(w)
	return true
}

func (w *writer) strings(ss []string) bool {
	return w.list(len(ss), func(i int) bool { return w.string(ss[i]) })
}

func (w *writer) optionalString(s *string) bool {
	if s == nil {
		return w.null()
	}
	return w.string(*s)
}

func (w *writer) int(n int) bool {
	w.buf = strconv.AppendInt(w.buf, int64(n), 10)
	return true
}

func (w *writer) bool(b bool) bool {
	w.buf = append(w.buf, strconv.FormatBool(b)...)
	return true
}

// float writes f as gqlgen's MarshalFloatContext does (%g, the shortest
// form); infinities and NaN, which gqlgen reports as errors, go back to it.
func (w *writer) float(f float64) bool {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return false
	}
	w.buf = strconv.AppendFloat(w.buf, f, 'g', -1, 64)
	return true
}

// enum writes a database value as its GraphQL enum value (the same word
// in upper case), as gqlgen's enum marshallers write it; anything but
// lower-case letters, digits and underscores goes back to gqlgen.
func (w *writer) enum(value string) bool {
	w.buf = append(w.buf, '"')
	for i := 0; i < len(value); i++ {
		switch c := value[i]; {
		case c >= 'a' && c <= 'z':
			w.buf = append(w.buf, c-'a'+'A')
		case c >= '0' && c <= '9', c == '_':
			w.buf = append(w.buf, c)
		default:
			return false
		}
	}
	w.buf = append(w.buf, '"')
	return true
}

// amount writes a Money's amount as model.Decimal writes it: a plain
// decimal, quoted.
func (w *writer) amount(m money.Money) bool {
	w.buf = append(w.buf, '"')
	w.buf = m.AppendAmount(w.buf)
	w.buf = append(w.buf, '"')
	return true
}

// time writes a non-null DateTime; gqlgen reports the zero time as an
// error, so it goes back to gqlgen.
func (w *writer) time(m graphql.Marshaler) bool {
	if m == graphql.Null {
		return false
	}
	return w.marshal(m)
}

// fieldArgs decodes a field's arguments once per field of the document:
// every row of a page asks for the same ones.
func fieldArgs[T any](w *writer, f graphql.CollectedField) (*T, bool) {
	if a, ok := w.args[f.Field].(*T); ok {
		return a, true
	}
	a := new(T)
	if !decode(f.ArgumentMap(w.op.Variables), a) {
		return nil, false
	}
	w.args[f.Field] = a
	return a, true
}
