/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the dynaccel in-guest tests and the bench probe
 * (bench/guest/dynaccel-bench.c).
 *
 * Real time is always measured with CLOCK_MONOTONIC_RAW, which the kernel
 * keeps unaccelerated; accelerated time with CLOCK_MONOTONIC unless a test
 * says otherwise. Tests print TAP through the kernel's kselftest.h.
 */
#ifndef DYNACCEL_TEST_ACCEL_H
#define DYNACCEL_TEST_ACCEL_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "kselftest.h"

#define NSEC_PER_SEC	1000000000LL
#define NSEC_PER_MSEC	1000000LL
#define ACCEL_SYSCTL	"/proc/sys/kernel/accel"

/* The ratios every accelerated behaviour is checked at (docs/contract.md 4). */
static const int accel_ratios[] = { 1, 2, 10, 100, 1000 };
#define NR_RATIOS	((int)(sizeof(accel_ratios) / sizeof(accel_ratios[0])))

static inline int64_t ts_ns(const struct timespec *ts)
{
	return ts->tv_sec * NSEC_PER_SEC + ts->tv_nsec;
}

static inline struct timespec ns_ts(int64_t ns)
{
	struct timespec ts = { ns / NSEC_PER_SEC, ns % NSEC_PER_SEC };

	return ts;
}

/* Read a clock through the vDSO (glibc's clock_gettime). */
static inline int64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	if (clock_gettime(clk, &ts))
		ksft_exit_fail_msg("clock_gettime(%d): %s\n", clk, strerror(errno));
	return ts_ns(&ts);
}

/* Read a clock through the system call, bypassing the vDSO. */
static inline int64_t clock_ns_syscall(clockid_t clk)
{
	struct timespec ts;

	if (syscall(SYS_clock_gettime, clk, &ts))
		ksft_exit_fail_msg("SYS_clock_gettime(%d): %s\n", clk, strerror(errno));
	return ts_ns(&ts);
}

static inline int64_t raw_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC_RAW);
}

static inline int64_t mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/*
 * A clock as a program reads it: clock @id through the vDSO, the system call
 * or gettimeofday(). accel-clocks and the bench's rate both sample tables of
 * them, and read them alike so that their figures can be compared. The bench
 * names the paths by their order here.
 */
enum clock_path { VIA_VDSO, VIA_SYSCALL, VIA_GETTIMEOFDAY };

struct accel_clock {
	const char *name;
	clockid_t id;
	enum clock_path path;
};

/* The value of @c now, in ns. */
static inline int64_t clock_read(const struct accel_clock *c)
{
	struct timeval tv;

	switch (c->path) {
	case VIA_VDSO:
		return clock_ns(c->id);
	case VIA_SYSCALL:
		return clock_ns_syscall(c->id);
	case VIA_GETTIMEOFDAY:
		gettimeofday(&tv, NULL);
		return tv.tv_sec * NSEC_PER_SEC + tv.tv_usec * 1000LL;
	}
	return 0;
}

#define PAIR_MAX_NS	(50 * 1000LL)	/* a raw pair wider than this is retried */

/*
 * A reading of @c in @val and the real time it was taken at in @real: the
 * mid-point of two CLOCK_MONOTONIC_RAW reads around it, retried while they
 * are more than PAIR_MAX_NS apart (the vCPU was preempted between them), so
 * that a rate taken between two samples is not skewed.
 */
static inline void clock_sample(const struct accel_clock *c, int64_t *real, int64_t *val)
{
	int64_t a, b;
	int tries = 0;

	do {
		a = raw_ns();
		*val = clock_read(c);
		b = raw_ns();
	} while (b - a > PAIR_MAX_NS && ++tries < 1000);
	*real = a + (b - a) / 2;
}

/* Busy-wait for @ns of real time: a window that acceleration cannot bend. */
static inline void spin_real(int64_t ns)
{
	int64_t end = raw_ns() + ns;

	while (raw_ns() < end)
		;
}

/* CLOCK_MONOTONIC's rate against real time over a busy-waited window. */
static inline double mono_rate(int64_t real_window_ns)
{
	int64_t t0 = raw_ns(), m0 = mono_ns(), t1, m1;

	spin_real(real_window_ns);
	m1 = mono_ns();
	t1 = raw_ns();
	return (double)(m1 - m0) / (double)(t1 - t0);
}

/* The current ratio, or -1 with errno set when it cannot be read. */
static inline int accel_get(void)
{
	char buf[32];
	ssize_t n;
	int fd = open(ACCEL_SYSCTL, O_RDONLY);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return atoi(buf);
}

/*
 * Write @len bytes of @buf to the file @path (a sysctl) in one write(2).
 * Returns 0 or the errno of the failure.
 */
static inline int file_write(const char *path, const char *buf, size_t len)
{
	int fd = open(path, O_WRONLY);
	int err = 0;

	if (fd < 0)
		return errno;
	if (write(fd, buf, len) != (ssize_t)len)
		err = errno ? errno : EIO;
	close(fd);
	return err;
}

/* The number at the start of the file @path, or -1. */
static inline long file_read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* Run the shell command @cmd: its exit status, or -1 if it did not exit. */
static inline int run(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Write @len bytes of @buf to kernel.accel: 0 or the errno. */
static inline int accel_write(const char *buf, size_t len)
{
	return file_write(ACCEL_SYSCTL, buf, len);
}

/* Write ratio @r; 0 or the errno of the write. */
static inline int accel_try_set(int r)
{
	char buf[16];
	int n = snprintf(buf, sizeof(buf), "%d\n", r);

	return accel_write(buf, n);
}

/* Set the ratio or end the test: nothing else can be trusted without it. */
static inline void accel_set(int r)
{
	int err = accel_try_set(r);

	if (err)
		ksft_exit_fail_msg("setting kernel.accel=%d: %s\n", r, strerror(err));
	if (accel_get() != r)
		ksft_exit_fail_msg("kernel.accel reads %d after writing %d\n", accel_get(), r);
}

/* End the test unless this is a dynaccel kernel: everything depends on it. */
static inline void accel_require(void)
{
	if (access(ACCEL_SYSCTL, F_OK))
		ksft_exit_fail_msg("%s: %s: not a dynaccel kernel\n", ACCEL_SYSCTL,
				   strerror(errno));
}

/*
 * The counts of the row @label ("LOC", "TIMER", ...) of a per-CPU counter
 * table such as /proc/interrupts or /proc/softirqs, summed over the CPUs;
 * -1 if the file cannot be read.
 */
static inline long long proc_row_sum(const char *path, const char *label)
{
	FILE *f = fopen(path, "r");
	size_t len = strlen(label);
	char line[4096];
	long long sum = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *end;
		long long v;

		while (*p == ' ')
			p++;
		if (strncmp(p, label, len) || p[len] != ':')
			continue;
		for (p += len + 1; v = strtoll(p, &end, 10), end != p; p = end)
			sum += v;
	}
	fclose(f);
	return sum;
}

/* Local timer interrupts (LOC) summed over all CPUs, or -1. */
static inline long long timer_interrupts(void)
{
	return proc_row_sum("/proc/interrupts", "LOC");
}

/*
 * How the guest runs, as the harness put it on the kernel command line
 * (harness.accel=tcg or kvm); "hardware" on a machine it did not boot.
 */
static inline const char *accel_env(void)
{
	static char env[16];
	char line[4096], *p;
	FILE *f;

	if (env[0])
		return env;
	strcpy(env, "hardware");
	/* The last one counts, as for any kernel parameter given twice. */
	f = fopen("/proc/cmdline", "r");
	if (f && fgets(line, sizeof(line), f))
		for (p = line; (p = strstr(p, "harness.accel=")); p++)
			sscanf(p + strlen("harness.accel="), "%15[a-z]", env);
	if (f)
		fclose(f);
	return env;
}

/*
 * The bound on any rate of accelerated time (docs/contract.md 4): 0.1% on
 * hardware and under KVM; 1% under TCG, where every vCPU is a host thread
 * that the host deschedules at will. Each test line that uses it names
 * the environment, so that a figure is never read against the wrong bound.
 */
static inline double rate_tol(void)
{
	return strcmp(accel_env(), "tcg") ? 0.001 : 0.01;
}

/*
 * The real length of a kernel tick: the step of the coarse clocks, which
 * the tick updates; 0 if unknown. Clocks and counters read from what the
 * tick stored (coarse clocks, time(), jiffies) lag by up to this much.
 */
static inline int64_t tick_ns(void)
{
	struct timespec res;

	return clock_getres(CLOCK_MONOTONIC_COARSE, &res) ? 0 : ts_ns(&res);
}

static inline int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sort @n values in place, smallest first (for medians). */
static inline void sort_i64(int64_t *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_i64);
}

/* Relative error of @got against @want. */
static inline double rel_err(double got, double want)
{
	double d = got - want;

	return (d < 0 ? -d : d) / want;
}

/* @ns as a struct timeval: whole microseconds, the rest dropped. */
static inline struct timeval ns_tv(int64_t ns)
{
	struct timeval tv = { ns / NSEC_PER_SEC, (ns % NSEC_PER_SEC) / 1000 };

	return tv;
}

/* Round up to a microsecond / millisecond so no interface cuts it short. */
static inline int64_t up_us(int64_t ns)
{
	return (ns + 999) / 1000 * 1000;
}

static inline int64_t up_ms(int64_t ns)
{
	return (ns + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC;
}

/*
 * Waiters that accel-timers checks and the bench's late times, one version
 * for both: each waits about @d ns of accelerated time on one interface and
 * returns 0, or -1 if the call failed.
 */

/* A pipe nobody writes to; the program opens it before it waits on it. */
static int idle_pipe[2];

static inline int do_nanosleep(int64_t d)
{
	struct timespec ts = ns_ts(d);

	return nanosleep(&ts, NULL);
}

/*
 * Arm a timerfd on @clk (@flags; first expiry after @value, then every
 * @interval) and read it until @want expirations have passed.
 */
static inline int tfd_wait(clockid_t clk, int flags, int64_t value, int64_t interval,
			   uint64_t want)
{
	struct itimerspec its = { ns_ts(interval), ns_ts(value) };
	uint64_t n, got = 0;
	int fd = timerfd_create(clk, 0);

	if (fd < 0)
		return -1;
	if (flags & TFD_TIMER_ABSTIME)
		its.it_value = ns_ts(clock_ns(clk) + value);
	if (timerfd_settime(fd, flags, &its, NULL))
		goto fail;
	while (got < want) {
		if (read(fd, &n, sizeof(n)) != sizeof(n))
			goto fail;
		got += n;
	}
	close(fd);
	return 0;
fail:
	close(fd);
	return -1;
}

static inline int tfd_mono(int64_t d)
{
	return tfd_wait(CLOCK_MONOTONIC, 0, d, 0, 1);
}

static inline int do_poll(int64_t d)
{
	struct pollfd p = { .fd = idle_pipe[0], .events = POLLIN };

	return poll(&p, 1, up_ms(d)) == 0 ? 0 : -1;
}

static inline int so_rcvtimeo(int64_t d)
{
	struct timeval tv = ns_tv(up_us(d));
	int sv[2], ret = -1;
	char c;

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv))
		return -1;
	if (!setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) &&
	    recv(sv[0], &c, 1, 0) < 0 && errno == EAGAIN)
		ret = 0;
	close(sv[0]);
	close(sv[1]);
	return ret;
}

#endif /* DYNACCEL_TEST_ACCEL_H */
