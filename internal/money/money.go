// Package money represents amounts as integer minor units of an ISO 4217
// currency, so that splitting and summing payments is exact.
package money

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// Errors callers can match with errors.Is. ErrInvalidAmount,
// ErrUnknownCurrency and ErrInvalidRate report bad input; ErrCurrencyMismatch
// and ErrOverflow report arithmetic the caller should not have attempted.
var (
	ErrInvalidAmount    = errors.New("invalid amount")
	ErrUnknownCurrency  = errors.New("unknown currency")
	ErrCurrencyMismatch = errors.New("currency mismatch")
	ErrOverflow         = errors.New("amount out of range")
	ErrInvalidRate      = errors.New("invalid rate")
)

// RUB is the marketplace's settlement currency.
const RUB = "RUB"

// exponents lists the currencies we settle in. Codes are matched exactly
// (upper case) so a stored currency has a single spelling.
var exponents = map[string]int{
	"RUB": 2,
	"USD": 2,
	"EUR": 2,
	"KZT": 2,
}

// Exponent reports how many decimal digits the currency's minor unit has.
func Exponent(currency string) (int, bool) {
	e, ok := exponents[currency]
	return e, ok
}

// Money is an amount in minor units (kopecks for RUB). The zero value has no
// currency; compare values with ==.
type Money struct {
	Minor    int64
	Currency string
}

// New does not validate the currency: values read back from storage were
// validated when written, and re-checking them on every read buys nothing.
func New(minor int64, currency string) Money {
	return Money{Minor: minor, Currency: currency}
}

// Parse reads a plain decimal such as "500", "500.5" or "-12.34". Only one
// spelling per number is accepted (no "+", exponents, spaces or separators)
// because amounts arrive from clients and a lenient parser would let typos
// such as "1,000" or "1e3" through as valid money.
func Parse(amount, currency string) (Money, error) {
	exp, ok := Exponent(currency)
	if !ok {
		return Money{}, fmt.Errorf("money: parse amount: %w %q", ErrUnknownCurrency, currency)
	}
	minor, err := parseFixed(amount, exp, ErrInvalidAmount)
	if err != nil {
		return Money{}, fmt.Errorf("money: parse amount: %w", err)
	}
	return Money{Minor: minor, Currency: currency}, nil
}

// parseFixed parses an optionally negative decimal with at most scale
// fractional digits into an integer scaled by 10^scale. Errors wrap
// sentinel, including overflow, which here is the input's fault.
func parseFixed(s string, scale int, sentinel error) (int64, error) {
	if s == "" {
		return 0, fmt.Errorf("%w: empty", sentinel)
	}
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	whole, frac, dot := strings.Cut(s, ".")
	switch {
	case whole == "":
		return 0, fmt.Errorf("%w: missing integer digits", sentinel)
	case dot && frac == "":
		return 0, fmt.Errorf("%w: missing fractional digits", sentinel)
	case len(frac) > scale:
		return 0, fmt.Errorf("%w: more than %d fractional digits", sentinel, scale)
	}

	// Accumulate the magnitude unsigned so that the minimum int64, whose
	// magnitude has no positive int64 counterpart, still parses.
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	var mag uint64
	for _, part := range [...]string{whole, frac} {
		for i := 0; i < len(part); i++ {
			c := part[i]
			if c < '0' || c > '9' {
				return 0, fmt.Errorf("%w: unexpected character %q", sentinel, c)
			}
			d := uint64(c - '0')
			if mag > (limit-d)/10 {
				return 0, fmt.Errorf("%w: out of range", sentinel)
			}
			mag = mag*10 + d
		}
	}
	for i := len(frac); i < scale; i++ {
		if mag > limit/10 {
			return 0, fmt.Errorf("%w: out of range", sentinel)
		}
		mag *= 10
	}
	if neg {
		return int64(-mag), nil
	}
	return int64(mag), nil
}

// Amount formats m with exactly the currency's number of fractional digits,
// the form Parse accepts. An unsupported currency is shown in minor units
// because inventing an exponent for it would misstate the value.
func (m Money) Amount() string {
	var buf [48]byte
	return string(m.AppendAmount(buf[:0]))
}

// AppendAmount appends m's Amount to b.
func (m Money) AppendAmount(b []byte) []byte {
	exp, _ := Exponent(m.Currency)
	return appendFixed(b, m.Minor, exp)
}

// appendFixed renders v/10^scale. It works on the unsigned magnitude so the
// minimum int64 needs no special case. The digits are put together on the
// stack: a page of prices formats hundreds of amounts.
func appendFixed(out []byte, v int64, scale int) []byte {
	mag := uint64(v)
	if v < 0 {
		mag = -mag
	}
	// At least one digit before the point: 5 kopecks are 0.05.
	var digitsBuf [40]byte
	digits := digitsBuf[:0]
	for n := scale - decimalDigits(mag) + 1; n > 0; n-- {
		digits = append(digits, '0')
	}
	digits = strconv.AppendUint(digits, mag, 10)
	if v < 0 {
		out = append(out, '-')
	}
	cut := len(digits) - scale
	out = append(out, digits[:cut]...)
	if scale > 0 {
		out = append(append(out, '.'), digits[cut:]...)
	}
	return out
}

func decimalDigits(n uint64) int {
	d := 1
	for ; n >= 10; n /= 10 {
		d++
	}
	return d
}

// String formats m as "500.00 RUB".
func (m Money) String() string {
	return m.Amount() + " " + m.Currency
}

// Add returns m+o. Different currencies are refused rather than converted,
// since conversion needs a rate this package doesn't have.
func (m Money) Add(o Money) (Money, error) {
	if m.Currency != o.Currency {
		return Money{}, fmt.Errorf("money: add %s to %s: %w", o.Currency, m.Currency, ErrCurrencyMismatch)
	}
	s := m.Minor + o.Minor
	if (m.Minor^s)&(o.Minor^s) < 0 {
		return Money{}, fmt.Errorf("money: add %s to %s: %w", o, m, ErrOverflow)
	}
	return Money{Minor: s, Currency: m.Currency}, nil
}

// Sub returns m-o under the same rules as Add.
func (m Money) Sub(o Money) (Money, error) {
	if m.Currency != o.Currency {
		return Money{}, fmt.Errorf("money: subtract %s from %s: %w", o.Currency, m.Currency, ErrCurrencyMismatch)
	}
	d := m.Minor - o.Minor
	if (m.Minor^o.Minor)&(m.Minor^d) < 0 {
		return Money{}, fmt.Errorf("money: subtract %s from %s: %w", o, m, ErrOverflow)
	}
	return Money{Minor: d, Currency: m.Currency}, nil
}

// Neg returns -m. Like Go's own negation it leaves the minimum int64
// unchanged, the one amount whose negation is unrepresentable.
func (m Money) Neg() Money {
	return Money{Minor: -m.Minor, Currency: m.Currency}
}

// IsZero reports whether the amount is zero, whatever the currency.
func (m Money) IsZero() bool { return m.Minor == 0 }

// IsNegative reports whether the amount is below zero.
func (m Money) IsNegative() bool { return m.Minor < 0 }

// Rate is a proportion in parts per 10,000 (35% = 3500, 12.5% = 1250), fine
// enough for every share and commission in the product while keeping
// arithmetic in integers.
type Rate int64

// rateScale is the Rate value of 100%.
const rateScale = 10000

// Percent returns the Rate for a whole number of percent.
func Percent(p int64) Rate { return Rate(p * 100) }

// ParseRate reads a percentage with up to two decimals ("35", "12.5",
// "0.25"); a trailing "%" is allowed so String's output parses back. Rates
// are shares of a payment, so anything outside 0–100% is refused.
func ParseRate(s string) (Rate, error) {
	num := strings.TrimSuffix(s, "%")
	if strings.HasPrefix(num, "-") {
		return 0, fmt.Errorf("money: parse rate: %w: negative", ErrInvalidRate)
	}
	v, err := parseFixed(num, 2, ErrInvalidRate)
	if err != nil {
		return 0, fmt.Errorf("money: parse rate: %w", err)
	}
	if v > rateScale {
		return 0, fmt.Errorf("money: parse rate: %w: above 100%%", ErrInvalidRate)
	}
	return Rate(v), nil
}

// String formats r as a percentage without trailing zeros: "35%", "12.5%".
func (r Rate) String() string {
	var buf [48]byte
	s := string(appendFixed(buf[:0], int64(r), 2))
	s = strings.TrimRight(s, "0")
	s = strings.TrimSuffix(s, ".")
	return s + "%"
}

// MulRate returns m×r rounded half away from zero to the minor unit, so a
// refund computed from the negated amount mirrors the original share
// exactly. The product is taken in 128 bits, so any int64 amount is safe for
// rates up to 100%. A result outside int64 (possible only for rates above
// 100%) panics: it is a programming error, like division by zero, and
// silently saturating money would be worse.
func (m Money) MulRate(r Rate) Money {
	a, b := uint64(m.Minor), uint64(r)
	if m.Minor < 0 {
		a = -a
	}
	if r < 0 {
		b = -b
	}
	hi, lo := bits.Mul64(a, b)
	lo, carry := bits.Add64(lo, rateScale/2, 0)
	hi += carry
	neg := (m.Minor < 0) != (r < 0)
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	if hi >= rateScale {
		panic(fmt.Sprintf("money: %s × %s overflows int64", m, r))
	}
	q, _ := bits.Div64(hi, lo, rateScale)
	if q > limit {
		panic(fmt.Sprintf("money: %s × %s overflows int64", m, r))
	}
	if neg {
		q = -q
	}
	return Money{Minor: int64(q), Currency: m.Currency}
}
