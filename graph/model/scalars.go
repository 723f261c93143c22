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

// MarshalGQL writes the decimal as a JSON string.
func (d Decimal) MarshalGQL(w io.Writer) {
	_, _ = io.WriteString(w, strconv.Quote(string(d)))
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
