# shellcheck shell=bash
# Helpers shared by the build and harness scripts. Source it; do not run it.

# Repository root and build directory, whatever the caller's working directory.
DYNACCEL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$DYNACCEL_ROOT/build}
case "$BUILD" in
/*) ;;
*) BUILD=$DYNACCEL_ROOT/$BUILD ;;
esac
export DYNACCEL_ROOT BUILD

# Prefix every message with the script's name, so that a failure in a long
# make run says where it came from.
PROG=${PROG:-$(basename "$0")}

info() {
	printf '%s: %s\n' "$PROG" "$*"
}

warn() {
	printf '%s: warning: %s\n' "$PROG" "$*" >&2
}

# A script whose status must not collide with a wrapped command's (as
# qemu-run.sh, which passes on the guest job's) sets DIE_STATUS.
die() {
	printf '%s: error: %s\n' "$PROG" "$*" >&2
	exit "${DIE_STATUS:-1}"
}

# Seconds since the epoch in real time: the host's clock is never accelerated.
now_s() {
	date +%s
}

# Load patches/base.env into the environment.
load_base_env() {
	local line
	while IFS= read -r line; do
		case "$line" in
		'#'*|'') continue ;;
		*=*) export "${line?}" ;;
		esac
	done < "$DYNACCEL_ROOT/patches/base.env"
}

# A fresh ext4 image of @2 (e.g. 512M) at @1 for the guest's virtio disk.
# Sparse, so only what the guest writes takes host space.
make_disk() {
	rm -f "$1"
	truncate -s "$2" "$1"
	mkfs.ext4 -q -F -L dynaccel "$1" >/dev/null || die "mkfs.ext4 $1 failed"
}

# Number of parallel make jobs: one more than the CPUs, for I/O overlap.
make_jobs() {
	echo $(($(nproc) + 1))
}

# Patch file names from patches/series, in order, without comments.
series_patches() {
	sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$DYNACCEL_ROOT/patches/series"
}

# A digest of the series and of every patch it lists: what was applied.
series_hash() {
	local p
	{
		cat "$DYNACCEL_ROOT/patches/series"
		series_patches | while read -r p; do cat "$DYNACCEL_ROOT/patches/$p"; done
	} | sha256sum | cut -d' ' -f1
}
