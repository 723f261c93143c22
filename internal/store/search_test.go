package store

import "testing"

// The LIKE wildcards and the escape character of a search term match
// themselves.
func TestContainsEscapesWildcards(t *testing.T) {
	s := func(v string) *string { return &v }
	if Contains(nil) != nil {
		t.Error("no term, no pattern")
	}
	for in, want := range map[string]string{`hooves`: `%hooves%`, `50%_off\`: `%50\%\_off\\%`} {
		if got := Contains(s(in)); *got != want {
			t.Errorf("Contains(%q) = %q, want %q", in, *got, want)
		}
	}
}
