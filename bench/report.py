#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Render build/bench/report.md and its PNG plots from make bench's raw results.

    report.py RAW_DIR OUT_DIR

RAW_DIR holds what scripts/bench.sh collected: bench-dynaccel.txt and
bench-base.txt (the guests' results channels), host-alt.txt (the
libfaketime probes on the host) and meta.txt. Every figure in the report is
computed here from those lines; the plots are drawn by gnuplot.
"""

import collections
import math
import os
import subprocess
import sys

RATIOS = [1, 2, 10, 100, 1000]
RATE_CLOCKS = ["MONOTONIC", "MONOTONIC_syscall", "REALTIME", "BOOTTIME", "TAI",
               "gettimeofday", "MONOTONIC_COARSE", "REALTIME_COARSE"]
LATE_KINDS = ["nanosleep", "timerfd", "poll", "SO_RCVTIMEO"]
DEMO_KINDS = ["minute", "hourly", "rotate", "report", "heartbeat"]
ALT_VARIANTS = ["dynamic", "static", "direct"]


def quantile(vals, q):
    """Linear interpolation between closest ranks; q in [0, 1]."""
    s = sorted(vals)
    if not s:
        return float("nan")
    pos = (len(s) - 1) * q
    lo = math.floor(pos)
    hi = math.ceil(pos)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def median(vals):
    return quantile(vals, 0.5)


def read_lines(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8", errors="replace") as f:
        return [line.split() for line in f if line.strip()]


def fmt(v, nd=2):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return f"{v:.{nd}f}"


class Data:
    def __init__(self, raw):
        self.meta = {}
        self.info = collections.defaultdict(dict)
        self.rate = collections.defaultdict(list)     # (r, win_ms, clock) -> rates
        self.late = collections.defaultdict(list)     # (r, kind) -> (real_ns, accel_ns)
        self.trace = []                               # (real_s, accel_s, r)
        self.cost = collections.defaultdict(list)     # (kernel, r, clock, path) -> ns
        self.idle = collections.defaultdict(list)     # (kernel, r) -> (irq/s, idle%)
        self.spawn = collections.defaultdict(list)    # (kernel, r) -> real ms
        self.alt_clock = {}                           # (label, clock) -> rate
        self.alt_timer = {}                           # (label, kind) -> (real_ms, accel_ms)
        self.alt_cost = collections.defaultdict(list)  # label -> ns
        self.demo = {}
        self.demo_jobs = {}                           # kind -> (run, want, dup)
        self.demo_err = collections.defaultdict(list)  # kind -> [(sched, err_s)]
        for w in read_lines(os.path.join(raw, "meta.txt")):
            self.meta[w[1]] = " ".join(w[2:])
        for kernel in ("dynaccel", "base", "demo"):
            self.parse(read_lines(os.path.join(raw, f"bench-{kernel}.txt")), kernel)
        self.parse(read_lines(os.path.join(raw, "host-alt.txt")), "host")

    def parse(self, lines, kernel):
        for w in lines:
            try:
                self.parse_one(w, kernel)
            except (IndexError, ValueError):
                pass    # a line cut short by a crash: the counts will show it

    def parse_one(self, w, kernel):
        k = w[0]
        if k in ("bench", "host", "qemu"):
            self.info[kernel][w[1]] = " ".join(w[2:])
        elif k == "rate":
            self.rate[(int(w[1]), int(w[2]), w[3])].append(float(w[5]))
        elif k == "late":
            self.late[(int(w[1]), w[2])].append((int(w[4]), int(w[5])))
        elif k == "trace":
            self.trace.append((float(w[1]), float(w[2]), int(w[3])))
        elif k == "cost":
            self.cost[(kernel, int(w[1]), w[2], w[3])].append(float(w[5]))
        elif k == "spawn":
            self.spawn[(kernel, int(w[1]))].append(float(w[3]))
        elif k == "idle":
            self.idle[(kernel, int(w[1]))].append((float(w[3]), float(w[4])))
        elif k == "alt" and w[2] == "clock":
            self.alt_clock[(w[1], w[3])] = float(w[4])
        elif k == "alt" and w[2] == "timer":
            self.alt_timer[(w[1], w[3])] = (float(w[4]), float(w[5]))
        elif k == "alt" and w[2] == "cost":
            self.alt_cost[w[1]].append(float(w[4]))
        elif k == "demo" and w[1] == "jobs":
            self.demo_jobs[w[2]] = (int(w[3]), int(w[4]), int(w[5]))
        elif k == "demo":
            self.demo[w[1]] = w[2] if len(w) > 2 else ""
        elif k == "demo-job":
            self.demo_err[w[1]].append((int(w[2]), float(w[3])))


def gnuplot(out, name, script, datafiles):
    """Write the data files, run gnuplot on the script; return the PNG name."""
    for fname, rows in datafiles.items():
        with open(os.path.join(out, fname), "w", encoding="utf-8") as f:
            for row in rows:
                f.write(" ".join(str(x) for x in row) + "\n")
    png = f"{name}.png"
    head = ("set terminal pngcairo size 900,560 font 'sans,10'\n"
            f"set output '{png}'\nset termoption noenhanced\nset grid\n"
            "set key outside right top\n")
    with open(os.path.join(out, f"{name}.gp"), "w", encoding="utf-8") as f:
        f.write(head + script)
    res = subprocess.run(["gnuplot", f"{name}.gp"], cwd=out, check=False,
                         capture_output=True, text=True)
    if res.returncode != 0:
        sys.stderr.write(f"report.py: gnuplot failed on {name}.gp:\n{res.stderr}")
        return None
    return png


class Report:
    def __init__(self, d, out):
        self.d = d
        self.out = out
        self.md = []
        self.headline = {}
        dyn = d.info["dynaccel"]
        self.tcg = dyn.get("accel", "unknown")
        self.mode = d.meta.get("mode", dyn.get("mode", "unknown"))

    def p(self, *lines):
        self.md.extend(lines)

    def figure(self, title, png):
        if png:
            self.p(f"![{title}]({png})", "")
        else:
            self.p(f"(The {title} plot could not be drawn: no data.)", "")

    def where(self):
        tcg = "yes" if self.tcg == "tcg" else ("no (" + self.tcg + ")")
        return f"TCG: {tcg}; mode: {self.mode}"

    # ---- 1. fidelity ----
    def fidelity(self):
        d = self.d
        self.p("## 1. Fidelity", "")
        self.p("Each accelerated clock is read at the start and the end of a busy-waited "
               "window of real time (CLOCK_MONOTONIC_RAW); the rate is accelerated "
               "elapsed / real elapsed, shown as the error against R in percent. "
               f"Guest: 2 vCPUs, {self.where()}.", "")
        rows_plot = {w: [] for w in (100, 1000, 10000)}
        nrep = {w: max((len(d.rate[(r, w, "MONOTONIC")]) for r in RATIOS), default=0)
                for w in (100, 1000, 10000)}
        for win in (100, 1000, 10000):
            reps = max((len(d.rate[(r, win, c)]) for r in RATIOS for c in RATE_CLOCKS),
                       default=0)
            if reps == 0:
                continue
            self.p(f"### Rate error over {win / 1000:g} s real windows ({reps} repetitions "
                   "per cell; median, and min..max in brackets; percent)", "")
            self.p("| clock | " + " | ".join(f"R={r}" for r in RATIOS) + " |",
                   "|---|" + "---|" * len(RATIOS))
            for c in RATE_CLOCKS:
                cells = []
                for r in RATIOS:
                    v = [(x / r - 1) * 100 for x in d.rate[(r, win, c)]]
                    if not v:
                        cells.append("n/a")
                        continue
                    cells.append(f"{median(v):+.4f} [{min(v):+.4f}..{max(v):+.4f}]")
                    if c == "MONOTONIC":
                        rows_plot[win].append((r, median(v), min(v), max(v)))
                self.p(f"| {c} | " + " | ".join(cells) + " |")
            self.p("")
        # headline: worst median error of the fine clocks over 1 s windows
        worst = None
        for r in RATIOS:
            for c in RATE_CLOCKS[:6]:
                v = d.rate[(r, 1000, c)]
                if v:
                    e = abs(median(v) / r - 1) * 100
                    worst = e if worst is None else max(worst, e)
        self.headline["rate_worst_1s"] = worst
        mono = {}
        for r in RATIOS:
            v = d.rate[(r, 1000, "MONOTONIC")]
            mono[r] = median(v) if v else float("nan")
        self.headline["mono_rate_1s"] = mono
        self.p("Coarse clocks and time() advance once per real tick (4 ms at HZ=250), "
               "that is in steps of R x 4 ms accelerated, so over a short window their "
               "rate is off by up to one step; the fine clocks are not.", "")
        script = ("set logscale x\nset xlabel 'ratio R'\n"
                  "set ylabel 'CLOCK_MONOTONIC rate error (%), median and min..max'\n"
                  f"set title 'Rate of CLOCK_MONOTONIC against MONOTONIC_RAW ({self.where()})'\n"
                  "set xrange [0.7:1500]\n"
                  f"plot 'rate-100.dat' u ($1*0.93):2:3:4 w yerrorbars t '0.1 s windows, {nrep[100]} reps', "
                  f"'rate-1000.dat' u 1:2:3:4 w yerrorbars t '1 s windows, {nrep[1000]} reps', "
                  f"'rate-10000.dat' u ($1*1.07):2:3:4 w yerrorbars t '10 s windows, {nrep[10000]} reps', "
                  "0 notitle lc 'black'\n")
        png = gnuplot(self.out, "fidelity-rate", script,
                      {f"rate-{w}.dat": rows_plot[w] or [(1, 0, 0, 0)] for w in rows_plot})
        self.figure("rate error", png)
        self.lateness()
        self.trace()

    def lateness(self):
        d = self.d
        reps = max((len(d.late[(r, k)]) for r in RATIOS for k in LATE_KINDS), default=0)
        self.p("### Timer lateness", "")
        self.p(f"Each wait asks for R x 20 ms of accelerated time (20 ms real at every R), "
               f"{reps} repetitions per cell. Lateness = elapsed - requested, in real "
               "milliseconds (MONOTONIC_RAW) and in accelerated milliseconds "
               "(CLOCK_MONOTONIC); a negative minimum would be an early timer. "
               f"{self.where()}.", "")
        self.p("| timer | R | real p50 | real p99 | accel. p50 | accel. p99 | accel. min | early |",
               "|---|---|---|---|---|---|---|---|")
        plot = {k: [] for k in LATE_KINDS}
        all_real = collections.defaultdict(list)
        early = 0
        for k in LATE_KINDS:
            for r in RATIOS:
                v = d.late[(r, k)]
                if not v:
                    continue
                real = [x[0] / 1e6 for x in v]
                acc = [x[1] / 1e6 for x in v]
                early += sum(1 for a in acc if a < 0)
                all_real[r].extend(real)
                plot[k].append((r, quantile(real, 0.5), quantile(real, 0.99)))
                self.p(f"| {k} | {r} | {fmt(quantile(real, .5))} | {fmt(quantile(real, .99))} | "
                       f"{fmt(quantile(acc, .5), 1)} | {fmt(quantile(acc, .99), 1)} | "
                       f"{fmt(min(acc), 1)} | {sum(1 for a in acc if a < 0)} of {len(acc)} |")
        self.p("")
        self.headline["late_p50_p99"] = {r: (quantile(v, .5), quantile(v, .99))
                                         for r, v in all_real.items()}
        self.headline["late_early"] = early
        self.headline["late_n"] = sum(len(v) for v in d.late.values())
        self.p(f"Early wake-ups in accelerated time: {early} of "
               f"{self.headline['late_n']} waits.", "")
        lines = []
        for i, k in enumerate(LATE_KINDS):
            lines.append(f"'late-{k}.dat' u 1:2 w lp lc {i + 1} pt 7 t '{k} p50'")
            lines.append(f"'late-{k}.dat' u 1:3 w lp lc {i + 1} pt 6 dt 2 t '{k} p99'")
        script = ("set logscale x\nset xlabel 'ratio R'\nset ylabel 'lateness, real ms'\n"
                  f"set title 'Timer lateness in real time, p50 and p99 of {reps} waits ({self.where()})'\n"
                  "set xrange [0.7:1500]\nplot " + ", ".join(lines) + "\n")
        png = gnuplot(self.out, "fidelity-lateness", script,
                      {f"late-{k}.dat": plot[k] or [(1, 0, 0)] for k in LATE_KINDS})
        self.figure("timer lateness", png)

    def trace(self):
        t = self.d.trace
        self.p("### Accelerated time across ratio changes", "")
        if len(t) < 2:
            self.p("No trace recorded.", "")
            return
        # Expected accelerated time: the integral of R over real time.
        exp = 0.0
        worst_step = 0.0
        back = 0
        for (r0, a0, k0), (r1, a1, _) in zip(t, t[1:]):
            exp += (r1 - r0) * k0
            if a1 < a0:
                back += 1
        for (r0, a0, k0), (r1, a1, k1) in zip(t, t[1:]):
            if k0 != k1 or r1 <= r0:
                continue
            worst_step = max(worst_step, abs((a1 - a0) / (r1 - r0) / k0 - 1))
        seq = []
        for x in t:
            if not seq or seq[-1] != x[2]:
                seq.append(x[2])
        total = t[-1][1]
        self.headline["trace"] = (total, exp, t[-1][0], back)
        self.p(f"R changed every real second through {' -> '.join(map(str, seq))}; "
               f"the accelerated clock was sampled every 10 ms real ({len(t)} samples). "
               f"After {t[-1][0]:.2f} s real, CLOCK_MONOTONIC had advanced {total:.2f} s; "
               f"the integral of R over real time predicts {exp:.2f} s "
               f"({(total / exp - 1) * 100:+.3f}%, the difference includes the 10 ms "
               f"sampling grid at each change). Steps back: {back}. {self.where()}.", "")
        script = ("set xlabel 'real time, s (MONOTONIC_RAW)'\n"
                  "set ylabel 'accelerated time, s (MONOTONIC)'\nset y2label 'ratio R'\n"
                  "set logscale y2\nset y2range [0.8:1500]\nset y2tics\nset ytics nomirror\n"
                  f"set title 'Accelerated against real time ({self.where()})'\n"
                  "plot 'trace.dat' u 1:2 w l lw 2 t 'accelerated time', "
                  "'trace.dat' u 1:3 axes x1y2 w steps dt 2 t 'R'\n")
        png = gnuplot(self.out, "fidelity-trace", script, {"trace.dat": t})
        self.figure("trace", png)

    # ---- 2. cost ----
    def cost(self):
        d = self.d
        self.p("## 2. Cost", "")
        self.p("### Reading a clock", "")
        self.p("ns per clock_gettime() call, timed over a loop of calls against "
               "MONOTONIC_RAW (syscall loops are a tenth as long). Dynaccel and the "
               "unpatched kernel (same Debian source, same configuration minus "
               "CONFIG_DYNACCEL) were booted in the same `make bench` run on the same "
               f"host. {self.where()}.", "")
        self.p("| kernel | R | clock | path | reps | median ns | min..max | median vs unpatched | min vs unpatched |",
               "|---|---|---|---|---|---|---|---|---|")
        configs = [("base", 1), ("dynaccel", 1), ("dynaccel", 1000)]
        creps = max((len(v) for v in d.cost.values()), default=0)
        plot = []
        for clock in ("MONOTONIC", "REALTIME"):
            for path in ("vdso", "syscall"):
                base = d.cost[("base", 1, clock, path)]
                bmed = median(base) if base else float("nan")
                row = [f"{clock} {path}"]
                for kernel, r in configs:
                    v = d.cost[(kernel, r, clock, path)]
                    if not v:
                        row.append(0)
                        continue
                    ratio = median(v) / bmed if base else float("nan")
                    mratio = min(v) / min(base) if base else float("nan")
                    self.headline[("cost", kernel, r, clock, path)] = (median(v), ratio)
                    label = "unpatched" if kernel == "base" else "dynaccel"
                    self.p(f"| {label} | {r} | {clock} | {path} | {len(v)} | "
                           f"{fmt(median(v), 1)} | {fmt(min(v), 1)}..{fmt(max(v), 1)} | "
                           f"{fmt(ratio, 3)} | {fmt(mratio, 3)} |")
                    row.append(median(v))
                plot.append(row)
        self.p("")
        same = d.meta.get("vdso_identical", "unknown")
        if same == "yes":
            self.p("The vDSO image (`arch/x86/entry/vdso/vdso64.so`) of the dynaccel "
                   "kernel is byte for byte the one of the unpatched kernel: a clock "
                   "read through the vDSO runs the same instructions on both at any R, "
                   "so differences between the vDSO rows are noise between boots.", "")
        else:
            self.p(f"The vDSO images of the two kernels compared byte for byte: {same} "
                   "(not the same image, or not both built).", "")
        self.headline[("vdso_identical",)] = same
        script = ("set style data histograms\nset style histogram clustered gap 1\n"
                  "set style fill solid 0.8 border -1\nset logscale y\n"
                  f"set ylabel 'ns per call, median of {creps} reps, log scale'\n"
                  "set xtics rotate by -20\n"
                  f"set title 'clock_gettime cost ({self.where()})'\n"
                  "plot 'cost.dat' u 2:xtic(1) t 'unpatched', '' u 3 t 'dynaccel R=1', "
                  "'' u 4 t 'dynaccel R=1000'\n")
        rows = [(f'"{r[0]}"', *r[1:]) for r in plot]
        png = gnuplot(self.out, "cost-clock", script, {"cost.dat": rows})
        self.figure("clock cost", png)
        self.p("### Starting a process", "")
        self.p("Real milliseconds to fork, exec and reap a static busybox `true`, the "
               "unit of work of every cron job and shell script; at R=1000 each real "
               f"millisecond is an accelerated second. {self.where()}.", "")
        self.p("| kernel | R | reps | real ms per process, median | min..max | "
               "= accelerated s at that R |", "|---|---|---|---|---|---|")
        for kernel, r in (("base", 1), ("dynaccel", 1), ("dynaccel", 1000)):
            v = d.spawn[(kernel, r)]
            if not v:
                continue
            self.headline[("spawn", kernel, r)] = median(v)
            label = "unpatched" if kernel == "base" else "dynaccel"
            self.p(f"| {label} | {r} | {len(v)} | {fmt(median(v))} | "
                   f"{fmt(min(v))}..{fmt(max(v))} | {fmt(median(v) * r / 1000, 3)} |")
        self.p("")
        self.p("### An idle machine", "")
        self.p("Local timer interrupts (LOC in /proc/interrupts, both vCPUs) per real "
               "second and the idle share of CPU time (/proc/stat idle+iowait over all "
               "fields) while the benchmark sleeps and nothing else runs. "
               f"{self.where()}.", "")
        self.p("| kernel | R | reps | timer IRQs/s median | min..max | idle % median |",
               "|---|---|---|---|---|---|")
        plot = []
        ireps = max((len(v) for v in d.idle.values()), default=0)
        base = d.idle[("base", 1)]
        if base:
            irq = [x[0] for x in base]
            idle = [x[1] for x in base]
            self.headline["idle_base"] = median(irq)
            self.p(f"| unpatched | 1 | {len(base)} | {fmt(median(irq), 0)} | "
                   f"{fmt(min(irq), 0)}..{fmt(max(irq), 0)} | {fmt(median(idle), 1)} |")
        for r in RATIOS:
            v = d.idle[("dynaccel", r)]
            if not v:
                continue
            irq = [x[0] for x in v]
            idle = [x[1] for x in v]
            self.headline[("idle", r)] = (median(irq), median(idle))
            plot.append((r, median(irq), min(irq), max(irq)))
            self.p(f"| dynaccel | {r} | {len(v)} | {fmt(median(irq), 0)} | "
                   f"{fmt(min(irq), 0)}..{fmt(max(irq), 0)} | {fmt(median(idle), 1)} |")
        self.p("")
        bline = f", {self.headline['idle_base']} lc 'black' dt 2 t 'unpatched'" \
            if "idle_base" in self.headline else ""
        script = ("set logscale x\nset logscale y\nset xlabel 'ratio R'\n"
                  f"set ylabel 'timer interrupts per real second, {ireps} reps'\n"
                  "set xrange [0.7:1500]\n"
                  f"set title 'Idle timer interrupts ({self.where()})'\n"
                  "plot 'idle.dat' u 1:2:3:4 w yerrorlines pt 7 t 'dynaccel, median, min..max'"
                  + bline + "\n")
        png = gnuplot(self.out, "cost-idle", script, {"idle.dat": plot or [(1, 1, 1, 1)]})
        self.figure("idle interrupts", png)

    # ---- 3. demo ----
    def demo(self):
        d = self.d
        self.p("## 3. The long-term demo: a simulated day at R=1000", "")
        if not d.demo_jobs:
            self.p("The demo did not finish; see build/logs/bench-dynaccel-console.log.", "")
            return
        hours = d.demo.get("hours", "24")
        self.p(f"busybox crond with a per-minute job (appends to an application log), an "
               f"hourly job, a nightly rotation at 03:00 (mv and gzip, seven generations) "
               f"and a daily report at 23:30, plus a daemon that logs a heartbeat and then "
               f"runs `sleep 3600`, in a loop. The wall clock is set to 30 s before "
               f"midnight at R={d.demo.get('ratio', '?')}, and {hours} simulated hours run. "
               f"Every job logs its CLOCK_REALTIME start; its error is the start minus "
               f"its scheduled instant, in accelerated seconds (a heartbeat's: against "
               f"the first heartbeat + k x 3600 s). {self.where()}.", "")
        self.p(f"Real time taken for {hours} simulated hours: "
               f"**{d.demo.get('real_s', '?')} s** (ideal: {int(hours) * 3.6:.1f} s).", "")
        self.p("| job | ran | expected | duplicates | start error p50 (accel. s) | p99 | max |",
               "|---|---|---|---|---|---|---|")
        for k in DEMO_KINDS:
            if k not in d.demo_jobs:
                continue
            run, want, dup = d.demo_jobs[k]
            e = [x[1] for x in d.demo_err[k]]
            self.p(f"| {k} | {run} | {want} | {dup} | {fmt(quantile(e, .5))} | "
                   f"{fmt(quantile(e, .99))} | {fmt(max(e) if e else float('nan'))} |")
        self.p("")
        lines_logged = d.demo.get("log_lines", "?")
        self.p(f"Log rotation: {d.demo.get('rotated_files', '?')} rotated file(s); "
               f"the application log's lines across the current and rotated files: "
               f"{lines_logged} (one per minute job run); the log rotated at 03:00 held "
               f"{d.demo.get('log_bytes_rotated', '?')} bytes.", "")
        spawn = d.spawn[("dynaccel", 1000)]
        sp = (f" ({median(spawn):.1f} ms real per process here, section 2)" if spawn else "")
        self.p("Why: every accelerated second of start error is a real millisecond at "
               "R=1000. crond forks a shell that runs the job script, which forks "
               "`stamp`; under TCG each process start costs milliseconds of real "
               f"time{sp}, so a job starts tens of accelerated seconds after its "
               "minute. busybox crond also refuses to start a job whose previous run "
               "it has not yet reaped (it checks every 10 s while jobs run), so a "
               "per-minute job that takes more than about 10 accelerated seconds "
               "(10 ms real) is skipped in the following minute: crond logged "
               f"\"already running\" {d.demo.get('crond_skipped', '?')} times. The "
               "heartbeat daemon's error grows by its own loop's process starts "
               "every hour, as a `sleep 3600` loop's would on any machine, only "
               "a thousand times larger in accelerated seconds. Where a process starts "
               "in under a millisecond, the same arithmetic gives under a second of "
               "error per process start; this report was not made on such a machine, "
               "and its demo figures measure emulation as much as dynaccel.", "")
        data = {}
        plots = []
        t0 = min((x[0] for v in d.demo_err.values() for x in v), default=0)
        for i, k in enumerate(DEMO_KINDS):
            rows = [((s - t0) / 3600, e) for s, e in d.demo_err[k]]
            if rows:
                data[f"demo-{k}.dat"] = rows
                plots.append(f"'demo-{k}.dat' u 1:2 w p pt {i + 5} t '{k}'")
        script = ("set xlabel 'simulated hour of the day'\nset xrange [0:24]\nset xtics 3\n"
                  "set ylabel 'start error, accelerated s'\n"
                  f"set title 'Job start errors over a simulated day at R=1000 ({self.where()})'\n"
                  "plot " + ", ".join(plots) + "\n")
        png = gnuplot(self.out, "demo-errors", script, data)
        self.figure("demo start errors", png)
        self.headline["demo"] = True

    # ---- 4. alternatives ----
    def alternatives(self):
        d = self.d
        self.p("## 4. The alternatives, side by side", "")
        ver = d.info["host"].get("libfaketime", "?")
        self.p("One probe program, built three ways: **dynamic** (libc calls, which an "
               "LD_PRELOAD library can intercept), **static** (libc calls, no preload "
               "possible), **direct** (static; clocks and sleeps as raw system calls, "
               "as the Go runtime does). Each clock's rate is measured over 2 s of real "
               "time; each timer asks for 1 s of its own time and counts as accelerated "
               "when it returned in under a tenth of that in real time. Real time is "
               "read with a raw MONOTONIC_RAW system call no preload can intercept. "
               f"libfaketime {ver} (`FAKETIME='+0 x100'`, LD_PRELOAD) ran on the host "
               f"(not emulated; {d.info['host'].get('cpus', '?')} CPUs shared with other "
               f"builds); dynaccel at R=100 in the guest ({self.where()}).", "")
        labels = [(f"libfaketime-{v}", f"libfaketime {v}") for v in ALT_VARIANTS] + \
                 [(f"dynaccel-{v}", f"dynaccel {v}") for v in ALT_VARIANTS]
        self.p("| clock or timer | " + " | ".join(x[1] for x in labels) + " |",
               "|---|" + "---|" * len(labels))
        clocks = []
        timers = []
        for (lab, name) in d.alt_clock:
            if name not in clocks:
                clocks.append(name)
        for (lab, name) in d.alt_timer:
            if name not in timers:
                timers.append(name)
        counts = collections.Counter()
        for c in clocks:
            cells = []
            for lab, _ in labels:
                v = d.alt_clock.get((lab, c))
                if v is None:
                    cells.append("n/a")
                    continue
                yes = v > 10
                counts[(lab, "yes" if yes else "no")] += 1
                cells.append(f"{'**yes**' if yes else 'no'} x{v:.1f}")
            self.p(f"| {c} | " + " | ".join(cells) + " |")
        for t in timers:
            cells = []
            for lab, _ in labels:
                v = d.alt_timer.get((lab, t))
                if v is None:
                    cells.append("n/a")
                    continue
                real = v[0]
                if real < 0:
                    cells.append("no: waiting after 3 s")
                    counts[(lab, "no")] += 1
                elif real < 100:
                    cells.append(f"**yes** {real:.0f} ms")
                    counts[(lab, "yes")] += 1
                else:
                    cells.append(f"no {real:.0f} ms")
                    counts[(lab, "no")] += 1
            self.p(f"| {t} | " + " | ".join(cells) + " |")
        self.p("| **accelerated** | " + " | ".join(
            f"{counts[(lab, 'yes')]} of {counts[(lab, 'yes')] + counts[(lab, 'no')]}"
            for lab, _ in labels) + " |", "")
        self.headline["alt_counts"] = {lab: (counts[(lab, "yes")],
                                             counts[(lab, "yes")] + counts[(lab, "no")])
                                       for lab, _ in labels}
        self.p("Timer cells: the real time a wait of 1 s took; \"waiting after 3 s\": it had not returned after 3 real seconds and was killed.", "")
        self.p("### Per-call cost of clock_gettime(CLOCK_MONOTONIC)", "")
        self.p("| where | " + " | ".join(ALT_VARIANTS) + " |", "|---|---|---|---|")
        for prefix, name in (("host", "host, native (no acceleration)"),
                             ("libfaketime", "host, libfaketime x100"),
                             ("dynaccel", f"dynaccel R=100 guest ({self.tcg.upper()})")):
            cells = []
            for v in ALT_VARIANTS:
                c = d.alt_cost.get(f"{prefix}-{v}")
                cells.append(f"{median(c):.1f} ns ({min(c):.0f}..{max(c):.0f}, {len(c)} reps)"
                             if c else "n/a")
                if c:
                    self.headline[("altcost", prefix, v)] = median(c)
            self.p(f"| {name} | " + " | ".join(cells) + " |")
        self.p("")
        self.p("Host and guest figures are not comparable with each other (the guest is "
               "emulated); compare within a row, and the dynaccel row with section 2, "
               "where the same guest reads the clock at the same cost on the unpatched "
               "kernel.", "")
        self.p("Not measured here: QEMU's `-icount shift=auto,sleep=off` (the emulated "
               "guest's clock follows the instructions it executes and jumps over idle "
               "time, so its speed-up depends on the workload rather than on a chosen "
               "ratio) and time namespaces (they only offset MONOTONIC and BOOTTIME; the "
               "rate stays 1).", "")

    # ---- summary ----
    def summary(self):
        h = self.headline
        s = ["## Headline figures", ""]
        mono = h.get("mono_rate_1s", {})
        if mono:
            s.append("- CLOCK_MONOTONIC rate over 1 s real windows (median): " +
                     ", ".join(f"R={r}: {v:.4f}" for r, v in mono.items()) + ".")
        if h.get("rate_worst_1s") is not None:
            s.append(f"- Worst median rate error of any fine clock (MONOTONIC, REALTIME, "
                     f"BOOTTIME, TAI, gettimeofday; vDSO and syscall) over 1 s windows, "
                     f"any R: {h['rate_worst_1s']:.4f}%.")
        lp = h.get("late_p50_p99", {})
        if lp:
            s.append("- Timer lateness in real ms, p50 / p99 over nanosleep, timerfd, poll "
                     "and SO_RCVTIMEO: " +
                     ", ".join(f"R={r}: {a:.2f} / {b:.2f}" for r, (a, b) in sorted(lp.items()))
                     + f"; early in accelerated time: {h.get('late_early', 0)} of "
                     f"{h.get('late_n', 0)}.")
        c1 = h.get(("cost", "dynaccel", 1, "MONOTONIC", "vdso"))
        c2 = h.get(("cost", "dynaccel", 1000, "MONOTONIC", "vdso"))
        cb = h.get(("cost", "base", 1, "MONOTONIC", "vdso"))
        if c1 and c2 and cb:
            s.append(f"- clock_gettime(MONOTONIC) via the vDSO: {cb[0]:.1f} ns unpatched, "
                     f"{c1[0]:.1f} ns at R=1 (x{c1[1]:.3f}), {c2[0]:.1f} ns at R=1000 "
                     f"(x{c2[1]:.3f}); vDSO image identical to the unpatched kernel's: "
                     f"{h.get(('vdso_identical',), 'unknown')}.")
        i1 = h.get(("idle", 1))
        i1000 = h.get(("idle", 1000))
        if i1 and i1000:
            base = h.get("idle_base")
            s.append(f"- Idle timer interrupts: {i1[0]:.0f}/s at R=1, {i1000[0]:.0f}/s at "
                     f"R=1000" + (f", {base:.0f}/s unpatched" if base is not None else "") +
                     f"; idle CPU {i1[1]:.1f}% at R=1, {i1000[1]:.1f}% at R=1000.")
        if h.get("demo"):
            d = self.d
            m = d.demo_jobs.get("minute", (0, 0, 0))
            e = [x[1] for x in d.demo_err["minute"]]
            s.append(f"- A simulated day at R=1000 took {d.demo.get('real_s', '?')} s real; "
                     f"per-minute jobs ran {m[0]} of {m[1]}, start error median "
                     f"{quantile(e, .5):.2f} s, p99 {quantile(e, .99):.2f} s accelerated "
                     "(process starts under TCG; see section 3).")
        sp1 = h.get(("spawn", "dynaccel", 1))
        sp2 = h.get(("spawn", "dynaccel", 1000))
        spb = h.get(("spawn", "base", 1))
        if sp1 and sp2:
            s.append(f"- Starting a process (fork, exec, wait): {sp1:.1f} ms real at R=1, "
                     f"{sp2:.1f} ms at R=1000" +
                     (f", {spb:.1f} ms unpatched" if spb else "") + " (TCG).")
        ac = h.get("alt_counts")
        if ac:
            s.append("- Clocks and timers accelerated (of those probed): " +
                     ", ".join(f"{lab.replace('-', ' ')} {a} of {b}"
                               for lab, (a, b) in ac.items()) + ".")
        s.append("")
        return s

    def runs(self):
        """The guest boots of this run and whether each was clean."""
        d = self.d
        s = ["## The runs", "",
             "| boot | kernel | QEMU | finished | console lines with stall, lockup, "
             "hung task, BUG or WARNING |", "|---|---|---|---|---|"]
        for name, what in (("dynaccel", "fidelity, cost, alternatives"),
                           ("base", "cost on the unpatched kernel"),
                           ("demo", "the simulated day")):
            i = d.info[name]
            st = i.get("harness_status")
            fin = "not run" if st is None else ("yes" if st == "0" else
                                                f"**no** (harness status {st})")
            s.append(f"| {what} | {i.get('kernel', '?').split(' ')[-1]} | "
                     f"{i.get('accel', '?')} | {fin} | "
                     f"{i.get('console_warnings', i.get('kernel_warnings', 'n/a'))} |")
        s += ["", "Counted over the whole serial console (the guest's own dmesg, "
              "which the results also give as kernel_warnings, wraps). Console logs: "
              "build/logs/bench-{dynaccel,base,demo}-console.log; raw results: "
              "build/bench/raw/.", ""]
        return s

    def render(self):
        d = self.d
        self.fidelity()
        self.cost()
        self.demo()
        self.alternatives()
        dyn = d.info["dynaccel"]
        host = d.info["host"]
        head = [
            "# dynaccel benchmarks", "",
            f"Produced by `make bench` ({'BENCH_QUICK=1, quick mode: fewer repetitions' if self.mode == 'quick' else 'full mode'}) "
            f"on {d.meta.get('date', '?')} at commit {d.meta.get('commit', '?')}, in "
            f"{d.meta.get('seconds', '?')} s of measurement. "
            f"Guest kernels: {dyn.get('kernel', '?').split(' ')[-1]} and unpatched "
            f"{d.info['base'].get('kernel', '?').split(' ')[-1]}, QEMU "
            f"{'TCG (software emulation)' if self.tcg == 'tcg' else self.tcg}, "
            f"{dyn.get('cpus', '?')} vCPUs; host: {host.get('model', '?')}, "
            f"{host.get('cpus', '?')} CPUs shared with other work, so every figure "
            "includes emulation and host-load noise. Real time is CLOCK_MONOTONIC_RAW.", ""]
        return "\n".join(head + self.summary() + self.runs() + self.md) + "\n"


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: report.py RAW_DIR OUT_DIR")
    raw, out = sys.argv[1], sys.argv[2]
    rep = Report(Data(raw), out)
    text = rep.render()
    with open(os.path.join(out, "report.md"), "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
