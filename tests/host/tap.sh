# shellcheck shell=bash
# TAP helpers shared by the host suites. Source it after setting up; each
# suite defines check_diag, which prints "# ..." lines about what the last
# command it ran said, for a failed check.

n=0
failed=0

# check DESC COND [and COND]...: one TAP line; ok when every COND (a
# command and its words, conditions separated by the word "and") succeeds.
check() {
	local desc=$1 st=0
	local -a cond=()
	shift
	while [[ $# -gt 0 ]]; do
		if [[ $1 == and ]]; then
			"${cond[@]}" || st=1
			cond=()
		else
			cond+=("$1")
		fi
		shift
	done
	if [[ ${#cond[@]} -gt 0 ]]; then
		"${cond[@]}" || st=1
	fi
	n=$((n + 1))
	if [[ $st -eq 0 ]]; then
		echo "ok $n - $desc"
		return 0
	fi
	echo "not ok $n - $desc"
	failed=$((failed + 1))
	check_diag
}
