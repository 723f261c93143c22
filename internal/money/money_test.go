package money

import (
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
)

func rub(minor int64) Money { return New(minor, RUB) }

func TestExponent(t *testing.T) {
	for _, c := range []string{"RUB", "USD", "EUR", "KZT"} {
		if e, ok := Exponent(c); !ok || e != 2 {
			t.Errorf("Exponent(%q) = %d, %v; want 2, true", c, e, ok)
		}
	}
	for _, c := range []string{"", "rub", "XYZ"} {
		if _, ok := Exponent(c); ok {
			t.Errorf("Exponent(%q) ok, want unsupported", c)
		}
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"500", 50000},
		{"500.5", 50050},
		{"500.50", 50050},
		{"-12.34", -1234},
		{"0.01", 1},
		{"0", 0},
		{"-0", 0},
		{"-0.05", -5},
		{"007.10", 710},
		{"35000.00", 3500000},
		// Product minimums.
		{"1000.00", 100000},
		{"5000.00", 500000},
		{"25000.00", 2500000},
		{"92233720368547758.07", math.MaxInt64},
		{"-92233720368547758.08", math.MinInt64},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in, RUB)
		if err != nil {
			t.Errorf("Parse(%q) error: %v", tt.in, err)
			continue
		}
		if want := rub(tt.want); got != want {
			t.Errorf("Parse(%q) = %+v, want %+v", tt.in, got, want)
		}
	}
}

func TestParseInvalid(t *testing.T) {
	for _, in := range []string{
		"", "-", "1.001", "0.000", "1e3", "1E3", "+1", "+", " 1", "1 ", "1 000",
		"1,000", "1,000.00", "1_000", ".5", "-.5", "5.", "-5.", "1.2.3", "abc",
		"1a", "--1", "0x10", "١", "NaN", "Inf",
		"92233720368547758.08", "-92233720368547758.09", "99999999999999999999",
		"100000000000000000", "-100000000000000000",
	} {
		if m, err := Parse(in, RUB); !errors.Is(err, ErrInvalidAmount) {
			t.Errorf("Parse(%q) = %+v, %v; want ErrInvalidAmount", in, m, err)
		}
	}
}

func TestParseUnknownCurrency(t *testing.T) {
	for _, c := range []string{"", "rub", "XYZ"} {
		if _, err := Parse("1.00", c); !errors.Is(err, ErrUnknownCurrency) {
			t.Errorf("Parse(_, %q) error = %v, want ErrUnknownCurrency", c, err)
		}
	}
}

func TestAmount(t *testing.T) {
	tests := []struct {
		m    Money
		want string
	}{
		{rub(50000), "500.00"},
		{rub(-5), "-0.05"},
		{rub(0), "0.00"},
		{rub(1), "0.01"},
		{rub(-100), "-1.00"},
		{rub(3500000), "35000.00"},
		{rub(math.MaxInt64), "92233720368547758.07"},
		{rub(math.MinInt64), "-92233720368547758.08"},
		{New(1234, "USD"), "12.34"},
		// The exponent of an unknown currency is unknown: show minor units.
		{New(-1234, "XYZ"), "-1234"},
	}
	for _, tt := range tests {
		if got := tt.m.Amount(); got != tt.want {
			t.Errorf("%+v.Amount() = %q, want %q", tt.m, got, tt.want)
		}
	}
	if got, want := rub(50000).String(), "500.00 RUB"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	// A storefront page formats hundreds of amounts: one allocation each.
	if n := testing.AllocsPerRun(100, func() { _ = rub(-3500000).Amount() }); n > 1 {
		t.Errorf("Amount allocates %v times, want 1", n)
	}
}

func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	vals := []int64{0, 1, -1, 99, -99, 100, -100, math.MaxInt64, math.MinInt64, math.MinInt64 + 1}
	for range 10000 {
		// Mix full-range values with small ones so both paths are hit.
		vals = append(vals, int64(r.Uint64()), r.Int64N(1_000_000)-500_000)
	}
	for _, v := range vals {
		for _, c := range []string{"RUB", "USD", "EUR", "KZT"} {
			m := New(v, c)
			got, err := Parse(m.Amount(), c)
			if err != nil || got != m {
				t.Fatalf("Parse(%q) = %+v, %v; want %+v", m.Amount(), got, err, m)
			}
		}
	}
}

func TestAddSub(t *testing.T) {
	sum, err := rub(37500).Add(rub(3125))
	if err != nil || sum != rub(40625) {
		t.Errorf("Add = %+v, %v; want 406.25 RUB", sum, err)
	}
	diff, err := rub(3125).Sub(rub(37500))
	if err != nil || diff != rub(-34375) {
		t.Errorf("Sub = %+v, %v; want -343.75 RUB", diff, err)
	}

	errTests := []struct {
		name string
		op   func() (Money, error)
		want error
	}{
		{"add mismatch", func() (Money, error) { return rub(1).Add(New(1, "USD")) }, ErrCurrencyMismatch},
		{"sub mismatch", func() (Money, error) { return rub(1).Sub(New(1, "USD")) }, ErrCurrencyMismatch},
		{"add overflow", func() (Money, error) { return rub(math.MaxInt64).Add(rub(1)) }, ErrOverflow},
		{"add underflow", func() (Money, error) { return rub(math.MinInt64).Add(rub(-1)) }, ErrOverflow},
		{"sub overflow", func() (Money, error) { return rub(math.MaxInt64).Sub(rub(-1)) }, ErrOverflow},
		{"sub underflow", func() (Money, error) { return rub(math.MinInt64).Sub(rub(1)) }, ErrOverflow},
		{"sub zero minus min", func() (Money, error) { return rub(0).Sub(rub(math.MinInt64)) }, ErrOverflow},
	}
	for _, tt := range errTests {
		if m, err := tt.op(); !errors.Is(err, tt.want) {
			t.Errorf("%s = %+v, %v; want %v", tt.name, m, err, tt.want)
		}
	}

	// Edges that must not be reported as overflow.
	if m, err := rub(math.MaxInt64).Add(rub(math.MinInt64)); err != nil || m != rub(-1) {
		t.Errorf("MaxInt64+MinInt64 = %+v, %v", m, err)
	}
	if m, err := rub(-1).Sub(rub(math.MaxInt64)); err != nil || m != rub(math.MinInt64) {
		t.Errorf("-1-MaxInt64 = %+v, %v", m, err)
	}
}

func TestPredicates(t *testing.T) {
	if !rub(0).IsZero() || rub(1).IsZero() {
		t.Error("IsZero wrong")
	}
	if !rub(-1).IsNegative() || rub(0).IsNegative() || rub(1).IsNegative() {
		t.Error("IsNegative wrong")
	}
	if got := rub(125).Neg(); got != rub(-125) {
		t.Errorf("Neg = %+v", got)
	}
	if got := rub(math.MinInt64).Neg(); got != rub(math.MinInt64) {
		t.Errorf("Neg(MinInt64) = %+v, want unchanged", got)
	}
}

func TestRate(t *testing.T) {
	if Percent(35) != 3500 || Percent(0) != 0 || Percent(100) != 10000 {
		t.Error("Percent wrong")
	}
	tests := []struct {
		in   string
		want Rate
		str  string
	}{
		{"35", 3500, "35%"},
		{"12.5", 1250, "12.5%"},
		{"12.50", 1250, "12.5%"},
		{"0.25", 25, "0.25%"},
		{"0.01", 1, "0.01%"},
		{"0", 0, "0%"},
		{"100", 10000, "100%"},
		{"75%", 7500, "75%"},
	}
	for _, tt := range tests {
		got, err := ParseRate(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseRate(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			continue
		}
		if s := got.String(); s != tt.str {
			t.Errorf("Rate(%d).String() = %q, want %q", got, s, tt.str)
		}
		if back, err := ParseRate(got.String()); err != nil || back != got {
			t.Errorf("ParseRate(%q) = %d, %v; want %d", got.String(), back, err, got)
		}
	}
	if s := Rate(-50).String(); s != "-0.5%" {
		t.Errorf("Rate(-50).String() = %q", s)
	}
	for _, in := range []string{"", "%", "-1", "-0", "100.01", "101", "0.001", "1e1", "+5", " 5", "5 %", "35%%", ".5", "5.", "abc"} {
		if r, err := ParseRate(in); !errors.Is(err, ErrInvalidRate) {
			t.Errorf("ParseRate(%q) = %d, %v; want ErrInvalidRate", in, r, err)
		}
	}
}

// TestRevenueSplit walks the product spec's example: a 500.00 RUB payment to
// a premium developer (75% share) sold through a dealer (25% rent rate).
func TestRevenueSplit(t *testing.T) {
	pay := mustParse(t, "500.00")
	dev := pay.MulRate(Percent(75))
	if dev != mustParse(t, "375.00") {
		t.Fatalf("developer = %s, want 375.00 RUB", dev)
	}
	platform, err := pay.Sub(dev)
	if err != nil || platform != mustParse(t, "125.00") {
		t.Fatalf("platform part = %s, %v; want 125.00 RUB", platform, err)
	}
	partner := platform.MulRate(Percent(25))
	if partner != mustParse(t, "31.25") {
		t.Fatalf("partner = %s, want 31.25 RUB", partner)
	}
	rest, err := platform.Sub(partner)
	if err != nil || rest != mustParse(t, "93.75") {
		t.Fatalf("platform remainder = %s, %v; want 93.75 RUB", rest, err)
	}
}

func mustParse(t *testing.T, s string) Money {
	t.Helper()
	m, err := Parse(s, RUB)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMulRate(t *testing.T) {
	tests := []struct {
		minor int64
		rate  Rate
		want  int64
	}{
		{50000, Percent(75), 37500},
		{12500, Percent(25), 3125},
		{50000, Percent(25), 12500},
		{3500000, Percent(35), 1225000},
		{1, Percent(50), 1},   // 0.5 rounds up
		{3, Percent(50), 2},   // 1.5 rounds up
		{-3, Percent(50), -2}, // away from zero, mirroring the payment
		{-1, Percent(50), -1},
		{3, -Percent(50), -2},
		{-3, -Percent(50), 2},
		{1, Percent(49), 0}, // 0.49 rounds down
		{1, 4999, 0},
		{1, 5000, 1},
		{0, Percent(35), 0},
		{12345, 0, 0},
		{1001, 1250, 125}, // 125.125 → 125
		{1004, 1250, 126}, // 125.5 → 126
		{1_000_000_000_000_000, 9999, 999_900_000_000_000},
		{math.MaxInt64, Percent(100), math.MaxInt64},
		{math.MinInt64, Percent(100), math.MinInt64},
		{math.MaxInt64, Percent(50), 4611686018427387904},
		{math.MinInt64, Percent(50), -4611686018427387904},
		{math.MaxInt64, 1, 922337203685478},
		{4611686018427387903, Percent(200), math.MaxInt64 - 1},
		{math.MinInt64 / 2, Percent(200), math.MinInt64},
	}
	for _, tt := range tests {
		got := rub(tt.minor).MulRate(tt.rate)
		if got != rub(tt.want) {
			t.Errorf("%d × %s = %d, want %d", tt.minor, tt.rate, got.Minor, tt.want)
		}
	}
}

func TestMulRateRefundMirrors(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 10000 {
		m := rub(r.Int64N(2_000_000_000_000_000) - 1_000_000_000_000_000)
		rate := Rate(r.Int64N(rateScale + 1))
		if got, want := m.Neg().MulRate(rate), m.MulRate(rate).Neg(); got != want {
			t.Fatalf("(-%s)×%s = %s, want %s", m, rate, got, want)
		}
	}
}

// TestMulRateMatchesBig checks the 128-bit path against math/big.
func TestMulRateMatchesBig(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 20000 {
		m := rub(int64(r.Uint64()))
		rate := Rate(r.Int64N(2*rateScale+1) - rateScale)
		want, ok := bigMulRate(m.Minor, rate)
		if !ok {
			continue
		}
		if got := m.MulRate(rate); got.Minor != want {
			t.Fatalf("%d × %d = %d, want %d", m.Minor, rate, got.Minor, want)
		}
	}
}

func bigMulRate(minor int64, r Rate) (int64, bool) {
	p := new(big.Int).Mul(big.NewInt(minor), big.NewInt(int64(r)))
	neg := p.Sign() < 0
	p.Abs(p)
	p.Add(p, big.NewInt(rateScale/2))
	p.Quo(p, big.NewInt(rateScale))
	if neg {
		p.Neg(p)
	}
	return p.Int64(), p.IsInt64()
}

func TestMulRateOverflowPanics(t *testing.T) {
	for _, tt := range []struct {
		minor int64
		rate  Rate
	}{
		{math.MaxInt64, Percent(200)},
		{math.MaxInt64, Rate(math.MaxInt64)},
		{math.MinInt64, Rate(math.MinInt64)},
		{math.MinInt64, -Percent(100)},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%d × %d did not panic", tt.minor, tt.rate)
				}
			}()
			rub(tt.minor).MulRate(tt.rate)
		}()
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"500", "500.5", "-12.34", "0.01", "1.001", "1e3", "+1", "1,000", ".5", "5.",
		"92233720368547758.07", "-92233720368547758.08", "92233720368547758.08", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := Parse(s, RUB)
		if err != nil {
			if !errors.Is(err, ErrInvalidAmount) {
				t.Fatalf("Parse(%q) error %v does not wrap ErrInvalidAmount", s, err)
			}
			return
		}
		back, err := Parse(m.Amount(), RUB)
		if err != nil || back != m {
			t.Fatalf("Parse(%q) = %+v; Parse(%q) = %+v, %v", s, m, m.Amount(), back, err)
		}
		if strings.ContainsAny(s, "+eE ,_") {
			t.Fatalf("Parse(%q) accepted a refused form", s)
		}
	})
}
