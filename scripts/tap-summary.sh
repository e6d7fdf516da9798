#!/usr/bin/env bash
# Summarise TAP results of several suites, each framed by
#   # suite: NAME  ...TAP...  # suite-exit: NAME STATUS
# as run-suites (guest) and check.sh (host) write them.
#
#   tap-summary.sh RESULTS-FILE...
#
# A suite counts as failed tests: every "not ok", every test its plan
# promised but did not run, a non-zero exit with no "not ok" to show for it,
# and a suite that started but never finished (guest died or timed out).
# A "not ok ... # TODO" (a known failure, guest/known-failures) counts as
# skipped, and explains a suite's non-zero exit.
# Prints one line per suite and a last line "N passed, N failed, N skipped";
# exits 1 if anything failed.
set -euo pipefail

awk '
function finish(exitcode,   missing) {
	if (suite == "")
		return
	missing = (plan >= 0 && plan > ran) ? plan - ran : 0
	if (plan < 0) {
		printf "# %s: no TAP plan\n", suite
		fail++; sfail++
	}
	if (missing > 0) {
		printf "# %s: planned %d tests, ran %d\n", suite, plan, ran
		fail += missing; sfail += missing
	}
	if (exitcode == "") {
		printf "# %s: did not finish (see the console log)\n", suite
		fail++; sfail++
	} else if (exitcode != 0 && sfail == 0 && stodo == 0) {
		printf "# %s: exited %s without a failing test\n", suite, exitcode
		fail++; sfail++
	}
	printf "# suite %-22s %3d passed, %d failed, %d skipped\n", suite, spass, sfail, sskip
	suite = ""
}
# Lines from the guest serial port end in CR LF.
{ sub(/\r$/, "") }
/^# suite: / {
	finish("")
	suite = $3; plan = -1; ran = 0; spass = 0; sfail = 0; sskip = 0; stodo = 0
	next
}
/^# suite-exit: / {
	if (suite != "")
		finish($4)
	next
}
suite == "" { next }
/^1\.\.[0-9]+/ {
	plan = substr($1, 4) + 0
	next
}
/^ok / {
	ran++
	if ($0 ~ /# [Ss][Kk][Ii][Pp]/) { skip++; sskip++ } else { pass++; spass++ }
	next
}
/^not ok / {
	ran++
	if ($0 ~ /# [Tt][Oo][Dd][Oo]/) { skip++; sskip++; stodo++ } else { fail++; sfail++ }
	next
}
/^Bail out!/ { printf "# %s: %s\n", suite, $0 }
END {
	finish("")
	printf "%d passed, %d failed, %d skipped\n", pass, fail, skip
	exit fail > 0 ? 1 : 0
}
' "$@"
