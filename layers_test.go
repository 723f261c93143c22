package main

import (
	"bytes"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
)

// A layer is the place a package holds in the one-way import graph of
// STYLE.md: server.go → resolvers → {dataloaders, internal/<domain>} →
// internal/store → pgx.
type layer int

const (
	layerMain       layer = iota + 1 // the composition root (server.go, internal/app)
	layerTool                        // binaries beside the server: cmd/, bench/
	layerAPI                         // GraphQL: gqlgen output, models, resolvers
	layerLoader                      // per-request loaders
	layerGraphQLMid                  // gqlgen middleware: limits, caches of documents and responses, the fast path
	layerWeb                         // plain HTTP handlers beside GraphQL
	layerDomain                      // business rules and authorization
	layerBase                        // small vocabularies any layer may use
	layerStore                       // the only code that speaks SQL
	layerRedis                       // the code that speaks Redis
	layerAuth                        // the only code that speaks JWT
	layerLive                        // the LISTEN/NOTIFY listener behind subscriptions
	layerObs                         // observability: it watches every client, so it imports them
	layerMigrations                  // the numbered SQL files and their runner
	layerTestHelper                  // packages only tests import
	layerData                        // demo and benchmark data
)

// layerOf names every package of the module. A package missing here fails
// TestLayers: the test denies by default, so a new package must say where it
// stands before it can import anything.
var layerOf = map[string]layer{
	"configmarket":                        layerMain,
	"configmarket/internal/app":           layerMain,
	"configmarket/bench":                  layerTool,
	"configmarket/cmd/probe":              layerTool,
	"configmarket/graph":                  layerAPI,
	"configmarket/graph/model":            layerAPI,
	"configmarket/resolvers":              layerAPI,
	"configmarket/dataloaders":            layerLoader,
	"configmarket/internal/fastpath":      layerGraphQLMid,
	"configmarket/internal/fieldcost":     layerGraphQLMid,
	"configmarket/internal/limits":        layerGraphQLMid,
	"configmarket/internal/opmemo":        layerGraphQLMid,
	"configmarket/internal/persisted":     layerGraphQLMid,
	"configmarket/internal/respcache":     layerGraphQLMid,
	"configmarket/internal/web":           layerWeb,
	"configmarket/internal/account":       layerDomain,
	"configmarket/internal/auditlog":      layerDomain,
	"configmarket/internal/catalog":       layerDomain,
	"configmarket/internal/commerce":      layerDomain,
	"configmarket/internal/earnings":      layerDomain,
	"configmarket/internal/idempotency":   layerDomain,
	"configmarket/internal/packages":      layerDomain,
	"configmarket/internal/pins":          layerDomain,
	"configmarket/internal/settings":      layerDomain,
	"configmarket/internal/apperr":        layerBase,
	"configmarket/internal/audit":         layerBase,
	"configmarket/internal/blob":          layerBase,
	"configmarket/internal/clock":         layerBase,
	"configmarket/internal/graphiql":      layerBase,
	"configmarket/internal/identity":      layerBase,
	"configmarket/internal/inn":           layerBase,
	"configmarket/internal/jobs":          layerBase,
	"configmarket/internal/money":         layerBase,
	"configmarket/internal/password":      layerBase,
	"configmarket/internal/probe":         layerBase,
	"configmarket/internal/relay":         layerBase,
	"configmarket/internal/webhook":       layerBase,
	"configmarket/operations":             layerBase,
	"configmarket/internal/store":         layerStore,
	"configmarket/internal/cache":         layerRedis,
	"configmarket/internal/ratelimit":     layerRedis,
	"configmarket/internal/auth":          layerAuth,
	"configmarket/internal/live":          layerLive,
	"configmarket/internal/obs":           layerObs,
	"configmarket/migrations":             layerMigrations,
	"configmarket/internal/app/apitest":   layerTestHelper,
	"configmarket/internal/blob/blobtest": layerTestHelper,
	"configmarket/internal/dbtest":        layerTestHelper,
	"configmarket/internal/factory":       layerTestHelper,
	"configmarket/internal/privacy":       layerTestHelper,
	"configmarket/internal/benchdata":     layerData,
	"configmarket/internal/demo":          layerData,
}

// A layerRule forbids packages of the layers in `in` to import what `guards`
// matches.
type layerRule struct {
	why    string
	in     map[layer]bool
	guards func(imp string) bool
}

// layerException excuses one import that breaks a rule today. Each one
// names the work that removes it; when that lands, the exception stops
// matching and TestLayers asks for it to be deleted, so the list only shrinks.
type layerException struct {
	pkg, imp, why string
}

var layerExceptions = []layerException{}

// TestLayers holds the layering of STYLE.md over every package of the
// module (their non-test imports, from one `go list`): only the store and the
// few packages that must (migrations, test helpers, the live listener,
// observability, demo and bench data, tools) speak pgx; only cache and
// ratelimit speak Redis; only auth speaks JWT; domain packages and the layers
// below them speak no GraphQL; resolvers and graph/model reach data through
// domain services and loaders, not the store or the HTTP handlers; imports
// point one way.
func TestLayers(t *testing.T) {
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	imports := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		imports[fields[0]] = fields[1:]
	}

	for _, v := range layerViolations(imports) {
		t.Error(v)
	}
}

// layerViolations returns every broken rule, unknown or vanished package and
// unused exception, one message each.
func layerViolations(imports map[string][]string) []string {
	const (
		pgx    = "github.com/jackc/pgx"
		gqlgen = "github.com/99designs/gqlgen"
		gqlpar = "github.com/vektah/gqlparser"
		jwt    = "github.com/golang-jwt/jwt"
		store  = "configmarket/internal/store"
		web    = "configmarket/internal/web"
	)
	redis := []string{"github.com/redis/go-redis", "github.com/go-redis"}
	rules := []layerRule{
		{"only the store, migrations, test helpers, the live listener, observability, demo/bench data and tools speak pgx",
			allLayersBut(layerStore, layerMigrations, layerTestHelper, layerLive, layerObs, layerData, layerTool),
			hasPrefix(pgx)},
		{"only internal/cache and internal/ratelimit speak Redis (internal/obs watches it)",
			allLayersBut(layerRedis, layerObs),
			hasPrefix(redis...)},
		{"only internal/auth speaks JWT",
			allLayersBut(layerAuth),
			hasPrefix(jwt)},
		{"GraphQL (gqlgen, gqlparser) is spoken above the domain only: domain packages and the layers below them do not",
			allLayersBut(layerMain, layerAPI, layerGraphQLMid, layerWeb, layerObs),
			hasPrefix(gqlgen, gqlpar)},
		{"graph, graph/model and resolvers reach data through domain services and loaders, not internal/store or internal/web",
			onlyLayers(layerAPI),
			hasPrefix(store, web)},
		{"imports point one way: domain packages import no GraphQL, loader or HTTP package",
			onlyLayers(layerDomain),
			inLayers(layerMain, layerAPI, layerLoader, layerGraphQLMid, layerWeb)},
		{"imports point one way: the store and the base vocabularies import no domain, GraphQL, loader or HTTP package",
			onlyLayers(layerStore, layerBase),
			inLayers(layerMain, layerAPI, layerLoader, layerGraphQLMid, layerWeb, layerDomain)},
	}

	var msgs []string
	used := map[layerException]bool{}
	pkgs := make([]string, 0, len(imports))
	for pkg := range imports {
		pkgs = append(pkgs, pkg)
	}
	sort.Strings(pkgs)
	for _, pkg := range pkgs {
		l, ok := layerOf[pkg]
		if !ok {
			msgs = append(msgs, "package "+pkg+" is unknown to layers_test.go: add it to layerOf with its layer")
			continue
		}
		for _, imp := range imports[pkg] {
			for _, r := range rules {
				if !r.in[l] || !r.guards(imp) {
					continue
				}
				if i := slices.IndexFunc(layerExceptions, func(e layerException) bool { return e.pkg == pkg && e.imp == imp }); i >= 0 {
					used[layerExceptions[i]] = true
					continue
				}
				msgs = append(msgs, pkg+" imports "+imp+": "+r.why)
			}
		}
	}
	for pkg := range layerOf {
		if _, ok := imports[pkg]; !ok {
			msgs = append(msgs, "layerOf names "+pkg+", which go list no longer reports: rename or delete it in layers_test.go")
		}
	}
	for _, e := range layerExceptions {
		if !used[e] {
			msgs = append(msgs, "the exception "+e.pkg+" → "+e.imp+" ("+e.why+") no longer breaks a rule: delete it from layerExceptions in layers_test.go")
		}
	}
	sort.Strings(msgs)
	return msgs
}

func allLayersBut(except ...layer) map[layer]bool {
	in := map[layer]bool{}
	for l := layerMain; l <= layerData; l++ {
		in[l] = !slices.Contains(except, l)
	}
	return in
}

func onlyLayers(ls ...layer) map[layer]bool {
	in := map[layer]bool{}
	for _, l := range ls {
		in[l] = true
	}
	return in
}

func hasPrefix(prefixes ...string) func(string) bool {
	return func(imp string) bool {
		for _, p := range prefixes {
			if imp == p || strings.HasPrefix(imp, p+"/") {
				return true
			}
		}
		return false
	}
}

func inLayers(ls ...layer) func(string) bool {
	return func(imp string) bool {
		l, ok := layerOf[imp]
		return ok && slices.Contains(ls, l)
	}
}
