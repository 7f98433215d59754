#!/usr/bin/env bash
# build.sh — build and install the Citus extension from the release archive beside this script
# into the machine's PostgreSQL 15, once. `make test/citus` calls it.
#
#   db/citus/build.sh            # does nothing when citus.so is already installed
#   FORCE=1 db/citus/build.sh    # rebuild and reinstall
#
# Needs root or sudo: the build dependencies come from apt-get, and the install writes into
# PostgreSQL's lib and extension folders. About 70 seconds on 2 cores. Citus is AGPL-3.0 (see
# README.md here); it is a separate server extension we test and deploy against, never linked
# into the geniai binary.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
archive=$here/citus-13.2.2.tar.gz
sha256=cc5fb2bc63b877065796b362d3335c94110ef22869d0590f84960bb76c2945c4
pgconfig=/usr/lib/postgresql/15/bin/pg_config

if [ -z "${FORCE:-}" ] && [ -x "$pgconfig" ] && [ -f "$("$pgconfig" --pkglibdir)/citus.so" ] &&
	[ -f "$("$pgconfig" --sharedir)/extension/citus.control" ]; then
	exit 0
fi

sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
need="postgresql-15 postgresql-server-dev-15 make gcc autoconf flex libicu-dev libkrb5-dev liblz4-dev
libpam0g-dev libreadline-dev libselinux1-dev libssl-dev libxslt1-dev libzstd-dev uuid-dev"
missing=""
for p in $need; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
	echo "citus: installing build dependencies:$missing"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

echo "$sha256  $archive" | sha256sum --check --quiet - ||
	{ echo "citus: $archive is not the pinned release archive" >&2; exit 1; }

src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
tar -xzf "$archive" -C "$src"

# PostgreSQL 15.14 and later export have_createdb_privilege(); Citus 13.2.2 still carries a
# static inline copy for older minor releases, which then clashes with the server's declaration.
# Drop the copy (the function and the line before it) when the server headers declare it.
compat=$src/src/include/pg_version_compat.h
if grep -q 'have_createdb_privilege' "$("$pgconfig" --includedir-server)/commands/dbcommands.h"; then
	awk '
		prev == "static inline bool" && $0 == "have_createdb_privilege(void)" { skip = 1; prev = ""; next }
		skip { if ($0 == "}") skip = 0; next }
		{ if (started) print prev; prev = $0; started = 1 }
		END { if (started) print prev }
	' "$compat" >"$compat.new"
	mv "$compat.new" "$compat"
	! grep -q '^have_createdb_privilege(void)' "$compat" || { echo "citus: compat patch did not apply" >&2; exit 1; }
fi

cd "$src"
echo "citus: building 13.2.2 for $("$pgconfig" --version)"
PG_CONFIG=$pgconfig ./configure --without-libcurl >"$src/configure.log" 2>&1 ||
	{ tail -20 "$src/configure.log" >&2; exit 1; }
make -s -j"$(nproc)" with_llvm=no PG_CONFIG="$pgconfig" >"$src/make.log" 2>&1 ||
	{ tail -30 "$src/make.log" >&2; exit 1; }
$sudo make -s install with_llvm=no PG_CONFIG="$pgconfig" >/dev/null
echo "citus: installed $("$pgconfig" --pkglibdir)/citus.so"
