#!/usr/bin/env bash
# Host tests of the build and harness scripts' error paths: a patch that no
# longer applies is named and leaves a clean tree, local kernel work is never
# thrown away, exported patches re-apply as they are, a missing package gets
# the exact apt-get line, and a hung guest times out naming its log.
#
#   tests/host/harness.sh     (after `make`: needs build/linux and the guest)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0

# Each check is written "COND && r=0 || r=1; result $r DESC": a failing
# COND then makes a "not ok" line, not, through set -e, the end of the suite.
result() {
	local ok=$1
	shift
	n=$((n + 1))
	if [ "$ok" = 0 ]; then
		echo "ok $n $*"
	else
		echo "not ok $n $*"
		failed=1
	fi
}

# A throwaway copy of the project whose build/linux shares the real tree's
# objects, so that applying patches there costs seconds, not a new unpack.
make_sandbox() {
	local sb=$tmp/sb meta
	rm -rf "$sb"
	mkdir -p "$sb/patches" "$sb/build"
	cp -r "$ROOT/scripts" "$sb/"
	cp "$ROOT/patches/base.env" "$sb/patches/"
	printf '# test series\n' >"$sb/patches/series"
	# Only kernel/time (and the top level) is checked out: the test patches
	# touch nothing else, and a full checkout writes 1.3 GB.
	git clone -q --shared --no-checkout "$BUILD/linux" "$sb/build/linux"
	git -C "$sb/build/linux" sparse-checkout set kernel/time
	git -C "$sb/build/linux" checkout -q dynaccel-base
	git -C "$sb/build/linux" config user.name test
	git -C "$sb/build/linux" config user.email test@localhost
	meta=$sb/build/linux/.git/dynaccel
	mkdir -p "$meta"
	cp "$BUILD/linux/.git/dynaccel/base-version" "$meta/"
	git -C "$sb/build/linux" rev-parse HEAD >"$meta/applied-head"
	echo "$sb"
}

bad_patch() {
	cat <<'PATCH'
From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001
From: test <test@localhost>
Subject: [PATCH] test: a patch whose context is not in the tree

---
 kernel/time/timekeeping.c | 2 +-
 1 file changed, 1 insertion(+), 1 deletion(-)

diff --git a/kernel/time/timekeeping.c b/kernel/time/timekeeping.c
--- a/kernel/time/timekeeping.c
+++ b/kernel/time/timekeeping.c
@@ -1,3 +1,3 @@
-this line is not in timekeeping.c
+neither is this one
 nor this
 nor that
PATCH
}

echo "TAP version 13"
echo "1..21"

# 1-2: a patch that does not apply is named with its file; the tree is clean.
sb=$(make_sandbox)
bad_patch >"$sb/patches/0001-bad.patch"
echo 0001-bad.patch >>"$sb/patches/series"
rc=0
BUILD=$sb/build "$sb/scripts/source.sh" >"$tmp/out" 2>&1 || rc=$?
sed 's/^/# /' "$tmp/out"
grep -q 'patch 0001-bad.patch does not apply: kernel/time/timekeeping.c' "$tmp/out" && [ "$rc" = 1 ] && r=0 || r=1
result "$r" "a patch that does not apply stops source.sh, naming the patch and the file"
[ "$(git -C "$sb/build/linux" rev-parse HEAD)" = "$(git -C "$sb/build/linux" rev-parse dynaccel-base)" ] &&
	[ -z "$(git -C "$sb/build/linux" status --porcelain --untracked-files=no)" ] && r=0 || r=1
result "$r" "after a failed apply the tree is back at the unmodified source"

# 3-5: commits in build/linux are exported, re-applied as no-ops, protected.
sb=$(make_sandbox)
echo "/* test */" >>"$sb/build/linux/kernel/time/timekeeping.c"
git -C "$sb/build/linux" commit -q -am "time: a test change"
rc=0
BUILD=$sb/build "$sb/scripts/source.sh" >"$tmp/out" 2>&1 || rc=$?
grep -q 'export-patches' "$tmp/out" && [ "$rc" = 1 ] &&
	git -C "$sb/build/linux" log -1 --format=%s | grep -q 'a test change' && r=0 || r=1
result "$r" "source.sh refuses to reset a tree with unexported commits and keeps them"
rc=0
BUILD=$sb/build "$sb/scripts/export-patches.sh" >"$tmp/out" 2>&1 || rc=$?
[ "$rc" = 0 ] && [ -f "$sb/patches/0001-time-a-test-change.patch" ] &&
	grep -qx '0001-time-a-test-change.patch' "$sb/patches/series" && r=0 || r=1
result "$r" "export-patches writes the commit and the series"
# A cover letter keeps its subject and text; shortlog and stats are new.
printf 'From: x\nSubject: [PATCH] a test series\n\nWhat it does.\n\nold (9):\n  gone\n' \
	>"$sb/patches/0000-cover-letter.patch"
rc=0
BUILD=$sb/build "$sb/scripts/export-patches.sh" >"$tmp/out" 2>&1 || rc=$?
cover=$sb/patches/0000-cover-letter.patch
cp "$cover" "$tmp/cover1"
BUILD=$sb/build "$sb/scripts/export-patches.sh" >"$tmp/out" 2>&1 || rc=$?
[ "$rc" = 0 ] && grep -qx 'Subject: \[PATCH 00/1\] a test series' "$cover" &&
	grep -qx 'What it does.' "$cover" && grep -qx '  time: a test change' "$cover" &&
	! grep -q 'gone' "$cover" && ! grep -qx '0000-cover-letter.patch' "$sb/patches/series" &&
	cmp -s "$cover" "$tmp/cover1" && r=0 || r=1
result "$r" "export-patches keeps the cover letter's text, renews its shortlog, keeps it out of the series, and is stable"
rc=0
BUILD=$sb/build "$sb/scripts/source.sh" --reset >"$tmp/out" 2>&1 || rc=$?
sed 's/^/# /' "$tmp/out"
[ "$rc" = 0 ] && tail -n 1 "$sb/build/linux/kernel/time/timekeeping.c" | grep -q 'test' && r=0 || r=1
result "$r" "the exported series applies again on the unmodified source"

# 6: a missing package, not root: the exact apt-get line, and failure.
mkdir -p "$tmp/shim"
cat >"$tmp/shim/dpkg-query" <<'SHIM'
#!/bin/sh
# Pretend that qemu-system-x86 is not installed.
for a in "$@"; do [ "$a" = qemu-system-x86 ] && exit 1; done
exec /usr/bin/dpkg-query "$@"
SHIM
chmod 755 "$tmp/shim/dpkg-query"
chmod 755 "$tmp"
rc=0
setpriv --reuid=65534 --regid=65534 --clear-groups \
	env PATH="$tmp/shim:$PATH" bash "$ROOT/scripts/deps.sh" >"$tmp/out" 2>&1 || rc=$?
sed 's/^/# /' "$tmp/out"
[ "$rc" = 1 ] && grep -qx '  apt-get update && apt-get install -y --no-install-recommends qemu-system-x86' "$tmp/out" && r=0 || r=1
result "$r" "deps.sh as non-root prints the apt-get line for a missing package and fails"

# 7: bad arguments to the harness are refused before anything boots.
rc=0
"$ROOT/scripts/qemu-run.sh" --mode check --name harness-args --timeout soon >"$tmp/out" 2>&1 || rc=$?
[ "$rc" = 125 ] && grep -q 'whole seconds' "$tmp/out" && r=0 || r=1
result "$r" "qemu-run.sh refuses a bad --timeout with its own status, 125"

# 8: a disk image that is not there is refused before anything boots.
rc=0
"$ROOT/scripts/qemu-run.sh" --mode check --name harness-args --disk "$tmp/no-such.img" >"$tmp/out" 2>&1 || rc=$?
[ "$rc" = 125 ] && grep -q "no disk image at $tmp/no-such.img" "$tmp/out" && r=0 || r=1
result "$r" "qemu-run.sh refuses a --disk that does not exist"

# 9-12: the soak's plan is checked before any boot, and nothing is written.
for bad in 5000:10 1000 0:10; do
	rc=0
	BUILD=$tmp/soak-build "$ROOT/scripts/soak.sh" "$bad" >"$tmp/out" 2>&1 || rc=$?
	sed 's/^/# /' "$tmp/out"
	[ "$rc" = 1 ] && grep -qE "outside 1..1000|bad plan entry" "$tmp/out" &&
		[ ! -e "$tmp/soak-build" ] && r=0 || r=1
	result "$r" "soak.sh refuses the plan entry '$bad' and builds nothing"
done
rc=0
BUILD=$tmp/soak-build "$ROOT/scripts/soak.sh" --base 1000:10 >"$tmp/out" 2>&1 || rc=$?
sed 's/^/# /' "$tmp/out"
[ "$rc" = 1 ] && grep -q "runs at R=1 only, not '1000:10'" "$tmp/out" && [ ! -e "$tmp/soak-build" ] && r=0 || r=1
result "$r" "soak.sh --base refuses a ratio the unpatched kernel does not have"

# 13-14: a guest that hangs is stopped at the timeout and the log is named.
rc=0
start=$(date +%s)
BUILD=$BUILD "$ROOT/scripts/qemu-run.sh" --mode check --name harness-hang --timeout 20 \
	--job 'echo hanging; sleep 100000' >"$tmp/out" 2>&1 || rc=$?
took=$(($(date +%s) - start))
sed 's/^/# /' "$tmp/out"
[ "$rc" = 124 ] && grep -q "console log: $BUILD/logs/harness-hang-console.log" "$tmp/out" && r=0 || r=1
result "$r" "a hung guest is reported as a timeout naming build/logs/harness-hang-console.log"
[ "$took" -le 60 ] && grep -q 'Linux version' "$BUILD/logs/harness-hang-console.log" && r=0 || r=1
result "$r" "the hung guest was stopped after ${took}s and its console log kept"

# 15-20: check.sh never ends green when something did not run. Each case
# runs in a build directory of its own that borrows the kernel and the
# initramfs; its results log first holds a passing run of the same suite,
# which must not show through.
check_sandbox() {
	local b=$tmp/check-$1
	mkdir -p "$b/logs"
	ln -sf "$BUILD/bzImage" "$b/bzImage"
	ln -sf "$BUILD/initramfs.cpio.gz" "$b/initramfs.cpio.gz"
	printf '%s\n' '# suite: accel-sysctl' '1..1' 'ok 1 stale' '# suite-exit: accel-sysctl 0' \
		>"$b/logs/check-main-results.log"
	echo "$b"
}

rc=0
b=$(check_sandbox nosuch)
BUILD=$b "$ROOT/scripts/check.sh" --guest-only nosuch >"$tmp/out" 2>&1 || rc=$?
sed 's/^/# /' "$tmp/out"
[ "$rc" != 0 ] && grep -q "no in-guest suite named 'nosuch'" "$tmp/out" &&
	! grep -q 'passed,' "$tmp/out" && [ ! -e "$b/state" ] && r=0 || r=1
result "$r" "check.sh refuses an unknown suite name before anything boots"

rc=0
b=$(check_sandbox accel)
ACCEL=bogus BUILD=$b "$ROOT/scripts/check.sh" --guest-only accel-sysctl >"$tmp/out" 2>&1 || rc=$?
sed 's/^/# /' "$tmp/out"
[ "$rc" = 1 ] && grep -q "ACCEL must be auto, tcg or kvm, not 'bogus'" "$tmp/out" &&
	grep -qx '# accel-sysctl: did not run' "$tmp/out" &&
	tail -n 1 "$tmp/out" | grep -qx '0 passed, 2 failed, 0 skipped' && r=0 || r=1
result "$r" "a bad ACCEL fails the boot and its suite; the earlier results do not show"
[ ! -s "$b/logs/check-main-results.log" ] && r=0 || r=1
result "$r" "the boot's results log was emptied before anything else"

rc=0
b=$(check_sandbox nokernel)
rm "$b/bzImage"
BUILD=$b "$ROOT/scripts/check.sh" --guest-only accel-sysctl >"$tmp/out" 2>&1 || rc=$?
sed 's/^/# /' "$tmp/out"
[ "$rc" = 1 ] && grep -q "no kernel image at $b/bzImage" "$tmp/out" &&
	grep -q '^# boot check-main: harness error' "$tmp/out" &&
	grep -qx '# accel-sysctl: did not run' "$tmp/out" && r=0 || r=1
result "$r" "a missing kernel is a failed boot with its reason, never a pass"

# A real boot whose runner cannot be started: the job exits 127.
rc=0
b=$(check_sandbox runner)
DYNACCEL_RUNNER=/usr/lib/dynaccel/no-such-runner BUILD=$b \
	"$ROOT/scripts/check.sh" --guest-only accel-sysctl >"$tmp/out" 2>&1 || rc=$?
sed 's/^/# /' "$tmp/out"
[ "$rc" = 1 ] &&
	grep -qx "# boot check-main: the runner exited 127 (console: $b/logs/check-main-console.log)" "$tmp/out" &&
	grep -qx '# accel-sysctl: did not run' "$tmp/out" &&
	grep -q 'Linux version' "$b/logs/check-main-console.log" && r=0 || r=1
result "$r" "a runner that exits 127 fails the boot, naming its console log"

# The in-guest runner refuses a name that is not a suite of its boot, and
# the host counts its status as a failure.
rc=0
out=$(BUILD=$BUILD "$ROOT/scripts/qemu-run.sh" --mode cmd --name harness-runner --timeout 120 \
	--job '/usr/lib/dynaccel/run-suites --boot - accel-boot-10; echo "runner status $?"' 2>&1) || rc=$?
printf '%s\n' "$out" | grep 'runner status' | sed 's/^/# /'
grep -q "no suite 'accel-boot-10' for boot '-'" "$BUILD/logs/harness-runner-results.log" &&
	printf '%s\n' "$out" | grep -q 'runner status 2' && r=0 || r=1
result "$r" "run-suites exits 2 for a suite that is not in its boot, running nothing"

exit $failed
