#!/bin/sh
# soak: the machine under load at a plan of ratios (tests/guest/accel-soak.c)
# with its two external pieces set up here: the ext4 file system on the
# harness's virtio disk (mounted by init at /mnt/disk) and a second network
# namespace, joined to this one by a veth pair, or with "nics" by the two
# virtio-net NICs of a harness.nics=2 boot (a QEMU hub joins them and
# nothing else), so that TCP runs through real NIC drivers, their transmit
# queues and the transmit watchdog.
#
#   soak REAL_SECONDS PLAN [IDLE_SECONDS [veth|nics]]
#
# PLAN is a comma-separated list of ratios applied in equal real segments.
# The kernel log is judged by the dmesg-clean suite that runs after it.

usage='usage: soak REAL_SECONDS PLAN [IDLE_SECONDS [veth|nics]]'
real=${1:?$usage}
plan=${2:?$usage}
idle=${3:-0}
link=${4:-veth}
disk=/mnt/disk
here=10.99.0.1
peer=10.99.0.2

fail() {
	echo "TAP version 13"
	echo "1..1"
	echo "not ok 1 soak setup: $*"
	exit 1
}

grep " $disk ext4 " /proc/mounts >/dev/null ||
	fail "no ext4 file system at $disk (is the harness's virtio disk /dev/vda there? init mounts it)"

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
	rm -f "$disk"/soak-w*
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
nics)
	# The harness's two virtio-net NICs, in the order the kernel found them.
	# shellcheck disable=SC2046 # one word per interface name
	set -- $(for d in /sys/class/net/*/device/driver; do
		[ "$(basename "$(readlink "$d")")" = virtio_net ] && basename "${d%/device/driver}"
	done)
	[ $# -eq 2 ] || fail "want two virtio-net NICs (boot with harness.nics=2), found $#: $*"
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

accel-soak -t "$real" -r "$plan" -d "$disk" -n "$nspid" -p "$peer" -i "$idle"
