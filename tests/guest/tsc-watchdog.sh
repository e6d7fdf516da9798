#!/bin/sh
# tsc-watchdog: in a boot with harness.tsc=watched (no tsc=reliable), the
# clocksource watchdog checks the TSC against another hardware clock, as
# on a real machine. It compares two real clocks at a real interval (patch
# 20, "clocksource: Run the watchdog at a real interval"), so a ratio of
# 1000 must not make it mark the TSC unstable any more often than R=1
# does: the TSC is watched for WINDOW real seconds at R=1 and then at
# R=1000. Under TCG a loaded host can make the TSC look unstable at R=1
# already; then there is nothing to compare, and the test says so as a
# SKIP rather than pass or fail.
#
#   tsc-watchdog WINDOW_SECONDS

window=${1:?usage: tsc-watchdog WINDOW_SECONDS}
cs=/sys/devices/system/clocksource/clocksource0

echo "TAP version 13"
echo "1..3"

marks() {
	dmesg | grep -c -E "Marking clocksource 'tsc' as unstable|Marking TSC unstable"
}

current=$(cat "$cs/current_clocksource")
watchdogs=$(tr ' ' '\n' < "$cs/available_clocksource" | grep -E '^(hpet|acpi_pm)$' | tr '\n' ' ')
if grep -qw 'tsc=reliable' /proc/cmdline || ! grep -qw 'harness.tsc=watched' /proc/cmdline; then
	echo "not ok 1 booted with the TSC watched (want harness.tsc=watched, no tsc=reliable)"
	exit 1
fi
if [ "$current" != tsc ]; then
	if [ "$(marks)" -gt 0 ]; then
		dmesg | grep -i 'clocksource' | sed 's/^/# /'
		why="the watchdog marked the TSC unstable during boot at R=1 (host too loaded to compare)"
		echo "ok 1 TSC watched # SKIP $why"
		echo "ok 2 R=1 # SKIP $why"
		echo "ok 3 R=1000 # SKIP $why"
		exit 0
	fi
	why="the clocksource is $current, not tsc (under KVM kvm-clock is preferred)"
	echo "ok 1 TSC watched # SKIP $why"
	echo "ok 2 R=1 # SKIP $why"
	echo "ok 3 R=1000 # SKIP $why"
	exit 0
fi
if [ -z "$watchdogs" ]; then
	echo "not ok 1 no watchdog clocksource (hpet, acpi_pm) to check the TSC against"
	exit 1
fi
echo "ok 1 the TSC is the clocksource, watched against: $watchdogs"

failed=0
echo 1 > /proc/sys/kernel/accel
before=$(marks)
sleep "$window"
at1=$(($(marks) - before))
if [ "$at1" -gt 0 ] || [ "$(cat "$cs/current_clocksource")" != tsc ]; then
	why="the watchdog marked the TSC unstable at R=1 within $window s (host too loaded to compare)"
	dmesg | grep -i 'clocksource' | tail -n 5 | sed 's/^/# /'
	echo "ok 2 R=1 # SKIP $why"
	echo "ok 3 R=1000 # SKIP $why"
	exit 0
fi
echo "ok 2 R=1: the TSC stayed stable for $window real s"

echo 1000 > /proc/sys/kernel/accel
before=$(marks)
# $window real seconds are 1000 times as many accelerated ones.
sleep $((window * 1000))
at1000=$(($(marks) - before))
echo 1 > /proc/sys/kernel/accel
if [ "$at1000" -eq 0 ] && [ "$(cat "$cs/current_clocksource")" = tsc ]; then
	echo "ok 3 R=1000: the TSC stayed stable for $window real s, as at R=1"
else
	dmesg | grep -i 'clocksource' | tail -n 5 | sed 's/^/# /'
	echo "not ok 3 R=1000: the TSC was marked unstable $at1000 times in $window real s (0 at R=1); clocksource now $(cat "$cs/current_clocksource")"
	failed=1
fi
exit $failed
