package store_test

import (
	"context"
	"strings"
	"testing"

	"configmarket/internal/apperr"
	"configmarket/internal/dbtest"
	"configmarket/internal/store"
)

// Issue 19, item 9: PostgreSQL refuses NUL in text; the store's refusal is
// the client's bad input (the second wall behind resolvers.RefuseNUL), and
// its message names no SQL.
func TestNULInTextIsBadInput(t *testing.T) {
	st := store.New(dbtest.Pool(t))
	_, err := st.CategoryBySlug(context.Background(), "crm\x00")
	if !apperr.Is(err, apperr.KindInvalid) {
		t.Fatalf("NUL in a text parameter: %v (kind %v), want invalid input", err, apperr.KindOf(err))
	}
	e, _ := apperr.As(err)
	if e.Message != "text must not contain NUL characters" || strings.Contains(e.Message, "SQLSTATE") {
		t.Fatalf("message %q", e.Message)
	}
	if !strings.Contains(err.Error(), "22021") {
		t.Fatalf("the cause is kept for the log: %v", err)
	}
}
