// SPDX-License-Identifier: GPL-2.0
/*
 * accel-waits: a completion timeout lasts its real time at any ratio and
 * across ratio changes (docs/contract.md 3, Documentation/timers/dynaccel.rst
 * "Which waits are real").
 *
 * A completion's timeout guards against an event that never comes: an ATA
 * internal command, a SCSI error handling command, a USB control message.
 * At R=1000 an accelerated 1 s timeout would last 1 ms of real time. The
 * test module dynaccel-waits.ko (tests/modules) waits WAIT_MS for a
 * completion that never comes and logs the real time the wait took
 * (CLOCK_MONOTONIC_RAW); each case loads it once:
 *
 *   1. at R=1;
 *   2. at R=1000;
 *   3. at R=1000, the I/O variant (wait_for_completion_io_timeout());
 *   4. armed at R=1000, with R dropped to 1 CHANGE_AFTER into the wait: a
 *      timeout converted once at 1000 would end long before the drop;
 *   5. armed at R=1, with R raised to 1000 CHANGE_AFTER into the wait: one
 *      converted once at 1 would end right after the rise.
 *
 * Each must last at least WAIT_MS of real time (a guard never fires before
 * its threshold) and at most WAIT_MS plus SLACK_MS (two real ticks, the
 * jiffy the timeout is rounded to and the hrtimer slack, and the load of
 * the module under emulation).
 */
#include <pthread.h>
#include <sys/wait.h>

#include "accel.h"

#define MODULE_PATH	"/usr/lib/dynaccel/modules/dynaccel-waits.ko"
#define WAIT_MS		1000
#define SLACK_MS	150
#define CHANGE_AFTER	(200 * NSEC_PER_MSEC)	/* real */

static int run(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

struct load {
	bool io;
	int status;
};

static void *load_module(void *arg)
{
	struct load *l = arg;
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "insmod %s ms=%d io=%d", MODULE_PATH, WAIT_MS, l->io);
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
		if (strstr(line, "dynaccel_waits: ms="))
			snprintf(last, sizeof(last), "%s", line);
	pclose(f);
	p = strstr(last, "real_ns=");
	if (!p || sscanf(p, "real_ns=%llu", &real_ns) != 1)
		return -1;
	ksft_print_msg("%s", strstr(last, "dynaccel_waits:"));
	return real_ns / NSEC_PER_MSEC;
}

/* Load the module at ratio @from, change to @to after CHANGE_AFTER if not 0. */
static void wait_case(const char *name, int from, int to, bool io)
{
	struct load l = { .io = io };
	pthread_t t;
	int64_t ms;

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
			 "%s: a %d ms completion timeout lasted %lld ms of real time (want %d..%d)\n",
			 name, WAIT_MS, (long long)ms, WAIT_MS, WAIT_MS + SLACK_MS);
}

int main(void)
{
	ksft_print_header();
	accel_require();
	ksft_set_plan(5);

	wait_case("R=1", 1, 0, false);
	wait_case("R=1000", 1000, 0, false);
	wait_case("R=1000, io", 1000, 0, true);
	wait_case("drop 1000 -> 1", 1000, 1, false);
	wait_case("rise 1 -> 1000", 1, 1000, false);

	ksft_finished();
}
