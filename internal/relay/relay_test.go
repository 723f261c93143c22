package relay

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestIDRoundTrip(t *testing.T) {
	tests := []struct{ typ, id string }{
		{"Product", "42"},
		{"Product", "7f0c1a52-5d0e-4b5e-9a64-3f4f1b2c9d10"},
		{"User", "a:b:c"}, // only the first colon separates
		{"Тип", "ключ"},
	}
	for _, tt := range tests {
		g := ID(tt.typ, tt.id)
		if strings.ContainsAny(g, "+/=") {
			t.Errorf("ID(%q, %q) = %q, not raw url base64", tt.typ, tt.id, g)
		}
		typ, id, err := ParseID(g)
		if err != nil || typ != tt.typ || id != tt.id {
			t.Errorf("ParseID(%q) = %q, %q, %v; want %q, %q", g, typ, id, err, tt.typ, tt.id)
		}
		if id, err := ParseIDOf(g, tt.typ); err != nil || id != tt.id {
			t.Errorf("ParseIDOf(%q, %q) = %q, %v", g, tt.typ, id, err)
		}
	}
	if got, want := ID("Product", "42"), b64("Product:42"); got != want {
		t.Errorf("ID = %q, want %q", got, want)
	}
}

func TestParseIDInvalid(t *testing.T) {
	tests := map[string]string{
		"empty":         "",
		"not base64":    "!!!",
		"padded":        b64("Product:42") + "==",
		"std alphabet":  base64.StdEncoding.EncodeToString([]byte("Product:42?>")),
		"newline":       b64("Product:42")[:4] + "\n" + b64("Product:42")[4:],
		"noncanonical":  "YR", // decodes to "a" only in non-strict mode
		"no colon":      b64("Product42"),
		"empty type":    b64(":42"),
		"empty id":      b64("Product:"),
		"only colon":    b64(":"),
		"invalid utf-8": b64("Product:\xff"),
		// Issue 19: PostgreSQL refuses NUL in text; an id holding one is
		// bad input, not a failed statement.
		"NUL in the id":   b64("Product:4\x002"),
		"NUL in the type": b64("Pro\x00duct:42"),
	}
	for name, g := range tests {
		if typ, id, err := ParseID(g); !errors.Is(err, ErrInvalidID) {
			t.Errorf("%s: ParseID(%q) = %q, %q, %v; want ErrInvalidID", name, g, typ, id, err)
		}
	}
}

func TestParseIDOfWrongType(t *testing.T) {
	_, err := ParseIDOf(ID("User", "42"), "Product")
	if !errors.Is(err, ErrInvalidID) {
		t.Fatalf("err = %v, want ErrInvalidID", err)
	}
	if _, err := ParseIDOf("!!!", "Product"); !errors.Is(err, ErrInvalidID) {
		t.Fatalf("err = %v, want ErrInvalidID", err)
	}
}

func TestParseUUIDOf(t *testing.T) {
	u := uuid.MustParse("7f0c1a52-5d0e-4b5e-9a64-3f4f1b2c9d10")
	got, err := ParseUUIDOf(ID("Product", u.String()), "Product")
	if err != nil || got != u {
		t.Fatalf("ParseUUIDOf = %v, %v; want %v", got, err, u)
	}
	for name, g := range map[string]string{
		"not uuid":   ID("Product", "42"),
		"upper case": ID("Product", strings.ToUpper(u.String())),
		"no hyphens": ID("Product", strings.ReplaceAll(u.String(), "-", "")),
		"urn":        ID("Product", "urn:uuid:"+u.String()),
		"braces":     ID("Product", "{"+u.String()+"}"),
		"wrong type": ID("User", u.String()),
		"garbage":    "%%%",
	} {
		if got, err := ParseUUIDOf(g, "Product"); !errors.Is(err, ErrInvalidID) {
			t.Errorf("%s: ParseUUIDOf = %v, %v; want ErrInvalidID", name, got, err)
		}
	}
}

func TestCursorRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 1, 13, 0, 0, 123456789, time.FixedZone("MSK", 3*3600))
	u := uuid.MustParse("7f0c1a52-5d0e-4b5e-9a64-3f4f1b2c9d10")
	big := int64(1)<<53 + 1 // float64 would round this to 2^53

	c := EncodeCursor(at, u, big, "name \"quoted\" ключ", true, 7)
	var (
		gotAt   time.Time
		gotU    uuid.UUID
		gotBig  int64
		gotName string
		gotBool bool
		gotInt  int
	)
	if err := DecodeCursor(c, &gotAt, &gotU, &gotBig, &gotName, &gotBool, &gotInt); err != nil {
		t.Fatal(err)
	}
	if !gotAt.Equal(at) || gotAt.Location() != time.UTC {
		t.Errorf("time = %v, want %v in UTC", gotAt, at)
	}
	if gotU != u || gotBig != big || gotName != "name \"quoted\" ключ" || !gotBool || gotInt != 7 {
		t.Errorf("got %v %d %q %v %d", gotU, gotBig, gotName, gotBool, gotInt)
	}

	for _, n := range []int64{math.MaxInt64, math.MinInt64, 0, -1} {
		var got int64
		if err := DecodeCursor(EncodeCursor(n), &got); err != nil || got != n {
			t.Errorf("int64 %d round-tripped to %d, %v", n, got, err)
		}
	}
}

func TestCursorFormat(t *testing.T) {
	u := uuid.MustParse("7f0c1a52-5d0e-4b5e-9a64-3f4f1b2c9d10")
	at := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	if got, want := EncodeCursor(at, u), b64(`["2026-11-01T10:00:00Z","`+u.String()+`"]`); got != want {
		t.Errorf("EncodeCursor = %q, want %q", got, want)
	}
	if got, want := EncodeCursor(int64(123), u), b64(`[123,"`+u.String()+`"]`); got != want {
		t.Errorf("EncodeCursor = %q, want %q", got, want)
	}
}

func TestDecodeCursorInvalid(t *testing.T) {
	u := "7f0c1a52-5d0e-4b5e-9a64-3f4f1b2c9d10"
	tests := map[string]string{
		"empty":          "",
		"not base64":     "!!!",
		"padded":         b64(`[1,"x"]`) + "=",
		"not json":       b64(`[1,`),
		"object":         b64(`{"a":1}`),
		"null":           b64(`null`),
		"trailing data":  b64(`[1,"x"] [2]`),
		"too few keys":   b64(`[1]`),
		"too many keys":  b64(`[1,"x",2]`),
		"float for int":  b64(`[1.5,"x"]`),
		"exp for int":    b64(`[1e3,"x"]`),
		"int overflow":   b64(`[9223372036854775808,"x"]`),
		"string for int": b64(`["1","x"]`),
		"int for string": b64(`[1,2]`),
		"null key":       b64(`[null,"x"]`),
		// Issue 19: a string key holding NUL would fail the page's
		// statement; no row's key holds one.
		"NUL in a string key": b64(`[1,"a\u0000b"]`),
	}
	for name, c := range tests {
		var (
			n int64
			s string
		)
		if err := DecodeCursor(c, &n, &s); !errors.Is(err, ErrInvalidCursor) {
			t.Errorf("%s: DecodeCursor = %v; want ErrInvalidCursor", name, err)
		}
	}

	typed := []struct {
		name string
		c    string
		dst  any
	}{
		{"bad time", b64(`["2026-11-01 10:00"]`), new(time.Time)},
		{"number for time", b64(`[1]`), new(time.Time)},
		{"bad uuid", b64(`["42"]`), new(uuid.UUID)},
		{"upper uuid", b64(`["` + strings.ToUpper(u) + `"]`), new(uuid.UUID)},
		{"number for uuid", b64(`[1]`), new(uuid.UUID)},
		{"string for bool", b64(`["true"]`), new(bool)},
		{"string for int", b64(`["1"]`), new(int)},
	}
	for _, tt := range typed {
		if err := DecodeCursor(tt.c, tt.dst); !errors.Is(err, ErrInvalidCursor) {
			t.Errorf("%s: DecodeCursor = %v; want ErrInvalidCursor", tt.name, err)
		}
	}
}

func TestDecodeCursorLeavesDstOnError(t *testing.T) {
	n, s := int64(5), "keep"
	if err := DecodeCursor(b64(`[1,2]`), &n, &s); err == nil {
		t.Fatal("want error")
	}
	if n != 5 || s != "keep" {
		t.Errorf("dst modified: %d %q", n, s)
	}
}

func TestDecodeCursorUnsupportedDst(t *testing.T) {
	var f float64
	err := DecodeCursor(EncodeCursor(1), &f)
	if err == nil || errors.Is(err, ErrInvalidCursor) {
		t.Fatalf("err = %v; want a programming error, not ErrInvalidCursor", err)
	}
}

func TestEncodeCursorUnsupportedPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("EncodeCursor(float64) did not panic")
		}
	}()
	EncodeCursor(1.5)
}

func TestPageSize(t *testing.T) {
	ptr := func(n int) *int { return &n }
	valid := []struct {
		in   *int
		want int
	}{
		{nil, DefaultFirst},
		{ptr(1), 1},
		{ptr(20), 20},
		{ptr(100), 100},
	}
	for _, tt := range valid {
		if got, err := PageSize(tt.in); err != nil || got != tt.want {
			t.Errorf("PageSize(%v) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	for _, n := range []int{0, -1, 101, math.MaxInt, math.MinInt} {
		_, err := PageSize(ptr(n))
		if !errors.Is(err, ErrInvalidPageSize) {
			t.Errorf("PageSize(%d) error = %v; want ErrInvalidPageSize", n, err)
			continue
		}
		if !strings.Contains(err.Error(), "between 1 and 100") {
			t.Errorf("PageSize(%d) error %q does not state the range", n, err)
		}
	}
}

func TestPage(t *testing.T) {
	tests := []struct {
		rows, limit int
		wantLen     int
		wantNext    bool
	}{
		{21, 20, 20, true}, // the extra row proves a next page
		{20, 20, 20, false},
		{5, 20, 5, false},
		{0, 20, 0, false},
		{2, 1, 1, true},
		{1, 0, 0, true},
		{3, -1, 0, true},
	}
	for _, tt := range tests {
		rows := make([]int, tt.rows)
		for i := range rows {
			rows[i] = i
		}
		page, next := Page(rows, tt.limit)
		if len(page) != tt.wantLen || next != tt.wantNext {
			t.Errorf("Page(%d rows, %d) = %d rows, %v; want %d, %v", tt.rows, tt.limit, len(page), next, tt.wantLen, tt.wantNext)
		}
		for i, v := range page {
			if v != i {
				t.Errorf("Page(%d rows, %d)[%d] = %d", tt.rows, tt.limit, i, v)
			}
		}
	}

	rows := []int{0, 1, 2}
	page, _ := Page(rows, 2)
	_ = append(page, 99)
	if rows[2] != 2 {
		t.Error("appending to a page overwrote the extra row")
	}
}

// TestEncodingIsJSONMarshalsByteForByte pins the hand-written encoders to
// what encoding/json and base64 wrote before them: cursors and ids clients
// already hold must keep meaning the same position and object.
func TestEncodingIsJSONMarshalsByteForByte(t *testing.T) {
	old := func(keys ...any) string {
		vals := make([]any, len(keys))
		for i, k := range keys {
			switch k := k.(type) {
			case time.Time:
				vals[i] = k.UTC().Format(time.RFC3339Nano)
			case uuid.UUID:
				vals[i] = k.String()
			default:
				vals[i] = k
			}
		}
		b, _ := json.Marshal(vals)
		return enc.EncodeToString(b)
	}
	id := uuid.MustParse("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")
	moscow := time.FixedZone("MSK", 3*3600)
	strs := []string{"", "popularity/desc", "12.5000", "a\"b", `back\slash`, "<tag>&", "tab\there", "new\nline", "\x00\x1f\x7f",
		"Воронка продаж", "line\u2028sep", "bad\xffutf8", strings.Repeat("long ", 100)}
	for _, s := range strs {
		for _, keys := range [][]any{
			{s, id}, {"price/asc", s, id},
		} {
			if got, want := EncodeCursor(keys...), old(keys...); got != want {
				t.Errorf("EncodeCursor(%q) = %s, want %s", keys, got, want)
			}
		}
		if got, want := ID("Configuration", s), enc.EncodeToString([]byte("Configuration:"+s)); got != want {
			t.Errorf("ID(%q) = %s, want %s", s, got, want)
		}
	}
	for _, keys := range [][]any{
		{1, 2, 3}, {-7, int64(1) << 62, true, false},
		{time.Date(2026, 11, 22, 10, 0, 0, 123456789, moscow), id},
		{time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), uuid.Nil},
	} {
		if got, want := EncodeCursor(keys...), old(keys...); got != want {
			t.Errorf("EncodeCursor(%v) = %s, want %s", keys, got, want)
		}
	}
	for _, u := range []uuid.UUID{id, uuid.Nil, uuid.New(), uuid.New()} {
		if got, want := UUIDID("Version", u), ID("Version", u.String()); got != want {
			t.Errorf("UUIDID(%s) = %s, want %s", u, got, want)
		}
	}
}
