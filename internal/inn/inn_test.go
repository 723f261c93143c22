package inn

import "testing"

func TestValid(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"7707083893", true},   // Sberbank
		{"7728168971", true},   // Alfa-Bank
		{"500100732259", true}, // a well-known individual test number
		{"7707083894", false},  // last digit off
		{"500100732250", false},
		{"500100732269", false},
		{"770708389", false},
		{"77070838931", false},
		{"77070838a3", false},
		{"", false},
		{"0000000000", true}, // checksums hold; format alone cannot refuse it
	} {
		if got := Valid(tc.in); got != tc.want {
			t.Errorf("Valid(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
