// SPDX-License-Identifier: GPL-2.0
/*
 * accel-boot: the accel= boot parameter (docs/contract.md 1).
 *
 *   accel-boot R                 the guest was booted with accel=R
 *   accel-boot 1 --rejected V    booted with an invalid accel=V: the kernel
 *                                warned about it in its log and kept R=1
 *
 * guest/init records the ratio the moment user space starts, in
 * /run/dynaccel-accel-at-init, before anything could have changed it.
 */
#include <sys/klog.h>

#include "accel.h"

static int ratio_at_init(void)
{
	return (int)file_read_long("/run/dynaccel-accel-at-init");
}

static void check_rate(int want)
{
	double rate = mono_rate(200 * NSEC_PER_MSEC);

	ksft_test_result(rel_err(rate, want) <= rate_tol(),
			 "MONOTONIC runs at %.4f (want %d within %.1f%%, %s)\n", rate, want,
			 rate_tol() * 100, accel_env());
}

/*
 * The kernel's own warning names the rejected value. The log also echoes
 * the whole command line ("Kernel command line: ... accel=V"), so the
 * needle is the warning's text, not the parameter.
 */
static void check_log_rejects(const char *value)
{
	static char log[1 << 20];
	char needle[96];
	int n = klogctl(3, log, sizeof(log) - 1);	/* SYSLOG_ACTION_READ_ALL */

	if (n < 0)
		n = 0;
	log[n] = '\0';
	snprintf(needle, sizeof(needle), "dynaccel: ignoring invalid accel=%s (expected ", value);
	ksft_test_result(strstr(log, needle) != NULL,
			 "kernel log has \"%s...\"\n", needle);
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
		check_log_rejects(argv[3]);
	accel_set(1);
	ksft_finished();
}
