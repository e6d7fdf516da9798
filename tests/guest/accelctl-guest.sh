#!/bin/sh
# In-guest tests of accelctl against a real dynaccel kernel.
#
#   accelctl-guest.sh           (as root, accelctl on PATH, busybox sh is enough)
#
# Every command is checked against the kernel's clocks: status against
# CLOCK_MONOTONIC_RAW and the RTC, set/get against /proc/sys/kernel/accel,
# run's restore on every way out, the lock, and reset --wall-clock against
# the RTC. Output is TAP version 13; non-zero exit when anything fails.
# Ratio 1 is left behind whatever happens (trap).
#
# Timing: sleep(1) runs accelerated when R > 1, so it is used either at
# R=1 or as a deliberate way to spend R*N accelerated seconds; waits are
# bounded in real seconds as reported by accelctl itself.

# Overridable like the tool's own defaults, only to dry-run this script's
# logic outside a guest; the real run uses the kernel's files.
SYSCTL=${ACCELCTL_SYSCTL:-/proc/sys/kernel/accel}
RTC_SYSFS=/sys/class/rtc/rtc0/since_epoch

n=0
failed=0
bgpid=
tmp=$(mktemp -d /tmp/accelctl-test.XXXXXX) || exit 1

cleanup() {
	if [ -n "$bgpid" ]; then
		kill -KILL "$bgpid" 2> /dev/null
		wait "$bgpid" 2> /dev/null
	fi
	# Ratio 1 and a real wall clock; the plain write if the tool fails.
	accelctl reset --wall-clock > /dev/null 2>&1 ||
		accelctl reset > /dev/null 2>&1 ||
		echo 1 > "$SYSCTL"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "TAP version 13"

# t STATUS DESC: one TAP line from a condition's status ("cond; t $? desc").
t() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
		return 0
	fi
	echo "not ok $n - $2"
	failed=$((failed + 1))
	echo "# rc=${rc:-} stdout=$(head -c 300 "$tmp/out" 2> /dev/null | tr '\n' '|')"
	echo "# stderr=$(head -c 300 "$tmp/err" 2> /dev/null | tr '\n' '|')"
}

# acc ARGS...: run accelctl; sets rc and out ($tmp/err has stderr).
acc() {
	rc=0
	accelctl "$@" > "$tmp/out" 2> "$tmp/err" || rc=$?
	out=$(cat "$tmp/out")
}

rc_is() { [ "$rc" -eq "$1" ]; }
out_is() { [ "$out" = "$1" ]; }
ratio_is() { [ "$(cat "$SYSCTL")" = "$1" ]; }
err_has() { grep -qF -- "$1" "$tmp/err"; }

# jget KEY FILE: a number (or null) from accelctl's one-line JSON.
jget() { sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p" "$2"; }

# Float comparisons, busybox awk doing the arithmetic.
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }
between() { awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(x + 0 >= lo + 0 && x + 0 <= hi + 0) }'; }
abs_le() { awk -v x="$1" -v m="$2" 'BEGIN { if (x < 0) x = -x; exit !(x <= m + 0) }'; }

# Real seconds since boot, from the tool (CLOCK_MONOTONIC_RAW). No RTC:
# polling it costs port I/O, and this runs in loops.
real_now() {
	ACCELCTL_RTC=/nonexistent accelctl status --json > "$tmp/now" 2> /dev/null
	jget real_since_boot_s "$tmp/now"
}

# wait_for COND...: poll until COND holds, at most 10 real seconds.
wait_for() {
	deadline=$(awk -v s="$(real_now)" 'BEGIN { print s + 10 }')
	while ! "$@"; do
		ge "$(real_now)" "$deadline" && return 1
		sleep 0.01
	done
	return 0
}

# The command of the background runs: note its pid, then sleep long (in
# accelerated seconds); a signal that got lost shows as a failed check.
cat > "$tmp/child.sh" << 'EOF'
echo $$ > "$1"
exec sleep 100000
EOF

# start_run RATIO [OPTIONS]: accelctl run RATIO in the background; returns
# once its command runs.
start_run() {
	r=$1
	shift
	rm -f "$tmp/child.pid"
	accelctl run "$@" "$r" -- sh "$tmp/child.sh" "$tmp/child.pid" \
		> "$tmp/bg.out" 2> "$tmp/bg.err" &
	bgpid=$!
	wait_for ratio_is "$r"
	wait_for test -s "$tmp/child.pid"
}

# stop_run SIGNAL: send it to accelctl (not to its command); sets rc.
stop_run() {
	kill -s "$1" "$bgpid"
	rc=0
	wait "$bgpid" || rc=$?
	bgpid=
}

child_gone() { ! kill -0 "$(cat "$tmp/child.pid")" 2> /dev/null; }

mkdir -p /run	# the default lock file lives there

# --- basics ---------------------------------------------------------------

acc --version
rc_is 0 && case $out in "accelctl "*) true ;; *) false ;; esac
t $? "--version"

acc set 1
rc_is 0 && ratio_is 1
t $? "set 1"

acc get
rc_is 0 && out_is "$(cat "$SYSCTL")" && out_is 1
t $? "get agrees with $SYSCTL"

acc set 10
rc_is 0 && ratio_is 10
t $? "set 10 reaches the kernel"

acc get
rc_is 0 && out_is 10
t $? "get reads back 10"

for bad in 0 1001 -5 abc 10x 99999999999999999999; do
	acc set "$bad"
	rc_is 2 && err_has "ratio must be an integer from 1 to 1000" && ratio_is 10
	t $? "set '$bad' exits 2, kernel ratio unchanged"
done

# --- status against the clocks ------------------------------------------

acc status
rc_is 0 && grep -q "^ratio: *10$" "$tmp/out"
t $? "status shows ratio 10"

acc status --json
cp "$tmp/out" "$tmp/j1"
ok=0
rc_is 0 || ok=1
case $out in "{"*"}") ;; *) ok=1 ;; esac
for key in ratio real_since_boot_s accel_since_boot_s wall_clock_s \
	rtc_device rtc_s wall_clock_ahead_s rtc_error; do
	grep -q "\"$key\":" "$tmp/j1" || ok=1
done
t $ok "status --json is one object with every documented key"

[ "$(jget ratio "$tmp/j1")" = 10 ]
t $? "status --json ratio is 10"

real1=$(jget real_since_boot_s "$tmp/j1")
accel1=$(jget accel_since_boot_s "$tmp/j1")
# Equal until the first change of ratio, ahead ever since (10 ns of slack).
ge "$accel1" "$(awk -v r="$real1" 'BEGIN { print r - 0.00000001 }')"
t $? "accelerated time since boot ($accel1) >= real time since boot ($real1)"

rtc1=$(jget rtc_s "$tmp/j1")
[ -n "$rtc1" ] && [ "$rtc1" != null ]
t $? "status reads the RTC ($rtc1)"

if [ -r "$RTC_SYSFS" ]; then
	abs_le "$(($(cat "$RTC_SYSFS") - rtc1))" 2
	t $? "status's RTC time matches $RTC_SYSFS"
else
	t 0 "status's RTC time matches sysfs # SKIP no $RTC_SYSFS"
fi

# 5 accelerated seconds at R=10 are half a real one.
sleep 5
acc status --json
cp "$tmp/out" "$tmp/j2"
rate=$(awk -v r1="$real1" -v a1="$accel1" \
	-v r2="$(jget real_since_boot_s "$tmp/j2")" \
	-v a2="$(jget accel_since_boot_s "$tmp/j2")" \
	'BEGIN { printf "%.3f", (a2 - a1) / (r2 - r1) }')
between "$rate" 9.5 10.5
t $? "status clocks advance at the ratio (measured $rate at R=10)"

# --- run: restore on every way out -----------------------------------------

acc run 20 -- cat "$SYSCTL"
rc_is 0 && out_is 20
t $? "run 20 runs the command at ratio 20"
ratio_is 10
t $? "run restores the previous ratio (10) on success"

acc run 20 -- sh -c 'exit 7'
rc_is 7 && ratio_is 10
t $? "run propagates a failing status (7), ratio restored"

acc run 20 -- no-such-command-accelctl
rc_is 127 && ratio_is 10
t $? "run exits 127 for a missing command, ratio untouched"

acc run 20 --
rc_is 2 && ratio_is 10
t $? "run with nothing after -- exits 2"

acc set 1
for sig in INT TERM HUP; do
	case $sig in
	INT) want=130 ;;
	TERM) want=143 ;;
	HUP) want=129 ;;
	esac
	start_run 50
	stop_run "$sig"
	rc_is "$want" && child_gone && ratio_is 1
	t $? "SIG$sig to accelctl run: exit $want, command stopped, ratio 1 restored"
done

# --- the lock ------------------------------------------------------------

start_run 3
acc run 4 -- touch "$tmp/marker"
rc_is 5 && ratio_is 3 && [ ! -e "$tmp/marker" ] && err_has "--force"
t $? "a second run is refused with exit 5, ratio 3 kept"

acc run --force 4 -- cat "$SYSCTL"
rc_is 0 && out_is 4 && ratio_is 3
t $? "run --force overrides the lock and restores ratio 3"

stop_run TERM
rc_is 143 && ratio_is 1
t $? "the first run restores ratio 1 when stopped"

# --- reset ---------------------------------------------------------------

acc set 100
acc reset
rc_is 0 && ratio_is 1
t $? "reset brings ratio 100 back to 1"

acc status --json
ahead0=$(jget wall_clock_ahead_s "$tmp/out")
acc set 1000
# 300 accelerated seconds, a third of a real one: the wall clock gains
# about 300 s on the RTC (more, for the time the tool calls take).
sleep 300
acc status --json
ahead1=$(jget wall_clock_ahead_s "$tmp/out")
acc reset
ge "$((ahead1 - ahead0))" 250
t $? "at R=1000 the wall clock runs ahead of the RTC (gained $((ahead1 - ahead0)) s)"

acc set 1000
sleep 100
acc reset --wall-clock
rc_is 0 && ratio_is 1
t $? "reset --wall-clock exits 0 with ratio 1"

acc status --json
ahead2=$(jget wall_clock_ahead_s "$tmp/out")
abs_le "$ahead2" 2
t $? "after reset --wall-clock the wall clock is within 2 s of the RTC ($ahead2 s)"

if [ -r "$RTC_SYSFS" ]; then
	abs_le "$(($(date +%s) - $(cat "$RTC_SYSFS")))" 2
	t $? "date(1) agrees with $RTC_SYSFS within 2 s"
else
	t 0 "date(1) agrees with the RTC # SKIP no $RTC_SYSFS"
fi

ratio_is 1
t $? "ratio 1 at the end"

echo "1..$n"
if [ "$failed" -ne 0 ]; then
	echo "# $failed of $n failed"
fi
# The script's status; the EXIT trap leaves it as it is.
[ "$failed" -eq 0 ]
