# shellcheck shell=bash
# One rule for a guest boot that is judged: check.sh, soak.sh and bench.sh
# boot through boot_guest, and scripts/tap-summary.sh judges what it wrote.
# Source it after lib.sh; do not run it.
#
# A boot is framed in the results file that collects a whole run:
#
#   # boot: NAME CONSOLE-LOG
#   # expect: SUITE             one line for each suite the boot must run
#   ...the boot's own results (TAP suites framed by run-suites)...
#   # boot-exit: NAME STATUS
#
# so that the judge can tell a suite that failed from one that never ran,
# and a runner that failed from a harness that never started the guest.

# boot_guest RESULTS NAME "SUITE..." QEMU-RUN-ARGS...
#
# Boot the guest once with scripts/qemu-run.sh --mode check --name NAME
# and the given arguments, and append the framed results to RESULTS. The
# boot's own results file is emptied before anything else happens, so a
# boot that fails early can never hand on the results of an earlier run.
# Live results go to stdout as they come (qemu-run.sh's check mode).
# Returns qemu-run.sh's status: the job's, 124 for a timeout, 125 for a
# harness error.
boot_guest() {
	local acc=$1 name=$2 expect=$3 rc=0 results console s
	shift 3
	results=$BUILD/logs/$name-results.log
	console=$BUILD/logs/$name-console.log
	mkdir -p "$BUILD/logs"
	: >"$results"
	{
		echo "# boot: $name $console"
		for s in $expect; do
			echo "# expect: $s"
		done
	} >>"$acc"
	"$DYNACCEL_ROOT/scripts/qemu-run.sh" --mode check --name "$name" "$@" || rc=$?
	cat "$results" >>"$acc"
	echo "# boot-exit: $name $rc" >>"$acc"
	case $rc in
	0|1) ;;
	124) warn "boot '$name' timed out or stopped early; console log: $console" ;;
	125) warn "boot '$name' did not start (harness error above)" ;;
	*) warn "boot '$name': its job exited $rc; console log: $console" ;;
	esac
	return "$rc"
}
