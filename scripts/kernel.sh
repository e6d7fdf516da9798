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
. "$(dirname "$0")/kbuild.sh"

TREE=$BUILD/linux
OBJ=$BUILD/obj
LOG=$BUILD/logs/kernel-build.log
FRAGMENT=${1:-$DYNACCEL_ROOT/configs/test-guest.config}

configure() {
	local stamp=$OBJ/.dynaccel-config-stamp want
	want=$( { sha256sum "$FRAGMENT" | cut -d' ' -f1; cat "$TREE/.git/dynaccel/applied-head"; } | sha256sum)
	kbuild_up_to_date "$OBJ/.config" "$stamp" "$want" && return 0
	info "configuring: tinyconfig + $(basename "$FRAGMENT")"
	kbuild_config "$TREE" "$OBJ" "$LOG" tinyconfig "$FRAGMENT"
	echo "$want" >"$stamp"
}

main() {
	[ -d "$TREE/.git" ] || die "no kernel tree at build/linux; run scripts/source.sh first"
	[ -f "$FRAGMENT" ] || die "no such config fragment: $FRAGMENT"
	mkdir -p "$BUILD/logs"
	: >"$LOG"
	configure
	kbuild_bzimage "$TREE" "$OBJ" "$LOG" "the test kernel"
	# The modules too: their Module.symvers is what the test modules of
	# tests/modules are built against (scripts/initramfs.sh).
	kmake "$TREE" "$OBJ" -j"$(make_jobs)" modules >>"$LOG" 2>&1 ||
		die "building the test kernel's modules failed; see $LOG"
	# Through a temporary name: a guest booting meanwhile never sees half
	# an image.
	cp "$OBJ/arch/x86/boot/bzImage" "$BUILD/bzImage.tmp"
	mv "$BUILD/bzImage.tmp" "$BUILD/bzImage"
}

main "$@"
