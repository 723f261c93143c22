SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

# Local services (PostgreSQL + Redis) come from scripts/services.sh:
# it honours a preset DATABASE_URL / REDIS_URL, otherwise it starts private
# instances (state in .data/) and exports the URLs.

.PHONY: run test generate graphiql stop

run:
	source scripts/services.sh && DEMO_DATA=true go run .

test:
	export CM_TEST_CLUSTER=1 && source scripts/services.sh && source scripts/node.sh && source scripts/chromium.sh && go test -race -count=1 ./...

generate:
	go tool gqlgen generate

# Rebuilds the embedded GraphiQL bundle (internal/graphiql/assets) from the
# pinned packages in graphiql/package-lock.json; commit the result.
graphiql:
	cd graphiql && npm ci --no-audit --no-fund --loglevel=error && node build.mjs

stop:
	bash scripts/services.sh stop
