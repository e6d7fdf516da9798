/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the dynaccel in-guest tests.
 *
 * Real time is always measured with CLOCK_MONOTONIC_RAW, which the kernel
 * keeps unaccelerated; accelerated time with CLOCK_MONOTONIC unless a test
 * says otherwise. Tests print TAP through the kernel's kselftest.h.
 */
#ifndef DYNACCEL_TEST_ACCEL_H
#define DYNACCEL_TEST_ACCEL_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "kselftest.h"

#define NSEC_PER_SEC	1000000000LL
#define NSEC_PER_MSEC	1000000LL
#define ACCEL_SYSCTL	"/proc/sys/kernel/accel"

/* The ratios every accelerated behaviour is checked at (CONTRACT 4). */
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
 * Write @len bytes of @buf to the sysctl in one write(2).
 * Returns 0 or the errno of the failure.
 */
static inline int accel_write(const char *buf, size_t len)
{
	int fd = open(ACCEL_SYSCTL, O_WRONLY);
	int err = 0;

	if (fd < 0)
		return errno;
	if (write(fd, buf, len) != (ssize_t)len)
		err = errno ? errno : EIO;
	close(fd);
	return err;
}

/* Set the ratio or end the test: nothing else can be trusted without it. */
static inline void accel_set(int r)
{
	char buf[16];
	int err, n = snprintf(buf, sizeof(buf), "%d\n", r);

	err = accel_write(buf, n);
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

/* Relative error of @got against @want. */
static inline double rel_err(double got, double want)
{
	double d = got - want;

	return (d < 0 ? -d : d) / want;
}

#endif /* DYNACCEL_TEST_ACCEL_H */
