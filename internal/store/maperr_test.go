package store

import (
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"configmarket/internal/apperr"
)

// Issue 19, item 9: text PostgreSQL cannot hold (NUL in text, \u0000 in
// jsonb) is the client's bad input; other data errors stay internal.
func TestMapErrClassifiesTextPostgreSQLCannotHold(t *testing.T) {
	for code, want := range map[string]apperr.Kind{
		"22021": apperr.KindInvalid,  // invalid byte sequence for encoding "UTF8": 0x00
		"22P05": apperr.KindInvalid,  // unsupported Unicode escape sequence (jsonb)
		"22003": apperr.KindInternal, // numeric value out of range: our arithmetic
		"42P01": apperr.KindInternal,
	} {
		err := mapErr(&pgconn.PgError{Code: code, Message: "detail"}, "op")
		if got := apperr.KindOf(err); got != want {
			t.Errorf("SQLSTATE %s: kind %v, want %v (%v)", code, got, want, err)
		}
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) {
			t.Errorf("SQLSTATE %s: the cause is lost: %v", code, err)
		}
	}
}
