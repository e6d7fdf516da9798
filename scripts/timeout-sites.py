#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""List the timeout call sites of the drivers built into a kernel and say
which time domain each one is in (Documentation/timers/dynaccel.rst, "Which
waits are real").

A call site is a call of a wait, a timer or a jiffies deadline check in a
C file whose object is in the build directory. Its domain comes from the
rule, in this order:

  real (central)   a wait the series makes real for every caller: msleep(),
                   usleep_range(), ssleep(), fsleep(), the delay loops, the
                   read*_poll_timeout() family, completion timeouts
                   (wait_for_completion*_timeout()) and the *_timeout_real()
                   waits (schedule_timeout_real(), wait_event_timeout_real())
  real (dynaccel)  the line uses a dynaccel helper (real jiffies, a real
                   timeout, a guard)
  decided          listed with its domain and reason in the decisions file
  undecided        anything else: an accelerated wait nobody has looked at

  timeout-sites.py [--tree DIR] [--obj DIR] report
  timeout-sites.py [--tree DIR] [--obj DIR] check BASELINE [DECISIONS]

report prints every site and the counts per directory. check prints TAP:
per directory of the device zoo, fail when an undecided site is not in
BASELINE (a new site to decide); a baseline entry no longer seen is a note.
Sites are keyed by file, function and call, not by line, so that unrelated
edits do not move them. A jiffies deadline check is keyed as
time_after(jiffies or time_after(x,jiffies by the argument that reads the
clock.
"""
import argparse
import collections
import os
import re
import sys

# The drivers of the device zoo (configs/test-guest.config), whose sites
# must all be decided.
ZOO = [
    "drivers/ata",
    "drivers/scsi",
    "drivers/nvme",
    "drivers/usb",
    "drivers/net/ethernet/intel/e1000e",
    "drivers/block",
    "drivers/net/virtio_net.c",
    "drivers/virtio",
]

CENTRAL_REAL = re.compile(
    r"\b(msleep|msleep_interruptible|ssleep|usleep_range|usleep_range_state|"
    r"usleep_idle_range|fsleep|udelay|mdelay|ndelay|"
    r"\w*read\w*_poll_timeout(_atomic)?|regmap\w*_poll_timeout(_atomic)?|"
    r"read\w*_poll_timeout|wait_for_completion\w*timeout|\w*timeout_real)\s*\(")

CANDIDATE = re.compile(
    r"\b(schedule_timeout\w*|schedule_hrtimeout\w*|"
    r"wait_event\w*timeout|"
    r"mod_timer|add_timer|timer_reduce|"
    r"queue_delayed_work(_on)?|mod_delayed_work(_on)?|schedule_delayed_work(_on)?|"
    r"hrtimer_start\w*|"
    r"time_(after|before)(_eq)?\s*\(\s*(?:dynaccel_jiffies_real|jiffies)|"
    r"time_(after|before)(_eq)?\s*\((?=[^;]*,\s*(?:dynaccel_jiffies_real\(\)|jiffies)\s*\))|"
    r"time_is_(after|before)(_eq)?_jiffies)\b")

DYNACCEL = re.compile(r"\bdynaccel_\w+|\bblk_jiffies\(\)")

# A function definition starts at column 0 and is not a declaration.
FUNC = re.compile(r"^(?:[A-Za-z_][\w\s\*,]*?[\s\*])?(\w+)\s*\([^;]*$")


def sources(tree, obj):
    """The C sources of the driver objects in the build directory."""
    top = os.path.join(obj, "drivers")
    for root, _dirs, files in os.walk(top):
        for f in files:
            if not f.endswith(".o") or f.endswith(".mod.o") or f == "built-in.o":
                continue
            rel = os.path.relpath(os.path.join(root, f[:-2] + ".c"), obj)
            if os.path.exists(os.path.join(tree, rel)):
                yield rel


def scan(tree, rel):
    """Yield (function, call, domain, line number, text) per site of @rel."""
    func = pending = "-"
    with open(os.path.join(tree, rel), errors="replace") as fh:
        for n, line in enumerate(fh, 1):
            # A definition: a name( at column 0, its body's { at column 0
            m = FUNC.match(line)
            if m and m.group(1) not in ("if", "for", "while", "switch"):
                pending = m.group(1)
            elif line.startswith("{"):
                func = pending
            code = line.split("//")[0]
            if code.lstrip().startswith(("*", "/*")):
                continue
            for m in CENTRAL_REAL.finditer(code):
                yield func, m.group(1), "real-central", n, line.strip()
            for m in CANDIDATE.finditer(code):
                # time_before(jiffies, x) and time_before(x, jiffies): the
                # clock read is the first or the second argument
                call = re.sub(r"\s*\(\s*(?:dynaccel_jiffies_real|jiffies)$", "(jiffies",
                              m.group(1))
                call = re.sub(r"\s*\($", "(x,jiffies", call)
                domain = "real-dynaccel" if DYNACCEL.search(code) else "undecided"
                yield func, call, domain, n, line.strip()


def load_keys(path):
    """Keys (file function call) of a baseline or decisions file."""
    keys = {}
    if not path or not os.path.exists(path):
        return keys
    with open(path) as fh:
        for line in fh:
            line = line.split("#")[0].strip()
            if not line:
                continue
            words = line.split()
            if len(words) < 3:
                sys.exit("%s: bad line: %s" % (path, line))
            keys[tuple(words[:3])] = words[3] if len(words) > 3 else ""
    return keys


def zoo_dir(rel):
    for z in ZOO:
        if rel == z or rel.startswith(z + "/"):
            return z
    return None


def collect(tree, obj, decisions):
    """The sites of every driver source, and the sources scanned."""
    sites = []
    files = sorted(set(sources(tree, obj)))
    for rel in files:
        for func, call, domain, n, text in scan(tree, rel):
            if domain == "undecided" and (rel, func, call) in decisions:
                domain = "decided-" + decisions[(rel, func, call)]
            sites.append((rel, func, call, domain, n, text))
    return sites, files


def report(sites):
    per = collections.defaultdict(collections.Counter)
    for rel, func, call, domain, n, text in sites:
        print("%s:%d %s %s %s" % (rel, n, func, call, domain))
        per[zoo_dir(rel) or "other drivers"][domain] += 1
    print()
    domains = ["real-central", "real-dynaccel", "decided-real", "decided-accel", "undecided"]
    print("%-36s %s total" % ("directory", " ".join("%13s" % d for d in domains)))
    total = collections.Counter()
    for d in sorted(per):
        c = per[d]
        total.update(c)
        print("%-36s %s %5d" % (d, " ".join("%13d" % c[x] for x in domains), sum(c.values())))
    print("%-36s %s %5d" % ("all", " ".join("%13d" % total[x] for x in domains),
                            sum(total.values())))


def check(sites, files, baseline):
    known = collections.Counter({k: int(v or 1) for k, v in baseline.items()})
    seen = collections.Counter()
    per = collections.defaultdict(list)
    for rel, func, call, domain, n, text in sites:
        z = zoo_dir(rel)
        if not z:
            continue
        per[z].append((rel, func, call, domain, n, text))
        if domain == "undecided":
            seen[(rel, func, call)] += 1
    print("TAP version 13")
    print("1..%d" % (len(ZOO) + 1))
    failed = False
    for i, z in enumerate(ZOO, 1):
        s = per.get(z, [])
        c = collections.Counter(x[3] for x in s)
        new = [x for x in s if x[3] == "undecided" and seen[x[:3]] > known[x[:3]]]
        for rel, func, call, domain, n, text in new:
            print("# new undecided site: %s:%d %s %s: %s" % (rel, n, func, call, text))
        # A zoo directory with nothing built means the kernel lacks it
        built = [f for f in files if zoo_dir(f) == z]
        ok = bool(built) and not new
        failed |= not ok
        print("%s %d %s: %d files built, %d timeout sites, %d real (central), "
              "%d real (dynaccel), %d decided, %d undecided, %d of them new" %
              ("ok" if ok else "not ok", i, z, len(built), len(s), c["real-central"],
               c["real-dynaccel"], c["decided-real"] + c["decided-accel"], c["undecided"],
               len(new)))
    gone = [k for k in known if seen[k] < known[k]]
    for k in gone:
        print("# baseline entry no longer (or less often) undecided: %s" % " ".join(k))
    print("ok %d the baseline lists %d undecided sites, %d of them gone (shrink it with 'report')" %
          (len(ZOO) + 1, len(known), len(gone)))
    return 1 if failed else 0


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    build = os.environ.get("BUILD", os.path.join(here, "..", "build"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tree", default=os.path.join(build, "linux"))
    ap.add_argument("--obj", default=os.path.join(build, "obj"))
    ap.add_argument("mode", choices=["report", "check", "baseline"])
    ap.add_argument("baseline", nargs="?")
    ap.add_argument("decisions", nargs="?")
    a = ap.parse_args()
    if not os.path.isdir(os.path.join(a.obj, "drivers")):
        print("Bail out! no driver objects in %s: build the test kernel first" % a.obj)
        return 1
    sites, files = collect(a.tree, a.obj, load_keys(a.decisions))
    if a.mode == "report":
        report(sites)
        return 0
    if a.mode == "baseline":
        undecided = collections.Counter(x[:3] for x in sites
                                        if x[3] == "undecided" and zoo_dir(x[0]))
        for k in sorted(undecided):
            print("%s %d" % (" ".join(k), undecided[k]))
        return 0
    if not a.baseline:
        ap.error("check needs a BASELINE file")
    return check(sites, files, load_keys(a.baseline))


if __name__ == "__main__":
    sys.exit(main())
