#!/bin/sh
# soak: the machine under load at a plan of ratios (tests/guest/accel-soak.c)
# with its external pieces set up here:
# - the disks: the ext4 file system on the harness's virtio disk (mounted
#   by init at /mnt/disk), or with "zoo" the five disks of a harness.zoo=1
#   boot, one per storage controller (AHCI, virtio-scsi, NVMe, usb-storage
#   and UAS), each mounted here after checking the driver it sits on;
# - a second network namespace, joined to this one by a veth pair, or by
#   the two NICs of a harness.nics=2 boot ("nics", virtio-net) or of a
#   harness.zoo=1 boot ("e1000e"), which a QEMU hub joins and nothing else,
#   so that TCP runs through real NIC drivers, their transmit queues and
#   the transmit watchdog.
#
#   soak REAL_SECONDS PLAN [IDLE_SECONDS [veth|nics|e1000e [disk|zoo]]]
#
# PLAN is a comma-separated list of ratios applied in equal real segments.
# The kernel log is judged by the dmesg-clean suite that runs after it.

usage='usage: soak REAL_SECONDS PLAN [IDLE_SECONDS [veth|nics|e1000e [disk|zoo]]]'
real=${1:?$usage}
plan=${2:?$usage}
idle=${3:-0}
link=${4:-veth}
disks=${5:-disk}
disk=/mnt/disk
here=10.99.0.1
peer=10.99.0.2

fail() {
	echo "TAP version 13"
	echo "1..1"
	echo "not ok 1 soak setup: $*"
	exit 1
}

# The drivers from a block device up to the root of its device path.
drivers_of() {
	p=$(realpath "/sys/class/block/$1")
	while [ "$p" != /sys ] && [ -n "$p" ]; do
		[ -L "$p/driver" ] && basename "$(readlink "$p/driver")"
		p=${p%/*}
	done
}

# Mount the zoo disk labelled zoo-NAME, which must sit on DRIVER. USB
# disks are enumerated in the background after boot: wait up to 30 s.
mount_zoo() {
	name=$1 driver=$2 tries=0
	until dev=$(findfs "LABEL=zoo-$name" 2>/dev/null); do
		tries=$((tries + 1))
		[ $tries -le 300 ] || fail "no disk labelled zoo-$name after 30 s (boot with harness.zoo=1)"
		usleep 100000
	done
	drivers_of "${dev#/dev/}" | grep -qx "$driver" ||
		fail "zoo-$name is $dev on $(drivers_of "${dev#/dev/}" | tr '\n' ' '), not on $driver"
	mkdir -p "/mnt/zoo/$name"
	mount -t ext4 "$dev" "/mnt/zoo/$name" || fail "mounting $dev at /mnt/zoo/$name failed"
	dirs="$dirs -d /mnt/zoo/$name"
	echo "# zoo-$name: $dev on $driver"
}

dirs=
case $disks in
disk)
	grep " $disk ext4 " /proc/mounts >/dev/null ||
		fail "no ext4 file system at $disk (is the harness's virtio disk /dev/vda there? init mounts it)"
	dirs="-d $disk"
	;;
zoo)
	mount_zoo sata ahci
	mount_zoo scsi virtio_scsi
	mount_zoo nvme nvme
	mount_zoo usb usb-storage
	mount_zoo uas uas
	# The SCSI midlayer's counters before the load, for zoo-counters
	for d in /sys/block/sd*; do
		[ -e "$d/device/ioerr_cnt" ] &&
			echo "${d##*/} $(($(cat "$d/device/iorequest_cnt"))) $(($(cat "$d/device/ioerr_cnt"))) $(($(cat "$d/device/iotmo_cnt")))"
	done >/tmp/zoo-counters.before
	;;
*)
	fail "$usage"
	;;
esac

# A process that holds the other network namespace open.
unshare -n sleep 1000000 &
nspid=$!
tries=0
while [ "$(readlink /proc/$nspid/ns/net)" = "$(readlink /proc/self/ns/net)" ]; do
	tries=$((tries + 1))
	[ $tries -le 100 ] || fail "unshare -n did not create a network namespace"
	usleep 10000
done

cleanup() {
	kill "$nspid" 2>/dev/null
	[ "$link" = veth ] && ip link del sk0 2>/dev/null
	for d in $dirs; do
		[ "$d" = -d ] || rm -f "$d"/soak-w*
	done
	[ "$disks" = zoo ] && umount /mnt/zoo/* 2>/dev/null
}
trap cleanup EXIT

case $link in
veth)
	# busybox ip names the peer itself (vethN): find it by its link to sk0.
	ip link add sk0 type veth || fail "ip link add sk0 type veth failed"
	near=sk0
	vpeer=$(ip -o link show | sed -n 's/^[0-9]*: \([^@:]*\)@sk0.*/\1/p')
	[ -n "$vpeer" ] || fail "no peer of the veth sk0 found"
	;;
nics|e1000e)
	# The harness's two NICs, in the order the kernel found them.
	driver=virtio_net
	[ "$link" = e1000e ] && driver=e1000e
	# shellcheck disable=SC2046 # one word per interface name
	set -- $(for d in /sys/class/net/*/device/driver; do
		[ "$(basename "$(readlink "$d")")" = "$driver" ] && basename "${d%/device/driver}"
	done)
	[ $# -eq 2 ] || fail "want two $driver NICs (boot with harness.nics=2 or harness.zoo=1), found $#: $*"
	near=$1
	vpeer=$2
	;;
*)
	fail "$usage"
	;;
esac
ip link set "$vpeer" netns "$nspid" || fail "moving $vpeer into namespace of $nspid failed"
{ ip addr add "$here/24" dev "$near" && ip link set "$near" up; } ||
	fail "configuring $near failed"
nsenter -t "$nspid" -n sh -c "ip link set lo up && ip addr add $peer/24 dev $vpeer && ip link set $vpeer up" ||
	fail "configuring $vpeer in namespace of $nspid failed"

# shellcheck disable=SC2086 # $dirs is a list of -d DIR options
accel-soak -t "$real" -r "$plan" $dirs -n "$nspid" -p "$peer" -i "$idle"
