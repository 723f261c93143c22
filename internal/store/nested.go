package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// nested decodes the binary form of anonymous records — row(<columns>) —
// and arrays of them (array_agg(row(…))) into T, the way a statement
// returns another table's rows beside its own. pgx can scan records too,
// but plans the scan of every field of every record anew (a page of 50
// cards took 5,000 more allocations than reading the same rows by four
// statements); nested plans each field once and reuses the plan for every
// record of the statement.
type nested[T any] struct {
	fields fieldDecoder
	// columns appends the scan targets of a row's fields to dst, in the
	// order of the record's column list.
	columns func(row *T, dst []any) []any
	// targets is reused from record to record.
	targets []any
	// slab is where arrays are carved from: one allocation for the
	// versions (or prices) of many cards, not one per card.
	slab []T
}

// fieldDecoder decodes binary column values into scan targets: the common
// types directly (scanCommon), the others by a pgx plan made once per
// column and kept while its type stays the same.
type fieldDecoder struct {
	types *pgtype.Map
	plans []fieldPlan
	// values holds what nullable fields point to.
	values *arena
}

type fieldPlan struct {
	oid    uint32
	format int16
	plan   pgtype.ScanPlan
}

var errMalformedRecord = errors.New("store: malformed record")

// newNested returns a decoder for one statement's nested rows of T, whose
// records hold the fields columns names; nullable fields point into values.
func newNested[T any](types *pgtype.Map, values *arena, columns func(row *T, dst []any) []any) *nested[T] {
	return &nested[T]{fields: fieldDecoder{types: types, values: values}, columns: columns}
}

// arena hands out the values nested rows' nullable fields point to from
// blocks: one allocation per block instead of one per value (600 a
// storefront page). A block is never grown, so its values never move.
type arena struct {
	times []time.Time
	uuids []uuid.UUID
}

const arenaBlock = 64

func (a *arena) time(t time.Time) *time.Time {
	if len(a.times) == cap(a.times) {
		a.times = make([]time.Time, 0, arenaBlock)
	}
	a.times = append(a.times, t)
	return &a.times[len(a.times)-1]
}

func (a *arena) uuid(id uuid.UUID) *uuid.UUID {
	if len(a.uuids) == cap(a.uuids) {
		a.uuids = make([]uuid.UUID, 0, arenaBlock)
	}
	a.uuids = append(a.uuids, id)
	return &a.uuids[len(a.uuids)-1]
}

// record decodes one record into row.
func (n *nested[T]) record(src []byte, row *T) error {
	if src == nil {
		return errors.New("store: nested row is null")
	}
	targets := n.columns(row, n.targets[:0])
	n.targets = targets
	count, rest, ok := int32At(src)
	if !ok || int(count) != len(targets) {
		return fmt.Errorf("%w: %d fields for %d columns", errMalformedRecord, count, len(targets))
	}
	for i, target := range targets {
		if len(rest) < 8 {
			return errMalformedRecord
		}
		oid := binary.BigEndian.Uint32(rest)
		size := int32(binary.BigEndian.Uint32(rest[4:]))
		rest = rest[8:]
		var field []byte
		if size >= 0 {
			if int(size) > len(rest) {
				return errMalformedRecord
			}
			field, rest = rest[:size], rest[size:]
		}
		if err := n.fields.decode(i, oid, pgtype.BinaryFormatCode, field, target); err != nil {
			return err
		}
	}
	return nil
}

// array decodes a one-dimensional array of records; NULL (an aggregate
// over no rows) is an empty slice.
func (n *nested[T]) array(src []byte) ([]T, error) {
	if src == nil {
		return []T{}, nil
	}
	elems, err := openArray(src)
	if err != nil {
		return nil, err
	}
	out := n.carve(elems.len)
	for i := range out {
		record, ok := elems.next()
		if !ok {
			return nil, errMalformedRecord
		}
		if err := n.record(record, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// carve returns n zero rows from the slab, capped so that appending to
// them never reaches the next array's.
func (n *nested[T]) carve(count int) []T {
	if count == 0 {
		return []T{} // read, and empty: not nil, which is "not read"
	}
	if cap(n.slab)-len(n.slab) < count {
		n.slab = make([]T, 0, max(arenaBlock, count))
	}
	start := len(n.slab)
	n.slab = n.slab[:start+count]
	return n.slab[start : start+count : start+count]
}

// arrayElements reads the elements of a one-dimensional binary array in
// order.
type arrayElements struct {
	len  int
	rest []byte
}

// openArray reads the header of src, a non-NULL binary array; an empty
// array has no dimension and no elements.
func openArray(src []byte) (arrayElements, error) {
	if len(src) < 12 {
		return arrayElements{}, errMalformedRecord
	}
	switch dims := int32(binary.BigEndian.Uint32(src)); {
	case dims == 0:
		return arrayElements{}, nil
	case dims != 1 || len(src) < 20:
		return arrayElements{}, fmt.Errorf("%w: %d-dimensional array", errMalformedRecord, dims)
	}
	n := int(int32(binary.BigEndian.Uint32(src[12:])))
	rest := src[20:]
	if n < 0 || n > len(rest)/4 {
		return arrayElements{}, errMalformedRecord
	}
	return arrayElements{len: n, rest: rest}, nil
}

// next returns the next element; ok is false for a NULL or malformed one.
func (a *arrayElements) next() (elem []byte, ok bool) {
	size, rest, ok := int32At(a.rest)
	if !ok || size < 0 || int(size) > len(rest) {
		return nil, false
	}
	elem, a.rest = rest[:size], rest[size:]
	return elem, true
}

// decode decodes src, the value of column i of type oid in format, into
// target; a nil target skips the column.
func (d *fieldDecoder) decode(i int, oid uint32, format int16, src []byte, target any) error {
	if target == nil || scanCommon(oid, format, src, target, d.values) {
		return nil
	}
	for len(d.plans) <= i {
		d.plans = append(d.plans, fieldPlan{})
	}
	p := &d.plans[i]
	if p.plan == nil || p.oid != oid || p.format != format {
		p.oid, p.format, p.plan = oid, format, d.types.PlanScan(oid, format, target)
	}
	if err := p.plan.Scan(src, target); err != nil {
		return fmt.Errorf("store: field %d: %w", i, err)
	}
	return nil
}

// row decodes a statement's first len(targets) columns of one row, whose
// raw values are raw, into targets.
func (d *fieldDecoder) row(fields []pgconn.FieldDescription, raw [][]byte, targets []any) error {
	for i, target := range targets {
		if err := d.decode(i, fields[i].DataTypeOID, fields[i].Format, raw[i], target); err != nil {
			return err
		}
	}
	return nil
}

func int32At(src []byte) (int32, []byte, bool) {
	if len(src) < 4 {
		return 0, nil, false
	}
	return int32(binary.BigEndian.Uint32(src)), src[4:], true
}

// postgresEpoch is where PostgreSQL's binary timestamps count from, in
// microseconds after the Unix epoch.
const postgresEpoch = 946_684_800_000_000

// scanCommon decodes the column types nested rows are made of straight
// into their usual targets, as pgx's own plans would, and reports whether
// it did; anything else (other types, a NULL into a non-pointer, infinite
// times) is left to pgx. pgx's plans for pointer targets go through
// reflection, which was most of the cost of reading a card's rows. Texts
// are the same bytes in either format (pgx asks for a statement's own text
// columns as text); every other type is decoded from binary only.
func scanCommon(oid uint32, format int16, src []byte, target any, values *arena) bool {
	switch t := target.(type) {
	case *string:
		if src != nil && isText(oid) {
			*t = text(src)
			return true
		}
		return false
	case **string:
		if isText(oid) {
			*t = nil
			if src != nil {
				text := string(src)
				*t = &text
			}
			return true
		}
		return false
	}
	if format != pgtype.BinaryFormatCode {
		return false
	}
	switch t := target.(type) {
	case *uuid.UUID:
		if oid == pgtype.UUIDOID && len(src) == 16 {
			*t = uuid.UUID(src)
			return true
		}
	case **uuid.UUID:
		if oid == pgtype.UUIDOID && (src == nil || len(src) == 16) {
			*t = nil
			if src != nil {
				*t = values.uuid(uuid.UUID(src))
			}
			return true
		}
	case *[]string:
		if oid == pgtype.TextArrayOID {
			if list, ok := textArray(src); ok {
				*t = list
				return true
			}
		}
	case *int:
		if n, ok := integer(oid, src); ok {
			*t = int(n)
			return true
		}
	case *int64:
		if n, ok := integer(oid, src); ok {
			*t = n
			return true
		}
	case *bool:
		if oid == pgtype.BoolOID && len(src) == 1 {
			*t = src[0] == 1
			return true
		}
	case *time.Time:
		if tm, ok := timestamptz(oid, src); ok {
			*t = tm
			return true
		}
	case **time.Time:
		if oid == pgtype.TimestamptzOID && src == nil {
			*t = nil
			return true
		}
		if tm, ok := timestamptz(oid, src); ok {
			*t = values.time(tm)
			return true
		}
	}
	return false
}

// text returns src as a string. The few values of the state, kind,
// visibility and currency columns every row of a page repeats are shared
// rather than allocated a copy each. A switch on the bytes compares
// lengths first and hashes nothing: the map it replaces hashed every
// short text, 2.7 % of a loaded storefront server's CPU (titles, slugs
// and names, longer than any case, fail at the length).
func text(src []byte) string {
	switch string(src) {
	case "draft":
		return "draft"
	case "in_review":
		return "in_review"
	case "approved":
		return "approved"
	case "rejected":
		return "rejected"
	case "rent":
		return "rent"
	case "sale":
		return "sale"
	case "RUB":
		return "RUB"
	case "basic":
		return "basic"
	case "standard":
		return "standard"
	case "premium":
		return "premium"
	case "published":
		return "published"
	case "suspended":
		return "suspended"
	case "archived":
		return "archived"
	case "public":
		return "public"
	case "unlisted":
		return "unlisted"
	case "private":
		return "private"
	case "developer":
		return "developer"
	case "platform":
		return "platform"
	}
	return string(src)
}

// textArray decodes a binary one-dimensional text[] without NULL elements
// (a configuration's tags and screenshots) as pgx does: NULL is a nil
// slice, an empty array an empty one.
func textArray(src []byte) ([]string, bool) {
	if src == nil {
		return nil, true
	}
	elems, err := openArray(src)
	if err != nil {
		return nil, false
	}
	out := make([]string, elems.len)
	for i := range out {
		elem, ok := elems.next()
		if !ok {
			return nil, false // NULL elements, or malformed: pgx decides
		}
		out[i] = text(elem)
	}
	return out, true
}

// integer decodes a binary int4 or int8.
func integer(oid uint32, src []byte) (int64, bool) {
	switch {
	case oid == pgtype.Int4OID && len(src) == 4:
		return int64(int32(binary.BigEndian.Uint32(src))), true
	case oid == pgtype.Int8OID && len(src) == 8:
		return int64(binary.BigEndian.Uint64(src)), true
	}
	return 0, false
}

func isText(oid uint32) bool {
	return oid == pgtype.TextOID || oid == pgtype.VarcharOID || oid == pgtype.BPCharOID
}

// timestamptz decodes a finite binary timestamptz as pgx does (time.Unix:
// the local zone).
func timestamptz(oid uint32, src []byte) (time.Time, bool) {
	if oid != pgtype.TimestamptzOID || len(src) != 8 {
		return time.Time{}, false
	}
	micros := int64(binary.BigEndian.Uint64(src))
	if micros == math.MaxInt64 || micros == math.MinInt64 {
		return time.Time{}, false
	}
	unix := micros + postgresEpoch
	return time.Unix(unix/1_000_000, (unix%1_000_000)*1_000), true
}
