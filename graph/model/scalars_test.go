package model

import (
	"bytes"
	"testing"

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
