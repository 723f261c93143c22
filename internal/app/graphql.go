package app

import (
	"context"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"configmarket/dataloaders"
	"configmarket/graph"
	"configmarket/internal/fastpath"
	"configmarket/internal/identity"
	"configmarket/internal/limits"
	"configmarket/internal/persisted"
	"configmarket/internal/respcache"
	"configmarket/internal/web"
	"configmarket/operations"
	"configmarket/resolvers"
)

func newGraphQL(d Deps, root *resolvers.Resolver, listing *fastpath.Listing, responses *respcache.Cache, ws transport.Websocket) http.Handler {
	srv := handler.New(graph.NewExecutableSchema(graph.Config{Resolvers: root}))
	// Only OPTIONS and POST with a JSON body: GET, form, multipart and
	// text/plain requests are "simple" requests a foreign page can make
	// without a CORS preflight, so they stay out (CSRF).
	srv.AddTransport(transport.Options{})
	srv.AddTransport(web.POST{})
	srv.AddTransport(ws)
	// First, so it is the outermost extension and sees final responses.
	srv.Use(d.Telemetry.GraphQL())
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	// Trusted documents first, so a refused document is never registered.
	srv.Use(persisted.NewTrusted(mobileManifest, d.TrustedClients))
	srv.Use(extension.AutomaticPersistedQuery{Cache: persisted.NewDocuments(mobileManifest, d.Cache, d.APQTTL)})
	// gqlgen's default is no limit; a flood of tokens is a cheap DoS.
	srv.SetParserTokenLimit(15_000)
	if d.Production {
		srv.SetDisableSuggestion(true)
	} else {
		srv.Use(extension.Introspection{})
	}
	srv.AroundOperations(resolvers.AuditMutations(d.Store))
	srv.SetErrorPresenter(d.Telemetry.Presenter(resolvers.PresentError))
	srv.SetRecoverFunc(resolvers.Recover)

	sources := dataloaders.Sources{
		Accounts: root.AccountService, Catalog: root.CatalogService, Commerce: root.CommerceService, Payouts: root.EarningsPayouts, Ledger: root.EarningsLedger, Pins: root.PinsService,
		Packages: root.PackagesService,
	}
	srv.AroundOperations(web.RefuseBadCredentials(resolvers.PresentError))
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
	srv.AroundOperations(limits.Policy{
		Budget: d.Limiter, Production: d.Production, Present: resolvers.PresentError, RateLimited: web.MarkRateLimited,
	}.Middleware())
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
