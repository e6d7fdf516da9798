// SPDX-License-Identifier: GPL-2.0
/*
 * accel-alarms: the guards still catch real faults, within their real
 * thresholds and never before them, at R=1, at R=1000 and right after a
 * drop from 1000 to 1 (docs/contract.md 4, "True alarms" and "Ratio
 * changes in both directions").
 *
 * Each fault comes from the test module dynaccel-faults.ko (tests/modules),
 * with the guard's threshold set short at run time:
 *   hang	hung task detector, 3 s, checked every second
 *   lockup	soft lockup detector, watchdog_thresh 2 (4 s)
 *   rcu	RCU CPU stall detector, 3 s
 *   wq		workqueue watchdog, 3 s
 * The delay from the module's "NAME begins" line to the guard's report is
 * read from the printk timestamps (sched_clock: real time) in /dev/kmsg,
 * and must lie in the window the guard's own design gives at R=1 (see
 * struct fault), widened by SLACK_MS of scheduling noise at the top.
 *
 * "drop" runs at R=1000 for DROP_SETTLE_MS real first, so that every
 * guard has armed its next check at 1000, then drops to 1 and starts the
 * fault: a guard that kept the conversion of 1000 reports 1000 times too
 * late, never within the window.
 *
 * The faults fill the kernel log with reports on purpose: this suite has a
 * boot of its own, without dmesg-clean.
 */
#include <sys/wait.h>

#include "accel.h"

#define MODULE_PATH	"/usr/lib/dynaccel/modules/dynaccel-faults.ko"
#define SLACK_MS	1500
#define DROP_SETTLE_MS	2500

struct knob {
	const char *path;
	const char *value;
	char saved[64];
};

struct fault {
	const char *name;
	const char *report;	/* substring of the guard's report line */
	int secs;		/* real seconds the fault lasts */
	int lo_ms, hi_ms;	/* window of the report after the fault began */
	struct knob knobs[3];
};

/*
 * Windows, from each guard's design at R=1:
 * - hang: khungtaskd checks every I = 1 s and reports a task that has not
 *   switched since a check at least T = 3 s before: T <= delay <= T + 2 I.
 * - lockup: the per-CPU hrtimer samples every 2 x thresh / 5 = 0.8 s and
 *   reports when the CPU's watchdog thread last ran more than 2 x thresh
 *   = 4 s ago, which may be a sample before the fault began. Its stamps
 *   count units of 2^30 ns (get_timestamp()), and "more than 4" means 5
 *   units after the stamp, itself rounded down: up to 5 units (5.37 s)
 *   after the fault began, plus a sample (0.8 s): 6.17 s.
 * - rcu: the grace period starts after the fault began and is reported
 *   T = 3 s later, at the next tick that checks.
 * - wq: the timer fires every T = 3 s and reports a pool whose pending
 *   work has waited more than T, measured from the last check at worst.
 */
static struct fault faults[] = {
	{ "hang", "blocked for more than", 6, 3000, 5000, {
		{ "/proc/sys/kernel/hung_task_timeout_secs", "3" },
		{ "/proc/sys/kernel/hung_task_check_interval_secs", "1" },
	} },
	{ "lockup", "soft lockup", 8, 3200, 6170, {
		{ "/proc/sys/kernel/watchdog_thresh", "2" },
	} },
	{ "rcu", "stall", 6, 3000, 4000, {
		{ "/sys/module/rcupdate/parameters/rcu_cpu_stall_timeout", "3" },
		/* The spin holds preemption off: no soft lockup report */
		{ "/proc/sys/kernel/soft_watchdog", "0" },
	} },
	{ "wq", "workqueue lockup", 8, 3000, 6000, {
		{ "/sys/module/workqueue/parameters/watchdog_thresh", "3" },
		/* Or the pool would mark the hog CPU-intensive and go on */
		{ "/sys/module/workqueue/parameters/cpu_intensive_thresh_us", "60000000" },
	} },
};
#define NR_FAULTS	((int)(sizeof(faults) / sizeof(faults[0])))

enum mode { AT_1, AT_1000, AFTER_DROP, NR_MODES };
static const char *const mode_names[] = { "R=1", "R=1000", "after 1000 -> 1" };

static int write_file(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, value, strlen(value));
	close(fd);
	return n == (ssize_t)strlen(value) ? 0 : -1;
}

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static void knobs_set(struct fault *f)
{
	struct knob *k;

	for (k = f->knobs; k < f->knobs + 3 && k->path; k++) {
		if (read_file(k->path, k->saved, sizeof(k->saved)) ||
		    write_file(k->path, k->value))
			ksft_exit_fail_msg("%s: cannot set %s: %s\n", f->name, k->path,
					   strerror(errno));
	}
}

static void knobs_restore(struct fault *f)
{
	struct knob *k;

	for (k = f->knobs; k < f->knobs + 3 && k->path; k++)
		if (write_file(k->path, k->saved))
			ksft_exit_fail_msg("%s: cannot restore %s\n", f->name, k->path);
}

/*
 * The next /dev/kmsg record: its timestamp in us and its text in @msg.
 * 0, or -1 when none came within about @wait_ms of accelerated time.
 */
static int kmsg_next(int fd, int64_t *ts_us, char *msg, size_t len, int wait_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char rec[2048], *semi;
	unsigned long long ts;
	ssize_t n;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n > 0)
			break;
		if (n < 0 && errno == EPIPE)	/* overwritten: go on */
			continue;
		if (n < 0 && errno != EAGAIN)
			return -1;
		if (poll(&p, 1, wait_ms) <= 0)
			return -1;
	}
	rec[n] = '\0';
	semi = strchr(rec, ';');
	if (!semi || sscanf(rec, "%*u,%*u,%llu", &ts) != 1)
		return kmsg_next(fd, ts_us, msg, len, wait_ms);
	*ts_us = ts;
	snprintf(msg, len, "%s", semi + 1);
	msg[strcspn(msg, "\n")] = '\0';
	return 0;
}

/*
 * Provoke @f and return the delay of the guard's report after the fault
 * began, in ms; -1 if it never came (@why says what was seen).
 */
static int64_t provoke(struct fault *f, char *why, size_t whylen)
{
	char cmd[256], msg[1024], begins[64], ends[64];
	int64_t ts, t_begin = -1, t_report = -1, deadline;
	bool ended = false;
	int fd, status;

	fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (fd < 0)
		ksft_exit_fail_msg("/dev/kmsg: %s\n", strerror(errno));
	lseek(fd, 0, SEEK_END);
	snprintf(begins, sizeof(begins), "dynaccel_faults: %s begins", f->name);
	snprintf(ends, sizeof(ends), "dynaccel_faults: %s ends", f->name);

	snprintf(cmd, sizeof(cmd), "insmod %s fault=%s secs=%d", MODULE_PATH, f->name,
		 f->secs);
	status = run(cmd);
	if (status)
		ksft_exit_fail_msg("'%s' exited %d\n", cmd, status);

	/* Until the fault ended, and a little longer for a late report */
	deadline = raw_ns() + (f->secs + 3) * NSEC_PER_SEC;
	snprintf(why, whylen, "no '%s' line", begins);
	while (raw_ns() < deadline && !(ended && t_report >= 0)) {
		if (kmsg_next(fd, &ts, msg, sizeof(msg), 200))
			continue;
		if (strstr(msg, begins)) {
			t_begin = ts;
			snprintf(why, whylen, "no report containing '%s'", f->report);
		} else if (strstr(msg, ends)) {
			ended = true;
		} else if (t_begin >= 0 && t_report < 0 && strstr(msg, f->report)) {
			t_report = ts;
		}
	}
	close(fd);

	if (run("rmmod dynaccel_faults"))
		ksft_exit_fail_msg("rmmod dynaccel_faults failed\n");
	if (t_begin < 0 || t_report < 0)
		return -1;
	return (t_report - t_begin) / 1000;
}

/*
 * The guards stamp the start of a stall in real jiffies, so their report
 * can come up to one real tick before the threshold measured from the
 * printk time of the fault's first line.
 */
static int64_t tick_ms;

static void check(struct fault *f, enum mode m)
{
	char why[128];
	int64_t delay;

	/*
	 * Thresholds first: writing them re-arms the guards (khungtaskd is
	 * woken, the workqueue watchdog's timer is re-armed), which would
	 * hide a guard that a ratio drop leaves waiting at the old ratio.
	 */
	knobs_set(f);
	switch (m) {
	case AT_1:
		accel_set(1);
		break;
	case AT_1000:
		accel_set(1000);
		break;
	case AFTER_DROP:
		accel_set(1000);
		do_nanosleep(DROP_SETTLE_MS * NSEC_PER_MSEC * 1000);
		accel_set(1);
		break;
	default:
		break;
	}
	delay = provoke(f, why, sizeof(why));
	knobs_restore(f);
	accel_set(1);

	if (delay < 0) {
		ksft_test_result_fail("%s %s: %s within %d s real\n", f->name, mode_names[m],
				      why, f->secs + 3);
		return;
	}
	ksft_test_result(delay >= f->lo_ms - tick_ms && delay <= f->hi_ms + SLACK_MS,
			 "%s %s: reported %.3f s real after the fault began (want %.2f - one tick .. %.2f + %.1f s slack)\n",
			 f->name, mode_names[m], delay / 1e3, f->lo_ms / 1e3, f->hi_ms / 1e3,
			 SLACK_MS / 1e3);
}

/*
 * With arguments, check one case COUNT times instead of every case once:
 * "accel-alarms wq drop 30" looks for a rare miss.
 */
static void usage_exit(void)
{
	fprintf(stderr, "usage: accel-alarms [FAULT {1|1000|drop} COUNT]\n");
	exit(KSFT_FAIL);
}

int main(int argc, char **argv)
{
	int i, m, first_fault = 0, nr_faults = NR_FAULTS;
	int first_mode = 0, nr_modes = NR_MODES, count = 1, n;
	static const char *const mode_args[] = { "1", "1000", "drop" };

	if (argc != 1 && argc != 4)
		usage_exit();
	if (argc == 4) {
		for (first_fault = 0; first_fault < NR_FAULTS; first_fault++)
			if (!strcmp(argv[1], faults[first_fault].name))
				break;
		for (first_mode = 0; first_mode < NR_MODES; first_mode++)
			if (!strcmp(argv[2], mode_args[first_mode]))
				break;
		count = atoi(argv[3]);
		if (first_fault == NR_FAULTS || first_mode == NR_MODES || count < 1)
			usage_exit();
		nr_faults = 1;
		nr_modes = 1;
	}

	ksft_print_header();
	ksft_set_plan(nr_faults * nr_modes * count);
	accel_require();
	if (access(MODULE_PATH, R_OK))
		ksft_exit_fail_msg("%s: %s\n", MODULE_PATH, strerror(errno));
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		ksft_exit_fail_msg("the faults need a second CPU\n");
	tick_ms = (tick_ns() + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC;

	for (n = 0; n < count; n++)
		for (m = first_mode; m < first_mode + nr_modes; m++)
			for (i = first_fault; i < first_fault + nr_faults; i++)
				check(&faults[i], m);
	ksft_finished();
}
