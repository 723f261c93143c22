package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	coderws "github.com/coder/websocket"
	"github.com/google/uuid"

	"configmarket/internal/identity"
	"configmarket/internal/live"
)

// CloseUnauthorized is sent when connection_init is refused: graphql-ws
// clients treat it as final instead of reconnecting in a storm.
const CloseUnauthorized = 4403

// Streams owns every WebSocket of the server so shutdown can end them:
// http.Server.Shutdown neither waits for nor closes hijacked connections.
type Streams struct {
	ctx    context.Context
	cancel context.CancelFunc

	mu        sync.Mutex
	perUser   map[uuid.UUID]int
	maxPerSub int
}

// NewStreams allows maxPerSubject simultaneous connections per user.
func NewStreams(maxPerSubject int) *Streams {
	ctx, cancel := context.WithCancel(context.Background())
	return &Streams{ctx: ctx, cancel: cancel, perUser: map[uuid.UUID]int{}, maxPerSub: maxPerSubject}
}

// CloseAll ends every stream (their sockets close normally); call it on shutdown.
func (s *Streams) CloseAll() { s.cancel() }

type streamKey struct{}

// CloseTryAgainLater (1013) tells a client it was dropped for reading too
// slowly; it may reconnect and start from a fresh snapshot.
const CloseTryAgainLater = 1013

type connKey struct{}

// socket holds a request's WebSocket once accepted, so a stream can close
// it with its own code (gqlgen closes only with 1000 or the init code).
type socket struct {
	mu   sync.Mutex
	conn transport.WebsocketConn
}

// trackingImplementation records each accepted socket in its request's context.
type trackingImplementation struct {
	transport.CoderWebsocketImplementation
}

func (t trackingImplementation) Accept(w http.ResponseWriter, r *http.Request, o transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	c, err := t.CoderWebsocketImplementation.Accept(w, r, o)
	if s, ok := r.Context().Value(connKey{}).(*socket); ok && err == nil {
		s.mu.Lock()
		s.conn = c
		s.mu.Unlock()
	}
	return c, err
}

// closeSlowReader closes the socket with 1013: its reader fell so far
// behind that one of its streams was dropped (live.OnSlowReader).
func (s *socket) closeSlowReader() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		_ = s.conn.WriteClose(CloseTryAgainLater, "reader too slow")
		_ = s.conn.Close()
	}
}

// Track gives each WebSocket request a context that ends with the server's
// streams or when its token expires (see Websocket).
func (s *Streams) Track(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") == "" {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		stop := context.AfterFunc(s.ctx, cancel)
		defer stop()
		ctx = context.WithValue(ctx, streamKey{}, cancel)
		sock := &socket{}
		ctx = live.OnSlowReader(context.WithValue(ctx, connKey{}, sock), sock.closeSlowReader)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// Websocket is the GraphQL WebSocket transport (graphql-transport-ws and the
// legacy graphql-ws): the token arrives in connection_init and is checked
// like a bearer header; a refusal closes with 4403; browsers' origins are
// checked against the same list as CORS.
func (s *Streams) Websocket(a Authenticator, origins []string) transport.Websocket {
	var patterns []string
	for _, o := range origins {
		if u, err := url.Parse(o); err == nil && u.Host != "" {
			patterns = append(patterns, u.Host)
		}
	}
	return transport.Websocket{
		Implementation: trackingImplementation{transport.CoderWebsocketImplementation{
			// SECURITY: a page from another origin may not open a socket
			// with the user's ambient credentials; coder/websocket refuses
			// any Origin not matching the host or these patterns.
			AcceptOptions: coderws.AcceptOptions{OriginPatterns: patterns},
		}},
		InitTimeout:           5 * time.Second,
		KeepAlivePingInterval: 15 * time.Second,
		PingPongInterval:      15 * time.Second,
		InitFunc: func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			token := strings.TrimSpace(strings.TrimPrefix(p.Authorization(), "Bearer"))
			if token == "" {
				return transport.WithWebsocketCloseCode(ctx, CloseUnauthorized), nil, errors.New("connection_init needs an Authorization bearer token")
			}
			v, err := a.Authenticate(ctx, token)
			if err != nil {
				return transport.WithWebsocketCloseCode(ctx, CloseUnauthorized), nil, errors.New("unauthorized")
			}
			if !s.admit(v.UserID) {
				return transport.WithWebsocketCloseCode(ctx, CloseUnauthorized), nil, errors.New("too many connections")
			}
			// The socket lives no longer than its token.
			if cancel, ok := ctx.Value(streamKey{}).(context.CancelFunc); ok && !v.ExpiresAt.IsZero() {
				t := time.AfterFunc(time.Until(v.ExpiresAt), cancel)
				context.AfterFunc(ctx, func() { t.Stop() })
			}
			// The ack carries nothing back: the init payload holds the token.
			return live.WithBudget(identity.WithViewer(ctx, v)), nil, nil
		},
		CloseFunc: func(ctx context.Context, _ int) {
			if v := identity.FromContext(ctx); !v.Anonymous() {
				s.leave(v.UserID)
			}
		},
	}
}

func (s *Streams) admit(user uuid.UUID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.perUser[user] >= s.maxPerSub {
		return false
	}
	s.perUser[user]++
	return true
}

func (s *Streams) leave(user uuid.UUID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.perUser[user]--; s.perUser[user] <= 0 {
		delete(s.perUser, user)
	}
}
