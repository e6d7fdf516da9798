// SPDX-License-Identifier: GPL-2.0
/*
 * dynaccel-waits: a completion timeout timed in real time, for
 * tests/guest/accel-waits.c.
 *
 * Loaded with ms=N, it waits for a completion that never comes, with a
 * timeout of N ms (wait_for_completion_timeout(), or with io=1
 * wait_for_completion_io_timeout()), and logs one line:
 *
 *   dynaccel_waits: ms=N io=0|1 ret=J real_ns=X accel_ns=Y
 *
 * X is measured with CLOCK_MONOTONIC_RAW and Y with CLOCK_MONOTONIC.
 * Completion timeouts are guards, so X should be N ms at any ratio and
 * across ratio changes (Documentation/timers/dynaccel.rst, "Which waits are
 * real"). Loading returns when the wait ends.
 *
 * Only for test kernels: it is built by scripts/initramfs.sh.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/timekeeping.h>

static uint ms = 1000;
module_param(ms, uint, 0444);
MODULE_PARM_DESC(ms, "timeout of the wait in ms (1..60000)");

static bool io;
module_param(io, bool, 0444);
MODULE_PARM_DESC(io, "wait with wait_for_completion_io_timeout()");

static int __init waits_init(void)
{
	DECLARE_COMPLETION_ONSTACK(never);
	unsigned long timeout, ret;
	u64 raw, mono;

	if (!ms || ms > 60000)
		return -EINVAL;
	timeout = msecs_to_jiffies(ms);

	raw = ktime_get_raw_ns();
	mono = ktime_get_ns();
	if (io)
		ret = wait_for_completion_io_timeout(&never, timeout);
	else
		ret = wait_for_completion_timeout(&never, timeout);
	raw = ktime_get_raw_ns() - raw;
	mono = ktime_get_ns() - mono;

	pr_info("ms=%u io=%d ret=%lu real_ns=%llu accel_ns=%llu\n", ms, io, ret, raw, mono);
	return 0;
}

static void __exit waits_exit(void)
{
}

module_init(waits_init);
module_exit(waits_exit);
MODULE_DESCRIPTION("dynaccel test: a completion timeout in real time");
MODULE_LICENSE("GPL");
