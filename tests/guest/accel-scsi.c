// SPDX-License-Identifier: GPL-2.0
/*
 * accel-scsi: SCSI's time limit on a command's retries counts real time
 * (docs/contract.md 3, Documentation/timers/dynaccel.rst "Which waits are
 * real").
 *
 * A disk that answers "not ready, becoming ready" (sense 02h, 04h/01h) has
 * its command retried by the SCSI midlayer, the first few times as counted
 * retries and then without counting, until (allowed + 1) command timeouts
 * have passed since the command was allocated; then the midlayer gives up
 * ("timing out command, waited Ns") and the I/O fails. That limit waits
 * for the hardware. Counted in accelerated jiffies, at R=1000 sd's limit of
 * 6 x 30 s would fail a write after 0.18 s of real time, and a disk that
 * takes a second to become ready would lose the write.
 *
 * A scsi_debug disk is made to answer WRITE(10) that way through its error
 * injection (debugfs), and one 4 KiB O_DIRECT write is timed in real time:
 *
 *   - R=1000, the disk ready again HOLD_S real seconds into the write,
 *     far inside the limit: the write succeeds, once the disk is ready and
 *     at most SLACK_MS after;
 *   - a 1 s command timeout (limit LIMIT_S), the disk never ready, at R=1
 *     and at R=1000: the write fails with EIO after LIMIT_S of real time,
 *     never before, and at most SLACK_MS after. The fault is still caught,
 *     in real time.
 *
 * Its own boot (tests/guest/suites): the failed writes log I/O errors.
 */
#include <dirent.h>
#include <pthread.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "accel.h"

#define MODULE_PATH	"/usr/lib/dynaccel/modules/scsi_debug.ko"
#define DEBUGFS		"/sys/kernel/debug"
#define HOLD_S		2
#define LIMIT_S		6	/* (SD_MAX_RETRIES + 1) x 1 s */
#define SLACK_MS	1000
#define BLOCK		4096

/* "not ready, becoming ready" for every WRITE(10): type 2 (fail command) */
#define INJECT		"2 1 0x2a 0x0 0x0 0x2 0x2 0x4 0x1"
#define UNINJECT	"- 2 0x2a"

static char disk[256];		/* sdX */
static char errfile[512];	/* its debugfs error injection */

/* The scsi_debug disk's name into disk[]: 0, or -1 if none appears in 20 s. */
static int find_disk(void)
{
	int64_t end = raw_ns() + 20 * NSEC_PER_SEC;

	do {
		DIR *d = opendir("/sys/block");
		struct dirent *e;

		while (d && (e = readdir(d))) {
			char path[300], model[64] = "";

			if (strlen(e->d_name) >= sizeof(disk))
				continue;
			FILE *f;

			if (strncmp(e->d_name, "sd", 2))
				continue;
			snprintf(path, sizeof(path), "/sys/block/%s/device/model", e->d_name);
			f = fopen(path, "r");
			if (!f)
				continue;
			if (!fgets(model, sizeof(model), f))
				model[0] = '\0';
			fclose(f);
			if (!strncmp(model, "scsi_debug", 10)) {
				snprintf(disk, sizeof(disk), "%s", e->d_name);
				closedir(d);
				return 0;
			}
		}
		if (d)
			closedir(d);
		usleep(100000);
	} while (raw_ns() < end);
	return -1;
}

/* The error injection file of disk[] into errfile[]: 0 or -1. */
static int find_errfile(void)
{
	char link[300], target[300];
	ssize_t n;

	snprintf(link, sizeof(link), "/sys/block/%.200s/device", disk);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return -1;
	target[n] = '\0';
	snprintf(errfile, sizeof(errfile), DEBUGFS "/scsi_debug/%s/error",
		 strrchr(target, '/') ? strrchr(target, '/') + 1 : target);
	return access(errfile, W_OK) ? -1 : 0;
}

static int set_timeout(int seconds)
{
	char path[300], buf[16];
	int n = snprintf(buf, sizeof(buf), "%d\n", seconds);

	snprintf(path, sizeof(path), "/sys/block/%.200s/device/timeout", disk);
	return file_write(path, buf, n);
}

struct write_result {
	int err;		/* 0 or the errno of the write */
	int64_t real_ns;	/* how long it took */
	int64_t end;		/* raw_ns() when it returned */
};

/* One 4 KiB O_DIRECT write at the start of the disk, timed in real time. */
static void *write_block(void *arg)
{
	struct write_result *w = arg;
	char dev[80];
	void *buf;
	int64_t t0;
	int fd;

	snprintf(dev, sizeof(dev), "/dev/%.70s", disk);
	w->err = EINVAL;
	if (posix_memalign(&buf, BLOCK, BLOCK))
		return NULL;
	memset(buf, 0x5a, BLOCK);
	fd = open(dev, O_WRONLY | O_DIRECT);
	if (fd < 0) {
		w->err = errno;
		free(buf);
		return NULL;
	}
	t0 = raw_ns();
	w->err = pwrite(fd, buf, BLOCK, 0) == BLOCK ? 0 : (errno ? errno : EIO);
	w->end = raw_ns();
	w->real_ns = w->end - t0;
	close(fd);
	free(buf);
	return NULL;
}

/* R=1000, the disk ready again after HOLD_S: the write must get through. */
static void becoming_ready(void)
{
	struct write_result w = { 0 };
	int64_t ready, late;
	pthread_t t;
	int err;

	if (set_timeout(30) || file_write(errfile, INJECT, strlen(INJECT))) {
		ksft_test_result_fail("setting up the disk (timeout, injection)\n");
		return;
	}
	accel_set(1000);
	if (pthread_create(&t, NULL, write_block, &w))
		ksft_exit_fail_msg("pthread_create\n");
	spin_real(HOLD_S * NSEC_PER_SEC);
	ready = raw_ns();
	err = file_write(errfile, UNINJECT, strlen(UNINJECT));
	pthread_join(t, NULL);
	accel_set(1);
	if (err)
		ksft_exit_fail_msg("removing the injection: %s\n", strerror(err));
	late = w.end - ready;
	ksft_test_result(!w.err && late >= 0 && late <= SLACK_MS * NSEC_PER_MSEC,
			 "R=1000, disk ready %d s into the write (limit 6 x 30 s): the write %s %.3f real s after that, %.3f s in all (want success, 0..%.3f s after)\n",
			 HOLD_S, w.err ? strerror(w.err) : "succeeded", late / 1e9,
			 w.real_ns / 1e9, SLACK_MS / 1e3);
}

/* A 1 s command timeout, the disk never ready: the write fails at LIMIT_S. */
static void never_ready(int r)
{
	int64_t lo = LIMIT_S * NSEC_PER_SEC;
	int64_t hi = LIMIT_S * NSEC_PER_SEC + SLACK_MS * NSEC_PER_MSEC;
	struct write_result w = { 0 };
	int err;

	if (set_timeout(1) || file_write(errfile, INJECT, strlen(INJECT))) {
		ksft_test_result_fail("setting up the disk (timeout, injection)\n");
		return;
	}
	accel_set(r);
	write_block(&w);
	accel_set(1);
	err = file_write(errfile, UNINJECT, strlen(UNINJECT));
	if (err)
		ksft_exit_fail_msg("removing the injection: %s\n", strerror(err));
	ksft_test_result(w.err == EIO && w.real_ns >= lo && w.real_ns <= hi,
			 "R=%d, 1 s timeout, disk never ready: the write %s after %.3f real s (want EIO, %.3f..%.3f s)\n",
			 r, w.err ? strerror(w.err) : "succeeded", w.real_ns / 1e9,
			 lo / 1e9, hi / 1e9);
}

int main(void)
{
	char cmd[256];

	ksft_print_header();
	accel_require();
	ksft_set_plan(3);

	if (access(DEBUGFS "/scsi_debug", F_OK) &&
	    mount("debugfs", DEBUGFS, "debugfs", 0, NULL) && errno != EBUSY)
		ksft_exit_fail_msg("mounting debugfs: %s\n", strerror(errno));
	snprintf(cmd, sizeof(cmd), "insmod %s dev_size_mb=8 delay=0", MODULE_PATH);
	if (run(cmd))
		ksft_exit_fail_msg("%s failed\n", cmd);
	if (find_disk())
		ksft_exit_fail_msg("no scsi_debug disk in /sys/block after 20 s\n");
	if (find_errfile())
		ksft_exit_fail_msg("no error injection for %s (%s)\n", disk, errfile);
	ksft_print_msg("scsi_debug disk %s, injection %s\n", disk, errfile);

	becoming_ready();
	never_ready(1);
	never_ready(1000);

	set_timeout(30);
	run("rmmod scsi_debug");
	ksft_finished();
}
