package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Answers pass through as written, a spent budget turns them into a 429
// with Retry-After, and request errors are held back and rewritten.
func TestGraphQLOverHTTPPassesAnswersAndRewritesRequestErrors(t *testing.T) {
	cases := []struct {
		name       string
		handler    http.HandlerFunc
		wantStatus int
		wantBody   string
		wantRetry  string
	}{
		{"answer in parts", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Length", "16")
			_, _ = w.Write([]byte(`{"data":`))
			_, _ = w.Write([]byte(`{"a":1}`))
			_, _ = w.Write([]byte(`}`))
		}, http.StatusOK, `{"data":{"a":1}}`, ""},
		{"budget spent", func(w http.ResponseWriter, r *http.Request) {
			MarkRateLimited(r.Context(), 1500*time.Millisecond)
			_, _ = w.Write([]byte(`{"errors":[{"message":"spent"}],"data":null}`))
		}, http.StatusTooManyRequests, `{"errors":[{"message":"spent"}],"data":null}`, "2"},
		{"invalid document", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusUnprocessableEntity)
			_, _ = w.Write([]byte(`{"errors":[{"message":"no such field"}],`))
			_, _ = w.Write([]byte(`"data":null}`))
		}, http.StatusOK, `{"errors":[{"message":"no such field"}]}`, ""},
		{"status only", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusNoContent)
		}, http.StatusNoContent, "", ""},
	}
	for _, c := range cases {
		srv := httptest.NewServer(GraphQLOverHTTP(c.handler))
		res, err := http.Post(srv.URL, "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		body := string(raw)
		if res.StatusCode != c.wantStatus || body != c.wantBody || res.Header.Get("Retry-After") != c.wantRetry {
			t.Errorf("%s: %d %q Retry-After %q, want %d %q %q", c.name, res.StatusCode, body, res.Header.Get("Retry-After"),
				c.wantStatus, c.wantBody, c.wantRetry)
		}
		if c.name == "answer in parts" && (len(res.TransferEncoding) > 0 || res.ContentLength != 16) {
			t.Errorf("%s: sent %v, length %d; want the announced length", c.name, res.TransferEncoding, res.ContentLength)
		}
		srv.Close()
	}
}
