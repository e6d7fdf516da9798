// SPDX-License-Identifier: GPL-2.0
/*
 * accel-views: what user space derives from kernel time runs accelerated
 * too (docs/contract.md 2): the times() return value, /proc/uptime,
 * sysinfo().uptime, process start times in /proc/PID/stat, file timestamps
 * the kernel sets, and a load average that still means something.
 */
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/times.h>
#include <sys/wait.h>

#include "accel.h"

#define WINDOW_NS	(200 * NSEC_PER_MSEC)

static double boottime_s(void)
{
	return clock_ns(CLOCK_BOOTTIME) / 1e9;
}

/*
 * times() counts clock ticks (USER_HZ) since boot in accelerated time. It
 * is read from jiffies, which the real tick advances by R at a time: each
 * end of the window is off by one of its own ticks (1/USER_HZ accelerated,
 * 1/(USER_HZ * R) real) or one real kernel tick, whichever is longer.
 */
static void check_times(int r)
{
	long hz = sysconf(_SC_CLK_TCK);
	int64_t t0, t1, tick = tick_ns(), step = NSEC_PER_SEC / hz / r;
	struct tms t;
	clock_t c0, c1;
	double rate, tol;

	if (step < tick)
		step = tick;

	c0 = times(&t);
	t0 = raw_ns();
	spin_real(WINDOW_NS);
	c1 = times(&t);
	t1 = raw_ns();
	rate = (double)(c1 - c0) / hz * 1e9 / (t1 - t0);
	/* 1% plus one step of resolution at each end of the window. */
	tol = rate_tol() + 2.0 * step / (double)(t1 - t0);
	ksft_test_result(rel_err(rate, r) <= tol,
			 "R=%d times() advances at %.3f (want %d within %.1f%%, %s)\n",
			 r, rate, r, tol * 100, accel_env());
}

static void check_uptime(int r)
{
	double b0, b1, up = -1;
	FILE *f;

	b0 = boottime_s();
	f = fopen("/proc/uptime", "r");
	if (!f || fscanf(f, "%lf", &up) != 1)
		up = -1;
	if (f)
		fclose(f);
	b1 = boottime_s();
	/* /proc/uptime shows hundredths, truncated. */
	ksft_test_result(up >= b0 - 0.01 && up <= b1,
			 "R=%d /proc/uptime %.2f within BOOTTIME [%.3f, %.3f]\n", r, up, b0, b1);
}

static void check_sysinfo(int r)
{
	struct sysinfo si;
	double b0, b1;

	b0 = boottime_s();
	sysinfo(&si);
	b1 = boottime_s();
	/* The kernel rounds up to whole seconds. */
	ksft_test_result(si.uptime >= (long)b0 && si.uptime <= (long)b1 + 1,
			 "R=%d sysinfo().uptime %ld within BOOTTIME [%.3f, %.3f]\n",
			 r, si.uptime, b0, b1);
}

/* Field 22 of /proc/PID/stat: start time in clock ticks after boot. */
static long long start_ticks(pid_t pid)
{
	char path[64], buf[1024], *p;
	long long v = -1;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f)) {
		p = strrchr(buf, ')');	/* the command name may hold spaces */
		for (i = 2; p && i < 22; i++)
			p = strchr(p + 1, ' ');
		if (p)
			v = atoll(p + 1);
	}
	fclose(f);
	return v;
}

static void check_start_time(int r)
{
	long hz = sysconf(_SC_CLK_TCK);
	double b0, b1, st;
	long long ticks;
	int fds[2];
	pid_t pid;
	char c;

	if (pipe(fds)) {
		ksft_test_result_fail("R=%d pipe: %s\n", r, strerror(errno));
		return;
	}
	b0 = boottime_s();
	pid = fork();
	if (pid == 0) {
		close(fds[1]);
		if (read(fds[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	b1 = boottime_s();
	ticks = start_ticks(pid);
	close(fds[1]);
	waitpid(pid, NULL, 0);
	close(fds[0]);
	st = (double)ticks / hz;
	ksft_test_result(st >= b0 - 1.0 / hz && st <= b1 + 1.0 / hz,
			 "R=%d /proc/PID/stat start time %.2f s within BOOTTIME [%.3f, %.3f]\n",
			 r, st, b0, b1);
}

static int64_t mtime_ns(const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return -1;
	return ts_ns(&st.st_mtim);
}

/*
 * Writes stamp the file from the coarse wall clock: accelerated, in steps
 * of one real tick (R x 4 ms at HZ=250, docs/contract.md 5).
 */
static void check_mtime(int r)
{
	const char *path = "/tmp/accel-views.mtime";
	int64_t c0, m0, m1, real0, real1, step;
	struct timespec res;
	double rate, tol;
	int fd;

	clock_getres(CLOCK_REALTIME_COARSE, &res);
	step = ts_ns(&res) * r;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	c0 = clock_ns(CLOCK_REALTIME_COARSE);
	real0 = raw_ns();
	if (fd < 0 || write(fd, "a", 1) != 1) {
		ksft_test_result_fail("R=%d write %s: %s\n", r, path, strerror(errno));
		ksft_test_result_fail("R=%d mtime rate\n", r);
		return;
	}
	m0 = mtime_ns(path);
	ksft_test_result(m0 >= c0 && m0 <= clock_ns(CLOCK_REALTIME),
			 "R=%d mtime set from the accelerated wall clock\n", r);
	spin_real(WINDOW_NS);
	if (write(fd, "b", 1) != 1)
		m1 = -1;
	else
		m1 = mtime_ns(path);
	real1 = raw_ns();
	close(fd);
	unlink(path);
	rate = (double)(m1 - m0) / (real1 - real0);
	tol = rate_tol() + 2.0 * step / ((double)r * WINDOW_NS);
	ksft_test_result(rel_err(rate, r) <= tol,
			 "R=%d mtime advances at %.3f between writes (want %d within %.1f%%, %s)\n",
			 r, rate, r, tol * 100, accel_env());
}

/*
 * A thread kept busy for 1000 accelerated seconds (one real second at
 * R=1000) must show as a one-minute load average near one: the sampling
 * cadence is accelerated with everything else.
 *
 * At R=1000 that average covers the last 60 ms of real time, a dozen
 * samples of the run queues taken 4 ms apart. Under TCG a vCPU the host
 * preempts for a few milliseconds keeps whatever was runnable on it in
 * the run queue count for seconds of accelerated time (one read under
 * host load gave 2.62). So the average is read LOAD_READS times, 100 ms
 * real apart while the thread keeps busy, each read an average over a
 * different accelerated minute, and the median is judged.
 */
#define LOAD_READS	11

static double read_load1(void)
{
	double l1 = -1;
	FILE *f = fopen("/proc/loadavg", "r");

	if (f) {
		if (fscanf(f, "%lf", &l1) != 1)
			l1 = -1;
		fclose(f);
	}
	return l1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void check_loadavg(void)
{
	double l1[LOAD_READS];
	int i;

	accel_set(1000);
	spin_real(NSEC_PER_SEC);
	for (i = 0; i < LOAD_READS; i++) {
		l1[i] = read_load1();
		spin_real(100 * NSEC_PER_MSEC);
	}
	accel_set(1);
	qsort(l1, LOAD_READS, sizeof(l1[0]), cmp_double);
	ksft_test_result(l1[LOAD_READS / 2] >= 0.7 && l1[LOAD_READS / 2] <= 1.5,
			 "R=1000 one busy thread for 1000 accelerated s: load %.2f, median of %d reads %.2f..%.2f (want 0.7..1.5)\n",
			 l1[LOAD_READS / 2], LOAD_READS, l1[0], l1[LOAD_READS - 1]);
}

int main(void)
{
	int i, r;

	ksft_print_header();
	ksft_set_plan(NR_RATIOS * 6 + 1);
	accel_require();
	for (i = 0; i < NR_RATIOS; i++) {
		r = accel_ratios[i];
		accel_set(r);
		check_times(r);
		check_uptime(r);
		check_sysinfo(r);
		check_start_time(r);
		check_mtime(r);
	}
	accel_set(1);
	check_loadavg();
	ksft_finished();
}
