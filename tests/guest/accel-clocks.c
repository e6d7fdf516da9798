// SPDX-License-Identifier: GPL-2.0
/*
 * accel-clocks: every clock of the accelerated domain advances R times as
 * fast as CLOCK_MONOTONIC_RAW, through the vDSO and the system call alike,
 * while MONOTONIC_RAW and the CPU-time clocks stay real (docs/contract.md 2, 3, 4).
 *
 * Each clock is sampled between two MONOTONIC_RAW reads taken close
 * together, at the start and at the end of a busy-waited real window, so a
 * vCPU preempted between the reads cannot skew the rate. The bound is the
 * contract's, rate_tol(): 1% under TCG, 0.1% elsewhere; a coarse clock is allowed two of
 * its steps on top, because it only advances in steps (docs/contract.md 5).
 *
 * time() steps by whole seconds, which at low ratios are as long as the
 * window itself; its rate is taken between two of its steps instead, timed
 * to within PAIR_MAX_NS, so that it must run at R within the same bound
 * plus the coarse clock's real step (it is read from the tick's copy).
 */
#include <linux/rtc.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/times.h>

#include "accel.h"

#define WINDOW_NS	NSEC_PER_SEC	/* real length of a rate window */

/* Sampled with clock_sample() of accel.h, as the bench's rate samples its own. */
static const struct accel_clock clocks[] = {
	{ "CLOCK_REALTIME vdso", CLOCK_REALTIME, VIA_VDSO },
	{ "CLOCK_REALTIME syscall", CLOCK_REALTIME, VIA_SYSCALL },
	{ "CLOCK_MONOTONIC vdso", CLOCK_MONOTONIC, VIA_VDSO },
	{ "CLOCK_MONOTONIC syscall", CLOCK_MONOTONIC, VIA_SYSCALL },
	{ "CLOCK_BOOTTIME vdso", CLOCK_BOOTTIME, VIA_VDSO },
	{ "CLOCK_BOOTTIME syscall", CLOCK_BOOTTIME, VIA_SYSCALL },
	{ "CLOCK_TAI vdso", CLOCK_TAI, VIA_VDSO },
	{ "CLOCK_TAI syscall", CLOCK_TAI, VIA_SYSCALL },
	{ "CLOCK_REALTIME_COARSE vdso", CLOCK_REALTIME_COARSE, VIA_VDSO },
	{ "CLOCK_REALTIME_COARSE syscall", CLOCK_REALTIME_COARSE, VIA_SYSCALL },
	{ "CLOCK_MONOTONIC_COARSE vdso", CLOCK_MONOTONIC_COARSE, VIA_VDSO },
	{ "CLOCK_MONOTONIC_COARSE syscall", CLOCK_MONOTONIC_COARSE, VIA_SYSCALL },
	{ "gettimeofday", CLOCK_REALTIME, VIA_GETTIMEOFDAY },
};
#define NR_CLOCKS	((int)(sizeof(clocks) / sizeof(clocks[0])))

/* How far a clock may be off for reasons of resolution, in its own ns. */
static int64_t resolution_ns(const struct accel_clock *c)
{
	struct timespec res;

	if (clock_getres(c->id, &res))
		return 0;
	return ts_ns(&res);
}

static void check_rates(int r)
{
	int64_t real0[NR_CLOCKS], val0[NR_CLOCKS], real1, val1;
	int i;

	for (i = 0; i < NR_CLOCKS; i++)
		clock_sample(&clocks[i], &real0[i], &val0[i]);
	spin_real(WINDOW_NS);
	for (i = 0; i < NR_CLOCKS; i++) {
		double rate, tol;
		int64_t step = resolution_ns(&clocks[i]);

		clock_sample(&clocks[i], &real1, &val1);
		rate = (double)(val1 - val0[i]) / (double)(real1 - real0[i]);
		/*
		 * A coarse clock's real step is its resolution (one real tick),
		 * so it is off by up to one step at each end of the window.
		 */
		if (step > 1000)
			tol = rate_tol() + 2.0 * step / WINDOW_NS;
		else
			tol = rate_tol();
		ksft_test_result(rel_err(rate, r) <= tol,
				 "R=%d %s rate %.4f (want %d within %.2f%%, %s)\n",
				 r, clocks[i].name, rate, r, tol * 100, accel_env());
	}
}

/*
 * MONOTONIC_RAW at the moment time() steps to a new second, known to within
 * PAIR_MAX_NS; the new second in @sec. A step whose moment is not pinned
 * down that closely (the vCPU was preempted) is passed over for the next.
 */
static int64_t raw_at_time_step(time_t *sec)
{
	time_t prev = time(NULL), t;
	int64_t before = raw_ns(), after;

	for (;;) {
		t = time(NULL);
		after = raw_ns();
		if (t != prev) {
			if (after - before <= PAIR_MAX_NS) {
				*sec = t;
				return before + (after - before) / 2;
			}
			prev = t;
		}
		before = after;
	}
}

/*
 * time() advances R seconds per real second. It reads the seconds the
 * last tick stored, so each step it shows is up to a real tick late, and
 * the seconds it shows then are up to a tick's worth of accelerated time
 * (never more than a second) past the step: the bound allows both, at each
 * end of the window.
 */
static void check_time_rate(int r)
{
	int64_t raw0, raw1, tick = tick_ns();
	time_t s0, s1;
	double rate, tol, late;

	raw0 = raw_at_time_step(&s0);
	spin_real(WINDOW_NS);
	raw1 = raw_at_time_step(&s1);
	rate = (double)(s1 - s0) * NSEC_PER_SEC / (double)(raw1 - raw0);
	late = tick + (r * tick < NSEC_PER_SEC ? (double)tick : (double)NSEC_PER_SEC / r);
	tol = rate_tol() + 2.0 * late / (double)(raw1 - raw0);
	ksft_test_result(rel_err(rate, r) <= tol,
			 "R=%d time rate %.4f between two of its steps (want %d within %.2f%%, %s)\n",
			 r, rate, r, tol * 100, accel_env());
}

static int64_t cpu_clock_ns(int which)
{
	struct rusage ru;
	struct tms t;

	switch (which) {
	case 0:
		return clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	case 1:
		return clock_ns(CLOCK_THREAD_CPUTIME_ID);
	case 2:
		getrusage(RUSAGE_SELF, &ru);
		return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * NSEC_PER_SEC +
		       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL;
	default:
		times(&t);
		return (int64_t)(t.tms_utime + t.tms_stime) * NSEC_PER_SEC /
		       sysconf(_SC_CLK_TCK);
	}
}

/*
 * CPU time is CPU actually consumed: a thread spinning for a real second
 * gets at most a second (a little more for tick-sampled figures, which are
 * only as fine as a tick), and under emulation maybe less when the host
 * deschedules the vCPU, but never R seconds.
 */
static void check_cpu_time(int r)
{
	static const char * const names[] = {
		"CLOCK_PROCESS_CPUTIME_ID", "CLOCK_THREAD_CPUTIME_ID",
		"getrusage", "times tms_utime+tms_stime",
	};
	int64_t c0[4], c1, t0, t1;
	int i;

	for (i = 0; i < 4; i++)
		c0[i] = cpu_clock_ns(i);
	t0 = raw_ns();
	spin_real(WINDOW_NS);
	t1 = raw_ns();
	for (i = 0; i < 4; i++) {
		double used;

		c1 = cpu_clock_ns(i);
		used = (double)(c1 - c0[i]) / (double)(t1 - t0);
		/* 0.5: TCG may steal half; 1.1: tick-sampled figures' step. */
		ksft_test_result(used >= 0.5 && used <= 1.1,
				 "R=%d %s stays real: %.3f CPU s per real s\n",
				 r, names[i], used);
	}
}

/* Real time from the CMOS clock: the one reference outside the guest. */
static int rtc_seconds(int fd)
{
	struct rtc_time tm;

	if (ioctl(fd, RTC_RD_TIME, &tm))
		return -1;
	return tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
}

/* MONOTONIC_RAW at the next change of the RTC's second. */
static int64_t raw_at_rtc_edge(int fd)
{
	int s = rtc_seconds(fd);

	while (rtc_seconds(fd) == s)
		;
	return raw_ns();
}

/*
 * MONOTONIC_RAW keeps pace with the hardware RTC, which QEMU drives from
 * the host's real clock; and MONOTONIC runs R times that. Edges are found
 * by polling, which costs a few microseconds of uncertainty per edge.
 */
static void check_raw_against_rtc(int r)
{
	int64_t raw0, raw1, m0, m1;
	double raw_rate, mono_rate;
	int fd = open("/dev/rtc0", O_RDONLY);

	if (fd < 0) {
		ksft_test_result_fail("R=%d open /dev/rtc0: %s\n", r, strerror(errno));
		ksft_test_result_fail("R=%d MONOTONIC against the RTC: no RTC\n", r);
		return;
	}
	raw0 = raw_at_rtc_edge(fd);
	m0 = mono_ns();
	raw_at_rtc_edge(fd);
	raw1 = raw_at_rtc_edge(fd);
	m1 = mono_ns();
	close(fd);
	raw_rate = (raw1 - raw0) / 2.0 / NSEC_PER_SEC;
	mono_rate = (m1 - m0) / 2.0 / NSEC_PER_SEC;
	ksft_test_result(rel_err(raw_rate, 1.0) <= rate_tol(),
			 "R=%d CLOCK_MONOTONIC_RAW against the RTC: %.4f s per RTC s (within %.1f%%, %s)\n",
			 r, raw_rate, rate_tol() * 100, accel_env());
	ksft_test_result(rel_err(mono_rate, r) <= rate_tol(),
			 "R=%d CLOCK_MONOTONIC against the RTC: %.3f s per RTC s (within %.1f%%, %s)\n",
			 r, mono_rate, rate_tol() * 100, accel_env());
}

int main(void)
{
	int i;

	ksft_print_header();
	ksft_set_plan(NR_RATIOS * (NR_CLOCKS + 1 + 4) + 2 * 2);
	accel_require();

	for (i = 0; i < NR_RATIOS; i++) {
		accel_set(accel_ratios[i]);
		check_rates(accel_ratios[i]);
		check_time_rate(accel_ratios[i]);
		check_cpu_time(accel_ratios[i]);
	}
	accel_set(1);
	check_raw_against_rtc(1);
	accel_set(1000);
	check_raw_against_rtc(1000);
	accel_set(1);
	ksft_finished();
}
