// SPDX-License-Identifier: GPL-2.0
/*
 * accel-soak: a machine under load while time runs accelerated.
 *
 * For a stretch of real time, at a plan of ratios applied in equal real
 * segments (so the ratio changes in the middle of the run), the guest does
 * what long-term tests do to a machine at once:
 *  - fsync-heavy writes of checksummed data to a file system (or to each
 *    of several, one per disk controller), each file read back with
 *    O_DIRECT (from the disk, not the page cache) and verified, and every
 *    file left verified again at the end;
 *  - TCP streams over loopback and, given a network namespace joined by
 *    veth, between two namespaces, every byte echoed back and compared;
 *  - many threads sleeping on hrtimer-based timers of random length (1 to
 *    100 ms of real time at any ratio), checked never to wake early
 *    against CLOCK_MONOTONIC.
 * Meanwhile the main thread samples CLOCK_MONOTONIC for monotonicity and
 * checks that the accelerated time elapsed matches the ratio plan, and
 * counts, per segment, the hrtimer interrupts and the extra passes their
 * handler made because new timers had fallen due (/proc/timer_list): a
 * plan with R=1 and faster ratios checks that acceleration does not make
 * the handler loop more, which is what its hang detection reacts to.
 *
 * On a kernel without kernel.accel (the unpatched kernel of the same
 * source) a plan of only R=1 runs the same load, for comparison.
 *
 * The kernel log is judged afterwards by dmesg-clean (guest/soak runs it).
 * The last line is "# soak-figures: key=value ..." for scripts/soak.sh.
 *
 *   accel-soak [-t REAL_S] [-r R1,R2,...] [-d DIR]... [-n NETNS_PID -p ADDR]
 *              [-i IDLE_S]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>

#include "accel.h"

#define MAX_PLAN	16
#define BLOCK_SIZE	(64 * 1024)
#define FILE_BLOCKS	16		/* 1 MiB files */
#define KEEP_FILES	8		/* per writer, verified again at the end */
#define NR_WRITERS	2		/* per directory, if there is one */
#define MAX_DIRS	8		/* one writer each */
#define NR_SLEEPERS	16
#define NET_CHUNK	(16 * 1024)
#define VETH_PORT	5201
/*
 * Sleeps last 1 to 100 ms of real time, that is R times as long in
 * accelerated time: the sleepers put the same real-time load on the timer
 * interrupt at every ratio. Fixed accelerated lengths would, at R=1000,
 * be 1-100 us apart in real time, and sixteen such threads keep an
 * emulated CPU's hrtimer interrupt expiring new timers until its hang
 * detection steps in ("hrtimer: interrupt took N ns"): a load no machine
 * would see at R=1, which tests the emulator rather than acceleration.
 */
#define MAX_SLEEP_NS	(100 * NSEC_PER_MSEC)	/* real */
#define SAMPLE_REAL_NS	(5 * NSEC_PER_MSEC)
/*
 * hrtimer_interrupt() passes beyond the first, per interrupt: the rate at
 * the highest ratio may be twice that at R=1 plus one percentage point.
 * Under TCG the rate follows host contention (a vCPU thread preempted in
 * the handler finds new timers due when it runs again): 3.4% at R=1 and
 * 3.8% at R=1000 in one boot with a kernel build on the host. A handler
 * that loops because of acceleration (timers R times denser in real time,
 * a real delay used as an accelerated one) shows tens of percent.
 */
#define RETRY_FACTOR	2.0
#define RETRY_SLACK	0.01
/*
 * A plan without an R=1 segment gets one at its start, as the baseline of
 * the comparison above: the same load in the same boot, at most this long.
 * At the start, not the end: sleeps armed at R=1000 just before a drop to
 * R=1 would last up to MAX_SLEEP_NS x 1000 and idle the baseline's load.
 */
#define BASELINE_MAX_NS	(30 * NSEC_PER_SEC)

/* false on a kernel without kernel.accel, which runs the load at R=1 */
static bool have_accel;

static int ratio_now(void)
{
	return have_accel ? accel_get() : 1;
}

static struct {
	int64_t real_ns;
	int plan[MAX_PLAN];
	int64_t seg_ns[MAX_PLAN];	/* real length of each segment */
	int nr_plan;
	const char *dirs[MAX_DIRS];
	int nr_dirs;
	int nr_writers;
	pid_t netns_pid;
	const char *peer;
	int64_t idle_ns;
} opt = {
	.real_ns = 60 * NSEC_PER_SEC,
};

static atomic_bool stop;
static atomic_bool veth_connected;

/* What the workers did; each field is written by one kind of worker. */
static struct {
	atomic_ullong written, verified, files;
	atomic_uint mismatches, io_errors;
	atomic_ullong loop_bytes, veth_bytes;
	atomic_uint net_errors;
	atomic_ullong timers;
	atomic_uint early;
	atomic_llong worst_early_ns;
} st;

/* The same per directory, for the figures of each disk */
static struct {
	atomic_ullong written, verified;
	atomic_uint mismatches, io_errors;
} dst[MAX_DIRS];

/* Writers share the directories: with one, NR_WRITERS of them. */
static int writer_dir(int writer)
{
	return writer % opt.nr_dirs;
}

static char first_error[256];
static pthread_mutex_t error_lock = PTHREAD_MUTEX_INITIALIZER;

/* Keep the first failure's words for the TAP line; count every one. */
static void note_error(atomic_uint *counter, const char *fmt, ...)
{
	va_list ap;

	atomic_fetch_add(counter, 1);
	pthread_mutex_lock(&error_lock);
	if (!first_error[0]) {
		va_start(ap, fmt);
		vsnprintf(first_error, sizeof(first_error), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&error_lock);
}

/* A deterministic pattern per (writer, file, block): xorshift64. */
static void fill_pattern(uint64_t *buf, size_t len, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ULL | 1;
	size_t i;

	for (i = 0; i < len / sizeof(*buf); i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = x;
	}
}

static uint64_t block_seed(int writer, unsigned int file, int block)
{
	return (uint64_t)writer << 48 | (uint64_t)file << 16 | (unsigned int)block;
}

static void file_name(char *buf, size_t len, int writer, unsigned int file)
{
	snprintf(buf, len, "%s/soak-w%d-%06u", opt.dirs[writer_dir(writer)], writer, file);
}

/* Write one file, a fdatasync() after every block: journal commits galore. */
static int write_file(int writer, unsigned int file, uint64_t *buf)
{
	int d = writer_dir(writer);
	char name[256];
	int fd, b;

	file_name(name, sizeof(name), writer, file);
	fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		atomic_fetch_add(&dst[d].io_errors, 1);
		note_error(&st.io_errors, "open %s: %s", name, strerror(errno));
		return -1;
	}
	for (b = 0; b < FILE_BLOCKS; b++) {
		fill_pattern(buf, BLOCK_SIZE, block_seed(writer, file, b));
		if (pwrite(fd, buf, BLOCK_SIZE, (off_t)b * BLOCK_SIZE) != BLOCK_SIZE ||
		    fdatasync(fd)) {
			atomic_fetch_add(&dst[d].io_errors, 1);
			note_error(&st.io_errors, "write %s: %s", name, strerror(errno));
			close(fd);
			return -1;
		}
		atomic_fetch_add(&st.written, BLOCK_SIZE);
		atomic_fetch_add(&dst[d].written, BLOCK_SIZE);
	}
	if (fsync(fd) || close(fd)) {
		atomic_fetch_add(&dst[d].io_errors, 1);
		note_error(&st.io_errors, "fsync %s: %s", name, strerror(errno));
		return -1;
	}
	atomic_fetch_add(&st.files, 1);
	return 0;
}

/* Read a file back past the page cache and compare it with its pattern. */
static void verify_file(int writer, unsigned int file, uint64_t *buf, uint64_t *want)
{
	int d = writer_dir(writer);
	char name[256];
	int fd, b;

	file_name(name, sizeof(name), writer, file);
	fd = open(name, O_RDONLY | O_DIRECT);
	if (fd < 0) {
		atomic_fetch_add(&dst[d].io_errors, 1);
		note_error(&st.io_errors, "open %s: %s", name, strerror(errno));
		return;
	}
	for (b = 0; b < FILE_BLOCKS; b++) {
		if (pread(fd, buf, BLOCK_SIZE, (off_t)b * BLOCK_SIZE) != BLOCK_SIZE) {
			atomic_fetch_add(&dst[d].io_errors, 1);
			note_error(&st.io_errors, "read %s: %s", name, strerror(errno));
			break;
		}
		fill_pattern(want, BLOCK_SIZE, block_seed(writer, file, b));
		if (memcmp(buf, want, BLOCK_SIZE)) {
			atomic_fetch_add(&dst[d].mismatches, 1);
			note_error(&st.mismatches, "%s block %d differs", name, b);
			continue;
		}
		atomic_fetch_add(&st.verified, BLOCK_SIZE);
		atomic_fetch_add(&dst[d].verified, BLOCK_SIZE);
	}
	close(fd);
}

static void *writer_main(void *arg)
{
	int writer = (int)(intptr_t)arg;
	unsigned int file, first = 0;
	uint64_t *buf, *want;
	char name[256];

	if (posix_memalign((void **)&buf, 4096, BLOCK_SIZE) ||
	    posix_memalign((void **)&want, 4096, BLOCK_SIZE))
		ksft_exit_fail_msg("out of memory\n");
	for (file = 0; !atomic_load(&stop); file++) {
		if (write_file(writer, file, buf))
			break;
		verify_file(writer, file, buf, want);
		/* Bound the disk space: drop the oldest once verified twice. */
		if (file - first + 1 > KEEP_FILES) {
			verify_file(writer, first, buf, want);
			file_name(name, sizeof(name), writer, first);
			unlink(name);
			first++;
		}
	}
	/* Everything still on disk, once more, after all the ratio changes. */
	for (; first < file; first++)
		verify_file(writer, first, buf, want);
	free(buf);
	free(want);
	return NULL;
}

static int full_io(int fd, void *buf, size_t len, bool out)
{
	char *p = buf;

	while (len) {
		ssize_t n = out ? send(fd, p, len, MSG_NOSIGNAL) : recv(fd, p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/* Echo everything back until the peer closes. */
static void echo(int fd)
{
	char buf[NET_CHUNK];
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		if (full_io(fd, buf, n, true))
			break;
}

/* Send checksummed chunks and compare what comes back, until told to stop. */
static void stream(int fd, atomic_ullong *bytes, const char *what)
{
	uint64_t *out = malloc(NET_CHUNK), *in = malloc(NET_CHUNK);
	uint64_t seq;

	if (!out || !in)
		ksft_exit_fail_msg("out of memory\n");
	for (seq = 1; !atomic_load(&stop); seq++) {
		fill_pattern(out, NET_CHUNK, seq);
		if (full_io(fd, out, NET_CHUNK, true) || full_io(fd, in, NET_CHUNK, false)) {
			note_error(&st.net_errors, "%s: %s", what,
				   errno ? strerror(errno) : "connection closed");
			break;
		}
		if (memcmp(out, in, NET_CHUNK)) {
			note_error(&st.net_errors, "%s: chunk %llu came back different",
				   what, (unsigned long long)seq);
			break;
		}
		atomic_fetch_add(bytes, NET_CHUNK);
	}
	free(out);
	free(in);
}

static int listen_on(const char *addr, int port, struct sockaddr_in *sa)
{
	socklen_t len = sizeof(*sa);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(port);
	if (fd < 0 || inet_pton(AF_INET, addr, &sa->sin_addr) != 1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)sa, sizeof(*sa)) || listen(fd, 1) ||
	    getsockname(fd, (struct sockaddr *)sa, &len)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void *echo_main(void *arg)
{
	int lfd = (int)(intptr_t)arg, fd = accept(lfd, NULL, NULL);

	if (fd >= 0) {
		echo(fd);
		close(fd);
	}
	close(lfd);
	return NULL;
}

static void *loopback_main(void *arg)
{
	struct sockaddr_in sa;
	pthread_t server;
	int lfd, fd;

	(void)arg;
	lfd = listen_on("127.0.0.1", 0, &sa);
	if (lfd < 0) {
		note_error(&st.net_errors, "loopback listen: %s", strerror(errno));
		return NULL;
	}
	pthread_create(&server, NULL, echo_main, (void *)(intptr_t)lfd);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		note_error(&st.net_errors, "loopback connect: %s", strerror(errno));
		shutdown(lfd, SHUT_RDWR);
	} else {
		stream(fd, &st.loop_bytes, "loopback");
	}
	if (fd >= 0)
		close(fd);
	pthread_join(server, NULL);
	return NULL;
}

/*
 * The far end of the veth pair: a child process that joins the other
 * network namespace and echoes one connection.
 */
static pid_t start_veth_server(void)
{
	struct sockaddr_in sa;
	char path[64];
	int nsfd, lfd, fd;
	pid_t pid;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", opt.netns_pid);
	pid = fork();
	if (pid)
		return pid;
	nsfd = open(path, O_RDONLY);
	if (nsfd < 0 || setns(nsfd, CLONE_NEWNET)) {
		fprintf(stderr, "# joining %s: %s\n", path, strerror(errno));
		_exit(1);
	}
	lfd = listen_on(opt.peer, VETH_PORT, &sa);
	if (lfd < 0) {
		fprintf(stderr, "# listening on %s:%d: %s\n", opt.peer, VETH_PORT,
			strerror(errno));
		_exit(1);
	}
	fd = accept(lfd, NULL, NULL);
	if (fd >= 0)
		echo(fd);
	_exit(0);
}

static void *veth_main(void *arg)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(VETH_PORT) };
	int64_t give_up = raw_ns() + 10 * NSEC_PER_SEC;
	int fd = -1;

	(void)arg;
	inet_pton(AF_INET, opt.peer, &sa.sin_addr);
	/* The server is starting in its namespace: retry for 10 real s. */
	while (raw_ns() < give_up) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd >= 0 && !connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			break;
		if (fd >= 0)
			close(fd);
		fd = -1;
		usleep(20000);
	}
	if (fd < 0) {
		note_error(&st.net_errors, "veth connect to %s: %s", opt.peer, strerror(errno));
		return NULL;
	}
	atomic_store(&veth_connected, true);
	stream(fd, &st.veth_bytes, "veth");
	close(fd);
	return NULL;
}

/* One sleep of @ns accelerated nanoseconds, by the sleeper's own kind. */
static void sleep_once(int kind, int64_t ns)
{
	struct timespec ts = ns_ts(ns);
	struct itimerspec its = { .it_value = ts };
	struct timeval tv = { ns / NSEC_PER_SEC, ns % NSEC_PER_SEC / 1000 };
	uint64_t ticks;
	int fd;

	switch (kind) {
	case 0:
		nanosleep(&ts, NULL);
		break;
	case 1:
		ts = ns_ts(mono_ns() + ns);
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		break;
	case 2:
		fd = timerfd_create(CLOCK_MONOTONIC, 0);
		if (fd >= 0 && !timerfd_settime(fd, 0, &its, NULL))
			while (read(fd, &ticks, sizeof(ticks)) < 0 && errno == EINTR)
				;
		if (fd >= 0)
			close(fd);
		break;
	case 3:
		poll(NULL, 0, ns / NSEC_PER_MSEC);
		break;
	default:
		select(0, NULL, NULL, NULL, &tv);
		break;
	}
}

/* Round @ns down to what each kind can ask for. */
static int64_t sleep_grain(int kind, int64_t ns)
{
	if (kind == 3)
		return ns / NSEC_PER_MSEC * NSEC_PER_MSEC;
	if (kind == 4)
		return ns / 1000 * 1000;
	return ns;
}

static void *sleeper_main(void *arg)
{
	int id = (int)(intptr_t)arg, kind = id % 5;
	unsigned int seed = id * 2654435761u;

	while (!atomic_load(&stop)) {
		int64_t real = NSEC_PER_MSEC + rand_r(&seed) % MAX_SLEEP_NS;
		int64_t want = sleep_grain(kind, real * ratio_now());
		int64_t t0 = mono_ns(), got;

		sleep_once(kind, want);
		got = mono_ns() - t0;
		atomic_fetch_add(&st.timers, 1);
		if (got < want) {
			int64_t early = want - got, worst = atomic_load(&st.worst_early_ns);

			atomic_fetch_add(&st.early, 1);
			while (early > worst &&
			       !atomic_compare_exchange_weak(&st.worst_early_ns, &worst, early))
				;
		}
	}
	return NULL;
}

/* Busy and total jiffies of all CPUs from /proc/stat's first line. */
static void cpu_ticks(unsigned long long *busy, unsigned long long *total)
{
	unsigned long long v[10] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	int i;

	*busy = *total = 0;
	if (!f)
		return;
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
		   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8],
		   &v[9]) < 5) {
		fclose(f);
		return;
	}
	fclose(f);
	for (i = 0; i < 8; i++)
		*total += v[i];
	*busy = *total - v[3] - v[4];	/* minus idle and iowait */
}

/* The idle machine's cost at the first ratio of the plan. */
static void measure_idle(double *irq_rate, double *busy_pct)
{
	unsigned long long b0, b1, t0, t1;
	long long i0, i1;
	int64_t r0, r1;
	/* Twenty sleeps, each as long in real time as a twentieth of it */
	int64_t step = opt.idle_ns / 20;
	int k;

	cpu_ticks(&b0, &t0);
	i0 = timer_interrupts();
	r0 = raw_ns();
	for (k = 0; k < 20; k++) {
		struct timespec ts = ns_ts(step * ratio_now());

		nanosleep(&ts, NULL);
	}
	r1 = raw_ns();
	i1 = timer_interrupts();
	cpu_ticks(&b1, &t1);
	*irq_rate = i0 < 0 || i1 < 0 ? 0 : (double)(i1 - i0) * NSEC_PER_SEC / (r1 - r0);
	*busy_pct = t1 > t0 ? 100.0 * (b1 - b0) / (t1 - t0) : 0;
}

static void parse_plan(char *s)
{
	char *tok, *save = NULL, *end;
	long r;

	for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		r = strtol(tok, &end, 10);
		if (*end || r < 1 || r > 1000 || opt.nr_plan == MAX_PLAN)
			ksft_exit_fail_msg("bad ratio plan entry '%s' (1..1000, at most %d)\n",
					   tok, MAX_PLAN);
		opt.plan[opt.nr_plan++] = (int)r;
	}
}

static void parse_args(int argc, char **argv)
{
	char *end;
	int c;

	while ((c = getopt(argc, argv, "t:r:d:n:p:i:")) != -1) {
		switch (c) {
		case 't':
			opt.real_ns = strtoll(optarg, &end, 10) * NSEC_PER_SEC;
			if (*end || opt.real_ns <= 0)
				ksft_exit_fail_msg("-t takes whole real seconds\n");
			break;
		case 'r':
			parse_plan(optarg);
			break;
		case 'd':
			if (opt.nr_dirs == MAX_DIRS)
				ksft_exit_fail_msg("at most %d directories (-d)\n", MAX_DIRS);
			opt.dirs[opt.nr_dirs++] = optarg;
			break;
		case 'n':
			opt.netns_pid = atoi(optarg);
			break;
		case 'p':
			opt.peer = optarg;
			break;
		case 'i':
			opt.idle_ns = strtoll(optarg, &end, 10) * NSEC_PER_SEC;
			if (*end || opt.idle_ns < 0)
				ksft_exit_fail_msg("-i takes whole real seconds\n");
			break;
		default:
			ksft_exit_fail_msg("usage: accel-soak [-t REAL_S] [-r R1,R2,...] [-d DIR]... [-n NETNS_PID -p ADDR] [-i IDLE_S]\n");
		}
	}
	if (!opt.nr_plan)
		opt.plan[opt.nr_plan++] = ratio_now();
	if (!opt.nr_dirs)
		opt.dirs[opt.nr_dirs++] = "/mnt/disk";
	opt.nr_writers = opt.nr_dirs == 1 ? NR_WRITERS : opt.nr_dirs;
	if (!!opt.netns_pid != !!opt.peer)
		ksft_exit_fail_msg("-n and -p go together\n");
}

/* The highest ratio of the plan. */
static int plan_max(void)
{
	int i, rmax = 1;

	for (i = 0; i < opt.nr_plan; i++)
		rmax = opt.plan[i] > rmax ? opt.plan[i] : rmax;
	return rmax;
}

/* hrtimer interrupt counters summed over the CPUs, from /proc/timer_list */
struct hrt_stat {
	unsigned long long irqs, retries, hangs;
};

static void hrt_read(struct hrt_stat *hs)
{
	FILE *f = fopen("/proc/timer_list", "r");
	char line[256];
	unsigned long long v;

	memset(hs, 0, sizeof(*hs));
	if (!f)
		ksft_exit_fail_msg("/proc/timer_list: %s\n", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " .nr_events : %llu", &v) == 1)
			hs->irqs += v;
		else if (sscanf(line, " .nr_retries : %llu", &v) == 1)
			hs->retries += v;
		else if (sscanf(line, " .nr_hangs : %llu", &v) == 1)
			hs->hangs += v;
	}
	fclose(f);
}

/* Add @d to @acc; a negative @sign subtracts it. */
static void hrt_add(struct hrt_stat *acc, const struct hrt_stat *d, int sign)
{
	acc->irqs += sign * d->irqs;
	acc->retries += sign * d->retries;
	acc->hangs += sign * d->hangs;
}

/* Add the counts since @from to @acc and move @from to now. */
static void hrt_account(struct hrt_stat *acc, struct hrt_stat *from)
{
	struct hrt_stat now;

	hrt_read(&now);
	hrt_add(acc, &now, 1);
	hrt_add(acc, from, -1);
	*from = now;
}

static double hrt_rate(const struct hrt_stat *hs)
{
	return hs->irqs ? (double)hs->retries / hs->irqs : 0;
}

/*
 * Compare the handler's extra passes per interrupt at the highest ratio of
 * the plan with those at R=1 (segments of the same ratio added up).
 */
static void hrt_check(const struct hrt_stat *seg)
{
	struct hrt_stat one = { 0 }, top = { 0 };
	int i, rmax = plan_max();

	for (i = 0; i < opt.nr_plan; i++) {
		struct hrt_stat *to = opt.plan[i] == 1 ? &one :
				      opt.plan[i] == rmax ? &top : NULL;

		ksft_print_msg("hrtimer at R=%d: %llu interrupts, %llu extra passes (%.2f%%), %llu hangs\n",
			       opt.plan[i], seg[i].irqs, seg[i].retries,
			       100 * hrt_rate(&seg[i]), seg[i].hangs);
		if (to)
			hrt_add(to, &seg[i], 1);
	}
	if (rmax == 1 || !one.irqs) {
		ksft_test_result_skip("hrtimer interrupt passes: the plan needs R=1 and a higher ratio to compare\n");
		return;
	}
	ksft_test_result(hrt_rate(&top) <= RETRY_FACTOR * hrt_rate(&one) + RETRY_SLACK,
			 "hrtimer interrupt extra passes at R=%d: %.2f%% of %llu interrupts, at R=1: %.2f%% of %llu (at most %.0fx + %.0f points)\n",
			 rmax, 100 * hrt_rate(&top), top.irqs, 100 * hrt_rate(&one),
			 one.irqs, RETRY_FACTOR, 100 * RETRY_SLACK);
}

/*
 * Split the run into equal real segments, one per plan entry, and give a
 * plan that never visits R=1 a baseline segment at R=1 before it, so that
 * every boot compares the hrtimer handler's extra passes (hrt_check()).
 */
static void plan_segments(void)
{
	int i, has_one = 0;
	int64_t seg = opt.real_ns / opt.nr_plan;

	for (i = 0; i < opt.nr_plan; i++) {
		opt.seg_ns[i] = seg;
		has_one |= opt.plan[i] == 1;
	}
	if (has_one || !have_accel)
		return;
	if (opt.nr_plan == MAX_PLAN)
		ksft_exit_fail_msg("a plan without R=1 has at most %d entries\n", MAX_PLAN - 1);
	for (i = opt.nr_plan; i > 0; i--) {
		opt.plan[i] = opt.plan[i - 1];
		opt.seg_ns[i] = opt.seg_ns[i - 1];
	}
	opt.plan[0] = 1;
	opt.seg_ns[0] = seg < BASELINE_MAX_NS ? seg : BASELINE_MAX_NS;
	opt.nr_plan++;
	ksft_print_msg("no R=1 segment in the plan: %lld real s at R=1 before it as the baseline\n",
		       (long long)(opt.seg_ns[0] / NSEC_PER_SEC));
}

int main(int argc, char **argv)
{
	pthread_t writers[MAX_DIRS > NR_WRITERS ? MAX_DIRS : NR_WRITERS];
	pthread_t sleepers[NR_SLEEPERS], loop, veth;
	bool disks_ok = true;
	int64_t t_start, m_start, seg_end, last_mono, now_mono, now_raw;
	int64_t prev_raw, backwards = 0;
	unsigned long long samples = 0;
	double want_accel = 0, got_accel, irq_rate = 0, busy_pct = 0;
	int seg = 0, i, changes = 0, boot_ratio, status, err;
	unsigned long long off_plan = 0;
	struct hrt_stat hrt_seg[MAX_PLAN] = { 0 }, hrt_mark, hrt_all = { 0 };
	pid_t server = 0;

	have_accel = !access(ACCEL_SYSCTL, F_OK);
	parse_args(argc, argv);
	for (i = 0; i < opt.nr_plan && !have_accel; i++)
		if (opt.plan[i] != 1)
			accel_require();
	boot_ratio = have_accel ? accel_get() : 1;
	for (i = 0; i < opt.nr_dirs; i++)
		if (mkdir(opt.dirs[i], 0755) && errno != EEXIST)
			ksft_exit_fail_msg("%s: %s\n", opt.dirs[i], strerror(errno));

	ksft_print_header();
	ksft_set_plan(8);
	if (!have_accel)
		ksft_print_msg("%s: not a dynaccel kernel: the load at R=1 only\n", ACCEL_SYSCTL);

	/* The idle machine at the plan's first ratio, then the baseline. */
	if (have_accel)
		accel_set(opt.plan[0]);
	if (opt.idle_ns) {
		measure_idle(&irq_rate, &busy_pct);
		ksft_print_msg("idle at R=%d for %lld real s: %.1f timer interrupts/s, %.2f%% CPU busy\n",
			       opt.plan[0], (long long)(opt.idle_ns / NSEC_PER_SEC),
			       irq_rate, busy_pct);
	}
	plan_segments();
	if (have_accel)
		accel_set(opt.plan[0]);

	for (i = 0; i < opt.nr_writers; i++)
		pthread_create(&writers[i], NULL, writer_main, (void *)(intptr_t)i);
	for (i = 0; i < NR_SLEEPERS; i++)
		pthread_create(&sleepers[i], NULL, sleeper_main, (void *)(intptr_t)i);
	pthread_create(&loop, NULL, loopback_main, NULL);
	if (opt.netns_pid) {
		server = start_veth_server();
		pthread_create(&veth, NULL, veth_main, NULL);
	}

	/*
	 * The ratio plan, in equal real segments; the accelerated time the
	 * plan should produce is summed from the real length of each segment.
	 */
	hrt_read(&hrt_mark);
	t_start = prev_raw = raw_ns();
	m_start = last_mono = mono_ns();
	seg_end = t_start + opt.seg_ns[0];
	for (;;) {
		struct timespec ts = ns_ts(SAMPLE_REAL_NS * opt.plan[seg]);

		nanosleep(&ts, NULL);
		now_mono = mono_ns();
		now_raw = raw_ns();
		samples++;
		if (now_mono < last_mono)
			backwards++;
		last_mono = now_mono;
		/* The kernel still runs the plan's ratio: nothing reset it. */
		if (ratio_now() != opt.plan[seg])
			off_plan++;
		if (now_raw < seg_end)
			continue;
		want_accel += (double)(now_raw - prev_raw) * opt.plan[seg];
		prev_raw = now_raw;
		hrt_account(&hrt_seg[seg], &hrt_mark);
		if (++seg == opt.nr_plan)
			break;
		err = have_accel ? accel_try_set(opt.plan[seg]) : 0;
		if (err)
			ksft_print_msg("setting kernel.accel=%d: %s\n", opt.plan[seg], strerror(err));
		/* Counted only when the kernel reads back the new ratio. */
		if (ratio_now() == opt.plan[seg])
			changes++;
		seg_end += opt.seg_ns[seg];
	}
	got_accel = (double)(mono_ns() - m_start);
	want_accel += (double)(raw_ns() - prev_raw) * opt.plan[seg - 1];

	/*
	 * Wind down at the plan's highest ratio: a sleep armed at R=1000 and
	 * left running after a drop to R=1 would otherwise hold the join for
	 * up to MAX_SLEEP_NS x 1000 of real time. Raising the ratio only ends
	 * sleeps sooner in real time, never early in accelerated time.
	 */
	atomic_store(&stop, true);
	if (have_accel)
		accel_try_set(plan_max());
	for (i = 0; i < NR_SLEEPERS; i++)
		pthread_join(sleepers[i], NULL);
	pthread_join(loop, NULL);
	if (opt.netns_pid) {
		pthread_join(veth, NULL);
		/* Never connected: the server still waits in accept(). */
		if (!atomic_load(&veth_connected))
			kill(server, SIGKILL);
		waitpid(server, &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			note_error(&st.net_errors, "veth server in namespace of %d failed",
				   opt.netns_pid);
	}
	for (i = 0; i < opt.nr_writers; i++)
		pthread_join(writers[i], NULL);

	/* Every disk did its share: none may stall while the others run */
	for (i = 0; i < opt.nr_dirs; i++) {
		ksft_print_msg("disk %s: %.1f MiB written, %.1f MiB verified, %u mismatches, %u I/O errors\n",
			       opt.dirs[i], dst[i].written / 1048576.0,
			       dst[i].verified / 1048576.0, dst[i].mismatches, dst[i].io_errors);
		if (!dst[i].verified)
			disks_ok = false;
	}
	ksft_test_result(!st.io_errors && !st.mismatches && disks_ok,
			 "disk (%d %s): %llu files, %.1f MiB written with fdatasync every 64 KiB, %.1f MiB read back with O_DIRECT and verified, %u mismatches, %u I/O errors%s%s\n",
			 opt.nr_dirs, opt.nr_dirs > 1 ? "file systems, each verified some" : "file system",
			 (unsigned long long)st.files, st.written / 1048576.0,
			 st.verified / 1048576.0, st.mismatches, st.io_errors,
			 first_error[0] ? ": " : "", first_error);
	ksft_test_result(!st.net_errors && st.loop_bytes > 0,
			 "tcp over loopback: %.1f MiB echoed and verified%s%s\n",
			 st.loop_bytes / 1048576.0, st.net_errors ? ": " : "",
			 st.net_errors ? first_error : "");
	if (opt.netns_pid)
		ksft_test_result(!st.net_errors && st.veth_bytes > 0,
				 "tcp to %s in another network namespace: %.1f MiB echoed and verified\n",
				 opt.peer, st.veth_bytes / 1048576.0);
	else
		ksft_test_result_skip("tcp over veth: no network namespace given (-n, -p)\n");
	ksft_test_result(!st.early && st.timers > 0,
			 "timers: %llu sleeps by %d threads (nanosleep, clock_nanosleep, timerfd, poll, select), %u early (worst %lld ns)\n",
			 (unsigned long long)st.timers, NR_SLEEPERS, st.early,
			 (long long)st.worst_early_ns);
	ksft_test_result(changes == opt.nr_plan - 1 && !off_plan,
			 "ratio changes during the load: %d of %d read back from the kernel, %llu of %llu samples off the plan\n",
			 changes, opt.nr_plan - 1, off_plan, samples);
	ksft_test_result(!backwards && samples > 0,
			 "CLOCK_MONOTONIC never went back in %llu samples\n", samples);
	/*
	 * The contract's rate bound over the whole run: ratio changes are
	 * written by this thread, so each segment boundary costs one sysctl
	 * write of skew.
	 */
	ksft_test_result(rel_err(got_accel, want_accel) <= rate_tol(),
			 "accelerated time elapsed follows the ratio plan: %.3f s, want %.3f s (within %.1f%%, %s)\n",
			 got_accel / 1e9, want_accel / 1e9, rate_tol() * 100, accel_env());
	hrt_check(hrt_seg);
	for (i = 0; i < opt.nr_plan; i++)
		hrt_add(&hrt_all, &hrt_seg[i], 1);
	printf("# soak-figures: plan=");
	for (i = 0; i < opt.nr_plan; i++)
		printf("%s%d", i ? "," : "", opt.plan[i]);
	printf(" real_s=%.1f accel_s=%.1f idle_irq_per_s=%.1f idle_busy_pct=%.2f written_bytes=%llu verified_bytes=%llu loop_bytes=%llu veth_bytes=%llu timers=%llu early=%u changes=%d hrt_irqs=%llu hrt_passes=%llu hrt_hangs=%llu\n",
	       (raw_ns() - t_start) / 1e9, got_accel / 1e9, irq_rate, busy_pct,
	       (unsigned long long)st.written, (unsigned long long)st.verified,
	       (unsigned long long)st.loop_bytes, (unsigned long long)st.veth_bytes,
	       (unsigned long long)st.timers, st.early, changes, hrt_all.irqs,
	       hrt_all.retries, hrt_all.hangs);
	for (i = 0; i < opt.nr_dirs; i++)
		printf("# soak-disk: dir=%s written_bytes=%llu verified_bytes=%llu mismatches=%u io_errors=%u\n",
		       opt.dirs[i], (unsigned long long)dst[i].written,
		       (unsigned long long)dst[i].verified, dst[i].mismatches, dst[i].io_errors);
	if (have_accel)
		accel_set(boot_ratio);
	ksft_finished();
}
