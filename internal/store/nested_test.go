package store

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
)

// TestScanCommonDecodesAsPgx decodes each value both ways — scanCommon and
// pgx's own plan for the same target — and requires the same result, or
// that scanCommon leaves the value to pgx.
func TestScanCommonDecodesAsPgx(t *testing.T) {
	m := pgtype.NewMap()
	id := uuid.New()
	text := "Воронка продаж"
	at := time.Date(2026, 11, 22, 10, 30, 0, 123456000, time.UTC)
	before2000 := time.Date(1969, 7, 20, 20, 17, 40, 999999000, time.UTC)
	values := []struct {
		oid   uint32
		value any
	}{
		{pgtype.UUIDOID, id}, {pgtype.UUIDOID, nil},
		{pgtype.TextOID, text}, {pgtype.TextOID, ""}, {pgtype.TextOID, nil}, {pgtype.VarcharOID, "x"}, {pgtype.BPCharOID, "RUB"},
		{pgtype.Int4OID, int32(-42)}, {pgtype.Int4OID, int32(math.MaxInt32)}, {pgtype.Int4OID, nil},
		{pgtype.Int8OID, int64(math.MinInt64)}, {pgtype.Int8OID, int64(5_670_000)},
		{pgtype.BoolOID, true}, {pgtype.BoolOID, false},
		{pgtype.TimestamptzOID, at}, {pgtype.TimestamptzOID, before2000}, {pgtype.TimestamptzOID, nil},
		{pgtype.TimestamptzOID, pgtype.Timestamptz{InfinityModifier: pgtype.Infinity, Valid: true}},
		{pgtype.TextArrayOID, []string{"crm", "продажи", ""}}, {pgtype.TextArrayOID, []string{}}, {pgtype.TextArrayOID, nil},
		{pgtype.TextArrayOID, []*string{&text, nil}}, {pgtype.TextArrayOID, pgtype.Array[string]{Elements: []string{"a", "b"}, Valid: true,
			Dims: []pgtype.ArrayDimension{{Length: 2, LowerBound: 1}, {Length: 1, LowerBound: 1}}}},
	}
	targets := []func() any{
		func() any { return new(uuid.UUID) }, func() any { return new(*uuid.UUID) },
		func() any { return new(string) }, func() any { return new(*string) },
		func() any { return new(int) }, func() any { return new(int64) }, func() any { return new(bool) },
		func() any { return new(time.Time) }, func() any { return new(*time.Time) }, func() any { return new([]string) },
	}
	taken := map[int16]int{}
	for _, format := range []int16{pgtype.BinaryFormatCode, pgtype.TextFormatCode} {
		for _, v := range values {
			var src []byte
			if v.value != nil {
				var err error
				if src, err = m.Encode(v.oid, format, v.value, nil); err != nil {
					t.Fatalf("encode %v: %v", v.value, err)
				}
			}
			for _, newTarget := range targets {
				ours, theirs := newTarget(), newTarget()
				if !scanCommon(v.oid, format, src, ours, new(arena)) {
					continue
				}
				taken[format]++
				plan := m.PlanScan(v.oid, format, theirs)
				if err := plan.Scan(src, theirs); err != nil {
					t.Errorf("format %d, oid %d %v into %T: scanCommon took it, pgx refuses it: %v", format, v.oid, v.value, ours, err)
					continue
				}
				if got, want := deref(ours), deref(theirs); !reflect.DeepEqual(got, want) {
					t.Errorf("format %d, oid %d %v into %T: scanCommon %#v, pgx %#v", format, v.oid, v.value, ours, got, want)
				}
			}
		}
	}
	// Texts in either format, the rest in binary only.
	if taken[pgtype.TextFormatCode] == 0 || taken[pgtype.BinaryFormatCode] <= taken[pgtype.TextFormatCode] {
		t.Errorf("decoded %v values by format", taken)
	}
}

// deref follows a target down to a comparable value.
func deref(target any) any {
	switch t := target.(type) {
	case **uuid.UUID:
		if *t == nil {
			return nil
		}
		return **t
	case **string:
		if *t == nil {
			return nil
		}
		return **t
	case **time.Time:
		if *t == nil {
			return nil
		}
		return **t
	case *uuid.UUID:
		return *t
	case *string:
		return *t
	case *int:
		return *t
	case *int64:
		return *t
	case *bool:
		return *t
	case *time.Time:
		return *t
	case *[]string:
		return *t
	}
	return target
}

// TestArenaValuesStayPut: values handed out before a block filled keep
// their own values after it did.
func TestArenaValuesStayPut(t *testing.T) {
	var a arena
	var times []*time.Time
	var ids []*uuid.UUID
	for i := range 3*arenaBlock + 5 {
		times = append(times, a.time(time.Unix(int64(i), 0)))
		ids = append(ids, a.uuid(uuid.UUID{byte(i), byte(i >> 8)}))
	}
	for i := range times {
		if !times[i].Equal(time.Unix(int64(i), 0)) || *ids[i] != (uuid.UUID{byte(i), byte(i >> 8)}) {
			t.Fatalf("value %d changed: %v %v", i, *times[i], *ids[i])
		}
	}
}
