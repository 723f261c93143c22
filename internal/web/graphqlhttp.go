package web

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// GraphQLOverHTTP adjusts request-error responses to the GraphQL-over-HTTP
// spec's SHOULDs, which stock gqlgen misses: a document that does not parse
// or validate (gqlgen answers 422 or 400) has no "data" entry, and a client that
// accepts only application/json gets 200, since that media type cannot
// tell a request error from an execution error by status.
func GraphQLOverHTTP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Upgrade") != "" {
			next.ServeHTTP(w, r)
			return
		}
		limited := &rateMark{}
		rec := &recorder{w: w, status: http.StatusOK, limited: limited}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), rateKey{}, limited)))
		if rec.passing {
			return
		}
		if !rec.holding {
			// Nothing was written: the status alone.
			rec.start()
			return
		}
		body := withoutNullData(rec.body.Bytes())
		status := rec.status
		// 400 stays: the request itself (its JSON) was malformed.
		if status == http.StatusUnprocessableEntity && !acceptsGraphQLResponse(r.Header.Get("Accept")) {
			status = http.StatusOK
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		_, _ = w.Write(body)
	})
}

type rateKey struct{}

type rateMark struct{ retryAfter time.Duration }

// MarkRateLimited makes the response of ctx's request a 429 with
// Retry-After; the GraphQL body still carries RATE_LIMITED.
func MarkRateLimited(ctx context.Context, retryAfter time.Duration) {
	if m, ok := ctx.Value(rateKey{}).(*rateMark); ok {
		m.retryAfter = max(retryAfter, time.Second)
	}
}

// recorder holds back the body of a request error (400, 422), which
// GraphQLOverHTTP rewrites; any other answer passes straight through,
// under 429 when the operation spent its budget.
type recorder struct {
	w       http.ResponseWriter
	status  int
	limited *rateMark
	// passing: the status is written and writes go through; holding:
	// writes are kept in body.
	passing, holding bool
	body             bytes.Buffer
}

func (r *recorder) Header() http.Header    { return r.w.Header() }
func (r *recorder) WriteHeader(status int) { r.status = status }

func (r *recorder) Write(b []byte) (int, error) {
	if !r.passing && !r.holding {
		if r.status == http.StatusUnprocessableEntity || r.status == http.StatusBadRequest {
			r.holding = true
		} else {
			r.start()
		}
	}
	if r.holding {
		return r.body.Write(b)
	}
	return r.w.Write(b)
}

// start writes the status: a spent budget is an HTTP matter too, 429 and
// when to retry.
func (r *recorder) start() {
	r.passing = true
	if r.limited.retryAfter > 0 {
		r.status = http.StatusTooManyRequests
		r.w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(r.limited.retryAfter.Seconds()))))
	}
	r.w.WriteHeader(r.status)
}

// withoutNullData drops `"data": null` from a JSON response.
func withoutNullData(body []byte) []byte {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return body
	}
	if d, ok := m["data"]; !ok || string(d) != "null" {
		return body
	}
	delete(m, "data")
	out, err := json.Marshal(m)
	if err != nil {
		return body
	}
	return out
}

// acceptsGraphQLResponse reports whether the client prefers the
// application/graphql-response+json media type.
func acceptsGraphQLResponse(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "application/graphql-response+json" {
			return true
		}
	}
	return false
}
