#!/usr/bin/env bash
# Install, or name, every Debian package that dynaccel's build, test and
# packaging steps need.
#
#   scripts/deps.sh            install what is missing (root), or print the
#                              exact apt-get line and fail (not root)
#   scripts/deps.sh --check    only report; exit 1 if anything is missing
#   scripts/deps.sh --list     print the package list
#
# The kernel source itself (linux-source-6.12 at the pinned version) is
# installed by scripts/source.sh, which knows about the pin.
set -euo pipefail

PACKAGES=(
	# kernel build
	build-essential bc bison flex libelf-dev libssl-dev cpio kmod
	xz-utils rsync git ccache perl python3 dwarves
	# guest userland and harness
	busybox-static qemu-system-x86 libc6-dev e2fsprogs
	# checks on our own sources
	shellcheck groff-base man-db
	# make bench: plots, and libfaketime to compare against
	gnuplot-nox faketime libfaketime
	# packages and repositories (make deb/rpm/srpm/repo, check-packages):
	# kbuild's bindeb-pkg needs dpkg-dev and debhelper, binrpm-pkg rpm;
	# Debian's kernel config for CONFIG_BASE=debian; the repository tools
	# and the clients that test them
	dpkg-dev debhelper lintian rpm linux-config-6.12
	apt-utils createrepo-c gnupg dnf dnf-plugins-core
)

missing_packages() {
	local p
	for p in "${PACKAGES[@]}"; do
		if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
				grep -q '^install ok installed$'; then
			printf '%s\n' "$p"
		fi
	done
}

main() {
	local mode=${1:-install}
	local missing

	case "$mode" in
	--list)
		printf '%s\n' "${PACKAGES[@]}"
		return 0
		;;
	--check|install) ;;
	*)
		echo "usage: $0 [--check|--list]" >&2
		return 2
		;;
	esac

	mapfile -t missing < <(missing_packages)
	if [ "${#missing[@]}" -eq 0 ]; then
		return 0
	fi
	if [ "$mode" = --check ]; then
		echo "missing packages: ${missing[*]}" >&2
		return 1
	fi
	if [ "$(id -u)" -ne 0 ]; then
		echo "dynaccel needs these Debian packages; as root run:" >&2
		echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
		return 1
	fi
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# Wait for another apt (unattended upgrades, a second build) rather
	# than fail on its lock.
	apt-get -o DPkg::Lock::Timeout=600 update -q
	apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}"
}

main "$@"
