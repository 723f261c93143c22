// Package app is the composition root of Config Market: it opens the pools
// and clients its Config names, builds the services, the gqlgen server and
// the HTTP handler from them, runs the periodic jobs and shuts down
// gracefully. server.go reads the environment into a Config and calls Open;
// the API tests build an App from their own Deps with New.
package app

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/netip"
	"time"

	"github.com/rs/cors"

	"configmarket/internal/account"
	"configmarket/internal/auditlog"
	"configmarket/internal/auth"
	"configmarket/internal/blob"
	"configmarket/internal/cache"
	"configmarket/internal/catalog"
	"configmarket/internal/clock"
	"configmarket/internal/commerce"
	"configmarket/internal/earnings"
	"configmarket/internal/fastpath"
	"configmarket/internal/graphiql"
	"configmarket/internal/jobs"
	"configmarket/internal/limits"
	"configmarket/internal/live"
	"configmarket/internal/obs"
	"configmarket/internal/packages"
	"configmarket/internal/password"
	"configmarket/internal/persisted"
	"configmarket/internal/pins"
	"configmarket/internal/ratelimit"
	"configmarket/internal/respcache"
	"configmarket/internal/settings"
	"configmarket/internal/store"
	"configmarket/internal/web"
	"configmarket/internal/webhook"
	"configmarket/resolvers"
)

// Deps are what the HTTP handler is built from; Open builds them from a
// Config, tests with their own database, cache and keys.
type Deps struct {
	Store        *store.Store
	Cache        cache.Cache
	Hasher       *password.Hasher
	Tokens       *auth.Tokens
	RefreshTTL   time.Duration
	CORSOrigins  []string
	MaxBodyBytes int64
	// LoginBackoff is the first delay of failed logins (zero: the default).
	LoginBackoff time.Duration
	// RequestTimeout bounds every plain HTTP request (not WebSockets).
	RequestTimeout time.Duration
	Production     bool
	Clock          clock.Clock
	Limiter        *ratelimit.Limiter
	// TrustedProxies may set X-Forwarded-For; AdminNetworks, when set, are
	// the only networks admins work from.
	TrustedProxies []netip.Prefix
	AdminNetworks  []netip.Prefix
	// WebhookSecrets are the payment provider's live signing secrets.
	WebhookSecrets []string
	WebhookSkew    time.Duration
	// APQTTL keeps a registered persisted query; TrustedClients (by
	// Apollographql-Client-Name) may send only the mobile manifest's documents.
	APQTTL         time.Duration
	TrustedClients []string
	// Telemetry observes the server (nil: a private, untraced one);
	// GraphiQL serves the explorer at /graphiql.
	Telemetry *obs.Telemetry
	GraphiQL  bool
	// ListingByGqlgen turns the storefront listing's fast path off.
	ListingByGqlgen bool
	// Blobs keeps the packages (nil: PostgreSQL, in the store's pool);
	// PackageRules bound them; LinkKey signs backup links (nil: a random
	// key of this process, development only).
	Blobs        blob.Store
	PackageRules packages.Rules
	LinkKey      []byte
}

// App is the assembled service: its HTTP handler, readiness, and the
// domain whose periodic jobs the server runs.
type App struct {
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
	// pgBlobs are the package chunks kept in PostgreSQL, whatever keeps
	// the finished packages: the jobs sweep abandoned uploads there.
	pgBlobs *store.Blobs
	// opened is what Open opened, closed by Close (nil: built by New).
	opened *resources
}

// Handler serves the API: GraphQL, health, webhooks, packages, exports,
// GraphiQL.
func (a *App) Handler() http.Handler { return a.handler }

// Health is the readiness that a drain flips to 503.
func (a *App) Health() *web.Health { return a.health }

// Commerce runs billing and updates (tests run its jobs at a moved time).
func (a *App) Commerce() *commerce.Service { return a.commerce }

// Pins expires overdue version pins (tests run its job at a moved time).
func (a *App) Pins() *pins.Service { return a.pins }

// Statuses recompute customers' and partners' statuses.
func (a *App) Statuses() *earnings.Statuses { return a.statuses }

// Accounts logs users in.
func (a *App) Accounts() *account.Service { return a.accounts }

// Hub fans database notifications out to subscriptions; it serves nothing
// until Run, which Serve starts.
func (a *App) Hub() *live.Hub { return a.hub }

// Streams are the open WebSocket connections.
func (a *App) Streams() *web.Streams { return a.streams }

// Listing is the storefront listing's fast path (nil when off).
func (a *App) Listing() *fastpath.Listing { return a.listing }

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

// New builds the application from d.
func New(d Deps) *App {
	if d.Telemetry == nil {
		d.Telemetry = obs.New(obs.Options{})
	}
	tel := d.Telemetry
	public := cache.NewGeneration(tel.Cache(d.Cache), "public")
	// Every rule with a number reads it from the settings when it applies.
	set := settings.New(d.Store, d.Clock)
	accounts := account.New(d.Store, d.Hasher, d.Tokens, d.RefreshTTL, public)
	accounts.UseSettings(set)
	accounts.RestrictAdmins(d.AdminNetworks)
	if d.LoginBackoff > 0 {
		accounts.SetLoginBackoff(d.LoginBackoff)
	}
	cat := catalog.New(d.Store, public)
	cat.UseSettings(set)
	com := commerce.New(d.Store, cat, d.Clock, commerce.DefaultRules, public)
	com.UseSettings(set)
	com.LimitLicenseChecks(func(ctx context.Context, key string) bool {
		ok, _ := d.Limiter.Allow(ctx, key, limits.LicenseChecks, 1)
		return ok
	})
	if d.Blobs == nil {
		d.Blobs = d.Store.Blobs()
	}
	if d.PackageRules == (packages.Rules{}) {
		d.PackageRules = packages.DefaultRules
	}
	if d.LinkKey == nil {
		d.LinkKey = randomKey()
	}
	cat.SetPackageMaxSize(d.PackageRules.MaxSize)
	pkgs := packages.New(d.Store, d.Blobs, d.Clock, d.PackageRules, d.LinkKey)
	payouts, statuses := earnings.NewPayouts(d.Store, d.Clock), earnings.NewStatuses(d.Store, d.Clock)
	payouts.UseSettings(set)
	statuses.UseSettings(set)
	pinsSvc := pins.New(d.Store, d.Clock, pins.DefaultRules)
	pinsSvc.UseSettings(set)
	root := &resolvers.Resolver{
		AccountService: accounts, CatalogService: cat, CommerceService: com,
		EarningsLedger: earnings.NewLedger(d.Store), EarningsRates: earnings.NewRates(d.Store, d.Clock),
		EarningsPayouts: payouts, PinsService: pinsSvc,
		EarningsStatuses:        statuses,
		EarningsPartnerStatuses: earnings.NewPartnerStatuses(d.Store, d.Clock),
		LiveHub:                 live.NewHub(d.Store.Pool()),
		AuditLogService:         auditlog.New(d.Store),
		PackagesService:         pkgs,
		SettingsService:         set,
	}
	streams := web.NewStreams(maxStreamsPerUser)
	var listing *fastpath.Listing
	if !d.ListingByGqlgen {
		listing = fastpath.New(root, cat)
	}
	gql := newGraphQL(d, root, listing, respcache.New(public, responseStore(d.Cache, tel)), streams.Websocket(accounts, d.CORSOrigins))

	health := &web.Health{Postgres: d.Store.Ping, Cache: d.Cache.Ping, CacheKind: d.Cache.Kind()}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", health.Live)
	mux.HandleFunc("GET /readyz", health.Ready)
	c := cors.New(cors.Options{
		AllowedOrigins: d.CORSOrigins,
		AllowedMethods: []string{http.MethodPost, http.MethodOptions},
		AllowedHeaders: []string{"Authorization", "Content-Type", "X-Request-Id", persisted.ClientNameHeader, "Apollographql-Client-Version"},
		ExposedHeaders: []string{"X-Request-Id"},
		MaxAge:         600,
	})
	mux.Handle("/graphql", c.Handler(web.LimitBody(d.MaxBodyBytes, web.Deadline(d.RequestTimeout,
		web.Authenticate(accounts, streams.Track(web.GraphQLOverHTTP(gql)))))))
	secrets := make([][]byte, len(d.WebhookSecrets))
	for i, s := range d.WebhookSecrets {
		secrets[i] = []byte(s)
	}
	verifier := webhook.NewVerifier(secrets, d.WebhookSkew, d.Clock.Now)
	mux.Handle("POST /webhooks/payments", web.PaymentWebhook(verifier, com))
	mux.Handle("/packages/", web.Packages(pkgs, com, accounts))
	mux.Handle("/exports/", web.Exports(root.EarningsLedger, root.EarningsPayouts, accounts))
	if d.GraphiQL {
		explorer := graphiql.Handler("/graphiql")
		mux.Handle("GET /graphiql", explorer)
		mux.Handle("GET /graphiql/", explorer)
		mux.Handle("GET /{$}", http.RedirectHandler("/graphiql", http.StatusFound))
	}
	return &App{
		handler: web.Origin(d.TrustedProxies)(tel.HTTP(web.Recover(mux))), health: health, commerce: com, pins: root.PinsService, accounts: accounts,
		statuses: root.EarningsStatuses, hub: root.LiveHub, streams: streams, tel: tel, listing: listing, pgBlobs: d.Store.Blobs(),
	}
}

// jobs are the periodic tasks the server runs beside the handler.
func (a *App) jobs() []jobs.Task {
	return a.tel.Jobs(
		jobs.Task{Name: "billing", Run: func(ctx context.Context) error { _, err := a.commerce.RunBilling(ctx); return err }},
		jobs.Task{Name: "updates", Run: func(ctx context.Context) error { _, err := a.commerce.ProcessUpdates(ctx); return err }},
		jobs.Task{Name: "pins", Run: func(ctx context.Context) error { _, err := a.pins.ExpirePins(ctx); return err }},
		jobs.Task{Name: "statuses", Run: func(ctx context.Context) error { _, err := a.statuses.RunMonthly(ctx); return err }},
		// Chunks of uploads a process died in the middle of.
		jobs.Task{Name: "packages", Run: func(ctx context.Context) error {
			_, err := a.pgBlobs.DeleteAbandoned(ctx, time.Now(), abandonedUploadAge)
			return err
		}},
	)
}

func randomKey() []byte {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return key
}
