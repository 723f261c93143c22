package model

import (
	"fmt"
	"io"
	"regexp"
	"strconv"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/relay"
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

// NodeID is the global ID of an object with a uuid local id, kept as its
// parts and encoded only when written: a storefront page maps hundreds of
// objects and most documents select few of their ids.
type NodeID struct {
	Type string
	UUID uuid.UUID
}

func (n NodeID) String() string { return relay.UUIDID(n.Type, n.UUID) }

// MarshalGQL writes the ID as a JSON string; base64 needs no escaping.
func (n NodeID) MarshalGQL(w io.Writer) {
	var buf [160]byte
	b := relay.AppendUUIDID(append(buf[:0], '"'), n.Type, n.UUID)
	_, _ = w.Write(append(b, '"'))
}

// UnmarshalGQL accepts a global ID of any type with a uuid local id; the
// field that reads it checks the type.
func (n *NodeID) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return apperr.Invalid("", "ID must be a string")
	}
	typeName, local, err := relay.ParseID(s)
	if err != nil {
		return err
	}
	id, err := uuid.Parse(local)
	if err != nil {
		return apperr.Invalid("", "%s is not an ID", s)
	}
	*n = NodeID{Type: typeName, UUID: id}
	return nil
}
