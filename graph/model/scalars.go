package model

import (
	"io"
	"regexp"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
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
		return apperr.Invalid("", "%s is not a decimal number such as \"500.00\"", quoteInput(s))
	}
	*d = Decimal(s)
	return nil
}

// MarshalDateTime writes an instant as gqlgen's own Time scalar does
// (RFC 3339 with nanoseconds, null for the zero time), so the storefront's
// fast path, which calls graphql.MarshalTime, writes the same bytes.
func MarshalDateTime(t time.Time) graphql.Marshaler { return graphql.MarshalTime(t) }

// UnmarshalDateTime reads the DateTime scalar: RFC 3339 with a time zone,
// as the schema says, and nothing else. gqlgen's Time also takes "" (the
// zero time) and a zone-less "2006-01-02 15:04:05", and its untyped error
// was presented as internal; a bad instant is the client's mistake.
func UnmarshalDateTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, apperr.Invalid("", "DateTime must be a string such as \"2026-11-22T12:00:00Z\"")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, apperr.Invalid("", "%s is not an RFC 3339 instant with a time zone such as \"2026-11-22T12:00:00Z\"", quoteInput(s))
	}
	return t, nil
}

// quoteInput quotes a client's value for an error message, cut short: the
// message names the value, it does not echo 100 KB back.
func quoteInput(s string) string {
	const keep = 40
	if len(s) <= keep {
		return strconv.Quote(s)
	}
	cut := keep
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "…"
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
		return apperr.Wrap(apperr.KindInvalid, "", err)
	}
	id, err := uuid.Parse(local)
	if err != nil {
		return apperr.Invalid("", "%s is not an ID", quoteInput(s))
	}
	*n = NodeID{Type: typeName, UUID: id}
	return nil
}
