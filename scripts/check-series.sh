#!/usr/bin/env bash
# Build the kernel at every step of the patch series, so that each patch
# builds on its own (bisectability), and print one TAP line per patch.
#
#   scripts/check-series.sh      (after scripts/source.sh; make check-series)
#
# Works in a separate git worktree and object directory under build/, so
# build/linux and build/obj are left as they are. The first step is a full
# build, the rest are incremental.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kbuild.sh"

TREE=$BUILD/linux
WT=$BUILD/series/linux
OBJ=$BUILD/series/obj
LOG=$BUILD/logs/check-series.log
FRAGMENT=$DYNACCEL_ROOT/configs/test-guest.config

[ -d "$TREE/.git" ] || die "no kernel tree at build/linux; run scripts/source.sh first"
mkdir -p "$BUILD/series" "$BUILD/logs"
: >"$LOG"
if [ ! -d "$WT" ]; then
	git -C "$TREE" worktree add -q --detach "$WT" dynaccel-base
fi

mapfile -t commits < <(git -C "$TREE" rev-list --reverse dynaccel-base..HEAD)
echo "TAP version 13"
echo "1..${#commits[@]}"
n=0
failed=0
for c in "${commits[@]}"; do
	n=$((n + 1))
	subject=$(git -C "$TREE" log -1 --format=%s "$c")
	git -C "$WT" checkout -q --detach "$c"
	t0=$(now_s)
	# The configuration in a subshell: when it dies (a failed step, or a
	# fragment line that did not survive, the reason in the log), this
	# patch is "not ok" and the next one is built. It appends to LOG too.
	# shellcheck disable=SC2094
	if {
		(kbuild_config "$WT" "$OBJ" "$LOG" tinyconfig "$FRAGMENT") &&
		kmake "$WT" "$OBJ" -j"$(make_jobs)" bzImage
	} >>"$LOG" 2>&1; then
		echo "ok $n builds: $subject ($(($(now_s) - t0)) s)"
	else
		echo "not ok $n builds: $subject (see $LOG)"
		failed=1
	fi
done
exit $failed
