#!/usr/bin/env bash
# Configure and build the test kernel out of tree, in build/obj, and copy the
# image to build/bzImage.
#
# The configuration is tinyconfig with configs/test-guest.config merged on
# top. It is regenerated only when the fragment or the source changes, so an
# unchanged tree rebuilds incrementally; ccache is used when installed.
#
#   scripts/kernel.sh [CONFIG_FRAGMENT]
set -euo pipefail
. "$(dirname "$0")/lib.sh"

TREE=$BUILD/linux
OBJ=$BUILD/obj
LOG=$BUILD/logs/kernel-build.log
FRAGMENT=${1:-$DYNACCEL_ROOT/configs/test-guest.config}

# ccache sees paths relative to the checkout, so a second clone on the same
# machine (CI's) hits the cache the first one filled.
export CCACHE_BASEDIR=$DYNACCEL_ROOT

kmake() {
	local cc=gcc
	command -v ccache >/dev/null && cc="ccache gcc"
	# An empty LOCALVERSION stops setlocalversion from appending "+" for
	# the scratch tree's git commits: the release is 6.12.N-dynaccel.
	make -C "$TREE" O="$OBJ" ARCH=x86_64 CC="$cc" HOSTCC="$cc" LOCALVERSION= "$@"
}

# Every CONFIG_X=v line of the fragment must survive olddefconfig: an option
# that silently drops out (typo, unmet dependency) would make the tests
# measure a kernel other than the one we think.
verify_config() {
	local line key val bad=0
	while IFS= read -r line; do
		key=${line%%=*}
		val=${line#*=}
		if [ "$val" = n ]; then
			grep -q "^$key=" "$OBJ/.config" || continue
		else
			grep -qxF "$line" "$OBJ/.config" && continue
		fi
		warn "$FRAGMENT asks for $line, the kernel has: $(grep -E "^$key=|^# $key is not set" "$OBJ/.config" || echo nothing)"
		bad=1
	done < <(grep -E '^CONFIG_[A-Za-z0-9_]+=' "$FRAGMENT")
	[ "$bad" = 0 ] || die "configuration does not match $FRAGMENT (see above)"
}

configure() {
	local stamp=$OBJ/.dynaccel-config-stamp want
	want=$( { sha256sum "$FRAGMENT" | cut -d' ' -f1; cat "$TREE/.git/dynaccel/applied-head"; } | sha256sum)
	if [ -f "$OBJ/.config" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
		return 0
	fi
	info "configuring: tinyconfig + $(basename "$FRAGMENT")"
	mkdir -p "$OBJ"
	{
		kmake -s tinyconfig
		"$TREE/scripts/kconfig/merge_config.sh" -m -O "$OBJ" "$OBJ/.config" "$FRAGMENT"
		kmake -s olddefconfig
	} >>"$LOG" 2>&1
	verify_config
	echo "$want" >"$stamp"
}

main() {
	local t0 jobs
	[ -d "$TREE/.git" ] || die "no kernel tree at build/linux; run scripts/source.sh first"
	[ -f "$FRAGMENT" ] || die "no such config fragment: $FRAGMENT"
	mkdir -p "$BUILD/logs"
	: >"$LOG"
	configure
	jobs=$(make_jobs)
	t0=$(now_s)
	info "building bzImage with $jobs jobs (log: $LOG)"
	if ! kmake -j"$jobs" bzImage >>"$LOG" 2>&1; then
		grep -E 'error|Error' "$LOG" | head -n 20 >&2 || true
		die "kernel build failed; full log: $LOG"
	fi
	cp "$OBJ/arch/x86/boot/bzImage" "$BUILD/bzImage.tmp"
	mv "$BUILD/bzImage.tmp" "$BUILD/bzImage"
	info "built build/bzImage ($(kmake -s kernelrelease)) in $(($(now_s) - t0)) s"
}

main "$@"
