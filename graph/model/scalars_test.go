package model

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/relay"
)

func TestDecimalAcceptsOnlyDecimalStrings(t *testing.T) {
	for _, ok := range []string{"0", "500.00", "-12.5", "35000.00", "0.01"} {
		var d Decimal
		if err := d.UnmarshalGQL(ok); err != nil || string(d) != ok {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []any{1.5, 500, "1e3", "01.0", "1.", ".5", "1,5", " 1", "", "NaN"} {
		var d Decimal
		if err := d.UnmarshalGQL(bad); !apperr.Is(err, apperr.KindInvalid) {
			t.Errorf("%#v accepted or wrongly classified: %v", bad, err)
		}
	}
	var buf bytes.Buffer
	Decimal("500.00").MarshalGQL(&buf)
	if buf.String() != `"500.00"` {
		t.Fatalf("marshal = %s", buf.String())
	}
}

// A NodeID is written byte for byte as gqlgen writes the relay ID string it
// stands for, and reads back to its parts.
func TestNodeIDIsWrittenAsItsRelayID(t *testing.T) {
	for _, typeName := range []string{"Configuration", "Version", "Developer"} {
		for range 50 {
			id := NodeID{Type: typeName, UUID: uuid.New()}
			var ours, theirs bytes.Buffer
			id.MarshalGQL(&ours)
			graphql.MarshalID(relay.UUIDID(typeName, id.UUID)).MarshalGQL(&theirs)
			if ours.String() != theirs.String() || id.String() != relay.UUIDID(typeName, id.UUID) {
				t.Fatalf("%v: wrote %s (%s), gqlgen %s", id, ours.String(), id.String(), theirs.String())
			}
			var back NodeID
			if err := back.UnmarshalGQL(id.String()); err != nil || back != id {
				t.Fatalf("%v read back as %v, %v", id, back, err)
			}
		}
	}
	var n NodeID
	if n.UnmarshalGQL("not an id") == nil || n.UnmarshalGQL(relay.ID("Version", "not-a-uuid")) == nil || n.UnmarshalGQL(7) == nil {
		t.Error("malformed IDs accepted")
	}
}

// Issue 19, item 9: a DateTime is RFC 3339 with a time zone, as the schema
// says; anything else ("2026-13-45T99:99:99Z", "yesterday", "2026-01-01")
// is the client's bad input, never an untyped (internal) error.
func TestDateTimeAcceptsOnlyRFC3339WithAZone(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2026-11-22T12:00:00Z":                time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC),
		"2026-11-22T15:00:00+03:00":           time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC),
		"2026-11-22T12:00:00.123456789-01:30": time.Date(2026, 11, 22, 13, 30, 0, 123456789, time.UTC),
	} {
		got, err := UnmarshalDateTime(in)
		if err != nil || !got.Equal(want) {
			t.Errorf("%q: %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []any{"2026-13-45T99:99:99Z", "yesterday", "2026-01-01", "", "2026-01-01 00:00:00",
		"2026-01-01T00:00:00", "2026-01-01T00:00:00Z\x00", 1700000000, nil, true} {
		_, err := UnmarshalDateTime(bad)
		if !apperr.Is(err, apperr.KindInvalid) {
			t.Errorf("%#v accepted or wrongly classified: %v", bad, err)
		}
	}
	at := time.Date(2026, 11, 22, 12, 0, 0, 500, time.FixedZone("MSK", 3*3600))
	var ours, theirs bytes.Buffer
	MarshalDateTime(at).MarshalGQL(&ours)
	graphql.MarshalTime(at).MarshalGQL(&theirs)
	if ours.String() != theirs.String() || MarshalDateTime(time.Time{}) != graphql.Null {
		t.Fatalf("wrote %s, gqlgen %s", ours.String(), theirs.String())
	}
}

// A message quoting a client's value quotes it cut short: 100 KB in, not
// 100 KB back.
func TestBadScalarMessagesQuoteTheValueShort(t *testing.T) {
	long := strings.Repeat("9", 100<<10) + "x"
	var d Decimal
	for name, err := range map[string]error{"decimal": d.UnmarshalGQL(long), "date-time": func() error { _, err := UnmarshalDateTime("я" + long); return err }()} {
		if e, ok := apperr.As(err); !ok || len(e.Message) > 200 || !utf8.ValidString(e.Message) {
			t.Errorf("%s: %d bytes: %.300s", name, len(err.Error()), err)
		}
	}
}
