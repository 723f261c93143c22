package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportsPointOneWay enforces the layering of STYLE.md: domain packages
// speak neither GraphQL, SQL drivers nor Redis; only store speaks pgx, only
// cache speaks Redis, only auth speaks JWT; resolvers reach data through
// domain services and loaders.
func TestImportsPointOneWay(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const (
		gqlgen = "github.com/99designs/gqlgen"
		pgx    = "github.com/jackc/pgx"
		redis  = "github.com/redis/go-redis"
		jwt    = "github.com/golang-jwt/jwt"
	)
	forbidden := map[string][]string{
		"configmarket/internal/account":     {gqlgen, pgx, redis, jwt},
		"configmarket/internal/catalog":     {gqlgen, pgx, redis, jwt},
		"configmarket/internal/commerce":    {gqlgen, pgx, redis, jwt},
		"configmarket/internal/earnings":    {gqlgen, pgx, redis, jwt},
		"configmarket/internal/pins":        {gqlgen, pgx, redis, jwt},
		"configmarket/internal/idempotency": {gqlgen, pgx, redis, jwt},
		"configmarket/internal/live":        {gqlgen, redis, jwt},
		"configmarket/internal/clock":       {gqlgen, pgx, redis, jwt},
		"configmarket/internal/webhook":     {gqlgen, pgx, redis, jwt},
		"configmarket/internal/jobs":        {gqlgen, pgx, redis, jwt},
		"configmarket/internal/identity":    {gqlgen, pgx, redis, jwt},
		"configmarket/internal/apperr":      {gqlgen, pgx, redis, jwt},
		"configmarket/internal/money":       {gqlgen, pgx, redis, jwt},
		"configmarket/internal/relay":       {gqlgen, pgx, redis, jwt},
		"configmarket/internal/fieldcost":   {gqlgen, pgx, redis, jwt, "configmarket/graph"},
		"configmarket/internal/graphiql":    {gqlgen, pgx, redis, jwt},
		"configmarket/internal/probe":       {gqlgen, pgx, redis, jwt},
		"configmarket/internal/store":       {gqlgen, redis, jwt, "configmarket/internal/account", "configmarket/internal/catalog"},
		"configmarket/internal/cache":       {gqlgen, pgx, jwt},
		"configmarket/internal/auth":        {gqlgen, pgx, redis},
		"configmarket/resolvers":            {pgx, redis, jwt},
		"configmarket/dataloaders":          {gqlgen, pgx, redis, jwt},
		"configmarket/internal/persisted":   {pgx, redis, jwt},
		"configmarket/operations":           {gqlgen, pgx, redis, jwt},
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, imports := fields[0], fields[1:]
		bans, ok := forbidden[pkg]
		if !ok {
			continue
		}
		checked++
		for _, imp := range imports {
			for _, ban := range bans {
				if strings.HasPrefix(imp, ban) {
					t.Errorf("%s imports %s", pkg, imp)
				}
			}
		}
	}
	if checked != len(forbidden) {
		t.Fatalf("checked %d of %d packages: a package was renamed?", checked, len(forbidden))
	}
}
