// SPDX-License-Identifier: GPL-2.0
/*
 * accel-timers: every timer and timeout a program can ask for runs in
 * accelerated time (docs/contract.md 2), is never early in accelerated time and
 * late by no more than the usual real latency scaled by R (docs/contract.md 4).
 *
 * Each kind is asked for D = R x 50 ms of accelerated time, so that it
 * should take 50 ms of real time at every ratio, REPS times in a row. A
 * test passes when, in every repetition, accelerated time elapsed >= D
 * (never early) and real time elapsed >= 0.99 x 50 ms; and when the median
 * real lateness is within bound:
 *   - at R=1, LATE_REAL_NS: a sanity bound on the machine's usual latency
 *     (under TCG a vCPU can lose the host CPU for tens of milliseconds);
 *   - at R > 1, the usual latency x R of the contract: the same kind's
 *     median lateness at R=1 in this boot, in real time, at most twice
 *     over (noise), plus one real tick, the granularity that jiffies-based
 *     timeouts add when jiffies advance by R at a time.
 *
 * At R=1 the kernel runs the unpatched timer code, which counts timeouts
 * given in jiffies (SO_RCVTIMEO, SO_SNDTIMEO) from jiffies as the last
 * tick left them. Under TCG a tick can come tens of milliseconds late, and
 * a timeout armed before it ends early by as much: with CONFIG_DYNACCEL=n,
 * 3 of 600 50 ms SO_RCVTIMEO waits ended early, the shortest after 33.7
 * ms. That says nothing about dynaccel, so at R=1 these kinds start right
 * after a tick (0 early in 600 then). At R > 1 the kernel counts from
 * CLOCK_MONOTONIC (jiffies_lag() in kernel/time/timer.c): no such help.
 */
#include <linux/futex.h>
#include <linux/io_uring.h>
#include <mqueue.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/timerfd.h>

#include "accel.h"

#define BASE_REAL_NS	(50 * NSEC_PER_MSEC)
#define LATE_REAL_NS	(40 * NSEC_PER_MSEC)
#define LATE_FACTOR	2
#define PERIODS		5
#define REPS		5

struct kind {
	const char *name;
	clockid_t clock;	/* the clock the timer runs on */
	int (*fn)(int64_t d);	/* wait about @d accelerated ns; 0 or -1 */
	bool whole_seconds;	/* the interface takes whole seconds only */
	bool jiffies;		/* the kernel counts it in jiffies */
};

static int64_t now(clockid_t clk)
{
	return clock_ns(clk);
}

/*
 * ns_tv(), up_us(), up_ms(), idle_pipe and the waiters the bench shares
 * (do_nanosleep, tfd_wait and tfd_mono, do_poll, so_rcvtimeo) are in accel.h.
 */

/* ---- sleeps ---- */

static int cns_rel(clockid_t clk, int64_t d)
{
	struct timespec ts = ns_ts(d);

	return clock_nanosleep(clk, 0, &ts, NULL) ? -1 : 0;
}

static int cns_abs(clockid_t clk, int64_t d)
{
	struct timespec ts = ns_ts(now(clk) + d);

	return clock_nanosleep(clk, TIMER_ABSTIME, &ts, NULL) ? -1 : 0;
}

static int cns_mono_rel(int64_t d) { return cns_rel(CLOCK_MONOTONIC, d); }
static int cns_mono_abs(int64_t d) { return cns_abs(CLOCK_MONOTONIC, d); }
static int cns_real_rel(int64_t d) { return cns_rel(CLOCK_REALTIME, d); }
static int cns_real_abs(int64_t d) { return cns_abs(CLOCK_REALTIME, d); }
static int cns_boot_rel(int64_t d) { return cns_rel(CLOCK_BOOTTIME, d); }
static int cns_boot_abs(int64_t d) { return cns_abs(CLOCK_BOOTTIME, d); }
static int cns_tai_rel(int64_t d) { return cns_rel(CLOCK_TAI, d); }
static int cns_tai_abs(int64_t d) { return cns_abs(CLOCK_TAI, d); }

/* ---- timerfd ---- */

static int tfd_boot(int64_t d) { return tfd_wait(CLOCK_BOOTTIME, 0, d, 0, 1); }

static int tfd_real_abs(int64_t d) { return tfd_wait(CLOCK_REALTIME, TFD_TIMER_ABSTIME, d, 0, 1); }

static int tfd_periodic(int64_t d)
{
	return tfd_wait(CLOCK_MONOTONIC, 0, d / PERIODS, d / PERIODS, PERIODS);
}

/* ---- POSIX timers, itimers, alarm: signals waited for with sigwaitinfo ---- */

static int wait_signal(int sig)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, sig);
	return sigwaitinfo(&set, NULL) == sig ? 0 : -1;
}

static int posix_timer(clockid_t clk, int flags, int64_t value, int64_t interval,
		       int expirations)
{
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGRTMIN };
	struct itimerspec its = { ns_ts(interval), ns_ts(value) };
	timer_t t;
	int got = 0, ret = 0;

	if (timer_create(clk, &sev, &t))
		return -1;
	if (flags & TIMER_ABSTIME)
		its.it_value = ns_ts(now(clk) + value);
	if (timer_settime(t, flags, &its, NULL)) {
		ret = -1;
		goto out;
	}
	while (got < expirations) {
		if (wait_signal(SIGRTMIN)) {
			ret = -1;
			break;
		}
		got += 1 + timer_getoverrun(t);
	}
out:
	timer_delete(t);
	return ret;
}

static int ptimer_mono(int64_t d) { return posix_timer(CLOCK_MONOTONIC, 0, d, 0, 1); }

static int ptimer_real_abs(int64_t d)
{
	return posix_timer(CLOCK_REALTIME, TIMER_ABSTIME, d, 0, 1);
}

static int ptimer_periodic(int64_t d)
{
	return posix_timer(CLOCK_MONOTONIC, 0, d / PERIODS, d / PERIODS, PERIODS);
}

static int itimer_real(int64_t d)
{
	struct itimerval it = { { 0, 0 }, ns_tv(up_us(d)) };

	if (setitimer(ITIMER_REAL, &it, NULL))
		return -1;
	return wait_signal(SIGALRM);
}

static int itimer_periodic(int64_t d)
{
	struct itimerval it = { ns_tv(up_us(d / PERIODS)), ns_tv(up_us(d / PERIODS)) };
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	int i;

	if (setitimer(ITIMER_REAL, &it, NULL))
		return -1;
	for (i = 0; i < PERIODS; i++)
		if (wait_signal(SIGALRM))
			return -1;
	return setitimer(ITIMER_REAL, &off, NULL);
}

static int do_alarm(int64_t d)
{
	alarm(d / NSEC_PER_SEC);
	return wait_signal(SIGALRM);
}

/* ---- I/O multiplexing on a pipe nobody writes to ---- */

static int do_select(int64_t d)
{
	struct timeval tv = ns_tv(up_us(d));
	fd_set r;

	FD_ZERO(&r);
	FD_SET(idle_pipe[0], &r);
	return select(idle_pipe[0] + 1, &r, NULL, NULL, &tv) == 0 ? 0 : -1;
}

static int do_pselect(int64_t d)
{
	struct timespec ts = ns_ts(d);
	fd_set r;

	FD_ZERO(&r);
	FD_SET(idle_pipe[0], &r);
	return pselect(idle_pipe[0] + 1, &r, NULL, NULL, &ts, NULL) == 0 ? 0 : -1;
}

static int do_ppoll(int64_t d)
{
	struct pollfd p = { .fd = idle_pipe[0], .events = POLLIN };
	struct timespec ts = ns_ts(d);

	return ppoll(&p, 1, &ts, NULL) == 0 ? 0 : -1;
}

static int epoll_on_pipe(void)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int ep = epoll_create1(0);

	if (ep >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, idle_pipe[0], &ev)) {
		close(ep);
		return -1;
	}
	return ep;
}

static int do_epoll_wait(int64_t d)
{
	struct epoll_event ev;
	int ep = epoll_on_pipe(), n;

	if (ep < 0)
		return -1;
	n = epoll_wait(ep, &ev, 1, up_ms(d));
	close(ep);
	return n == 0 ? 0 : -1;
}

static int do_epoll_pwait2(int64_t d)
{
	struct epoll_event ev;
	struct timespec ts = ns_ts(d);
	int ep = epoll_on_pipe(), n;

	if (ep < 0)
		return -1;
	n = syscall(SYS_epoll_pwait2, ep, &ev, 1, &ts, NULL, 0);
	close(ep);
	return n == 0 ? 0 : -1;
}

/* ---- futexes and what is built on them ---- */

static uint32_t futex_word;

static int futex_rel(int64_t d)
{
	struct timespec ts = ns_ts(d);

	if (syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0) == 0)
		return -1;
	return errno == ETIMEDOUT ? 0 : -1;
}

static int futex_abs(int64_t d)
{
	struct timespec ts = ns_ts(now(CLOCK_MONOTONIC) + d);

	if (syscall(SYS_futex, &futex_word, FUTEX_WAIT_BITSET_PRIVATE, 0, &ts,
		    NULL, FUTEX_BITSET_MATCH_ANY) == 0)
		return -1;
	return errno == ETIMEDOUT ? 0 : -1;
}

static int cond_timedwait(int64_t d)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t c = PTHREAD_COND_INITIALIZER;
	struct timespec ts = ns_ts(now(CLOCK_REALTIME) + d);
	int ret;

	pthread_mutex_lock(&m);
	ret = pthread_cond_timedwait(&c, &m, &ts);
	pthread_mutex_unlock(&m);
	return ret == ETIMEDOUT ? 0 : -1;
}

static int cond_monotonic(int64_t d)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	pthread_condattr_t a;
	pthread_cond_t c;
	struct timespec ts = ns_ts(now(CLOCK_MONOTONIC) + d);
	int ret;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&c, &a);
	pthread_mutex_lock(&m);
	ret = pthread_cond_timedwait(&c, &m, &ts);
	pthread_mutex_unlock(&m);
	pthread_cond_destroy(&c);
	return ret == ETIMEDOUT ? 0 : -1;
}

static int do_sem_timedwait(int64_t d)
{
	struct timespec ts = ns_ts(now(CLOCK_REALTIME) + d);
	sem_t s;

	sem_init(&s, 0, 0);
	if (sem_timedwait(&s, &ts) == 0)
		return -1;
	return errno == ETIMEDOUT ? 0 : -1;
}

/* ---- signals and message queues ---- */

static int do_sigtimedwait(int64_t d)
{
	struct timespec ts = ns_ts(d);
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	if (sigtimedwait(&set, NULL, &ts) >= 0)
		return -1;
	return errno == EAGAIN ? 0 : -1;
}

static mqd_t open_queue(void)
{
	struct mq_attr attr = { .mq_maxmsg = 1, .mq_msgsize = 8 };
	mqd_t q;

	mq_unlink("/accel-timers");
	q = mq_open("/accel-timers", O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
	mq_unlink("/accel-timers");
	return q;
}

static int mq_receive_timeout(int64_t d)
{
	struct timespec ts = ns_ts(now(CLOCK_REALTIME) + d);
	char buf[8];
	mqd_t q = open_queue();
	int ret;

	if (q == (mqd_t)-1)
		return -1;
	ret = mq_timedreceive(q, buf, sizeof(buf), NULL, &ts);
	ret = (ret < 0 && errno == ETIMEDOUT) ? 0 : -1;
	mq_close(q);
	return ret;
}

static int mq_send_timeout(int64_t d)
{
	struct timespec ts;
	mqd_t q = open_queue();
	int ret = -1;

	if (q == (mqd_t)-1)
		return -1;
	/* One message fills the queue; the second must wait. */
	if (mq_send(q, "x", 1, 0) == 0) {
		ts = ns_ts(now(CLOCK_REALTIME) + d);
		ret = mq_timedsend(q, "y", 1, 0, &ts);
		ret = (ret < 0 && errno == ETIMEDOUT) ? 0 : -1;
	}
	mq_close(q);
	return ret;
}

/* ---- io_uring, through the raw system calls ---- */

static int uring_timeout(int64_t d)
{
	struct io_uring_params p = { 0 };
	struct __kernel_timespec ts = { d / NSEC_PER_SEC, d % NSEC_PER_SEC };
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
	unsigned int *sq_tail, *sq_array, *cq_head, *cq_tail;
	size_t sq_len, cq_len;
	void *sq, *cq;
	int fd, ret = -1;

	fd = syscall(SYS_io_uring_setup, 4, &p);
	if (fd < 0)
		return -1;
	sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned int);
	cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	sq = mmap(NULL, sq_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, IORING_OFF_SQ_RING);
	cq = mmap(NULL, cq_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, IORING_OFF_CQ_RING);
	sqes = mmap(NULL, p.sq_entries * sizeof(*sqes), PROT_READ | PROT_WRITE,
		    MAP_SHARED, fd, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED)
		goto out;
	sq_tail = (unsigned int *)((char *)sq + p.sq_off.tail);
	sq_array = (unsigned int *)((char *)sq + p.sq_off.array);
	cq_head = (unsigned int *)((char *)cq + p.cq_off.head);
	cq_tail = (unsigned int *)((char *)cq + p.cq_off.tail);
	cqes = (struct io_uring_cqe *)((char *)cq + p.cq_off.cqes);

	memset(&sqes[0], 0, sizeof(sqes[0]));
	sqes[0].opcode = IORING_OP_TIMEOUT;
	sqes[0].addr = (unsigned long)&ts;
	sqes[0].len = 1;
	sq_array[*sq_tail & (p.sq_entries - 1)] = 0;
	__atomic_store_n(sq_tail, *sq_tail + 1, __ATOMIC_RELEASE);
	if (syscall(SYS_io_uring_enter, fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0)
		goto out;
	if (__atomic_load_n(cq_tail, __ATOMIC_ACQUIRE) == *cq_head)
		goto out;
	ret = cqes[*cq_head & (p.cq_entries - 1)].res == -ETIME ? 0 : -1;
out:
	close(fd);
	return ret;
}

/* ---- socket timeouts ---- */

static int so_sndtimeo(int64_t d)
{
	struct timeval tv = ns_tv(up_us(d));
	static char buf[4096];
	int sv[2], ret = -1;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return -1;
	/* Fill the peer's buffer without blocking, then block on a full one. */
	while (send(sv[0], buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	if (!setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) &&
	    send(sv[0], buf, sizeof(buf), 0) < 0 && errno == EAGAIN)
		ret = 0;
	close(sv[0]);
	close(sv[1]);
	return ret;
}

static const struct kind kinds[] = {
	{ "nanosleep", CLOCK_MONOTONIC, do_nanosleep },
	{ "clock_nanosleep MONOTONIC relative", CLOCK_MONOTONIC, cns_mono_rel },
	{ "clock_nanosleep MONOTONIC absolute", CLOCK_MONOTONIC, cns_mono_abs },
	{ "clock_nanosleep REALTIME relative", CLOCK_REALTIME, cns_real_rel },
	{ "clock_nanosleep REALTIME absolute", CLOCK_REALTIME, cns_real_abs },
	{ "clock_nanosleep BOOTTIME relative", CLOCK_BOOTTIME, cns_boot_rel },
	{ "clock_nanosleep BOOTTIME absolute", CLOCK_BOOTTIME, cns_boot_abs },
	{ "clock_nanosleep TAI relative", CLOCK_TAI, cns_tai_rel },
	{ "clock_nanosleep TAI absolute", CLOCK_TAI, cns_tai_abs },
	{ "timerfd MONOTONIC one-shot", CLOCK_MONOTONIC, tfd_mono },
	{ "timerfd BOOTTIME one-shot", CLOCK_BOOTTIME, tfd_boot },
	{ "timerfd REALTIME absolute", CLOCK_REALTIME, tfd_real_abs },
	{ "timerfd MONOTONIC periodic", CLOCK_MONOTONIC, tfd_periodic },
	{ "POSIX timer MONOTONIC one-shot", CLOCK_MONOTONIC, ptimer_mono },
	{ "POSIX timer REALTIME absolute", CLOCK_REALTIME, ptimer_real_abs },
	{ "POSIX timer MONOTONIC periodic", CLOCK_MONOTONIC, ptimer_periodic },
	{ "setitimer ITIMER_REAL one-shot", CLOCK_MONOTONIC, itimer_real },
	{ "setitimer ITIMER_REAL periodic", CLOCK_MONOTONIC, itimer_periodic },
	{ "alarm", CLOCK_MONOTONIC, do_alarm, true },
	{ "select", CLOCK_MONOTONIC, do_select },
	{ "pselect", CLOCK_MONOTONIC, do_pselect },
	{ "poll", CLOCK_MONOTONIC, do_poll },
	{ "ppoll", CLOCK_MONOTONIC, do_ppoll },
	{ "epoll_wait", CLOCK_MONOTONIC, do_epoll_wait },
	{ "epoll_pwait2", CLOCK_MONOTONIC, do_epoll_pwait2 },
	{ "futex FUTEX_WAIT relative", CLOCK_MONOTONIC, futex_rel },
	{ "futex FUTEX_WAIT_BITSET absolute", CLOCK_MONOTONIC, futex_abs },
	{ "pthread_cond_timedwait REALTIME", CLOCK_REALTIME, cond_timedwait },
	{ "pthread_cond_timedwait MONOTONIC", CLOCK_MONOTONIC, cond_monotonic },
	{ "sem_timedwait", CLOCK_REALTIME, do_sem_timedwait },
	{ "sigtimedwait", CLOCK_MONOTONIC, do_sigtimedwait },
	{ "mq_timedreceive", CLOCK_REALTIME, mq_receive_timeout },
	{ "mq_timedsend", CLOCK_REALTIME, mq_send_timeout },
	{ "io_uring IORING_OP_TIMEOUT", CLOCK_MONOTONIC, uring_timeout },
	{ "SO_RCVTIMEO", CLOCK_MONOTONIC, so_rcvtimeo, .jiffies = true },
	{ "SO_SNDTIMEO", CLOCK_MONOTONIC, so_sndtimeo, .jiffies = true },
};
#define NR_KINDS	((int)(sizeof(kinds) / sizeof(kinds[0])))

/* Median real lateness of each kind at R=1, the reference of R > 1. */
static int64_t late_r1[NR_KINDS];

/*
 * Spin until the next tick: the coarse clock is what the tick stores, and
 * the tick updates jiffies just before it. Jiffies are then fresh, however
 * late this tick came.
 */
static void after_tick(void)
{
	int64_t last = now(CLOCK_MONOTONIC_COARSE);

	while (now(CLOCK_MONOTONIC_COARSE) == last)
		;
}

/*
 * Run kind @i REPS times at ratio @r and judge it; at R=1, record its
 * median real lateness (past the real time the wait should take).
 */
static void check_kind(int i, int r, int64_t tick)
{
	const struct kind *k = &kinds[i];
	int64_t d = r * BASE_REAL_NS, want_real, a0, a1, t0, t1;
	int64_t late[REPS], acc_min = INT64_MAX, real_min = INT64_MAX, bound;
	bool ret_failed = false, ok;
	int rep;

	/* alarm() counts whole seconds: ask for the next whole second. */
	if (k->whole_seconds)
		d = (d + NSEC_PER_SEC - 1) / NSEC_PER_SEC * NSEC_PER_SEC;
	want_real = d / r;

	for (rep = 0; rep < REPS; rep++) {
		/* See the head comment: at R=1 a late tick leaves jiffies stale */
		if (r == 1 && k->jiffies)
			after_tick();
		t0 = raw_ns();
		a0 = now(k->clock);
		if (k->fn(d))
			ret_failed = true;
		a1 = now(k->clock);
		t1 = raw_ns();
		acc_min = a1 - a0 < acc_min ? a1 - a0 : acc_min;
		real_min = t1 - t0 < real_min ? t1 - t0 : real_min;
		late[rep] = t1 - t0 - want_real;
	}
	sort_i64(late, REPS);
	if (r == 1) {
		late_r1[i] = late[REPS / 2] > 0 ? late[REPS / 2] : 0;
		bound = LATE_REAL_NS;
	} else {
		bound = LATE_FACTOR * late_r1[i] + tick;
	}
	ok = !ret_failed && acc_min >= d && real_min >= want_real * 99 / 100 &&
	     late[REPS / 2] <= bound;
	ksft_test_result(ok, "R=%d %s: shortest of %d waits %.6f s accelerated (want >= %.6f), %.2f ms real (want >= %.2f); median lateness %.2f ms real (want <= %.2f%s)%s\n",
			 r, k->name, REPS, acc_min / 1e9, d / 1e9, real_min / 1e6,
			 want_real * 0.99 / 1e6, late[REPS / 2] / 1e6, bound / 1e6,
			 r == 1 ? ", sanity bound" : ": R=1's x2 + a tick",
			 ret_failed ? "; a call failed" : "");
}

int main(void)
{
	sigset_t set;
	int64_t tick;
	int i, j;

	ksft_print_header();
	ksft_set_plan(NR_RATIOS * NR_KINDS);
	accel_require();

	/* Timer signals are taken with sigwaitinfo, never delivered. */
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	sigaddset(&set, SIGRTMIN);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (pipe(idle_pipe))
		ksft_exit_fail_msg("pipe: %s\n", strerror(errno));

	tick = tick_ns();
	/* R=1 comes first: it is the reference of every other ratio. */
	for (i = 0; i < NR_RATIOS; i++) {
		accel_set(accel_ratios[i]);
		for (j = 0; j < NR_KINDS; j++)
			check_kind(j, accel_ratios[i], tick);
	}
	accel_set(1);
	ksft_finished();
}
