#!/usr/bin/env bash
# replay-history.sh — do databases migrated in the past converge to today's schema?
#
#   TEST_DATABASE_URL=... TEST_ROLE_PASSWORD=... db/replay-history.sh
#
# For every commit that touched db/migrations, a database is migrated with that commit's files
# (as a deploy then would have), then with today's files numbered above what it has (as tern
# would), and its schema dump is compared with a fresh database's. Prints one line per commit:
# "converges", "DIFFERS" (with the differing files), or "FAILS" (the migration that errors).
# A manual check, run when shipped history is in doubt (it needs the git history and takes a few
# minutes); it is how migration 021 was found and verified (ADR 012). Run it inside `make
# db/schema`'s environment, e.g. after `make test` has started the test cluster, or with the
# variables of .data/test/env.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
: "${TEST_DATABASE_URL:?set TEST_DATABASE_URL (a superuser on the test cluster)}"
: "${TEST_ROLE_PASSWORD:?set TEST_ROLE_PASSWORD}"
work=$(mktemp -d)
dbs=()
cleanup() {
	for db in "${dbs[@]}"; do psql "$TEST_DATABASE_URL" -Xqc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
go build -o "$work/pgurl" ./internal/pgtest/cmd/pgurl
go build -o "$work/schemadump" ./internal/pgtest/cmd/schemadump
url() { "$work/pgurl" "$1" "$2"; }

newdb() {
	local db=$1
	dbs+=("$db")
	psql "$TEST_DATABASE_URL" -Xq -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db OWNER geniai_owner"
	psql "$(url geniai_owner "$db")" -Xq -v ON_ERROR_STOP=1 \
		-c "CREATE TABLE public.schema_version (version integer NOT NULL)" -c "INSERT INTO public.schema_version VALUES (0)"
}

# apply DB COMMIT: the up part of every migration of COMMIT (a commit, or "today" for the working
# tree) numbered above the database's version, each in one transaction, as tern runs them.
apply() {
	local db=$1 rev=$2 f n k
	k=$(psql "$(url geniai_owner "$db")" -XAtc "SELECT version FROM public.schema_version")
	if [ "$rev" = today ]; then
		files=$(ls db/migrations/[0-9]*.sql)
	else
		files=$(git ls-tree --name-only "$rev" db/migrations/ | grep '/[0-9].*\.sql$')
	fi
	for f in $files; do
		n=$((10#$(basename "$f" | cut -c1-3)))
		[ "$n" -le "$k" ] && continue
		if [ "$rev" = today ]; then cat "$f"; else git show "$rev:$f"; fi |
			sed '/^---- create above \/ drop below ----/,$d' >"$work/up.sql"
		if ! psql "$(url geniai_owner "$db")" -Xq -v ON_ERROR_STOP=1 --single-transaction \
			-f "$work/up.sql" -c "UPDATE public.schema_version SET version = $n" >"$work/out" 2>&1; then
			echo "FAILS at $(basename "$f"): $(grep -m1 ERROR "$work/out" | sed 's/.*ERROR: *//')"
			return 1
		fi
		k=$n
	done
}

newdb replay_fresh
apply replay_fresh today >/dev/null
"$work/schemadump" "$(url "" replay_fresh)" "$work/fresh"

for c in $(git log --reverse --format=%h -- db/migrations); do
	db=replay_$c
	newdb "$db"
	if out=$(apply "$db" "$c" && apply "$db" today); then
		"$work/schemadump" "$(url "" "$db")" "$work/$c"
		if d=$(diff -rq "$work/fresh" "$work/$c"); then
			echo "$c converges"
		else
			echo "$c DIFFERS: $(echo "$d" | awk '{print $2}' | xargs -n1 basename | tr '\n' ' ')"
		fi
	else
		echo "$c $out"
	fi
	psql "$TEST_DATABASE_URL" -Xq -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
done
