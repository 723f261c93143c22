// Package relay implements the Relay conventions every GraphQL connection
// shares: opaque global object IDs, keyset cursors and page-size bounds.
package relay

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
)

// Errors reporting a client-supplied argument the API must reject.
var (
	ErrInvalidID       = errors.New("invalid id")
	ErrInvalidCursor   = errors.New("invalid cursor")
	ErrInvalidPageSize = errors.New("invalid page size")
)

// inputError is a client's mistake: its message is written for the client
// (no internals), and it matches its sentinel with errors.Is.
type inputError struct {
	msg      string
	sentinel error
}

func (e inputError) Error() string { return e.msg }
func (e inputError) Unwrap() error { return e.sentinel }

func badID(msg string) error { return inputError{msg, ErrInvalidID} }

// errBadCursor does not say what is wrong with a cursor: cursors are opaque.
var errBadCursor = inputError{"cursor is not valid for this connection", ErrInvalidCursor}

// Page-size bounds for the `first` argument. MaxFirst caps the cost of a
// single request.
const (
	DefaultFirst = 20
	MaxFirst     = 100
)

// enc is strict so each byte string has exactly one encoding; decode also
// re-encodes to compare, because the decoder silently skips '\r' and '\n'.
var enc = base64.RawURLEncoding.Strict()

// decode accepts only the canonical encoding of s, so that an object or a
// position has a single ID or cursor that clients may cache by.
func decode(s string) ([]byte, bool) {
	b, err := enc.DecodeString(s)
	if err != nil || enc.EncodeToString(b) != s {
		return nil, false
	}
	return b, true
}

// ID returns the global ID of the object with the given GraphQL type and
// local id. Type names must not contain ':'; local ids may.
func ID(typeName, id string) string {
	var buf [128]byte
	raw := append(append(append(buf[:0], typeName...), ':'), id...)
	return encode(raw)
}

// UUIDID is ID for a uuid local id, without spelling the uuid out first:
// a storefront page names a few hundred objects.
func UUIDID(typeName string, id uuid.UUID) string {
	var buf [256]byte
	return string(AppendUUIDID(buf[:0], typeName, id))
}

// AppendUUIDID appends UUIDID(typeName, id) to b, allocating nothing
// when b has room.
func AppendUUIDID(b []byte, typeName string, id uuid.UUID) []byte {
	var buf [128]byte
	return enc.AppendEncode(b, appendUUID(append(append(buf[:0], typeName...), ':'), id))
}

// encode is enc.EncodeToString with one allocation instead of two.
func encode(raw []byte) string {
	var buf [256]byte
	return string(enc.AppendEncode(buf[:0], raw))
}

// appendUUID appends id in its canonical text form, as id.String() spells it.
func appendUUID(b []byte, id uuid.UUID) []byte {
	var text [36]byte
	hex.Encode(text[0:8], id[0:4])
	text[8] = '-'
	hex.Encode(text[9:13], id[4:6])
	text[13] = '-'
	hex.Encode(text[14:18], id[6:8])
	text[18] = '-'
	hex.Encode(text[19:23], id[8:10])
	text[23] = '-'
	hex.Encode(text[24:], id[10:])
	return append(b, text[:]...)
}

// ParseID splits a global ID into its type name and local id.
func ParseID(global string) (typeName, id string, err error) {
	b, ok := decode(global)
	if !ok {
		return "", "", badID("id is not a valid global id")
	}
	// No id this API hands out holds a NUL (PostgreSQL text cannot), and
	// one that did would fail its statement instead of finding nothing.
	if !utf8.Valid(b) || bytes.IndexByte(b, 0) >= 0 {
		return "", "", badID("id is not a valid global id")
	}
	typeName, id, ok = strings.Cut(string(b), ":")
	if !ok || typeName == "" || id == "" {
		return "", "", badID("id is not a valid global id")
	}
	return typeName, id, nil
}

// ParseIDOf is ParseID for arguments that must name a wantType object, so
// that an ID of another type can't be used to address a row by accident.
func ParseIDOf(global, wantType string) (string, error) {
	typeName, id, err := ParseID(global)
	if err != nil {
		return "", err
	}
	if typeName != wantType {
		return "", badID(fmt.Sprintf("id names a %s where a %s is expected", typeName, wantType))
	}
	return id, nil
}

// ParseUUIDOf is ParseIDOf for UUID-keyed types. It accepts only the
// canonical lower-case form ID would have produced, keeping IDs unique.
func ParseUUIDOf(global, wantType string) (uuid.UUID, error) {
	id, err := ParseIDOf(global, wantType)
	if err != nil {
		return uuid.Nil, err
	}
	u, err := uuid.Parse(id)
	if err != nil || u.String() != id {
		return uuid.Nil, badID("id is not a valid global id")
	}
	return u, nil
}

// EncodeCursor returns an opaque cursor holding the sort-key values of a
// row. Supported keys are string, int, int64, bool, time.Time and
// uuid.UUID, the types DecodeCursor reads back. Times are stored in UTC so
// one position has one cursor. Any other type panics: it is a programming
// error that tests catch, not a runtime condition.
func EncodeCursor(keys ...any) string {
	// The JSON array json.Marshal would write, written directly: a page
	// encodes a cursor per row (a storefront page ~250), and marshalling
	// through reflection was a tenth of the page's allocations.
	var buf [256]byte
	b := append(buf[:0], '[')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		switch k := k.(type) {
		case string:
			b = appendJSONString(b, k)
		case int:
			b = strconv.AppendInt(b, int64(k), 10)
		case int64:
			b = strconv.AppendInt(b, k, 10)
		case bool:
			b = strconv.AppendBool(b, k)
		case time.Time:
			b = append(k.UTC().AppendFormat(append(b, '"'), time.RFC3339Nano), '"')
		case uuid.UUID:
			b = append(appendUUID(append(b, '"'), k), '"')
		default:
			panic(fmt.Sprintf("relay: unsupported cursor key type %T", k))
		}
	}
	return encode(append(b, ']'))
}

// appendJSONString appends s as json.Marshal quotes it: as is when no byte
// needs escaping (json.Marshal also escapes <, > and & for HTML), through
// json.Marshal otherwise.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	return append(append(append(b, '"'), s...), '"')
}

// DecodeCursor reads a cursor made by EncodeCursor into dst, which must be
// pointers to string, int, int64, bool, time.Time or uuid.UUID in key order.
// A cursor that doesn't match (wrong encoding, key count or key types)
// wraps ErrInvalidCursor; dst is left untouched then. An unsupported dst
// type is the caller's bug and returns an error that doesn't wrap it.
func DecodeCursor(cursor string, dst ...any) error {
	b, ok := decode(cursor)
	if !ok {
		return errBadCursor
	}
	// UseNumber keeps int64 keys exact past 2^53, where float64 would round.
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var raw []any
	if err := dec.Decode(&raw); err != nil || raw == nil {
		return errBadCursor
	}
	if _, err := dec.Token(); err != io.EOF {
		return errBadCursor
	}
	if len(raw) != len(dst) {
		return errBadCursor
	}

	// Convert everything before assigning anything, so a bad key doesn't
	// leave dst half-written.
	vals := make([]any, len(dst))
	for i, d := range dst {
		v, err := convert(raw[i], d)
		if errors.Is(err, ErrInvalidCursor) {
			return errBadCursor
		}
		if err != nil {
			return fmt.Errorf("relay: decode cursor key %d: %w", i, err)
		}
		vals[i] = v
	}
	for i, d := range dst {
		switch d := d.(type) {
		case *string:
			*d = vals[i].(string)
		case *int:
			*d = vals[i].(int)
		case *int64:
			*d = vals[i].(int64)
		case *bool:
			*d = vals[i].(bool)
		case *time.Time:
			*d = vals[i].(time.Time)
		case *uuid.UUID:
			*d = vals[i].(uuid.UUID)
		}
	}
	return nil
}

// convert turns one JSON value into the type dst points to.
func convert(v, dst any) (any, error) {
	bad := fmt.Errorf("%w: unexpected %T for %T", ErrInvalidCursor, v, dst)
	switch dst.(type) {
	case *string:
		// A key read from a row never holds a NUL (PostgreSQL text
		// cannot); one that did would fail the page's statement.
		if s, ok := v.(string); ok && strings.IndexByte(s, 0) < 0 {
			return s, nil
		}
	case *int64, *int:
		n, ok := v.(json.Number)
		if !ok {
			return nil, bad
		}
		i, err := n.Int64()
		if err != nil {
			return nil, fmt.Errorf("%w: %s is not an int64", ErrInvalidCursor, n)
		}
		if _, ok := dst.(*int); ok {
			if int64(int(i)) != i {
				return nil, fmt.Errorf("%w: %s overflows int", ErrInvalidCursor, n)
			}
			return int(i), nil
		}
		return i, nil
	case *bool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case *time.Time:
		s, ok := v.(string)
		if !ok {
			return nil, bad
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, fmt.Errorf("%w: malformed time", ErrInvalidCursor)
		}
		return t, nil
	case *uuid.UUID:
		s, ok := v.(string)
		if !ok {
			return nil, bad
		}
		u, err := uuid.Parse(s)
		if err != nil || u.String() != s {
			return nil, fmt.Errorf("%w: malformed uuid", ErrInvalidCursor)
		}
		return u, nil
	default:
		return nil, fmt.Errorf("relay: unsupported cursor destination %T", dst)
	}
	return nil, bad
}

// PageSize validates the `first` argument: absent means DefaultFirst, and
// anything outside 1..MaxFirst is refused rather than clamped so clients
// learn the limit instead of silently getting fewer rows.
func PageSize(first *int) (int, error) {
	if first == nil {
		return DefaultFirst, nil
	}
	if n := *first; n < 1 || n > MaxFirst {
		return 0, inputError{fmt.Sprintf("first must be between 1 and %d, got %d", MaxFirst, n), ErrInvalidPageSize}
	}
	return *first, nil
}

// Page trims rows fetched with LIMIT limit+1 to limit and reports whether
// the extra row proved there is a next page. The result's capacity is
// capped so appending to it can't overwrite the extra row's slot.
func Page[T any](rows []T, limit int) (page []T, hasNext bool) {
	limit = max(limit, 0)
	if len(rows) > limit {
		return rows[:limit:limit], true
	}
	return rows, false
}

// TimeKey is a keyset position in a newest-first (time, id) order.
type TimeKey struct {
	At time.Time
	ID uuid.UUID
}

// OrZero is the key, or the zero key for none.
func (k *TimeKey) OrZero() TimeKey {
	if k == nil {
		return TimeKey{}
	}
	return *k
}

// TimePage reads first/after of a newest-first (time, id) connection;
// the errors are the client's and name the argument at fault.
func TimePage(first *int, after *string) (int, *TimeKey, error) {
	limit, err := PageSize(first)
	if err != nil {
		return 0, nil, apperr.Wrap(apperr.KindInvalid, "first", err)
	}
	if after == nil {
		return limit, nil, nil
	}
	var k TimeKey
	if err := DecodeCursor(*after, &k.At, &k.ID); err != nil {
		return 0, nil, apperr.Wrap(apperr.KindInvalid, "after", err)
	}
	return limit, &k, nil
}

// NameKey is a keyset position in a by-name (name, id) order.
type NameKey struct {
	Name string
	ID   uuid.UUID
}

// OrZero is the key, or the zero key for none.
func (k *NameKey) OrZero() NameKey {
	if k == nil {
		return NameKey{}
	}
	return *k
}

// NamePage reads first/after of a by-name (name, id) connection; the
// errors are the client's and name the argument at fault.
func NamePage(first *int, after *string) (int, *NameKey, error) {
	limit, err := PageSize(first)
	if err != nil {
		return 0, nil, apperr.Wrap(apperr.KindInvalid, "first", err)
	}
	if after == nil {
		return limit, nil, nil
	}
	var k NameKey
	if err := DecodeCursor(*after, &k.Name, &k.ID); err != nil {
		return 0, nil, apperr.Wrap(apperr.KindInvalid, "after", err)
	}
	return limit, &k, nil
}

// Connection is one page of a Relay connection: the rows, their cursors
// and whether more follow.
type Connection[T any] struct {
	Rows    []T
	Cursors []string
	HasNext bool
	// Total is how many rows the whole connection holds, counted only
	// when PageArgs.WithTotal asked for it (a count is a second query).
	Total *int
}

// Counted sets the page's Total to count() when args ask for it.
func (c Connection[T]) Counted(args PageArgs, count func() (int, error)) (Connection[T], error) {
	if !args.WithTotal {
		return c, nil
	}
	n, err := count()
	if err != nil {
		return Connection[T]{}, err
	}
	c.Total = &n
	return c, nil
}

// PageArgs are a connection's paging arguments.
type PageArgs struct {
	First *int
	After *string
	// WithTotal asks for the connection's totalCount.
	WithTotal bool
}

// Search bounds for the `search` argument: the trigram indexes that serve
// it need at least three characters.
const (
	MinSearch = 3
	MaxSearch = 200
)

// SearchTerm validates a `search` argument: absent or blank means no
// search; otherwise MinSearch to MaxSearch characters without NUL (which
// PostgreSQL text cannot hold), trimmed. The error names the argument.
func SearchTerm(raw *string) (*string, error) {
	if raw == nil {
		return nil, nil
	}
	term := strings.TrimSpace(*raw)
	if term == "" {
		return nil, nil
	}
	if n := utf8.RuneCountInString(term); n < MinSearch || n > MaxSearch || strings.IndexByte(term, 0) >= 0 {
		return nil, apperr.Invalid("search", "search for %d to %d characters", MinSearch, MaxSearch).WithCode("SEARCH_LENGTH")
	}
	return &term, nil
}

// Cut makes the page from rows queried with limit+1 (see Page), giving
// each row the cursor of its sort key.
func Cut[T any](rows []T, limit int, cursor func(T) string) Connection[T] {
	page, hasNext := Page(rows, limit)
	c := Connection[T]{Rows: page, Cursors: make([]string, len(page)), HasNext: hasNext}
	for i, r := range page {
		c.Cursors[i] = cursor(r)
	}
	return c
}
