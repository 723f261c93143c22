package web

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
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

func TestClientIPTrustsForwardedForOnlyFromProxies(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	req := func(peer, xff string) *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = peer + ":1234"
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		return r
	}
	for _, tc := range []struct{ peer, xff, want string }{
		{"203.0.113.7", "1.2.3.4", "203.0.113.7"},                       // not a proxy: header ignored
		{"10.0.0.2", "198.51.100.9", "198.51.100.9"},                    // one trusted hop
		{"10.0.0.2", "6.6.6.6, 198.51.100.9, 10.0.0.5", "198.51.100.9"}, // a spoofed left part is skipped
		{"10.0.0.2", "garbage", "10.0.0.2"},
	} {
		if got := clientIP(req(tc.peer, tc.xff), proxies).String(); got != tc.want {
			t.Errorf("peer %s xff %q: %s, want %s", tc.peer, tc.xff, got, tc.want)
		}
	}
}
