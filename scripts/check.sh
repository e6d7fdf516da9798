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

RESULTS=$BUILD/logs/check-results.log
HOST_LOG=$BUILD/logs/check-host.log

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

run_host() {
	: >"$HOST_LOG"
	host_suite host-shellcheck lint_shell
	host_suite host-checkpatch lint_patches
	host_suite host-tap-summary "$DYNACCEL_ROOT/tests/host/tap-summary.sh"
	host_suite host-harness "$DYNACCEL_ROOT/tests/host/harness.sh"
	host_suite host-accelctl "$DYNACCEL_ROOT/tests/host/accelctl.sh" "$BUILD/accelctl"
	host_suite host-manpage lint_manpage
}

# One boot of the guest running run-suites; its results are appended.
run_guest() {
	local boot=$1 timeout=$2 append name rc=0
	shift 2
	append=${boot#-}
	name=${append:-main}
	name=${name//[^A-Za-z0-9]/-}
	info "guest boot '$name'${append:+ (kernel command line: $append)}: ${*:-all its suites}"
	# Every boot gets a fresh scratch disk: the soak suites write to it
	# and an accel= boot must come up with it mounted.
	make_disk "$BUILD/state/check-disk.img" 512M
	"$DYNACCEL_ROOT/scripts/qemu-run.sh" --mode check --name "check-$name" \
		--timeout "$timeout" --append "$append" --disk "$BUILD/state/check-disk.img" \
		--job "/usr/lib/dynaccel/run-suites --boot $boot $*" || rc=$?
	cat "$BUILD/logs/check-$name-results.log" >>"$RESULTS"
	if [ "$rc" = 124 ]; then
		# No exit line: make the summary count the boot as a failure.
		echo "# suite: boot-$name" >>"$RESULTS"
	fi
	info "guest boot '$name' finished with status $rc (console: build/logs/check-$name-console.log)"
}

# The distinct boots of guest/suites that hold a wanted suite, in order,
# each with the sum of its suites' limits as its timeout (plus boot time).
plan_boots() {
	awk -v want=" $* " '
		/^#/ || NF < 4 { next }
		want != "  " && index(want, " " $1 " ") == 0 { next }
		want == "  " && $1 ~ /-full$/ { next }
		!($2 in limit) { order[n++] = $2 }
		{ limit[$2] += $3 }
		END { for (i = 0; i < n; i++) print order[i], limit[order[i]] + 120 }
	' "$DYNACCEL_ROOT/guest/suites"
}

main() {
	local mode=all t0
	case "${1:-}" in
	--host-only) mode=host; shift ;;
	--guest-only) mode=guest; shift ;;
	--packages) mode=packages; shift ;;
	esac
	mkdir -p "$BUILD/logs" "$BUILD/state"
	: >"$RESULTS"
	t0=$(now_s)
	if [ "$mode" = packages ]; then
		: >"$HOST_LOG"
		host_suite host-packages "$DYNACCEL_ROOT/tests/host/packages.sh"
		cat "$HOST_LOG" >>"$RESULTS"
	fi
	if [ "$mode" = all ] || [ "$mode" = host ]; then
		run_host
		cat "$HOST_LOG" >>"$RESULTS"
	fi
	if [ "$mode" = all ] || [ "$mode" = guest ]; then
		local boot limit
		while read -r boot limit; do
			run_guest "$boot" "$limit" "$@"
		done < <(plan_boots "$@")
	fi
	echo "# check took $(($(now_s) - t0)) s real; results: $RESULTS"
	"$DYNACCEL_ROOT/scripts/tap-summary.sh" "$RESULTS"
}

main "$@"
