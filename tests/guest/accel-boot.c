// SPDX-License-Identifier: GPL-2.0
/*
 * accel-boot: the accel= boot parameter (CONTRACT 1).
 *
 *   accel-boot R                 the guest was booted with accel=R
 *   accel-boot 1 --rejected V    booted with an invalid accel=V: the kernel
 *                                said so in its log and kept R=1
 *
 * guest/init records the ratio the moment user space starts, in
 * /run/dynaccel-accel-at-init, before anything could have changed it.
 */
#include <sys/klog.h>

#include "accel.h"

static int ratio_at_init(void)
{
	FILE *f = fopen("/run/dynaccel-accel-at-init", "r");
	int r = -1;

	if (f) {
		if (fscanf(f, "%d", &r) != 1)
			r = -1;
		fclose(f);
	}
	return r;
}

static void check_rate(int want)
{
	double rate = mono_rate(200 * NSEC_PER_MSEC);

	ksft_test_result(rel_err(rate, want) <= 0.01,
			 "MONOTONIC runs at %.3f (want %d)\n", rate, want);
}

/* The kernel log names the rejected value. */
static void check_log_mentions(const char *value)
{
	static char log[1 << 20];
	char needle[64];
	int n = klogctl(3, log, sizeof(log) - 1);	/* SYSLOG_ACTION_READ_ALL */

	if (n < 0)
		n = 0;
	log[n] = '\0';
	snprintf(needle, sizeof(needle), "accel=%s", value);
	ksft_test_result(strstr(log, needle) != NULL,
			 "kernel log reports the rejected \"%s\"\n", needle);
}

int main(int argc, char **argv)
{
	bool rejected = argc == 4 && !strcmp(argv[2], "--rejected");
	int want;

	if (argc != 2 && !rejected) {
		fprintf(stderr, "usage: accel-boot R [--rejected VALUE]\n");
		return 2;
	}
	want = atoi(argv[1]);
	ksft_print_header();
	ksft_set_plan(3 + rejected);
	accel_require();
	ksft_test_result(ratio_at_init() == want, "ratio when user space started: %d (want %d)\n",
			 ratio_at_init(), want);
	ksft_test_result(accel_get() == want, "kernel.accel reads %d (want %d)\n",
			 accel_get(), want);
	check_rate(want);
	if (rejected)
		check_log_mentions(argv[3]);
	accel_set(1);
	ksft_finished();
}
