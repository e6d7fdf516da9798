#!/usr/bin/env bash
# Host test of scripts/tap-summary.sh, the judge of every `make check`: it
# must count what the suites report and catch what they fail to report.
set -euo pipefail

# TAP_SUMMARY: another judge to hold to the same cases (e.g. an old one).
summary=${TAP_SUMMARY:-$(dirname "$0")/../../scripts/tap-summary.sh}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0

# expect NAME WANT-LAST-LINE WANT-STATUS [WANT-LINE] < results
# WANT-LINE, if given, must be one of the lines the judge printed.
expect() {
	local name=$1 want=$2 want_rc=$3 want_line=${4:-} got rc=0
	n=$((n + 1))
	cat >"$tmp/in"
	got=$("$summary" "$tmp/in" 2>&1) || rc=$?
	if [ "$(tail -n 1 <<<"$got")" = "$want" ] && [ "$rc" = "$want_rc" ] &&
		{ [ -z "$want_line" ] || grep -qxF -- "$want_line" <<<"$got"; }; then
		echo "ok $n $name"
	else
		printf '%s\n' "$got" | sed 's/^/# /'
		echo "not ok $n $name (want '$want', status $want_rc; got status $rc)"
		failed=1
	fi
}

echo "TAP version 13"
echo "1..21"

expect "all pass" "2 passed, 0 failed, 0 skipped" 0 <<'EOF_'
# suite: a
1..2
ok 1 one
ok 2 two
# suite-exit: a 0
EOF_

expect "a failure counts" "1 passed, 1 failed, 0 skipped" 1 <<'EOF_'
# suite: a
1..2
ok 1 one
not ok 2 two
# suite-exit: a 1
EOF_

expect "skips are neither" "1 passed, 0 failed, 1 skipped" 0 <<'EOF_'
# suite: a
1..2
ok 1 one
ok 2 two # SKIP not here
# suite-exit: a 0
EOF_

expect "tests missing from the plan fail" "1 passed, 2 failed, 0 skipped" 1 <<'EOF_'
# suite: a
1..3
ok 1 one
# suite-exit: a 0
EOF_

expect "a crash with no failing test fails" "1 passed, 1 failed, 0 skipped" 1 <<'EOF_'
# suite: a
1..1
ok 1 one
# suite-exit: a 139
EOF_

expect "an unfinished suite fails" "1 passed, 2 failed, 0 skipped" 1 <<'EOF_'
# suite: a
1..2
ok 1 one
EOF_

expect "lines outside suites are ignored" "1 passed, 0 failed, 0 skipped" 0 <<'EOF_'
ok 1 stray
not ok 2 stray
# suite: a
1..1
ok 1 one
# suite-exit: a 0
EOF_

expect "a run in which no suite reported fails" "0 passed, 1 failed, 0 skipped" 1 </dev/null

expect "CR LF line ends from a serial port" "1 passed, 0 failed, 0 skipped" 0 \
	< <(printf '# suite: a\r\n1..1\r\nok 1 one\r\n# suite-exit: a 0\r\n')

expect "a known failure (TODO) is skipped and explains the exit" "1 passed, 0 failed, 1 skipped" 0 <<'EOF_'
# suite: a
1..2
ok 1 one
not ok 2 two # TODO issue 4
# suite-exit: a 1
EOF_

expect "a crash after a known failure (TODO) fails" "1 passed, 1 failed, 1 skipped" 1 <<'EOF_'
# suite: a
1..2
ok 1 one
not ok 2 two # TODO issue 4
# suite-exit: a 139
EOF_

expect "a TODO does not excuse a missing plan" "0 passed, 1 failed, 1 skipped" 1 <<'EOF_'
# suite: a
not ok 1 one # TODO issue 4
# suite-exit: a 1
EOF_

expect "SKIP in a description is not a directive" "2 passed, 0 failed, 0 skipped" 0 <<'EOF_'
# suite: a
1..2
ok 1 SKIP list is empty
ok 2 counts \# SKIP escaped
# suite-exit: a 0
EOF_

expect "TODO in a description excuses nothing" "0 passed, 1 failed, 0 skipped" 1 <<'EOF_'
# suite: a
1..1
not ok 1 TODO items were dropped
# suite-exit: a 1
EOF_

expect "an expected suite that never reported fails by name" "1 passed, 1 failed, 0 skipped" 1 \
	"# b: did not run" <<'EOF_'
# boot: check-main /logs/console.log
# expect: a
# expect: b
# suite: a
1..1
ok 1 one
# suite-exit: a 0
# boot-exit: check-main 1
EOF_

expect "a boot that hit a harness error (125) fails" "1 passed, 1 failed, 0 skipped" 1 <<'EOF_'
# suite: host
1..1
ok 1 one
# suite-exit: host 0
# boot: check-main /logs/console.log
# boot-exit: check-main 125
EOF_

expect "a runner that exits 127 fails the boot" "1 passed, 1 failed, 0 skipped" 1 \
	"# boot check-main: the runner exited 127 (console: /logs/console.log)" <<'EOF_'
# boot: check-main /logs/console.log
# suite: a
1..1
ok 1 one
# suite-exit: a 0
# boot-exit: check-main 127
EOF_

expect "a boot that timed out (124) fails" "1 passed, 3 failed, 0 skipped" 1 <<'EOF_'
# boot: check-main /logs/console.log
# suite: a
1..2
ok 1 one
# boot-exit: check-main 124
EOF_

expect "a boot with no exit line fails" "1 passed, 1 failed, 0 skipped" 1 <<'EOF_'
# boot: check-main /logs/console.log
# suite: a
1..1
ok 1 one
# suite-exit: a 0
EOF_

expect "a suite that skipped itself (kselftest 4, no tests) passes" "0 passed, 0 failed, 0 skipped" 0 <<'EOF_'
# suite: a
1..0 # SKIP not a dynaccel kernel
# suite-exit: a 4
EOF_

expect "a suite exiting 2 with only passes fails" "1 passed, 1 failed, 0 skipped" 1 <<'EOF_'
# suite: a
1..1
ok 1 one
# suite-exit: a 2
EOF_

exit $failed
