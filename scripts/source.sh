#!/usr/bin/env bash
# Prepare the kernel tree: install the pinned linux-source-6.12 package,
# unpack it into a scratch git tree at build/linux and apply patches/series
# on top of it with git am.
#
# The scratch tree is where kernel work is done: commit there, then run
# scripts/export-patches.sh to turn the commits back into patches/. To keep
# that work safe, this script refuses to reset a tree that has commits or
# changes it did not make itself.
#
#   scripts/source.sh            prepare and apply (no-op when up to date)
#   scripts/source.sh --reset    drop local work in build/linux and re-apply
set -euo pipefail
. "$(dirname "$0")/lib.sh"

TREE=$BUILD/linux
META=$TREE/.git/dynaccel
LOG_DIR=$BUILD/logs

# Version of the installed source package, or nothing.
installed_version() {
	dpkg-query -W -f='${Status} ${Version}\n' "$LINUX_SOURCE_PACKAGE" 2>/dev/null |
		sed -n 's/^install ok installed //p'
}

# Versions the archive offers, newest first.
archive_versions() {
	apt-cache madison "$LINUX_SOURCE_PACKAGE" 2>/dev/null | awk -F'|' '{ gsub(/ /, "", $2); print $2 }'
}

ensure_package() {
	local want=$LINUX_SOURCE_VERSION have pick

	have=$(installed_version)
	[ "$have" = "$want" ] && return 0

	pick=$want
	if ! archive_versions | grep -xF "$want" >/dev/null; then
		[ "$(id -u)" -eq 0 ] && apt-get update -q >/dev/null
		if ! archive_versions | grep -xF "$want" >/dev/null; then
			pick=$(archive_versions | head -n 1)
			[ -n "$pick" ] || die "the archive has no $LINUX_SOURCE_PACKAGE at all (is 'apt-get update' needed?)"
			[ "$have" = "$pick" ] && {
				warn "pinned $LINUX_SOURCE_PACKAGE $want is gone from the archive; using installed $have"
				return 0
			}
			warn "pinned $LINUX_SOURCE_PACKAGE $want is gone from the archive; using the newest, $pick. The series may need a rebase (patches/base.env)."
		fi
	fi
	if [ "$(id -u)" -ne 0 ]; then
		echo "$PROG: the kernel source is missing; as root run:" >&2
		echo "  apt-get install -y --no-install-recommends $LINUX_SOURCE_PACKAGE=$pick" >&2
		exit 1
	fi
	info "installing $LINUX_SOURCE_PACKAGE=$pick"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		--allow-downgrades "$LINUX_SOURCE_PACKAGE=$pick" >"$LOG_DIR/source-apt.log" 2>&1 ||
		die "apt-get failed; see $LOG_DIR/source-apt.log"
}

tarball() {
	local t
	t=$(dpkg -L "$LINUX_SOURCE_PACKAGE" | grep -E '/usr/src/linux-source-[0-9.]+\.tar\.xz$' | head -n 1)
	[ -f "$t" ] || die "$LINUX_SOURCE_PACKAGE is installed but ships no source tarball"
	echo "$t"
}

# True when build/linux holds commits or edits this script did not make.
has_local_work() {
	[ -n "$(git -C "$TREE" status --porcelain --untracked-files=no)" ] && return 0
	[ -f "$META/applied-head" ] || return 0
	[ "$(git -C "$TREE" rev-parse HEAD)" != "$(cat "$META/applied-head")" ]
}

guard_local_work() {
	[ "${RESET:-0}" = 1 ] && return 0
	if has_local_work; then
		die "build/linux has commits or changes that are not in patches/.
  Export them first:   scripts/export-patches.sh   (make export-patches)
  or throw them away:  scripts/source.sh --reset   (make reset-source)"
	fi
}

create_tree() {
	local version=$1 src
	src=$(tarball)
	info "unpacking $(basename "$src") ($LINUX_SOURCE_PACKAGE $version) into build/linux"
	rm -rf "$TREE"
	mkdir -p "$TREE"
	tar -xJf "$src" -C "$TREE" --strip-components=1
	git -C "$TREE" init -q
	git -C "$TREE" config user.name "dynaccel build"
	git -C "$TREE" config user.email "dynaccel-build@localhost"
	git -C "$TREE" config gc.auto 0
	# Debian's tarball carries a .gitignore that ignores its top level:
	# force-add so that every file of the source is tracked.
	git -C "$TREE" add -A -f
	git -C "$TREE" commit -q -m "$LINUX_SOURCE_PACKAGE $version (Debian), unmodified"
	git -C "$TREE" tag -f dynaccel-base >/dev/null
	mkdir -p "$META"
	echo "$version" >"$META/base-version"
	git -C "$TREE" rev-parse HEAD >"$META/applied-head"
}

apply_series() {
	local hash p n=0 total log=$LOG_DIR/source-apply.log where

	hash=$(series_hash)
	if [ -f "$META/series-hash" ] && [ "$(cat "$META/series-hash")" = "$hash" ] &&
			! has_local_work; then
		info "patch series already applied ($(series_patches | wc -l) patches)"
		return 0
	fi
	guard_local_work
	git -C "$TREE" am --abort >/dev/null 2>&1 || true
	git -C "$TREE" reset -q --hard dynaccel-base
	rm -f "$META/series-hash" "$META/applied-head"
	total=$(series_patches | wc -l)
	: >"$log"
	while read -r p; do
		n=$((n + 1))
		[ -f "$DYNACCEL_ROOT/patches/$p" ] ||
			die "patches/series names $p, but patches/$p does not exist"
		info "[$n/$total] applying $p"
		if ! git -C "$TREE" am -q "$DYNACCEL_ROOT/patches/$p" >>"$log" 2>&1; then
			where=$(sed -n 's/^error: \(patch failed: \|\)\(.*\)$/\2/p' "$log" | head -n 3 | paste -sd';' -)
			git -C "$TREE" am --abort >/dev/null 2>&1 || true
			git -C "$TREE" reset -q --hard dynaccel-base
			die "patch $p does not apply: ${where:-see log}. Full output: $log"
		fi
	done < <(series_patches)
	git -C "$TREE" rev-parse HEAD >"$META/applied-head"
	echo "$hash" >"$META/series-hash"
	info "applied $total patches on $LINUX_SOURCE_PACKAGE $(cat "$META/base-version")"
}

main() {
	case "${1:-}" in
	--reset) RESET=1 ;;
	'') ;;
	*) echo "usage: $0 [--reset]" >&2; exit 2 ;;
	esac
	load_base_env
	mkdir -p "$LOG_DIR"
	ensure_package
	local version
	version=$(installed_version)
	if [ ! -d "$TREE/.git" ] || [ ! -f "$META/base-version" ]; then
		create_tree "$version"
	elif [ "$(cat "$META/base-version")" != "$version" ]; then
		guard_local_work
		info "kernel source changed from $(cat "$META/base-version") to $version: recreating build/linux"
		create_tree "$version"
	fi
	apply_series
}

main "$@"
