package apitest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestHealthAndReadiness(t *testing.T) {
	s := New(t)
	if res := s.raw(t, "GET", "/healthz", "", "", nil); res.status != 200 {
		t.Fatalf("healthz %d", res.status)
	}
	res := s.raw(t, "GET", "/readyz", "", "", nil)
	var body map[string]string
	_ = json.Unmarshal([]byte(res.body), &body)
	if res.status != 200 || body["postgres"] != "ok" || body["cache"] == "" {
		t.Fatalf("readyz %d %s", res.status, res.body)
	}
	s.Health.Drain()
	if res := s.raw(t, "GET", "/readyz", "", "", nil); res.status != http.StatusServiceUnavailable {
		t.Fatalf("draining readyz %d %s", res.status, res.body)
	}
}

// Only POST with a JSON body is a GraphQL request: browsers send GET, forms,
// multipart and text/plain cross-site without a preflight (CSRF).
func TestOnlyJSONPostIsAccepted(t *testing.T) {
	s := New(t)
	query := `{"query":"{ tariffPlans { code } }"}`
	if res := s.raw(t, "POST", "/graphql", "application/json", query, nil); res.status != 200 || !strings.Contains(res.body, `"code":"A"`) {
		t.Fatalf("json post: %d %s", res.status, res.body)
	}
	for name, tc := range map[string]struct{ method, ctype, body string }{
		"GET":        {"GET", "", ""},
		"form":       {"POST", "application/x-www-form-urlencoded", "query=%7B+tariffPlans+%7B+code+%7D+%7D"},
		"multipart":  {"POST", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"query\"\r\n\r\n{ tariffPlans { code } }\r\n--x--\r\n"},
		"text/plain": {"POST", "text/plain", query},
	} {
		t.Run(name, func(t *testing.T) {
			path := "/graphql"
			if tc.method == "GET" {
				path += "?query=%7B+tariffPlans+%7B+code+%7D+%7D"
			}
			res := s.raw(t, tc.method, path, tc.ctype, tc.body, nil)
			if res.status < 400 || strings.Contains(res.body, `"code":"A"`) {
				t.Fatalf("%s executed: %d %s", name, res.status, res.body)
			}
		})
	}
}

func TestBodySizeLimit(t *testing.T) {
	s := New(t)
	big := `{"query":"{ tariffPlans { code } }","variables":{"pad":"` + strings.Repeat("x", 70<<10) + `"}}`
	res := s.raw(t, "POST", "/graphql", "application/json", big, nil)
	if res.status != http.StatusRequestEntityTooLarge && res.status != http.StatusBadRequest {
		t.Fatalf("oversized body: %d %s", res.status, res.body[:min(200, len(res.body))])
	}
	if strings.Contains(res.body, `"code":"A"`) {
		t.Fatal("oversized body was executed")
	}
}

func TestCORSAllowsOnlyConfiguredOrigins(t *testing.T) {
	s := New(t)
	preflight := func(origin string) rawResponse {
		return s.raw(t, "OPTIONS", "/graphql", "", "", map[string]string{
			"Origin": origin, "Access-Control-Request-Method": "POST",
			"Access-Control-Request-Headers": "authorization,content-type",
		})
	}
	if got := preflight(Origin).header.Get("Access-Control-Allow-Origin"); got != Origin {
		t.Fatalf("allowed origin: %q", got)
	}
	if got := preflight("https://evil.example").header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Fatalf("foreign origin allowed: %q", got)
	}
}

func TestRequestIDIsEchoed(t *testing.T) {
	s := New(t)
	res := s.raw(t, "GET", "/healthz", "", "", map[string]string{"X-Request-Id": "abc-123"})
	if res.header.Get("X-Request-Id") != "abc-123" {
		t.Fatalf("request id %q", res.header.Get("X-Request-Id"))
	}
	res = s.raw(t, "GET", "/healthz", "", "", map[string]string{"X-Request-Id": "bad id\twith spaces"})
	if id := res.header.Get("X-Request-Id"); id == "" || strings.Contains(id, " ") {
		t.Fatalf("unsafe request id echoed: %q", id)
	}
}
