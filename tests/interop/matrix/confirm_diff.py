#!/usr/bin/env python3
"""Tell a timing-dependent cell from a real change when a fresh interop matrix differs from
the committed one.

Some verdicts depend on how TCP segments meet a receiver's reads (a header split in three
writes reaches HAProxy as one read or three), so a cell may differ between two runs of an
unchanged system. For every differing cell this re-runs that one case against that one
target (`ppconform run --profile T ID --repeat N`, a fresh target) and accepts the difference
only if the committed verdict is among the verdicts observed then: the committed table is
still a true record, and the cell is listed as unstable. Anything else (a new or removed
case, a summary line, a verdict that does not come back) is a real difference: exit 1.

A target that dies on some inputs (Aedes: its first-read decoder throws on some partial
headers) ends a --repeat run at its first crash, the remaining repeats unrun; such a cell is
re-run on fresh targets, run after run, until the committed verdict comes back or the cell's
runs (N) or the whole confirmation's time budget (--budget SECONDS) are spent.

--advisory TARGET:CASE,... names single cells whose differences are listed as ADVISORY
without failing (none by default: every cell is enforced).

Usage: confirm_diff.py COMMITTED.md FRESH.md PPCONFORM [--repeat N] [--max-cells N] [--budget SECONDS]
       [--advisory TARGET:CASE,...]
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time


def parse(path):
    """(targets, {case: {target: verdict}}, other lines) of a matrix Markdown file."""
    targets, cells, other = [], {}, []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith("| case | level |"):
            targets = [c.strip() for c in line.split("|")[3:-2]]
            continue
        m = re.match(r"^\| ([A-Za-z0-9][A-Za-z0-9._-]*) \| (MUST|SHOULD|MAY|PROFILE|INFO) \|", line)
        if m and targets:
            parts = [c.strip() for c in line.split("|")]
            verdicts = parts[3:3 + len(targets)]
            cells[m.group(1)] = dict(zip(targets, verdicts))
            continue
        if line.startswith(("| target |", "| area ", "- ")) or re.match(r"^\| [a-z0-9-]+ \| ", line):
            continue  # summary counts, areas, crash lists and findings follow from the cells
        other.append(line)
    return targets, cells, other


def base(verdict):
    return verdict.replace(" (crash)", "").strip()


def observe_once(ppconform, target, case, repeat, out, timeout):
    """Verdicts of one `ppconform run --repeat N` of case on a fresh target, and whether the
    target died in it (its later repeats then did not run)."""
    try:
        subprocess.run([ppconform, "run", "--profile", target, "--repeat", str(repeat), "-j", "1",
                        "--color", "never", "--json", out, case],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout)
        report = json.load(open(out))
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return set(), False
    seen = set()
    for c in report.get("cases", []):
        if c.get("id") != case:
            continue
        seen.add(c.get("verdict"))
        for v, _ in re.findall(r"([A-Z]+) x(\d+)", c.get("flaky") or ""):
            seen.add(v)
    died = "died" in str((report.get("target") or {}).get("error") or "")
    return seen, died


def observe(ppconform, target, case, want, repeat, work, deadline):
    """Verdicts seen re-running one cell: one --repeat run; while the target died in it and
    the committed verdict has not come back, more runs on fresh targets (at most `repeat`
    runs, never past the deadline)."""
    out = os.path.join(work, f"{target}.{case}.json")
    seen = set()
    for _ in range(repeat):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        got, died = observe_once(ppconform, target, case, repeat, out, min(600, left))
        seen |= got
        if want in seen or not died:
            break
    return seen


def main():
    args = sys.argv[1:]
    if len(args) < 3:
        print(__doc__)
        return 2
    committed, fresh, ppconform = args[:3]
    repeat = int(args[args.index("--repeat") + 1]) if "--repeat" in args else 8
    max_cells = int(args[args.index("--max-cells") + 1]) if "--max-cells" in args else 60
    budget = float(args[args.index("--budget") + 1]) if "--budget" in args else 240.0
    advisory = set(a for a in args[args.index("--advisory") + 1].split(",") if a) if "--advisory" in args else set()
    deadline = time.monotonic() + budget
    t1, c1, o1 = parse(committed)
    t2, c2, o2 = parse(fresh)
    problems = []
    if t1 != t2:
        problems.append(f"targets differ: committed {t1}, fresh {t2}")
    if o1 != o2:
        problems.append("the table's text or grouping differs (see the diff above)")
    for case in sorted(set(c1) ^ set(c2)):
        problems.append(f"case {case} is {'new' if case in c2 else 'gone'}")
    diffs = [(case, t) for case in sorted(set(c1) & set(c2)) for t in t1 if t in t2
             and c1[case].get(t) != c2[case].get(t)]
    for case, t in [d for d in diffs if f"{d[1]}:{d[0]}" in advisory]:
        print(f"confirm_diff: ADVISORY (named as varying): {case} on {t}: committed {c1[case][t]}, this run {c2[case][t]}")
    diffs = [d for d in diffs if f"{d[1]}:{d[0]}" not in advisory]
    if len(diffs) > max_cells:
        problems.append(f"{len(diffs)} cells differ (more than {max_cells}: not timing noise)")
        diffs = []
    unstable = []
    with tempfile.TemporaryDirectory(prefix="ppc-confirm-") as work:
        for case, target in diffs:
            want, got = base(c1[case][target]), base(c2[case][target])
            seen = observe(ppconform, target, case, want, repeat, work, deadline)
            if want in seen:
                unstable.append(f"{case} on {target}: committed {want}, this run {got}, re-runs {sorted(seen)}")
            else:
                late = " (the time budget ran out)" if time.monotonic() >= deadline else ""
                problems.append(f"{case} on {target}: committed {want}, this run {got}, "
                                f"re-runs gave {sorted(seen) or 'no report'}{late}")
    for u in unstable:
        print(f"confirm_diff: UNSTABLE (timing-dependent, committed verdict reproduced): {u}")
    for p in problems:
        print(f"confirm_diff: DIFFERENT: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
