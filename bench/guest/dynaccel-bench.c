// SPDX-License-Identifier: GPL-2.0
/*
 * dynaccel-bench: the in-guest measurements of `make bench`.
 *
 *   dynaccel-bench rate R WINDOW_MS REPS   rate of each accelerated clock
 *   dynaccel-bench late R REPS             timer lateness, real and accelerated
 *   dynaccel-bench trace STEP_MS R...      accelerated against real time
 *                                          across a sequence of ratios
 *   dynaccel-bench cost CALLS REPS         ns per clock read, vDSO and syscall
 *   dynaccel-bench idle SECONDS REPS       timer IRQs/s and idle CPU share
 *   dynaccel-bench spawn COUNT REPS        real ms to fork, exec and reap
 *                                          /bin/true
 *
 * Every result is one line on stdout, "kind field...", raw numbers for the
 * host to aggregate (scripts/bench.sh). Real time is CLOCK_MONOTONIC_RAW.
 * cost and idle also run on the unpatched kernel, which has no
 * kernel.accel: R is reported as 1 there and never set.
 */
#include <sys/wait.h>

#include "accel.h"

#define LATE_BASE_NS	(20 * NSEC_PER_MSEC)	/* real length of a timer wait */

static bool have_accel(void)
{
	return access(ACCEL_SYSCTL, F_OK) == 0;
}

static int ratio_now(void)
{
	return have_accel() ? accel_get() : 1;
}

static void set_ratio(int r)
{
	if (have_accel())
		accel_set(r);
	else if (r != 1)
		ksft_exit_fail_msg("no kernel.accel on this kernel; cannot set R=%d\n", r);
}

/* ---- clock rates ---- */

/* Sampled with clock_sample() of accel.h, as accel-clocks samples its own. */
static const struct accel_clock clocks[] = {
	{ "MONOTONIC", CLOCK_MONOTONIC, VIA_VDSO },
	{ "MONOTONIC_syscall", CLOCK_MONOTONIC, VIA_SYSCALL },
	{ "REALTIME", CLOCK_REALTIME, VIA_VDSO },
	{ "BOOTTIME", CLOCK_BOOTTIME, VIA_VDSO },
	{ "TAI", CLOCK_TAI, VIA_VDSO },
	{ "MONOTONIC_COARSE", CLOCK_MONOTONIC_COARSE, VIA_VDSO },
	{ "REALTIME_COARSE", CLOCK_REALTIME_COARSE, VIA_VDSO },
	{ "gettimeofday", CLOCK_REALTIME, VIA_GETTIMEOFDAY },
};
#define NR_CLOCKS	((int)(sizeof(clocks) / sizeof(clocks[0])))

static int cmd_rate(int r, int window_ms, int reps)
{
	int64_t t0[NR_CLOCKS], v0[NR_CLOCKS], t1, v1;
	int rep, i;

	set_ratio(r);
	spin_real(10 * NSEC_PER_MSEC);
	for (rep = 0; rep < reps; rep++) {
		for (i = 0; i < NR_CLOCKS; i++)
			clock_sample(&clocks[i], &t0[i], &v0[i]);
		spin_real(window_ms * NSEC_PER_MSEC);
		for (i = 0; i < NR_CLOCKS; i++) {
			clock_sample(&clocks[i], &t1, &v1);
			printf("rate %d %d %s %d %.9f\n", r, window_ms, clocks[i].name, rep,
			       (double)(v1 - v0[i]) / (double)(t1 - t0[i]));
		}
		fflush(stdout);
	}
	return 0;
}

/* ---- timer lateness ---- */

/* The waiters of accel.h, the same calls that accel-timers checks. */
static const struct {
	const char *name;
	int (*wait)(int64_t d);
} waits[] = {
	{ "nanosleep", do_nanosleep },
	{ "timerfd", tfd_mono },
	{ "poll", do_poll },
	{ "SO_RCVTIMEO", so_rcvtimeo },
};
#define NR_WAITS	((int)(sizeof(waits) / sizeof(waits[0])))

/*
 * Each wait asks for D = R x 20 ms of accelerated time (20 ms real at every
 * R). Lateness is printed in real ns (real elapsed - D/R) and in
 * accelerated ns (accelerated elapsed - D); negative means early.
 */
static int cmd_late(int r, int reps)
{
	int64_t d = r * LATE_BASE_NS, t0, a0, t1, a1;
	int rep, k;

	if (pipe(idle_pipe))
		ksft_exit_fail_msg("pipe: %s\n", strerror(errno));
	set_ratio(r);
	for (k = 0; k < NR_WAITS; k++) {
		for (rep = 0; rep < reps; rep++) {
			t0 = raw_ns();
			a0 = mono_ns();
			if (waits[k].wait(d))
				ksft_exit_fail_msg("%s: %s\n", waits[k].name, strerror(errno));
			a1 = mono_ns();
			t1 = raw_ns();
			printf("late %d %s %d %lld %lld\n", r, waits[k].name, rep,
			       (long long)(t1 - t0 - d / r), (long long)(a1 - a0 - d));
		}
		fflush(stdout);
	}
	return 0;
}

/* ---- accelerated time across ratio changes ---- */

static int cmd_trace(int step_ms, int nr, char **ratios)
{
	int64_t r0 = raw_ns(), m0 = mono_ns(), end, t;
	int i;

	for (i = 0; i < nr; i++) {
		int r = atoi(ratios[i]);

		set_ratio(r);
		end = raw_ns() + step_ms * NSEC_PER_MSEC;
		do {
			t = raw_ns();
			printf("trace %.6f %.6f %d\n", (t - r0) / 1e9, (mono_ns() - m0) / 1e9, r);
			spin_real(10 * NSEC_PER_MSEC);
		} while (t < end);
	}
	t = raw_ns();
	printf("trace %.6f %.6f %d\n", (t - r0) / 1e9, (mono_ns() - m0) / 1e9, ratio_now());
	set_ratio(1);
	return 0;
}

/* ---- cost of a clock read ---- */

static int cmd_cost(long calls, int reps)
{
	static const struct accel_clock cost_clocks[] = {
		{ "MONOTONIC", CLOCK_MONOTONIC, VIA_VDSO },
		{ "MONOTONIC", CLOCK_MONOTONIC, VIA_SYSCALL },
		{ "REALTIME", CLOCK_REALTIME, VIA_VDSO },
		{ "REALTIME", CLOCK_REALTIME, VIA_SYSCALL },
	};
	static const char *const path_name[] = { "vdso", "syscall", "gettimeofday" };
	struct timespec ts;
	int64_t t0, t1;
	long n;
	int rep, i, r = ratio_now();

	for (i = 0; i < (int)(sizeof(cost_clocks) / sizeof(cost_clocks[0])); i++) {
		const struct accel_clock *c = &cost_clocks[i];
		/* Syscalls are slow under emulation: a tenth of the calls. */
		long nr = c->path == VIA_SYSCALL ? calls / 10 : calls;

		for (rep = 0; rep < reps; rep++) {
			t0 = raw_ns();
			if (c->path == VIA_VDSO)
				for (n = 0; n < nr; n++)
					clock_gettime(c->id, &ts);
			else
				for (n = 0; n < nr; n++)
					syscall(SYS_clock_gettime, c->id, &ts);
			t1 = raw_ns();
			printf("cost %d %s %s %d %.2f\n", r, c->name, path_name[c->path], rep,
			       (double)(t1 - t0) / nr);
		}
		fflush(stdout);
	}
	return 0;
}

/* ---- timer interrupts and idle CPU ---- */

/* Idle and total jiffies of the "cpu" line of /proc/stat. */
static void cpu_times(long long *idle, long long *total)
{
	long long v[10] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	int i;

	*idle = *total = 0;
	if (!f)
		return;
	if (fscanf(f, "cpu %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld", &v[0], &v[1],
		   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]) >= 4) {
		for (i = 0; i < 8; i++)	/* guest times are already in user */
			*total += v[i];
		*idle = v[3] + v[4];
	}
	fclose(f);
}

static int cmd_idle(int secs, int reps)
{
	long long i0, i1, id0, id1, tot0, tot1;
	int64_t t0, t1;
	int rep, r = ratio_now();
	struct timespec ts = ns_ts((int64_t)secs * r * NSEC_PER_SEC);

	for (rep = 0; rep < reps; rep++) {
		/* Let the last output and the ratio change settle. */
		spin_real(10 * NSEC_PER_MSEC);
		cpu_times(&id0, &tot0);
		i0 = timer_interrupts();
		t0 = raw_ns();
		clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
		t1 = raw_ns();
		i1 = timer_interrupts();
		cpu_times(&id1, &tot1);
		printf("idle %d %d %.1f %.2f\n", r, rep, (i1 - i0) * 1e9 / (t1 - t0),
		       tot1 > tot0 ? 100.0 * (id1 - id0) / (tot1 - tot0) : -1.0);
		fflush(stdout);
	}
	return 0;
}

/*
 * Starting a process costs real time that acceleration multiplies: at
 * R=1000 every real millisecond a cron job needs to start is a second of
 * accelerated lateness. Measured in real time so that R does not bend it.
 */
static int cmd_spawn(int count, int reps)
{
	char *const argv[] = { "true", NULL };
	int64_t t0;
	int rep, i, status, r = ratio_now();
	pid_t pid;

	for (rep = 0; rep < reps; rep++) {
		t0 = raw_ns();
		for (i = 0; i < count; i++) {
			pid = fork();
			if (pid < 0)
				ksft_exit_fail_msg("fork: %s\n", strerror(errno));
			if (pid == 0) {
				execv("/bin/true", argv);
				_exit(127);
			}
			if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
			    WEXITSTATUS(status))
				ksft_exit_fail_msg("/bin/true failed\n");
		}
		printf("spawn %d %d %.3f\n", r, rep, (raw_ns() - t0) / 1e6 / count);
		fflush(stdout);
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: dynaccel-bench rate R WINDOW_MS REPS | late R REPS |\n"
		"       trace STEP_MS R... | cost CALLS REPS | idle SECONDS REPS |\n"
		"       spawn COUNT REPS\n");
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "rate") && argc == 5)
		return cmd_rate(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
	if (!strcmp(argv[1], "late") && argc == 4)
		return cmd_late(atoi(argv[2]), atoi(argv[3]));
	if (!strcmp(argv[1], "trace") && argc >= 4)
		return cmd_trace(atoi(argv[2]), argc - 3, argv + 3);
	if (!strcmp(argv[1], "cost") && argc == 4)
		return cmd_cost(atol(argv[2]), atoi(argv[3]));
	if (!strcmp(argv[1], "idle") && argc == 4)
		return cmd_idle(atoi(argv[2]), atoi(argv[3]));
	if (!strcmp(argv[1], "spawn") && argc == 4)
		return cmd_spawn(atoi(argv[2]), atoi(argv[3]));
	usage();
	return 2;
}
