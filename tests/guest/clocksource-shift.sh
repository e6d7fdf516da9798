#!/bin/sh
# clocksource-shift: a change of clocksource that forces the ratio down
# leaves CLOCK_MONOTONIC where it was (docs/contract.md 4, "Monotonic and
# continuous"; issue 14, defect 5).
#
# A clocksource whose shift is below log2(R) cannot run accelerated: a
# change to it drops R to 1, and the timekeeper converts the base of
# CLOCK_MONOTONIC from the old clocksource's accelerated shift to the new
# one's. The test module dynaccel-csshift.ko (tests/modules) makes such a
# change at R=1000 with both clocksources frozen, so that the clock read
# just before the change and the one read just after must be equal, or
# later by less than a nanosecond of rounding; a conversion that truncates
# at a coarser unit than its result makes it step back by up to 4 ns
# (shift 8, k = 10). REPS changes, each from R=1000.
#
#   clocksource-shift [REPS]

reps=${1:-10}
ko=/usr/lib/dynaccel/modules/dynaccel-csshift.ko
accel=/proc/sys/kernel/accel

echo "TAP version 13"
echo "1..3"

[ -r $ko ] || { echo "Bail out! $ko is missing"; exit 1; }

dropped=0
back=0
raw_back=0
min_step=
i=0
while [ $i -lt "$reps" ]; do
	i=$((i + 1))
	echo 1000 >$accel || { echo "Bail out! cannot set kernel.accel=1000"; exit 1; }
	dmesg -c >/dev/null
	if ! insmod $ko; then
		dmesg | sed 's/^/# /'
		echo "Bail out! insmod dynaccel-csshift.ko failed"
		exit 1
	fi
	line=$(dmesg | grep 'dynaccel_csshift: switched=')
	rmmod dynaccel_csshift
	echo "# change $i: ${line#*: }, kernel.accel now $(cat $accel)"
	case $line in
	*switched=1*) ;;
	*) echo "Bail out! the change to csshift-lo did not happen: $line"; exit 1 ;;
	esac
	[ "$(cat $accel)" = 1 ] && dropped=$((dropped + 1))
	step=${line#*mono_step=}
	step=${step%% *}
	raw=${line#*raw_step=}
	[ "$step" -lt 0 ] && back=$((back + 1))
	[ "$raw" -lt 0 ] && raw_back=$((raw_back + 1))
	if [ -z "$min_step" ] || [ "$step" -lt "$min_step" ]; then
		min_step=$step
	fi
done
echo 1 >$accel

if [ $dropped = "$reps" ]; then
	echo "ok 1 a change to a clocksource with shift 8 dropped R from 1000 to 1 ($dropped of $reps)"
else
	echo "not ok 1 a change to a clocksource with shift 8 dropped R from 1000 to 1 in $dropped of $reps changes"
fi
if [ $back = 0 ]; then
	echo "ok 2 CLOCK_MONOTONIC never stepped back across the change ($reps changes, smallest step $min_step ns)"
else
	echo "not ok 2 CLOCK_MONOTONIC stepped back across the change in $back of $reps changes (smallest step $min_step ns)"
fi
if [ $raw_back = 0 ]; then
	echo "ok 3 CLOCK_MONOTONIC_RAW never stepped back across the change ($reps changes)"
else
	echo "not ok 3 CLOCK_MONOTONIC_RAW stepped back across the change in $raw_back of $reps changes"
fi
