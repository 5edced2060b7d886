#!/usr/bin/env python3
"""Keep README.md true: the --help text of each program and ppbroker's configuration-key
tables are copied into README.md between markers, and --check fails when they differ.

  scripts/readme-sync.py --bin build/bin --update   # rewrite the marked blocks
  scripts/readme-sync.py --bin build/bin --check    # exit 1 and show the difference
"""
import argparse
import difflib
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def help_text(binary):
    out = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=30)
    text = out.stdout or out.stderr
    if not text.strip():
        sys.exit(f"readme-sync: {binary} --help printed nothing")
    return "```\n" + text.rstrip("\n") + "\n```\n"


def key_tables():
    """The Listeners and Global keys tables of docs/ppbroker.md (the detailed reference)."""
    doc = open(os.path.join(ROOT, "docs", "ppbroker.md"), encoding="utf-8").read()
    parts = []
    for title in ("Listeners", "Global keys"):
        m = re.search(r"^### " + re.escape(title) + r"\n(.*?)(?=^#)", doc, re.S | re.M)
        if not m:
            sys.exit(f"readme-sync: docs/ppbroker.md has no '### {title}' section")
        table = "\n".join(l for l in m.group(1).splitlines() if l.startswith("|"))
        parts.append(f"{title}:\n\n{table}\n")
    return "\n".join(parts)


def render(readme, blocks):
    for marker, body in blocks.items():
        pat = re.compile(r"(<!-- " + re.escape(marker) + r" -->\n).*?(<!-- /(?:help|keys) -->)", re.S)
        if not pat.search(readme):
            sys.exit(f"readme-sync: README.md has no <!-- {marker} --> block")
        readme = pat.sub(lambda m: m.group(1) + body + m.group(2), readme, count=1)
    return readme


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="directory holding ppconform, ppbroker and proxysend")
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true")
    mode.add_argument("--update", action="store_true")
    a = ap.parse_args()
    blocks = {f"help:{p}": help_text(os.path.join(a.bin, p)) for p in ("ppconform", "ppbroker", "proxysend")}
    blocks["keys:ppbroker"] = key_tables()
    path = os.path.join(ROOT, "README.md")
    old = open(path, encoding="utf-8").read()
    new = render(old, blocks)
    if a.update:
        if new != old:
            open(path, "w", encoding="utf-8").write(new)
        return 0
    if new != old:
        sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), new.splitlines(True),
                                                   "README.md", "README.md (from the programs)"))
        print("README.md is stale: run scripts/readme-sync.py --bin build/bin --update", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
