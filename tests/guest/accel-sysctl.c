// SPDX-License-Identifier: GPL-2.0
/*
 * accel-sysctl: the kernel.accel interface (docs/contract.md 1).
 *
 * Valid values take effect and read back; every invalid write fails with
 * EINVAL and leaves the ratio alone; writers without CAP_SYS_TIME in the
 * initial user namespace (a root without the capability, an ordinary user,
 * a container's root) are refused and leave it alone too; a change takes
 * effect at once on every CPU, and wakes readers polling the file.
 * kernel.accel_horizon refuses a ratio that would take CLOCK_BOOTTIME to
 * its limit within it, and logs the wall clock's.
 */
#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "accel.h"

#define SENTINEL	7	/* a ratio no test sets by accident */

static const char * const invalid[] = {
	"0", "-1", "-1000", "1001", "2147483648", "4294967297",
	"99999999999999999999", "abc", "10x", "1.5", "5 5", "", "\n",
};
#define NR_INVALID	((int)(sizeof(invalid) / sizeof(invalid[0])))

static const char * const valid[] = { "1", "2\n", "10", "100\n", "999", "1000\n" };
#define NR_VALID	((int)(sizeof(valid) / sizeof(valid[0])))

/*
 * The file is writable by all, like kernel.ns_last_pid, so that the
 * kernel's capability check decides and a refused writer gets EPERM
 * (docs/contract.md 1) rather than the file mode's EACCES.
 */
static void check_file(void)
{
	struct stat st;

	ksft_test_result(stat(ACCEL_SYSCTL, &st) == 0 && (st.st_mode & 0777) == 0666 &&
			 st.st_uid == 0, "%s exists, root-owned, mode 0666\n", ACCEL_SYSCTL);
}

static void check_read_format(void)
{
	char buf[32] = "";
	int fd = open(ACCEL_SYSCTL, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	ksft_test_result(n == 2 && !strcmp(buf, "1\n"),
			 "default ratio reads \"1\\n\" (read %zd bytes)\n", n);
}

static void check_valid(const char *v)
{
	int err = accel_write(v, strlen(v));
	int got = accel_get();

	ksft_test_result(!err && got == atoi(v), "write \"%.*s\" reads back %d (%s)\n",
			 (int)strcspn(v, "\n"), v, got, err ? strerror(err) : "ok");
}

static void check_invalid(const char *v)
{
	int err, got;

	accel_set(SENTINEL);
	err = accel_write(v, strlen(v));
	got = accel_get();
	ksft_test_result(err == EINVAL && got == SENTINEL,
			 "invalid write \"%.*s\": %s, ratio %d (want EINVAL, %d)\n",
			 (int)strcspn(v, "\n"), v, err ? strerror(err) : "accepted",
			 got, SENTINEL);
}

/* Run @fn in a child; return what it returns (an errno) or -1. */
static int in_child(int (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(fn());
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static int write_five(void)
{
	return accel_write("5", 1);
}

/* Still uid 0, but without CAP_SYS_TIME in any set. */
static int drop_cap_sys_time(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return 100;
	d[CAP_SYS_TIME / 32].effective &= ~(1u << (CAP_SYS_TIME % 32));
	d[CAP_SYS_TIME / 32].permitted &= ~(1u << (CAP_SYS_TIME % 32));
	if (syscall(SYS_capset, &h, d))
		return 101;
	return write_five();
}

static int as_nobody(void)
{
	if (setgid(65534) || setuid(65534))
		return 100;
	return write_five();
}

/* Root of a new user namespace: every capability, but not in init's. */
static int as_container_root(void)
{
	int fd;

	if (unshare(CLONE_NEWUSER))
		return 100;
	fd = open("/proc/self/uid_map", O_WRONLY);
	if (fd < 0 || write(fd, "0 0 1", 5) != 5)
		return 101;
	close(fd);
	return write_five();
}

static void check_refused(const char *who, int (*fn)(void), int want)
{
	int err;

	accel_set(SENTINEL);
	err = in_child(fn);
	ksft_test_result(err == want && accel_get() == SENTINEL,
			 "%s cannot write: %s, ratio %d (want %s, %d)\n", who,
			 err > 0 && err < 100 ? strerror(err) : "child failed",
			 accel_get(), strerror(want), SENTINEL);
}

/*
 * A ratio written on CPU 0 is in force on each CPU at once: the first real
 * 50 ms measured there already run R times as fast.
 */
static void check_every_cpu(int cpu)
{
	cpu_set_t set;
	double rate;

	accel_set(1);
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		ksft_test_result_fail("pin to CPU 0: %s\n", strerror(errno));
		return;
	}
	accel_set(1000);
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		ksft_test_result_fail("pin to CPU %d: %s\n", cpu, strerror(errno));
		return;
	}
	rate = mono_rate(50 * NSEC_PER_MSEC);
	ksft_test_result(rel_err(rate, 1000) <= rate_tol(),
			 "ratio written on CPU 0 in force on CPU %d at once: rate %.2f (within %.1f%%, %s)\n",
			 cpu, rate, rate_tol() * 100, accel_env());
	accel_set(1);
}

/* POLLPRI from poll() on an open kernel.accel within @ms, or 0 */
static int accel_poll(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLPRI };

	return poll(&p, 1, ms) == 1 ? p.revents & POLLPRI : 0;
}

/*
 * A reader polling kernel.accel is woken by a change of R, once, and not
 * by a write of the same value: that is what lets user space keep a real
 * deadline without waking up periodically (guest/rawtimeout.c).
 */
static void check_poll(void)
{
	int fd = open(ACCEL_SYSCTL, O_RDONLY);
	int quiet, same, changed, once;

	if (fd < 0)
		ksft_exit_fail_msg("%s: %s\n", ACCEL_SYSCTL, strerror(errno));
	accel_set(1);
	quiet = accel_poll(fd, 100);
	accel_set(1);
	same = accel_poll(fd, 100);
	accel_set(10);
	changed = accel_poll(fd, 100);
	once = accel_poll(fd, 100);
	accel_set(1);
	close(fd);
	ksft_test_result(!quiet && !same && changed && !once,
			 "poll() on kernel.accel: POLLPRI after a change of R (%s), not before (%s), not for the same value (%s), once (%s)\n",
			 changed ? "yes" : "no", quiet ? "woke" : "quiet",
			 same ? "woke" : "quiet", once ? "woke again" : "yes");
}

/* ---- kernel.accel_horizon ---- */

#define HORIZON_SYSCTL	"/proc/sys/kernel/accel_horizon"
#define DAY		86400

/* Write @v to kernel.accel_horizon: 0 or the errno of the write. */
static int horizon_write(const char *v)
{
	return file_write(HORIZON_SYSCTL, v, strlen(v));
}

static long horizon_read(void)
{
	return file_read_long(HORIZON_SYSCTL);
}

/* How many kernel log lines contain @what */
static int log_count(const char *what)
{
	char line[512];
	FILE *f = popen("dmesg", "r");
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += !!strstr(line, what);
	pclose(f);
	return n;
}

/*
 * At R=1000 CLOCK_BOOTTIME reaches 2^63 ns after about 107 real days,
 * CLOCK_REALTIME the year 2262 after about 86 days (from 2026) and 2038
 * after about 4. A horizon of 200 days refuses 1000 (ERANGE, R stays)
 * but not 100 (1068 days); one of 100 days lets 1000 through with the
 * wall clock's limits logged; junk is EINVAL and changes nothing.
 */
static void check_horizon(void)
{
	char v[32];
	int err, r, refused0 = log_count("refusing R=1000"),
	    rt0 = log_count("CLOCK_REALTIME reaches KTIME_MAX"),
	    t32 = log_count("end of 32-bit time_t");

	accel_set(1);
	snprintf(v, sizeof(v), "%d\n", 200 * DAY);
	if (horizon_write(v)) {
		ksft_test_result_fail("kernel.accel_horizon: cannot write %d: %s\n", 200 * DAY,
				      strerror(errno));
		ksft_test_result_skip("R=100 within the horizon\n");
		ksft_test_result_skip("wall clock limits logged\n");
		ksft_test_result_skip("junk horizon\n");
		return;
	}
	err = accel_try_set(1000);
	r = accel_get();
	ksft_test_result(err == ERANGE && r == 1 && log_count("refusing R=1000") > refused0,
			 "accel_horizon=200 days: R=1000 (BOOTTIME's limit in ~107 days) refused with ERANGE (got %s), R stays 1 (%d), logged\n",
			 err ? strerror(err) : "success", r);

	err = accel_try_set(100);
	r = accel_get();
	ksft_test_result(!err && r == 100, "accel_horizon=200 days: R=100 (~1068 days) accepted (%s, R=%d)\n",
			 err ? strerror(err) : "ok", r);
	accel_set(1);

	snprintf(v, sizeof(v), "%d", 100 * DAY);
	err = horizon_write(v) ?: accel_try_set(1000);
	r = accel_get();
	ksft_test_result(!err && r == 1000 &&
			 log_count("CLOCK_REALTIME reaches KTIME_MAX") > rt0 &&
			 log_count("end of 32-bit time_t") > t32,
			 "accel_horizon=100 days: R=1000 accepted (%s), with 2262 and 2038 within the horizon logged\n",
			 err ? strerror(err) : "ok");
	accel_set(1);

	err = horizon_write("12x");
	ksft_test_result(err == EINVAL && horizon_read() == 100 * DAY,
			 "accel_horizon: '12x' fails with EINVAL (%s) and leaves %ld\n",
			 err ? strerror(err) : "success", horizon_read());
	horizon_write("0");
}

int main(void)
{
	int i, ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	ksft_print_header();
	ksft_set_plan(2 + NR_VALID + NR_INVALID + 3 + ncpu + 1 + 4);
	accel_require();

	check_file();
	check_read_format();
	for (i = 0; i < NR_VALID; i++)
		check_valid(valid[i]);
	for (i = 0; i < NR_INVALID; i++)
		check_invalid(invalid[i]);
	check_refused("root without CAP_SYS_TIME", drop_cap_sys_time, EPERM);
	check_refused("uid 65534", as_nobody, EPERM);
	check_refused("root of a user namespace", as_container_root, EPERM);
	for (i = 0; i < ncpu; i++)
		check_every_cpu(i);
	check_poll();
	check_horizon();
	accel_set(1);
	ksft_finished();
}
