#!/bin/sh
# tx-watchdog: after the NIC soak (soak ... nics) of a harness.nics=2
# boot, the network transmit watchdog of both virtio-net NICs was armed,
# carried traffic at R=1 and R=1000, and never fired: each transmit
# queue's tx_timeout counter is 0 and the kernel log has no NETDEV
# WATCHDOG line. The watchdog's delay is real (patch 26, "net: sched: Run
# the transmit watchdog in real time"), so a ratio of 1000 must not make a
# busy queue look stalled.

echo "TAP version 13"
echo "1..4"

nics=
for d in /sys/class/net/*/device/driver; do
	[ "$(basename "$(readlink "$d")")" = virtio_net ] && nics="$nics ${d%/device/driver}"
done
# shellcheck disable=SC2086 # one word per NIC
set -- $nics
if [ $# -ne 2 ]; then
	echo "not ok 1 two virtio-net NICs (boot with harness.nics=2), found $#"
	echo "not ok 2 # no NICs to check"
	echo "not ok 3 # no NICs to check"
	echo "not ok 4 # no NICs to check"
	exit 1
fi
failed=0

# 1: every transmit queue has a watchdog counter: the driver has a
# transmit timeout handler, so dev_watchdog() watches its queues.
queues=0
for n in "$@"; do
	for q in "$n"/queues/tx-*; do
		[ -r "$q/tx_timeout" ] && queues=$((queues + 1))
	done
done
if [ "$queues" -ge 2 ]; then
	echo "ok 1 transmit watchdog watches $queues queues of$(for n in "$@"; do printf ' %s' "${n##*/}"; done)"
else
	echo "not ok 1 transmit watchdog: $queues queues with a tx_timeout counter"
	failed=1
fi

# 2: traffic went through the NICs, not around them.
bytes=0
for n in "$@"; do
	bytes=$((bytes + $(cat "$n/statistics/tx_bytes")))
done
if [ "$bytes" -ge 1048576 ]; then
	echo "ok 2 the NICs sent $((bytes / 1048576)) MiB"
else
	echo "not ok 2 the NICs sent $bytes bytes, want at least 1 MiB (did the NIC soak run?)"
	failed=1
fi

# 3: no queue timed out.
timeouts=0
for n in "$@"; do
	for q in "$n"/queues/tx-*; do
		timeouts=$((timeouts + $(cat "$q/tx_timeout")))
	done
done
if [ "$timeouts" -eq 0 ]; then
	echo "ok 3 no transmit queue timed out"
else
	echo "not ok 3 transmit queues timed out $timeouts times"
	failed=1
fi

# 4: nor does the kernel say so.
if dmesg | grep -E 'NETDEV WATCHDOG|transmit queue [0-9]+ timed out' > /tmp/txwd; then
	sed 's/^/# /' /tmp/txwd
	echo "not ok 4 kernel log has a transmit watchdog line"
	failed=1
else
	echo "ok 4 kernel log has no transmit watchdog line"
fi
exit $failed
