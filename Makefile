# GeniAI Analytics. `make` lists the targets; `make run` and `make test` are all a newcomer needs.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.ONESHELL:
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

GO        ?= go
DEV_DIR   := .data/dev
DEV_PORT  ?= 54320
TEST_DIR  := .data/test
TEST_PORT ?= 54329
# Streaming replicas of the dev and test clusters (DATABASE_READ_URL; the tests use a real one).
DEV_REPLICA_DIR  := .data/dev-replica
DEV_REPLICA_PORT ?= $(shell echo $$(( $(DEV_PORT) + 1 )))
TEST_REPLICA_DIR := .data/test-replica
TEST_REPLICA_PORT ?= $(shell echo $$(( $(TEST_PORT) + 1 )))
# go test's whole-run limit; a busy shared machine may need more (CI has the machine to itself)
GO_TEST_TIMEOUT ?= 30m
TOOLS_DIR := .data/tools
# make run's local mail catcher (used when SMTP_URL is not set): SMTP and its web page
MAIL_SMTP_PORT ?= 1025
MAIL_WEB_PORT  ?= 8025
BENCH_DIR := .data/bench
BENCH_PORT ?= 54328
# the bench cluster is sized like a small production server (fsync on); settings take effect on start
BENCH_PG_OPTS ?= -c shared_buffers=2GB -c effective_cache_size=8GB -c maintenance_work_mem=512MB -c max_wal_size=8GB -c checkpoint_timeout=15min -c wal_compression=on
SCALE     ?= full
# extra geniai-bench flags, e.g. BENCH_ARGS='--skip fuzz,isolation,whale --keep'
BENCH_ARGS ?=
# Citus (db/citus): a coordinator and two workers. The test cluster's ports follow TEST_PORT, so
# runs with different TEST_PORTs never share a cluster; override them all at once if needed.
CITUS_DIR  := .data/citus-test
CITUS_WEB_TESTS := ^(TestIsolationUnderLoad|TestStaffPagesAcrossClients|TestAdminRoleMatrix|TestClientComparison|TestClientComparisonPagesAndFilters|TestAuditReadsAsSentences|TestTenantSyncChart|TestStaffReadsTimesInOwnZone|TestStaffSeeLockedAndAttackedAccounts|TestAlertSettingsAndLog|TestStaffViewAsIsAudited|TestQueuePageAndAPI)$$
CITUS_TEST_PORT ?= $(shell echo $$(( $(TEST_PORT) + 1000 )))
CITUS_TEST_WORKER_PORTS ?= $(shell echo $$(( $(TEST_PORT) + 1100 )) $$(( $(TEST_PORT) + 1200 )))
# The bench's cluster, next to the single-node bench server (fsync on, like it).
CITUS_BENCH_DIR := .data/bench-citus
CITUS_BENCH_PORT ?= $(shell echo $$(( $(BENCH_PORT) + 1000 )))
CITUS_BENCH_WORKER_PORTS ?= $(shell echo $$(( $(BENCH_PORT) + 1100 )) $$(( $(BENCH_PORT) + 1200 )))
CITUS_BENCH_PG_OPTS ?= -c shared_buffers=1GB -c effective_cache_size=4GB -c maintenance_work_mem=256MB -c max_wal_size=4GB -c checkpoint_timeout=15min -c wal_compression=on
# make run/citus: a persistent local cluster beside the dev one.
CITUS_DEV_DIR := .data/citus-dev
CITUS_DEV_PORT ?= $(shell echo $$(( $(DEV_PORT) + 1000 )))
CITUS_DEV_WORKER_PORTS ?= $(shell echo $$(( $(DEV_PORT) + 1100 )) $$(( $(DEV_PORT) + 1200 )))
BIN       := bin/geniai
BENCH_BIN := bin/geniai-bench
SQUAWK    := $(TOOLS_DIR)/node_modules/.bin/squawk
AXE       := $(TOOLS_DIR)/node_modules/axe-core/axe.min.js
APT_PKGS  := postgresql-15 postgresql-contrib postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl chromium fonts-liberation
# Squawk rules we do not apply, and why:
#  prefer-bigint-over-int/smallint: columns mirror Chatwoot's integer ids and small enum codes.
#  prefer-robust-stmts: tern runs each migration in one transaction; it applies whole or not at all.
#  require-concurrent-index-creation/deletion: CONCURRENTLY cannot run in tern's transaction; an
#    index on a large existing table gets its own migration with tern's no-transaction header instead.
#  require-lock-timeout/statement-timeout: migrations run at deploy by an operator, not under load.
SQUAWK_EXCLUDE := prefer-bigint-over-int,prefer-bigint-over-smallint,prefer-robust-stmts,require-concurrent-index-creation,require-concurrent-index-deletion,require-lock-timeout,require-statement-timeout

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z/_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-14s %s\n", $$1, $$2}'

.PHONY: deps
deps: ## install what is missing: PostgreSQL 15, pgTAP, pg_prove (apt), squawk and axe-core (npm), Go modules
	missing=""
	for p in $(APT_PKGS) $(EXTRA_APT); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done
	if [ -n "$$missing" ]; then
		echo "installing:$$missing"
		sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo
		$$sudo apt-get update -qq
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing >/dev/null
	fi
	if [ ! -x $(SQUAWK) ] || [ ! -f $(AXE) ]; then
		mkdir -p $(TOOLS_DIR)
		# axe-core: the accessibility checker the browser tests run in Chromium.
		npm install --silent --no-audit --no-fund --prefix $(TOOLS_DIR) squawk-cli@2.66.0 axe-core@4.11.0 >/dev/null
	fi
	$(GO) mod download

SOURCES := $(shell find cmd internal db -name '*.go' -o -name '*.sql' -o -name '*.html' -o -name '*.css' -o -name '*.js' 2>/dev/null) go.mod go.sum
$(BIN): $(SOURCES)
	$(GO) build -o $(BIN) ./cmd/geniai

$(BENCH_BIN): $(SOURCES)
	$(GO) build -o $(BENCH_BIN) ./cmd/geniai-bench

.PHONY: build
build: $(BIN) ## build bin/geniai

.PHONY: run
run: ## run the product with demo data (a local PostgreSQL under .data/ unless DATABASE_URL is set)
	$(MAKE) deps APT_PKGS="postgresql-15 postgresql-contrib"
	$(MAKE) build
	if [ -z "$${DATABASE_URL:-}" ]; then
		db/pgcluster.sh start $(DEV_DIR) $(DEV_PORT)
		db/pgcluster.sh bootstrap $(DEV_DIR) geniai chatwoot
		db/pgcluster.sh replica $(DEV_DIR) $(DEV_REPLICA_DIR) $(DEV_REPLICA_PORT)
		set -a; . $(DEV_DIR)/env; set +a
		export DATABASE_READ_URL="$${DATABASE_URL/:$(DEV_PORT)\//:$(DEV_REPLICA_PORT)/}"
	fi
	$(BIN) migrate --quiet
	$(BIN) demo setup
	if [ -z "$${SMTP_URL:-}" ]; then
		# No SMTP server configured: e-mail goes to the local catcher, readable in a browser.
		$(BIN) mailcatcher --smtp 127.0.0.1:$(MAIL_SMTP_PORT) --http 127.0.0.1:$(MAIL_WEB_PORT) &
		trap "kill $$! 2>/dev/null || true" EXIT
		export SMTP_URL="smtp://127.0.0.1:$(MAIL_SMTP_PORT)?tls=none"
		export MAIL_FROM="$${MAIL_FROM:-GeniAI Analytics <noreply@geniai.localhost>}"
		listen="$${LISTEN_ADDR:-:8080}"
		export PUBLIC_URL="$${PUBLIC_URL:-http://localhost:$${listen##*:}}"
	fi
	$(BIN) serve

.PHONY: run/citus
run/citus: ## run the product with demo data on a local Citus cluster (a coordinator and two workers under .data/citus-dev)
	$(MAKE) deps EXTRA_APT=openssl
	$(MAKE) build
	db/citus/build.sh
	db/citus/cluster.sh start $(CITUS_DEV_DIR) $(CITUS_DEV_PORT) $(CITUS_DEV_WORKER_PORTS)
	db/citus/cluster.sh bootstrap $(CITUS_DEV_DIR) geniai chatwoot
	set -a; . $(CITUS_DEV_DIR)/env; set +a
	$(BIN) migrate --quiet
	$(BIN) db distribute --quiet
	$(BIN) demo setup
	exec $(BIN) serve

.PHONY: test
test: ## every check: gofmt, vet, sqlc diff and vet, squawk, sealed migrations, schema dump, pgTAP, go test -race (starts its own PostgreSQL)
	# Two full runs on one machine would fight over its cores (and race tests time out): a second
	# run waits for the first. flock -o keeps the lock out of the servers the run starts.
	if [ -z "$${GENIAI_TEST_LOCKED:-}" ]; then
		lock="$${TMPDIR:-/tmp}/geniai-make-test.lock"
		flock -n -o "$$lock" true || echo "make test: waiting for another make test on this machine"
		GENIAI_TEST_LOCKED=1 exec flock -o "$$lock" $(MAKE) test
	fi
	$(MAKE) deps
	cleanup=""
	if [ -z "$${TEST_DATABASE_URL:-}" ]; then
		# The throwaway cluster stops however the run ends, so a later run can take the port.
		cleanup="db/pgcluster.sh stop $(TEST_REPLICA_DIR); db/pgcluster.sh stop $(TEST_DIR)"
		trap "$$cleanup" EXIT
		# A fresh cluster every run: roles are cluster-wide, so one left by a killed run (a bench
		# test's bypass role, say) would otherwise show up in the schema dump's roles.
		db/pgcluster.sh stop $(TEST_DIR) 2>/dev/null || true
		rm -rf "$$(readlink -f $(TEST_DIR)/pg 2>/dev/null || true)" $(TEST_DIR)
		db/pgcluster.sh start $(TEST_DIR) $(TEST_PORT) --ephemeral
		db/pgcluster.sh bootstrap $(TEST_DIR) geniai_vet
		db/pgcluster.sh replica $(TEST_DIR) $(TEST_REPLICA_DIR) $(TEST_REPLICA_PORT) --ephemeral --fresh
		. $(TEST_REPLICA_DIR)/cluster.env
		export TEST_REPLICA_URL="$$PGSUPER_URL" TEST_REPLICA_DIR="$(CURDIR)/$(TEST_REPLICA_DIR)"
		. $(TEST_DIR)/env
		export TEST_DATABASE_URL="$$PGSUPER_URL" TEST_ROLE_PASSWORD
	fi
	echo "== gofmt"; out=$$(gofmt -l cmd internal db); [ -z "$$out" ] || { echo "gofmt needed:"; echo "$$out"; exit 1; }
	echo "== go vet"; $(GO) vet ./...
	echo "== sqlc diff"; $(GO) tool sqlc diff
	echo "== squawk"; $(MAKE) lint/migrations
	echo "== migrations sealed (append-only)"; db/seal.sh check
	echo "== migrate a fresh database for the schema dump, sqlc vet and pgTAP"
	vetdb=$$(psql "$$TEST_DATABASE_URL" -XAtqc "SELECT 'vet_' || to_char(clock_timestamp(), 'YYYYMMDDHH24MISSUS')")
	psql "$$TEST_DATABASE_URL" -Xqc "CREATE DATABASE $$vetdb OWNER geniai_owner"
	trap 'psql "$$TEST_DATABASE_URL" -Xqc "DROP DATABASE IF EXISTS $$vetdb WITH (FORCE)" >/dev/null; '"$$cleanup" EXIT
	owner_url=$$($(GO) run ./internal/pgtest/cmd/pgurl geniai_owner "$$vetdb")
	super_url=$$($(GO) run ./internal/pgtest/cmd/pgurl "" "$$vetdb")
	MIGRATION_DATABASE_URL="$$owner_url" $(GO) run ./cmd/geniai migrate --quiet
	echo "== schema dump (db/schema)"
	schemadir=$$(mktemp -d); trap 'rm -rf "$$schemadir"; psql "$$TEST_DATABASE_URL" -Xqc "DROP DATABASE IF EXISTS $$vetdb WITH (FORCE)" >/dev/null; '"$$cleanup" EXIT
	$(GO) run ./internal/pgtest/cmd/schemadump "$$super_url" "$$schemadir"
	diff -ru --label db/schema --label 'fresh migrate' db/schema "$$schemadir" || {
		echo "db/schema/ is not the schema the migrations produce: run \`make db/schema\` and commit db/schema/"
		echo "(after a rebase onto new migrations, too)."; exit 1; }
	echo "== sqlc vet"; VET_DATABASE_URL="$$owner_url" $(GO) tool sqlc vet
	echo "== pgTAP"; db/tests/run.sh "$$super_url"
	echo "== go test"; TEST_ARTIFACTS=$(CURDIR)/test-artifacts $(GO) test -race -count=1 -timeout $(GO_TEST_TIMEOUT) ./...
	echo "== Citus"; $(MAKE) test/citus

.PHONY: test/citus
test/citus: ## the Citus suite on a throwaway coordinator and two workers (builds Citus once)
	$(MAKE) deps EXTRA_APT=openssl
	db/citus/build.sh
	start=$$(date +%s)
	# A throwaway cluster: removed before and after, stopped however the run ends.
	db/citus/cluster.sh stop $(CITUS_DIR) 2>/dev/null || true
	rm -rf "$$(readlink -f $(CITUS_DIR)/nodes 2>/dev/null || true)" $(CITUS_DIR)
	trap 'db/citus/cluster.sh stop $(CITUS_DIR); rm -rf "$$(readlink -f $(CITUS_DIR)/nodes)" $(CITUS_DIR)' EXIT
	db/citus/cluster.sh start $(CITUS_DIR) $(CITUS_TEST_PORT) $(CITUS_TEST_WORKER_PORTS) --ephemeral
	db/citus/cluster.sh bootstrap $(CITUS_DIR) geniai_citus
	set -a; . $(CITUS_DIR)/env; set +a
	echo "== Citus: migrate and distribute"
	$(GO) run ./cmd/geniai migrate --quiet
	$(GO) run ./cmd/geniai db distribute --shards 8 --quiet
	super_url="postgres:///geniai_citus?host=$$PGCLUSTER_SOCKET&port=$$PGCLUSTER_PORT&user=postgres"
	# client_min_messages: Citus warns that the fixtures' temporary helpers stay on the coordinator
	echo "== Citus: pgTAP"; PGOPTIONS="-c client_min_messages=error" PGTAP_EXTRA=citus db/tests/run.sh "$$super_url"
	# Go tests that run on the cluster: one package at a time (a test database is a clone on every
	# node), no race detector (the single-node run has it). -tags citus adds the cluster's own tests.
	echo "== Citus: go test"
	export TEST_DATABASE_URL="$$PGSUPER_URL" TEST_CITUS_WORKER_URLS="$$CITUS_WORKER_URLS" TEST_CITUS_TLS="$$CITUS_BASE/tls"
	export TEST_ARTIFACTS=$(CURDIR)/test-artifacts
	$(GO) test -tags citus -p 1 -count=1 -timeout 30m -run 'TestCitus' ./internal/pg ./internal/bench
	# The ETL (oracle, incremental, deletions, rules, rollups), the e-mail queue and the alerts
	# (coordinator-local queues in transactions that also read tenants' shards).
	$(GO) test -tags citus -p 1 -count=1 -timeout 30m ./internal/etl ./internal/mail ./internal/alert
	# The dashboard (equality with plain SQL and the oracle, drill-downs, the queue, one worker per
	# tenant) and the digests. TestHistEncodingsAgree alters a column's storage, which Citus does
	# not support on a distributed table; it runs on the single node.
	$(GO) test -tags citus -p 1 -count=1 -timeout 30m -skip 'TestHistEncodingsAgree' ./internal/dashboard ./internal/digest
	# Isolation under load, the queue page, and the staff pages that read across clients (overview, comparison,
	# users, login watch, audit and its exports, sync history, alert log) over HTTP: there the
	# coordinator's platform tables meet tables distributed over the workers.
	$(GO) test -tags citus -p 1 -count=1 -timeout 30m -run '$(CITUS_WEB_TESTS)' ./internal/web
	echo "== Citus: done in $$(( $$(date +%s) - start )) s"

.PHONY: bench
bench: ## benchmark report in bench/results/ on its own PostgreSQL and Citus cluster: SCALE=full (100 tenants, 1M conversations), SCALE=clients (1,000 tenants, 1M), SCALE=medium (120k; the export at 100,000 rows) or SCALE=small
	$(MAKE) deps EXTRA_APT=openssl
	$(MAKE) build $(BENCH_BIN)
	db/citus/build.sh
	db/pgcluster.sh stop $(BENCH_DIR) 2>/dev/null || true
	db/citus/cluster.sh stop $(CITUS_BENCH_DIR) 2>/dev/null || true
	rm -rf "$$(readlink -f $(CITUS_BENCH_DIR)/nodes 2>/dev/null || true)" $(CITUS_BENCH_DIR)
	PGCLUSTER_OPTS='$(BENCH_PG_OPTS)' db/pgcluster.sh start $(BENCH_DIR) $(BENCH_PORT)
	trap 'db/pgcluster.sh stop $(BENCH_DIR); db/citus/cluster.sh stop $(CITUS_BENCH_DIR)' EXIT
	# The Citus cluster measured beside the single node (the citus phase), on the same machine.
	CITUS_CLUSTER_OPTS='$(CITUS_BENCH_PG_OPTS)' db/citus/cluster.sh start $(CITUS_BENCH_DIR) $(CITUS_BENCH_PORT) $(CITUS_BENCH_WORKER_PORTS)
	db/citus/cluster.sh bootstrap $(CITUS_BENCH_DIR) geniai_bench
	db/pgcluster.sh bootstrap $(BENCH_DIR) geniai chatwoot
	export CITUS_DATABASE_URL="$$(. $(CITUS_BENCH_DIR)/env; echo "$$DATABASE_URL")"
	export CITUS_MIGRATION_DATABASE_URL="$$(. $(CITUS_BENCH_DIR)/env; echo "$$MIGRATION_DATABASE_URL")"
	export CITUS_WORKERS=$(words $(CITUS_BENCH_WORKER_PORTS))
	set -a; . $(BENCH_DIR)/env; set +a
	$(BENCH_BIN) --scale $(SCALE) --out bench/results $(BENCH_ARGS)

.PHONY: bench/readme
bench/readme: $(BENCH_BIN) ## rewrite README's Numbers section from bench/results/latest.md
	$(BENCH_BIN) readme

.PHONY: lint/migrations
lint/migrations: ## squawk over the up part of every migration
	tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT
	for f in db/migrations/*.sql; do sed '/^---- create above \/ drop below ----/,$$d' $$f >$$tmp/$$(basename $$f); done
	NO_COLOR=1 $(SQUAWK) --pg-version=15.0 --exclude=$(SQUAWK_EXCLUDE) $$tmp/*.sql

.PHONY: generate
generate: ## regenerate Go from queries/ with sqlc
	$(GO) tool sqlc generate

.PHONY: verify
verify: ## fail when generated code drifted from queries/ and migrations
	$(GO) tool sqlc diff

.PHONY: db/migrate
db/migrate: ## migrate the dev database
	set -a; . $(DEV_DIR)/env; set +a; $(GO) run ./cmd/geniai migrate

.PHONY: db/new
db/new: ## new migration: make db/new name=add_something (then db/seal and db/schema when it is final)
	[ -n "$(name)" ] || { echo "usage: make db/new name=snake_case_name"; exit 2; }
	n=$$(ls db/migrations/[0-9]*.sql | wc -l); n=$$(printf '%03d' $$((n + 1)))
	f=db/migrations/$${n}_$(name).sql
	printf -- '-- %s\n\n---- create above / drop below ----\n\n' "$(name)" >$$f; echo $$f
	echo "write it; when it is final: make db/seal db/schema, and commit all three (docs/conventions.md)"

.PHONY: db/seal
db/seal: ## record the sha256 of new migrations in db/migrations.sum (shipped ones never change)
	db/seal.sh

.PHONY: db/schema
db/schema: ## regenerate db/schema/ (the current schema, one file per schema) from a fresh migrate
	cleanup=""
	if [ -z "$${TEST_DATABASE_URL:-}" ]; then
		# stop the test cluster afterwards only if this target started it
		started=$$(db/pgcluster.sh start $(TEST_DIR) $(TEST_PORT) --ephemeral 2>&1)
		case $$started in *"already running"*) ;; *) cleanup="db/pgcluster.sh stop $(TEST_DIR)" ;; esac
		db/pgcluster.sh bootstrap $(TEST_DIR) geniai_vet
		. $(TEST_DIR)/env
		export TEST_DATABASE_URL="$$PGSUPER_URL" TEST_ROLE_PASSWORD
	fi
	db=$$(psql "$$TEST_DATABASE_URL" -XAtqc "SELECT 'schema_' || to_char(clock_timestamp(), 'YYYYMMDDHH24MISSUS')")
	psql "$$TEST_DATABASE_URL" -Xqc "CREATE DATABASE $$db OWNER geniai_owner"
	trap 'psql "$$TEST_DATABASE_URL" -Xqc "DROP DATABASE IF EXISTS $$db WITH (FORCE)" >/dev/null; '"$$cleanup" EXIT
	MIGRATION_DATABASE_URL="$$($(GO) run ./internal/pgtest/cmd/pgurl geniai_owner "$$db")" $(GO) run ./cmd/geniai migrate --quiet
	$(GO) run ./internal/pgtest/cmd/schemadump "$$($(GO) run ./internal/pgtest/cmd/pgurl "" "$$db")" db/schema
	echo "db/schema/ regenerated"

.PHONY: db/psql
db/psql: ## psql into the dev database as its owner
	set -a; . $(DEV_DIR)/env; set +a; exec psql "$$MIGRATION_DATABASE_URL"

.PHONY: db/reset
db/reset: ## stop and delete the dev cluster (all local data)
	db/pgcluster.sh stop $(DEV_REPLICA_DIR); db/pgcluster.sh stop $(DEV_DIR); rm -rf $(DEV_REPLICA_DIR) $(DEV_DIR)

.PHONY: clean
clean: ## stop local clusters and remove build output
	for d in $(DEV_REPLICA_DIR) $(DEV_DIR) $(TEST_REPLICA_DIR) $(TEST_DIR); do db/pgcluster.sh stop $$d || true; done; rm -rf bin
	db/citus/cluster.sh stop $(CITUS_DEV_DIR) 2>/dev/null || true
