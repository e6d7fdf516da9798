#!/usr/bin/env bash
# Boot the dynaccel kernel under QEMU with the test initramfs.
#
#   qemu-run.sh [options]
#     --mode check|cmd|shell   check: run a job, console to a log file, live
#                              results on stdout; cmd: run a job with the
#                              console on stdout; shell: interactive shell on
#                              the serial console (Ctrl-A X quits)
#     --job TEXT               shell text the guest runs (check and cmd)
#     --name NAME              log names: build/logs/NAME-console.log and
#                              build/logs/NAME-results.log (default: MODE)
#     --timeout SECONDS        real seconds before the guest is declared hung
#     --append TEXT            extra kernel command line (e.g. accel=1000)
#     --kernel FILE            default build/bzImage
#     --initrd FILE            default build/initramfs.cpio.gz
#     --disk FILE              a raw image for the guest's virtio disk
#                              (/dev/vda, mounted by init at /mnt/disk)
#
# Environment: ACCEL=auto|tcg|kvm (default auto: KVM only after a probe boot
# has shown that it works on this host, else TCG), QEMU_SMP (2), QEMU_MEM (1G).
#
# Two words of --append ask the harness for more than the kernel (the
# kernel ignores dotted parameters that no built-in code claims, and the
# guest's tests read them from /proc/cmdline):
#   harness.nics=2       two virtio-net NICs joined by a QEMU hub and to
#                        nothing else: no frame ever leaves QEMU
#   harness.tsc=watched  no tsc=reliable under TCG: the clocksource watchdog
#                        checks the TSC as it would on hardware
#   harness.zoo=1        the device zoo: one fresh ext4 disk (labelled
#                        zoo-NAME) on each of AHCI (sata), virtio-scsi
#                        (scsi), NVMe (nvme), usb-storage (usb) and UAS (uas)
#                        behind xHCI, and two e1000e NICs joined by a QEMU
#                        hub of their own (disks under build/state/zoo/)
#
# Exit status: the job's exit status; 124 when the guest timed out or did
# not finish its job; 125 on harness errors (bad arguments, no kernel or
# initramfs, QEMU missing), as timeout(1) does, so that they never pass
# for a job's own status.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
DIE_STATUS=125

MODE=shell JOB='' NAME='' TIMEOUT=600 APPEND='' DISK=''
KERNEL=$BUILD/bzImage INITRD=$BUILD/initramfs.cpio.gz
ACCEL=${ACCEL:-auto}

parse_args() {
	while [ $# -gt 0 ]; do
		case "$1" in
		--mode|--job|--name|--timeout|--append|--kernel|--initrd|--disk)
			[ $# -ge 2 ] || die "$1 takes a value" ;;
		esac
		case "$1" in
		--mode) MODE=$2; shift ;;
		--job) JOB=$2; shift ;;
		--name) NAME=$2; shift ;;
		--timeout) TIMEOUT=$2; shift ;;
		--append) APPEND=$2; shift ;;
		--kernel) KERNEL=$2; shift ;;
		--initrd) INITRD=$2; shift ;;
		--disk) DISK=$2; shift ;;
		*) die "unknown option: $1 (see the header of $0)" ;;
		esac
		shift
	done
	NAME=${NAME:-$MODE}
	[[ "$NAME" =~ ^[A-Za-z0-9._-]+$ ]] || die "--name takes letters, digits, '.', '_' and '-'"
	# Whatever happens next, this boot's results start empty: a run that
	# fails from here on can never show an earlier run's results.
	mkdir -p "$BUILD/logs"
	: >"$BUILD/logs/$NAME-results.log"
	case "$MODE" in
	check|cmd|shell) ;;
	*) die "--mode must be check, cmd or shell" ;;
	esac
	command -v qemu-system-x86_64 >/dev/null ||
		die "qemu-system-x86_64 is not installed; run scripts/deps.sh as root"
	[[ "$TIMEOUT" =~ ^[0-9]+$ ]] || die "--timeout takes whole seconds"
	[ -f "$KERNEL" ] || die "no kernel image at $KERNEL; run 'make' first"
	[ -f "$INITRD" ] || die "no initramfs at $INITRD; run 'make' first"
	[ -z "$DISK" ] || [ -f "$DISK" ] || die "no disk image at $DISK"
	case "$ACCEL" in
	auto|tcg|kvm) ;;
	*) die "ACCEL must be auto, tcg or kvm, not '$ACCEL'" ;;
	esac
}

# Append a cpio archive holding /etc/dynaccel/job to the initramfs: the
# kernel unpacks concatenated archives in order, so the job lands on top of
# the shared image without rebuilding it.
make_initrd() {
	local out=$1 job=$2 dir
	dir=$(mktemp -d)
	# The archive's "." entry sets the mode of the guest's root directory.
	chmod 0755 "$dir"
	mkdir -p "$dir/etc/dynaccel"
	printf '%s\n' "$job" >"$dir/etc/dynaccel/job"
	cp "$INITRD" "$out"
	# The kernel looks for the next archive's magic at a 4-byte aligned
	# offset and skips zero padding: pad the compressed image to 512.
	truncate -s %512 "$out"
	(cd "$dir" && find . | cpio -o -H newc -R 0:0 --quiet) >>"$out"
	rm -rf "$dir"
}

qemu_base() {
	local accel=$1
	local -a args=(qemu-system-x86_64 -nodefaults -no-user-config -no-reboot
		-display none -m "${QEMU_MEM:-1G}" -smp "${QEMU_SMP:-2}"
		-kernel "$KERNEL" -rtc base=utc)
	[ -z "$DISK" ] || args+=(-drive "file=$DISK,format=raw,if=virtio")
	# shellcheck disable=SC2054 # QEMU option values have commas
	if [[ " $APPEND " == *" harness.nics=2 "* ]]; then
		args+=(-netdev hubport,id=nic0,hubid=0 -device virtio-net-pci,netdev=nic0
			-netdev hubport,id=nic1,hubid=0 -device virtio-net-pci,netdev=nic1)
	fi
	if [[ " $APPEND " == *" harness.zoo=1 "* ]]; then
		local z=$BUILD/state/zoo
		# shellcheck disable=SC2054 # QEMU option values have commas
		args+=(-device ahci,id=ahci0
			-drive "file=$z/sata.img,format=raw,if=none,id=zsata"
			-device ide-hd,drive=zsata,bus=ahci0.0
			-device virtio-scsi-pci,id=vscsi0
			-drive "file=$z/scsi.img,format=raw,if=none,id=zscsi"
			-device scsi-hd,drive=zscsi,bus=vscsi0.0
			-drive "file=$z/nvme.img,format=raw,if=none,id=znvme"
			-device nvme,serial=dynaccel-zoo,drive=znvme
			-device qemu-xhci,id=xhci0
			-drive "file=$z/usb.img,format=raw,if=none,id=zusb"
			-device usb-storage,bus=xhci0.0,drive=zusb
			-device usb-uas,id=uas0,bus=xhci0.0
			-drive "file=$z/uas.img,format=raw,if=none,id=zuas"
			-device scsi-hd,bus=uas0.0,scsi-id=0,lun=0,drive=zuas
			-netdev hubport,id=e0,hubid=1 -device e1000e,netdev=e0
			-netdev hubport,id=e1,hubid=1 -device e1000e,netdev=e1)
	fi
	if [ "$accel" = kvm ]; then
		args+=(-accel kvm -cpu host)
	else
		args+=(-accel 'tcg,thread=multi' -cpu max)
	fi
	printf '%s\n' "${args[@]}"
}

# KVM is used only when a probe boot finished under it: on this kind of
# host /dev/kvm exists but nested guests hang. The verdict is cached per
# kernel image.
pick_accel() {
	local cache=$BUILD/state/kvm-probe key initrd rc
	case "$ACCEL" in
	tcg|kvm) echo "$ACCEL"; return ;;
	auto) ;;
	*) die "ACCEL must be auto, tcg or kvm" ;;
	esac
	if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
		echo tcg
		return
	fi
	key=$(sha256sum "$KERNEL" | cut -c1-16)
	mkdir -p "$BUILD/state"
	if [ -f "$cache" ] && [ "$(cut -d' ' -f1 "$cache")" = "$key" ]; then
		cut -d' ' -f2 "$cache"
		return
	fi
	initrd=$(mktemp)
	make_initrd "$initrd" "true"
	rc=0
	mapfile -t base < <(qemu_base kvm)
	timeout 30 "${base[@]}" -initrd "$initrd" -append "console=ttyS0 panic=-1 quiet" \
		-serial null -serial "file:$BUILD/state/kvm-probe.out" >/dev/null 2>&1 || rc=$?
	rm -f "$initrd"
	if [ "$rc" = 0 ] && grep -q '^# dynaccel-guest: exit 0' "$BUILD/state/kvm-probe.out" 2>/dev/null; then
		echo "$key kvm" >"$cache"
		echo kvm
	else
		info "KVM probe failed (status $rc): falling back to TCG" >&2
		echo "$key tcg" >"$cache"
		echo tcg
	fi
}

# Fresh file systems for the zoo's disks, found in the guest by label.
ZOO_DISKS="sata scsi nvme usb uas"
make_zoo_disks() {
	local d
	mkdir -p "$BUILD/state/zoo"
	for d in $ZOO_DISKS; do
		rm -f "$BUILD/state/zoo/$d.img"
		truncate -s 256M "$BUILD/state/zoo/$d.img"
		mkfs.ext4 -q -F -L "zoo-$d" "$BUILD/state/zoo/$d.img" >/dev/null ||
			die "mkfs.ext4 of the zoo disk $d failed"
	done
}

INITRD_RUN=''
cleanup() {
	[ -z "$INITRD_RUN" ] || rm -f "$INITRD_RUN"
}

main() {
	local accel initrd console results rc=0 cmdline qpid
	local -a base

	parse_args "$@"
	mkdir -p "$BUILD/logs"
	[[ " $APPEND " != *" harness.zoo=1 "* ]] || make_zoo_disks
	accel=$(pick_accel)
	mapfile -t base < <(qemu_base "$accel")
	console=$BUILD/logs/$NAME-console.log
	results=$BUILD/logs/$NAME-results.log
	cmdline="console=ttyS0 panic=-1 rdinit=/init"
	# Under TCG the emulated TSC and HPET are read by vCPU threads that
	# the host deschedules, so the clocksource watchdog sees skews over
	# its limit even at R=1 (seen at boot on a loaded host) and switches
	# to the HPET. Trust the TSC there; under KVM the watchdog stays on.
	if [ "$accel" = tcg ] && [[ " $APPEND " != *" harness.tsc=watched "* ]]; then
		cmdline="$cmdline tsc=reliable"
	fi
	# Tell the guest's tests how it runs; the kernel ignores a parameter
	# with a dot that no built-in code claims (dmesg-clean reads it).
	cmdline="$cmdline harness.accel=$accel"
	cmdline="$cmdline $APPEND"

	initrd=$(mktemp --suffix=.cpio)
	INITRD_RUN=$initrd
	trap cleanup EXIT
	case "$MODE" in
	shell)
		cp "$INITRD" "$initrd"
		info "booting $(basename "$KERNEL") under $accel; Ctrl-A X quits"
		"${base[@]}" -initrd "$initrd" -append "$cmdline" \
			-chardev "stdio,id=con,mux=on,signal=off,logfile=$console" \
			-serial chardev:con -serial "file:$results" -mon chardev=con,mode=readline || rc=$?
		return "$rc"
		;;
	cmd)
		make_initrd "$initrd" "$JOB"
		timeout --foreground -s KILL "$TIMEOUT" "${base[@]}" -initrd "$initrd" \
			-append "$cmdline quiet" \
			-chardev "stdio,id=con,signal=off,logfile=$console" \
			-serial chardev:con -serial "file:$results" </dev/null || rc=$?
		;;
	check)
		make_initrd "$initrd" "$JOB"
		info "booting under $accel (timeout ${TIMEOUT}s, console log: $console)"
		timeout -s KILL "$TIMEOUT" "${base[@]}" -initrd "$initrd" -append "$cmdline" \
			-serial "file:$console" -serial "file:$results" </dev/null &
		qpid=$!
		# Show results as they come; tail reads what is left once QEMU
		# (or the timeout that runs it) has exited, then stops itself.
		tail -n +1 -s 0.2 -F --pid="$qpid" "$results" 2>/dev/null |
			grep -v '^# dynaccel-guest:' || true
		wait "$qpid" || rc=$?
		;;
	esac

	local status
	status=$(sed -n 's/^# dynaccel-guest: exit \([0-9]*\).*/\1/p' "$results" | tail -n 1)
	if [ -z "$status" ]; then
		if [ "$rc" = 137 ]; then
			warn "guest did not finish within ${TIMEOUT}s real; console log: $console"
		else
			warn "guest stopped (QEMU status $rc) before its job finished; console log: $console"
		fi
		return 124
	fi
	return "$status"
}

main "$@"
