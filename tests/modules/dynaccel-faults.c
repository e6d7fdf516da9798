// SPDX-License-Identifier: GPL-2.0
/*
 * dynaccel-faults: real faults on demand, for the true-alarm suite
 * (tests/guest/accel-alarms.c, docs/contract.md 4 "True alarms").
 *
 * Loaded with fault=NAME secs=N, it starts one fault and returns; the
 * fault lasts N seconds of real time (CLOCK_MONOTONIC_RAW) whatever the
 * acceleration ratio, and unloading waits for it to end. Each fault logs
 * "dynaccel-faults: NAME begins" when it starts and "... ends" when it
 * ends; the printk timestamps of those lines and of the guard's report
 * are real time (sched_clock), which the suite measures with.
 *
 *   hang	a task in TASK_UNINTERRUPTIBLE (the hung task detector)
 *   lockup	a CPU spinning with preemption off (the soft lockup detector)
 *   rcu	an RCU read-side critical section that does not end, while a
 *		grace period waits for it (the RCU CPU stall detector)
 *   wq		a per-CPU work item that runs without sleeping while another
 *		waits behind it (the workqueue watchdog)
 *
 * Only for test kernels: it is built by scripts/initramfs.sh.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/preempt.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/workqueue.h>

static char *fault = "";
module_param(fault, charp, 0444);
MODULE_PARM_DESC(fault, "hang, lockup, rcu or wq");

static uint secs = 5;
module_param(secs, uint, 0444);
MODULE_PARM_DESC(secs, "real seconds the fault lasts (1..60)");

/* The CPU the faults that need one run on: not the boot CPU */
#define FAULT_CPU	1

static u64 fault_end;			/* CLOCK_MONOTONIC_RAW, ns */
static struct task_struct *fault_task, *releaser_task;
static DECLARE_COMPLETION(fault_done);

static bool fault_over(void)
{
	return ktime_get_raw_ns() >= fault_end;
}

/* Spin on this CPU until the fault is over, without sleeping. */
static void spin_until_over(bool resched)
{
	while (!fault_over()) {
		if (resched)
			cond_resched();
		cpu_relax();
	}
}

/* ---- hang ---- */

static DECLARE_COMPLETION(hang_release);

static int hang_fn(void *unused)
{
	pr_info("hang begins\n");
	/* D state, no context switch until released */
	wait_for_completion(&hang_release);
	pr_info("hang ends\n");
	complete(&fault_done);
	return 0;
}

/*
 * Releases the hung task. It sleeps interruptibly (kthreads get no
 * signals), which the hung task detector ignores; msleep_interruptible()
 * is real time on a dynaccel kernel.
 */
static int hang_release_fn(void *unused)
{
	while (!fault_over())
		msleep_interruptible(20);
	complete(&hang_release);
	return 0;
}

/* ---- lockup and rcu ---- */

static int lockup_fn(void *unused)
{
	pr_info("lockup begins\n");
	preempt_disable();
	spin_until_over(false);
	preempt_enable();
	pr_info("lockup ends\n");
	complete(&fault_done);
	return 0;
}

static struct rcu_head rcu_probe;
static DECLARE_COMPLETION(rcu_reader_in);

static void rcu_probe_cb(struct rcu_head *head)
{
}

static int rcu_fn(void *unused)
{
	rcu_read_lock();
	/* Non-preemptible RCU: the spin below holds off the grace period */
	preempt_disable();
	pr_info("rcu begins\n");
	complete(&rcu_reader_in);
	spin_until_over(false);
	preempt_enable();
	rcu_read_unlock();
	pr_info("rcu ends\n");
	complete(&fault_done);
	return 0;
}

/* ---- wq ---- */

static void wq_hog_fn(struct work_struct *work)
{
	pr_info("wq begins\n");
	/* Runs, never sleeps: the pool starts no other worker meanwhile */
	spin_until_over(true);
	pr_info("wq ends\n");
}

static void wq_victim_fn(struct work_struct *work)
{
	complete(&fault_done);
}

static DECLARE_WORK(wq_hog, wq_hog_fn);
static DECLARE_WORK(wq_victim, wq_victim_fn);

/* A kthread for @fn, created stopped and referenced, or NULL. */
static struct task_struct *fault_thread(int (*fn)(void *), const char *name)
{
	struct task_struct *t = kthread_create(fn, NULL, "%s", name);

	if (IS_ERR(t))
		return NULL;
	kthread_bind(t, FAULT_CPU);
	get_task_struct(t);
	return t;
}

static void put_thread(struct task_struct *t)
{
	if (t) {
		/* Never woken: kthread_stop() frees it without running it */
		kthread_stop(t);
		put_task_struct(t);
	}
}

static int __init faults_init(void)
{
	bool hang = !strcmp(fault, "hang");

	if (!secs || secs > 60) {
		pr_err("secs=%u: expected 1..60\n", secs);
		return -EINVAL;
	}
	if (!cpu_online(FAULT_CPU)) {
		pr_err("CPU %d is not online\n", FAULT_CPU);
		return -ENODEV;
	}
	fault_end = ktime_get_raw_ns() + (u64)secs * NSEC_PER_SEC;

	if (!strcmp(fault, "wq")) {
		queue_work_on(FAULT_CPU, system_wq, &wq_hog);
		queue_work_on(FAULT_CPU, system_wq, &wq_victim);
		return 0;
	}
	if (hang) {
		fault_task = fault_thread(hang_fn, "dynaccel-hang");
		releaser_task = fault_thread(hang_release_fn, "dynaccel-release");
	} else if (!strcmp(fault, "lockup")) {
		fault_task = fault_thread(lockup_fn, "dynaccel-lockup");
	} else if (!strcmp(fault, "rcu")) {
		fault_task = fault_thread(rcu_fn, "dynaccel-rcu");
	} else {
		pr_err("fault=%s: expected hang, lockup, rcu or wq\n", fault);
		return -EINVAL;
	}
	if (!fault_task || (hang && !releaser_task)) {
		put_thread(fault_task);
		put_thread(releaser_task);
		return -ENOMEM;
	}

	wake_up_process(fault_task);
	if (releaser_task)
		wake_up_process(releaser_task);
	if (!strcmp(fault, "rcu")) {
		/* A grace period for the reader to hold up */
		wait_for_completion(&rcu_reader_in);
		call_rcu(&rcu_probe, rcu_probe_cb);
	}
	return 0;
}

static void __exit faults_exit(void)
{
	wait_for_completion(&fault_done);
	/* Both have returned or are about to: wait until they are gone */
	if (releaser_task) {
		kthread_stop(releaser_task);
		put_task_struct(releaser_task);
	}
	if (fault_task) {
		kthread_stop(fault_task);
		put_task_struct(fault_task);
	}
	flush_work(&wq_hog);
	rcu_barrier();
}

module_init(faults_init);
module_exit(faults_exit);
MODULE_DESCRIPTION("dynaccel test faults for the true-alarm suite");
MODULE_LICENSE("GPL");
