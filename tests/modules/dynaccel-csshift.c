// SPDX-License-Identifier: GPL-2.0
/*
 * dynaccel-csshift: a change to a clocksource that cannot run accelerated,
 * for tests/guest/clocksource-shift.sh (issue 14, defect 5).
 *
 * A clocksource whose shift is below log2(R) cannot carry R's extra bits,
 * so a change to it drops R to 1. The timekeeper then moves the base of
 * CLOCK_MONOTONIC from the accelerated shift of the old clocksource to the
 * new one's; done in two steps, the first truncated at a coarser unit than
 * the result and CLOCK_MONOTONIC stepped back by up to 2^k ns.
 *
 * Nothing outside the switch can see a few nanoseconds go: every reader
 * read the clock before stop_machine() began. So both clocksources here
 * read the TSC and are frozen around the change: time stands still, the
 * clock read just before the change is the base the change converts, and
 * the clock read just after it is the converted base. At load it
 *
 *   1. registers "csshift-hi" (the TSC, with the shift the core picks) and
 *      switches to it, keeping R;
 *   2. freezes both, reads CLOCK_MONOTONIC and MONOTONIC_RAW, registers
 *      "csshift-lo" (the TSC with shift 8) with a higher rating, which
 *      switches to it, reads both clocks again, and thaws;
 *   3. unregisters both (the kernel goes back to its own clocksource) and
 *      logs one line:
 *        dynaccel_csshift: switched=1 mono_step=N raw_step=N (ns)
 *
 * Only for test kernels (x86, TSC): it is built by scripts/initramfs.sh.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/clocksource.h>
#include <linux/module.h>
#include <linux/timekeeping.h>
#include <asm/tsc.h>

#define LO_SHIFT	8

static bool frozen;
static u64 frozen_at;
static bool lo_enabled;

static u64 csshift_read(struct clocksource *cs)
{
	return READ_ONCE(frozen) ? READ_ONCE(frozen_at) : rdtsc_ordered();
}

static int csshift_lo_enable(struct clocksource *cs)
{
	WRITE_ONCE(lo_enabled, true);
	return 0;
}

static struct clocksource csshift_hi = {
	.name	= "csshift-hi",
	.rating	= 490,
	.read	= csshift_read,
	.mask	= CLOCKSOURCE_MASK(64),
	.flags	= CLOCK_SOURCE_IS_CONTINUOUS | CLOCK_SOURCE_VALID_FOR_HRES,
	.owner	= THIS_MODULE,
};

static struct clocksource csshift_lo = {
	.name	= "csshift-lo",
	.rating	= 495,
	.read	= csshift_read,
	.enable	= csshift_lo_enable,
	.mask	= CLOCKSOURCE_MASK(64),
	.shift	= LO_SHIFT,
	.flags	= CLOCK_SOURCE_IS_CONTINUOUS | CLOCK_SOURCE_VALID_FOR_HRES,
	.owner	= THIS_MODULE,
};

static int __init csshift_init(void)
{
	ktime_t mono[2], raw[2];
	int ret;

	if (!boot_cpu_has(X86_FEATURE_TSC) || !tsc_khz)
		return -ENODEV;

	ret = clocksource_register_khz(&csshift_hi, tsc_khz);
	if (ret)
		return ret;

	csshift_lo.mult = DIV_ROUND_CLOSEST_ULL((u64)NSEC_PER_MSEC << LO_SHIFT, tsc_khz);

	WRITE_ONCE(frozen_at, rdtsc_ordered());
	WRITE_ONCE(frozen, true);
	mono[0] = ktime_get();
	raw[0] = ktime_get_raw();
	ret = __clocksource_register(&csshift_lo);
	mono[1] = ktime_get();
	raw[1] = ktime_get_raw();
	WRITE_ONCE(frozen, false);

	if (!ret)
		clocksource_unregister(&csshift_lo);
	clocksource_unregister(&csshift_hi);
	if (ret)
		return ret;

	pr_info("switched=%d mono_step=%lld raw_step=%lld\n", READ_ONCE(lo_enabled),
		ktime_to_ns(ktime_sub(mono[1], mono[0])),
		ktime_to_ns(ktime_sub(raw[1], raw[0])));
	return 0;
}

static void __exit csshift_exit(void)
{
}

module_init(csshift_init);
module_exit(csshift_exit);
MODULE_DESCRIPTION("dynaccel test: a change to a clocksource that cannot run accelerated");
MODULE_LICENSE("GPL");
