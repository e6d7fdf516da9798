#!/usr/bin/env bash
# The long soak behind `make soak`: for each ratio R of the plan, one guest
# boot with a fresh ext4 disk on virtio-blk that first measures the idle
# machine at R, then loads it (tests/guest/soak.sh: fsync-heavy checksummed
# disk I/O, TCP over loopback and over veth between network namespaces,
# many timers and sleepers) for the given real seconds with the ratio moved
# away from R in the middle third, and finally judges the kernel log
# (dmesg-clean). The short form of the same runs in `make check`.
#
#   soak.sh [R:SECONDS ...]          default: 1:300 200:300 1000:900
#   soak.sh --base [1:SECONDS ...]   the same load on the unpatched kernel
#                                    (bench/base-kernel.sh builds it), R=1
#                                    only, default 1:90: the baseline of the
#                                    hrtimer figures (extra handler passes
#                                    and hangs) that dynaccel is held to
#
#   soak.sh zoo:SECONDS              the device zoo (harness.zoo=1): the
#                                    same load on a disk behind each of
#                                    AHCI, virtio-scsi, NVMe, usb-storage
#                                    and UAS and TCP over the e1000e pair,
#                                    first SECONDS/5 at R=1 (the reference
#                                    for failed and timed-out commands), then
#                                    SECONDS with the plan 1000,1000,1,1000,
#                                    1000,1000 (a drop and a rise)
#
# The default keeps R=1000 for 10 real minutes (two thirds of 900 s) and
# adds zoo:900 (R=1000 for 750 real s on every device).
# Writes build/soak/report.md and exits non-zero if any check failed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/boot.sh"

OUT=$BUILD/soak
IDLE_S=20
# The kernel booted: dynaccel's, or with --base (BASE=1) the unpatched one.
BASE=0
KERNEL_IMAGE=$BUILD/bzImage

# The zoo: the load at R=1, then at 1000 across a drop and a rise, one
# boot each (the soak moves a NIC into its peer namespace, once per boot);
# each load's SCSI command counters are judged by zoo-counters.
ZOO_PLAN=1000,1000,1,1000,1000,1000

zoo_boot() {
	local name=$1 secs=$2 plan=$3 job
	job="cat /sys/devices/system/clocksource/clocksource0/current_clocksource >/run/dynaccel-boot-clocksource
{
echo '# suite: $name'; soak $secs $plan 0 e1000e zoo; echo \"# suite-exit: $name \$?\"
echo '# suite: zoo-counters-$name'; zoo-counters; echo \"# suite-exit: zoo-counters-$name \$?\"
echo '# suite: dmesg-clean-$name'; dmesg-clean; echo \"# suite-exit: dmesg-clean-$name \$?\"
} >/dev/ttyS1 2>&1"
	info "$name: $secs real s (plan $plan) on every device of the zoo; console log: build/logs/$name-console.log"
	boot_guest "$OUT/results.log" "$name" "$name zoo-counters-$name dmesg-clean-$name" \
		--kernel "$KERNEL_IMAGE" --timeout $((secs + 600)) --append "harness.zoo=1" \
		--job "$job" || true
}

run_zoo() {
	local secs=$1 ref
	ref=$((secs / 5))
	[ "$ref" -ge 60 ] || ref=60
	zoo_boot soak-zoo-r1 "$ref" 1
	zoo_boot soak-zoo-r1000 "$secs" "$ZOO_PLAN"
}

# The ratio for the middle third: far from R, so the change is a big one.
middle_ratio() {
	if [ "$1" -ge 1000 ]; then echo 200; else echo 1000; fi
}

run_one() {
	local r=$1 secs=$2 mid name job
	mid=$(middle_ratio "$r")
	name=soak-r$r
	if [ "$BASE" = 1 ]; then
		mid=1
		name=soak-base-r$r
	fi
	make_disk "$OUT/disk.img" 1G
	# The guest writes straight to the results port; the clocksource it
	# booted with is what dmesg-clean expects at the end.
	job="cat /sys/devices/system/clocksource/clocksource0/current_clocksource >/run/dynaccel-boot-clocksource
{
echo '# suite: $name'; soak $secs $r,$mid,$r $IDLE_S; echo \"# suite-exit: $name \$?\"
echo '# suite: dmesg-clean-r$r'; dmesg-clean; echo \"# suite-exit: dmesg-clean-r$r \$?\"
} >/dev/ttyS1 2>&1"
	info "R=$r: $secs real s (plan $r,$mid,$r) after ${IDLE_S} s idle; console log: build/logs/$name-console.log"
	boot_guest "$OUT/results.log" "$name" "$name dmesg-clean-r$r" \
		--kernel "$KERNEL_IMAGE" --timeout $((secs + IDLE_S + 300)) --append "accel=$r" \
		--disk "$OUT/disk.img" --job "$job" || true
	rm -f "$OUT/disk.img"
}

# One table row per ratio from the "# soak-figures:" line of its run.
report() {
	local status=$1
	{
		echo "# dynaccel soak report"
		echo
		echo "Generated $(date -u '+%Y-%m-%d %H:%M UTC') by scripts/soak.sh on $(uname -n),"
		echo "kernel ${KERNEL_IMAGE#"$BUILD"/} at commit $(git -C "$DYNACCEL_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown);"
		echo "guest under QEMU $(pick_accel_name), 2 vCPUs. Idle figures: ${IDLE_S} real s"
		echo "at the boot ratio before the load. Each run moves the ratio to the"
		echo "middle value for its middle third."
		echo
		echo "| plan | real s | accelerated s | idle timer IRQ/s | idle CPU busy % | MiB written (fdatasync/64 KiB) | MiB read back and verified | TCP loopback MiB | TCP veth MiB | timers run | early | ratio changes | hrtimer IRQs | extra handler passes % | hrtimer hangs |"
		echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
		sed -n 's/^# soak-figures: //p' "$OUT/results.log" | awk '
		{
			for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
			printf "| %s | %s | %s | %s | %s | %.1f | %.1f | %.1f | %.1f | %s | %s | %s | %s | %.2f | %s |\n",
				v["plan"], v["real_s"], v["accel_s"], v["idle_irq_per_s"],
				v["idle_busy_pct"], v["written_bytes"] / 1048576,
				v["verified_bytes"] / 1048576, v["loop_bytes"] / 1048576,
				v["veth_bytes"] / 1048576, v["timers"], v["early"], v["changes"],
				v["hrt_irqs"], v["hrt_irqs"] ? 100 * v["hrt_passes"] / v["hrt_irqs"] : 0,
				v["hrt_hangs"]
		}'
		echo
		echo "hrtimer interrupts per segment (extra passes: the handler found new"
		echo "timers due after a pass; its hang detection counts them):"
		echo
		echo '```'
		grep -E '^# (suite: soak-r|hrtimer at R=)' "$OUT/results.log" || true
		echo '```'
		echo
		if grep -q '^# soak-disk:' "$OUT/results.log"; then
			echo "Device zoo, per disk (soak-zoo-r1: R=1; soak-zoo-r1000: plan $ZOO_PLAN)."
			echo "Failed and timed-out commands are the SCSI midlayer's counters over the"
			echo "load (each would be a retry); NVMe has none, its log is judged instead:"
			echo
			echo "| load | disk | MiB written | MiB read back and verified | mismatches | I/O errors |"
			echo "|---|---|---|---|---|---|"
			awk '
			/^# suite: / { suite = $3 }
			/^# soak-disk: / {
				for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
				printf "| %s | %s | %.1f | %.1f | %s | %s |\n", suite, v["dir"],
					v["written_bytes"] / 1048576, v["verified_bytes"] / 1048576,
					v["mismatches"], v["io_errors"]
			}' "$OUT/results.log"
			echo
			echo '```'
			grep -E '^# suite: zoo-counters|^(ok|not ok) [0-9]+ sd' "$OUT/results.log" || true
			echo '```'
			echo
		fi
		echo "Checks (TAP summary):"
		echo
		echo '```'
		cat "$OUT/summary.txt"
		echo '```'
		echo
		echo "Overall: $([ "$status" = 0 ] && echo PASS || echo FAIL)"
	} >"$OUT/report.md"
}

# TCG or KVM, as qemu-run.sh chose (it caches the KVM probe's verdict).
pick_accel_name() {
	local cache=$BUILD/state/kvm-probe
	if [ -f "$cache" ]; then cut -d' ' -f2 "$cache"; else echo tcg; fi
}

main() {
	local spec r secs status=0 t0
	if [ "${1:-}" = --base ]; then
		BASE=1
		shift
	fi
	local -a plan=("$@")
	if [ ${#plan[@]} -eq 0 ]; then
		plan=(1:300 200:300 1000:900 zoo:900)
		[ "$BASE" = 0 ] || plan=(1:90)
	fi
	for spec in "${plan[@]}"; do
		if [[ "$spec" =~ ^zoo:([0-9]+)$ ]]; then
			[ "$BASE" = 0 ] || die "the zoo runs on dynaccel's kernel only, not with --base"
			[ "${BASH_REMATCH[1]}" -ge 60 ] || die "zoo:${BASH_REMATCH[1]}: want at least 60 real seconds"
			continue
		fi
		[[ "$spec" =~ ^([0-9]+):([0-9]+)$ ]] ||
			die "bad plan entry '$spec': want RATIO:REAL_SECONDS (e.g. 1000:900) or zoo:REAL_SECONDS"
		r=${BASH_REMATCH[1]}
		if [ "$r" -lt 1 ] || [ "$r" -gt 1000 ]; then
			die "ratio $r is outside 1..1000"
		fi
		[ "$BASE" = 0 ] || [ "$r" = 1 ] ||
			die "the unpatched kernel (--base) runs at R=1 only, not '$spec'"
	done
	if [ "$BASE" = 1 ]; then
		"$DYNACCEL_ROOT/bench/base-kernel.sh"
		KERNEL_IMAGE=$BUILD/bench/bzImage-base
		OUT=$BUILD/soak-base
	fi
	mkdir -p "$OUT" "$BUILD/logs"
	: >"$OUT/results.log"
	t0=$(now_s)
	for spec in "${plan[@]}"; do
		r=${spec%%:*}
		secs=${spec#*:}
		if [ "$r" = zoo ]; then
			run_zoo "$secs"
		else
			run_one "$r" "$secs"
		fi
	done
	"$DYNACCEL_ROOT/scripts/tap-summary.sh" "$OUT/results.log" >"$OUT/summary.txt" || status=$?
	cat "$OUT/summary.txt"
	report "$status"
	info "soak took $(($(now_s) - t0)) s real; report: $OUT/report.md"
	return "$status"
}

main "$@"
