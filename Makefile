# dynaccel: a Linux 6.12 kernel whose time runs faster on demand.
# `make help` lists the targets. Everything is built under build/.

BUILD ?= build
export BUILD

# Extra kernel command line for run and check (e.g. APPEND=accel=100).
APPEND ?=
# Command for `make run` to execute in the guest; empty for a shell.
CMD ?=
# In-guest suites for `make check` (default: all in tests/guest/suites).
SUITES ?=
# Long soak plan for `make soak`: RATIO:REAL_SECONDS entries, one boot each.
SOAK ?=
# QEMU accelerator: auto (KVM only if a probe boot works), tcg or kvm.
ACCEL ?= auto
export ACCEL

# Packages (make deb, rpm, srpm, repo): the kernel config they are built
# from: test (the test guest's, in build/obj), debian (Debian's 6.12 amd64
# config with dynaccel, in build/obj-debian) or the path of a config file.
CONFIG_BASE ?= test
# Sign the repositories (make repo) with this gpg key; unsigned if empty.
GPG_KEY ?=
# URL build/repo will be served at, for dynaccel.list and dynaccel.repo.
REPO_URL ?= http://localhost:8000
export CONFIG_BASE GPG_KEY REPO_URL

SCRIPTS := scripts

.PHONY: all deps source kernel initramfs accelctl check check-host check-guest check-ksft check-series check-config-off soak soak-base \
	bench demo run export-patches reset-source lint clean distclean help \
	deb rpm srpm packages repo check-packages

all: kernel accelctl initramfs

deps:
	@$(SCRIPTS)/deps.sh

source: deps
	@$(SCRIPTS)/source.sh

kernel: source
	@$(SCRIPTS)/kernel.sh

accelctl: deps
	@$(MAKE) -s -C tools/accelctl O=$(abspath $(BUILD)) all

# After the kernel: the test modules are built against it.
initramfs: source kernel accelctl
	@$(SCRIPTS)/initramfs.sh

check: all
	@$(SCRIPTS)/check.sh $(SUITES)

# The timeout call-site check reads the test kernel's objects.
check-host: deps accelctl kernel
	@$(SCRIPTS)/check.sh --host-only

check-guest: all
	@$(SCRIPTS)/check.sh --guest-only $(SUITES)

check-series: source
	@$(SCRIPTS)/check-series.sh

# Not part of check: builds two kernels the first time (about 40 minutes).
check-config-off: source
	@$(SCRIPTS)/check-config-off.sh

check-ksft: all
	@$(SCRIPTS)/check.sh --guest-only ksft-timers-full

soak: all
	@$(SCRIPTS)/soak.sh $(SOAK)

# The soak's load on the unpatched kernel at R=1: the hrtimer baseline.
soak-base: all
	@$(SCRIPTS)/soak.sh --base $(SOAK)

# Not part of check: up to 30 minutes; BENCH_QUICK=1 for a quick pass.
bench: all
	@$(SCRIPTS)/bench.sh

demo: all
	@$(SCRIPTS)/demo.sh

# Each checks CONFIG_BASE first and then builds what it needs (deps, source,
# kernel), so that a wrong CONFIG_BASE builds nothing.
deb rpm srpm repo:
	@$(SCRIPTS)/packages.sh $@

# One after the other: they share the kernel's object directory.
packages:
	@$(SCRIPTS)/packages.sh deb && $(SCRIPTS)/packages.sh rpm && $(SCRIPTS)/packages.sh srpm

check-packages:
	@$(SCRIPTS)/check.sh --packages

run: all
	@if [ -n "$(CMD)" ]; then \
		$(SCRIPTS)/qemu-run.sh --mode cmd --name run --timeout 3600 \
			--append "$(APPEND)" --job '$(subst ','\'',$(CMD))'; \
	else \
		$(SCRIPTS)/qemu-run.sh --mode shell --name run --append "$(APPEND)"; \
	fi

export-patches:
	@$(SCRIPTS)/export-patches.sh

reset-source:
	@$(SCRIPTS)/source.sh --reset

clean:
	rm -rf $(BUILD)/obj $(BUILD)/obj-debian $(BUILD)/obj-custom $(BUILD)/obj-off $(BUILD)/config-off $(BUILD)/packages \
		$(BUILD)/repo $(BUILD)/rpmbuild-accelctl $(BUILD)/guest $(BUILD)/bzImage $(BUILD)/initramfs.cpio.gz \
		$(BUILD)/accelctl $(BUILD)/logs $(BUILD)/state

distclean:
	rm -rf $(BUILD)

help:
	@echo "dynaccel targets:"
	@echo "  make               build build/bzImage, build/initramfs.cpio.gz, build/accelctl"
	@echo "  make check         host tests, then boot the guest and run the in-guest suites"
	@echo "  make check-host    host tests only"
	@echo "  make check-guest   in-guest suites only"
	@echo "  make check-ksft    every timers selftest at full length at R=1 (about an hour)"
	@echo "  make check-series  build the kernel at every patch of the series"
	@echo "  make check-config-off  build the series with CONFIG_DYNACCEL=n and compare every"
	@echo "                     object's code with the unpatched kernel's"
	@echo "  make soak          long soak at R=1, 200, 1000 under disk/network/timer load (~30 min)"
	@echo "  make soak-base     the soak's load on the unpatched kernel at R=1 (its hrtimer baseline)"
	@echo "  make bench         benchmarks and plots into build/bench/report.md (up to 30 min;"
	@echo "                     BENCH_QUICK=1 for a quick pass)"
	@echo "  make demo          watch a simulated day of cron jobs at R=1000 (about 2 min)"
	@echo "  make run           boot into a shell on the serial console (Ctrl-A X quits)"
	@echo "  make run CMD='...' run one command in the guest; exit with its status"
	@echo "  make deb           Debian packages: kernel image and headers (bindeb-pkg), accelctl"
	@echo "  make rpm           RPMs: kernel, kernel-devel, kernel-headers, Epoch 1 (binrpm-pkg); accelctl"
	@echo "  make srpm          the kernel's .src.rpm (srcrpm-pkg), Epoch 1"
	@echo "  make packages      deb, rpm and srpm; all go to build/packages/<base>/"
	@echo "  make repo          apt and dnf repositories of the packages in build/repo"
	@echo "  make check-packages build the test-config packages and repositories, check"
	@echo "                     them with dpkg-deb, lintian, rpm, apt and dnf (CI runs it)"
	@echo "  make export-patches  turn commits in build/linux into patches/"
	@echo "  make reset-source  drop local work in build/linux and re-apply patches/"
	@echo "  make deps          install the Debian packages needed (as root)"
	@echo "  make clean         remove build products, keep the kernel tree and ccache"
	@echo "  make distclean     remove build/ entirely"
	@echo "variables:"
	@echo "  APPEND=...         extra kernel command line for run/check (e.g. accel=100)"
	@echo "  SUITES='a b'       in-guest suites to run (names from tests/guest/suites)"
	@echo "  SOAK='1000:900 ...' make soak's plan: RATIO:REAL_SECONDS per boot"
	@echo "  ACCEL=auto|tcg|kvm QEMU accelerator (auto: KVM only if a probe boot works)"
	@echo "  BUILD=dir          build directory (default build)"
	@echo "  CONFIG_BASE=test|debian|path  config of deb/rpm/srpm/repo (default test)"
	@echo "  GPG_KEY=id         sign the repositories of make repo with this gpg key"
	@echo "  REPO_URL=url       where build/repo is served (default http://localhost:8000)"
