// Command configmarket serves the Config Market GraphQL API. This file is the
// composition root: configuration from the environment, pools, services, the
// gqlgen server and HTTP. No other file reads the environment.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
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
	"github.com/jackc/pgx/v5"
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
	"configmarket/internal/blob"
	"configmarket/internal/cache"
	"configmarket/internal/catalog"
	"configmarket/internal/clock"
	"configmarket/internal/commerce"
	"configmarket/internal/demo"
	"configmarket/internal/earnings"
	"configmarket/internal/fastpath"
	"configmarket/internal/graphiql"
	"configmarket/internal/identity"
	"configmarket/internal/jobs"
	"configmarket/internal/limits"
	"configmarket/internal/live"
	"configmarket/internal/obs"
	"configmarket/internal/opmemo"
	"configmarket/internal/packages"
	"configmarket/internal/password"
	"configmarket/internal/persisted"
	"configmarket/internal/pins"
	"configmarket/internal/ratelimit"
	"configmarket/internal/respcache"
	"configmarket/internal/store"
	"configmarket/internal/web"
	"configmarket/internal/webhook"
	"configmarket/migrations"
	"configmarket/operations"
	"configmarket/resolvers"
)

// config is read from the environment only; README.md documents each variable.
type config struct {
	Env             string `env:"APP_ENV" envDefault:"development"`
	HTTPAddr        string `env:"HTTP_ADDR" envDefault:":8080"`
	DatabaseURL     string `env:"DATABASE_URL,required,notEmpty"`
	DatabaseMaxConn int32  `env:"DATABASE_MAX_CONNS" envDefault:"10"`
	// A request waits this long for a pooled connection, then gets
	// UNAVAILABLE: a saturated pool answers at once, it does not queue.
	DatabaseAcquireTimeout time.Duration `env:"DATABASE_ACQUIRE_TIMEOUT" envDefault:"1s"`
	RequestTimeout         time.Duration `env:"REQUEST_TIMEOUT" envDefault:"10s"`
	// The server's own queries run as a role that owns no table and is
	// bound by row-level security (migration 0014); DATABASE_URL only
	// migrates.
	AppDatabaseURL      string        `env:"APP_DATABASE_URL"`
	AppDatabasePassword string        `env:"APP_DATABASE_PASSWORD"`
	RedisURL            string        `env:"REDIS_URL"`
	CachePrefix         string        `env:"CACHE_KEY_PREFIX" envDefault:"cm:"`
	CacheDisabled       bool          `env:"CACHE_DISABLED" envDefault:"false"`
	JWTKeys             string        `env:"JWT_KEYS"`
	JWTIssuer           string        `env:"JWT_ISSUER" envDefault:"config-market"`
	JWTAudience         string        `env:"JWT_AUDIENCE" envDefault:"config-market-api"`
	AccessTokenTTL      time.Duration `env:"ACCESS_TOKEN_TTL" envDefault:"15m"`
	RefreshTokenTTL     time.Duration `env:"REFRESH_TOKEN_TTL" envDefault:"720h"`
	CORSOrigins         []string      `env:"CORS_ALLOWED_ORIGINS" envSeparator:"," envDefault:"http://localhost:3000,http://localhost:5173"`
	MaxBodyBytes        int64         `env:"MAX_BODY_BYTES" envDefault:"1048576"`
	DemoData            bool          `env:"DEMO_DATA" envDefault:"false"`
	ShutdownTimeout     time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"20s"`
	WebhookSecrets      []string      `env:"PAYMENT_WEBHOOK_SECRETS" envSeparator:","`
	WebhookSkew         time.Duration `env:"PAYMENT_WEBHOOK_TOLERANCE" envDefault:"5m"`
	JobsInterval        time.Duration `env:"JOBS_INTERVAL" envDefault:"30s"`
	JobsEnabled         bool          `env:"JOBS_ENABLED" envDefault:"true"`
	TrustedProxies      []string      `env:"TRUSTED_PROXIES" envSeparator:","`
	AdminNetworks       []string      `env:"ADMIN_NETWORKS" envSeparator:","`
	LogLevel            slog.Level    `env:"LOG_LEVEL" envDefault:"info"`
	APQTTL              time.Duration `env:"APQ_TTL" envDefault:"24h"`
	TrustedClients      []string      `env:"TRUSTED_DOCUMENT_CLIENTS" envSeparator:","`
	// GraphiQL unset: on in development, off in production.
	GraphiQL         *bool   `env:"GRAPHIQL"`
	MetricsAddr      string  `env:"METRICS_ADDR" envDefault:"127.0.0.1:9090"`
	OTLPEndpoint     string  `env:"OTEL_EXPORTER_OTLP_ENDPOINT"`
	OTELServiceName  string  `env:"OTEL_SERVICE_NAME" envDefault:"configmarket"`
	TraceSampleRatio float64 `env:"TRACE_SAMPLE_RATIO" envDefault:"1"`
	// Off: the storefront listing goes through gqlgen like every other
	// field (a switch should the fast path ever disagree with it).
	ListingFastPath bool `env:"LISTING_FAST_PATH" envDefault:"true"`
	// Packages: the largest one accepted, and the key that signs buyers'
	// backup links (base64, at least 32 bytes; the same on every instance).
	PackageMaxBytes int64  `env:"PACKAGE_MAX_BYTES" envDefault:"104857600"`
	PackageLinkKey  string `env:"PACKAGE_LINK_KEY"`
	// ObjectStoreURL, set, keeps packages in an S3-compatible object store
	// instead of PostgreSQL (s3://KEY:SECRET@host:port/bucket[/prefix]).
	ObjectStoreURL string `env:"OBJECT_STORE_URL"`
}

func (c config) production() bool { return c.Env == "production" }

func main() {
	// An uncached storefront page allocates half a megabyte (a few MB for
	// documents gqlgen executes itself); on a small live heap Go's default
	// GOGC=100 collects many times a second. 400 trades some peak RSS for
	// CPU: still 15–30 % less time per uncached page than 100 after the
	// allocation work (docs/performance-history.md). An explicit GOGC still decides.
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
	slog.SetDefault(slog.New(obs.NewLogHandler(slog.NewJSONHandler(os.Stderr, obs.LogOptions(cfg.LogLevel)))))
	tel, stopTracing, err := openTelemetry(ctx, cfg)
	if err != nil {
		return err
	}
	defer stopTracing()

	pool, err := openPostgres(ctx, cfg, tel)
	if err != nil {
		return err
	}
	defer pool.Close()
	tel.WatchPool(pool)
	if cfg.DemoData {
		if err := demo.Load(identity.AsSystem(ctx), pool); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
		slog.Info("demo data loaded", "password", demo.Password)
	}

	c, limiter, closeCache, err := openCache(cfg, tel)
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
	st := store.NewWithAcquireTimeout(pool, cfg.DatabaseAcquireTimeout)
	d := deps{
		store:  st,
		cache:  c,
		hasher: hasher,
		tokens: auth.NewTokens(keys, auth.Config{
			Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience,
			AccessTTL: cfg.AccessTokenTTL, Leeway: 30 * time.Second,
		}),
		refreshTTL:      cfg.RefreshTokenTTL,
		corsOrigins:     cfg.CORSOrigins,
		maxBodyBytes:    cfg.MaxBodyBytes,
		requestTimeout:  cfg.RequestTimeout,
		production:      cfg.production(),
		clock:           clock.System{},
		limiter:         limiter,
		webhookSecrets:  cfg.WebhookSecrets,
		webhookSkew:     cfg.WebhookSkew,
		apqTTL:          cfg.APQTTL,
		trustedClients:  cfg.TrustedClients,
		telemetry:       tel,
		graphiql:        cfg.GraphiQL == nil && !cfg.production() || cfg.GraphiQL != nil && *cfg.GraphiQL,
		listingByGqlgen: !cfg.ListingFastPath,
	}
	if d.trustedProxies, err = parseNetworks("TRUSTED_PROXIES", cfg.TrustedProxies); err != nil {
		return err
	}
	if d.adminNetworks, err = parseNetworks("ADMIN_NETWORKS", cfg.AdminNetworks); err != nil {
		return err
	}
	d.packageRules = packages.DefaultRules
	d.packageRules.MaxSize = cfg.PackageMaxBytes
	if d.linkKey, err = packageLinkKey(cfg); err != nil {
		return err
	}
	pgBlobs := st.Blobs()
	d.blobs = pgBlobs
	if cfg.ObjectStoreURL != "" {
		if d.blobs, err = blob.NewS3(ctx, cfg.ObjectStoreURL); err != nil {
			return fmt.Errorf("OBJECT_STORE_URL: %w", err)
		}
	}
	if cfg.DemoData {
		if err := demo.LoadPackages(identity.AsSystem(ctx), st, d.blobs); err != nil {
			return fmt.Errorf("demo packages: %w", err)
		}
	}
	a := newApp(d)
	go a.hub.Run(ctx)
	if cfg.JobsEnabled {
		go jobs.Run(ctx, cfg.JobsInterval, tel.Jobs(
			jobs.Task{Name: "billing", Run: func(ctx context.Context) error { _, err := a.commerce.RunBilling(ctx); return err }},
			jobs.Task{Name: "updates", Run: func(ctx context.Context) error { _, err := a.commerce.ProcessUpdates(ctx); return err }},
			jobs.Task{Name: "pins", Run: func(ctx context.Context) error { _, err := a.pins.ExpirePins(ctx); return err }},
			jobs.Task{Name: "statuses", Run: func(ctx context.Context) error { _, err := a.statuses.RunMonthly(ctx); return err }},
			// Chunks of uploads a process died in the middle of.
			jobs.Task{Name: "packages", Run: func(ctx context.Context) error {
				_, err := pgBlobs.DeleteAbandoned(ctx, time.Now(), abandonedUploadAge)
				return err
			}},
		)...)
	}
	if cfg.MetricsAddr != "" {
		go serveMetrics(ctx, cfg.MetricsAddr, tel)
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

// openTelemetry builds metrics and, when an OTLP endpoint is configured,
// tracing; the returned func flushes spans at exit.
func openTelemetry(ctx context.Context, cfg config) (*obs.Telemetry, func(), error) {
	if cfg.OTLPEndpoint == "" {
		return obs.New(obs.Options{}), func() {}, nil
	}
	tp, err := obs.NewTracerProvider(ctx, obs.TracingConfig{
		Endpoint: cfg.OTLPEndpoint, ServiceName: cfg.OTELServiceName, SampleRatio: cfg.TraceSampleRatio,
	})
	if err != nil {
		return nil, nil, err
	}
	slog.Info("tracing on", "otlp_endpoint", cfg.OTLPEndpoint, "sample_ratio", cfg.TraceSampleRatio)
	return obs.New(obs.Options{Tracing: tp}), func() {
		flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = tp.Shutdown(flushCtx)
	}, nil
}

// serveMetrics serves /metrics on its own listener: operation names, error
// rates and pool sizes are for the operators' network, not the internet,
// and scraping must keep working while the public listener drains.
func serveMetrics(ctx context.Context, addr string, tel *obs.Telemetry) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", tel.MetricsHandler())
	// Profiles on the operators' listener only, never the public one: how
	// docs/performance-history.md's profiles of a loaded server were taken.
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	slog.Info("serving metrics", "addr", addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		slog.Error("metrics listener stopped", "err", err)
	}
}

// openPostgres migrates the schema as the owner (DATABASE_URL) and returns a
// pool that connects as the server's role: APP_DATABASE_URL, or DATABASE_URL
// with the role and APP_DATABASE_PASSWORD swapped in.
func openPostgres(ctx context.Context, cfg config, tel *obs.Telemetry) (*pgxpool.Pool, error) {
	if err := migrate(ctx, cfg.DatabaseURL); err != nil {
		return nil, err
	}
	var pc *pgxpool.Config
	var err error
	if cfg.AppDatabaseURL != "" {
		if pc, err = pgxpool.ParseConfig(cfg.AppDatabaseURL); err != nil {
			return nil, fmt.Errorf("parse APP_DATABASE_URL: %w", err)
		}
	} else {
		if pc, err = pgxpool.ParseConfig(cfg.DatabaseURL); err != nil {
			return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
		}
		pc.ConnConfig.User, pc.ConnConfig.Password = migrations.AppRole, cfg.AppDatabasePassword
	}
	pc.MaxConns = cfg.DatabaseMaxConn
	store.ConfigureSessions(pc)
	pc.ConnConfig.Tracer = tel.SQLTracer()
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("connect postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect postgres as %s: %w", pc.ConnConfig.User, err)
	}
	return pool, nil
}

// migrate applies the schema over one owner connection.
func migrate(ctx context.Context, ownerURL string) error {
	conn, err := pgx.Connect(ctx, ownerURL)
	if err != nil {
		return fmt.Errorf("connect postgres to migrate: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return migrations.Migrate(ctx, conn)
}

// openCache uses Redis when configured and otherwise runs as a single
// instance with an in-process cache. CACHE_DISABLED keeps the rate limits
// and drops only the cache, to measure the uncached cost.
func openCache(cfg config, tel *obs.Telemetry) (cache.Cache, *ratelimit.Limiter, func(), error) {
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
		client.AddHook(tel.RedisHook())
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
	// loginBackoff is the first delay of failed logins (zero: the default).
	loginBackoff time.Duration
	// requestTimeout bounds every plain HTTP request (not WebSockets).
	requestTimeout time.Duration
	production     bool
	clock          clock.Clock
	limiter        *ratelimit.Limiter
	// trustedProxies may set X-Forwarded-For; adminNetworks, when set, are
	// the only networks admins work from.
	trustedProxies []netip.Prefix
	adminNetworks  []netip.Prefix
	// webhookSecrets are the payment provider's live signing secrets.
	webhookSecrets []string
	webhookSkew    time.Duration
	// apqTTL keeps a registered persisted query; trustedClients (by
	// Apollographql-Client-Name) may send only the mobile manifest's documents.
	apqTTL         time.Duration
	trustedClients []string
	// telemetry observes the server (nil: a private, untraced one);
	// graphiql serves the explorer at /graphiql.
	telemetry *obs.Telemetry
	graphiql  bool
	// listingByGqlgen turns the storefront listing's fast path off.
	listingByGqlgen bool
	// blobs keeps the packages (nil: PostgreSQL, in the store's pool);
	// packageRules bound them; linkKey signs backup links (nil: a random
	// key of this process, development only).
	blobs        blob.Store
	packageRules packages.Rules
	linkKey      []byte
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
	accounts *account.Service
	tel      *obs.Telemetry
	// listing is the storefront listing's fast path (nil when off).
	listing *fastpath.Listing
}

// responseStore is where whole answers are cached: the shared cache, with a
// copy of recent answers kept in the process when it is Redis, since a hit
// would otherwise fetch a storefront page (30 KB) over the network each
// time. Answers larger than 64 KB are only kept in Redis.
func responseStore(shared cache.Cache, tel *obs.Telemetry) cache.Cache {
	if shared.Kind() == "redis" {
		shared = cache.NewNear(shared, 256, 64<<10, respcache.TTL)
	}
	return tel.Cache(shared)
}

// abandonedUploadAge is when an unfinished package upload in PostgreSQL is
// taken for dead: longer than any upload may take (packageTransfer).
const abandonedUploadAge = 2 * time.Hour

// maxStreamsPerUser caps one user's simultaneous WebSocket connections.
const maxStreamsPerUser = 8

func newApp(d deps) *app {
	if d.telemetry == nil {
		d.telemetry = obs.New(obs.Options{})
	}
	tel := d.telemetry
	public := cache.NewGeneration(tel.Cache(d.cache), "public")
	accounts := account.New(d.store, d.hasher, d.tokens, d.refreshTTL, public)
	accounts.RestrictAdmins(d.adminNetworks)
	if d.loginBackoff > 0 {
		accounts.SetLoginBackoff(d.loginBackoff)
	}
	cat := catalog.New(d.store, public)
	com := commerce.New(d.store, cat, d.clock, commerce.DefaultRules, public)
	com.LimitLicenseChecks(func(ctx context.Context, key string) bool {
		ok, _ := d.limiter.Allow(ctx, key, licenseChecks, 1)
		return ok
	})
	if d.blobs == nil {
		d.blobs = d.store.Blobs()
	}
	if d.packageRules == (packages.Rules{}) {
		d.packageRules = packages.DefaultRules
	}
	if d.linkKey == nil {
		d.linkKey = randomKey()
	}
	cat.SetPackageMaxSize(d.packageRules.MaxSize)
	pkgs := packages.New(d.store, d.blobs, d.clock, d.packageRules, d.linkKey)
	root := &resolvers.Resolver{
		AccountService: accounts, CatalogService: cat, CommerceService: com,
		EarningsLedger: earnings.NewLedger(d.store), EarningsRates: earnings.NewRates(d.store, d.clock),
		EarningsPayouts: earnings.NewPayouts(d.store, d.clock), PinsService: pins.New(d.store, d.clock, pins.DefaultRules),
		EarningsStatuses:        earnings.NewStatuses(d.store, d.clock),
		EarningsPartnerStatuses: earnings.NewPartnerStatuses(d.store, d.clock),
		LiveHub:                 live.NewHub(d.store.Pool()),
		AuditLogService:         auditlog.New(d.store),
		PackagesService:         pkgs,
	}
	streams := web.NewStreams(maxStreamsPerUser)
	var listing *fastpath.Listing
	if !d.listingByGqlgen {
		listing = fastpath.New(root, cat)
	}
	gql := newGraphQL(d, root, listing, respcache.New(public, responseStore(d.cache, tel)), streams.Websocket(accounts, d.corsOrigins))

	health := &web.Health{Postgres: d.store.Ping, Cache: d.cache.Ping, CacheKind: d.cache.Kind()}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", health.Live)
	mux.HandleFunc("GET /readyz", health.Ready)
	c := cors.New(cors.Options{
		AllowedOrigins: d.corsOrigins,
		AllowedMethods: []string{http.MethodPost, http.MethodOptions},
		AllowedHeaders: []string{"Authorization", "Content-Type", "X-Request-Id", persisted.ClientNameHeader, "Apollographql-Client-Version"},
		ExposedHeaders: []string{"X-Request-Id"},
		MaxAge:         600,
	})
	mux.Handle("/graphql", c.Handler(web.LimitBody(d.maxBodyBytes, web.Deadline(d.requestTimeout,
		web.Authenticate(accounts, streams.Track(web.GraphQLOverHTTP(gql)))))))
	secrets := make([][]byte, len(d.webhookSecrets))
	for i, s := range d.webhookSecrets {
		secrets[i] = []byte(s)
	}
	verifier := webhook.NewVerifier(secrets, d.webhookSkew, d.clock.Now)
	mux.Handle("POST /webhooks/payments", web.PaymentWebhook(verifier, com))
	mux.Handle("/packages/", web.Packages(pkgs, com, accounts))
	if d.graphiql {
		explorer := graphiql.Handler("/graphiql")
		mux.Handle("GET /graphiql", explorer)
		mux.Handle("GET /graphiql/", explorer)
		mux.Handle("GET /{$}", http.RedirectHandler("/graphiql", http.StatusFound))
	}
	return &app{
		handler: web.Origin(d.trustedProxies)(tel.HTTP(web.Recover(mux))), health: health, commerce: com, pins: root.PinsService, accounts: accounts,
		statuses: root.EarningsStatuses, hub: root.LiveHub, streams: streams, tel: tel, listing: listing,
	}
}

func newGraphQL(d deps, root *resolvers.Resolver, listing *fastpath.Listing, responses *respcache.Cache, ws transport.Websocket) http.Handler {
	srv := handler.New(graph.NewExecutableSchema(graph.Config{Resolvers: root}))
	// Only OPTIONS and POST with a JSON body: GET, form, multipart and
	// text/plain requests are "simple" requests a foreign page can make
	// without a CORS preflight, so they stay out (CSRF).
	srv.AddTransport(transport.Options{})
	srv.AddTransport(web.POST{})
	srv.AddTransport(ws)
	// First, so it is the outermost extension and sees final responses.
	srv.Use(d.telemetry.GraphQL())
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	// Trusted documents first, so a refused document is never registered.
	srv.Use(persisted.NewTrusted(mobileManifest, d.trustedClients))
	srv.Use(extension.AutomaticPersistedQuery{Cache: persisted.NewDocuments(mobileManifest, d.cache, d.apqTTL)})
	// gqlgen's default is no limit; a flood of tokens is a cheap DoS.
	srv.SetParserTokenLimit(15_000)
	if d.production {
		srv.SetDisableSuggestion(true)
	} else {
		srv.Use(extension.Introspection{})
	}
	// The audit wraps the fields of mutation documents only: registered
	// with AroundFields it would wrap every field of every query, about
	// 12 % of an uncached storefront page (docs/performance-history.md).
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
	srv.SetErrorPresenter(d.telemetry.Presenter(resolvers.PresentError))
	srv.SetRecoverFunc(resolvers.Recover)

	sources := dataloaders.Sources{
		Accounts: root.AccountService, Catalog: root.CatalogService, Commerce: root.CommerceService, Payouts: root.EarningsPayouts, Ledger: root.EarningsLedger, Pins: root.PinsService,
		Packages: root.PackagesService,
	}
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		if err := web.AuthError(ctx); err != nil {
			return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{resolvers.PresentError(ctx, err)}})
		}
		return next(ctx)
	})
	// A NUL in any argument is refused before anything runs (PostgreSQL
	// cannot hold it in text); other bad scalars refuse themselves.
	srv.AroundOperations(resolvers.RefuseNUL)
	// Loaders per response: one per query, and one per event of a
	// subscription, so a long-lived stream never serves stale rows.
	srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		return next(dataloaders.With(ctx, dataloaders.New(sources, identity.FromContext(ctx))))
	})
	// Bounded documents: depth, aliases, cost and sensitive mutations are
	// checked before anything runs; the cost is reported like Shopify's.
	costs := opmemo.New[limits.Measure](1000)
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		m := costs.Of(graphql.GetOperationContext(ctx), limits.Of)
		err := limits.Defaults.Check(m)
		if err == nil && m.Introspection && d.production {
			// Refused whole, before execution, with a code of its own
			// rather than gqlgen's per-field internal error.
			err = apperr.Forbidden("introspection is disabled in production").WithCode("INTROSPECTION_DISABLED")
		}
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
	if listing != nil {
		// Registered last: innermost, so telemetry's root-field span and
		// everything above still wrap the fields it answers.
		srv.AroundRootFields(listing.RootField)
	}
	return srv
}

// mobileManifest is the mobile apps' trusted documents, embedded at build
// time; the tests keep it parseable and in step with operations/.
var mobileManifest = func() *persisted.Manifest {
	m, err := persisted.ParseManifest(operations.MobileManifest)
	if err != nil {
		panic(err)
	}
	return m
}()

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

// packageLinkKey is the key that signs backup links: PACKAGE_LINK_KEY, or
// in development a random key of this process (links then work on this
// instance only, until it restarts).
func packageLinkKey(cfg config) ([]byte, error) {
	if cfg.PackageLinkKey == "" {
		if cfg.production() {
			return nil, errors.New("PACKAGE_LINK_KEY is required in production")
		}
		return nil, nil
	}
	key, err := base64.StdEncoding.DecodeString(cfg.PackageLinkKey)
	if err != nil || len(key) < 32 {
		return nil, errors.New("PACKAGE_LINK_KEY must be base64 of at least 32 bytes")
	}
	return key, nil
}

func randomKey() []byte {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return key
}
