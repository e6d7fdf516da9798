#!/usr/bin/env bash
# Host test of scripts/tap-summary.sh, the judge of every `make check`: it
# must count what the suites report and catch what they fail to report.
set -euo pipefail

summary=$(dirname "$0")/../../scripts/tap-summary.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0

# expect NAME WANT-LAST-LINE WANT-STATUS < results
expect() {
	local name=$1 want=$2 want_rc=$3 got rc=0
	n=$((n + 1))
	cat >"$tmp/in"
	got=$("$summary" "$tmp/in" 2>&1) || rc=$?
	if [ "$(tail -n 1 <<<"$got")" = "$want" ] && [ "$rc" = "$want_rc" ]; then
		echo "ok $n $name"
	else
		printf '%s\n' "$got" | sed 's/^/# /'
		echo "not ok $n $name (want '$want', status $want_rc; got status $rc)"
		failed=1
	fi
}

echo "TAP version 13"
echo "1..9"

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

expect "lines outside suites are ignored" "0 passed, 0 failed, 0 skipped" 0 <<'EOF_'
ok 1 stray
not ok 2 stray
EOF_

expect "CR LF line ends from a serial port" "1 passed, 0 failed, 0 skipped" 0 \
	< <(printf '# suite: a\r\n1..1\r\nok 1 one\r\n# suite-exit: a 0\r\n')

expect "a known failure (TODO) is skipped and explains the exit" "1 passed, 0 failed, 1 skipped" 0 <<'EOF_'
# suite: a
1..2
ok 1 one
not ok 2 two # TODO issue 4
# suite-exit: a 1
EOF_

exit $failed
