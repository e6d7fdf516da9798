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

SRC=$BUILD/linux
BASE=$BUILD/bench/base
TREE=$BASE/linux
OBJ=$BASE/obj
LOG=$BUILD/logs/bench-base-kernel.log
OUT=$BUILD/bench/bzImage-base
FRAGMENT=$BASE/base.config

export CCACHE_BASEDIR=$DYNACCEL_ROOT

kmake() {
	local cc=gcc
	command -v ccache >/dev/null && cc="ccache gcc"
	make -C "$TREE" O="$OBJ" ARCH=x86_64 CC="$cc" HOSTCC="$cc" LOCALVERSION= "$@"
}

main() {
	local commit stamp want t0
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
	if [ -f "$OUT" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
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
	mkdir -p "$OBJ"
	{
		kmake -s tinyconfig
		"$TREE/scripts/kconfig/merge_config.sh" -m -O "$OBJ" "$OBJ/.config" "$FRAGMENT"
		kmake -s olddefconfig
	} >>"$LOG" 2>&1 || die "configuring the unpatched kernel failed; see $LOG"
	t0=$(now_s)
	info "building the unpatched kernel with $(make_jobs) jobs (one time, log: $LOG)"
	if ! kmake -j"$(make_jobs)" bzImage >>"$LOG" 2>&1; then
		grep -E 'error|Error' "$LOG" | head -n 20 >&2 || true
		die "building the unpatched kernel failed; full log: $LOG"
	fi
	cp "$OBJ/arch/x86/boot/bzImage" "$OUT"
	echo "$want" >"$stamp"
	info "built build/bench/bzImage-base ($(kmake -s kernelrelease)) in $(($(now_s) - t0)) s"
}

main "$@"
