// SPDX-License-Identifier: GPL-2.0
/*
 * accel-monotonic: MONOTONIC and BOOTTIME never step back, on any CPU,
 * through hundreds of ratio changes, and a change bends the slope at the
 * present instant without a jump (docs/contract.md 4).
 *
 * One reader thread per CPU reads the clocks through the vDSO and the
 * system call as fast as it can while the main thread changes the ratio,
 * big drops (1000 -> 1) included: they are where a stale vDSO reader could
 * see time go backwards. Besides each thread's own sequence, every reading
 * is checked against the largest value any thread had published before it
 * read the clock, which catches a step back between CPUs too.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "accel.h"

#define CHANGES		400
#define MAX_CPUS	8

static const int sequence[] = { 1000, 1, 100, 2, 1000, 10, 1, 1000, 2, 100, 10, 1000 };
#define SEQ_LEN		((int)(sizeof(sequence) / sizeof(sequence[0])))

struct reader {
	pthread_t thread;
	int cpu;
	long reads;
	long back_own;		/* a clock below this thread's previous read */
	long back_global;	/* below what another CPU had already seen */
	long disorder;		/* vDSO, syscall, vDSO not in order */
	int64_t worst;		/* the largest step back seen, in ns */
};

static atomic_bool stop;
static _Atomic int64_t latest_mono, latest_boot;

static void publish(_Atomic int64_t *latest, int64_t t)
{
	int64_t cur = atomic_load(latest);

	while (cur < t && !atomic_compare_exchange_weak(latest, &cur, t))
		;
}

static void note_back(struct reader *r, long *counter, int64_t by)
{
	(*counter)++;
	if (by > r->worst)
		r->worst = by;
}

static void *read_loop(void *arg)
{
	struct reader *r = arg;
	int64_t prev_mono = 0, prev_boot = 0;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(r->cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	while (!atomic_load(&stop)) {
		int64_t seen_mono = atomic_load(&latest_mono);
		int64_t seen_boot = atomic_load(&latest_boot);
		int64_t v1 = clock_ns(CLOCK_MONOTONIC);
		int64_t s = clock_ns_syscall(CLOCK_MONOTONIC);
		int64_t v2 = clock_ns(CLOCK_MONOTONIC);
		int64_t b = clock_ns(CLOCK_BOOTTIME);

		if (v1 < prev_mono)
			note_back(r, &r->back_own, prev_mono - v1);
		if (b < prev_boot)
			note_back(r, &r->back_own, prev_boot - b);
		if (v1 < seen_mono)
			note_back(r, &r->back_global, seen_mono - v1);
		if (b < seen_boot)
			note_back(r, &r->back_global, seen_boot - b);
		if (s < v1 || v2 < s)
			note_back(r, &r->disorder, s < v1 ? v1 - s : s - v2);
		publish(&latest_mono, v2);
		publish(&latest_boot, b);
		prev_mono = v2;
		prev_boot = b;
		r->reads++;
	}
	return NULL;
}

/* One ratio change as change_ratios() saw it. */
struct change {
	int64_t cost;		/* real ns from before the write to after it */
	int64_t accel;		/* accelerated ns over the same span */
	int fast;		/* the larger of the two ratios */
};

static struct change changes[CHANGES];

/*
 * Change the ratio CHANGES times, recording around each write the real
 * time it took and the accelerated time that passed meanwhile.
 */
static void change_ratios(void)
{
	int i, cur = accel_get();

	for (i = 0; i < CHANGES; i++) {
		int next = sequence[i % SEQ_LEN];
		int64_t ra, ma, rb, mb;

		ra = raw_ns();
		ma = mono_ns();
		accel_set(next);
		mb = mono_ns();
		rb = raw_ns();
		changes[i].cost = rb - ra;
		changes[i].accel = mb - ma;
		changes[i].fast = next > cur ? next : cur;
		cur = next;
		/* Let the readers see each slope for a while: 0.2 to 1.4 ms. */
		spin_real((200 + (i * 37) % 1200) * 1000LL);
	}
}

/*
 * Whether the changes bent the slope without a jump. Over a write that
 * took C real ns, the clock may advance at most C at the faster of the two
 * slopes: each change is held to the cost of its own write, measured
 * around it. The median cost is reported with what it means at R=1000: a
 * jump larger than that many accelerated ns cannot hide in a typical write
 * (a write the host preempted hides more, and is judged by its own cost).
 */
static void check_jumps(void)
{
	int64_t cost[CHANGES], median, worst = 0;
	int i, jumps = 0, backs = 0;

	for (i = 0; i < CHANGES; i++)
		cost[i] = changes[i].cost;
	sort_i64(cost, CHANGES);
	median = cost[CHANGES / 2];
	for (i = 0; i < CHANGES; i++) {
		const struct change *c = &changes[i];
		int64_t beyond = c->accel - c->fast * c->cost;

		if (c->accel < 0)
			backs++;
		if (beyond > 0) {
			jumps++;
			worst = beyond > worst ? beyond : worst;
		}
	}
	ksft_test_result(backs == 0, "no step back across any of %d ratio changes (%d)\n",
			 CHANGES, backs);
	ksft_test_result(jumps == 0,
			 "no jump forward at any of %d ratio changes (%d, worst %lld ns beyond the slope); a write costs %.1f us real (median, longest %.1f), so at R=1000 a typical write hides no jump over %.1f ms\n",
			 CHANGES, jumps, (long long)worst, median / 1e3, cost[CHANGES - 1] / 1e3,
			 1000.0 * median / 1e6);
}

int main(void)
{
	struct reader readers[MAX_CPUS] = { 0 };
	int ncpu = sysconf(_SC_NPROCESSORS_ONLN), i;

	if (ncpu > MAX_CPUS)
		ncpu = MAX_CPUS;
	ksft_print_header();
	ksft_set_plan(3 * ncpu + 2);
	accel_require();
	accel_set(1);

	for (i = 0; i < ncpu; i++) {
		readers[i].cpu = i;
		pthread_create(&readers[i].thread, NULL, read_loop, &readers[i]);
	}
	change_ratios();
	atomic_store(&stop, true);
	for (i = 0; i < ncpu; i++)
		pthread_join(readers[i].thread, NULL);
	accel_set(1);

	for (i = 0; i < ncpu; i++) {
		struct reader *r = &readers[i];

		ksft_test_result(r->reads > 1000 && r->back_own == 0,
				 "CPU %d: MONOTONIC and BOOTTIME never step back over %d changes (%ld reads, %ld back, worst %lld ns)\n",
				 i, CHANGES, r->reads, r->back_own, (long long)r->worst);
		ksft_test_result(r->back_global == 0,
				 "CPU %d: no reading below one another CPU published before (%ld)\n",
				 i, r->back_global);
		ksft_test_result(r->disorder == 0,
				 "CPU %d: vDSO and syscall readings interleave in order (%ld out of order)\n",
				 i, r->disorder);
	}
	check_jumps();
	ksft_finished();
}
