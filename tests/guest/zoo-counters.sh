#!/bin/sh
# zoo-counters: during the zoo soak, the SCSI midlayer of every disk behind
# AHCI, virtio-scsi, usb-storage and UAS saw no failed and no timed-out
# command (docs/contract.md 4, "Health"). The soak (soak ... zoo) saves
# the counters before its load in /tmp/zoo-counters.before; probing a disk
# fails a few commands on purpose (optional SCSI features), so only the
# load's own count is judged. The soak runs at R=1, 200 and 1000 and across
# drops; zero failed and zero timed-out commands holds every ratio to what
# R=1 gives: none. NVMe keeps no such counters; its timeouts and resets
# show in the kernel log, which dmesg-clean judges.

before=/tmp/zoo-counters.before
echo "TAP version 13"
if [ ! -s "$before" ]; then
	echo "1..1"
	echo "not ok 1 no counters from before the zoo soak in $before (did 'soak ... zoo' run?)"
	exit 1
fi
n=$(wc -l <"$before")
echo "1..$((n + 1))"
if [ "$n" -ge 4 ]; then
	echo "ok 1 $n SCSI disks (want the 4 of the zoo: sata, scsi, usb, uas)"
	failed=0
else
	echo "not ok 1 $n SCSI disks (want the 4 of the zoo: sata, scsi, usb, uas)"
	failed=1
fi
i=1
while read -r disk req0 err0 tmo0; do
	i=$((i + 1))
	dev=/sys/block/$disk/device
	req=$(($(cat "$dev/iorequest_cnt") - req0))
	err=$(($(cat "$dev/ioerr_cnt") - err0))
	tmo=$(($(cat "$dev/iotmo_cnt") - tmo0))
	if [ "$err" = 0 ] && [ "$tmo" = 0 ] && [ "$req" -gt 0 ]; then
		echo "ok $i $disk: $req commands during the soak, $err failed, $tmo timed out"
	else
		echo "not ok $i $disk: $req commands during the soak, $err failed, $tmo timed out"
		failed=1
	fi
done <"$before"
exit $failed
