// Command configmarket serves the Config Market GraphQL API. This file is the
// composition root: configuration from the environment, pools, services, the
// gqlgen server and HTTP. No other file reads the environment.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/caarlos0/env/v11"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/cors"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"configmarket/dataloaders"
	"configmarket/graph"
	"configmarket/internal/account"
	"configmarket/internal/apperr"
	"configmarket/internal/auditlog"
	"configmarket/internal/auth"
	"configmarket/internal/cache"
	"configmarket/internal/catalog"
	"configmarket/internal/clock"
	"configmarket/internal/commerce"
	"configmarket/internal/demo"
	"configmarket/internal/earnings"
	"configmarket/internal/identity"
	"configmarket/internal/jobs"
	"configmarket/internal/limits"
	"configmarket/internal/live"
	"configmarket/internal/password"
	"configmarket/internal/pins"
	"configmarket/internal/ratelimit"
	"configmarket/internal/respcache"
	"configmarket/internal/store"
	"configmarket/internal/web"
	"configmarket/internal/webhook"
	"configmarket/migrations"
	"configmarket/resolvers"
)

// config is read from the environment only; README.md documents each variable.
type config struct {
	Env             string        `env:"APP_ENV" envDefault:"development"`
	HTTPAddr        string        `env:"HTTP_ADDR" envDefault:":8080"`
	DatabaseURL     string        `env:"DATABASE_URL,required,notEmpty"`
	DatabaseMaxConn int32         `env:"DATABASE_MAX_CONNS" envDefault:"10"`
	RedisURL        string        `env:"REDIS_URL"`
	CachePrefix     string        `env:"CACHE_KEY_PREFIX" envDefault:"cm:"`
	CacheDisabled   bool          `env:"CACHE_DISABLED" envDefault:"false"`
	JWTKeys         string        `env:"JWT_KEYS"`
	JWTIssuer       string        `env:"JWT_ISSUER" envDefault:"config-market"`
	JWTAudience     string        `env:"JWT_AUDIENCE" envDefault:"config-market-api"`
	AccessTokenTTL  time.Duration `env:"ACCESS_TOKEN_TTL" envDefault:"15m"`
	RefreshTokenTTL time.Duration `env:"REFRESH_TOKEN_TTL" envDefault:"720h"`
	CORSOrigins     []string      `env:"CORS_ALLOWED_ORIGINS" envSeparator:"," envDefault:"http://localhost:3000,http://localhost:5173"`
	MaxBodyBytes    int64         `env:"MAX_BODY_BYTES" envDefault:"1048576"`
	DemoData        bool          `env:"DEMO_DATA" envDefault:"false"`
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"20s"`
	WebhookSecrets  []string      `env:"PAYMENT_WEBHOOK_SECRETS" envSeparator:","`
	WebhookSkew     time.Duration `env:"PAYMENT_WEBHOOK_TOLERANCE" envDefault:"5m"`
	JobsInterval    time.Duration `env:"JOBS_INTERVAL" envDefault:"30s"`
	JobsEnabled     bool          `env:"JOBS_ENABLED" envDefault:"true"`
	TrustedProxies  []string      `env:"TRUSTED_PROXIES" envSeparator:","`
	AdminNetworks   []string      `env:"ADMIN_NETWORKS" envSeparator:","`
	LogLevel        slog.Level    `env:"LOG_LEVEL" envDefault:"info"`
}

func (c config) production() bool { return c.Env == "production" }

func main() {
	// An uncached storefront page allocates a few MB (gqlgen builds a
	// field context per field); on a small live heap Go's default
	// GOGC=100 collects many times a second. 400 trades some peak RSS for
	// about a third less CPU per request (docs/performance.md). An
	// explicit GOGC still decides.
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(400)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx); err != nil {
		slog.Error("server stopped", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	cfg, err := env.ParseAs[config]()
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel})))

	pool, err := openPostgres(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	if cfg.DemoData {
		if err := demo.Load(ctx, pool); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
		slog.Info("demo data loaded", "password", demo.Password)
	}

	c, limiter, closeCache, err := openCache(cfg)
	if err != nil {
		return err
	}
	defer closeCache()

	keys, err := jwtKeys(cfg)
	if err != nil {
		return err
	}
	if len(cfg.WebhookSecrets) == 0 && cfg.production() {
		return errors.New("PAYMENT_WEBHOOK_SECRETS is required in production")
	}
	hasher, err := password.NewHasher(password.Default)
	if err != nil {
		return err
	}
	st := store.New(pool)
	d := deps{
		store:  st,
		cache:  c,
		hasher: hasher,
		tokens: auth.NewTokens(keys, auth.Config{
			Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience,
			AccessTTL: cfg.AccessTokenTTL, Leeway: 30 * time.Second,
		}),
		refreshTTL:     cfg.RefreshTokenTTL,
		corsOrigins:    cfg.CORSOrigins,
		maxBodyBytes:   cfg.MaxBodyBytes,
		production:     cfg.production(),
		clock:          clock.System{},
		limiter:        limiter,
		webhookSecrets: cfg.WebhookSecrets,
		webhookSkew:    cfg.WebhookSkew,
	}
	if d.trustedProxies, err = parseNetworks("TRUSTED_PROXIES", cfg.TrustedProxies); err != nil {
		return err
	}
	if d.adminNetworks, err = parseNetworks("ADMIN_NETWORKS", cfg.AdminNetworks); err != nil {
		return err
	}
	a := newApp(d)
	go a.hub.Run(ctx)
	if cfg.JobsEnabled {
		go jobs.Run(ctx, cfg.JobsInterval,
			jobs.Task{Name: "billing", Run: func(ctx context.Context) error { _, err := a.commerce.RunBilling(ctx); return err }},
			jobs.Task{Name: "updates", Run: func(ctx context.Context) error { _, err := a.commerce.ProcessUpdates(ctx); return err }},
			jobs.Task{Name: "pins", Run: func(ctx context.Context) error { _, err := a.pins.ExpirePins(ctx); return err }},
			jobs.Task{Name: "statuses", Run: func(ctx context.Context) error { _, err := a.statuses.RunMonthly(ctx); return err }},
		)
	}
	srv := &http.Server{
		Addr:              cfg.HTTPAddr,
		Handler:           a.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	return serve(ctx, srv, a, cfg.ShutdownTimeout)
}

func openPostgres(ctx context.Context, cfg config) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	pc.MaxConns = cfg.DatabaseMaxConn
	// Business time is UTC everywhere; the session agrees.
	pc.ConnConfig.RuntimeParams["timezone"] = "UTC"
	// No statement, lock wait or forgotten transaction may hold a
	// connection for long: a stuck request fails instead of starving the
	// pool. (LISTEN waits on a hijacked connection, outside statements.)
	pc.ConnConfig.RuntimeParams["statement_timeout"] = "10s"
	pc.ConnConfig.RuntimeParams["lock_timeout"] = "3s"
	pc.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = "15s"
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("connect postgres: %w", err)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect postgres: %w", err)
	}
	defer conn.Release()
	// Migrations may outlast the request timeouts set above.
	if _, err := conn.Exec(ctx, "set statement_timeout = 0; set lock_timeout = 0"); err != nil {
		pool.Close()
		return nil, fmt.Errorf("migration session: %w", err)
	}
	if err := migrations.Migrate(ctx, conn.Conn()); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// openCache uses Redis when configured and otherwise runs as a single
// instance with an in-process cache. CACHE_DISABLED keeps the rate limits
// and drops only the cache, to measure the uncached cost.
func openCache(cfg config) (cache.Cache, *ratelimit.Limiter, func(), error) {
	var c cache.Cache
	limiter, closeCache := ratelimit.New(nil, ""), func() {}
	if cfg.RedisURL == "" {
		slog.Info("REDIS_URL not set: single instance, in-process cache and rate limits")
		c = cache.NewMemory(10_000)
	} else {
		client, err := cache.NewRedisClient(cfg.RedisURL)
		if err != nil {
			return nil, nil, nil, err
		}
		c, limiter, closeCache = cache.NewRedis(client, cfg.CachePrefix), ratelimit.New(client, cfg.CachePrefix+"rate:"), func() { _ = client.Close() }
	}
	if cfg.CacheDisabled {
		slog.Warn("CACHE_DISABLED: every read goes to PostgreSQL")
		c = &cache.None{}
	}
	return c, limiter, closeCache, nil
}

// jwtKeys reads the signing keys. Development without keys gets a key that
// lives as long as the process; production refuses to start without them.
func jwtKeys(cfg config) (*auth.Keyset, error) {
	if cfg.JWTKeys != "" {
		return auth.ParseKeyset(cfg.JWTKeys)
	}
	if cfg.production() {
		return nil, errors.New("JWT_KEYS is required in production")
	}
	spec, err := auth.NewSeed(fmt.Sprintf("dev-%d", time.Now().Unix()))
	if err != nil {
		return nil, err
	}
	slog.Warn("JWT_KEYS not set: using a throwaway signing key; tokens end with the process")
	return auth.ParseKeyset(spec)
}

// deps are what the HTTP handler is built from; tests build it with their
// own database, cache and keys.
type deps struct {
	store        *store.Store
	cache        cache.Cache
	hasher       *password.Hasher
	tokens       *auth.Tokens
	refreshTTL   time.Duration
	corsOrigins  []string
	maxBodyBytes int64
	production   bool
	clock        clock.Clock
	limiter      *ratelimit.Limiter
	// trustedProxies may set X-Forwarded-For; adminNetworks, when set, are
	// the only networks admins work from.
	trustedProxies []netip.Prefix
	adminNetworks  []netip.Prefix
	// webhookSecrets are the payment provider's live signing secrets.
	webhookSecrets []string
	webhookSkew    time.Duration
}

// app is the assembled service: its HTTP handler, readiness, and the
// domain whose periodic jobs the server runs.
type app struct {
	handler  http.Handler
	health   *web.Health
	commerce *commerce.Service
	pins     *pins.Service
	statuses *earnings.Statuses
	hub      *live.Hub
	streams  *web.Streams
}

// maxStreamsPerUser caps one user's simultaneous WebSocket connections.
const maxStreamsPerUser = 8

func newApp(d deps) *app {
	public := cache.NewGeneration(d.cache, "public")
	accounts := account.New(d.store, d.hasher, d.tokens, d.refreshTTL, public)
	accounts.RestrictAdmins(d.adminNetworks)
	cat := catalog.New(d.store, public)
	com := commerce.New(d.store, cat, d.clock, commerce.DefaultRules, public)
	com.LimitLicenseChecks(func(ctx context.Context, key string) bool {
		ok, _ := d.limiter.Allow(ctx, key, licenseChecks, 1)
		return ok
	})
	root := &resolvers.Resolver{
		Accounts: accounts, Catalog: cat, Commerce: com,
		Ledger: earnings.NewLedger(d.store), RateBook: earnings.NewRates(d.store, d.clock),
		PayoutService: earnings.NewPayouts(d.store, d.clock), PinService: pins.New(d.store, d.clock),
		Statuses:        earnings.NewStatuses(d.store, d.clock),
		Hub:             live.NewHub(d.store.Pool()),
		AuditLogService: auditlog.New(d.store),
	}
	streams := web.NewStreams(maxStreamsPerUser)
	gql := newGraphQL(d, root, respcache.New(public), streams.Websocket(accounts, d.corsOrigins))

	health := &web.Health{Postgres: d.store.Ping, Cache: d.cache.Ping, CacheKind: d.cache.Kind()}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", health.Live)
	mux.HandleFunc("GET /readyz", health.Ready)
	c := cors.New(cors.Options{
		AllowedOrigins: d.corsOrigins,
		AllowedMethods: []string{http.MethodPost, http.MethodOptions},
		AllowedHeaders: []string{"Authorization", "Content-Type", "X-Request-Id"},
		ExposedHeaders: []string{"X-Request-Id"},
		MaxAge:         600,
	})
	mux.Handle("/graphql", c.Handler(web.LimitBody(d.maxBodyBytes, web.Authenticate(accounts, streams.Track(web.GraphQLOverHTTP(gql))))))
	secrets := make([][]byte, len(d.webhookSecrets))
	for i, s := range d.webhookSecrets {
		secrets[i] = []byte(s)
	}
	verifier := webhook.NewVerifier(secrets, d.webhookSkew, d.clock.Now)
	mux.Handle("POST /webhooks/payments", web.PaymentWebhook(verifier, com))
	return &app{
		handler: web.Recover(web.Origin(d.trustedProxies)(mux)), health: health, commerce: com, pins: root.PinService,
		statuses: root.Statuses, hub: root.Hub, streams: streams,
	}
}

func newGraphQL(d deps, root *resolvers.Resolver, responses *respcache.Cache, ws transport.Websocket) http.Handler {
	srv := handler.New(graph.NewExecutableSchema(graph.Config{Resolvers: root}))
	// Only OPTIONS and POST with a JSON body: GET, form, multipart and
	// text/plain requests are "simple" requests a foreign page can make
	// without a CORS preflight, so they stay out (CSRF).
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.POST{})
	srv.AddTransport(ws)
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	// gqlgen's default is no limit; a flood of tokens is a cheap DoS.
	srv.SetParserTokenLimit(15_000)
	if d.production {
		srv.SetDisableSuggestion(true)
	} else {
		srv.Use(extension.Introspection{})
	}
	// The audit wraps the fields of mutation documents only: registered
	// with AroundFields it would wrap every field of every query, about
	// 12 % of an uncached storefront page (docs/performance.md).
	audit := resolvers.AuditMutations(d.store)
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		if oc := graphql.GetOperationContext(ctx); oc.Operation != nil && oc.Operation.Operation == ast.Mutation {
			inner := oc.ResolverMiddleware
			oc.ResolverMiddleware = func(ctx context.Context, field graphql.Resolver) (any, error) {
				return audit(ctx, func(ctx context.Context) (any, error) { return inner(ctx, field) })
			}
		}
		return next(ctx)
	})
	srv.SetErrorPresenter(resolvers.PresentError)
	srv.SetRecoverFunc(resolvers.Recover)

	sources := dataloaders.Sources{
		Accounts: root.Accounts, Catalog: root.Catalog, Commerce: root.Commerce, Payouts: root.PayoutService, Pins: root.PinService,
	}
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		if err := web.AuthError(ctx); err != nil {
			return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{resolvers.PresentError(ctx, err)}})
		}
		return next(ctx)
	})
	// Loaders per response: one per query, and one per event of a
	// subscription, so a long-lived stream never serves stale rows.
	srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		return next(dataloaders.With(ctx, dataloaders.New(sources, identity.FromContext(ctx))))
	})
	// Bounded documents: depth, aliases, cost and sensitive mutations are
	// checked before anything runs; the cost is reported like Shopify's.
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		m := limits.Of(graphql.GetOperationContext(ctx))
		err := limits.Defaults.Check(m)
		if err == nil {
			// Every document spends its cost from its client's budget.
			if ok, retry := d.limiter.Allow(ctx, budgetKey(ctx), queryBudget, max(m.Cost, 1)); !ok {
				web.MarkRateLimited(ctx, retry)
				err = apperr.RateLimited("query budget spent; retry in %s", retry.Round(time.Second)).WithCode("RATE_LIMITED")
			}
		}
		if err != nil {
			return graphql.OneShot(&graphql.Response{
				Errors:     gqlerror.List{resolvers.PresentError(ctx, err)},
				Extensions: map[string]any{"cost": costReport(m)},
			})
		}
		h := next(ctx)
		return func(ctx context.Context) *graphql.Response {
			resp := h(ctx)
			if resp != nil {
				if resp.Extensions == nil {
					resp.Extensions = map[string]any{}
				}
				resp.Extensions["cost"] = costReport(m)
			}
			return resp
		}
	})
	srv.AroundOperations(responses.Middleware)
	return srv
}

func parseNetworks(name string, cidrs []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, c := range cidrs {
		if c = strings.TrimSpace(c); c == "" {
			continue
		}
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a CIDR range", name, c)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// queryBudget is each client's leaky bucket of query cost, like Shopify's:
// a burst of 10,000 (five maximal documents) refilled at 500 a second.
var queryBudget = ratelimit.Rule{Rate: 500, Burst: 10_000, Period: time.Second}

// licenseChecks bounds checks per license key and per client IP: a CRM
// checks a key a few times a minute; guessing keys needs millions.
var licenseChecks = ratelimit.Rule{Rate: 60, Burst: 120, Period: time.Minute}

// budgetKey is the logged-in subject, or the client IP for anonymous ones.
func budgetKey(ctx context.Context) string {
	if v := identity.FromContext(ctx); !v.Anonymous() {
		return "budget:user:" + v.UserID.String()
	}
	return "budget:ip:" + identity.OriginFrom(ctx).IP.String()
}

func costReport(m limits.Measure) map[string]any {
	return map[string]any{"requestedQueryCost": m.Cost, "maximumAvailable": limits.Defaults.MaxCost}
}

// serve runs srv until ctx ends, then drains: /readyz turns 503 first so a
// load balancer stops routing here, then in-flight requests finish.
func serve(ctx context.Context, srv *http.Server, a *app, grace time.Duration) error {
	errc := make(chan error, 1)
	go func() {
		slog.Info("serving", "addr", srv.Addr)
		errc <- srv.ListenAndServe()
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	slog.Info("shutting down")
	a.health.Drain()
	// Shutdown does not touch hijacked connections: end the streams
	// ourselves so subscribers get a normal close, not a reset.
	a.streams.CloseAll()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
