#!/usr/bin/env bash
# seal.sh — migrations are append-only: once on main, a migration's bytes never change.
#
#   db/seal.sh         seal: record the sha256 of every migration not yet in db/migrations.sum
#   db/seal.sh check   fail when a migration is unsealed, or differs from its recorded sha256
#
# db/migrations.sum lists "sha256  file" per migration, in order. A line is written once, by
# `make db/seal`, and never rewritten once it is on main: fixing a shipped migration means a
# new migration. `check` also compares every migration with main's list (when the repository
# has a main branch), so editing a shipped file and its line together still fails. Until your
# own migration lands you may change it: its line is not on main yet, and sealing again
# replaces it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
sums=db/migrations.sum
mode=${1:-seal}
touch_sums() { [ -f $sums ] || : >$sums; }

# main's list, if there is a main branch to compare with (empty otherwise).
main_sums() { git show main:$sums 2>/dev/null || true; }

hash_of() { sha256sum "$1" | cut -d' ' -f1; }

case $mode in
check)
	touch_sums
	bad=0
	declare -A listed shipped
	while read -r h f; do listed[$f]=$h; done <$sums
	while read -r h f; do [ -n "${f:-}" ] && shipped[$f]=$h; done < <(main_sums)
	for path in db/migrations/[0-9]*.sql; do
		f=$(basename "$path")
		h=$(hash_of "$path")
		if [ -n "${shipped[$f]:-}" ] && [ "${shipped[$f]}" != "$h" ]; then
			echo "migration $f is on main and was changed. Shipped migrations are never edited:"
			echo "  restore it (git checkout main -- $path) and write the fix as a new migration (make db/new name=...)."
			bad=1
		elif [ -z "${listed[$f]:-}" ]; then
			echo "migration $f is not sealed: when it is final, run \`make db/seal\` and commit $sums."
			bad=1
		elif [ "${listed[$f]}" != "$h" ]; then
			echo "migration $f differs from its sealed sha256 in $sums."
			echo "  Not on main yet (your own migration): run \`make db/seal\` again. On main: restore it and write a new migration."
			bad=1
		fi
	done
	# tern needs 1..N, each number once: after a rebase, renumber yours (git mv) and seal again.
	n=0
	for path in db/migrations/[0-9]*.sql; do
		n=$((n + 1))
		want=$(printf '%03d_' $n)
		case $(basename "$path") in
		"$want"*) ;;
		*) echo "migration $(basename "$path") is out of sequence (expected number $want): renumber it (git mv) and run \`make db/seal\`."; bad=1 ;;
		esac
	done
	for f in "${!listed[@]}"; do
		[ -f "db/migrations/$f" ] || { echo "$sums lists $f, which is not in db/migrations (renumbered? run \`make db/seal\`)."; bad=1; }
	done
	exit $bad
	;;
seal)
	touch_sums
	declare -A shipped
	while read -r h f; do [ -n "${f:-}" ] && shipped[$f]=$h; done < <(main_sums)
	tmp=$(mktemp); trap 'rm -f $tmp' EXIT
	for path in db/migrations/[0-9]*.sql; do
		f=$(basename "$path")
		h=$(hash_of "$path")
		if [ -n "${shipped[$f]:-}" ] && [ "${shipped[$f]}" != "$h" ]; then
			echo "refusing to seal: $f is on main and was changed; restore it (git checkout main -- $path) and write a new migration." >&2
			exit 1
		fi
		old=$(awk -v f="$f" '$2 == f { print $1 }' $sums)
		[ -n "$old" ] && [ "$old" != "$h" ] && echo "resealed $f (not on main yet)"
		[ -z "$old" ] && echo "sealed $f"
		printf '%s  %s\n' "$h" "$f" >>"$tmp"
	done
	chmod 644 "$tmp"
	mv "$tmp" $sums
	trap - EXIT
	;;
*)
	echo "usage: $0 [check]" >&2
	exit 2
	;;
esac
