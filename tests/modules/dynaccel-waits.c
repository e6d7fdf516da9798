// SPDX-License-Identifier: GPL-2.0
/*
 * dynaccel-waits: waits of the real domain timed in real time, for
 * tests/guest/accel-waits.c.
 *
 * Loaded with ms=N, kind=K and times=T, it waits N ms T times in a row
 * and logs one line:
 *
 *   dynaccel_waits: kind=K ms=N times=T real_ns=X longest_ns=L accel_ns=Y
 *	rechecked_ns=Z
 *
 * X is the shortest of the waits, measured with CLOCK_MONOTONIC_RAW, L the
 * longest, and Y what CLOCK_MONOTONIC saw of the shortest; the load
 * returns when the last wait ends. Short waits repeated show whether a
 * wait can end early by the part of a tick it started in: a wait that
 * ends on a tick would start the next one right after that tick, so each
 * wait starts a little further into its tick than the one before. The
 * kinds:
 *
 *   completion	wait_for_completion_timeout() on a completion that never
 *		comes (a guard: ATA internal commands, USB control messages)
 *   io		the same with wait_for_completion_io_timeout()
 *   timer	a real timer_list timer (timer_set_real()) armed N ms ahead
 *		(libata's NCQ drain, e1000e's watchdog)
 *   dwork	a delayed work with a real timer, queued N ms ahead (the xHCI
 *		command timeout, USB hub power-on delays)
 *   guard	a deferrable timer registered with dynaccel_guard_add(), armed
 *		with dynaccel_real_expires() like the workqueue watchdog's;
 *		its handler re-checks real jiffies and re-arms until N ms
 *		have passed
 *
 * Each should take N ms of real time at any ratio and across ratio
 * changes (Documentation/timers/dynaccel.rst, "Which waits are real").
 * For the guard the line ends with rechecked_ns=Z: CLOCK_MONOTONIC_RAW
 * when its handler first ran before the end, 0 if it never did. A ratio
 * drop must make it run at once, even when every CPU then idles: a
 * deferrable timer does not wake an idle CPU by itself.
 *
 * Only for test kernels: it is built by scripts/initramfs.sh.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/dynaccel.h>
#include <linux/jiffies.h>
#include <linux/limits.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/timer.h>
#include <linux/workqueue.h>

static uint ms = 1000;
module_param(ms, uint, 0444);
MODULE_PARM_DESC(ms, "length of the wait in ms (1..60000)");

static uint times = 1;
module_param(times, uint, 0444);
MODULE_PARM_DESC(times, "how many waits in a row (1..1000)");

static char *kind = "completion";
module_param(kind, charp, 0444);
MODULE_PARM_DESC(kind, "completion, io, timer, dwork or guard");

/* 0 leaves the timers accelerated: shows that the test catches that */
static bool real = true;
module_param(real, bool, 0444);
MODULE_PARM_DESC(real, "mark the timers real, make the guard one (default 1)");

static DECLARE_COMPLETION(fired);
static struct timer_list timer;
static struct delayed_work dwork;
static struct timer_list guard_timer;
static struct dynaccel_guard guard;
static unsigned long guard_end;		/* in dynaccel_jiffies_real() */
static u64 rechecked_ns;

static void timer_fn(struct timer_list *t)
{
	complete(&fired);
}

static void dwork_fn(struct work_struct *w)
{
	complete(&fired);
}

static void guard_fn(struct timer_list *t)
{
	/* real=0: an accelerated timeout that is no guard, over at once */
	if (real && time_before(dynaccel_jiffies_real(), guard_end)) {
		if (!rechecked_ns)
			rechecked_ns = ktime_get_raw_ns();
		mod_timer(&guard_timer, dynaccel_real_expires(guard_end));
		return;
	}
	complete(&fired);
}

/* Wait @j jiffies once with the kind asked for; 0 or -EINVAL. */
static int wait_once(unsigned long j, u64 *raw, u64 *mono)
{
	DECLARE_COMPLETION_ONSTACK(never);

	*raw = ktime_get_raw_ns();
	*mono = ktime_get_ns();
	if (!strcmp(kind, "completion")) {
		wait_for_completion_timeout(&never, j);
	} else if (!strcmp(kind, "io")) {
		wait_for_completion_io_timeout(&never, j);
	} else if (!strcmp(kind, "timer")) {
		mod_timer(&timer, timer_jiffies(&timer) + j);
		wait_for_completion(&fired);
	} else if (!strcmp(kind, "dwork")) {
		queue_delayed_work(system_wq, &dwork, j);
		wait_for_completion(&fired);
	} else if (!strcmp(kind, "guard")) {
		/* The real count lags by up to a tick: one more, never early */
		guard_end = dynaccel_jiffies_real() + j + 1;
		mod_timer(&guard_timer,
			  real ? dynaccel_real_expires(guard_end) : jiffies + j);
		wait_for_completion(&fired);
	} else {
		return -EINVAL;
	}
	*raw = ktime_get_raw_ns() - *raw;
	*mono = ktime_get_ns() - *mono;
	return 0;
}

static int __init waits_init(void)
{
	unsigned long j = msecs_to_jiffies(ms);
	u64 raw, mono, shortest = U64_MAX, longest = 0, shortest_mono = 0;
	uint i;
	int ret;

	if (!ms || ms > 60000 || !times || times > 1000)
		return -EINVAL;

	timer_setup(&timer, timer_fn, 0);
	INIT_DELAYED_WORK(&dwork, dwork_fn);
	timer_setup(&guard_timer, guard_fn, TIMER_DEFERRABLE);
	if (real) {
		timer_set_real(&timer);
		timer_set_real(&dwork.timer);
		dynaccel_guard_add(&guard, &guard_timer);
	}

	for (i = 0; i < times; i++) {
		/* Start i / times of a tick after where the last wait ended */
		raw = ktime_get_raw_ns() + div_u64((u64)TICK_NSEC * i, times);
		while (ktime_get_raw_ns() < raw)
			cpu_relax();
		ret = wait_once(j, &raw, &mono);
		if (ret) {
			dynaccel_guard_del(&guard);
			return ret;
		}
		if (raw < shortest) {
			shortest = raw;
			shortest_mono = mono;
		}
		longest = max(longest, raw);
	}

	pr_info("kind=%s ms=%u times=%u real_ns=%llu longest_ns=%llu accel_ns=%llu rechecked_ns=%llu\n",
		kind, ms, times, shortest, longest, shortest_mono, rechecked_ns);
	return 0;
}

static void __exit waits_exit(void)
{
	timer_shutdown_sync(&timer);
	cancel_delayed_work_sync(&dwork);
	dynaccel_guard_del(&guard);
	timer_shutdown_sync(&guard_timer);
}

module_init(waits_init);
module_exit(waits_exit);
MODULE_DESCRIPTION("dynaccel test: waits of the real domain in real time");
MODULE_LICENSE("GPL");
