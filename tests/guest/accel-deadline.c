// SPDX-License-Identifier: GPL-2.0
/*
 * accel-deadline: the deadline scheduler's timers are not left behind by a
 * ratio drop (docs/contract.md 4, "Ratio changes in both directions").
 *
 * SCHED_DEADLINE budgets are real CPU time, so the replenishment timers
 * are armed with real delays converted to CLOCK_MONOTONIC at the ratio of
 * the moment. A timer armed at R=1000 and left alone when R drops to 1
 * fires 1000 times too late in real time: a throttled task, or the fair
 * server and every CFS task behind an RT hog, goes without CPU for up to
 * PERIOD x 1000 real seconds.
 *
 * 1. deadline task: a SCHED_DEADLINE spinner (RUNTIME every PERIOD, real)
 *    throttles itself at R=1000; R drops to 1 in the middle of a period.
 *    It must get CPU again within PERIOD + SLACK real seconds of the drop.
 * 2. fair server: a SCHED_FIFO spinner and a CFS spinner on CPU 1; the
 *    fair server gives the CFS one 50 ms of every second (6.12 defaults).
 *    After the same drop the CFS spinner must run again within
 *    PERIOD + SLACK.
 *
 * Each case first checks that the spinner did run in bursts at R=1000 (so
 * that the drop test is not vacuous). Progress is judged in real time
 * (CLOCK_MONOTONIC_RAW): a spinner logs every gap of more than GAP_NS
 * between two reads of the raw clock as a burst start.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>

#include "accel.h"

#define PERIOD		NSEC_PER_SEC			/* real */
#define RUNTIME		(10 * NSEC_PER_MSEC)		/* real */
#define SLACK		(500 * NSEC_PER_MSEC)		/* real */
#define BEFORE		(2500 * NSEC_PER_MSEC)		/* real, at R=1000 */
#define AFTER		(3 * NSEC_PER_SEC)		/* real, at R=1 */
#define GAP_NS		(2 * NSEC_PER_MSEC)
#define MAX_BURSTS	256

struct sched_attr_v1 {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
};

#ifndef SCHED_DEADLINE
#define SCHED_DEADLINE	6
#endif

enum kind { DEADLINE, CFS, FIFO };

struct spinner {
	enum kind kind;
	volatile bool stop, done;
	pid_t tid;
	int err;
	int n;
	int64_t burst[MAX_BURSTS];	/* raw time at which each burst began */
};

static int pin_cpu1(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(1, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

static int set_policy(enum kind kind)
{
	struct sched_attr_v1 a = { .size = sizeof(a) };

	switch (kind) {
	case DEADLINE:
		a.sched_policy = SCHED_DEADLINE;
		a.sched_runtime = RUNTIME;
		a.sched_deadline = PERIOD;
		a.sched_period = PERIOD;
		break;
	case FIFO:
		a.sched_policy = SCHED_FIFO;
		a.sched_priority = 50;
		break;
	case CFS:
		return 0;
	}
	return syscall(SYS_sched_setattr, 0, &a, 0);
}

static void *spin(void *arg)
{
	struct spinner *s = arg;
	int64_t last, now;

	s->tid = gettid();
	if ((s->kind != DEADLINE && pin_cpu1()) || set_policy(s->kind)) {
		s->err = errno;
		s->done = true;
		return NULL;
	}
	last = raw_ns();
	while (!s->stop) {
		now = raw_ns();
		if (now - last > GAP_NS && s->n < MAX_BURSTS)
			s->burst[s->n++] = now;
		last = now;
	}
	s->done = true;
	return NULL;
}

/*
 * Stop @s. A deadline spinner whose replenishment never comes cannot see
 * the stop: after a real second, make it a normal task so that it ends
 * (and the test reports the failure instead of hanging).
 */
static void stop_spinner(struct spinner *s, pthread_t t)
{
	struct sched_attr_v1 a = { .size = sizeof(a), .sched_policy = SCHED_OTHER };
	int64_t end = raw_ns() + NSEC_PER_SEC;

	s->stop = true;
	while (!s->done && raw_ns() < end)
		do_nanosleep(10 * NSEC_PER_MSEC);
	if (!s->done)
		syscall(SYS_sched_setattr, s->tid, &a, 0);
	pthread_join(t, NULL);
}

/* Real seconds slept at the known ratio @r */
static void sleep_real(int64_t ns, int r)
{
	do_nanosleep(ns * r);
}

static void drop_case(const char *name, enum kind kind)
{
	struct spinner s = { .kind = kind }, hog = { .kind = FIFO };
	int64_t drop, resumed = -1;
	int i, before = 0;
	pthread_t t, h;

	accel_set(1000);
	if (kind == CFS && pthread_create(&h, NULL, spin, &hog))
		ksft_exit_fail_msg("pthread_create\n");
	if (pthread_create(&t, NULL, spin, &s))
		ksft_exit_fail_msg("pthread_create\n");
	sleep_real(BEFORE, 1000);
	/* The middle of a period, when the spinner is surely throttled */
	accel_set(1);
	drop = raw_ns();
	sleep_real(AFTER, 1);
	if (kind == CFS)
		stop_spinner(&hog, h);
	stop_spinner(&s, t);

	if (s.err || hog.err) {
		ksft_test_result_fail("%s: cannot set up the spinners: %s\n", name,
				      strerror(s.err ? s.err : hog.err));
		return;
	}
	for (i = 0; i < s.n; i++) {
		if (s.burst[i] < drop)
			before++;
		else if (resumed < 0)
			resumed = s.burst[i] - drop;
	}
	if (resumed < 0)
		resumed = AFTER;	/* not within the window: at least that late */
	ksft_print_msg("%s: %d bursts at R=1000 in %.1f real s, the first after the drop %.3f real s after it\n",
		       name, before, BEFORE / 1e9, resumed / 1e9);
	if (before < 1) {
		ksft_test_result_fail("%s: the spinner was never throttled and resumed at R=1000\n",
				      name);
		return;
	}
	ksft_test_result(resumed <= PERIOD + SLACK,
			 "%s: runs again %.3f real s after a drop 1000 -> 1 (want <= %.1f s: one period + slack)\n",
			 name, resumed / 1e9, (PERIOD + SLACK) / 1e9);
}

int main(void)
{
	ksft_print_header();
	accel_require();
	ksft_set_plan(2);

	drop_case("deadline task", DEADLINE);
	drop_case("fair server", CFS);

	accel_set(1);
	ksft_finished();
}
