#!/usr/bin/env bash
# Build the test guest's initramfs, build/initramfs.cpio.gz: Debian's static
# busybox and the guest system of guest/ (init, the suite runner and its
# real-time limit), the in-guest tests of tests/guest and the kernel's own
# timers selftests, all linked statically, the test modules of
# tests/modules built against the test kernel (build/obj) and the test
# kernel's own modules.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kbuild.sh"

TREE=$BUILD/linux
GUEST=$BUILD/guest
ROOT=$GUEST/root
LIB=$ROOT/usr/lib/dynaccel
LOG=$BUILD/logs/initramfs.log
KSFT_SRC=$TREE/tools/testing/selftests/timers

# The timers selftests, built from the same source tree as the kernel.
build_kselftests() {
	mkdir -p "$GUEST/ksft-timers"
	# valid-adjtimex defines its own clock_adjtime(), which clashes with
	# glibc's in a static link; the test's own definition must win.
	make -s -C "$KSFT_SRC" OUTPUT="$GUEST/ksft-timers" \
		LDFLAGS="-static -Wl,--allow-multiple-definition" >>"$LOG" 2>&1 ||
		die "building the timers selftests failed; see $LOG"
}

build_tests() {
	make -s -C "$DYNACCEL_ROOT/tests/guest" O="$GUEST/bin" \
		KSFT_INCLUDE="$TREE/tools/testing/selftests" >>"$LOG" 2>&1 ||
		die "building the in-guest tests failed; see $LOG"
}

# The test modules, built in a copy of tests/modules so that kbuild's
# output stays out of the source tree.
build_modules() {
	local out=$GUEST/modules
	[ -f "$BUILD/obj/Module.symvers" ] ||
		die "no test kernel in build/obj to build the test modules against; run scripts/kernel.sh first"
	rm -rf "$out"
	mkdir -p "$out"
	cp "$DYNACCEL_ROOT"/tests/modules/Kbuild "$DYNACCEL_ROOT"/tests/modules/*.c "$out/"
	if ! kmake "$TREE" "$BUILD/obj" M="$out" W=1 modules >"$out/build.log" 2>&1; then
		cat "$out/build.log" >>"$LOG"
		die "building the test modules failed; see $LOG"
	fi
	cat "$out/build.log" >>"$LOG"
	! grep -q "warning:" "$out/build.log" ||
		die "the test modules build with warnings; see $LOG"
}

populate() {
	local f
	rm -rf "$ROOT"
	mkdir -p "$ROOT"/{bin,sbin,etc,proc,sys,dev,tmp,run,root,usr/bin,usr/sbin}
	mkdir -p "$LIB/bin" "$LIB/ksft-timers" "$LIB/modules"
	install -m 0755 /bin/busybox "$ROOT/bin/busybox"
	install -m 0755 "$DYNACCEL_ROOT/guest/init" "$ROOT/init"
	install -m 0755 "$DYNACCEL_ROOT/guest/run-suites" "$LIB/run-suites"
	install -m 0644 "$DYNACCEL_ROOT/tests/guest/suites" "$LIB/suites"
	install -m 0644 "$DYNACCEL_ROOT/tests/guest/known-failures" "$LIB/known-failures"
	for f in "$GUEST/bin"/*; do
		install -m 0755 "$f" "$LIB/bin/"
	done
	for f in "$DYNACCEL_ROOT"/tests/guest/*.sh; do
		[ -e "$f" ] && install -m 0755 "$f" "$LIB/bin/$(basename "$f" .sh)"
	done
	for f in "$GUEST/ksft-timers"/*; do
		install -m 0755 "$f" "$LIB/ksft-timers/"
	done
	for f in "$GUEST/modules"/*.ko; do
		install -m 0644 "$f" "$LIB/modules/"
	done
	# The test kernel's own modules (=m in configs/test-guest.config)
	find "$BUILD/obj" -name '*.ko' -exec install -m 0644 {} "$LIB/modules/" \;
	if [ -x "$BUILD/accelctl" ]; then
		install -m 0755 "$BUILD/accelctl" "$ROOT/usr/sbin/accelctl"
	fi
	echo "root:x:0:0:root:/root:/bin/sh" >"$ROOT/etc/passwd"
	echo "nobody:x:65534:65534:nobody:/nonexistent:/bin/false" >>"$ROOT/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$ROOT/etc/group"
}

main() {
	# grep reads the whole list: with -q it could exit early and fail
	# the pipeline through busybox's SIGPIPE under pipefail.
	if ! /bin/busybox --list 2>/dev/null | grep -x cttyhack >/dev/null; then
		die "/bin/busybox is missing or not the static build; install busybox-static (scripts/deps.sh)"
	fi
	[ -d "$KSFT_SRC" ] || die "no kernel tree at build/linux; run scripts/source.sh first"
	mkdir -p "$GUEST" "$BUILD/logs"
	: >"$LOG"
	build_kselftests
	build_tests
	build_modules
	populate
	(cd "$ROOT" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
		gzip -1 >"$BUILD/initramfs.cpio.gz.tmp"
	mv "$BUILD/initramfs.cpio.gz.tmp" "$BUILD/initramfs.cpio.gz"
	info "built build/initramfs.cpio.gz ($(du -h "$BUILD/initramfs.cpio.gz" | cut -f1))"
}

main "$@"
