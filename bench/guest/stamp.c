// SPDX-License-Identifier: GPL-2.0
/*
 * stamp [raw]: print CLOCK_REALTIME (or, with "raw", CLOCK_MONOTONIC_RAW)
 * as seconds.nanoseconds, for the demo's jobs and its real-time account.
 * busybox date has no %N, and time() moves in coarse steps of R/HZ
 * accelerated seconds, too coarse to measure a job's start error.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv)
{
	clockid_t id = CLOCK_REALTIME;
	struct timespec ts;

	if (argc > 1 && !strcmp(argv[1], "raw"))
		id = CLOCK_MONOTONIC_RAW;
	if (clock_gettime(id, &ts))
		return 1;
	printf("%lld.%09ld\n", (long long)ts.tv_sec, ts.tv_nsec);
	return 0;
}
