#!/usr/bin/env bash
# make bench: measure how exactly and how cheaply dynaccel accelerates time,
# and compare it with libfaketime. Writes build/bench/report.md and the
# PNG plots beside it; raw results go to build/bench/raw/.
#
#   scripts/bench.sh                the whole benchmark
#   scripts/bench.sh --build-only   only the programs and the initramfs
#                                   with them (for scripts/demo.sh)
#
# Environment: BENCH_QUICK=1 for fewer repetitions and shorter windows
# (development; the report says which mode produced it).
#
# Steps: build the unpatched kernel of the same source and configuration
# (bench/base-kernel.sh, once), the benchmark programs and an initramfs
# with them; run the libfaketime probes on the host; boot the dynaccel
# kernel and the unpatched one under QEMU with the in-guest part
# (bench/guest/run-bench); render the report (bench/report.py).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/boot.sh"

OUT=$BUILD/bench
RAW=$OUT/raw
LIB=usr/lib/dynaccel/bench
LOG=$BUILD/logs/bench-build.log
MODE=full
[ "${BENCH_QUICK:-0}" = 1 ] && MODE=quick
FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
# Kernel log lines that report trouble.
KERNEL_TROUBLE='stall|lockup|hung task|BUG|WARNING'

build_programs() {
	info "building the benchmark programs (log: $LOG)"
	make -s -C "$DYNACCEL_ROOT/bench/guest" O="$OUT/bin" \
		KSFT_INCLUDE="$BUILD/linux/tools/testing/selftests" >>"$LOG" 2>&1 ||
		die "building bench/guest failed; see $LOG"
	make -s -C "$DYNACCEL_ROOT/bench/alt" O="$OUT/bin" >>"$LOG" 2>&1 ||
		die "building bench/alt failed; see $LOG"
}

# The test initramfs with the benchmark programs appended as a second
# archive (the kernel unpacks concatenated archives in order), and the
# dynamic loader and libraries of the dynamic probe, which the static
# busybox guest does not otherwise have.
build_initramfs() {
	local root=$OUT/root f lib
	rm -rf "$root"
	mkdir -p "$root/$LIB"
	for f in "$OUT"/bin/*; do
		install -m 0755 "$f" "$root/$LIB/"
	done
	install -m 0755 "$DYNACCEL_ROOT/bench/guest/run-bench" "$DYNACCEL_ROOT/bench/demo/day.sh" \
		"$DYNACCEL_ROOT/bench/demo/demo-job" "$root/$LIB/"
	while read -r lib; do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done < <(ldd "$OUT/bin/alt-probe-dynamic" | grep -oE '/[^ ]+\.so[^ ]*' | sort -u)
	cp "$BUILD/initramfs.cpio.gz" "$OUT/initramfs-bench.cpio.gz.tmp"
	truncate -s %512 "$OUT/initramfs-bench.cpio.gz.tmp"
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
		gzip -1 >>"$OUT/initramfs-bench.cpio.gz.tmp"
	mv "$OUT/initramfs-bench.cpio.gz.tmp" "$OUT/initramfs-bench.cpio.gz"
}

# The same probes on the host: natively, and under libfaketime at x100.
host_alternatives() {
	local v out=$RAW/host-alt.txt
	[ -f "$FAKETIME_LIB" ] || die "no $FAKETIME_LIB; install libfaketime (scripts/deps.sh)"
	: >"$out"
	{
		echo "host cpus $(nproc)"
		echo "host model $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
		echo "host libfaketime $(dpkg-query -W -f='${Version}' libfaketime 2>/dev/null || echo unknown)"
	} >>"$out"
	for v in dynamic static direct; do
		info "host: alternatives probe ($v build), natively and under libfaketime x100"
		nice "$OUT/bin/alt-probe-$v" "host-$v" >>"$out"
		LD_PRELOAD=$FAKETIME_LIB FAKETIME="+0 x100" nice "$OUT/bin/alt-probe-$v" \
			"libfaketime-$v" >>"$out"
	done
}

# One boot running run-bench, judged like every check boot (boot.sh);
# progress lines are shown, results kept.
guest_run() {
	local kernel=$1 image=$2 timeout=$3 name=bench-$1 rc=0
	info "booting the $kernel kernel ($(basename "$image")); log: $BUILD/logs/$name-console.log"
	boot_guest "$RAW/boots.log" "$name" "$name" --kernel "$image" \
		--initrd "$OUT/initramfs-bench.cpio.gz" --timeout "$timeout" \
		--job "/$LIB/run-bench $kernel $MODE" \
		> >(tee "$RAW/$name-harness.txt" | sed -un "s/^# bench: /$PROG: guest: /p") || rc=$?
	# The filter above runs on its own: let it write everything first.
	wait "$!" 2>/dev/null || true
	cp "$BUILD/logs/$name-results.log" "$RAW/$name.txt"
	{
		sed -n 's/.*booting under \([a-z]*\).*/qemu accel \1/p' "$RAW/$name-harness.txt"
		echo "bench harness_status $rc"
		# The whole console, not the guest's dmesg: the small log buffer
		# of the test configuration wraps when the kernel complains a lot.
		echo "bench console_warnings $(grep -cE "$KERNEL_TROUBLE" "$BUILD/logs/$name-console.log" || true)"
	} >>"$RAW/$name.txt"
}

# Whether both kernels map the same vDSO image into every process: if so,
# the clock read path runs the same instructions on both, whatever the
# timings say.
vdso_identical() {
	local rel=arch/x86/entry/vdso/vdso64.so
	if [ ! -f "$BUILD/obj/$rel" ] || [ ! -f "$OUT/base/obj/$rel" ]; then
		echo unknown
	elif cmp -s "$BUILD/obj/$rel" "$OUT/base/obj/$rel"; then
		echo yes
	else
		echo no
	fi
}

main() {
	local t0 timeout=1200
	t0=$(now_s)
	if [ ! -f "$BUILD/bzImage" ] || [ ! -f "$BUILD/initramfs.cpio.gz" ]; then
		die "build the kernel and initramfs first (make)"
	fi
	mkdir -p "$OUT" "$RAW" "$BUILD/logs"
	case "${1:-}" in
	--build-only)
		: >"$LOG"
		build_programs
		build_initramfs
		return 0
		;;
	'') ;;
	*) echo "usage: $0 [--build-only]" >&2; exit 2 ;;
	esac
	rm -f "$RAW"/*.txt "$RAW/boots.log" "$OUT"/*.png "$OUT/report.md"
	: >"$LOG"
	info "mode: $MODE$([ "$MODE" = quick ] && echo ' (BENCH_QUICK=1: fewer repetitions)')"
	"$DYNACCEL_ROOT/bench/base-kernel.sh"
	build_programs
	build_initramfs
	host_alternatives
	guest_run dynaccel "$BUILD/bzImage" "$timeout"
	guest_run base "$OUT/bzImage-base" 600
	guest_run demo "$BUILD/bzImage" 400
	{
		echo "bench seconds $(($(now_s) - t0))"
		echo "bench mode $MODE"
		echo "bench date $(date -u '+%Y-%m-%d %H:%M UTC')"
		echo "bench commit $(git -C "$DYNACCEL_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
		echo "bench vdso_identical $(vdso_identical)"
	} >"$RAW/meta.txt"
	info "rendering the report"
	python3 -B "$DYNACCEL_ROOT/bench/report.py" "$RAW" "$OUT" >>"$LOG" 2>&1 ||
		die "rendering the report failed; see $LOG"
	info "wrote build/bench/report.md and $(find "$OUT" -maxdepth 1 -name '*.png' | wc -l) plots in $(($(now_s) - t0)) s"
	# A failed run still leaves the results it got that far: the report
	# was rendered from them and names the failure; the judge decides.
	"$DYNACCEL_ROOT/scripts/tap-summary.sh" "$RAW/boots.log" ||
		die "a guest run failed (above); the report says what is missing"
}

main "$@"
