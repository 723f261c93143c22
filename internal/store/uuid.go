package store

import (
	"errors"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
)

// registerUUID makes google/uuid values travel in PostgreSQL's binary
// format. uuid.UUID is a driver.Valuer and an sql.Scanner, and pgx prefers
// those interfaces: every id would be formatted as text to send and parsed
// from text when read, about a fifth of an uncached storefront page's
// allocations.
func registerUUID(m *pgtype.Map) {
	m.TryWrapEncodePlanFuncs = append([]pgtype.TryWrapEncodePlanFunc{wrapUUIDEncode}, m.TryWrapEncodePlanFuncs...)
	m.RegisterType(&pgtype.Type{Name: "uuid", OID: pgtype.UUIDOID, Codec: uuidCodec{}})
}

// binaryUUID is uuid.UUID as pgx's UUID scanner and valuer.
type binaryUUID uuid.UUID

func (u binaryUUID) UUIDValue() (pgtype.UUID, error) { return pgtype.UUID{Bytes: u, Valid: true}, nil }

func (u *binaryUUID) ScanUUID(v pgtype.UUID) error {
	if !v.Valid {
		return errors.New("cannot scan NULL into uuid.UUID")
	}
	*u = v.Bytes
	return nil
}

// uuidCodec plans *uuid.UUID targets itself: pgx would otherwise take the
// sql.Scanner path before any wrapping plan is consulted.
type uuidCodec struct{ pgtype.UUIDCodec }

func (c uuidCodec) PlanScan(m *pgtype.Map, oid uint32, format int16, target any) pgtype.ScanPlan {
	if t, ok := target.(*uuid.UUID); ok {
		if next := c.UUIDCodec.PlanScan(m, oid, format, (*binaryUUID)(t)); next != nil {
			return scanUUID{next}
		}
	}
	return c.UUIDCodec.PlanScan(m, oid, format, target)
}

type scanUUID struct{ next pgtype.ScanPlan }

func (p scanUUID) Scan(src []byte, dst any) error {
	return p.next.Scan(src, (*binaryUUID)(dst.(*uuid.UUID)))
}

func wrapUUIDEncode(value any) (pgtype.WrappedEncodePlanNextSetter, any, bool) {
	if u, ok := value.(uuid.UUID); ok {
		return &encodeUUID{}, binaryUUID(u), true
	}
	return nil, nil, false
}

type encodeUUID struct{ next pgtype.EncodePlan }

func (p *encodeUUID) SetNext(next pgtype.EncodePlan) { p.next = next }

func (p *encodeUUID) Encode(value any, buf []byte) ([]byte, error) {
	return p.next.Encode(binaryUUID(value.(uuid.UUID)), buf)
}
