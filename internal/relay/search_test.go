package relay

import (
	"strings"
	"testing"

	"configmarket/internal/apperr"
)

func TestSearchTerm(t *testing.T) {
	str := func(s string) *string { return &s }
	for _, c := range []struct {
		in   *string
		want *string
		bad  bool
	}{
		{in: nil},
		{in: str("   ")},
		{in: str("  hooves "), want: str("hooves")},
		{in: str("абв"), want: str("абв")}, // three characters, six bytes
		{in: str("ab"), bad: true},
		{in: str("a\x00b"), bad: true},
		{in: str(strings.Repeat("x", MaxSearch)), want: str(strings.Repeat("x", MaxSearch))},
		{in: str(strings.Repeat("x", MaxSearch+1)), bad: true},
	} {
		got, err := SearchTerm(c.in)
		if c.bad {
			if !apperr.Is(err, apperr.KindInvalid) || got != nil {
				t.Errorf("SearchTerm(%q) = %v, %v; want a refusal", *c.in, got, err)
			}
			continue
		}
		if err != nil || (got == nil) != (c.want == nil) || (got != nil && *got != *c.want) {
			t.Errorf("SearchTerm(%v) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}
