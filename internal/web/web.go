// Package web is the HTTP plumbing around the GraphQL handler: request ids,
// client origin, bearer authentication, body limits, panic recovery and the
// health endpoints.
package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"configmarket/internal/apperr"
	"configmarket/internal/identity"
)

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Origin records the request id (a sane incoming X-Request-Id or a new one),
// the client IP and user agent, and echoes the id in the response.
// X-Forwarded-For is believed only when the peer is one of the trusted
// proxies, and then only up to the first address they did not add.
func Origin(trusted []netip.Prefix) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := r.Header.Get("X-Request-Id")
			if !requestIDPattern.MatchString(id) {
				id = newRequestID()
			}
			w.Header().Set("X-Request-Id", id)
			o := identity.Origin{RequestID: id, UserAgent: r.UserAgent(), IP: clientIP(r, trusted)}
			next.ServeHTTP(w, r.WithContext(identity.WithOrigin(r.Context(), o)))
		})
	}
}

// clientIP is the peer address, or, behind trusted proxies, the nearest
// address in X-Forwarded-For that no trusted proxy added.
func clientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, _ := netip.ParseAddr(host)
	ip = ip.Unmap()
	if !within(ip, trusted) {
		return ip
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			// A garbled header stops the walk at the last good address.
			return ip
		}
		ip = hop.Unmap()
		if !within(ip, trusted) {
			return ip
		}
	}
	return ip
}

func within(ip netip.Addr, nets []netip.Prefix) bool {
	for _, n := range nets {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Authenticator turns a bearer token into a checked viewer.
type Authenticator interface {
	Authenticate(ctx context.Context, bearer string) (identity.Viewer, error)
}

type authErrKey struct{}

// Authenticate attaches the viewer of a valid bearer token. A request
// without Authorization is anonymous; a request with a bad one is not
// silently downgraded to anonymous: the error is kept for the GraphQL layer
// to answer with (see AuthError).
func Authenticate(a Authenticator, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header := r.Header.Get("Authorization")
		if header == "" {
			next.ServeHTTP(w, r)
			return
		}
		ctx := r.Context()
		scheme, token, ok := strings.Cut(header, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			ctx = context.WithValue(ctx, authErrKey{}, error(apperr.Unauthenticated("Authorization must be \"Bearer <access token>\"")))
		} else if v, err := a.Authenticate(ctx, strings.TrimSpace(token)); err != nil {
			ctx = context.WithValue(ctx, authErrKey{}, err)
		} else {
			ctx = identity.WithViewer(ctx, v)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// AuthError is the reason the request's credentials were refused, if any.
func AuthError(ctx context.Context) error {
	err, _ := ctx.Value(authErrKey{}).(error)
	return err
}

// RefuseBadCredentials answers an operation whose request carried refused
// credentials with that refusal alone, before anything runs, presented by
// present.
func RefuseBadCredentials(present graphql.ErrorPresenterFunc) graphql.OperationMiddleware {
	return func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		if err := AuthError(ctx); err != nil {
			return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{present(ctx, err)}})
		}
		return next(ctx)
	}
}

// LimitBody refuses bodies over max bytes; gqlgen would otherwise read any
// size into memory.
func LimitBody(max int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			writeJSONError(w, http.StatusRequestEntityTooLarge, "BAD_USER_INPUT", "request body is too large")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, max)
		next.ServeHTTP(w, r)
	})
}

// Deadline bounds each plain request to d, so a stuck dependency cannot
// hold a request (and its pooled connection) for longer; WebSocket upgrades
// live as long as their token and are left alone.
func Deadline(d time.Duration, next http.Handler) http.Handler {
	if d <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// Recover answers 500 instead of dropping the connection when a handler
// panics outside the GraphQL executor (which recovers on its own).
func Recover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				slog.ErrorContext(r.Context(), "panic in http handler", "panic", p, "stack", string(debug.Stack()),
					"request_id", identity.OriginFrom(r.Context()).RequestID)
				writeJSONError(w, http.StatusInternalServerError, "INTERNAL", "internal error")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func writeJSONError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []any{map[string]any{"message": msg, "extensions": map[string]any{"code": code}}},
	})
}

// Health serves /healthz (the process answers) and /readyz (it can serve:
// PostgreSQL reachable; Redis reported but optional).
type Health struct {
	Postgres func(context.Context) error
	// Cache reports the cache kind and its health.
	Cache     func(context.Context) error
	CacheKind string
	draining  atomic.Bool
}

// Drain makes /readyz answer 503 so load balancers stop sending traffic
// before shutdown.
func (h *Health) Drain() { h.draining.Store(true) }

func (h *Health) Live(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte("ok\n"))
}

func (h *Health) Ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	body := map[string]string{"status": "ok", "postgres": "ok", "cache": h.CacheKind}
	status := http.StatusOK
	if h.draining.Load() {
		body["status"], status = "draining", http.StatusServiceUnavailable
	}
	if err := h.Postgres(ctx); err != nil {
		slog.WarnContext(ctx, "readiness: postgres down", "err", err)
		body["status"], body["postgres"], status = "unavailable", "down", http.StatusServiceUnavailable
	}
	// The cache is optional: a broken Redis degrades speed, not correctness.
	if err := h.Cache(ctx); err != nil {
		slog.WarnContext(ctx, "readiness: cache down", "err", err)
		body["cache"] = h.CacheKind + " down"
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
