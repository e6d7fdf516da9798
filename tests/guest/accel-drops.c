// SPDX-License-Identifier: GPL-2.0
/*
 * accel-drops: a drop of the ratio leaves no timeout at the old one, and
 * early wakeups do not stretch a timeout (docs/contract.md 4, "Timers"
 * and "Ratio changes in both directions").
 *
 * Both tests time waits on the timer wheel (schedule_timeout() behind
 * SO_RCVTIMEO) in accelerated time and judge their lateness against the
 * same wait's at a steady ratio in this boot: at most LATE_FACTOR times
 * its median, plus one real tick at the ratio the wait ends at (the
 * granularity jiffies have when they advance by R at a time), plus, for
 * the drop, the wheel's granularity at the wait's length (WHEEL_GRAN
 * jiffies: a wait of 1024 to 4095 jiffies is queued in the wheel's third
 * level, whose buckets are 64 jiffies wide; the steady reference has it
 * too, but three medians of a lateness spread that wide are noisy).
 *
 * 1. drop: a wait of DROP_D armed at R=1000, with R dropped to DROP_TO a
 *    few real milliseconds into it. A timer that kept the R - 1 jiffies
 *    of slack it was queued with at 1000 ends 999 jiffies (about 4 s at
 *    HZ=250) late.
 * 2. wakeups: a MSG_WAITALL read of an AF_UNIX stream with SO_RCVTIMEO,
 *    woken every TRICKLE_P by one byte, at R=TRICKLE_R. Each wakeup makes
 *    the socket wait again for the time schedule_timeout() says is left;
 *    if that counted the lag of jiffies twice (up to R - 1 jiffies each
 *    time), the read would end seconds late. The CPUs are kept busy by
 *    spinners at the lowest priority meanwhile: a CPU that wakes from
 *    idle brings jiffies up to date, so only a busy machine, whose jiffies
 *    advance by R at each real tick, shows the lag.
 */
#include <pthread.h>
#include <sys/socket.h>

#include "accel.h"

#define REPS		5
#define LATE_FACTOR	2

#define DROP_FROM	1000
#define DROP_TO		10
#define DROP_D		(15 * NSEC_PER_SEC)	/* 3750 jiffies at HZ=250 */
#define DROP_AFTER	(3 * NSEC_PER_SEC)	/* accelerated, at DROP_FROM */
#define WHEEL_GRAN	64			/* jiffies */

#define TRICKLE_R	100
#define TRICKLE_D	(10 * NSEC_PER_SEC)
#define TRICKLE_P	(NSEC_PER_SEC / 2)

static int64_t median(int64_t *v, int n)
{
	sort_i64(v, n);
	return v[n / 2];
}

/* A socket pair of @type whose sv[0] receive times out after @d accelerated ns. */
static int rcvtimeo_socket(int type, int64_t d, int sv[2])
{
	struct timeval tv = ns_tv(up_us(d));

	if (socketpair(AF_UNIX, type, 0, sv))
		return -1;
	if (setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv))) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	return 0;
}

struct wait {
	int fd;
	int flags;
	int64_t start, end;	/* CLOCK_MONOTONIC */
	int err;
};

static void *timed_recv(void *arg)
{
	struct wait *w = arg;
	char buf[4096];

	w->start = mono_ns();
	if (recv(w->fd, buf, sizeof(buf), w->flags) < 0 && errno != EAGAIN)
		w->err = errno;
	w->end = mono_ns();
	return NULL;
}

/* Lateness of one SO_RCVTIMEO wait of @d at the current ratio, or -1. */
static int64_t steady_wait(int type, int64_t d)
{
	struct wait w = { .flags = type == SOCK_STREAM ? MSG_WAITALL : 0 };
	int sv[2];

	if (rcvtimeo_socket(type, d, sv))
		return -1;
	w.fd = sv[0];
	timed_recv(&w);
	close(sv[0]);
	close(sv[1]);
	return w.err || w.end - w.start < d ? -1 : w.end - w.start - d;
}

/* ---- 1. drop ---- */

/*
 * Lateness of a wait of DROP_D armed at DROP_FROM and finished at DROP_TO,
 * or -1 (@why says why). @dropped_in_time is false when the drop came
 * after the wait should have ended: the rep says nothing then.
 */
static int64_t drop_wait(bool *dropped_in_time, const char **why)
{
	struct wait w = { 0 };
	int64_t drop;
	pthread_t t;
	int sv[2];

	accel_set(DROP_FROM);
	if (rcvtimeo_socket(SOCK_DGRAM, DROP_D, sv)) {
		*why = "socket";
		return -1;
	}
	w.fd = sv[0];
	if (pthread_create(&t, NULL, timed_recv, &w)) {
		*why = "pthread_create";
		return -1;
	}
	do_nanosleep(DROP_AFTER);
	accel_set(DROP_TO);
	drop = mono_ns();
	pthread_join(t, NULL);
	close(sv[0]);
	close(sv[1]);

	*dropped_in_time = drop < w.start + DROP_D;
	if (w.err || w.end - w.start < DROP_D) {
		*why = w.err ? strerror(w.err) : "early";
		return -1;
	}
	return w.end - w.start - DROP_D;
}

static void test_drop(int64_t tick)
{
	int64_t ref[REPS], late[REPS], bound;
	const char *why = NULL;
	int i, tries;

	accel_set(DROP_TO);
	for (i = 0; i < REPS; i++) {
		ref[i] = steady_wait(SOCK_DGRAM, DROP_D);
		if (ref[i] < 0)
			ksft_exit_fail_msg("steady SO_RCVTIMEO wait at R=%d failed or was early\n",
					   DROP_TO);
	}
	for (i = 0; i < REPS; i++) {
		bool in_time = false;

		for (tries = 0; tries < 3 && !in_time; tries++) {
			late[i] = drop_wait(&in_time, &why);
			if (late[i] < 0)
				break;
		}
		if (late[i] < 0 || !in_time)
			break;
	}
	accel_set(1);
	if (i < REPS) {
		ksft_test_result_fail("drop %d -> %d: wait %d: %s\n", DROP_FROM, DROP_TO,
				      i, why ? why : "the drop never came before the timeout");
		return;
	}
	for (i = 0; i < REPS; i++)
		ksft_print_msg("drop wait %d: %.3f s late; steady wait %d: %.3f s late\n",
			       i, late[i] / 1e9, i, ref[i] / 1e9);
	/* A jiffy is one tick's length of accelerated time */
	bound = LATE_FACTOR * median(ref, REPS) + tick * DROP_TO + tick * WHEEL_GRAN;
	ksft_test_result(median(late, REPS) <= bound,
			 "drop %d -> %d: a %.0f s SO_RCVTIMEO wait ends %.3f s late in accelerated time (median of %d; want <= %.3f: %d x %.3f s at a steady R=%d + one real tick + %d jiffies of wheel granularity)\n",
			 DROP_FROM, DROP_TO, DROP_D / 1e9, median(late, REPS) / 1e9, REPS,
			 bound / 1e9, LATE_FACTOR, median(ref, REPS) / 1e9, DROP_TO, WHEEL_GRAN);
}

/* ---- 2. wakeups ---- */

struct trickle {
	int fd;
	volatile bool stop;
	int sent;
};

static void *trickle(void *arg)
{
	struct trickle *tr = arg;

	while (!tr->stop) {
		do_nanosleep(TRICKLE_P);
		if (!tr->stop && send(tr->fd, "x", 1, MSG_NOSIGNAL) == 1)
			tr->sent++;
	}
	return NULL;
}

/*
 * Lateness of one trickled MSG_WAITALL wait, or -1 (@why says why).
 * @sent: bytes sent.
 */
static int64_t trickled_wait(int *sent, const char **why)
{
	struct trickle tr = { 0 };
	struct wait w = { .flags = MSG_WAITALL };
	pthread_t t;
	int sv[2], err;

	if (rcvtimeo_socket(SOCK_STREAM, TRICKLE_D, sv)) {
		*why = strerror(errno);
		return -1;
	}
	w.fd = sv[0];
	tr.fd = sv[1];
	err = pthread_create(&t, NULL, trickle, &tr);
	if (err) {
		*why = strerror(err);
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	timed_recv(&w);
	tr.stop = true;
	pthread_join(t, NULL);
	close(sv[0]);
	close(sv[1]);
	*sent = tr.sent;
	if (w.err)
		*why = strerror(w.err);
	else if (w.end - w.start < TRICKLE_D)
		*why = "ended early";
	else
		return w.end - w.start - TRICKLE_D;
	return -1;
}

static volatile bool spin_stop;

static void *spinner(void *arg)
{
	(void)arg;
	if (nice(19) < 0)
		return NULL;
	while (!spin_stop)
		;
	return NULL;
}

static void test_wakeups(int64_t tick)
{
	int64_t ref[REPS], late[REPS], bound;
	int i, j, sent = 0, min_sent = INT32_MAX;
	const char *why = "";
	long nr = sysconf(_SC_NPROCESSORS_ONLN);
	pthread_t spin[8];

	nr = nr < 1 ? 1 : nr > 8 ? 8 : nr;
	spin_stop = false;
	for (j = 0; j < nr; j++)
		if (pthread_create(&spin[j], NULL, spinner, NULL))
			ksft_exit_fail_msg("pthread_create: %s\n", strerror(errno));
	accel_set(TRICKLE_R);
	for (i = 0; i < REPS; i++) {
		ref[i] = steady_wait(SOCK_STREAM, TRICKLE_D);
		if (ref[i] < 0) {
			why = "the quiet wait failed or ended early";
			break;
		}
		late[i] = trickled_wait(&sent, &why);
		if (late[i] < 0)
			break;
		if (sent < min_sent)
			min_sent = sent;
	}
	spin_stop = true;
	for (j = 0; j < nr; j++)
		pthread_join(spin[j], NULL);
	accel_set(1);
	if (i < REPS) {
		ksft_test_result_fail("R=%d wakeups, CPUs busy: wait %d: %s\n", TRICKLE_R, i, why);
		return;
	}
	bound = LATE_FACTOR * median(ref, REPS) + tick * TRICKLE_R;
	/* Without wakeups the test would not test anything */
	ksft_test_result(median(late, REPS) <= bound && min_sent >= 5,
			 "R=%d wakeups, CPUs busy: a %.0f s MSG_WAITALL wait woken %d+ times ends %.3f s late in accelerated time (median of %d; want <= %.3f: %d x %.3f s without wakeups + one real tick; want >= 5 wakeups)\n",
			 TRICKLE_R, TRICKLE_D / 1e9, min_sent, median(late, REPS) / 1e9, REPS,
			 bound / 1e9, LATE_FACTOR, median(ref, REPS) / 1e9);
}

int main(void)
{
	int64_t tick;

	ksft_print_header();
	ksft_set_plan(2);
	accel_require();
	if (pipe(idle_pipe))
		ksft_exit_fail_msg("pipe: %s\n", strerror(errno));
	tick = tick_ns();
	if (tick <= 0)
		ksft_exit_fail_msg("cannot read the tick length\n");

	test_drop(tick);
	test_wakeups(tick);
	ksft_finished();
}
