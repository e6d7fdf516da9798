# shellcheck shell=bash
# Building a kernel, shared by every script that builds one (kernel.sh,
# check-series.sh, packages.sh, bench/base-kernel.sh): the make command line,
# ccache, and a configuration assembled from a base and fragments, checked
# against the fragments. Source it after lib.sh (it uses DYNACCEL_ROOT, warn
# and die); do not run it.
#
# The functions take the source tree and the object directory as arguments
# rather than from globals, since the scripts build different trees: the
# patched one, a worktree at each patch, an export of the unpatched base.
# The configuration functions check every step's status themselves, so that
# they also work where set -e does not apply (in an `if` or `&&` chain).

# kmake TREE OBJ ARGS...: make in the kernel source TREE with the objects in
# OBJ, for x86_64, through ccache when it is installed.
kmake() {
	local tree=$1 obj=$2 cc=gcc
	shift 2
	if command -v ccache >/dev/null; then
		cc="ccache gcc"
	fi
	# CCACHE_BASEDIR: ccache sees paths relative to the checkout, so that
	# a second clone on the same machine (CI's) hits the cache the first
	# one filled. An empty LOCALVERSION stops setlocalversion from
	# appending "+" for the scratch tree's git commits: the release is
	# 6.12.N-dynaccel.
	CCACHE_BASEDIR=$DYNACCEL_ROOT \
		make -C "$tree" O="$obj" ARCH=x86_64 CC="$cc" HOSTCC="$cc" LOCALVERSION= "$@"
}

# kbuild_assemble TREE OBJ BASE FRAGMENT...: write OBJ/.config from BASE
# with the FRAGMENTs merged on top, in order, completed by olddefconfig.
# BASE is a configuration target of the tree (tinyconfig) or the path of a
# config file (with a /; xz-compressed if it ends in .xz). Output goes to
# the caller's stdout and stderr, usually a log; returns non-zero at the
# first step that fails.
kbuild_assemble() {
	local tree=$1 obj=$2 base=$3
	shift 3
	mkdir -p "$obj" || return
	case "$base" in
	*/*.xz) xzcat "$base" >"$obj/.config" || return ;;
	*/*) cp "$base" "$obj/.config" || return ;;
	*) kmake "$tree" "$obj" -s "$base" || return ;;
	esac
	# -m: only merge; olddefconfig then resolves what the fragments left
	# open, with the tree's own defaults.
	"$tree/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "$@" || return
	kmake "$tree" "$obj" -s olddefconfig
}

# kbuild_verify OBJ FRAGMENT...: die unless every CONFIG_X=v line of every
# FRAGMENT survived in OBJ/.config (CONFIG_X=n: X is not set). An option
# that silently drops out (typo, unmet dependency, an option the tree does
# not have) would make us build and test a kernel other than the one we
# think. Each missing line is named with what the kernel has instead.
kbuild_verify() {
	local obj=$1 config=$1/.config fragment line key val bad
	shift
	for fragment; do
		bad=0
		while IFS= read -r line; do
			key=${line%%=*}
			val=${line#*=}
			if [ "$val" = n ]; then
				grep -q "^$key=" "$config" || continue
			else
				grep -qxF "$line" "$config" && continue
			fi
			warn "$(basename "$fragment") asks for $line, the kernel has: $(grep -E "^$key=|^# $key is not set" "$config" || echo nothing)"
			bad=1
		done < <(grep -E '^CONFIG_[A-Za-z0-9_]+=' "$fragment")
		[ "$bad" = 0 ] ||
			die "the configuration in ${obj#"$DYNACCEL_ROOT"/} does not match $fragment (see above)"
	done
}

# kbuild_config TREE OBJ LOG BASE FRAGMENT...: kbuild_assemble with its
# output appended to LOG (dying, naming LOG, if a step fails), then
# kbuild_verify of every FRAGMENT. What each script calls to configure.
kbuild_config() {
	local tree=$1 obj=$2 log=$3 base=$4
	shift 4
	kbuild_assemble "$tree" "$obj" "$base" "$@" >>"$log" 2>&1 ||
		die "configuring ${obj#"$DYNACCEL_ROOT"/} ($(basename "$base") + ${*##*/}) failed; see $log"
	kbuild_verify "$obj" "$@"
}

# kbuild_up_to_date PRODUCT STAMP WANT: true when PRODUCT exists and STAMP
# records WANT, a digest of the inputs that made it: the scripts skip a
# configuration or a build whose inputs have not changed.
kbuild_up_to_date() {
	[ -e "$1" ] && [ -f "$2" ] && [ "$(cat "$2")" = "$3" ]
}

# kbuild_bzimage TREE OBJ LOG WHAT: build bzImage in OBJ with the output
# appended to LOG, saying what is built and how long it took; on failure,
# show the compiler's error lines and die naming LOG.
kbuild_bzimage() {
	local tree=$1 obj=$2 log=$3 what=$4 t0
	t0=$(now_s)
	info "building $what with $(make_jobs) jobs (log: $log)"
	if ! kmake "$tree" "$obj" -j"$(make_jobs)" bzImage >>"$log" 2>&1; then
		grep -E 'error|Error' "$log" | head -n 20 >&2 || true
		die "building $what failed; full log: $log"
	fi
	info "built $what ($(kmake "$tree" "$obj" -s kernelrelease)) in $(($(now_s) - t0)) s"
}
