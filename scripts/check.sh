#!/usr/bin/env bash
# The test command behind `make check`: host-side suites, then the guest
# boots with the in-guest suites. Every TAP line is printed as it comes;
# the last line is "N passed, N failed, N skipped" over all suites, and the
# exit status is non-zero on any failure, boot failure or timeout.
#
#   check.sh [--host-only|--guest-only] [SUITE...]
#   check.sh --packages     only the package suite, host-packages: builds
#                           the test-config packages and repositories and
#                           checks them (make check-packages; CI runs it
#                           after make check, as it adds minutes of builds)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/boot.sh"

# Every suite's results of one check run. Not check-results.log: that is
# what qemu-run.sh would call the results of a boot named "check".
RESULTS=$BUILD/logs/check-all-results.log
HOST_LOG=$BUILD/logs/check-host.log
# What each guest boot runs. Only the harness's own tests point it
# elsewhere, to show that a runner that cannot start fails the boot.
RUNNER=${DYNACCEL_RUNNER:-/usr/lib/dynaccel/run-suites}

# The host suites of make check, in order; host_command runs each.
HOST_SUITES="host-shellcheck host-checkpatch host-tap-summary host-harness host-accelctl host-manpage host-timeout-sites"

# Run one host suite: frame its TAP output for tap-summary.sh.
host_suite() {
	local name=$1 status=0
	shift
	{
		echo "# suite: $name"
		"$@" 2>&1 || status=$?
		echo "# suite-exit: $name $status"
	} | tee -a "$HOST_LOG"
}

# Every shell script of the project is shellcheck clean.
lint_shell() {
	local f n=0
	local -a files
	mapfile -t files < <(cd "$DYNACCEL_ROOT" &&
		git ls-files -co --exclude-standard -- scripts tests guest bench .ci |
		while read -r f; do
			[ -f "$f" ] && head -n 1 "$f" | grep -qE '^#!.*(ba)?sh' && echo "$f"
		done)
	echo "TAP version 13"
	echo "1..${#files[@]}"
	for f in "${files[@]}"; do
		n=$((n + 1))
		if (cd "$DYNACCEL_ROOT" && shellcheck -x "$f") >/tmp/dynaccel-sc.$$ 2>&1; then
			echo "ok $n shellcheck $f"
		else
			sed 's/^/# /' /tmp/dynaccel-sc.$$
			echo "not ok $n shellcheck $f"
		fi
	done
	rm -f /tmp/dynaccel-sc.$$
}

# Every patch of the series is clean under the kernel's checkpatch.pl.
lint_patches() {
	local p n=0 total
	total=$(series_patches | wc -l)
	echo "TAP version 13"
	echo "1..$total"
	while read -r p; do
		n=$((n + 1))
		if (cd "$BUILD/linux" && ./scripts/checkpatch.pl --quiet --no-summary \
				"$DYNACCEL_ROOT/patches/$p") >/tmp/dynaccel-cp.$$ 2>&1; then
			echo "ok $n checkpatch $p"
		else
			sed 's/^/# /' /tmp/dynaccel-cp.$$
			echo "not ok $n checkpatch $p"
		fi
	done < <(series_patches)
	rm -f /tmp/dynaccel-cp.$$
}

# accelctl(8) renders: groff has nothing to warn about, man -l shows it.
lint_manpage() {
	local page=$DYNACCEL_ROOT/tools/accelctl/accelctl.8 out
	echo "TAP version 13"
	echo "1..2"
	out=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
	if [ -z "$out" ]; then
		echo "ok 1 groff -man -ww: no warnings in accelctl.8"
	else
		printf '%s\n' "$out" | sed 's/^/# /'
		echo "not ok 1 groff -man -ww: warnings in accelctl.8"
	fi
	if MANWIDTH=80 man -l "$page" 2>/dev/null | grep '^NAME' >/dev/null; then
		echo "ok 2 man -l renders accelctl(8)"
	else
		echo "not ok 2 man -l renders accelctl(8)"
	fi
}

host_command() {
	case $1 in
	host-shellcheck) lint_shell ;;
	host-checkpatch) lint_patches ;;
	host-tap-summary) "$DYNACCEL_ROOT/tests/host/tap-summary.sh" ;;
	host-harness) "$DYNACCEL_ROOT/tests/host/harness.sh" ;;
	host-accelctl) "$DYNACCEL_ROOT/tests/host/accelctl.sh" "$BUILD/accelctl" ;;
	host-manpage) lint_manpage ;;
	# The timeout call sites of the zoo's drivers: a new one nobody
	# decided fails (Documentation/timers/dynaccel.rst, "Which waits are
	# real"); needs the test kernel's objects in build/obj.
	host-timeout-sites)
		"$DYNACCEL_ROOT/scripts/timeout-sites.py" check \
			"$DYNACCEL_ROOT/tests/host/timeout-sites.undecided" \
			"$DYNACCEL_ROOT/tests/host/timeout-sites.decided" ;;
	*) echo "Bail out! check.sh knows no host suite $1"; return 1 ;;
	esac
}

# Every host suite is expected before any runs: one that never reports
# (check.sh died in the middle) is counted as failed.
run_host() {
	local s
	: >"$HOST_LOG"
	for s in $HOST_SUITES; do
		echo "# expect: $s" >>"$HOST_LOG"
	done
	for s in $HOST_SUITES; do
		host_suite "$s" host_command "$s"
	done
}

# One boot of the guest running run-suites for the named suites.
run_guest() {
	local boot=$1 timeout=$2 append name rc=0
	shift 2
	append=${boot#-}
	name=${append:-main}
	name=check-${name//[^A-Za-z0-9]/-}
	info "guest boot '$name'${append:+ (kernel command line: $append)}: $*"
	# Every boot gets a fresh scratch disk: the soak suites write to it
	# and an accel= boot must come up with it mounted.
	make_disk "$BUILD/state/check-disk.img" 512M
	boot_guest "$RESULTS" "$name" "$*" --timeout "$timeout" --append "$append" \
		--disk "$BUILD/state/check-disk.img" \
		--job "$RUNNER --boot $boot $*" || rc=$?
	info "guest boot '$name' finished with status $rc (console: build/logs/$name-console.log)"
}

# The in-guest suites of tests/guest/suites: NAME BOOT REAL-S COMMAND per line.
suite_table() {
	grep -v -e '^#' -e '^[[:space:]]*$' "$DYNACCEL_ROOT/tests/guest/suites"
}

# Refuse suite names that tests/guest/suites does not have, before anything
# runs: a typo must not turn into a green run of nothing.
check_names() {
	local s bad=0
	for s in "$@"; do
		suite_table | awk -v s="$s" '$1 == s { found = 1 } END { exit !found }' && continue
		warn "no in-guest suite named '$s'"
		bad=1
	done
	[ "$bad" = 0 ] ||
		die "unknown suite name; the suites are: $(suite_table | awk '{ printf "%s ", $1 }')"
}

# The distinct boots of tests/guest/suites that hold a wanted suite, in order,
# each with the sum of its suites' limits as its timeout (plus boot time)
# and the suites it must run: BOOT TIMEOUT SUITE...
plan_boots() {
	suite_table | awk -v want=" $* " '
		NF < 4 { next }
		want != "  " && index(want, " " $1 " ") == 0 { next }
		want == "  " && $1 ~ /-full$/ { next }
		!($2 in limit) { order[n++] = $2 }
		{ limit[$2] += $3; suites[$2] = suites[$2] " " $1 }
		END { for (i = 0; i < n; i++) print order[i], limit[order[i]] + 120 suites[order[i]] }
	'
}

main() {
	local mode=all t0
	case "${1:-}" in
	--host-only) mode=host; shift ;;
	--guest-only) mode=guest; shift ;;
	--packages) mode=packages; shift ;;
	esac
	check_names "$@"
	mkdir -p "$BUILD/logs" "$BUILD/state"
	: >"$RESULTS"
	t0=$(now_s)
	if [ "$mode" = packages ]; then
		echo "# expect: host-packages" >"$HOST_LOG"
		host_suite host-packages "$DYNACCEL_ROOT/tests/host/packages.sh"
		cat "$HOST_LOG" >>"$RESULTS"
	fi
	if [ "$mode" = all ] || [ "$mode" = host ]; then
		run_host
		cat "$HOST_LOG" >>"$RESULTS"
	fi
	if [ "$mode" = all ] || [ "$mode" = guest ]; then
		local boot limit suites
		while read -r boot limit suites; do
			# shellcheck disable=SC2086 # one word per suite
			run_guest "$boot" "$limit" $suites
		done < <(plan_boots "$@")
	fi
	echo "# check took $(($(now_s) - t0)) s real; results: $RESULTS"
	"$DYNACCEL_ROOT/scripts/tap-summary.sh" "$RESULTS"
}

main "$@"
