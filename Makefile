SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

# Local services (PostgreSQL + Redis) come from scripts/services.sh:
# it honours a preset DATABASE_URL / REDIS_URL, otherwise it starts private
# instances (state in .data/) and exports the URLs. The tests' S3-compatible
# object store (versitygw) comes from scripts/objectstore.sh, the same way
# (OBJECT_STORE_URL / CM_TEST_OBJECT_STORE_URL); `make stop` stops it too.

.PHONY: run test generate graphiql stop bench bench-smoke

run:
	source scripts/services.sh && DEMO_DATA=true go run .

test:
	export CM_TEST_CLUSTER=1 && source scripts/services.sh && source scripts/objectstore.sh && source scripts/node.sh && source scripts/chromium.sh && go test -race -count=1 ./...

# The load benchmark (docs/performance.md): loads the marketplace (once;
# 5-7 minutes), starts this server (-trimpath), PostGraphile and pgbench
# on the same database and prints one table. About 11 minutes after that.
bench:
	source scripts/services.sh && source scripts/bench.sh && mkdir -p .data/bench && \
		go build -trimpath -o .data/bench/configmarket . && go run ./bench

# The same harness on small data, 2 s per run, mostly at the fixed rate (CI).
bench-smoke:
	source scripts/services.sh && source scripts/bench.sh && mkdir -p .data/bench && \
		go build -trimpath -o .data/bench/configmarket . && go run ./bench -smoke -seconds 2 -out .data/bench/smoke.md

generate:
	go tool gqlgen generate

# Rebuilds the embedded GraphiQL bundle (internal/graphiql/assets) from the
# pinned packages in graphiql/package-lock.json; commit the result.
graphiql:
	cd graphiql && npm ci --no-audit --no-fund --loglevel=error && node build.mjs

stop:
	bash scripts/services.sh stop
