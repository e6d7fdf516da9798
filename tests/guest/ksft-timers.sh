#!/bin/sh
# Run the kernel's own timers selftests (tools/testing/selftests/timers of
# the same source tree) at ratio R, as one TAP suite: one line per program,
# its output kept as TAP comments, like the kselftest runner does.
#
#   ksft-timers R          the quick set, for make check
#   ksft-timers R --full   every test with its default arguments (make
#                          check-ksft; about an hour at R=1 under TCG)
#
# The table says, for each test, the arguments of the quick run ("-": not
# in the quick run, with the real time it takes at R=1 under TCG) and
# whether it can hold at R > 1. A test that cannot hold by design at R > 1
# is reported as SKIP with the reason; see README.md, "Timers selftests".

dir=/usr/lib/dynaccel/ksft-timers
r=${1:?usage: ksft-timers R [--full]}
full=${2:-}

# name|quick arguments|at R>1: "run" or why it cannot hold there
tests='
posix_timers|-|compares CPU-time timers and ITIMER_VIRTUAL/PROF (real CPU) with gettimeofday (accelerated)
nanosleep||run
nsleep-lat|-|fixed lateness bound in accelerated ns: real latency x R exceeds it (accel-timers checks lateness scaled)
set-timer-lat|-|fixed lateness bound in accelerated ns: real latency x R exceeds it (accel-timers checks lateness scaled)
mqueue-lat||fixed lateness bound in accelerated ns: real latency x R exceeds it (accel-timers checks lateness scaled)
inconsistency-check|-t 3|run
raw_skew|-|measures MONOTONIC against MONOTONIC_RAW, which differ by R by design
threadtest|-t 10|run
rtcpie|-|its 10% bound on each RTC periodic interrupt (0.1 ms at 1024 Hz) is in accelerated time: real latency x R exceeds it
valid-adjtimex||run
adjtick|-|measures the MONOTONIC frequency against MONOTONIC_RAW
change_skew|-|runs raw_skew, which measures MONOTONIC against MONOTONIC_RAW
skew_consistency|-|run
clocksource-switch|-t 2|run
freq-step|-|measures the MONOTONIC frequency against MONOTONIC_RAW
leap-a-day|-i 2|run
leapcrash||run
set-tai||run
set-2038|-|runs nsleep-lat, whose fixed lateness bound cannot hold at R > 1
set-tz||run
alarmtimer-suspend|never|suspends to RAM, which the test guest cannot do
'

# Real seconds each long test takes at R=1 under TCG, for the SKIP reason.
long_time() {
	case $1 in
	posix_timers) echo "30 s, and 3 of its 18 checks fail on the unpatched kernel under TCG" ;;
	rtcpie) echo "20 s, and its 10% bound on each period (0.1 ms at 1024 Hz) is within TCG's noise: it failed at R=1, where dynaccel's code is patched out, on a loaded host" ;;
	nsleep-lat) echo "130 s" ;;
	set-timer-lat) echo "120 s" ;;
	raw_skew) echo "120 s" ;;
	adjtick) echo "130 s" ;;
	change_skew) echo "20 min" ;;
	skew_consistency) echo "10 min" ;;
	freq-step) echo "several minutes" ;;
	set-2038) echo "several minutes" ;;
	esac
}

count=$(printf '%s\n' "$tests" | grep -c '|')
echo "TAP version 13"
echo "1..$count"

if [ "$r" -gt 1 ]; then
	echo "$r" > /proc/sys/kernel/accel || {
		echo "Bail out! cannot set kernel.accel=$r"
		exit 1
	}
fi

n=0
failed=0
cd "$dir" || exit 1
printf '%s\n' "$tests" | grep '|' > /tmp/ksft-timers.list
while IFS='|' read -r name args verdict; do
	n=$((n + 1))
	if [ "$args" = never ]; then
		echo "ok $n timers/$name # SKIP $verdict"
		continue
	fi
	if [ "$r" -gt 1 ] && [ "$verdict" != run ]; then
		echo "ok $n timers/$name R=$r # SKIP $verdict"
		continue
	fi
	if [ "$full" = --full ]; then
		args=''
	elif [ "$args" = - ]; then
		# Long tests at R=1 belong to make check-ksft; at R > 1 their
		# sleeps are short, so the quick run has them.
		if [ "$r" -eq 1 ]; then
			echo "ok $n timers/$name R=$r # SKIP takes $(long_time "$name") at R=1 under TCG: run by make check-ksft"
			continue
		fi
		args=''
	fi
	# shellcheck disable=SC2086 # $args holds separate words
	rawtimeout 300 "./$name" $args > /tmp/ksft.out 2>&1
	status=$?
	sed 's/^/# /' /tmp/ksft.out
	case $status in
	0) echo "ok $n timers/$name R=$r" ;;
	4) echo "ok $n timers/$name R=$r # SKIP (the test skipped itself)" ;;
	*) echo "not ok $n timers/$name R=$r (exit $status)"; failed=1 ;;
	esac
	# Tests that set the clock leave it wherever they stopped: restore
	# the ratio and carry on from a known state.
	[ "$r" -gt 1 ] && echo "$r" > /proc/sys/kernel/accel
done < /tmp/ksft-timers.list

[ "$r" -gt 1 ] && echo 1 > /proc/sys/kernel/accel
exit $failed
