package fastpath

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"

	"configmarket/graph/model"
	"configmarket/internal/money"
)

// TestScalarsAreWrittenAsGqlgenWrites pins the writer's own scalar
// encoders to gqlgen's marshallers, byte for byte: every single byte, the
// storefront's texts, invalid UTF-8 and random strings.
func TestScalarsAreWrittenAsGqlgenWrites(t *testing.T) {
	gqlgen := func(m graphql.Marshaler) string {
		var b bytes.Buffer
		m.MarshalGQL(&b)
		return b.String()
	}
	ours := func(write func(w *writer)) string {
		var w writer
		write(&w)
		return string(w.buf)
	}
	strs := []string{"", "plain", `"quoted" \back\slash`, "tab\tcr\rnl\n", "\x00\x01\x1f\x7f", "Воронка продаж — CRM",
		"emoji 🚀", "bad \xff\xfe utf8", "\u2028\u2029", "<script>&amp;</script>"}
	for c := range 256 {
		strs = append(strs, string([]byte{byte(c)}), "a"+string([]byte{byte(c)})+"b")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		strs = append(strs, string(b))
	}
	for _, s := range strs {
		if got, want := ours(func(w *writer) { w.string(s) }), gqlgen(graphql.MarshalString(s)); got != want {
			t.Errorf("string %q: wrote %s, gqlgen %s", s, got, want)
		}
	}
	for _, n := range []int{0, 1, -1, 42, 1 << 40, math.MaxInt, math.MinInt} {
		if got, want := ours(func(w *writer) { w.int(n) }), gqlgen(graphql.MarshalInt(n)); got != want {
			t.Errorf("int %d: wrote %s, gqlgen %s", n, got, want)
		}
	}
	floats := []float64{0, 1, 4.33, 4.5, 5, 0.01, 1.0 / 3, -2.5, 1e-7, 123456789, 1e21, 1e20, math.MaxFloat64, math.SmallestNonzeroFloat64}
	for range 200 {
		floats = append(floats, math.Round(rng.Float64()*500)/100, rng.NormFloat64()*math.Pow(10, float64(rng.IntN(40)-20)))
	}
	for _, f := range floats {
		var b bytes.Buffer
		if err := graphql.MarshalFloatContext(f).MarshalGQLContext(context.Background(), &b); err != nil {
			t.Fatal(err)
		}
		if got := ours(func(w *writer) { w.float(f) }); got != b.String() {
			t.Errorf("float %v: wrote %s, gqlgen %s", f, got, b.String())
		}
	}
	for _, f := range []float64{math.Inf(1), math.Inf(-1), math.NaN()} {
		var w writer
		if w.float(f) {
			t.Errorf("float %v written, not handed back", f)
		}
	}
	for _, b := range []bool{true, false} {
		if got, want := ours(func(w *writer) { w.bool(b) }), gqlgen(graphql.MarshalBoolean(b)); got != want {
			t.Errorf("bool %v: wrote %s, gqlgen %s", b, got, want)
		}
	}
	for _, v := range []string{"published", "in_review", "public", "developer_support", "rent", "x9"} {
		if got, want := ours(func(w *writer) { w.enum(v) }), gqlgen(model.ConfigurationState(strings.ToUpper(v))); got != want {
			t.Errorf("enum %q: wrote %s, gqlgen %s", v, got, want)
		}
	}
	for _, v := range []string{"Public", "in-review", "", "é"} {
		var w writer
		if w.enum(v) && v != "" {
			t.Errorf("enum %q: written as %s, not handed back", v, string(w.buf))
		}
	}
	for _, m := range []money.Money{{Minor: 50000, Currency: "RUB"}, {Minor: 5, Currency: "RUB"}, {Minor: -1, Currency: "USD"},
		{Minor: 0, Currency: "RUB"}, {Minor: math.MinInt64, Currency: "RUB"}, {Minor: 12345, Currency: "JPY"}, {Minor: 7, Currency: "XXX"}} {
		if got, want := ours(func(w *writer) { w.amount(m) }), gqlgen(model.Decimal(m.Amount())); got != want {
			t.Errorf("amount %v: wrote %s, gqlgen %s", m, got, want)
		}
	}
	// Decimal writes plain decimals itself and quotes anything else as
	// strconv.Quote does.
	for _, d := range []model.Decimal{"500.00", "-0.01", "0", "1e5", `5"0`, "5\n0"} {
		var b bytes.Buffer
		d.MarshalGQL(&b)
		if want := strconv.Quote(string(d)); b.String() != want {
			t.Errorf("decimal %q: wrote %s, want %s", d, b.String(), want)
		}
	}
}
