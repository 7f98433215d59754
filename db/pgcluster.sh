#!/usr/bin/env bash
# pgcluster.sh — a project-local PostgreSQL cluster for `make run` and `make test`.
#
#   db/pgcluster.sh start DIR PORT [--ephemeral]   initialise (first time) and start; --ephemeral
#                                                  turns off fsync and friends (tests only);
#                                                  PGCLUSTER_OPTS adds server settings (-c k=v ...)
#   db/pgcluster.sh bootstrap DIR DB...            roles geniai_owner, geniai_authenticator,
#                                                  chatwoot_reader and geniai_backup with
#                                                  generated passwords, and the databases; writes DIR/env
#   db/pgcluster.sh replica PRIMARY_DIR DIR PORT [--ephemeral] [--fresh]
#                                                  a streaming replica of the running cluster in
#                                                  PRIMARY_DIR (pg_basebackup -R over its socket),
#                                                  started on PORT as a hot standby; --fresh copies
#                                                  the primary anew even if DIR holds a replica
#                                                  of it; writes DIR/cluster.env
#   db/pgcluster.sh stop DIR
#
# The cluster listens on 127.0.0.1 only. Unix-socket connections (socket in DIR/sock, mode 0700)
# are trusted: only the cluster's OS owner and root can open them. TCP connections need a
# password (scram-sha-256); the generated ones live in DIR/env, which git ignores.
# initdb and postgres refuse to run as root, so as root they run as the `postgres` OS user.
set -euo pipefail

die() { echo "pgcluster: $*" >&2; exit 1; }

pgbin() {
	local b
	for b in "${PGBIN:-}" "$(pg_config --bindir 2>/dev/null || true)" /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
		[ -n "$b" ] && [ -x "$b/initdb" ] && { echo "$b"; return; }
	done
	die "PostgreSQL server binaries not found (install postgresql-15, or set PGBIN)"
}

# as_owner runs a command as the cluster's OS owner: postgres when we are root, else ourselves.
as_owner() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# datadir resolves DIR/pg. As root the data must belong to `postgres`, which may not be able to
# reach a checkout under a private home (or a `mktemp -d` clone); then the data lives in /var/tmp,
# DIR/pg links to it, and the resolved path is what the server is given (postgres could not
# follow the link through DIR).
datadir() {
	local dir=$1
	mkdir -p "$dir"
	if [ "$(id -u)" = 0 ] && [ ! -e "$dir/pg" ]; then
		if ! runuser -u postgres -- test -x "$dir"; then
			local alt
			alt=/var/tmp/geniai-pg-$(echo "$(cd "$dir" && pwd)" | sha1sum | cut -c1-12)
			mkdir -p "$alt" && chown postgres: "$alt" && ln -s "$alt" "$dir/pg"
		fi
	fi
	[ -e "$dir/pg" ] || mkdir -p "$dir/pg"
	[ "$(id -u)" = 0 ] && chown -R postgres: "$dir/pg/" 2>/dev/null || true
	readlink -f "$dir/pg"
}

cmd_start() {
	local dir=$1 port=$2 mode=${3:-}
	local bin data
	bin=$(pgbin)
	dir=$(mkdir -p "$1" && cd "$1" && pwd)
	data=$(datadir "$dir")
	if [ ! -f "$data/PG_VERSION" ]; then
		as_owner "$bin/initdb" -D "$data" -U postgres -E UTF8 --locale=C.UTF-8 \
			--auth-local=trust --auth-host=scram-sha-256 >"$dir/initdb.log" 2>&1 ||
			{ cat "$dir/initdb.log" >&2; die "initdb failed"; }
		mkdir -p "$data/sock"
	fi
	[ "$(id -u)" = 0 ] && chown postgres: "$data/sock"
	chmod 700 "$data/sock"
	if as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
		echo "pgcluster: already running ($data)" >&2
	else
		local opts="-c listen_addresses=127.0.0.1 -p $port -k $data/sock -c unix_socket_permissions=0700"
		opts+=" -c shared_buffers=256MB -c max_connections=200 -c log_min_messages=warning"
		# WAL kept for a replica that was down a moment (db/pgcluster.sh replica).
		opts+=" -c wal_keep_size=256MB"
		if [ "$mode" = --ephemeral ]; then
			opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
		fi
		opts+=" ${PGCLUSTER_OPTS:-}"
		as_owner "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 -o "$opts" start >/dev/null ||
			{ tail -20 "$data/server.log" >&2; die "postgres did not start"; }
	fi
	{
		echo "PGCLUSTER_PORT='$port'"
		echo "PGCLUSTER_SOCKET='$data/sock'"
		echo "PGSUPER_URL='postgres:///postgres?host=$data/sock&port=$port&user=postgres'"
	} >"$dir/cluster.env"
}

secret() { head -c 18 /dev/urandom | base64 | tr '+/' 'xy'; }

cmd_bootstrap() {
	local dir db
	dir=$(cd "$1" && pwd); shift
	# shellcheck disable=SC1091
	. "$dir/cluster.env"
	touch "$dir/secrets"; chmod 600 "$dir/secrets"
	# shellcheck disable=SC1091
	. "$dir/secrets"
	if [ -z "${OWNER_PASSWORD:-}" ]; then
		OWNER_PASSWORD=$(secret); AUTH_PASSWORD=$(secret); READER_PASSWORD=$(secret)
		printf 'OWNER_PASSWORD=%s\nAUTH_PASSWORD=%s\nREADER_PASSWORD=%s\n' \
			"$OWNER_PASSWORD" "$AUTH_PASSWORD" "$READER_PASSWORD" >"$dir/secrets"
	fi
	if [ -z "${BACKUP_PASSWORD:-}" ]; then
		BACKUP_PASSWORD=$(secret)
		printf 'BACKUP_PASSWORD=%s\n' "$BACKUP_PASSWORD" >>"$dir/secrets"
	fi
	psql "$PGSUPER_URL" -qX -v ON_ERROR_STOP=1 -v owner="$OWNER_PASSWORD" -v auth="$AUTH_PASSWORD" \
		-v reader="$READER_PASSWORD" -v backup="$BACKUP_PASSWORD" >/dev/null <<'SQL'
SELECT 'CREATE ROLE geniai_owner' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'geniai_owner') \gexec
SELECT 'CREATE ROLE geniai_authenticator' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'geniai_authenticator') \gexec
SELECT 'CREATE ROLE chatwoot_reader' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'chatwoot_reader') \gexec
ALTER ROLE geniai_owner LOGIN CREATEROLE NOSUPERUSER NOBYPASSRLS PASSWORD :'owner';
ALTER ROLE geniai_authenticator LOGIN NOINHERIT NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB PASSWORD :'auth';
ALTER ROLE chatwoot_reader LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD :'reader';
-- pg_dump's role (README, backup and restore): reads every row, writes nothing.
SELECT 'CREATE ROLE geniai_backup' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'geniai_backup') \gexec
ALTER ROLE geniai_backup LOGIN INHERIT BYPASSRLS NOSUPERUSER NOREPLICATION NOCREATEDB NOCREATEROLE PASSWORD :'backup';
GRANT pg_read_all_data TO geniai_backup;
SQL
	for db in "$@"; do
		psql "$PGSUPER_URL" -qX -v ON_ERROR_STOP=1 -v db="$db" >/dev/null <<'SQL'
SELECT format('CREATE DATABASE %I OWNER geniai_owner', :'db')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
SQL
	done
	if [ -n "${2:-}" ]; then
		# The Chatwoot database: what the owner creates there is readable by the ETL's read-only role.
		psql "postgres:///$2?host=$PGCLUSTER_SOCKET&port=$PGCLUSTER_PORT&user=postgres" -qX -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
SELECT format('GRANT CONNECT ON DATABASE %I TO chatwoot_reader', current_database()) \gexec
GRANT USAGE ON SCHEMA public TO chatwoot_reader;
ALTER DEFAULT PRIVILEGES FOR ROLE geniai_owner IN SCHEMA public GRANT SELECT ON TABLES TO chatwoot_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO chatwoot_reader;
SQL
	fi
	local tcp="127.0.0.1:$PGCLUSTER_PORT"
	{
		cat "$dir/cluster.env"
		echo "MIGRATION_DATABASE_URL='postgres://geniai_owner:$OWNER_PASSWORD@$tcp/${1:-geniai}?sslmode=disable'"
		echo "DATABASE_URL='postgres://geniai_authenticator:$AUTH_PASSWORD@$tcp/${1:-geniai}?sslmode=disable'"
		echo "CHATWOOT_ADMIN_URL='postgres://geniai_owner:$OWNER_PASSWORD@$tcp/${2:-chatwoot}?sslmode=disable'"
		echo "CHATWOOT_DATABASE_URL='postgres://chatwoot_reader:$READER_PASSWORD@$tcp/${2:-chatwoot}?sslmode=disable'"
		echo "BACKUP_DATABASE_URL='postgres://geniai_backup:$BACKUP_PASSWORD@$tcp/${1:-geniai}?sslmode=disable'"
		echo "TEST_ROLE_PASSWORD='$AUTH_PASSWORD'"
	} >"$dir/env"
	chmod 600 "$dir/env"
}

# cmd_replica copies the running primary with pg_basebackup -R (the replica's primary_conninfo
# names the primary's socket) and starts it as a hot standby. A replica left from an earlier run
# of another primary is thrown away: a standby can only follow the cluster it was copied from.
cmd_replica() {
	local primary=$1 dir=$2 port=$3 mode="" fresh=""
	shift 3
	for a in "$@"; do
		case $a in --ephemeral) mode=$a ;; --fresh) fresh=1 ;; *) die "replica: unknown option $a" ;; esac
	done
	local bin pdata data
	bin=$(pgbin)
	primary=$(cd "$primary" && pwd)
	pdata=$(readlink -f "$primary/pg")
	# shellcheck disable=SC1091
	. "$primary/cluster.env"
	local psock=$PGCLUSTER_SOCKET pport=$PGCLUSTER_PORT
	dir=$(mkdir -p "$dir" && cd "$dir" && pwd)
	data=$(datadir "$dir")
	if [ -f "$data/PG_VERSION" ]; then
		local sysid_p sysid_r
		sysid_p=$(as_owner "$bin/pg_controldata" -D "$pdata" | awk -F': *' '/system identifier/ {print $2}')
		sysid_r=$(as_owner "$bin/pg_controldata" -D "$data" | awk -F': *' '/system identifier/ {print $2}')
		if [ -n "$fresh" ] || [ "$sysid_p" != "$sysid_r" ] || [ ! -f "$data/standby.signal" ]; then
			as_owner "$bin/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
			find "$data" -mindepth 1 -delete
		fi
	fi
	if [ ! -f "$data/PG_VERSION" ]; then
		as_owner "$bin/pg_basebackup" -D "$data" -R -X stream -c fast \
			-d "host=$psock port=$pport user=postgres" >"$dir/basebackup.log" 2>&1 ||
			{ cat "$dir/basebackup.log" >&2; die "pg_basebackup failed"; }
		mkdir -p "$data/sock"
		: >"$data/server.log" # the copy brought the primary's log along
	fi
	[ "$(id -u)" = 0 ] && chown postgres: "$data/sock"
	chmod 700 "$data" "$data/sock"
	if as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
		echo "pgcluster: replica already running ($data)" >&2
	else
		local opts="-c listen_addresses=127.0.0.1 -p $port -k $data/sock -c unix_socket_permissions=0700"
		opts+=" -c hot_standby=on -c max_connections=200 -c log_min_messages=warning"
		# The primary may have moved to another port since the copy: follow the one it has now.
		opts+=" -c primary_conninfo='host=$psock port=$pport user=postgres application_name=replica'"
		if [ "$mode" = --ephemeral ]; then
			opts+=" -c fsync=off -c full_page_writes=off"
		fi
		opts+=" ${PGCLUSTER_OPTS:-}"
		as_owner "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 -o "$opts" start >/dev/null ||
			{ tail -20 "$data/server.log" >&2; die "replica did not start"; }
	fi
	{
		echo "PGCLUSTER_PORT='$port'"
		echo "PGCLUSTER_SOCKET='$data/sock'"
		echo "PGSUPER_URL='postgres:///postgres?host=$data/sock&port=$port&user=postgres'"
	} >"$dir/cluster.env"
}

cmd_stop() {
	local dir data
	dir=$(cd "$1" && pwd)
	data=$(readlink -f "$dir/pg")
	[ -f "$data/PG_VERSION" ] || return 0
	as_owner "$(pgbin)/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
}

case "${1:-}" in
start) shift; [ $# -ge 2 ] || die "usage: start DIR PORT [--ephemeral]"; cmd_start "$@" ;;
bootstrap) shift; [ $# -ge 1 ] || die "usage: bootstrap DIR DB..."; cmd_bootstrap "$@" ;;
replica) shift; [ $# -ge 3 ] || die "usage: replica PRIMARY_DIR DIR PORT"; cmd_replica "$@" ;;
stop) shift; [ $# -ge 1 ] || die "usage: stop DIR"; cmd_stop "$@" ;;
*) die "usage: $0 start|bootstrap|replica|stop ..." ;;
esac
