// SPDX-License-Identifier: GPL-2.0
/*
 * accel-waits: the waits of the real domain last their real time at any
 * ratio and across ratio changes (docs/contract.md 3,
 * Documentation/timers/dynaccel.rst "Which waits are real").
 *
 * A completion's timeout guards against an event that never comes (an ATA
 * internal command, a SCSI error handling command, a USB control message);
 * a real timer or delayed work times hardware (libata's NCQ drain, the
 * xHCI command timeout, e1000e's watchdog, USB hub power-on delays). At
 * R=1000 an accelerated 1 s wait would last 1 ms of real time. The test
 * module dynaccel-waits.ko (tests/modules) waits WAIT_MS with one of them
 * and logs the real time the wait took (CLOCK_MONOTONIC_RAW); each case
 * loads it once:
 *
 *   - at R=1 and at R=1000;
 *   - armed at R=1000, with R dropped to 1 CHANGE_AFTER into the wait: a
 *     wait converted once at 1000 would end long before the drop;
 *   - armed at R=1, with R raised to 1000 CHANGE_AFTER into the wait: one
 *     converted once at 1 would end right after the rise.
 *
 * Each must last at least WAIT_MS of real time (a guard never fires before
 * its threshold) and at most WAIT_MS plus SLACK_MS (two real ticks, the
 * jiffy the wait is rounded to, the hrtimer slack, and the load of the
 * module under emulation).
 *
 * A wait counted in ticks starts somewhere inside a tick; one that ran
 * from the tick count of that moment would end up to a tick early, and a
 * single long wait shows that only now and then. So each kind also waits
 * SHORT_MS (three ticks at HZ=250) SHORT_TIMES times in a row, at R=1 and
 * at R=1000: the shortest must last SHORT_MS, the longest at most SHORT_MS
 * plus SLACK_MS.
 *
 * A guard (the workqueue watchdog, blk-mq's request timeout) arms its
 * timer with a real delay converted at the ratio of the moment, and a
 * ratio drop fires it so that it re-arms at the new ratio. The guard case
 * arms a deferrable guard at R=1000, drops to 1 CHANGE_AFTER into the
 * wait and goes idle: the handler must run within RECHECK_MS of the drop.
 * Deferrable, it keeps no CPU ticking, so nothing else bounds how late a
 * quiet machine runs it (upstream's choice for the workqueue watchdog);
 * the wait must still never end early.
 */
#include <pthread.h>
#include <sys/wait.h>

#include "accel.h"

#define MODULE_PATH	"/usr/lib/dynaccel/modules/dynaccel-waits.ko"
#define WAIT_MS		1000
#define SLACK_MS	150
#define CHANGE_AFTER	(200 * NSEC_PER_MSEC)	/* real */
#define SHORT_MS	12
#define SHORT_TIMES	50
#define RECHECK_MS	50

struct load {
	const char *kind;
	int ms;
	int times;
	int status;
};

static void *load_module(void *arg)
{
	struct load *l = arg;
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "insmod %s ms=%d kind=%s times=%d", MODULE_PATH,
		 l->ms, l->kind, l->times);
	l->status = run(cmd);
	return NULL;
}

/*
 * The real ns of the shortest and of the longest wait of the module's last
 * load, and when a guard was first re-checked, from its log line; 0, or -1
 * if there is no such line.
 */
static int last_waits(int64_t *shortest, int64_t *longest, int64_t *rechecked)
{
	char line[512], last[512] = "";
	unsigned long long s, l, a, c;
	FILE *f = popen("dmesg", "r");
	char *p;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "dynaccel_waits: kind="))
			snprintf(last, sizeof(last), "%s", line);
	pclose(f);
	p = strstr(last, "real_ns=");
	if (!p || sscanf(p, "real_ns=%llu longest_ns=%llu accel_ns=%llu rechecked_ns=%llu",
			 &s, &l, &a, &c) != 4)
		return -1;
	ksft_print_msg("%s", strstr(last, "dynaccel_waits:"));
	*shortest = s;
	*longest = l;
	*rechecked = c;
	return 0;
}

/*
 * Unload the module after load @l of case @name and read its log line into
 * @shortest, @longest and @rechecked: 0, or -1 after reporting the case
 * failed.
 */
static int unload(const struct load *l, const char *name, int64_t *shortest,
		  int64_t *longest, int64_t *rechecked)
{
	if (l->status || run("rmmod dynaccel_waits") ||
	    last_waits(shortest, longest, rechecked)) {
		ksft_test_result_fail("%s: insmod, rmmod or the log line failed (%d)\n",
				      name, l->status);
		return -1;
	}
	return 0;
}

/* Load the module at ratio @from, change to @to after CHANGE_AFTER if not 0. */
static void wait_case(const char *kind, int from, int to)
{
	struct load l = { .kind = kind, .ms = WAIT_MS, .times = 1 };
	int64_t ns, longest, rechecked;
	char name[64];
	pthread_t t;

	if (to)
		snprintf(name, sizeof(name), "%s, %s %d -> %d", kind,
			 to < from ? "drop" : "rise", from, to);
	else
		snprintf(name, sizeof(name), "%s, R=%d", kind, from);
	accel_set(from);
	if (pthread_create(&t, NULL, load_module, &l))
		ksft_exit_fail_msg("pthread_create\n");
	if (to) {
		spin_real(CHANGE_AFTER);
		accel_set(to);
	}
	pthread_join(t, NULL);
	accel_set(1);
	if (unload(&l, name, &ns, &longest, &rechecked))
		return;
	ksft_test_result(ns >= WAIT_MS * NSEC_PER_MSEC &&
			 ns <= (WAIT_MS + SLACK_MS) * NSEC_PER_MSEC,
			 "%s: a %d ms wait lasted %.3f ms of real time (want %d..%d)\n",
			 name, WAIT_MS, ns / 1e6, WAIT_MS, WAIT_MS + SLACK_MS);
}

/* Wait SHORT_MS SHORT_TIMES times at ratio @r. */
static void short_case(const char *kind, int r)
{
	struct load l = { .kind = kind, .ms = SHORT_MS, .times = SHORT_TIMES };
	int64_t shortest, longest, rechecked;
	char name[64];

	snprintf(name, sizeof(name), "%s, %d short waits, R=%d", kind, SHORT_TIMES, r);
	accel_set(r);
	load_module(&l);
	accel_set(1);
	if (unload(&l, name, &shortest, &longest, &rechecked))
		return;
	ksft_test_result(shortest >= SHORT_MS * NSEC_PER_MSEC &&
			 longest <= (SHORT_MS + SLACK_MS) * NSEC_PER_MSEC,
			 "%s: %d ms waits lasted %.3f..%.3f ms of real time (want %d..%d)\n",
			 name, SHORT_MS, shortest / 1e6, longest / 1e6,
			 SHORT_MS, SHORT_MS + SLACK_MS);
}

/*
 * A deferrable guard armed at R=1000 and fired by a drop to 1, while the
 * rest of the machine idles: this thread waits in pthread_join() and the
 * module's loader in the module.
 */
static void guard_case(void)
{
	struct load l = { .kind = "guard", .ms = WAIT_MS, .times = 1 };
	int64_t ns, longest, rechecked, dropped;
	const char *name = "guard, drop 1000 -> 1";
	pthread_t t;

	accel_set(1000);
	if (pthread_create(&t, NULL, load_module, &l))
		ksft_exit_fail_msg("pthread_create\n");
	spin_real(CHANGE_AFTER);
	dropped = raw_ns();
	accel_set(1);
	pthread_join(t, NULL);
	if (unload(&l, name, &ns, &longest, &rechecked))
		return;
	if (!rechecked) {
		ksft_test_result_fail("%s: the handler never ran before the wait ended\n", name);
		return;
	}
	ksft_test_result(rechecked >= dropped &&
			 rechecked - dropped <= RECHECK_MS * NSEC_PER_MSEC &&
			 ns >= WAIT_MS * NSEC_PER_MSEC,
			 "%s: re-checked %.3f ms after the drop (want 0..%d), the %d ms wait lasted %.3f ms (want >= %d)\n",
			 name, (rechecked - dropped) / 1e6, RECHECK_MS, WAIT_MS, ns / 1e6, WAIT_MS);
}

int main(void)
{
	static const char * const kinds[] = { "completion", "timer", "dwork" };
	unsigned int i;

	ksft_print_header();
	accel_require();
	ksft_set_plan(2 + 6 * 3);

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		wait_case(kinds[i], 1, 0);
		wait_case(kinds[i], 1000, 0);
		wait_case(kinds[i], 1000, 1);
		wait_case(kinds[i], 1, 1000);
		short_case(kinds[i], 1);
		short_case(kinds[i], 1000);
	}
	wait_case("io", 1000, 0);
	guard_case();

	ksft_finished();
}
