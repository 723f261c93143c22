package model

import (
	"fmt"
	"io"
	"regexp"
	"strconv"

	"configmarket/internal/apperr"
)

// Decimal is an exact decimal number carried as a string, never a float.
type Decimal string

var decimalPattern = regexp.MustCompile(`^-?(0|[1-9][0-9]{0,17})(\.[0-9]{1,18})?$`)

// MarshalGQL writes the decimal as a JSON string. Decimals built by money
// are digits, a point and a sign, which need no quoting beyond the quotes
// (and no strconv.Quote allocation: a storefront page writes hundreds).
func (d Decimal) MarshalGQL(w io.Writer) {
	for i := 0; i < len(d); i++ {
		if c := d[i]; (c < '0' || c > '9') && c != '.' && c != '-' {
			_, _ = io.WriteString(w, strconv.Quote(string(d)))
			return
		}
	}
	_, _ = io.WriteString(w, `"`)
	_, _ = io.WriteString(w, string(d))
	_, _ = io.WriteString(w, `"`)
}

// UnmarshalGQL accepts only strings: a JSON number would already have passed
// through a float in many clients.
func (d *Decimal) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return apperr.Invalid("", "Decimal must be a string such as \"500.00\"")
	}
	if !decimalPattern.MatchString(s) {
		return apperr.Invalid("", "%s", fmt.Sprintf("%q is not a decimal number such as \"500.00\"", s))
	}
	*d = Decimal(s)
	return nil
}
