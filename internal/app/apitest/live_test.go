package apitest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	coderws "github.com/coder/websocket"
	"github.com/jackc/pgx/v5/pgxpool"

	"configmarket/internal/app"
	"configmarket/internal/factory"
	"configmarket/internal/store"
)

// wsClient speaks graphql-transport-ws, the protocol of the graphql-ws,
// Apollo and urql clients.
type wsClient struct {
	t    testing.TB
	conn *coderws.Conn
}

func dialWS(t testing.TB, base, origin string) (*wsClient, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	conn, res, err := coderws.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/graphql", &coderws.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: h,
	})
	if err != nil {
		return nil, res, err
	}
	t.Cleanup(func() { conn.CloseNow() })
	return &wsClient{t: t, conn: conn}, res, nil
}

func (c *wsClient) send(msg map[string]any) {
	c.t.Helper()
	b, _ := json.Marshal(msg)
	if err := c.conn.Write(context.Background(), coderws.MessageText, b); err != nil {
		c.t.Fatal(err)
	}
}

// next reads the next message that is not a ping/pong.
func (c *wsClient) next(timeout time.Duration) (map[string]any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		_, b, err := c.conn.Read(ctx)
		if err != nil {
			return nil, err
		}
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		if m["type"] == "ping" || m["type"] == "pong" || m["type"] == "ka" {
			continue
		}
		return m, nil
	}
}

func (c *wsClient) init(token string) {
	c.t.Helper()
	c.send(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}})
	m, err := c.next(5 * time.Second)
	if err != nil || m["type"] != "connection_ack" {
		c.t.Fatalf("init: %v %v", m, err)
	}
}

// secondInstance is another server on the same database: its own pool,
// listener and cache, as a second process would have.
func (s *Server) secondInstance(t *testing.T) *httptest.Server {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), s.Pool.Config().ConnString())
	if err != nil {
		t.Fatal(err)
	}
	d := s.Deps
	d.Store, d.Cache = store.New(pool), NewCache(t)
	a := app.New(d)
	ctx, stop := context.WithCancel(context.Background())
	go a.Hub().Run(ctx)
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() { a.Streams().CloseAll(); srv.Close(); stop(); pool.Close() })
	return srv
}

const commissionSubscription = `subscription { commissionAdded { sequence entry { amount { amount } rate } dayTotal { amount } monthTotal { amount } } }`

func TestCommissionEventCrossesInstances(t *testing.T) {
	w := newCommerceWorld(t)
	_, dealerToken := w.premiumDeveloperAndDealer(t)
	otherToken, _ := w.s.LogIn(t, factory.Partner(t, w.s.Store), nil)

	b := w.s.secondInstance(t)
	subscribe := func(token string) *wsClient {
		c, _, err := dialWS(t, b.URL, "")
		if err != nil {
			t.Fatal(err)
		}
		c.init(token)
		c.send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": commissionSubscription}})
		snap, err := c.next(5 * time.Second)
		if err != nil || snap["type"] != "next" {
			t.Fatalf("snapshot: %v %v", snap, err)
		}
		return c
	}
	dealerWS, otherWS := subscribe(dealerToken), subscribe(otherToken)

	// The payment is recorded through instance A.
	w.payRent(t)
	ev, err := dealerWS.next(5 * time.Second)
	if err != nil {
		t.Fatalf("dealer got no event: %v", err)
	}
	payload, _ := json.Marshal(ev["payload"])
	if !strings.Contains(string(payload), `"entry":{"amount":{"amount":"31.25"},"rate":"25%"}`) ||
		!strings.Contains(string(payload), `"dayTotal":{"amount":"31.25"}`) {
		t.Fatalf("dealer's event: %s", payload)
	}
	if m, err := otherWS.next(500 * time.Millisecond); err == nil {
		t.Fatalf("another partner received %v", m)
	}
}

func TestWebsocketRefusals(t *testing.T) {
	w := newCommerceWorld(t)
	access, _ := w.s.LogIn(t, factory.Partner(t, w.s.Store), nil)
	expired := validClaims(t, access)
	expired["exp"] = time.Now().Add(-time.Hour).Unix()
	for name, token := range map[string]string{
		"garbage token": "not-a-token", "no token": "",
		"expired token": signWith(t, jwtEdDSA, w.s.privateKey(t), "test-key", expired),
	} {
		t.Run(name, func(t *testing.T) {
			c, _, err := dialWS(t, w.s.URL, "")
			if err != nil {
				t.Fatal(err)
			}
			if token == "" {
				c.send(map[string]any{"type": "connection_init"})
			} else {
				c.send(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}})
			}
			_, err = c.next(5 * time.Second)
			for err == nil {
				_, err = c.next(5 * time.Second)
			}
			if code := coderws.CloseStatus(err); code != 4403 {
				t.Fatalf("close %d (%v), want 4403", code, err)
			}
		})
	}
	t.Run("foreign origin", func(t *testing.T) {
		if _, res, err := dialWS(t, w.s.URL, "https://evil.example"); err == nil || res == nil || res.StatusCode != http.StatusForbidden {
			t.Fatalf("foreign origin accepted: %v", err)
		}
	})
	t.Run("allowed origin", func(t *testing.T) {
		c, _, err := dialWS(t, w.s.URL, Origin)
		if err != nil {
			t.Fatalf("allowed origin refused: %v", err)
		}
		c.init(w.tokens["partner"])
	})
	t.Run("customer cannot subscribe to commissions", func(t *testing.T) {
		c, _, err := dialWS(t, w.s.URL, "")
		if err != nil {
			t.Fatal(err)
		}
		c.init(w.tokens["buyer"])
		c.send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": commissionSubscription}})
		m, err := c.next(5 * time.Second)
		b, _ := json.Marshal(m)
		if err != nil || (m["type"] != "error" && m["type"] != "next") || !strings.Contains(string(b), `"code":"FORBIDDEN"`) ||
			strings.Contains(string(b), "dayTotal") {
			t.Fatalf("customer subscription: %v %v", m, err)
		}
	})
}

func TestTokenExpiryAndShutdownCloseTheSocket(t *testing.T) {
	w := newCommerceWorld(t)
	// A token valid for one more second, for a live session.
	access, _ := w.s.LogIn(t, factory.Partner(t, w.s.Store), nil)
	claims := validClaims(t, access)
	claims["exp"] = time.Now().Add(time.Second).Unix()
	short := signWith(t, jwtEdDSA, w.s.privateKey(t), "test-key", claims)

	c, _, err := dialWS(t, w.s.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	c.init(short)
	c.send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": commissionSubscription}})
	start := time.Now()
	for err == nil {
		_, err = c.next(5 * time.Second)
	}
	if d := time.Since(start); d > 4*time.Second || coderws.CloseStatus(err) == -1 {
		t.Fatalf("socket not closed at token expiry: %v after %v", err, d)
	}

	// Shutdown closes the remaining streams normally.
	c2, _, err := dialWS(t, w.s.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	c2.init(w.tokens["partner"])
	w.s.App.Streams().CloseAll()
	for err == nil || coderws.CloseStatus(err) == -1 {
		if _, err = c2.next(5 * time.Second); err != nil {
			break
		}
	}
	if code := coderws.CloseStatus(err); code != coderws.StatusNormalClosure && code != coderws.StatusGoingAway {
		t.Fatalf("shutdown close %d (%v), want 1000 or 1001", code, err)
	}
}

func benchDial(b testing.TB, base string) *wsClient {
	c, _, err := dialWS(b, base, "")
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func TestSubscriptionsPerConnectionAreCapped(t *testing.T) {
	w := newCommerceWorld(t)
	c, _, err := dialWS(t, w.s.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	c.init(w.tokens["partner"])
	limited := 0
	for i := range 25 {
		c.send(map[string]any{"id": fmt.Sprint(i), "type": "subscribe", "payload": map[string]any{"query": commissionSubscription}})
	}
	for range 25 {
		m, err := c.next(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(m)
		if strings.Contains(string(b), "RATE_LIMITED") {
			limited++
		}
	}
	if limited != 5 {
		t.Fatalf("%d of 25 subscriptions refused, want 5 past the cap of 20", limited)
	}
}

func TestDeveloperActivityAndModerationQueue(t *testing.T) {
	w := newCommerceWorld(t)
	subscribe := func(token, query string) *wsClient {
		c, _, err := dialWS(t, w.s.URL, "")
		if err != nil {
			t.Fatal(err)
		}
		c.init(token)
		c.send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": query}})
		time.Sleep(100 * time.Millisecond) // the subscription is registered
		return c
	}
	devQuery := `subscription { developerActivity { kind installation { mode state licenseKey } configuration { slug } } }`
	dev := subscribe(w.tokens["developer"], devQuery)
	otherDev := subscribe(w.tokens["other developer"], devQuery)
	admin := subscribe(w.tokens["admin"], `subscription { moderationQueue { kind version { number } configuration { slug } } }`)

	trial := w.s.Do(t, w.tokens["buyer"], `mutation($c: ID!) { startTrial(input: {configurationId: $c}) { userErrors { code } } }`,
		map[string]any{"c": globalIDOf("Configuration", w.conf.ID)})
	if trial.Code() != "" {
		t.Fatal(trial.Raw)
	}
	m, err := dev.next(5 * time.Second)
	b, _ := json.Marshal(m)
	if err != nil || !strings.Contains(string(b), `"kind":"TRIAL_STARTED"`) || !strings.Contains(string(b), `"licenseKey":null`) ||
		!strings.Contains(string(b), w.conf.Slug) {
		t.Fatalf("developer activity: %s %v", b, err)
	}
	if m, err := otherDev.next(300 * time.Millisecond); err == nil {
		t.Fatalf("another developer heard %v", m)
	}

	// Submission needs a category.
	if _, err := w.s.Pool.Exec(context.Background(), `with c as (insert into categories (slug, name) values ('sales', 'Sales') returning id)
		update configurations set category_id = (select id from c) where id = $1`, w.conf.ID); err != nil {
		t.Fatal(err)
	}
	create := w.s.Do(t, w.tokens["developer"], `mutation($c: ID!) { createVersion(input: {configurationId: $c, number: "2.0.0", changelog: "next"}) { version { id } } }`,
		map[string]any{"c": globalIDOf("Configuration", w.conf.ID)})
	w.s.uploadPackage(t, w.tokens["developer"], str(create.Data, "createVersion", "version", "id"))
	submit := w.s.Do(t, w.tokens["developer"], `mutation($v: ID!) { submitVersion(input: {id: $v}) { version { state } userErrors { code message } } }`,
		map[string]any{"v": str(create.Data, "createVersion", "version", "id")})
	if str(submit.Data, "submitVersion", "version", "state") != "IN_REVIEW" {
		t.Fatalf("submit: %s", submit.Raw)
	}
	m, err = admin.next(5 * time.Second)
	b, _ = json.Marshal(m)
	if err != nil || !strings.Contains(string(b), `"kind":"SUBMITTED"`) || !strings.Contains(string(b), `"number":"2.0.0"`) {
		t.Fatalf("moderation queue: %s %v", b, err)
	}
}
