package clock

import (
	"testing"
	"time"
)

func TestAddMonthsClampsLikePostgres(t *testing.T) {
	at := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 10, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		from time.Time
		n    int
		want time.Time
	}{
		{at(2026, 1, 15), 1, at(2026, 2, 15)},
		{at(2026, 1, 31), 1, at(2026, 2, 28)},
		{at(2028, 1, 31), 1, at(2028, 2, 29)},
		{at(2026, 1, 31), 2, at(2026, 3, 31)},
		{at(2026, 11, 30), 3, at(2027, 2, 28)},
		{at(2026, 12, 31), 12, at(2027, 12, 31)},
	} {
		if got := AddMonths(tc.from, tc.n); !got.Equal(tc.want) {
			t.Errorf("%v + %d months = %v, want %v", tc.from, tc.n, got, tc.want)
		}
	}
}

func TestManual(t *testing.T) {
	c := NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	c.Advance(36 * time.Hour)
	if got := c.Now(); !got.Equal(time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)) {
		t.Fatal(got)
	}
}
