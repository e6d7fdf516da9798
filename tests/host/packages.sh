#!/usr/bin/env bash
# Host-side tests of dynaccel's packages and repositories (make deb, rpm,
# srpm, repo), checked with the distributions' own tools and consumed by
# apt and dnf in configurations isolated in a temporary directory: nothing
# here changes the host's apt or dnf setup or installs a package.
#
#   tests/host/packages.sh
#
# Builds the packages from the test config (CONFIG_BASE=test, incremental
# on build/obj), then the repositories in a temporary directory, unsigned
# and signed with a throwaway key, and follows the README's install steps
# as far as downloading. Output is TAP version 13; the exit status is
# non-zero when any test fails. Build logs are in build/logs/packages-*.log.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"

PKG=$DYNACCEL_ROOT/scripts/packages.sh
# The suite checks the test-config packages, whatever the caller's make
# variables say; the repositories it builds are its own, in $tmp.
export CONFIG_BASE=test
unset GPG_KEY REPO_URL REPO_DIR
OUT=$BUILD/packages/test
ARCH=$(dpkg --print-architecture)

tmp=$(mktemp -d)
cleanup() {
	local home
	# gpg-agents started for the throwaway key and by dnf's key import.
	for home in "$tmp/gnupg" "$tmp"/dnf-signed/cache/*/pubring; do
		[[ -d $home ]] && gpgconf --homedir "$home" --kill all 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

# shellcheck source=tests/host/tap.sh
. "$(dirname "$0")/tap.sh"
# What the last command run (the likely culprit of a failure) said.
check_diag() {
	echo "# rc=${rc:-} output: $(tail -c 600 "$tmp/out" 2>/dev/null | tr '\n' '|')"
}
echo "TAP version 13"

# cmd COMMAND...: run it; sets rc, its output (stdout and stderr) in $tmp/out.
cmd() {
	rc=0
	"$@" >"$tmp/out" 2>&1 || rc=$?
}

rc_is() { [[ $rc -eq $1 ]]; }
out_has() { grep -qF -- "$1" "$tmp/out"; }
out_re() { grep -qE -- "$1" "$tmp/out"; }
out_lacks() { ! grep -qF -- "$1" "$tmp/out"; }
is_file() { [[ -f $1 ]]; }
same_file() { cmp -s "$1" "$2"; }
same_listing() { [[ "$(cat "$1")" == "$(cat "$2")" ]]; }
absent() { [[ ! -e $1 ]]; }

# timed DESC COMMAND...: a build step as one test, with its time.
timed() {
	local desc=$1 t0
	shift
	echo "# $desc: building, output in build/logs/packages-*.log"
	t0=$(now_s)
	cmd "$@"
	check "$desc ($(($(now_s) - t0)) s)" rc_is 0
}

# --- bad input builds nothing -------------------------------------------

listing() {
	(cd "$BUILD" && find . -maxdepth 3 \( -path ./linux -o -path ./obj -o -path ./guest \
		-o -path ./logs \) -prune -o -print | LC_ALL=C sort)
}
listing >"$tmp/before"
cmd env CONFIG_BASE=nonsense "$PKG" deb
listing >"$tmp/after"
check "CONFIG_BASE=nonsense: exit 1, names the value and the choices, builds nothing" \
	rc_is 1 and out_has "CONFIG_BASE=nonsense is neither 'test', 'debian' nor an existing kernel config file" \
	and same_listing "$tmp/before" "$tmp/after"
cmd make -s -C "$DYNACCEL_ROOT" rpm CONFIG_BASE=nonsense
listing >"$tmp/after"
check "make rpm CONFIG_BASE=nonsense fails the same way, builds nothing" \
	rc_is 2 and out_has "CONFIG_BASE=nonsense is neither" and same_listing "$tmp/before" "$tmp/after"
printf 'not a kernel config\n' >"$tmp/bogus.config"
cmd env CONFIG_BASE="$tmp/bogus.config" "$PKG" rpm
check "CONFIG_BASE=<file without CONFIG_ lines>: refused, builds nothing" \
	rc_is 1 and out_has "has no CONFIG_ lines" and absent "$BUILD/obj-custom/.config"
cmd "$PKG" tarball
check "an unknown package kind is a usage error" rc_is 2 and out_has "usage:"

# --- build --------------------------------------------------------------

timed "make deb (bindeb-pkg and dpkg-deb, test config)" make -s -C "$DYNACCEL_ROOT" deb CONFIG_BASE=test
timed "make rpm (binrpm-pkg and rpmbuild, test config)" make -s -C "$DYNACCEL_ROOT" rpm CONFIG_BASE=test
timed "make srpm (srcrpm-pkg, test config)" make -s -C "$DYNACCEL_ROOT" srpm CONFIG_BASE=test

rel=$(cat "$BUILD/obj/include/config/kernel.release" 2>/dev/null || echo unknown)
rpmrel=${rel//-/_}
image_deb=$(compgen -G "$OUT/deb/linux-image-${rel}_*_$ARCH.deb" | head -n 1 || true)
headers_deb=$(compgen -G "$OUT/deb/linux-headers-${rel}_*_$ARCH.deb" | head -n 1 || true)
accelctl_deb=$(compgen -G "$OUT/deb/accelctl_*_$ARCH.deb" | head -n 1 || true)
kernel_rpm=$(compgen -G "$OUT/rpm/kernel-$rpmrel-*.rpm" | head -n 1 || true)
headers_rpm=$(compgen -G "$OUT/rpm/kernel-headers-$rpmrel-*.rpm" | head -n 1 || true)
accelctl_rpm=$(compgen -G "$OUT/rpm/accelctl-*.rpm" | head -n 1 || true)
kernel_srpm=$(compgen -G "$OUT/srpm/kernel-$rpmrel-*.src.rpm" | head -n 1 || true)
check "release $rel ends in -dynaccel" test "${rel%-dynaccel}" != "$rel"
check "every package was built (image, headers, accelctl: deb and rpm; src.rpm)" \
	is_file "$image_deb" and is_file "$headers_deb" and is_file "$accelctl_deb" \
	and is_file "$kernel_rpm" and is_file "$headers_rpm" and is_file "$accelctl_rpm" \
	and is_file "$kernel_srpm"

# --- Debian packages: dpkg-deb, lintian ---------------------------------

cmd dpkg-deb --info "$image_deb"
check "dpkg-deb --info: linux-image-$rel, version $rel-N, $ARCH, our Maintainer" \
	rc_is 0 and out_re "^ Package: linux-image-$rel\$" and out_re "^ Maintainer: dynaccel developers " \
	and out_re "^ Version: $rel-[0-9]+\$" and out_re "^ Architecture: $ARCH\$"
cmd dpkg-deb --contents "$image_deb"
check "dpkg-deb --contents: boot/vmlinuz-$rel, lib/modules/$rel/, config, System.map" \
	rc_is 0 and out_re " \./boot/vmlinuz-$rel\$" and out_re " \./lib/modules/$rel/\$" \
	and out_re " \./boot/config-$rel\$" and out_re " \./boot/System.map-$rel\$"
check "lib/modules/$rel has the modules metadata" out_re " \./lib/modules/$rel/modules\.builtin\$"
cmd dpkg-deb --info "$headers_deb"
check "dpkg-deb --info: linux-headers-$rel, version $rel-N" \
	rc_is 0 and out_re "^ Package: linux-headers-$rel\$" and out_re "^ Version: $rel-[0-9]+\$"
cmd dpkg-deb --contents "$headers_deb"
check "headers package: usr/src/linux-headers-$rel (Makefile, Module.symvers, auto.conf), lib/modules/$rel/build" \
	rc_is 0 and out_re " \./usr/src/linux-headers-$rel/Makefile\$" \
	and out_re " \./usr/src/linux-headers-$rel/Module\.symvers\$" \
	and out_re " \./usr/src/linux-headers-$rel/include/config/auto\.conf\$" \
	and out_re " \./lib/modules/$rel/build -> /usr/src/linux-headers-$rel\$"
cmd dpkg-deb --info "$accelctl_deb"
check "dpkg-deb --info: accelctl, Section admin" \
	rc_is 0 and out_re "^ Package: accelctl\$" and out_re "^ Section: admin\$"
cmd dpkg-deb --contents "$accelctl_deb"
check "accelctl package: binary, man page, completion, sysctl.d example, copyright" \
	rc_is 0 and out_re " \./usr/sbin/accelctl\$" and out_re " \./usr/share/man/man8/accelctl\.8\.gz\$" \
	and out_re " \./usr/share/bash-completion/completions/accelctl\$" \
	and out_re " \./usr/share/doc/accelctl/90-dynaccel\.conf\.example\$" \
	and out_re " \./usr/share/doc/accelctl/copyright\$"
mkdir -p "$tmp/x"
dpkg-deb -x "$accelctl_deb" "$tmp/x" 2>/dev/null || true
cmd "$tmp/x/usr/sbin/accelctl" --version
check "the packaged accelctl runs and reports its version" rc_is 0 and out_re '^accelctl [0-9]'
cmd lintian --fail-on error,warning --no-tag-display-limit "$accelctl_deb"
check "lintian: accelctl .deb has no errors or warnings" rc_is 0
# The kernel packages are kbuild's own; lintian's verdict on them is shown,
# not judged (kbuild's debian/ is not Debian policy work).
cmd lintian --fail-on none "$image_deb"
echo "# lintian on $(basename "$image_deb"): $(grep -c '^E:' "$tmp/out" || true) errors, $(grep -c '^W:' "$tmp/out" || true) warnings"

# --- RPMs: rpm -qpi, -qpl -------------------------------------------------

cmd rpm -qp --qf '%{NAME} %{EPOCH} %{VERSION}\n' "$kernel_rpm"
check "kernel rpm: name kernel, Epoch 1, version $rpmrel" rc_is 0 and out_re "^kernel 1 $rpmrel\$"
cmd rpm -qpi "$kernel_rpm"
check "rpm -qpi: Epoch 1, Architecture x86_64" \
	rc_is 0 and out_re '^Epoch +: 1$' and out_re '^Architecture: x86_64$'
cmd rpm -qpl "$kernel_rpm"
check "rpm -qpl: lib/modules/$rel/ with vmlinuz, System.map and config; boot files" \
	rc_is 0 and out_re "^/lib/modules/$rel\$" and out_re "^/lib/modules/$rel/vmlinuz\$" \
	and out_re "^/lib/modules/$rel/System.map\$" and out_re "^/lib/modules/$rel/config\$" \
	and out_re "^/boot/vmlinuz-$rel\$"
cmd rpm -qp --qf '%{NAME} %{EPOCH}\n' "$headers_rpm"
check "kernel-headers rpm: Epoch 1" rc_is 0 and out_re '^kernel-headers 1$'
cmd rpm -qpl "$headers_rpm"
check "kernel-headers rpm: /usr/include/linux/time.h" rc_is 0 and out_re '^/usr/include/linux/time\.h$'
cmd rpm -qpi "$kernel_srpm"
check "source rpm: Epoch 1" rc_is 0 and out_re '^Epoch +: 1$'
cmd rpm -qpl "$kernel_srpm"
check "source rpm files: linux.tar.gz, config, kernel.spec" \
	out_re '^linux\.tar\.gz$' and out_re '^config$' and out_re '^kernel\.spec$'
cmd rpm -qpl "$accelctl_rpm"
check "accelctl rpm: binary, man page, completion, sysctl.d example" \
	rc_is 0 and out_re '^/usr/sbin/accelctl$' and out_re '^/usr/share/man/man8/accelctl\.8' \
	and out_re '^/usr/share/bash-completion/completions/accelctl$' \
	and out_re '^/usr/share/doc/accelctl/90-dynaccel\.conf\.example$'

# kbuild's mkspec (patch 0100) refuses an Epoch that is not a number.
cmd env -C "$BUILD/obj" srctree="$BUILD/linux" ARCH=x86_64 KERNELRELEASE="$rel" \
	KBUILD_RPM_EPOCH=1x sh "$BUILD/linux/scripts/package/mkspec" "$tmp/kernel.spec"
check "mkspec refuses KBUILD_RPM_EPOCH=1x" rc_is 1 and out_has "KBUILD_RPM_EPOCH=1x is not a non-negative integer"

# --- apt, isolated ------------------------------------------------------

# apt_get ROOT ARGS...: apt-get with sources, state, cache and keys in ROOT.
apt_get() {
	local root=$1
	shift
	mkdir -p "$root"/state/lists/partial "$root"/cache/archives/partial "$root"/trusted.d \
		"$root"/prefs.d "$root"/dl
	touch "$root/status"
	(cd "$root/dl" && apt-get -q \
		-o Dir::Etc::sourcelist="$root/sources.list" -o Dir::Etc::sourceparts=/dev/null \
		-o Dir::State="$root/state" -o Dir::State::status="$root/status" \
		-o Dir::Cache="$root/cache" -o Dir::Etc::trusted="$root/trusted.gpg" \
		-o Dir::Etc::trustedparts="$root/trusted.d" -o Dir::Etc::preferencesparts="$root/prefs.d" \
		-o Debug::NoLocking=true -o APT::Sandbox::User=root -o Acquire::Languages=none \
		"$@")
}

# Packages lists the .deb with this SHA256, and the downloaded file has it.
sha_matches() {
	local file=$1 index=$2 sum
	sum=$(sha256sum "$file" | cut -d' ' -f1)
	grep -qx "SHA256: $sum" "$index"
}

repo=$tmp/repo
cmd env REPO_DIR="$repo" REPO_URL="file://$repo" "$PKG" repo
check "make repo without GPG_KEY: built, with a clear unsigned warning" \
	rc_is 0 and out_has "NOT signed" and is_file "$repo/apt/Packages" and is_file "$repo/apt/Release" \
	and is_file "$repo/dnf/repodata/repomd.xml" and is_file "$repo/dynaccel.list" \
	and is_file "$repo/dynaccel.repo" and absent "$repo/apt/InRelease"
check "unsigned: dynaccel.list has [trusted=yes], dynaccel.repo gpgcheck=0" \
	grep -qx "deb \[trusted=yes\] file://$repo/apt \./" "$repo/dynaccel.list" \
	and grep -qx 'gpgcheck=0' "$repo/dynaccel.repo" and grep -q 'UNSIGNED' "$repo/dynaccel.repo"

a=$tmp/apt
mkdir -p "$a"
# The README's step: the published dynaccel.list is the sources.list.
cp "$repo/dynaccel.list" "$a/sources.list"
cmd apt_get "$a" update
check "apt-get update reads the repository" rc_is 0 and out_lacks "W:" and out_lacks "E:"
cmd apt_get "$a" download accelctl "linux-image-$rel" "linux-headers-$rel"
check "apt-get download fetches accelctl, linux-image-$rel, linux-headers-$rel" \
	rc_is 0 and is_file "$a/dl/$(basename "$accelctl_deb")" \
	and is_file "$a/dl/$(basename "$image_deb")" and is_file "$a/dl/$(basename "$headers_deb")"
check "downloaded .debs match the Packages checksums and the built files" \
	sha_matches "$a/dl/$(basename "$image_deb")" "$repo/apt/Packages" \
	and sha_matches "$a/dl/$(basename "$accelctl_deb")" "$repo/apt/Packages" \
	and same_file "$a/dl/$(basename "$image_deb")" "$image_deb"
cmd apt_get "$a" -s install accelctl
check "apt-get -s install accelctl resolves (no dependencies to miss)" rc_is 0 and out_has "Inst accelctl"

# --- dnf, isolated ------------------------------------------------------

# dnf_in ROOT ARGS...: dnf with config, repos, cache and install root in ROOT.
dnf_in() {
	local root=$1
	shift
	mkdir -p "$root"/repos.d "$root"/cache "$root"/installroot "$root"/dl
	printf '[main]\nreposdir=%s\ncachedir=%s\n' "$root/repos.d" "$root/cache" >"$root/dnf.conf"
	# --disableplugin=local: Debian's dnf enables a plugin whose local
	# repository does not exist here.
	dnf -y -c "$root/dnf.conf" --disableplugin=local --setopt=reposdir="$root/repos.d" --setopt=cachedir="$root/cache" \
		--installroot="$root/installroot" --releasever=dynaccel "$@"
}

d=$tmp/dnf
cmd dnf_in "$d" --repofrompath="dynaccel,file://$repo/dnf" --disablerepo='*' --enablerepo=dynaccel \
	--nogpgcheck list --available
check "dnf --repofrompath list: kernel 1:$rpmrel, kernel-headers, accelctl" \
	rc_is 0 and out_re "^kernel\.x86_64 +1:$rpmrel-[0-9]+ +dynaccel" \
	and out_re "^kernel-headers\.x86_64 +1:$rpmrel-" and out_re '^accelctl\.x86_64 '
cmd dnf_in "$d" --repofrompath="dynaccel,file://$repo/dnf" --disablerepo='*' --enablerepo=dynaccel \
	--nogpgcheck download --destdir "$d/dl" kernel accelctl
check "dnf download fetches kernel and accelctl, identical to the built RPMs" \
	rc_is 0 and same_file "$d/dl/$(basename "$kernel_rpm")" "$kernel_rpm" \
	and same_file "$d/dl/$(basename "$accelctl_rpm")" "$accelctl_rpm"
# The README's step: the published dynaccel.repo in the repos directory.
d2=$tmp/dnf-repo
mkdir -p "$d2/repos.d"
cp "$repo/dynaccel.repo" "$d2/repos.d/"
cmd dnf_in "$d2" --refresh list --available kernel
check "dnf with the published dynaccel.repo (--refresh) lists kernel 1:$rpmrel" \
	rc_is 0 and out_re "^kernel\.x86_64 +1:$rpmrel-[0-9]+ +dynaccel"

# --- signed repository, throwaway key -----------------------------------

export GNUPGHOME=$tmp/gnupg
mkdir -m 0700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-gen-key 'dynaccel test key <test@dynaccel.invalid>' \
	rsa2048 sign 1d >/dev/null 2>&1 || true
fpr=$(gpg --batch --list-secret-keys --with-colons 2>/dev/null | awk -F: '/^fpr/ { print $10; exit }')
srepo=$tmp/repo-signed
cmd env REPO_DIR="$srepo" REPO_URL="file://$srepo" GPG_KEY="$fpr" "$PKG" repo
check "make repo GPG_KEY=<throwaway key>: signed, no unsigned warning" \
	rc_is 0 and out_lacks "NOT signed" and is_file "$srepo/apt/InRelease" \
	and is_file "$srepo/apt/Release.gpg" and is_file "$srepo/dnf/repodata/repomd.xml.asc" \
	and is_file "$srepo/dynaccel-archive-keyring.gpg" and is_file "$srepo/RPM-GPG-KEY-dynaccel"
cmd gpgv --keyring "$srepo/dynaccel-archive-keyring.gpg" "$srepo/apt/InRelease"
check "gpgv: InRelease is signed by the published key" rc_is 0
cmd gpgv --keyring "$srepo/dynaccel-archive-keyring.gpg" "$srepo/dnf/repodata/repomd.xml.asc" \
	"$srepo/dnf/repodata/repomd.xml"
check "gpgv: repomd.xml.asc is signed by the published key" rc_is 0
mkdir -p "$tmp/rpmdb"
rpm --dbpath "$tmp/rpmdb" --import "$srepo/RPM-GPG-KEY-dynaccel" >/dev/null 2>&1 || true
cmd rpm --dbpath "$tmp/rpmdb" -K "$srepo/dnf/$(basename "$kernel_rpm")" "$srepo/dnf/$(basename "$accelctl_rpm")"
check "rpm -K: the repository's RPMs carry valid signatures" \
	rc_is 0 and out_re "$(basename "$kernel_rpm"): digests signatures OK"
check "signed: dynaccel.list has signed-by, dynaccel.repo gpgcheck=1 and repo_gpgcheck=1" \
	grep -q 'signed-by=/usr/share/keyrings/dynaccel-archive-keyring.gpg' "$srepo/dynaccel.list" \
	and grep -qx 'gpgcheck=1' "$srepo/dynaccel.repo" and grep -qx 'repo_gpgcheck=1' "$srepo/dynaccel.repo"

sa=$tmp/apt-signed
mkdir -p "$sa"
# The README's step with the key at the path dynaccel.list names.
sed "s,/usr/share/keyrings/dynaccel-archive-keyring.gpg,$srepo/dynaccel-archive-keyring.gpg," \
	"$srepo/dynaccel.list" >"$sa/sources.list"
cmd apt_get "$sa" update
check "apt-get update verifies the signed repository" rc_is 0 and out_lacks "W:" and out_lacks "E:"
cmd apt_get "$sa" download accelctl
check "apt-get download from the signed repository" rc_is 0 and is_file "$sa/dl/$(basename "$accelctl_deb")"
sed -i 's/^Label: dynaccel$/Label: tampered/' "$srepo/apt/InRelease"
cmd apt_get "$sa" update
check "a tampered InRelease is refused by apt" out_re 'NOSPLIT|BADSIG|not signed|is not valid|verification'

sd=$tmp/dnf-signed
mkdir -p "$sd/repos.d"
cp "$srepo/dynaccel.repo" "$sd/repos.d/"
cmd dnf_in "$sd" --refresh download --destdir "$sd/dl" kernel
check "dnf with the signed dynaccel.repo (repo_gpgcheck, key imported) downloads kernel" \
	rc_is 0 and is_file "$sd/dl/$(basename "$kernel_rpm")"

echo "1..$n"
if [[ $failed -ne 0 ]]; then
	echo "# $failed of $n failed"
	exit 1
fi
