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
 */
#include <pthread.h>
#include <sys/wait.h>

#include "accel.h"

#define MODULE_PATH	"/usr/lib/dynaccel/modules/dynaccel-waits.ko"
#define WAIT_MS		1000
#define SLACK_MS	150
#define CHANGE_AFTER	(200 * NSEC_PER_MSEC)	/* real */

struct load {
	const char *kind;
	int status;
};

static void *load_module(void *arg)
{
	struct load *l = arg;
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "insmod %s ms=%d kind=%s", MODULE_PATH, WAIT_MS, l->kind);
	l->status = run(cmd);
	return NULL;
}

/* The real ms of the module's last wait, from its log line, or -1. */
static int64_t last_wait_ms(void)
{
	char line[512], last[512] = "";
	unsigned long long real_ns;
	FILE *f = popen("dmesg", "r");
	char *p;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "dynaccel_waits: kind="))
			snprintf(last, sizeof(last), "%s", line);
	pclose(f);
	p = strstr(last, "real_ns=");
	if (!p || sscanf(p, "real_ns=%llu", &real_ns) != 1)
		return -1;
	ksft_print_msg("%s", strstr(last, "dynaccel_waits:"));
	return real_ns / NSEC_PER_MSEC;
}

/* Load the module at ratio @from, change to @to after CHANGE_AFTER if not 0. */
static void wait_case(const char *kind, int from, int to)
{
	struct load l = { .kind = kind };
	char name[64];
	pthread_t t;
	int64_t ms;

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
	if (l.status || run("rmmod dynaccel_waits")) {
		ksft_test_result_fail("%s: insmod or rmmod failed (%d)\n", name, l.status);
		return;
	}
	ms = last_wait_ms();
	ksft_test_result(ms >= WAIT_MS && ms <= WAIT_MS + SLACK_MS,
			 "%s: a %d ms wait lasted %lld ms of real time (want %d..%d)\n",
			 name, WAIT_MS, (long long)ms, WAIT_MS, WAIT_MS + SLACK_MS);
}

int main(void)
{
	static const char * const kinds[] = { "completion", "timer", "dwork" };
	unsigned int i;

	ksft_print_header();
	accel_require();
	ksft_set_plan(1 + 4 * 3);

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		wait_case(kinds[i], 1, 0);
		wait_case(kinds[i], 1000, 0);
		wait_case(kinds[i], 1000, 1);
		wait_case(kinds[i], 1, 1000);
	}
	wait_case("io", 1000, 0);

	ksft_finished();
}
