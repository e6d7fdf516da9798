#!/bin/sh
# dmesg-clean: after everything the guest ran, the kernel log shows none of
# the signs of a machine that time acceleration has hurt (docs/contract.md 4,
# "Health"). One TAP line per kind of sign, with the offending lines.

log=/tmp/dmesg-clean.log
dmesg > "$log"

# description|extended regular expression
signs='
WARN or BUG|(WARNING:|BUG:|Oops:|Kernel panic|Call Trace:)
RCU stall|rcu.*(stall|self-detected)
soft or hard lockup|(soft|hard) ?lockup
hung task|blocked for more than
workqueue lockup|workqueue lockup
clocksource instability|(clocksource.*(unstable|watchdog)|Marking clocksource|timekeeping watchdog)
hrtimer hang|hrtimer: interrupt took
timekeeping adjust warning|Adjusting .* more than
I/O error or timeout|(I/O error|timed out|timeout)
device reset or error handling|(hard resetting link|exception Emask|SError:|resetting|reset (high|full|super|low|wireless)[- ]?speed|Reset adapter|task abort|abort(ing)? (cmd|command)|keep-?alive)
'

# Under TCG each vCPU is a host thread. When the host preempts one inside
# hrtimer_interrupt() for milliseconds, the handler finds new timers due
# on every pass and its hang detection reports "hrtimer: interrupt took N
# ns", on the unpatched kernel as well. Measured with the same 90 s soak
# load and two CPU hogs on the host: unpatched kernel 3.19% of hrtimer
# interrupts needed extra passes and one hang (4.6 ms); dynaccel at R=1
# 2.14%, none; at R=1000 2.48%, one (2.1 ms). There the line says the
# emulator was starved, not that acceleration hurt the machine;
# accel-soak's comparison of the extra passes at R=1 and at its highest
# ratio is the check that holds under TCG.
emulated=
grep -q 'harness.accel=tcg' /proc/cmdline && emulated=1

count=$(printf '%s\n' "$signs" | grep -c '|')
echo "TAP version 13"
echo "1..$((count + 1))"
n=0
failed=0
printf '%s\n' "$signs" | grep '|' > /tmp/dmesg-signs
while IFS='|' read -r what re; do
	n=$((n + 1))
	if grep -E -i "$re" "$log" > /tmp/dmesg-hits; then
		sed 's/^/# /' /tmp/dmesg-hits | head -n 20
		if [ "$what" = "hrtimer hang" ] && [ -n "$emulated" ]; then
			echo "ok $n kernel log has no $what # SKIP under TCG a host-preempted vCPU is reported as an hrtimer hang at any ratio"
			continue
		fi
		echo "not ok $n kernel log has no $what"
		failed=1
		continue
	fi
	echo "ok $n kernel log has no $what"
done < /tmp/dmesg-signs

# Tests switch clocksources on purpose (timers/clocksource-switch) and put
# the original back; what must hold is that the kernel ends on the one it
# booted with (run-suites recorded it before the first suite).
n=$((n + 1))
now=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)
boot=$(cat /run/dynaccel-boot-clocksource 2>/dev/null)
if [ -n "$boot" ] && [ "$now" = "$boot" ]; then
	echo "ok $n clocksource is still $boot"
else
	echo "not ok $n clocksource is $now, booted with ${boot:-unknown}"
	failed=1
fi
exit $failed
