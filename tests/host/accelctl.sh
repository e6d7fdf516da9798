#!/usr/bin/env bash
# Host-side tests of accelctl, against a fake kernel.accel file.
#
#   tests/host/accelctl.sh PATH_TO_ACCELCTL
#
# No dynaccel kernel is needed: ACCELCTL_SYSCTL, ACCELCTL_RTC and
# ACCELCTL_LOCK point the tool at files in a temporary directory. Nothing
# here touches the host's clocks or /proc/sys. Output is TAP version 13;
# the exit status is non-zero when any test fails.
set -euo pipefail

if [[ $# -ne 1 ]]; then
	echo "usage: $0 PATH_TO_ACCELCTL" >&2
	exit 2
fi
ACC=$(readlink -f "$1")
[[ -x $ACC ]] || { echo "$0: $1 is not executable" >&2; exit 2; }

tmp=$(mktemp -d)
bgpid=
cleanup() {
	if [[ -n $bgpid ]]; then
		kill -KILL "$bgpid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

sysctl=$tmp/accel
export ACCELCTL_SYSCTL=$sysctl
export ACCELCTL_RTC=$tmp/no-rtc
export ACCELCTL_LOCK=$tmp/accelctl.lock
printf '1\n' > "$sysctl"

BAD_RATIO_MSG="accelctl: ratio must be an integer from 1 to 1000"
NO_ACCEL_MSG="accelctl: this kernel has no dynamic acceleration; boot a dynaccel kernel"

# shellcheck source=tests/host/tap.sh
. "$(dirname "$0")/tap.sh"
# What the last accelctl call (the likely culprit of a failure) said.
check_diag() {
	echo "# rc=${rc:-} stdout=$(head -c 300 "$tmp/out" 2> /dev/null | tr '\n' '|')"
	echo "# stderr=$(head -c 300 "$tmp/err" 2> /dev/null | tr '\n' '|')"
}
echo "TAP version 13"

skip() {
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}

# acc ARGS...: run accelctl; sets rc, out, err.
acc() {
	rc=0
	"$ACC" "$@" > "$tmp/out" 2> "$tmp/err" || rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
}

ratio_is() { [[ $(cat "$sysctl") == "$1" ]]; }
rc_is() { [[ $rc -eq $1 ]]; }
err_has() { grep -qF -- "$1" "$tmp/err"; }
err_is() { [[ $err == "$1" ]]; }
err_empty() { [[ -z $err ]]; }
out_is() { [[ $out == "$1" ]]; }
out_starts() { [[ $out == "$1"* ]]; }
out_re() { [[ $out =~ $1 ]]; }
out_grep() { grep -q -- "$1" "$tmp/out"; }
out_lines() { [[ $(wc -l < "$tmp/out") -eq $1 ]]; }
absent() { [[ ! -e $1 ]]; }
one_err_line() { [[ $(wc -l < "$tmp/err") -eq 1 ]] && err_has "accelctl: "; }

json_ok() { python3 -m json.tool < "$tmp/out" > /dev/null; }

# --- arguments ----------------------------------------------------------

acc --help
check "--help exits 0 with usage" rc_is 0 and out_starts "Usage: accelctl"
acc -h
check "-h exits 0 with usage" rc_is 0 and out_starts "Usage: accelctl"
acc --version
check "--version prints 'accelctl VERSION'" rc_is 0 and out_re '^accelctl [0-9][0-9.]*$'
acc -V
check "-V prints 'accelctl VERSION'" rc_is 0 and out_re '^accelctl [0-9]'
acc --bogus
check "unknown long option exits 2 with one line" rc_is 2 and one_err_line and err_has "--bogus"
acc -x get
check "unknown short option exits 2" rc_is 2 and err_has "-x"
acc frobnicate
check "unknown command exits 2" rc_is 2 and err_has "frobnicate"
acc --sysctl-path
check "option without its argument exits 2" rc_is 2 and err_has "needs an argument"
acc get --json
check "--json with get exits 2" rc_is 2
acc set --force 5
check "--force with set exits 2, ratio unchanged" rc_is 2 and ratio_is 1
acc get extra
check "get with an extra word exits 2" rc_is 2
acc set
check "set without a ratio exits 2" rc_is 2 and ratio_is 1
acc set 5 6
check "set with two ratios exits 2, ratio unchanged" rc_is 2 and ratio_is 1

for bad in 0 1001 -5 abc 1.5 10x "" 99999999999999999999 +5 " 5" "5 " 0x10; do
	acc set "$bad"
	check "set '$bad' exits 2 with the ratio message, file unchanged" \
		rc_is 2 and err_is "$BAD_RATIO_MSG" and ratio_is 1
done
acc set -- -5
check "set -- -5 exits 2 with the ratio message" rc_is 2 and err_is "$BAD_RATIO_MSG" and ratio_is 1

# --- get / set ----------------------------------------------------------

acc get
check "get prints the ratio alone" rc_is 0 and out_is 1
acc set 1000
check "set 1000 writes 1000" rc_is 0 and ratio_is 1000 and err_empty
acc get
check "get reads back 1000" rc_is 0 and out_is 1000
acc set 007
check "set 007 writes plain decimal 7" rc_is 0 and ratio_is 7
acc set -- 1
check "set -- 1 writes 1" rc_is 0 and ratio_is 1
printf '12\n' > "$tmp/other"
acc --sysctl-path "$tmp/other" get
check "--sysctl-path overrides ACCELCTL_SYSCTL" rc_is 0 and out_is 12
printf 'garbage\n' > "$tmp/other"
acc --sysctl-path="$tmp/other" get
check "unexpected sysctl contents exit 1" rc_is 1 and one_err_line

# --- a kernel without kernel.accel --------------------------------------

export ACCELCTL_SYSCTL=$tmp/missing
acc get
check "get without kernel.accel exits 3 with the exact message" \
	rc_is 3 and err_is "$NO_ACCEL_MSG"
acc set 5
check "set without kernel.accel exits 3" rc_is 3 and err_is "$NO_ACCEL_MSG"
acc status
check "status without kernel.accel exits 3" rc_is 3 and err_is "$NO_ACCEL_MSG"
acc run 5 -- touch "$tmp/marker"
check "run without kernel.accel exits 3, command not run" \
	rc_is 3 and err_is "$NO_ACCEL_MSG" and absent "$tmp/marker"
acc reset
check "reset without kernel.accel exits 3" rc_is 3
export ACCELCTL_SYSCTL=$sysctl

# --- permission ---------------------------------------------------------

# The kernel says EPERM to a writer without CAP_SYS_TIME; a plain file says
# EACCES to a user who may not write it. Both must map to exit status 4.
mkdir -m 1777 "$tmp/shared"
if [[ $EUID -eq 0 ]] && command -v setpriv > /dev/null; then
	# The binary and the fake file must be reachable by nobody, wherever
	# the binary was built.
	chmod 755 "$tmp"
	chmod 644 "$sysctl"
	mkdir -m 755 "$tmp/bin"
	install -m 755 "$ACC" "$tmp/bin/accelctl"
	as_user() {
		rc=0
		setpriv --reuid=65534 --regid=65534 --clear-groups \
			env ACCELCTL_LOCK="$tmp/shared/lock" "$tmp/bin/accelctl" "$@" \
			> "$tmp/out" 2> "$tmp/err" || rc=$?
		out=$(cat "$tmp/out")
		err=$(cat "$tmp/err")
	}
	how="as nobody"
elif [[ $EUID -ne 0 ]]; then
	chmod 444 "$sysctl"
	as_user() { ACCELCTL_LOCK="$tmp/shared/lock" acc "$@"; }
	how="read-only file"
fi
if [[ -n ${how:-} ]]; then
	as_user get
	check "get works without privilege ($how)" rc_is 0 and out_is 1
	as_user set 5
	check "set without permission exits 4 with the CAP_SYS_TIME message ($how)" \
		rc_is 4 and err_is "accelctl: changing the time ratio needs CAP_SYS_TIME; run as root" and ratio_is 1
	as_user run 5 -- touch "$tmp/shared/marker"
	check "run without permission exits 4 and does not run the command ($how)" \
		rc_is 4 and ratio_is 1 and absent "$tmp/shared/marker"
	as_user reset
	check "reset without permission exits 4 ($how)" rc_is 4
	chmod 644 "$sysctl"
else
	for d in get set run reset; do
		skip "$d without permission" "root without setpriv"
	done
fi

# --- run ----------------------------------------------------------------

acc run 9 -- cat "$sysctl"
check "run sets the ratio for the command" rc_is 0 and out_is 9
check "run restores ratio 1 after success" ratio_is 1
printf '3\n' > "$sysctl"
acc run 9 -- true
check "run restores the previous ratio (3), not 1" rc_is 0 and ratio_is 3
printf '1\n' > "$sysctl"
acc run 9 -- sh -c 'exit 42'
check "run propagates a failing status (42) and restores" rc_is 42 and ratio_is 1
acc run 9 -- sh -c 'kill -KILL $$'
check "run exits 128+9 when the command is killed, restores" rc_is 137 and ratio_is 1
acc run 9 -- printf '%s|' --json -x
check "words after -- reach the command untouched" rc_is 0 and out_is "--json|-x|"
acc run 9 true
check "run without -- works for a command without options" rc_is 0 and ratio_is 1
acc run 9 -- no-such-command-accelctl-test
check "run exits 127 for a missing command, ratio untouched" \
	rc_is 127 and err_has "command not found" and ratio_is 1
acc run 9 -- "$tmp/missing/cmd"
check "run exits 127 for a missing path" rc_is 127 and ratio_is 1
printf '#!/bin/sh\n' > "$tmp/notexec"
chmod 644 "$tmp/notexec"
acc run 9 -- "$tmp/notexec"
check "run exits 126 for a non-executable file" rc_is 126 and ratio_is 1
acc run 9 -- "$tmp"
check "run exits 126 for a directory" rc_is 126 and ratio_is 1
acc run 9 --
check "run with nothing after -- exits 2" \
	rc_is 2 and err_has "missing command after" and ratio_is 1
acc run 9
check "run without a command exits 2" rc_is 2 and ratio_is 1
acc run -- true
check "run without a ratio exits 2" rc_is 2 and ratio_is 1
acc run 0 -- touch "$tmp/marker"
check "run with a bad ratio exits 2 and does not run the command" \
	rc_is 2 and err_is "$BAD_RATIO_MSG" and absent "$tmp/marker"

# wait_for COND...: poll up to ~10 s for a condition.
wait_for() {
	local i
	for ((i = 0; i < 1000; i++)); do
		"$@" && return 0
		sleep 0.01
	done
	return 1
}

# The command of the background runs: note its pid, sleep (not forever,
# should a signal get lost).
cat > "$tmp/child.sh" << 'EOF'
echo $$ > "$1"
exec sleep 30
EOF

# start_run RATIO [default|ignore]: accelctl run RATIO in the background,
# with SIGHUP at its default or ignored, and wait until its command runs.
# The disposition is set here: under nohup, accelctl keeps SIGHUP ignored
# (by design), and the caller's must not decide the result.
start_run() {
	rm -f "$tmp/child.pid"
	env --"${2:-default}"-signal=HUP \
		"$ACC" run "$1" -- sh "$tmp/child.sh" "$tmp/child.pid" \
		> "$tmp/bg.out" 2> "$tmp/bg.err" &
	bgpid=$!
	# On a timeout the checks that follow fail; no need to stop here.
	wait_for ratio_is "$1" || true
	wait_for test -s "$tmp/child.pid" || true
}

# stop_run SIGNAL: send it to accelctl, wait; sets rc.
stop_run() {
	rc=0
	kill -s "$1" "$bgpid" || true
	wait "$bgpid" || rc=$?
	bgpid=
}

child_gone() { ! kill -0 "$(cat "$tmp/child.pid")" 2> /dev/null; }
child_runs() { ! child_gone; }

for sig in INT TERM HUP; do
	case $sig in
	INT) want=130 ;;
	TERM) want=143 ;;
	HUP) want=129 ;;
	esac
	start_run 8
	stop_run "$sig"
	check "SIG$sig to run: exit $want, command stopped, ratio restored" \
		rc_is "$want" and child_gone and ratio_is 1
done

# Under nohup, SIGHUP stays ignored, for accelctl and its command.
start_run 8 ignore
kill -s HUP "$bgpid" || true
sleep 0.5
check "an ignored SIGHUP (nohup) stays ignored: the command runs on at its ratio" \
	child_runs and ratio_is 8
stop_run TERM
check "then SIGTERM stops it: exit 143, command stopped, ratio restored" \
	rc_is 143 and child_gone and ratio_is 1

# --- the lock -----------------------------------------------------------

start_run 3
acc run 4 -- touch "$tmp/marker"
check "a second run is refused with exit 5, ratio kept, command not run" \
	rc_is 5 and ratio_is 3 and absent "$tmp/marker" and one_err_line
check "the refusal names the other run's pid and --force" \
	err_has "pid $bgpid" and err_has "--force"
acc run --force 4 -- cat "$sysctl"
check "--force overrides the lock, then restores the ratio it found" \
	rc_is 0 and out_is 4 and ratio_is 3
stop_run TERM
check "the first run still restores ratio 1" rc_is 143 and ratio_is 1
acc run 4 -- true
check "the lock is free once the run ended" rc_is 0 and ratio_is 1

# --- status -------------------------------------------------------------

acc status
check "status without an RTC says unknown and exits 0" \
	rc_is 0 and out_grep "^wall clock ahead of RTC: *unknown"
check "status shows the ratio" out_grep "^ratio: *1$"
acc
check "no command means status" rc_is 0 and out_grep "^ratio:"
acc --rtc-device "$sysctl" status
check "status with a non-RTC device says unknown and exits 0" \
	rc_is 0 and out_grep "^RTC: *unknown"
printf '25\n' > "$sysctl"
acc status --json
if command -v python3 > /dev/null; then
	check "status --json is valid JSON" \
		rc_is 0 and json_ok
	check "status --json has the documented keys and values" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
keys = {"ratio", "real_since_boot_s", "accel_since_boot_s", "wall_clock_s",
	"rtc_device", "rtc_s", "wall_clock_ahead_s", "rtc_error"}
assert set(d) == keys, set(d) ^ keys
assert d["ratio"] == 25
assert d["rtc_s"] is None and d["wall_clock_ahead_s"] is None
assert isinstance(d["rtc_error"], str)
assert d["real_since_boot_s"] > 0 and d["accel_since_boot_s"] > 0
' "$tmp/out"
else
	skip "status --json is valid JSON" "no python3"
	skip "status --json has the documented keys and values" "no python3"
fi
check "status --json is one line" out_lines 1

# --- reset --------------------------------------------------------------

acc reset --wall-clock
check "reset --wall-clock without an RTC exits 1 and changes nothing" \
	rc_is 1 and ratio_is 25 and err_has "RTC"
acc reset
check "reset sets ratio 1" rc_is 0 and ratio_is 1
acc reset now
check "reset with an extra word exits 2" rc_is 2

echo "1..$n"
if [[ $failed -ne 0 ]]; then
	echo "# $failed of $n failed"
	exit 1
fi
