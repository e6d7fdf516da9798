#!/usr/bin/env bash
# Build dynaccel's distribution packages with the tools the distributions
# use, and the apt and dnf repositories that serve them.
#
#   scripts/packages.sh deb     Debian packages of the kernel (bindeb-pkg:
#                               linux-image, linux-headers, linux-libc-dev)
#                               and of accelctl (dpkg-deb)
#   scripts/packages.sh rpm     binary RPMs of the kernel (binrpm-pkg:
#                               kernel, kernel-headers) and of accelctl
#   scripts/packages.sh srpm    the kernel's .src.rpm (srcrpm-pkg)
#   scripts/packages.sh repo    build/repo: apt and dnf repositories of the
#                               packages (building any that are missing)
#
# Environment (make passes its variables of the same names):
#   CONFIG_BASE=test            the test guest's config, built in build/obj
#                               (shared with `make`: incremental)
#   CONFIG_BASE=debian          Debian's 6.12 amd64 config (linux-config-6.12)
#                               with configs/debian.config, in build/obj-debian
#   CONFIG_BASE=/path/.config   any kernel config with configs/dynaccel.config
#                               merged on top, in build/obj-custom
#   GPG_KEY=id                  sign the repositories with this key
#   REPO_URL=url                where build/repo will be served, for the
#                               sources.list line and dynaccel.repo
#   REPO_DIR=dir                write the repositories there, not build/repo
#
# Packages go to build/packages/<base>/{deb,rpm,srpm}; logs to
# build/logs/packages-*.log. The kernel RPMs carry Epoch 1 (patch 0100 of
# the series), so that dnf prefers them to the distribution's kernel.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kbuild.sh"

TREE=$BUILD/linux
LOG_DIR=$BUILD/logs
RPM_EPOCH=1
CONFIG_BASE=${CONFIG_BASE:-test}
REPO=${REPO_DIR:-$BUILD/repo}
REPO_URL=${REPO_URL:-http://localhost:8000}
GPG_KEY=${GPG_KEY:-}
DEBIAN_CONFIG_PACKAGE=linux-config-6.12
DEBIAN_CONFIG_FILE=config.amd64_none_amd64.xz

# Resolve CONFIG_BASE into BASE (a short name), OBJ and OUT. Runs before
# anything is built, so that a wrong value builds nothing.
resolve_base() {
	case "$CONFIG_BASE" in
	test)
		BASE='test'
		OBJ=$BUILD/obj
		;;
	debian)
		BASE=debian
		OBJ=$BUILD/obj-debian
		;;
	'')
		die "CONFIG_BASE is empty; use test, debian or the path of a kernel .config"
		;;
	*)
		[ -f "$CONFIG_BASE" ] ||
			die "CONFIG_BASE=$CONFIG_BASE is neither 'test', 'debian' nor an existing kernel config file"
		grep -q '^CONFIG_' "$CONFIG_BASE" ||
			die "CONFIG_BASE=$CONFIG_BASE has no CONFIG_ lines; it is not a kernel config"
		BASE=custom
		OBJ=$BUILD/obj-custom
		CONFIG_BASE=$(readlink -f "$CONFIG_BASE")
		;;
	esac
	OUT=$BUILD/packages/$BASE
}

# run LOG DESCRIPTION COMMAND...: run a long step with its output in LOG,
# saying what it does and how long it took; on failure, name the log.
run() {
	local log=$1 what=$2 t0
	shift 2
	t0=$(now_s)
	info "$what (log: $log)"
	if ! "$@" >>"$log" 2>&1; then
		tail -n 15 "$log" | sed 's/^/  | /' >&2
		die "$what failed; full log: $log"
	fi
	info "$what: done in $(($(now_s) - t0)) s"
}

# Debian's own config of its amd64 kernel flavour, from linux-config-6.12.
debian_config() {
	local f
	f=$(dpkg -L "$DEBIAN_CONFIG_PACKAGE" 2>/dev/null | grep "/$DEBIAN_CONFIG_FILE\$" | head -n 1)
	if [ -n "$f" ] && [ -f "$f" ]; then
		echo "$f"
		return 0
	fi
	die "$DEBIAN_CONFIG_PACKAGE is not installed (it has Debian's kernel configs); run scripts/deps.sh as root"
}

# Configure the object directory of the chosen base; a no-op when the
# base config, the fragments and the source are unchanged.
configure() {
	local log=$LOG_DIR/packages-$BASE-config.log src stamp want
	local -a fragments
	if [ "$BASE" = test ]; then
		# The test kernel is configured and built by kernel.sh, as by
		# `make`; the package build then only adds what is missing.
		"$DYNACCEL_ROOT/scripts/kernel.sh"
		return 0
	fi
	fragments=("$DYNACCEL_ROOT/configs/dynaccel.config")
	if [ "$BASE" = debian ]; then
		src=$(debian_config)
		fragments+=("$DYNACCEL_ROOT/configs/debian.config")
	else
		src=$CONFIG_BASE
	fi
	stamp=$OBJ/.dynaccel-config-stamp
	want=$( { echo "$src"; cat "$src" "${fragments[@]}" "$TREE/.git/dynaccel/applied-head"; } | sha256sum)
	kbuild_up_to_date "$OBJ/.config" "$stamp" "$want" && return 0
	: >"$log"
	# kbuild_config in its two steps: the assembly is a timed step, with
	# its log, as the package builds are.
	run "$log" "configuring $BASE: $(basename "$src") + ${fragments[*]##*/}" \
		kbuild_assemble "$TREE" "$OBJ" "$src" "${fragments[@]}"
	kbuild_verify "$OBJ" "${fragments[@]}"
	echo "$want" >"$stamp"
}

kernel_release() {
	local rel
	rel=$(kmake "$TREE" "$OBJ" -s kernelrelease)
	case "$rel" in
	*-dynaccel*) echo "$rel" ;;
	*) die "kernel release $rel has no -dynaccel suffix; is CONFIG_LOCALVERSION set?" ;;
	esac
}

prepare() {
	"$DYNACCEL_ROOT/scripts/deps.sh"
	"$DYNACCEL_ROOT/scripts/source.sh"
	mkdir -p "$LOG_DIR" "$OUT"
	configure
}

accelctl_version() {
	sed -n 's/^VERSION ?= *//p' "$DYNACCEL_ROOT/tools/accelctl/Makefile"
}

# Install accelctl as `make install` does, into a staging directory.
accelctl_stage() {
	local dest=$1
	make -s -C "$DYNACCEL_ROOT/tools/accelctl" O="$BUILD" all
	make -s -C "$DYNACCEL_ROOT/tools/accelctl" O="$BUILD" install DESTDIR="$dest" PREFIX=/usr
}

build_accelctl_deb() {
	local log=$LOG_DIR/packages-accelctl-deb.log tmp stage version arch doc deb
	tmp=$(mktemp -d)
	stage=$tmp/accelctl
	version=$(accelctl_version)-1
	arch=$(dpkg --print-architecture)
	: >"$log"
	run "$log" "staging accelctl $version" accelctl_stage "$stage"
	# Debian policy: stripped binaries, compressed manual pages and
	# changelog, the copyright file, the lintian overrides explained.
	strip --remove-section=.comment --remove-section=.note "$stage/usr/sbin/accelctl"
	gzip -9n "$stage/usr/share/man/man8/accelctl.8"
	doc=$stage/usr/share/doc/accelctl
	install -m 0644 "$DYNACCEL_ROOT/packaging/accelctl/debian/copyright" "$doc/copyright"
	sed -e "s/@VERSION@/$version/" -e "s/@DATE@/$(LC_ALL=C date -u -R)/" \
		"$DYNACCEL_ROOT/packaging/accelctl/debian/changelog" | gzip -9n >"$doc/changelog.Debian.gz"
	chmod 0644 "$doc/changelog.Debian.gz"
	install -D -m 0644 "$DYNACCEL_ROOT/packaging/accelctl/debian/lintian-overrides" \
		"$stage/usr/share/lintian/overrides/accelctl"
	mkdir -p "$stage/DEBIAN"
	(cd "$stage" && find usr -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum) >"$stage/DEBIAN/md5sums"
	sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" \
		-e "s/@SIZE@/$(du -sk --exclude=DEBIAN "$stage" | cut -f1)/" \
		"$DYNACCEL_ROOT/packaging/accelctl/debian/control" >"$stage/DEBIAN/control"
	chmod -R u=rwX,go=rX "$stage"
	deb=$OUT/deb/accelctl_${version}_$arch.deb
	mkdir -p "$OUT/deb"
	run "$log" "dpkg-deb: $(basename "$deb")" dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb"
	rm -rf "$tmp"
}

build_accelctl_rpm() {
	local log=$LOG_DIR/packages-accelctl-rpm.log top version src
	top=$BUILD/rpmbuild-accelctl
	version=$(accelctl_version)
	src=$DYNACCEL_ROOT/tools/accelctl
	rm -rf "$top"
	mkdir -p "$top"/{SOURCES,SPECS} "$OUT/rpm" "$OUT/srpm"
	: >"$log"
	tar -czf "$top/SOURCES/accelctl-$version.tar.gz" -C "$src" \
		--transform "s,^,accelctl-$version/," --owner=0 --group=0 --sort=name \
		Makefile accelctl.c accelctl.8 accelctl.bash-completion 90-dynaccel.conf.example
	sed -e "s/@VERSION@/$version/g" -e "s/@DATE@/$(LC_ALL=C date -u '+%a %b %d %Y')/" \
		"$DYNACCEL_ROOT/packaging/accelctl/accelctl.spec" >"$top/SPECS/accelctl.spec"
	# --nodeps: the build dependencies are Debian packages here, which
	# rpm's empty database does not know about.
	run "$log" "rpmbuild: accelctl $version" \
		rpmbuild -ba --nodeps --define "_topdir $top" "$top/SPECS/accelctl.spec"
	rm -f "$OUT"/rpm/accelctl-*.rpm "$OUT"/srpm/accelctl-*.src.rpm
	mv "$top"/RPMS/*/accelctl-*.rpm "$OUT/rpm/"
	mv "$top"/SRPMS/accelctl-*.src.rpm "$OUT/srpm/"
}

# The number of this package build, as the kernel's own packaging counts
# them: one more than the last build in this object directory.
build_number() {
	(cd "$OBJ" && sh "$TREE/scripts/build-version")
}

build_deb() {
	local log=$LOG_DIR/packages-$BASE-deb.log rel n
	prepare
	rel=$(kernel_release)
	n=$(build_number)
	: >"$log"
	# bindeb-pkg writes to the parent of the object directory.
	rm -f "$BUILD"/linux-*.deb "$BUILD"/linux-dynaccel_*.buildinfo "$BUILD"/linux-dynaccel_*.changes
	# -d: the generated control file asks for gcc-x86-64-linux-gnu, the
	# cross compiler's name, which Debian has no package of on amd64;
	# scripts/deps.sh installs the native build dependencies.
	run "$log" "bindeb-pkg: linux-image-$rel $rel-$n ($BASE config)" \
		kmake "$TREE" "$OBJ" -j"$(make_jobs)" KDEB_PKGVERSION="$rel-$n" KDEB_SOURCENAME=linux-dynaccel \
		DEBFULLNAME="dynaccel developers" DEBEMAIL=dynaccel@example.org DPKG_FLAGS=-d bindeb-pkg
	mkdir -p "$OUT/deb"
	rm -f "$OUT"/deb/linux-*.deb
	mv "$BUILD"/linux-*.deb "$OUT/deb/"
	rm -f "$BUILD"/linux-dynaccel_*.buildinfo "$BUILD"/linux-dynaccel_*.changes
	build_accelctl_deb
	info "Debian packages in ${OUT#"$DYNACCEL_ROOT"/}/deb:"
	(cd "$OUT/deb" && ls -1 -- *.deb) | sed 's/^/  /'
}

build_rpm() {
	local log=$LOG_DIR/packages-$BASE-rpm.log rel
	prepare
	rel=$(kernel_release)
	: >"$log"
	rm -rf "$OBJ/rpmbuild/RPMS"
	run "$log" "binrpm-pkg: kernel $rel, Epoch $RPM_EPOCH ($BASE config)" \
		kmake "$TREE" "$OBJ" -j"$(make_jobs)" KBUILD_RPM_EPOCH="$RPM_EPOCH" binrpm-pkg
	mkdir -p "$OUT/rpm"
	rm -f "$OUT"/rpm/kernel-*.rpm
	mv "$OBJ"/rpmbuild/RPMS/*/kernel-*.rpm "$OUT/rpm/"
	build_accelctl_rpm
	info "RPMs in ${OUT#"$DYNACCEL_ROOT"/}/rpm:"
	(cd "$OUT/rpm" && ls -1 -- *.rpm) | sed 's/^/  /'
}

build_srpm() {
	local log=$LOG_DIR/packages-$BASE-srpm.log
	prepare
	: >"$log"
	rm -rf "$OBJ/rpmbuild/SRPMS"
	# srcrpm-pkg archives build/linux's HEAD with git: the Debian source
	# and the series, with this base's config as the spec's config.
	run "$log" "srcrpm-pkg: kernel source RPM, Epoch $RPM_EPOCH ($BASE config)" \
		kmake "$TREE" "$OBJ" KBUILD_RPM_EPOCH="$RPM_EPOCH" srcrpm-pkg
	mkdir -p "$OUT/srpm"
	rm -f "$OUT"/srpm/kernel-*.src.rpm
	mv "$OBJ"/rpmbuild/SRPMS/kernel-*.src.rpm "$OUT/srpm/"
	info "source RPM: ${OUT#"$DYNACCEL_ROOT"/}/srpm/$(cd "$OUT/srpm" && ls -1 -- kernel-*.src.rpm)"
}

# Sign FILE as SIG, detached (ascii) or clear-signed.
gpg_sign() {
	gpg --batch --yes --local-user "$GPG_KEY" "$@"
}

build_repo() {
	local log=$LOG_DIR/packages-repo.log signed=no
	mkdir -p "$LOG_DIR"
	if [ -n "$GPG_KEY" ]; then
		gpg --batch --list-secret-keys "$GPG_KEY" >/dev/null 2>&1 ||
			die "GPG_KEY=$GPG_KEY: no such secret key in gpg's keyring${GNUPGHOME:+ ($GNUPGHOME)}"
		signed=yes
	fi
	compgen -G "$OUT/deb/linux-image-*.deb" >/dev/null || build_deb
	compgen -G "$OUT/rpm/kernel-[0-9]*.rpm" >/dev/null || build_rpm
	: >"$log"
	rm -rf "$REPO"
	mkdir -p "$REPO/apt" "$REPO/dnf"

	# apt: a flat repository (sources.list suite "./").
	cp "$OUT"/deb/*.deb "$REPO/apt/"
	(
		cd "$REPO/apt"
		apt-ftparchive packages . >Packages
		gzip -9nk Packages
		apt-ftparchive \
			-o APT::FTPArchive::Release::Origin=dynaccel \
			-o APT::FTPArchive::Release::Label=dynaccel \
			-o APT::FTPArchive::Release::Suite=dynaccel \
			-o APT::FTPArchive::Release::Codename=dynaccel \
			-o APT::FTPArchive::Release::Architectures="$(dpkg --print-architecture)" \
			-o APT::FTPArchive::Release::Description="dynaccel: Linux 6.12 with run-time time acceleration" \
			release . >Release.tmp
		mv Release.tmp Release
	) 2>>"$log" || die "apt-ftparchive failed; see $log"

	# dnf: createrepo_c metadata over the binary RPMs.
	cp "$OUT"/rpm/*.rpm "$REPO/dnf/"
	if [ "$signed" = yes ]; then
		# Debian's rpm looks for gpg2, which Debian no longer has.
		run "$log" "rpmsign: signing the RPMs with $GPG_KEY" \
			rpmsign --addsign --define "__gpg $(command -v gpg)" --define "_gpg_name $GPG_KEY" \
			"$REPO"/dnf/*.rpm
	fi
	run "$log" "createrepo_c: dnf metadata" createrepo_c --no-database "$REPO/dnf"

	if [ "$signed" = yes ]; then
		{
			gpg_sign --armor --detach-sign -o "$REPO/apt/Release.gpg" "$REPO/apt/Release" &&
			gpg_sign --clearsign -o "$REPO/apt/InRelease" "$REPO/apt/Release" &&
			gpg_sign --armor --detach-sign -o "$REPO/dnf/repodata/repomd.xml.asc" \
				"$REPO/dnf/repodata/repomd.xml"
		} 2>>"$log" || die "gpg could not sign with $GPG_KEY; see $log"
		gpg --batch --export "$GPG_KEY" >"$REPO/dynaccel-archive-keyring.gpg"
		gpg --batch --armor --export "$GPG_KEY" >"$REPO/RPM-GPG-KEY-dynaccel"
	fi
	write_client_files "$signed"
	info "repository in ${REPO#"$DYNACCEL_ROOT"/} ($BASE packages), for $REPO_URL:"
	(cd "$REPO" && find . -maxdepth 2 -type f ! -path './apt/*.deb' ! -path './dnf/*.rpm' | LC_ALL=C sort) | sed 's/^/  /'
	if [ "$signed" = no ]; then
		warn "the repository is NOT signed (no GPG_KEY=): dynaccel.list uses [trusted=yes] and
  dynaccel.repo gpgcheck=0, so clients take its packages unverified. Sign it with
  make repo GPG_KEY=<key id> for anything but a trusted local network."
	fi
	info "serve it with any static web server, e.g.: python3 -m http.server -d ${REPO#"$DYNACCEL_ROOT"/} 8000"
}

# build/repo/dynaccel.list and dynaccel.repo: what a client installs.
write_client_files() {
	local signed=$1
	if [ "$signed" = yes ]; then
		cat >"$REPO/dynaccel.list" <<-EOF
		# dynaccel apt repository, signed with key $GPG_KEY.
		# Install the key first: $REPO_URL/dynaccel-archive-keyring.gpg
		# as /usr/share/keyrings/dynaccel-archive-keyring.gpg
		deb [signed-by=/usr/share/keyrings/dynaccel-archive-keyring.gpg] $REPO_URL/apt ./
		EOF
		write_dnf_repo 1 \
			"# dynaccel dnf repository: packages and metadata signed with key $GPG_KEY."
	else
		cat >"$REPO/dynaccel.list" <<-EOF
		# dynaccel apt repository. UNSIGNED: built without GPG_KEY=, so apt
		# is told to trust it as it is; use it only from a source you trust.
		deb [trusted=yes] $REPO_URL/apt ./
		EOF
		write_dnf_repo 0 \
			"# dynaccel dnf repository. UNSIGNED: built without GPG_KEY=, so" \
			"# signature checks are off; use it only from a source you trust."
	fi
}

# write_dnf_repo CHECK COMMENT...: $REPO/dynaccel.repo, the COMMENT lines
# over the [dynaccel] section. CHECK is gpgcheck and repo_gpgcheck:
# 1 for a signed repository, which also names its key, 0 for an unsigned.
write_dnf_repo() {
	local check=$1
	shift
	{
		printf '%s\n' "$@"
		cat <<-EOF
		[dynaccel]
		name=dynaccel: Linux 6.12 with run-time time acceleration
		baseurl=$REPO_URL/dnf
		enabled=1
		gpgcheck=$check
		repo_gpgcheck=$check
		EOF
		if [ "$check" = 1 ]; then
			echo "gpgkey=$REPO_URL/RPM-GPG-KEY-dynaccel"
		fi
	} >"$REPO/dynaccel.repo"
}

main() {
	local what=${1:-}
	case "$what" in
	deb|rpm|srpm|repo) ;;
	*) echo "usage: $0 deb|rpm|srpm|repo   (environment: CONFIG_BASE, GPG_KEY, REPO_URL)" >&2; exit 2 ;;
	esac
	resolve_base
	"build_$what"
}

main "$@"
