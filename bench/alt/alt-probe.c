// SPDX-License-Identifier: GPL-2.0
/*
 * alt-probe: which clocks, timers and timeouts run faster, and what a clock
 * read costs, under whatever accelerates this process: dynaccel's
 * kernel.accel, or libfaketime's LD_PRELOAD.
 *
 *   alt-probe LABEL RATIO
 *
 * Built three ways by bench/alt/Makefile: dynamic (libc calls, which
 * LD_PRELOAD can intercept), static (libc calls that no preload reaches)
 * and direct (static, and clock reads and sleeps made as raw system calls,
 * as Go programs and some runtimes do). Real time is always read with a raw
 * clock_gettime(CLOCK_MONOTONIC_RAW) system call, which no preload library
 * can fake. Output, one line each:
 *   alt LABEL clock NAME RATE
 *   alt LABEL timer NAME REAL_MS ACCEL_MS      (-1 -1: did not return)
 *   alt LABEL cost clock_gettime NS_PER_CALL
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NSEC_PER_SEC	1000000000LL
#define WAIT_ACCEL_NS	NSEC_PER_SEC		/* every wait asks for 1 s */
#define GIVE_UP_NS	(3 * NSEC_PER_SEC)	/* real time before a wait is killed */

/* A system call made with the syscall instruction: no library in between. */
static long rawsys(long nr, long a1, long a2, long a3, long a4, long a5)
{
	long ret;
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;

	__asm__ volatile ("syscall"
			  : "=a"(ret)
			  : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8)
			  : "rcx", "r11", "memory");
	return ret;
}

static int64_t ts_ns(const struct timespec *ts)
{
	return ts->tv_sec * NSEC_PER_SEC + ts->tv_nsec;
}

/* Real time: never through libc, so never faked. */
static int64_t real_ns(void)
{
	struct timespec ts;

	rawsys(SYS_clock_gettime, CLOCK_MONOTONIC_RAW, (long)&ts, 0, 0, 0);
	return ts_ns(&ts);
}

static void real_sleep(int64_t ns)
{
	struct timespec ts = { ns / NSEC_PER_SEC, ns % NSEC_PER_SEC };

	rawsys(SYS_nanosleep, (long)&ts, 0, 0, 0, 0);
}

#ifdef DIRECT_SYSCALLS
#define p_clock_gettime(c, t)	rawsys(SYS_clock_gettime, (c), (long)(t), 0, 0, 0)
#define p_gettimeofday(t)	rawsys(SYS_gettimeofday, (long)(t), 0, 0, 0, 0)
#define p_time()		rawsys(SYS_time, 0, 0, 0, 0, 0)
#define p_nanosleep(t)		rawsys(SYS_nanosleep, (long)(t), 0, 0, 0, 0)
#define p_clock_nanosleep(c, f, t) \
	rawsys(SYS_clock_nanosleep, (c), (f), (long)(t), 0, 0)
#define p_poll(f, n, ms)	rawsys(SYS_poll, (long)(f), (n), (ms), 0, 0)
#define p_select(n, r, tv)	rawsys(SYS_select, (n), (long)(r), 0, 0, (long)(tv))
#define p_epoll_wait(e, ev, n, ms) \
	rawsys(SYS_epoll_wait, (e), (long)(ev), (n), (ms), 0)
#else
#define p_clock_gettime(c, t)	clock_gettime((c), (t))
#define p_gettimeofday(t)	gettimeofday((t), NULL)
#define p_time()		time(NULL)
#define p_nanosleep(t)		nanosleep((t), NULL)
#define p_clock_nanosleep(c, f, t) clock_nanosleep((c), (f), (t), NULL)
#define p_poll(f, n, ms)	poll((f), (n), (ms))
#define p_select(n, r, tv)	select((n), (r), NULL, NULL, (tv))
#define p_epoll_wait(e, ev, n, ms) epoll_wait((e), (ev), (n), (ms))
#endif

static int64_t clk(clockid_t id)
{
	struct timespec ts;

	p_clock_gettime(id, &ts);
	return ts_ns(&ts);
}

/* ---- clocks ---- */

static int64_t rd_realtime(void) { return clk(CLOCK_REALTIME); }
static int64_t rd_monotonic(void) { return clk(CLOCK_MONOTONIC); }
static int64_t rd_boottime(void) { return clk(CLOCK_BOOTTIME); }
static int64_t rd_mono_coarse(void) { return clk(CLOCK_MONOTONIC_COARSE); }

static int64_t rd_gettimeofday(void)
{
	struct timeval tv;

	p_gettimeofday(&tv);
	return tv.tv_sec * NSEC_PER_SEC + tv.tv_usec * 1000LL;
}

static int64_t rd_time(void)
{
	return (int64_t)p_time() * NSEC_PER_SEC;
}

static const struct {
	const char *name;
	int64_t (*read)(void);
} clocks[] = {
	{ "CLOCK_REALTIME", rd_realtime },
	{ "CLOCK_MONOTONIC", rd_monotonic },
	{ "CLOCK_BOOTTIME", rd_boottime },
	{ "CLOCK_MONOTONIC_COARSE", rd_mono_coarse },
	{ "gettimeofday", rd_gettimeofday },
	{ "time", rd_time },
};

/* Rate against real time over 2 real seconds, long enough for time(). */
static void probe_clocks(const char *label)
{
	int64_t v0[sizeof(clocks) / sizeof(clocks[0])], t0, t1;
	size_t i;

	t0 = real_ns();
	for (i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++)
		v0[i] = clocks[i].read();
	while (real_ns() < t0 + 2 * NSEC_PER_SEC)
		;
	t1 = real_ns();
	for (i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++)
		printf("alt %s clock %s %.2f\n", label, clocks[i].name,
		       (double)(clocks[i].read() - v0[i]) / (double)(t1 - t0));
}

/* ---- timers and timeouts: each waits WAIT_ACCEL_NS of its own time ---- */

static const struct timespec one_s = { 1, 0 };

static int w_nanosleep(void)
{
	return p_nanosleep(&one_s);
}

static int w_clock_nanosleep(void)
{
	return p_clock_nanosleep(CLOCK_MONOTONIC, 0, &one_s);
}

static int w_clock_nanosleep_abs(void)
{
	struct timespec ts;

	p_clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 1;
	return p_clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts);
}

static int w_sleep(void)
{
	return sleep(1);
}

static int w_usleep(void)
{
	return usleep(999999);
}

static void on_signal(int sig)
{
	(void)sig;
}

static int wait_signal(void)
{
	pause();
	return 0;
}

static int w_alarm(void)
{
	alarm(1);
	return wait_signal();
}

static int w_setitimer(void)
{
	struct itimerval it = { { 0, 0 }, { 1, 0 } };

	setitimer(ITIMER_REAL, &it, NULL);
	return wait_signal();
}

static int w_timer_settime(void)
{
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGALRM };
	struct itimerspec its = { { 0, 0 }, { 1, 0 } };
	timer_t t;

	if (timer_create(CLOCK_MONOTONIC, &sev, &t) || timer_settime(t, 0, &its, NULL))
		return -1;
	return wait_signal();
}

static int w_timerfd(void)
{
	struct itimerspec its = { { 0, 0 }, { 1, 0 } };
	uint64_t n;
	int fd = timerfd_create(CLOCK_MONOTONIC, 0);

	if (fd < 0 || timerfd_settime(fd, 0, &its, NULL))
		return -1;
	return read(fd, &n, sizeof(n)) == sizeof(n) ? 0 : -1;
}

static int idle_pipe[2];

static int w_select(void)
{
	struct timeval tv = { 1, 0 };
	fd_set r;

	FD_ZERO(&r);
	FD_SET(idle_pipe[0], &r);
	return p_select(idle_pipe[0] + 1, &r, &tv);
}

static int w_poll(void)
{
	struct pollfd p = { .fd = idle_pipe[0], .events = POLLIN };

	return p_poll(&p, 1, 1000);
}

static int w_epoll_wait(void)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int ep = epoll_create1(0);

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, idle_pipe[0], &ev))
		return -1;
	return p_epoll_wait(ep, &ev, 1, 1000);
}

static int w_cond_timedwait(void)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t c = PTHREAD_COND_INITIALIZER;
	struct timespec ts;
	int ret;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 1;
	pthread_mutex_lock(&m);
	ret = pthread_cond_timedwait(&c, &m, &ts);
	pthread_mutex_unlock(&m);
	return ret == ETIMEDOUT ? 0 : -1;
}

static int w_sem_timedwait(void)
{
	struct timespec ts;
	sem_t s;

	sem_init(&s, 0, 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 1;
	return sem_timedwait(&s, &ts);
}

static int w_so_rcvtimeo(void)
{
	struct timeval tv = { 1, 0 };
	int sv[2];
	char c;

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) ||
	    setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		return -1;
	return recv(sv[0], &c, 1, 0);
}

static const struct {
	const char *name;
	int (*wait)(void);
} waits[] = {
	{ "nanosleep", w_nanosleep },
	{ "clock_nanosleep", w_clock_nanosleep },
	{ "clock_nanosleep_abs", w_clock_nanosleep_abs },
	{ "sleep", w_sleep },
	{ "usleep", w_usleep },
	{ "alarm", w_alarm },
	{ "setitimer", w_setitimer },
	{ "timer_settime", w_timer_settime },
	{ "timerfd", w_timerfd },
	{ "select", w_select },
	{ "poll", w_poll },
	{ "epoll_wait", w_epoll_wait },
	{ "pthread_cond_timedwait", w_cond_timedwait },
	{ "sem_timedwait", w_sem_timedwait },
	{ "SO_RCVTIMEO", w_so_rcvtimeo },
};

/*
 * Each wait runs in a child that is killed after GIVE_UP_NS of real time:
 * under a preload library an absolute deadline in faked time can lie far in
 * the kernel's real future.
 */
static void probe_timers(const char *label)
{
	size_t i;

	for (i = 0; i < sizeof(waits) / sizeof(waits[0]); i++) {
		int64_t t0 = real_ns(), a0, a1, t1;
		int status;
		pid_t pid;

		fflush(stdout);
		pid = fork();
		if (pid < 0) {
			perror("fork");
			exit(1);
		}
		if (pid == 0) {
			a0 = rd_monotonic();
			t0 = real_ns();
			waits[i].wait();
			t1 = real_ns();
			a1 = rd_monotonic();
			printf("alt %s timer %s %.1f %.1f\n", label, waits[i].name,
			       (t1 - t0) / 1e6, (a1 - a0) / 1e6);
			fflush(stdout);
			_exit(0);
		}
		while (waitpid(pid, &status, WNOHANG) == 0) {
			if (real_ns() - t0 > GIVE_UP_NS) {
				kill(pid, SIGKILL);
				waitpid(pid, &status, 0);
				printf("alt %s timer %s -1 -1\n", label, waits[i].name);
				break;
			}
			real_sleep(2 * 1000 * 1000);
		}
	}
}

/* ---- cost of a clock read ---- */

static void probe_cost(const char *label)
{
	const long calls = 200000;
	struct timespec ts;
	int64_t t0, t1;
	long n;
	int rep;

	for (rep = 0; rep < 5; rep++) {
		t0 = real_ns();
		for (n = 0; n < calls; n++)
			p_clock_gettime(CLOCK_MONOTONIC, &ts);
		t1 = real_ns();
		printf("alt %s cost clock_gettime %.1f\n", label, (double)(t1 - t0) / calls);
	}
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };

	if (argc != 2) {
		fprintf(stderr, "usage: alt-probe LABEL\n");
		return 2;
	}
	sigaction(SIGALRM, &sa, NULL);
	if (pipe(idle_pipe))
		return 1;
	probe_clocks(argv[1]);
	probe_timers(argv[1]);
	probe_cost(argv[1]);
	return 0;
}
