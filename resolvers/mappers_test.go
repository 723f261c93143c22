package resolvers

import (
	"strings"
	"testing"
)

// TestEnumNameIsToUpper: the shared enum names are exactly what
// strings.ToUpper made of the database's values, known or not.
func TestEnumNameIsToUpper(t *testing.T) {
	if len(enumNames) < 40 {
		t.Fatalf("only %d enum values known", len(enumNames))
	}
	values := []string{"", "unknown_value", "Mixed", "in_review"}
	for db := range enumNames {
		values = append(values, db)
	}
	for _, v := range values {
		if got, want := enumName(v), strings.ToUpper(v); got != want {
			t.Errorf("enumName(%q) = %q, want %q", v, got, want)
		}
	}
}
