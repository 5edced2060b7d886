#!/usr/bin/env python3
"""The rabbitmq target profile's oracle against a real RabbitMQ: `ppconform run --profile
rabbitmq` with the cases of rabbitmq_oracle.lua (beside this file). Every case must PASS: a
SKIP means the profile no longer offers "oracle.sessions", a FAIL that the oracle reports
something other than the source carried by the PROXY v2 header (TCP4 and TCP6), the user, or
keeps two live sessions with the same carried source apart wrongly.

ppconform starts RabbitMQ (and epmd) itself on free loopback ports and stops them by PID;
this script only runs ppconform, and on a timeout ends it with SIGTERM (so it stops the
broker) before SIGKILL.
Usage: test_rabbitmq_oracle.py BIN_DIR SOURCE_DIR (ctest; exit 77 = rabbitmq-server missing,
said loudly; CI=true makes that a failure)."""
import glob
import json
import os
import subprocess
import sys
import tempfile

RABBITMQ_SERVER = "/usr/lib/rabbitmq/lib/rabbitmq_server-3.10.8/sbin/rabbitmq-server"
EPMD = "/usr/bin/epmd"
CASES = ["RMQORC-V2-TCP4", "RMQORC-V2-TCP6", "RMQORC-SAME-SOURCE"]
RUN_TIMEOUT_S = 150  # RabbitMQ boots in 9-26 s (ppconform gives it up to 90 s); the cases take ~5 s


def print_rabbitmq_logs(tmp):
    """The end of what RabbitMQ and epmd wrote, to tell why a case could not reach them."""
    for d in sorted(glob.glob(os.path.join(tmp, "ppconform-rabbitmq-*"))):
        for name in ("rabbitmq.log", "epmd.log"):
            try:
                with open(os.path.join(d, name), errors="replace") as f:
                    text = f.read()[-6000:]
            except OSError:
                continue
            print(f"--- the end of {d}/{name}:\n{text}")


def main():
    if len(sys.argv) != 3:
        print("usage: test_rabbitmq_oracle.py BIN_DIR SOURCE_DIR", file=sys.stderr)
        return 2
    bin_dir, src = sys.argv[1], sys.argv[2]
    missing = [p for p in (RABBITMQ_SERVER, EPMD) if not os.path.exists(p)]
    if missing:
        print("test_rabbitmq_oracle: missing " + ", ".join(missing) +
              " (install the Debian package rabbitmq-server: scripts/deps.sh test)", file=sys.stderr)
        return 1 if os.environ.get("CI") == "true" else 77
    scenarios = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rabbitmq_oracle.lua")
    with tempfile.TemporaryDirectory(prefix="ppc-rmq-oracle-") as tmp:
        report = os.path.join(tmp, "report.json")
        # --keep-target with TMPDIR here: RabbitMQ's own log survives the run for a failure report,
        # and goes with this temporary directory
        cmd = [os.path.join(bin_dir, "ppconform"), "run", "--profile", "rabbitmq", "--scenarios", scenarios,
               "--json", report, "--color", "never", "-v", "--keep-target"]
        env = dict(os.environ, TMPDIR=tmp)
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=src, env=env)
        try:
            out, _ = proc.communicate(timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.terminate()  # ppconform stops RabbitMQ by PID on SIGTERM
            try:
                out, _ = proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, _ = proc.communicate()
            print(out)
            print(f"test_rabbitmq_oracle: ppconform did not finish within {RUN_TIMEOUT_S} s", file=sys.stderr)
            return 1
        print(out)
        if proc.returncode != 0:
            print_rabbitmq_logs(tmp)
            print(f"test_rabbitmq_oracle: ppconform exited {proc.returncode} (expected 0)", file=sys.stderr)
            return 1
        with open(report) as f:
            verdicts = {c["id"]: c["verdict"] for c in json.load(f)["cases"]}
    bad = {cid: verdicts.get(cid, "not run") for cid in CASES if verdicts.get(cid) != "PASS"}
    if bad:
        print(f"test_rabbitmq_oracle: every case must PASS; got {bad}", file=sys.stderr)
        return 1
    print(f"test_rabbitmq_oracle: {len(CASES)} cases passed against RabbitMQ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
