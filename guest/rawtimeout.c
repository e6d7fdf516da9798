// SPDX-License-Identifier: GPL-2.0
/*
 * rawtimeout - run a command, kill it after SECONDS of *real* time.
 *
 *   rawtimeout SECONDS COMMAND [ARGS...]
 *
 * Inside a dynaccel guest every sleep and timeout a program asks for runs
 * in accelerated time, so timeout(1) would kill a suite R times too early.
 * This one measures the limit with CLOCK_MONOTONIC_RAW, which stays real.
 * No timer can be armed on that clock, so it sleeps the real time left
 * converted at the current ratio, and wakes early when the command exits
 * (a pidfd) or the ratio changes (kernel.accel reports POLLPRI), to
 * convert again. It does not wake up otherwise: the idle machine the
 * suites measure has no poller of the harness on it.
 *
 * Exit status: the command's, 128+N if it died of signal N, 124 if it was
 * killed for running too long, 125 on usage or fork errors, 127 if exec
 * failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ACCEL_SYSCTL	"/proc/sys/kernel/accel"
/* Without a pidfd, look this often (real time) */
#define POLL_REAL_NS	50000000LL

static long long raw_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The current ratio read from @fd, 1 on kernels without kernel.accel. */
static long accel_ratio(int fd)
{
	char buf[16];
	ssize_t n = fd < 0 ? -1 : pread(fd, buf, sizeof(buf) - 1, 0);
	long r;

	if (n <= 0)
		return 1;
	buf[n] = '\0';
	r = strtol(buf, NULL, 10);
	return r < 1 ? 1 : r;
}

/*
 * Wait until the command exits, the ratio changes, or @real_ns of real
 * time has passed at the current ratio, whichever comes first.
 */
static void wait_real(int pidfd, int accelfd, long long real_ns)
{
	struct pollfd p[2] = {
		{ .fd = pidfd, .events = POLLIN },
		{ .fd = accelfd, .events = POLLPRI },
	};
	long long ms = (real_ns * accel_ratio(accelfd) + 999999) / 1000000;

	if (ms > INT_MAX)
		ms = INT_MAX;
	poll(p, 2, (int)ms);
}

static int status_of(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	return 128 + WTERMSIG(wstatus);
}

int main(int argc, char **argv)
{
	long long deadline, left;
	int wstatus, pidfd, accelfd;
	char *end;
	long secs;
	pid_t pid;

	if (argc < 3) {
		fprintf(stderr, "usage: rawtimeout SECONDS COMMAND [ARGS...]\n");
		return 125;
	}
	errno = 0;
	secs = strtol(argv[1], &end, 10);
	if (errno || *end || end == argv[1] || secs <= 0) {
		fprintf(stderr, "rawtimeout: bad number of seconds: %s\n", argv[1]);
		return 125;
	}
	deadline = raw_ns() + secs * 1000000000LL;

	pid = fork();
	if (pid < 0) {
		perror("rawtimeout: fork");
		return 125;
	}
	if (pid == 0) {
		/* Own process group, so that the kill reaches grandchildren. */
		setpgid(0, 0);
		execvp(argv[2], argv + 2);
		fprintf(stderr, "rawtimeout: %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);

	pidfd = syscall(SYS_pidfd_open, pid, 0);
	accelfd = open(ACCEL_SYSCTL, O_RDONLY);	/* -1: R = 1, poll() skips it */

	for (;;) {
		pid_t r = waitpid(pid, &wstatus, WNOHANG);

		if (r == pid)
			return status_of(wstatus);
		if (r < 0 && errno != EINTR) {
			perror("rawtimeout: waitpid");
			return 125;
		}
		left = deadline - raw_ns();
		if (left <= 0)
			break;
		/* Without a pidfd (before Linux 5.3), look again now and then */
		if (pidfd < 0 && left > POLL_REAL_NS)
			left = POLL_REAL_NS;
		wait_real(pidfd, accelfd, left);
	}
	fprintf(stderr, "rawtimeout: %s ran for more than %ld real seconds: killed\n",
		argv[2], secs);
	kill(-pid, SIGKILL);
	waitpid(pid, &wstatus, 0);
	return 124;
}
