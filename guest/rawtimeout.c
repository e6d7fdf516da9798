// SPDX-License-Identifier: GPL-2.0
/*
 * rawtimeout - run a command, kill it after SECONDS of *real* time.
 *
 *   rawtimeout SECONDS COMMAND [ARGS...]
 *
 * Inside a dynaccel guest every sleep and timeout a program asks for runs
 * in accelerated time, so timeout(1) would kill a suite R times too early.
 * This one measures the limit with CLOCK_MONOTONIC_RAW, which stays real,
 * and polls at about 20 Hz of real time whatever the ratio.
 *
 * Exit status: the command's, 128+N if it died of signal N, 124 if it was
 * killed for running too long, 125 on usage or fork errors, 127 if exec
 * failed.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define POLL_REAL_NS	50000000LL	/* 50 ms of real time between polls */

static long long raw_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The current ratio, 1 on kernels without kernel.accel. */
static long accel_ratio(void)
{
	FILE *f = fopen("/proc/sys/kernel/accel", "r");
	long r = 1;

	if (f) {
		if (fscanf(f, "%ld", &r) != 1 || r < 1)
			r = 1;
		fclose(f);
	}
	return r;
}

/* Sleep for about @real_ns of real time: ask for R times as much. */
static void sleep_real(long long real_ns)
{
	long long ns = real_ns * accel_ratio();
	struct timespec ts = { ns / 1000000000LL, ns % 1000000000LL };

	nanosleep(&ts, NULL);
}

static int status_of(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	return 128 + WTERMSIG(wstatus);
}

int main(int argc, char **argv)
{
	long long deadline;
	char *end;
	long secs;
	pid_t pid;
	int wstatus;

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

	for (;;) {
		pid_t r = waitpid(pid, &wstatus, WNOHANG);

		if (r == pid)
			return status_of(wstatus);
		if (r < 0 && errno != EINTR) {
			perror("rawtimeout: waitpid");
			return 125;
		}
		if (raw_ns() >= deadline)
			break;
		sleep_real(POLL_REAL_NS);
	}
	fprintf(stderr, "rawtimeout: %s ran for more than %ld real seconds: killed\n",
		argv[2], secs);
	kill(-pid, SIGKILL);
	waitpid(pid, &wstatus, 0);
	return 124;
}
