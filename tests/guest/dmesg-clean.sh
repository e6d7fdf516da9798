#!/bin/sh
# dmesg-clean: after everything the guest ran, the kernel log shows none of
# the signs of a machine that time acceleration has hurt (CONTRACT 4,
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
'

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
