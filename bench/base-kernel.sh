#!/usr/bin/env bash
# Build the unpatched kernel the benchmarks compare against: the same Debian
# source (tag dynaccel-base of build/linux) and the same configuration as the
# test kernel, minus CONFIG_DYNACCEL, which does not exist there.
#
# The tree is exported with git archive into build/bench/base/linux and built
# in build/bench/base/obj: the same layout relative to each other as
# build/linux and build/obj, so that ccache, which sees paths relative to the
# checkout, hits for every file the series does not touch. build/obj is
# never used. Result: build/bench/bzImage-base.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"
. "$(dirname "$0")/../scripts/kbuild.sh"

SRC=$BUILD/linux
BASE=$BUILD/bench/base
TREE=$BASE/linux
OBJ=$BASE/obj
LOG=$BUILD/logs/bench-base-kernel.log
OUT=$BUILD/bench/bzImage-base
FRAGMENT=$BASE/base.config

main() {
	local commit stamp want
	[ -d "$SRC/.git" ] || die "no kernel tree at build/linux; run 'make' first"
	commit=$(git -C "$SRC" rev-parse dynaccel-base) ||
		die "build/linux has no tag dynaccel-base; run scripts/source.sh"
	mkdir -p "$BASE" "$BUILD/logs"
	# The test configuration without the option the base does not have;
	# its own release name so that the report can tell the kernels apart.
	sed -e '/CONFIG_DYNACCEL/d' \
		-e 's/^CONFIG_LOCALVERSION=.*/CONFIG_LOCALVERSION="-base"/' \
		"$DYNACCEL_ROOT/configs/test-guest.config" >"$FRAGMENT.tmp"
	want=$( { echo "$commit"; sha256sum <"$FRAGMENT.tmp"; } | sha256sum | cut -c1-16)
	stamp=$BASE/.stamp
	if kbuild_up_to_date "$OUT" "$stamp" "$want"; then
		rm -f "$FRAGMENT.tmp"
		info "unpatched kernel up to date: build/bench/bzImage-base"
		return 0
	fi
	mv "$FRAGMENT.tmp" "$FRAGMENT"
	: >"$LOG"
	if [ ! -f "$TREE/.dynaccel-base" ] || [ "$(cat "$TREE/.dynaccel-base")" != "$commit" ]; then
		info "exporting dynaccel-base (${commit:0:12}) into build/bench/base/linux"
		rm -rf "$TREE" "$OBJ"
		mkdir -p "$TREE"
		git -C "$SRC" archive "$commit" | tar -x -C "$TREE"
		echo "$commit" >"$TREE/.dynaccel-base"
	fi
	info "configuring the unpatched kernel: tinyconfig + test-guest.config - CONFIG_DYNACCEL"
	kbuild_config "$TREE" "$OBJ" "$LOG" tinyconfig "$FRAGMENT"
	kbuild_bzimage "$TREE" "$OBJ" "$LOG" "the unpatched kernel"
	cp "$OBJ/arch/x86/boot/bzImage" "$OUT"
	echo "$want" >"$stamp"
}

main "$@"
