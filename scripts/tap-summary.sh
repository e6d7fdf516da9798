#!/usr/bin/env bash
# The judge of every check run: summarise the TAP results of several suites
# and boots, as check.sh, soak.sh and bench.sh (scripts/boot.sh) and
# run-suites write them:
#
#   # boot: NAME LOG           a guest boot begins; LOG is its console log
#   # expect: SUITE            a suite that must report (one line each)
#   # suite: SUITE             ... its TAP output ...
#   # suite-exit: SUITE STATUS
#   # boot-exit: NAME STATUS   the boot is over; STATUS is the runner's
#
#   tap-summary.sh RESULTS-FILE...
#
# Nothing that did not run can pass. Failed, each counted and named:
#   - every "not ok" that is not a TODO, and every "Bail out!";
#   - every test a suite's plan promised but did not run, and a missing plan;
#   - a suite that started but never exited (the guest died or timed out);
#   - a suite whose exit status is not one a suite may end with: 0, 1 with
#     a "not ok" to show for it, or 4 (kselftest's skip) when it ran no
#     test or skipped every one. A TODO explains an exit of 1, never a
#     crash (139), a timeout (124) or any other status;
#   - every expected suite that never reported;
#   - a boot whose runner ended with anything but 0 or 1 (run-suites'
#     statuses: all passed, something failed), or that has no exit line;
#   - a run in which no suite reported at all.
# SKIP and TODO count only as TAP directives: the first word after the
# first unescaped '#' of an "ok" or "not ok" line. A "not ok ... # TODO"
# (a known failure, tests/guest/known-failures) counts as skipped.
#
# Prints one line per suite and per failed boot, then the last line
# "N passed, N failed, N skipped"; exits 1 if anything failed.
set -euo pipefail

awk '
# The directive of a test line, upper case: "SKIP", "TODO" or "".
function directive(line,   i, c, rest) {
	for (i = 1; i <= length(line); i++) {
		c = substr(line, i, 1)
		if (c == "\\") { i++; continue }
		if (c != "#")
			continue
		rest = toupper(substr(line, i + 1))
		sub(/^[ \t]+/, "", rest)
		if (rest ~ /^SKIP([^A-Z]|ED|$)/) return "SKIP"
		if (rest ~ /^TODO([^A-Z]|$)/) return "TODO"
		return ""
	}
	return ""
}
function bad(msg) {
	printf "# %s\n", msg
	fail++; sfail++
}
function finish(exitcode,   missing) {
	if (suite == "")
		return
	missing = (plan >= 0 && plan > ran) ? plan - ran : 0
	if (plan < 0)
		bad(suite ": no TAP plan")
	if (missing > 0) {
		printf "# %s: planned %d tests, ran %d\n", suite, plan, ran
		fail += missing; sfail += missing
	}
	if (exitcode == "")
		bad(suite ": did not finish (see the console log" (bootlog != "" ? " " bootlog : "") ")")
	else if (exitcode == 1 && sfail == 0 && stodo == 0)
		bad(suite ": exited 1 without a failing test")
	else if (exitcode == 4 && spass > 0)
		bad(suite ": exited 4 (skip) after passing tests")
	else if (exitcode != 0 && exitcode != 1 && exitcode != 4)
		bad(suite ": exited " exitcode (stodo ? " (a known failure does not excuse that)" : ""))
	printf "# suite %-22s %3d passed, %d failed, %d skipped\n", suite, spass, sfail, sskip
	reported[suite] = 1
	suite = ""
}
function end_boot(status) {
	if (boot == "")
		return
	if (status == "")
		bad("boot " boot ": the harness never recorded its end")
	else if (status == 124)
		bad("boot " boot ": timed out or stopped before its job ended (console: " bootlog ")")
	else if (status == 125)
		bad("boot " boot ": harness error, the guest did not boot (see the messages above; console: " bootlog ")")
	else if (status != 0 && status != 1)
		bad("boot " boot ": the runner exited " status " (console: " bootlog ")")
	boot = ""; bootlog = ""
}
# Lines from the guest serial port end in CR LF.
{ sub(/\r$/, "") }
/^# boot: / {
	finish("")
	end_boot("")
	boot = $3; bootlog = $4
	next
}
/^# boot-exit: / {
	finish("")
	end_boot($4)
	next
}
/^# expect: / {
	if (!($3 in expected)) { expected[$3] = 1; order[nexp++] = $3 }
	next
}
/^# suite: / {
	finish("")
	suite = $3; plan = -1; ran = 0; spass = 0; sfail = 0; sskip = 0; stodo = 0
	nsuites++
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
	if (directive($0) == "SKIP") { skip++; sskip++ } else { pass++; spass++ }
	next
}
/^not ok / {
	ran++
	if (directive($0) == "TODO") { skip++; sskip++; stodo++ } else { fail++; sfail++ }
	next
}
/^Bail out!/ { bad(suite ": " $0) }
END {
	finish("")
	end_boot("")
	for (i = 0; i < nexp; i++)
		if (!(order[i] in reported)) {
			printf "# %s: did not run\n", order[i]
			fail++
		}
	# With nothing expected, nothing reported is still no pass.
	if (nsuites == 0 && nexp == 0) {
		print "# no suite reported any result"
		fail++
	}
	printf "%d passed, %d failed, %d skipped\n", pass, fail, skip
	exit fail > 0 ? 1 : 0
}
' "$@"
