#!/bin/sh
# shellcheck shell=sh
# A simulated day of a small system, run in the dynaccel guest at R=1000:
# busybox crond with per-minute, hourly and daily jobs, an application log
# rotated every night, and a daemon with a one-hour heartbeat.
#
#   day.sh [--live]
#
# Environment: DEMO_RATIO (1000), DEMO_START (epoch of the simulated day's
# midnight; 2026-12-01 00:00:00 UTC), DEMO_HOURS (24).
#
# Every job and heartbeat logs its CLOCK_REALTIME start time; at the end
# the script compares them with the schedule and prints, one line each:
#   demo KEY VALUE...            totals (real time taken, jobs, log sizes)
#   demo-job KIND SCHEDULED ERROR_S   every start, for the report's plot
# --live also prints one progress line per simulated hour, for `make demo`.
BENCH=/usr/lib/dynaccel/bench
R=${DEMO_RATIO:-1000}
T0=${DEMO_START:-1796083200}
HOURS=${DEMO_HOURS:-24}
DAY=$((HOURS * 3600))
LIVE=0
[ "${1:-}" = --live ] && LIVE=1
DIR=/var/log/demo
JOBS=$DIR/jobs.log

say() {
	[ "$LIVE" = 1 ] && echo "$*"
	return 0
}

setup() {
	rm -rf "$DIR" /etc/crontabs
	mkdir -p "$DIR" /etc/crontabs
	: >"$JOBS"
	# The jobs: a per-minute job that writes the application log, an
	# hourly summary, the nightly log rotation and a daily report.
	cat >/etc/crontabs/root <<-CRON
	* * * * * $BENCH/demo-job minute
	0 * * * * $BENCH/demo-job hourly
	0 3 * * * $BENCH/demo-job rotate
	30 23 * * * $BENCH/demo-job report
	CRON
}

heartbeat() {
	while :; do
		echo "heartbeat $("$BENCH/stamp")" >>"$JOBS"
		sleep 3600
	done
}

now_s() {
	"$BENCH/stamp" | cut -d. -f1
}

run_day() {
	local_raw0=$("$BENCH/stamp" raw)
	echo "$R" >/proc/sys/kernel/accel || exit 1
	# Half a minute before midnight, so that crond is asleep when the
	# day begins and the first per-minute job is the one at 00:00.
	date -u -s "@$((T0 - 30))" >/dev/null
	crond -f -c /etc/crontabs -L "$DIR/crond.log" -l 8 &
	crond_pid=$!
	sleep 30
	heartbeat &
	hb_pid=$!
	say "demo: simulated day $(date -u -d "@$T0" '+%Y-%m-%d %H:%M') UTC at R=$R; one line per simulated hour"
	h=0
	while [ "$h" -lt "$HOURS" ]; do
		h=$((h + 1))
		# Sleep to the next full hour of the accelerated clock.
		left=$((T0 + h * 3600 - $(now_s)))
		[ "$left" -gt 0 ] && sleep "$left"
		say "$(date -u '+%H:%M') UTC, $(awk -v r0="$local_raw0" -v r1="$("$BENCH/stamp" raw)" \
			'BEGIN { printf "%.1f s real", r1 - r0 }'): $(progress)"
	done
	# Let the last minute's jobs finish before stopping everything.
	sleep 60
	kill "$hb_pid" "$crond_pid" 2>/dev/null
	wait 2>/dev/null
	echo 1 >/proc/sys/kernel/accel
	local_raw1=$("$BENCH/stamp" raw)
	{
		echo "demo ratio $R"
		echo "demo hours $HOURS"
		echo "demo real_s $(awk -v a="$local_raw0" -v b="$local_raw1" 'BEGIN { printf "%.1f", b - a }')"
	} >"$DIR/totals"
}

progress() {
	awk '{ n[$1]++ } END {
		printf "%d minute jobs, %d hourly, %d rotations, %d heartbeats", \
			n["minute"], n["hourly"], n["rotate"], n["heartbeat"] }' "$JOBS"
	for f in "$DIR"/app.log.*.gz; do
		[ -e "$f" ] && printf ', %s %s bytes' "${f##*/}" "$(wc -c <"$f")"
	done
}

# Compare each start with its schedule. Cron kinds: the slot is the latest
# scheduled instant at or before the start (a start more than one period
# late would show up as a missing and a duplicate slot). The k-th
# heartbeat is due k x 3600 s after the first one, however late the ones
# before it were: the daemon's drift accumulates.
analyse() {
	cat "$DIR/totals"
	awk -v t0="$T0" -v day="$DAY" -v hours="$HOURS" '
	function slot(t, period, offset) {
		return t0 + offset + int((t - t0 - offset) / period) * period
	}
	$1 == "heartbeat" && !hb0 { hb0 = $2 }
	{
		kind = $1; t = $2
		if (kind == "minute") s = slot(t, 60, 0)
		else if (kind == "hourly") s = slot(t, 3600, 0)
		else if (kind == "rotate") s = slot(t, 86400, 3 * 3600)
		else if (kind == "report") s = slot(t, 86400, 23 * 3600 + 1800)
		else if (kind == "heartbeat") s = hb0 + 3600 * hbk++
		else next
		s = int(s + 0.5)
		if (s < t0 || s >= t0 + day) next
		key = kind " " s
		if (key in seen) dup[kind]++
		seen[key] = 1
		run[kind]++
		printf "demo-job %s %d %.3f\n", kind, s, t - s
	}
	END {
		want["minute"] = day / 60; want["hourly"] = hours
		want["heartbeat"] = hours
		for (s = 0; s < day; s += 86400) {
			if (s + 3 * 3600 < day) want["rotate"]++
			if (s + 23 * 3600 + 1800 < day) want["report"]++
		}
		split("minute hourly rotate report heartbeat", k, " ")
		for (i = 1; i <= 5; i++)
			printf "demo jobs %s %d %d %d\n", k[i], run[k[i]] + 0, want[k[i]], dup[k[i]] + 0
		printf "demo heartbeat_first_error_s %.3f\n", hb0 - t0
	}' "$JOBS"
	# The rotation: every line the minute job wrote is in exactly one log.
	lines=0
	for f in "$DIR"/app.log.*.gz; do
		[ -e "$f" ] && lines=$((lines + $(gzip -dc "$f" | grep -c '^tick ')))
	done
	[ -e "$DIR/app.log" ] && lines=$((lines + $(grep -c '^tick ' "$DIR/app.log")))
	echo "demo log_lines $lines"
	# busybox crond does not start a job whose previous run it has not
	# reaped yet: it logs "already running" instead.
	echo "demo crond_skipped $(grep -c 'already running' "$DIR/crond.log")"
	echo "demo rotated_files $(find "$DIR" -name 'app.log.*.gz' | wc -l)"
	echo "demo log_bytes_rotated $(awk '$1 == "rotate" { print $3; exit }' "$JOBS")"
}

# For people watching `make demo`: the totals in words.
summarise() {
	results=$(cat)
	echo "$results" | awk '$1 == "demo" && $2 == "real_s" {
		printf "demo: %s simulated hours took %s s of real time\n", hours, $3 }
		$1 == "demo" && $2 == "hours" { hours = $3 }'
	for k in minute hourly rotate report heartbeat; do
		errs=$(echo "$results" | awk -v k="$k" '$1 == "demo-job" && $2 == k { print $4 }' | sort -n |
			awk '{ a[NR] = $1 } END { if (NR) printf "median %.2f s, max %.2f s", a[int((NR + 1) / 2)], a[NR] }')
		echo "$results" | awk -v k="$k" -v e="${errs:-none}" '$1 == "demo" && $2 == "jobs" && $3 == k {
			printf "demo: %-9s %4d ran of %4d expected, %d duplicates; start error %s\n", k, $4, $5, $6, e }'
	done
	echo "$results" | awk '$1 == "demo" && $2 == "log_lines" { printf "demo: application log: %d lines kept", $3 }
		$1 == "demo" && $2 == "rotated_files" { printf " (%d rotated files)\n", $3 }'
}

setup
run_day
if [ "$LIVE" = 1 ]; then
	analyse | summarise
else
	analyse
fi
