package app

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"time"

	"configmarket/internal/auth"
	"configmarket/internal/blob"
	"configmarket/internal/cache"
	"configmarket/internal/clock"
	"configmarket/internal/demo"
	"configmarket/internal/identity"
	"configmarket/internal/obs"
	"configmarket/internal/packages"
	"configmarket/internal/password"
	"configmarket/internal/ratelimit"
	"configmarket/internal/store"
	"configmarket/migrations"
)

// Config is the server's configuration. server.go reads it from the
// environment, the variables the tags name (no other file reads the
// environment); README.md documents each variable.
type Config struct {
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

func (c Config) production() bool { return c.Env == "production" }

// resources are what Open opened for an App: its settings to serve with,
// and what Close releases, last opened first.
type resources struct {
	cfg    Config
	closes []func()
}

func (r *resources) onClose(f func()) { r.closes = append(r.closes, f) }

// Close releases what Open opened: the cache client, the pool, the tracer
// (flushing its spans). An App built by New owns nothing.
func (a *App) Close() {
	if a.opened == nil {
		return
	}
	for _, f := range slices.Backward(a.opened.closes) {
		f()
	}
	a.opened.closes = nil
}

// Open migrates the database, opens the pools and clients cfg names (demo
// data too, when asked for) and builds the App on them. Close releases them.
func Open(ctx context.Context, cfg Config) (_ *App, err error) {
	r := &resources{cfg: cfg}
	defer func() {
		if err != nil {
			(&App{opened: r}).Close()
		}
	}()
	tel, stopTracing, err := openTelemetry(ctx, cfg)
	if err != nil {
		return nil, err
	}
	r.onClose(stopTracing)

	if err := migrations.MigrateURL(ctx, cfg.DatabaseURL); err != nil {
		return nil, err
	}
	pool, err := store.OpenPool(ctx, poolConfig(cfg, tel))
	if err != nil {
		return nil, err
	}
	r.onClose(pool.Close)
	tel.WatchPool(pool)
	if cfg.DemoData {
		if err := demo.Load(identity.AsSystem(ctx), pool); err != nil {
			return nil, fmt.Errorf("demo data: %w", err)
		}
		slog.Info("demo data loaded", "password", demo.Password)
	}

	c, limiter, closeCache, err := openCache(cfg, tel)
	if err != nil {
		return nil, err
	}
	r.onClose(closeCache)

	keys, err := jwtKeys(cfg)
	if err != nil {
		return nil, err
	}
	if len(cfg.WebhookSecrets) == 0 && cfg.production() {
		return nil, errors.New("PAYMENT_WEBHOOK_SECRETS is required in production")
	}
	hasher, err := password.NewHasher(password.Default)
	if err != nil {
		return nil, err
	}
	st := store.NewWithAcquireTimeout(pool, cfg.DatabaseAcquireTimeout)
	d := Deps{
		Store:  st,
		Cache:  c,
		Hasher: hasher,
		Tokens: auth.NewTokens(keys, auth.Config{
			Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience,
			AccessTTL: cfg.AccessTokenTTL, Leeway: 30 * time.Second,
		}),
		RefreshTTL:      cfg.RefreshTokenTTL,
		CORSOrigins:     cfg.CORSOrigins,
		MaxBodyBytes:    cfg.MaxBodyBytes,
		RequestTimeout:  cfg.RequestTimeout,
		Production:      cfg.production(),
		Clock:           clock.System{},
		Limiter:         limiter,
		WebhookSecrets:  cfg.WebhookSecrets,
		WebhookSkew:     cfg.WebhookSkew,
		APQTTL:          cfg.APQTTL,
		TrustedClients:  cfg.TrustedClients,
		Telemetry:       tel,
		GraphiQL:        cfg.GraphiQL == nil && !cfg.production() || cfg.GraphiQL != nil && *cfg.GraphiQL,
		ListingByGqlgen: !cfg.ListingFastPath,
	}
	if d.TrustedProxies, err = parseNetworks("TRUSTED_PROXIES", cfg.TrustedProxies); err != nil {
		return nil, err
	}
	if d.AdminNetworks, err = parseNetworks("ADMIN_NETWORKS", cfg.AdminNetworks); err != nil {
		return nil, err
	}
	d.PackageRules = packages.DefaultRules
	d.PackageRules.MaxSize = cfg.PackageMaxBytes
	if d.LinkKey, err = packageLinkKey(cfg); err != nil {
		return nil, err
	}
	d.Blobs = st.Blobs()
	if cfg.ObjectStoreURL != "" {
		if d.Blobs, err = blob.NewS3(ctx, cfg.ObjectStoreURL); err != nil {
			return nil, fmt.Errorf("OBJECT_STORE_URL: %w", err)
		}
	}
	if cfg.DemoData {
		if err := demo.LoadPackages(identity.AsSystem(ctx), st, d.Blobs); err != nil {
			return nil, fmt.Errorf("demo packages: %w", err)
		}
	}
	a := New(d)
	a.opened = r
	return a, nil
}

// openTelemetry builds metrics and, when an OTLP endpoint is configured,
// tracing; the returned func flushes spans at exit.
func openTelemetry(ctx context.Context, cfg Config) (*obs.Telemetry, func(), error) {
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

// poolConfig connects as the server's role: APP_DATABASE_URL, or
// DATABASE_URL (which migrates, as the schema's owner) with the role and
// APP_DATABASE_PASSWORD swapped in.
func poolConfig(cfg Config, tel *obs.Telemetry) store.PoolConfig {
	pc := store.PoolConfig{MaxConns: cfg.DatabaseMaxConn, Tracer: tel.SQLTracer()}
	if cfg.AppDatabaseURL != "" {
		pc.URL, pc.URLFrom = cfg.AppDatabaseURL, "APP_DATABASE_URL"
	} else {
		pc.URL, pc.URLFrom = cfg.DatabaseURL, "DATABASE_URL"
		pc.User, pc.Password = migrations.AppRole, cfg.AppDatabasePassword
	}
	return pc
}

// openCache uses Redis when configured and otherwise runs as a single
// instance with an in-process cache. CACHE_DISABLED keeps the rate limits
// and drops only the cache, to measure the uncached cost.
func openCache(cfg Config, tel *obs.Telemetry) (cache.Cache, *ratelimit.Limiter, func(), error) {
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
func jwtKeys(cfg Config) (*auth.Keyset, error) {
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

// packageLinkKey is the key that signs backup links: PACKAGE_LINK_KEY, or
// in development a random key of this process (links then work on this
// instance only, until it restarts).
func packageLinkKey(cfg Config) ([]byte, error) {
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
