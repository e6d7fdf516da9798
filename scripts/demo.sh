#!/usr/bin/env bash
# make demo: watch a simulated day of a small system go by at R=1000.
# Boots the dynaccel guest with busybox crond running per-minute, hourly
# and daily jobs, a nightly log rotation and a daemon with a one-hour
# heartbeat (bench/demo/day.sh), prints one line per simulated hour and, at
# the end, how many jobs ran against how many were due and how late they
# started. 24 simulated hours take about 90 s of real time plus the boot.
#
#   scripts/demo.sh
#
# Environment: DEMO_HOURS (24), DEMO_RATIO (1000).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

main() {
	local hours=${DEMO_HOURS:-24} ratio=${DEMO_RATIO:-1000}
	if ! [[ "$hours" =~ ^[0-9]+$ ]] || [ "$hours" -lt 1 ]; then
		die "DEMO_HOURS must be a whole number of hours, at least 1"
	fi
	if ! [[ "$ratio" =~ ^[0-9]+$ ]] || [ "$ratio" -lt 1 ] || [ "$ratio" -gt 1000 ]; then
		die "DEMO_RATIO must be from 1 to 1000"
	fi
	"$DYNACCEL_ROOT/scripts/bench.sh" --build-only
	info "booting the guest; $hours simulated hours at R=$ratio (console log: $BUILD/logs/demo-console.log)"
	"$DYNACCEL_ROOT/scripts/qemu-run.sh" --mode cmd --name demo \
		--initrd "$BUILD/bench/initramfs-bench.cpio.gz" \
		--timeout $((hours * 3600 * 3 / ratio + 300)) \
		--job "DEMO_HOURS=$hours DEMO_RATIO=$ratio /usr/lib/dynaccel/bench/day.sh --live"
}

main "$@"
