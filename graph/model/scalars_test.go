package model

import (
	"bytes"
	"testing"

	"configmarket/internal/apperr"
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
