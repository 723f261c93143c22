package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRecoverAnswers500WithoutDetails(t *testing.T) {
	h := Recover(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("secret internal state")
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "secret") || !strings.Contains(rec.Body.String(), `"INTERNAL"`) {
		t.Fatalf("%d %s", rec.Code, rec.Body.String())
	}
}

func TestLimitBodyRefusesDeclaredOversize(t *testing.T) {
	called := false
	h := LimitBody(10, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("x", 11))))
	if rec.Code != http.StatusRequestEntityTooLarge || called {
		t.Fatalf("%d called=%v", rec.Code, called)
	}
}
