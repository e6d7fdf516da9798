// SPDX-License-Identifier: GPL-2.0
/*
 * accel-idle: long idle sleeps at R=1000 and the cost of an idle machine.
 *
 * A long NOHZ idle stretch at R=1000 is where a scaled timekeeper would
 * overflow (mult x R, the maximum deferment); sleeping ten minutes and an
 * hour of accelerated time checks that the clock comes back sane and at
 * the right rate. Then the real timer-interrupt rate of an idle guest at
 * R=1000 is compared with R=1 (docs/contract.md 4: at most twice).
 */
#include "accel.h"

#define LATE_REAL_NS	(40 * NSEC_PER_MSEC)	/* as in accel-timers */

/*
 * The idle rate is a few interrupts per second, so one short window is
 * mostly noise: real-time wakers (the deadline server, the lockup
 * watchdog) come in bursts about a second apart, and a 2.5 s window at
 * R=1 counted anything from 5 to 16 of them in a TCG guest. Alternate the
 * two ratios over 8 windows each, 20 s per ratio, and compare the totals
 * (spread of the mean about 12%). Each window starts a
 * quarter second after the ratio change: raising R makes every pending
 * accelerated deferrable timer due at once, a burst that belongs to the
 * change, not to the idle machine.
 */
#define IDLE_REAL_NS	(2500 * NSEC_PER_MSEC)
#define IDLE_SETTLE_NS	(250 * NSEC_PER_MSEC)
#define IDLE_ROUNDS	8

/*
 * BOOTTIME - MONOTONIC, read back to back: the pair with the shortest real
 * gap of a few tries, since at R=1000 every real microsecond between the
 * two reads is a millisecond of accelerated time.
 */
static int64_t boot_offset(void)
{
	int64_t best_gap = INT64_MAX, off = 0;
	int i;

	for (i = 0; i < 100; i++) {
		int64_t t0 = raw_ns(), m = mono_ns(), b = clock_ns(CLOCK_BOOTTIME);
		int64_t gap = raw_ns() - t0;

		if (gap < best_gap) {
			best_gap = gap;
			off = b - m;
		}
	}
	return off;
}

static void check_long_sleep(int64_t secs)
{
	const int r = 1000;
	int64_t d = secs * NSEC_PER_SEC, want_real = d / r;
	int64_t t0, m0, off0, t1, m1, off1;
	struct timespec ts = ns_ts(d);
	double rate;

	accel_set(r);
	off0 = boot_offset();
	t0 = raw_ns();
	m0 = mono_ns();
	clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
	m1 = mono_ns();
	t1 = raw_ns();
	off1 = boot_offset();
	accel_set(1);
	rate = (double)(m1 - m0) / (t1 - t0);
	ksft_test_result(m1 - m0 >= d && t1 - t0 >= want_real * 99 / 100 &&
			 t1 - t0 <= want_real + LATE_REAL_NS,
			 "R=%d idle sleep of %lld s: %.3f s accelerated, %.1f ms real (want %.1f)\n",
			 r, (long long)secs, (m1 - m0) / 1e9, (t1 - t0) / 1e6, want_real / 1e6);
	/*
	 * Nothing suspended, so BOOTTIME - MONOTONIC may not move; 1 ms of
	 * accelerated time is 1 us of real time between two reads at R=1000.
	 */
	ksft_test_result(rel_err(rate, r) <= rate_tol() && llabs(off1 - off0) <= NSEC_PER_MSEC,
			 "R=%d clocks sane after %lld s idle: rate %.3f (within %.1f%%, %s), BOOTTIME-MONOTONIC moved %lld ns\n",
			 r, (long long)secs, rate, rate_tol() * 100, accel_env(),
			 (long long)(off1 - off0));
}

/* Softirqs raised, summed over the CPUs, for the ones timers raise. */
static const char * const softirq_names[] = { "TIMER", "HRTIMER", "RCU", "SCHED" };
#define NR_SOFTIRQ_NAMES	(sizeof(softirq_names) / sizeof(softirq_names[0]))

static void read_softirqs(long long *count)
{
	unsigned int i;

	for (i = 0; i < NR_SOFTIRQ_NAMES; i++)
		count[i] = proc_row_sum("/proc/softirqs", softirq_names[i]);
}

/* Timer interrupts and real time summed over the windows of one ratio */
struct idle_count {
	long long irqs;
	int64_t real_ns;
};

/*
 * One window: timer interrupts while this process sleeps IDLE_REAL_NS of
 * real time at ratio @r, added to @c. The softirqs behind them are
 * printed, to tell wheel timers, hrtimers and RCU apart when the rate is
 * high.
 */
static void idle_window(int r, struct idle_count *c)
{
	struct timespec settle = ns_ts(IDLE_SETTLE_NS * r);
	struct timespec ts = ns_ts(IDLE_REAL_NS * r);
	long long i0, i1, s0[NR_SOFTIRQ_NAMES], s1[NR_SOFTIRQ_NAMES];
	int64_t t0, t1;
	unsigned int i;

	accel_set(r);
	clock_nanosleep(CLOCK_MONOTONIC, 0, &settle, NULL);
	read_softirqs(s0);
	i0 = timer_interrupts();
	t0 = raw_ns();
	clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
	t1 = raw_ns();
	i1 = timer_interrupts();
	read_softirqs(s1);
	c->irqs += i1 - i0;
	c->real_ns += t1 - t0;
	ksft_print_msg("idle at R=%d: %lld timer interrupts in %.2f s real; softirqs per s:",
		       r, i1 - i0, (t1 - t0) / 1e9);
	for (i = 0; i < NR_SOFTIRQ_NAMES; i++)
		printf(" %s %.1f", softirq_names[i], (s1[i] - s0[i]) * 1e9 / (t1 - t0));
	printf("\n");
}

static double idle_rate(const struct idle_count *c)
{
	return c->irqs * 1e9 / c->real_ns;
}

int main(void)
{
	struct idle_count c1 = { 0 }, c1000 = { 0 };
	double r1, r1000;
	int i;

	ksft_print_header();
	ksft_set_plan(5);
	accel_require();

	check_long_sleep(600);
	check_long_sleep(3600);

	for (i = 0; i < IDLE_ROUNDS; i++) {
		idle_window(1, &c1);
		idle_window(1000, &c1000);
	}
	accel_set(1);
	r1 = idle_rate(&c1);
	r1000 = idle_rate(&c1000);
	ksft_test_result(r1 > 0 && r1000 <= 2 * r1,
			 "idle timer interrupts at R=1000: %.1f/s real, at R=1: %.1f/s (want at most twice)\n",
			 r1000, r1);
	ksft_finished();
}
