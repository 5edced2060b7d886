#!/usr/bin/env python3
"""Write docs/CASES.md from the suite's case metadata (`ppconform run --list --json`).

Reproducible: the output depends only on the scenario files. With --check the file is
compared instead of written, and the exit status is 1 when it is stale (a ctest runs that).

usage: gen-cases-md.py --ppconform PATH [--scenarios DIR] (--output FILE | --check FILE)
"""
import argparse
import collections
import json
import os
import re
import subprocess
import sys

LEVELS = ["MUST", "SHOULD", "PROFILE", "MAY", "INFO"]


def cell(text):
    """One markdown table cell: one line, pipes escaped."""
    text = re.sub(r"\s+", " ", text or "").strip()
    return text.replace("|", "\\|")


def render(cases):
    suites = collections.OrderedDict()
    for c in cases:
        suites.setdefault(c["suite"], []).append(c)
    out = []
    w = out.append
    w("# Conformance cases")
    w("")
    w("Generated from the case metadata by `scripts/gen-cases-md.py` (it runs "
      "`ppconform run --list --json`); do not edit by hand. Regenerate with")
    w("")
    w("```")
    w("scripts/gen-cases-md.py --ppconform build/bin/ppconform --output docs/CASES.md")
    w("```")
    w("")
    w("Levels: MUST and PROFILE failures fail the run, SHOULD gives a warning, INFO only records "
      "what the target did (ambiguities A-\\*, fragmentation tolerance). `Requires` names the "
      "target capabilities or listeners a case needs; without them it is skipped. "
      "Edge cases (EC-\\*) and ambiguities (A-\\*) refer to the requirements checklist.")
    w("")
    w("| suite | file | cases | " + " | ".join(LEVELS) + " |")
    w("|---|---|---:|" + "---:|" * len(LEVELS))
    total = collections.Counter()
    for sid, cs in suites.items():
        lv = collections.Counter(c["level"] for c in cs)
        total.update(lv)
        files = sorted({os.path.basename(c.get("file", "")) for c in cs})
        w("| %s | %s | %d | %s |" % (sid, ", ".join(files), len(cs), " | ".join(str(lv.get(l, 0)) for l in LEVELS)))
    w("| **all** | | **%d** | %s |" % (len(cases), " | ".join("**%d**" % total.get(l, 0) for l in LEVELS)))
    for sid, cs in suites.items():
        files = sorted({os.path.basename(c.get("file", "")) for c in cs})
        w("")
        w("## %s (%s)" % (sid, ", ".join("`scenarios/%s`" % f for f in files)))
        w("")
        w("| id | title | level | refs | edge cases | requires | what is sent, what is expected |")
        w("|---|---|---|---|---|---|---|")
        for c in cs:
            tags = c.get("tags", [])
            ecs = [t for t in tags if t.startswith("EC-") or t.startswith("A-")]
            reqs = [r for r in c.get("requires", []) if r != "listener.pp"]
            w("| %s | %s | %s | %s | %s | %s | %s |" % (
                c["id"], cell(c.get("title")), c["level"], cell(", ".join(c.get("refs", []))),
                cell(", ".join(ecs)), cell(", ".join(reqs)), cell(c.get("description"))))
    w("")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ppconform", required=True)
    ap.add_argument("--scenarios", default=None)
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--output")
    g.add_argument("--check")
    a = ap.parse_args()
    cmd = [a.ppconform, "run", "--list", "--json"]
    if a.scenarios:
        cmd[2:2] = ["--scenarios", a.scenarios]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if r.returncode != 0:
        sys.stderr.write("gen-cases-md: %s failed (%d): %s\n" % (" ".join(cmd), r.returncode, r.stderr.decode(errors="replace")))
        return 2
    text = render(json.loads(r.stdout.decode())["cases"])
    if a.output:
        with open(a.output, "w", encoding="utf-8") as f:
            f.write(text)
        return 0
    try:
        with open(a.check, encoding="utf-8") as f:
            current = f.read()
    except OSError as e:
        sys.stderr.write("gen-cases-md: %s\n" % e)
        return 1
    if current != text:
        sys.stderr.write("%s is stale: regenerate it with\n  scripts/gen-cases-md.py --ppconform %s --output %s\n"
                         % (a.check, a.ppconform, a.check))
        return 1
    print("%s is up to date" % a.check)
    return 0


if __name__ == "__main__":
    sys.exit(main())
