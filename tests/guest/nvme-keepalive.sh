#!/bin/sh
# nvme-keepalive: NVMe keep-alive stays a real-time protocol while time is
# accelerated (docs/contract.md 3 and 4). An NVMe over fabrics controller
# on the loop transport (the kernel's own target, nvmet, backed by a file
# on tmpfs) is connected with a keep-alive timeout of KATO real seconds,
# then written to and read back while the ratio goes 1 -> 1000 -> 1 ->
# 1000 -> 1, each step STEP real seconds. PCIe controllers do not use
# keep-alive; the loop transport runs both ends, host and target, in this
# kernel.
#
# Held: the controller stays live; no keep-alive is reported late ("long
# keepalive RTT", which happens on every keep-alive when the round trip
# is measured in accelerated jiffies from a real start) or fails; the
# target never expires the host (which it would within KATO real seconds
# if the host's keep-alives were late, e.g. armed at 1000 and left
# waiting 1000 times too long after the drop); every byte reads back.
#
#   nvme-keepalive [STEP_SECONDS]

step=${1:-8}
kato=5
nqn=nqn.2026-12.org.dynaccel:zoo-loop
cfg=/sys/kernel/config/nvmet
pattern=/tmp/nvmet/pattern
# The load of one step, as "nvme-keepalive --io DEV": write and read back
# until killed. rawtimeout (guest/) ends it after STEP real seconds at any
# ratio.
if [ "${1:-}" = --io ]; then
	while :; do
		if dd if=$pattern of="$2" bs=1M oflag=direct conv=fsync 2>/dev/null &&
			dd if="$2" of=/tmp/nvmet/back bs=1M count=4 iflag=direct 2>/dev/null &&
			cmp -s $pattern /tmp/nvmet/back; then
			echo ok >>/tmp/nvmet/rounds
		else
			echo bad >>/tmp/nvmet/rounds
		fi
	done
fi

n=0
failed=0

echo "TAP version 13"
echo "1..5"

bail() {
	echo "Bail out! $*"
	exit 1
}

result() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2"
		failed=1
	fi
}

grep -q configfs /proc/filesystems || bail "no configfs in this kernel"
grep -q " /sys/kernel/config configfs " /proc/mounts ||
	mount -t configfs none /sys/kernel/config || bail "mounting configfs failed"
[ -d $cfg ] || bail "no nvmet in this kernel ($cfg)"
[ -e /dev/nvme-fabrics ] || bail "no /dev/nvme-fabrics (nvme-fabrics, nvme-loop)"

# The target: a 64 MiB file on tmpfs as namespace 1, a loop port.
mkdir -p /tmp/nvmet || bail "mkdir /tmp/nvmet"
mount -t tmpfs none /tmp/nvmet || bail "mounting a tmpfs at /tmp/nvmet"
dd if=/dev/zero of=/tmp/nvmet/ns1 bs=1M count=64 2>/dev/null || bail "backing file"
mkdir $cfg/subsystems/$nqn || bail "mkdir subsystem"
echo 1 >$cfg/subsystems/$nqn/attr_allow_any_host
mkdir $cfg/subsystems/$nqn/namespaces/1
echo /tmp/nvmet/ns1 >$cfg/subsystems/$nqn/namespaces/1/device_path
echo 1 >$cfg/subsystems/$nqn/namespaces/1/enable || bail "enabling the namespace"
mkdir $cfg/ports/1
echo loop >$cfg/ports/1/addr_trtype
ln -s $cfg/subsystems/$nqn $cfg/ports/1/subsystems/$nqn || bail "linking the port"

echo "transport=loop,nqn=$nqn,keep_alive_tmo=$kato" >/dev/nvme-fabrics ||
	bail "connecting to $nqn over loop failed"
ctrl=
for c in /sys/class/nvme/nvme*; do
	[ "$(cat "$c/transport" 2>/dev/null)" = loop ] && ctrl=${c##*/}
done
[ -n "$ctrl" ] || bail "no NVMe controller on the loop transport after connecting"
dev=
tries=0
while [ -z "$dev" ]; do
	for b in /sys/class/nvme/"$ctrl"/nvme*n*; do
		[ -e "/dev/${b##*/}" ] && dev=/dev/${b##*/}
	done
	tries=$((tries + 1))
	[ $tries -le 50 ] || bail "no namespace on $ctrl"
	[ -n "$dev" ] || usleep 100000
done
echo "# $ctrl: $(cat /sys/class/nvme/"$ctrl"/transport) controller, namespace $dev, kato ${kato} s"

mark=$(dmesg | wc -l)
dd if=/dev/urandom of=$pattern bs=1M count=4 2>/dev/null
: >/tmp/nvmet/rounds
for r in 1000 1 1000 1; do
	echo "$r" >/proc/sys/kernel/accel || bail "setting kernel.accel=$r"
	rawtimeout "$step" "$0" --io "$dev"
done
rounds=$(grep -c ok /tmp/nvmet/rounds)
bad=$(grep -c bad /tmp/nvmet/rounds)
state=$(cat /sys/class/nvme/"$ctrl"/state)
dmesg | tail -n +$((mark + 1)) >/tmp/nvme-keepalive.log

result "$([ "$state" = live ] && echo 0 || echo 1)" "controller $ctrl is live after 1000 -> 1 -> 1000 -> 1 ($state)"
result "$([ "$bad" = 0 ] && [ "$rounds" -gt 4 ] && echo 0 || echo 1)" "$rounds rounds of 4 MiB written and read back with O_DIRECT, $bad failures"
for what in "long keepalive RTT" "keep-alive timer .* expired|keep-alive failed|failed nvme_keep_alive" "resetting controller|reconnect|I/O error|timeout"; do
	if grep -E -i "$what" /tmp/nvme-keepalive.log >/tmp/nvme-hits; then
		sed 's/^/# /' /tmp/nvme-hits | head -n 10
		result 1 "kernel log has no '$what' line"
	else
		result 0 "kernel log has no '$what' line"
	fi
done

echo 1 >/proc/sys/kernel/accel
echo 1 >/sys/class/nvme/"$ctrl"/delete_controller 2>/dev/null
exit $failed
