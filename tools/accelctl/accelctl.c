// SPDX-License-Identifier: GPL-2.0
/*
 * accelctl - look at and change the dynaccel time ratio (kernel.accel).
 *
 *   accelctl [OPTIONS] [status [--json]]
 *   accelctl [OPTIONS] get
 *   accelctl [OPTIONS] set RATIO
 *   accelctl [OPTIONS] run [--force] RATIO -- COMMAND [ARGS...]
 *   accelctl [OPTIONS] reset [--wall-clock]
 *
 * A dynaccel kernel runs every clock a program can see (except
 * CLOCK_MONOTONIC_RAW and the hardware RTC) R times faster than real time,
 * R being the integer in /proc/sys/kernel/accel. This tool is the friendly
 * face of that one file: it validates ratios before the kernel sees them,
 * maps every failure to one message and one exit status (see accelctl(8)),
 * and runs a command at a ratio with the old ratio restored afterwards.
 *
 * Only libc is used, and the binary is linked statically, so that it can be
 * dropped into a minimal busybox initramfs as it is.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/rtc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef ACCELCTL_VERSION
#define ACCELCTL_VERSION	"0.1"
#endif

#define PROG			"accelctl"
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define RATIO_MIN		1
#define RATIO_MAX		1000

#define DEFAULT_SYSCTL		"/proc/sys/kernel/accel"
#define DEFAULT_RTC		"/dev/rtc0"
#define DEFAULT_LOCK		"/run/accelctl.lock"

/*
 * Exit statuses. Each class of failure has its own, so that scripts can
 * tell "wrong kernel" from "not root" from "someone else is running"
 * without parsing messages. accelctl(8) documents the same table.
 */
enum {
	EXIT_OK		= 0,
	EXIT_FAIL	= 1,	/* anything not listed below */
	EXIT_USAGE	= 2,	/* bad option, bad ratio, missing command */
	EXIT_NOACCEL	= 3,	/* the kernel has no kernel.accel */
	EXIT_PERM	= 4,	/* not allowed to change the ratio/clock */
	EXIT_LOCKED	= 5,	/* another "run" holds the lock */
	EXIT_NOEXEC	= 126,	/* run: command found but not executable */
	EXIT_NOTFOUND	= 127,	/* run: command not found */
};

enum command {
	CMD_STATUS,
	CMD_GET,
	CMD_SET,
	CMD_RUN,
	CMD_RESET,
};

struct config {
	const char *sysctl;	/* the kernel.accel file */
	const char *rtc;	/* the RTC device */
	const char *lock;	/* the lock file of "run" */
	bool json;
	bool force;
	bool wall_clock;
};

/* One line on stderr, always prefixed, as the man page promises. */
static void __attribute__((format(printf, 1, 2))) msg(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int usage_error(const char *what)
{
	msg("%s; try '" PROG " --help'", what);
	return EXIT_USAGE;
}

static int bad_ratio(void)
{
	msg("ratio must be an integer from %d to %d", RATIO_MIN, RATIO_MAX);
	return EXIT_USAGE;
}

static void print_help(void)
{
	printf("Usage: " PROG " [OPTIONS] [COMMAND]\n"
	       "\n"
	       "Look at and change the dynaccel time ratio (kernel.accel).\n"
	       "\n"
	       "Commands:\n"
	       "  status [--json]        ratio, real and accelerated time since boot,\n"
	       "                         wall clock against the RTC (the default)\n"
	       "  get                    print the ratio\n"
	       "  set RATIO              set the ratio (%d..%d)\n"
	       "  run [--force] RATIO -- COMMAND [ARGS...]\n"
	       "                         run COMMAND at RATIO, then restore the ratio\n"
	       "  reset [--wall-clock]   ratio 1; with --wall-clock also set the wall\n"
	       "                         clock back to the RTC's (real) time\n"
	       "\n"
	       "Options:\n"
	       "  -j, --json             status: one JSON object\n"
	       "  -f, --force            run: go on even if another run holds the lock\n"
	       "  -w, --wall-clock       reset: also reset the wall clock from the RTC\n"
	       "      --sysctl-path FILE the kernel.accel file (%s)\n"
	       "      --rtc-device DEV   the RTC device (%s)\n"
	       "      --lock-file FILE   the lock file of run (%s)\n"
	       "  -h, --help             this help\n"
	       "  -V, --version          the version\n"
	       "\n"
	       "Exit status: 0 ok, 1 failure, 2 usage, 3 no kernel.accel, 4 permission,\n"
	       "5 lock held; run exits with COMMAND's status. See accelctl(8).\n",
	       RATIO_MIN, RATIO_MAX, DEFAULT_SYSCTL, DEFAULT_RTC, DEFAULT_LOCK);
}

/*
 * Strict ratio parsing: decimal digits only. strtoul() would accept
 * leading blanks, a sign and trailing junk, and wrap "-5" to a huge value;
 * the kernel rejects those too, but we want the clear message and exit
 * status 2 before anything is written. Digits are accumulated with a cap so
 * that a 30-digit string cannot overflow.
 */
static bool parse_ratio(const char *s, unsigned int *out)
{
	unsigned int v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned int)(*s - '0');
		if (v > RATIO_MAX)
			return false;
	}
	if (v < RATIO_MIN)
		return false;
	*out = v;
	return true;
}

/* Map an errno from opening or writing the sysctl to our exit classes. */
static int sysctl_error(const struct config *cfg, int err, const char *what)
{
	switch (err) {
	case ENOENT:
	case ENOTDIR:
		msg("this kernel has no dynamic acceleration; boot a dynaccel kernel");
		return EXIT_NOACCEL;
	case EPERM:
	case EACCES:
		msg("changing the time ratio needs CAP_SYS_TIME; run as root");
		return EXIT_PERM;
	case EROFS:
		/* Containers mount /proc/sys read-only: also a permission matter. */
		msg("%s is read-only here (a container?); changing the time ratio needs CAP_SYS_TIME on the host",
		    cfg->sysctl);
		return EXIT_PERM;
	default:
		msg("cannot %s %s: %s", what, cfg->sysctl, strerror(err));
		return EXIT_FAIL;
	}
}

/* Read the current ratio; the kernel prints it as "R\n". */
static int read_ratio(const struct config *cfg, unsigned int *ratio)
{
	char buf[32];
	ssize_t n;
	int fd;

	fd = open(cfg->sysctl, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		/* Reading is not privileged; EACCES is odd, not "need root". */
		if (errno == EACCES || errno == EPERM) {
			msg("cannot read %s: %s", cfg->sysctl, strerror(errno));
			return EXIT_PERM;
		}
		return sysctl_error(cfg, errno, "read");
	}
	do
		n = read(fd, buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int err = errno;

		close(fd);
		return sysctl_error(cfg, err, "read");
	}
	close(fd);
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	if (!parse_ratio(buf, ratio)) {
		msg("unexpected contents in %s: '%s'", cfg->sysctl, buf);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/*
 * Write a ratio that parse_ratio() accepted. We write our own rendering of
 * the number, not the user's string, so the kernel sees plain decimal.
 * O_TRUNC is meaningless for procfs but makes a regular test file hold the
 * new value alone. One write() call: procfs sysctls parse each write on its
 * own, and a short write would leave a half number.
 */
static int write_ratio(const struct config *cfg, unsigned int ratio)
{
	char buf[16];
	ssize_t n;
	int len, fd;

	len = snprintf(buf, sizeof(buf), "%u\n", ratio);
	fd = open(cfg->sysctl, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return sysctl_error(cfg, errno, "open");
	do
		n = write(fd, buf, (size_t)len);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int err = errno;

		close(fd);
		if (err == EINVAL) {
			msg("the kernel refused ratio %u", ratio);
			return EXIT_FAIL;
		}
		return sysctl_error(cfg, err, "write");
	}
	if (n != len) {
		close(fd);
		msg("short write to %s", cfg->sysctl);
		return EXIT_FAIL;
	}
	if (close(fd) < 0)
		return sysctl_error(cfg, errno, "write");
	return EXIT_OK;
}

/* ---- RTC ---------------------------------------------------------------- */

/* Read the RTC once; it keeps UTC, so timegm() gives seconds since epoch. */
static int rtc_read_fd(int fd, time_t *t)
{
	struct rtc_time rt;
	struct tm tm;

	memset(&rt, 0, sizeof(rt));
	if (ioctl(fd, RTC_RD_TIME, &rt) < 0)
		return -errno;
	memset(&tm, 0, sizeof(tm));
	tm.tm_sec = rt.tm_sec;
	tm.tm_min = rt.tm_min;
	tm.tm_hour = rt.tm_hour;
	tm.tm_mday = rt.tm_mday;
	tm.tm_mon = rt.tm_mon;
	tm.tm_year = rt.tm_year;
	*t = timegm(&tm);
	if (*t == (time_t)-1)
		return -EINVAL;
	return 0;
}

/* Open the RTC and read it; a negative errno when it cannot be read. */
static int rtc_read(const struct config *cfg, time_t *t)
{
	int fd, ret;

	fd = open(cfg->rtc, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = rtc_read_fd(fd, t);
	close(fd);
	return ret;
}

static double raw_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * The RTC counts whole seconds. Reading it at a random moment leaves up to
 * a second of doubt; waiting for its seconds to tick over pins the real
 * time to a few milliseconds. The wait is bounded in real seconds
 * (CLOCK_MONOTONIC_RAW) so that a stopped RTC cannot hang us; nanosleep()
 * may run accelerated, which only makes the polling finer.
 * Returns true when the edge was seen (*t is then exact to the poll step).
 */
static bool rtc_wait_edge(int fd, time_t *t)
{
	const struct timespec step = { 0, 2 * 1000 * 1000 };	/* 2 ms */
	double end = raw_seconds() + 1.5;
	time_t first, now;

	if (rtc_read_fd(fd, &first) < 0)
		return false;
	*t = first;
	while (raw_seconds() < end) {
		nanosleep(&step, NULL);
		if (rtc_read_fd(fd, &now) < 0)
			return false;
		if (now != first) {
			*t = now;
			return true;
		}
	}
	return false;
}

/* ---- status ------------------------------------------------------------- */

static void fmt_utc(char *buf, size_t len, time_t t)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(buf, len, "%lld", (long long)t);
}

/* "3d 04h 05m 06s": seconds since boot get unreadable past a few hours. */
static void fmt_duration(char *buf, size_t len, long long s)
{
	long long d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60;

	if (d)
		snprintf(buf, len, "%lldd %02lldh %02lldm %02llds", d, h, m, s % 60);
	else if (h)
		snprintf(buf, len, "%lldh %02lldm %02llds", h, m, s % 60);
	else if (m)
		snprintf(buf, len, "%lldm %02llds", m, s % 60);
	else
		snprintf(buf, len, "%llds", s);
}

/* JSON strings: paths and strerror() texts are the only ones we emit. */
static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

struct status {
	unsigned int ratio;
	struct timespec raw;	/* CLOCK_MONOTONIC_RAW: real since boot */
	struct timespec boot;	/* CLOCK_BOOTTIME: accelerated since boot */
	struct timespec wall;	/* CLOCK_REALTIME */
	time_t rtc;
	int rtc_err;		/* 0 when rtc is valid, else an errno */
};

/*
 * The wall clock is ahead by REALTIME minus RTC. The RTC truncates to the
 * second, so comparing whole seconds keeps the result within +-1 s without
 * pretending to more precision than the RTC has.
 */
static long long wall_ahead(const struct status *st)
{
	return (long long)st->wall.tv_sec - (long long)st->rtc;
}

static void status_json(const struct config *cfg, const struct status *st)
{
	printf("{\"ratio\":%u,", st->ratio);
	printf("\"real_since_boot_s\":%lld.%09ld,",
	       (long long)st->raw.tv_sec, st->raw.tv_nsec);
	printf("\"accel_since_boot_s\":%lld.%09ld,",
	       (long long)st->boot.tv_sec, st->boot.tv_nsec);
	printf("\"wall_clock_s\":%lld.%09ld,",
	       (long long)st->wall.tv_sec, st->wall.tv_nsec);
	printf("\"rtc_device\":");
	json_string(cfg->rtc);
	if (st->rtc_err) {
		printf(",\"rtc_s\":null,\"wall_clock_ahead_s\":null,\"rtc_error\":");
		json_string(strerror(st->rtc_err));
	} else {
		printf(",\"rtc_s\":%lld,\"wall_clock_ahead_s\":%lld,\"rtc_error\":null",
		       (long long)st->rtc, wall_ahead(st));
	}
	printf("}\n");
}

static void status_text(const struct config *cfg, const struct status *st)
{
	char a[64], b[64];

	printf("ratio:                     %u\n", st->ratio);
	fmt_duration(a, sizeof(a), (long long)st->raw.tv_sec);
	printf("real time since boot:      %lld.%03ld s (%s, CLOCK_MONOTONIC_RAW)\n",
	       (long long)st->raw.tv_sec, st->raw.tv_nsec / 1000000, a);
	fmt_duration(a, sizeof(a), (long long)st->boot.tv_sec);
	printf("accel. time since boot:    %lld.%03ld s (%s, CLOCK_BOOTTIME)\n",
	       (long long)st->boot.tv_sec, st->boot.tv_nsec / 1000000, a);
	fmt_utc(a, sizeof(a), st->wall.tv_sec);
	printf("wall clock:                %s\n", a);
	if (st->rtc_err) {
		printf("RTC:                       unknown (%s: %s)\n",
		       cfg->rtc, strerror(st->rtc_err));
		printf("wall clock ahead of RTC:   unknown\n");
		return;
	}
	fmt_utc(a, sizeof(a), st->rtc);
	printf("RTC:                       %s (%s)\n", a, cfg->rtc);
	fmt_duration(b, sizeof(b), llabs(wall_ahead(st)));
	printf("wall clock ahead of RTC:   %lld s (%s%s)\n", wall_ahead(st),
	       wall_ahead(st) < 0 ? "behind by " : "", b);
}

static int cmd_status(const struct config *cfg)
{
	struct status st;
	int ret;

	memset(&st, 0, sizeof(st));
	ret = read_ratio(cfg, &st.ratio);
	if (ret)
		return ret;
	/* The RTC first, then REALTIME at once: the two must be close. */
	st.rtc_err = -rtc_read(cfg, &st.rtc);
	clock_gettime(CLOCK_REALTIME, &st.wall);
	clock_gettime(CLOCK_MONOTONIC_RAW, &st.raw);
	clock_gettime(CLOCK_BOOTTIME, &st.boot);
	if (cfg->json)
		status_json(cfg, &st);
	else
		status_text(cfg, &st);
	return EXIT_OK;
}

/* ---- get / set / reset -------------------------------------------------- */

static int cmd_get(const struct config *cfg)
{
	unsigned int ratio;
	int ret;

	ret = read_ratio(cfg, &ratio);
	if (!ret)
		printf("%u\n", ratio);
	return ret;
}

static int cmd_set(const struct config *cfg, unsigned int ratio)
{
	return write_ratio(cfg, ratio);
}

/*
 * reset --wall-clock: the RTC is read before anything changes, so that an
 * unreadable RTC leaves the machine as it was. Then the ratio goes to 1
 * (the wall clock must stop running ahead before we set it), then the wall
 * clock is set to the RTC's time at the next tick of its seconds.
 */
static int reset_wall_clock(const struct config *cfg)
{
	struct timespec ts = { 0, 0 };
	time_t rtc;
	bool edge;
	int fd, ret;

	fd = open(cfg->rtc, O_RDONLY | O_CLOEXEC);
	ret = fd < 0 ? -errno : rtc_read_fd(fd, &rtc);
	if (ret < 0) {
		msg("cannot read the RTC %s: %s; nothing changed", cfg->rtc,
		    strerror(-ret));
		if (fd >= 0)
			close(fd);
		return EXIT_FAIL;
	}
	ret = write_ratio(cfg, 1);
	if (ret) {
		close(fd);
		return ret;
	}
	edge = rtc_wait_edge(fd, &rtc);
	close(fd);
	ts.tv_sec = rtc;
	/* Without the edge, the middle of the second is the best guess. */
	ts.tv_nsec = edge ? 0 : 500 * 1000 * 1000;
	if (clock_settime(CLOCK_REALTIME, &ts) < 0) {
		if (errno == EPERM || errno == EACCES) {
			msg("setting the wall clock needs CAP_SYS_TIME; run as root");
			return EXIT_PERM;
		}
		msg("cannot set the wall clock: %s", strerror(errno));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

static int cmd_reset(const struct config *cfg)
{
	unsigned int ratio;
	int ret;

	/* Tell "no kernel.accel" (3) apart before touching anything. */
	ret = read_ratio(cfg, &ratio);
	if (ret)
		return ret;
	if (cfg->wall_clock)
		return reset_wall_clock(cfg);
	return write_ratio(cfg, 1);
}

/* ---- run ---------------------------------------------------------------- */

/*
 * Find out before changing the ratio whether COMMAND can be run at all, so
 * that a typo does not flip the machine's time speed for nothing. Same
 * rules and statuses as the shell: with a '/' the path itself, else a PATH
 * search; 127 when missing, 126 when present but not executable.
 */
static int check_command(const char *cmd)
{
	const char *path, *p, *colon;
	char buf[4096];
	struct stat sb;

	if (strchr(cmd, '/')) {
		int err = 0;

		if (stat(cmd, &sb) < 0)
			err = errno;
		else if (S_ISDIR(sb.st_mode))
			err = EISDIR;
		else if (access(cmd, X_OK) < 0)
			err = errno;
		if (!err)
			return EXIT_OK;
		msg("%s: %s", cmd, strerror(err));
		return err == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC;
	}
	path = getenv("PATH");
	if (!path)
		path = "/bin:/usr/bin";	/* what execvp() uses then */
	for (p = path; ; p = colon + 1) {
		size_t len;

		colon = strchrnul(p, ':');
		len = (size_t)(colon - p);
		/* An empty PATH element means the current directory. */
		if (snprintf(buf, sizeof(buf), "%.*s%s%s", (int)len, p,
			     len ? "/" : "./", cmd) < (int)sizeof(buf) &&
		    stat(buf, &sb) == 0 && S_ISREG(sb.st_mode) &&
		    access(buf, X_OK) == 0)
			return EXIT_OK;
		if (!*colon)
			break;
	}
	msg("%s: command not found", cmd);
	return EXIT_NOTFOUND;
}

/* The pid of the other run, from the lock file, for the message. */
static long lock_owner(int fd)
{
	char buf[32];
	ssize_t n;

	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

/*
 * Two runs at once would each restore "their" previous ratio, and the one
 * ending last would win, possibly with the other's ratio. So only one run
 * at a time: an exclusive flock() on the lock file, released by the kernel
 * when we exit, however we exit (so no stale locks after a crash). The fd
 * is close-on-exec, so COMMAND does not hold the lock after we are gone.
 * *fdp is -1 when we go on without the lock (--force).
 */
static int take_lock(const struct config *cfg, int *fdp)
{
	char buf[32];
	int fd, len;

	*fdp = -1;
	fd = open(cfg->lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		int err = errno;

		msg("cannot open lock file %s: %s", cfg->lock, strerror(err));
		return err == EACCES || err == EPERM ? EXIT_PERM : EXIT_FAIL;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		long pid;

		if (errno != EWOULDBLOCK) {
			msg("cannot lock %s: %s", cfg->lock, strerror(errno));
			close(fd);
			return EXIT_FAIL;
		}
		pid = lock_owner(fd);
		close(fd);
		if (cfg->force) {
			msg("warning: another run (pid %ld) holds %s; going on (--force)",
			    pid, cfg->lock);
			return EXIT_OK;
		}
		msg("another 'accelctl run' (pid %ld) is active (lock %s); wait for it or use --force",
		    pid, cfg->lock);
		return EXIT_LOCKED;
	}
	/* Our pid in the file, only to name us in the other run's message. */
	len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)len, 0) != len)
		msg("warning: cannot write pid to %s: %s", cfg->lock,
		    strerror(errno));
	*fdp = fd;
	return EXIT_OK;
}

static volatile sig_atomic_t child_pid;

/*
 * SIGINT/SIGTERM/SIGHUP to us: pass it on to COMMAND and let the main loop
 * wait for COMMAND to end and restore the ratio. A signal the kernel sent
 * to our whole process group (Ctrl-C, terminal hangup: si_code SI_KERNEL)
 * has reached COMMAND already; sending it again would make it see two.
 */
static void on_signal(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;

	(void)uc;
	if (child_pid > 0 && si->si_code != SI_KERNEL)
		kill((pid_t)child_pid, sig);
	errno = saved;
}

static const int fwd_signals[] = { SIGINT, SIGTERM, SIGHUP };
#define NR_FWD	ARRAY_SIZE(fwd_signals)

struct sigstate {
	sigset_t oldmask;
	struct sigaction old[NR_FWD];
};

/*
 * Catch the signals before the ratio changes, and keep them blocked until
 * the child's pid is known: a signal in between stays pending and is
 * forwarded as soon as there is someone to forward it to.
 * A SIGHUP ignored on entry (nohup) stays ignored, for us and COMMAND.
 * SIGINT is caught even when ignored on entry: non-interactive shells
 * ignore it in background jobs, and "kill -INT" must still stop the run.
 */
static void catch_signals(struct sigstate *ss)
{
	struct sigaction sa;
	sigset_t set;
	size_t i;

	sigemptyset(&set);
	for (i = 0; i < NR_FWD; i++)
		sigaddset(&set, fwd_signals[i]);
	sigprocmask(SIG_BLOCK, &set, &ss->oldmask);

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO;	/* no SA_RESTART: waitid() must wake */
	sigfillset(&sa.sa_mask);
	for (i = 0; i < NR_FWD; i++) {
		sigaction(fwd_signals[i], NULL, &ss->old[i]);
		if (fwd_signals[i] == SIGHUP && ss->old[i].sa_handler == SIG_IGN)
			continue;
		sigaction(fwd_signals[i], &sa, NULL);
	}
}

/*
 * In the child, before exec: default actions again (a forwarded signal
 * arriving before exec must kill it, not run our handler in the child),
 * keep an inherited SIG_IGN for SIGHUP, then unblock.
 */
static void child_signals(const struct sigstate *ss)
{
	size_t i;

	for (i = 0; i < NR_FWD; i++) {
		if (fwd_signals[i] == SIGHUP && ss->old[i].sa_handler == SIG_IGN)
			continue;
		signal(fwd_signals[i], SIG_DFL);
	}
	sigprocmask(SIG_SETMASK, &ss->oldmask, NULL);
}

/* Like the shell: the exit status, or 128+N when killed by signal N. */
static int child_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return EXIT_FAIL;
}

/*
 * Wait for the child without reaping it first (WNOWAIT): while it is a
 * zombie its pid cannot be reused, so the signal handler can never hit an
 * unrelated process. Signals are blocked before child_pid is cleared and
 * the zombie reaped.
 */
static int wait_child(pid_t pid, const struct sigstate *ss)
{
	siginfo_t si;
	sigset_t all;
	int status = 0;

	for (;;) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == 0)
			break;
		if (errno != EINTR) {
			msg("waiting for the command: %s", strerror(errno));
			break;
		}
	}
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	child_pid = 0;
	sigprocmask(SIG_SETMASK, &ss->oldmask, NULL);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			msg("waiting for the command: %s", strerror(errno));
			return EXIT_FAIL;
		}
	}
	return child_status(status);
}

static int cmd_run(const struct config *cfg, unsigned int ratio, char **argv)
{
	struct sigstate ss;
	unsigned int prev;
	int ret, status, lock_fd;
	pid_t pid;

	/* Order: wrong kernel, bad command, lock, and only then change. */
	ret = read_ratio(cfg, &prev);
	if (ret)
		return ret;
	ret = check_command(argv[0]);
	if (ret)
		return ret;
	ret = take_lock(cfg, &lock_fd);
	if (ret)
		return ret;
	catch_signals(&ss);
	/* Read again under the lock: this is the value to restore. */
	ret = read_ratio(cfg, &prev);
	if (!ret)
		ret = write_ratio(cfg, ratio);
	if (ret)
		return ret;	/* the command does not run */

	fflush(NULL);	/* or buffered output would be written twice */
	pid = fork();
	if (pid < 0) {
		msg("cannot fork: %s", strerror(errno));
		write_ratio(cfg, prev);
		return EXIT_FAIL;
	}
	if (pid == 0) {
		child_signals(&ss);
		execvp(argv[0], argv);
		msg("cannot run %s: %s", argv[0], strerror(errno));
		_exit(errno == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC);
	}
	child_pid = pid;
	/* Unblock: signals that came meanwhile are forwarded now. */
	sigprocmask(SIG_SETMASK, &ss.oldmask, NULL);

	status = wait_child(pid, &ss);

	/* A failed restore matters more than COMMAND's status. */
	if (write_ratio(cfg, prev)) {
		msg("could not restore ratio %u; the ratio is still %u",
		    prev, ratio);
		return EXIT_FAIL;
	}
	if (lock_fd >= 0)
		close(lock_fd);
	return status;
}

/* ---- command line ------------------------------------------------------- */

enum {
	OPT_SYSCTL = 0x100,
	OPT_RTC,
	OPT_LOCK,
};

static const struct option long_opts[] = {
	{ "help",		no_argument,		NULL, 'h' },
	{ "version",		no_argument,		NULL, 'V' },
	{ "json",		no_argument,		NULL, 'j' },
	{ "force",		no_argument,		NULL, 'f' },
	{ "wall-clock",		no_argument,		NULL, 'w' },
	{ "sysctl-path",	required_argument,	NULL, OPT_SYSCTL },
	{ "rtc-device",		required_argument,	NULL, OPT_RTC },
	{ "lock-file",		required_argument,	NULL, OPT_LOCK },
	{ NULL,			0,			NULL, 0 },
};

/*
 * Does this word take the next word as its argument? Needed to find the
 * "--" that ends our options without mistaking "--lock-file --" for it.
 * getopt_long() accepts unambiguous abbreviations, so we do too.
 */
static bool takes_next_arg(const char *a)
{
	const struct option *o;
	size_t len;

	if (strncmp(a, "--", 2) || !a[2] || strchr(a, '='))
		return false;
	len = strlen(a + 2);
	for (o = long_opts; o->name; o++)
		if (o->has_arg == required_argument && !strncmp(o->name, a + 2, len))
			return true;
	return false;
}

/* Environment defaults, an empty variable counting as unset. */
static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

static int parse_command(const char *name, enum command *cmd)
{
	static const struct { const char *name; enum command cmd; } cmds[] = {
		{ "status", CMD_STATUS }, { "get", CMD_GET }, { "set", CMD_SET },
		{ "run", CMD_RUN }, { "reset", CMD_RESET },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		if (!strcmp(name, cmds[i].name)) {
			*cmd = cmds[i].cmd;
			return EXIT_OK;
		}
	}
	msg("unknown command '%s'; try '" PROG " --help'", name);
	return EXIT_USAGE;
}

/* Options that belong to one command only are refused elsewhere. */
static int check_option_use(const struct config *cfg, enum command cmd)
{
	if (cfg->json && cmd != CMD_STATUS)
		return usage_error("--json only goes with status");
	if (cfg->force && cmd != CMD_RUN)
		return usage_error("--force only goes with run");
	if (cfg->wall_clock && cmd != CMD_RESET)
		return usage_error("--wall-clock only goes with reset");
	return EXIT_OK;
}

/* What is left once the options are parsed. */
struct args {
	char **pos;		/* words before "--", command name first */
	int npos;
	char **tail;		/* words after "--" */
	int ntail;
	bool dashdash;		/* was there a "--" at all */
};

static int dispatch_run(const struct config *cfg, const struct args *a)
{
	unsigned int ratio;
	char **cmdv;

	if (a->npos < 2)
		return usage_error("run needs a ratio and a command: run RATIO -- COMMAND [ARGS...]");
	if (!parse_ratio(a->pos[1], &ratio))
		return bad_ratio();
	if (a->dashdash) {
		if (a->npos > 2)
			return usage_error("put the command after '--'");
		cmdv = a->tail;
	} else {
		cmdv = a->pos + 2;
	}
	if (!cmdv[0])
		return usage_error("missing command after '--'");
	return cmd_run(cfg, ratio, cmdv);
}

static int dispatch(const struct config *cfg, const struct args *a)
{
	enum command cmd = CMD_STATUS;
	unsigned int ratio;
	int nargs, ret;

	if (a->npos > 0) {
		ret = parse_command(a->pos[0], &cmd);
		if (ret)
			return ret;
	}
	ret = check_option_use(cfg, cmd);
	if (ret)
		return ret;
	if (cmd == CMD_RUN)
		return dispatch_run(cfg, a);

	/* The others take their operands from both sides of "--". */
	nargs = (a->npos > 0 ? a->npos - 1 : 0) + a->ntail;
	if (a->npos == 0 && a->ntail > 0)
		return usage_error("a command comes before '--'");
	if (cmd == CMD_SET) {
		if (nargs != 1)
			return usage_error("set needs exactly one ratio");
		if (!parse_ratio(a->npos > 1 ? a->pos[1] : a->tail[0], &ratio))
			return bad_ratio();
		return cmd_set(cfg, ratio);
	}
	if (nargs)
		return usage_error("too many arguments");
	if (cmd == CMD_GET)
		return cmd_get(cfg);
	if (cmd == CMD_RESET)
		return cmd_reset(cfg);
	return cmd_status(cfg);
}

/*
 * "-5" as a ratio reaches getopt as an option; say what is really wrong.
 * Otherwise name the offending word as the user typed it.
 */
static int option_error(int c, const char *word)
{
	char buf[128];

	if (c == '?' && optopt >= '0' && optopt <= '9')
		return bad_ratio();
	if (c == ':')
		snprintf(buf, sizeof(buf), "option '%s' needs an argument", word);
	else if (optopt && optopt < 0x100)
		snprintf(buf, sizeof(buf), "unknown option '-%c'", optopt);
	else
		snprintf(buf, sizeof(buf), "unknown option '%s'", word);
	return usage_error(buf);
}

int main(int argc, char **argv)
{
	struct config cfg = {
		.sysctl = env_or("ACCELCTL_SYSCTL", DEFAULT_SYSCTL),
		.rtc = env_or("ACCELCTL_RTC", DEFAULT_RTC),
		.lock = env_or("ACCELCTL_LOCK", DEFAULT_LOCK),
	};
	struct args a = { 0 };
	int head, c;

	/*
	 * Options may come anywhere before "--" (getopt_long permutes), and
	 * nothing after it is ours: COMMAND's own options must reach it
	 * untouched. So getopt only ever sees the words before "--".
	 */
	for (head = 1; head < argc; head++) {
		if (!strcmp(argv[head], "--")) {
			a.dashdash = true;
			break;
		}
		if (takes_next_arg(argv[head]) && head + 1 < argc)
			head++;
	}
	a.tail = argv + head + (a.dashdash ? 1 : 0);
	a.ntail = argc - head - (a.dashdash ? 1 : 0);

	opterr = 0;	/* our own messages, with our prefix */
	while ((c = getopt_long(head, argv, ":hVjfw", long_opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			print_help();
			return EXIT_OK;
		case 'V':
			printf(PROG " " ACCELCTL_VERSION "\n");
			return EXIT_OK;
		case 'j':
			cfg.json = true;
			break;
		case 'f':
			cfg.force = true;
			break;
		case 'w':
			cfg.wall_clock = true;
			break;
		case OPT_SYSCTL:
			cfg.sysctl = optarg;
			break;
		case OPT_RTC:
			cfg.rtc = optarg;
			break;
		case OPT_LOCK:
			cfg.lock = optarg;
			break;
		default:
			return option_error(c, argv[optind - 1]);
		}
	}
	a.pos = argv + optind;
	a.npos = head - optind;
	return dispatch(&cfg, &a);
}
