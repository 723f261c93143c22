package store

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgtype"
)

// scannable is a row type that names the scan targets of its columns, in
// the order of its column list.
type scannable[T any] interface {
	*T
	scanTargets() []any
}

// nested decodes the binary form of anonymous records — row(<columns>) —
// and arrays of them (array_agg(row(…))) into T, the way a statement
// returns another table's rows beside its own. pgx can scan records too,
// but plans the scan of every field of every record anew (a page of 50
// cards took 5,000 more allocations than reading the same rows by four
// statements); nested plans each field once and reuses the plan for every
// record of the statement.
type nested[T any, P scannable[T]] struct {
	types *pgtype.Map
	plans []fieldPlan
}

type fieldPlan struct {
	oid  uint32
	plan pgtype.ScanPlan
}

var errMalformedRecord = errors.New("store: malformed record")

func newNested[T any, P scannable[T]](types *pgtype.Map) *nested[T, P] {
	return &nested[T, P]{types: types}
}

// record decodes one record into row.
func (n *nested[T, P]) record(src []byte, row *T) error {
	if src == nil {
		return errors.New("store: nested row is null")
	}
	targets := P(row).scanTargets()
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
		if err := n.plan(i, oid, target).Scan(field, target); err != nil {
			return fmt.Errorf("store: nested field %d: %w", i, err)
		}
	}
	return nil
}

// array decodes a one-dimensional array of records; NULL (an aggregate
// over no rows) is an empty slice.
func (n *nested[T, P]) array(src []byte) ([]T, error) {
	if src == nil {
		return []T{}, nil
	}
	if len(src) < 12 {
		return nil, errMalformedRecord
	}
	dims := int32(binary.BigEndian.Uint32(src))
	if dims == 0 {
		return []T{}, nil
	}
	if dims != 1 || len(src) < 20 {
		return nil, fmt.Errorf("%w: %d-dimensional array", errMalformedRecord, dims)
	}
	length := int(int32(binary.BigEndian.Uint32(src[12:])))
	rest := src[20:]
	if length < 0 || length > len(rest)/4 {
		return nil, errMalformedRecord
	}
	out := make([]T, length)
	for i := range out {
		size, next, ok := int32At(rest)
		if !ok || size < 0 || int(size) > len(next) {
			return nil, errMalformedRecord
		}
		if err := n.record(next[:size], &out[i]); err != nil {
			return nil, err
		}
		rest = next[size:]
	}
	return out, nil
}

// plan is the scan plan of field i, made for the first record and kept
// while the field's type stays the same.
func (n *nested[T, P]) plan(i int, oid uint32, target any) pgtype.ScanPlan {
	for len(n.plans) <= i {
		n.plans = append(n.plans, fieldPlan{})
	}
	p := &n.plans[i]
	if p.plan == nil || p.oid != oid {
		p.oid, p.plan = oid, n.types.PlanScan(oid, pgtype.BinaryFormatCode, target)
	}
	return p.plan
}

func int32At(src []byte) (int32, []byte, bool) {
	if len(src) < 4 {
		return 0, nil, false
	}
	return int32(binary.BigEndian.Uint32(src)), src[4:], true
}
