#!/usr/bin/env bash
# Runs the pgTAP suite (db/tests/NNN_*.sql) against a fully migrated database.
#
#   db/tests/run.sh SUPERUSER_DATABASE_URL [pg_prove options...]
#
# The URL may be a postgres:// URL or a key=value connection string.
# The URL must name a superuser: pgTAP is installed with CREATE EXTENSION, and the tests switch
# to every GeniAI role (SET ROLE, SET SESSION AUTHORIZATION). Every test file runs in one
# transaction that is rolled back, so the database is left as it was (apart from the pgtap
# extension). Exits non-zero when any test fails; prints pg_prove's summary ("Result: PASS").
# Extra arguments go to pg_prove (e.g. -v for every test line, -j 4 to run files in parallel).
# PGTAP_EXTRA=citus adds the files of db/tests/citus/ (the Citus cluster's own rules), after the rest,
# and leaves out the files marked `-- citus: ...`, which switch roles inside one transaction in a
# way Citus forbids; the marker names the cluster's version of the same checks.
set -euo pipefail

if [[ $# -lt 1 || -z $1 ]]; then
    echo "usage: $0 SUPERUSER_DATABASE_URL [pg_prove options...]" >&2
    exit 2
fi
url=$1
shift
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

for tool in psql pg_prove; do
    if ! command -v "$tool" >/dev/null; then
        echo "$0: $tool not found (apt-get install postgresql-client libtap-parser-sourcehandler-pgtap-perl)" >&2
        exit 2
    fi
done

# The suite describes the schema at the newest migration: refuse a database behind (or ahead of) it.
migrations=$(find "$here/../migrations" -maxdepth 1 -name '[0-9]*.sql' | wc -l)
version=$(psql "$url" --no-psqlrc --tuples-only --no-align --set ON_ERROR_STOP=1 \
    --command 'SELECT version FROM public.schema_version')
if [[ $version != "$migrations" ]]; then
    echo "$0: database is at migration $version, db/migrations has $migrations: migrate it first" >&2
    exit 2
fi

psql "$url" --no-psqlrc --quiet --set ON_ERROR_STOP=1 <<'SQL'
SET client_min_messages = warning;
DO $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        RAISE EXCEPTION 'db/tests/run.sh needs a superuser connection, not %', current_user;
    END IF;
END
$$;
CREATE EXTENSION IF NOT EXISTS pgtap;
SQL

# pg_prove parses its --dbname value as key=value when it contains '=' (App::Prove's hash
# options), so the '=' of a URL's query string must be escaped as '\='.
files=("$here"/[0-9]*.sql)
if [[ -n ${PGTAP_EXTRA:-} ]]; then
    kept=()
    for f in "${files[@]}"; do
        grep -q "^-- $PGTAP_EXTRA: " "$f" || kept+=("$f")
    done
    files=("${kept[@]}" "$here/$PGTAP_EXTRA"/[0-9]*.sql)
fi
exec pg_prove --dbname "${url//=/\\=}" --failures --comments "$@" "${files[@]}"
