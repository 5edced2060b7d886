#!/usr/bin/env python3
"""Our sender into real receivers: proxysend's profiles and valid TLV combinations into
HAProxy `accept-proxy` and nginx stream `listen ... proxy_protocol`, asserting from their
logs that they decoded the source address we sent: someone else's parser agrees with our bytes.

Every header carries a distinct documentation-range source (203.0.113.x / 2001:db8::x) and
port, so each log line is matched to exactly one send. nginx 1.22 refuses v2 headers longer
than 107 bytes ("header is too large"): for those the test asserts that refusal instead.

Usage: test_receivers.py BIN_DIR SOURCE_DIR (ctest; exit 77 = peer missing outside CI, said
loudly; CI=true makes it a failure). Processes are children stopped by PID at the end; files
live in one temp dir, removed at the end. Loopback only.
"""
import os
import re
import subprocess
import sys
import unittest

BIN, SRC = (sys.argv[1], sys.argv[2]) if len(sys.argv) >= 3 else (None, None)
DEADLINE_S = 10.0

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '../lib'))
import interop_util  # noqa: E402  (shared: World, configs, peer paths, free_port)
from interop_util import (HAPROXY, MOSQUITTO, NGINX, STREAM_MODULE, free_port,  # noqa: E402
                          haproxy_config, nginx_stream_config)

NGINX_V2_LIMIT = 107  # nginx 1.22: NGX_PROXY_PROTOCOL_MAX_HEADER

W = {}  # world (interop_util.World: temp dir and children), ports, log paths


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode(errors="replace")
    except OSError:
        return ""


def setUpModule():
    missing = [p for p in (HAPROXY, NGINX, MOSQUITTO, STREAM_MODULE) if not os.path.exists(p)]
    if missing:
        print("test_receivers: peers missing: " + ", ".join(missing), file=sys.stderr)
        sys.exit(1 if os.environ.get("CI") == "true" else 77)
    w = W["world"] = interop_util.World("ppc-receivers-", DEADLINE_S)
    # Mosquitto behind both, so a header followed by CONNECT gets a real CONNACK
    mport = free_port()
    with open(w.path("mosquitto.conf"), "w") as f:
        f.write(f"allow_anonymous true\npersistence false\nlog_dest stderr\nlistener {mport} 127.0.0.1\n")
    p = w.spawn("mosquitto", [MOSQUITTO, "-c", w.path("mosquitto.conf")])
    w.wait_until("mosquitto", lambda: w.alive_and_listening("mosquitto", p, mport))

    hport = W["haproxy"] = free_port()
    with open(w.path("haproxy.cfg"), "w") as f:
        f.write(haproxy_config(f"""frontend fe_recv
    bind 127.0.0.1:{hport} accept-proxy
    # logged when the connection starts, so a line exists as soon as the header is decoded
    option logasap
    log-format "RECV client=%ci:%cp dst=%fi:%fp authority=%[fc_pp_authority] unique_id=%[fc_pp_unique_id]"
    default_backend be
backend be
    server mosquitto 127.0.0.1:{mport}
""", timeout="10s"))
    p = w.spawn("haproxy", [HAPROXY, "-db", "-f", w.path("haproxy.cfg")])
    w.wait_until("haproxy", lambda: w.alive_and_listening("haproxy", p, hport))

    nport = W["nginx"] = free_port()
    W["nginx_access"], W["nginx_error"] = w.path("nginx-access.log"), w.path("nginx-error.log")
    with open(w.path("nginx.conf"), "w") as f:
        f.write(nginx_stream_config(STREAM_MODULE, w.dir, W["nginx_error"], f"""    log_format pp 'RECV pp_src=$proxy_protocol_addr:$proxy_protocol_port pp_dst=$proxy_protocol_server_addr:$proxy_protocol_server_port';
    # written when the session ends: every send below closes its connection
    access_log {W['nginx_access']} pp;
    server {{
        listen 127.0.0.1:{nport} proxy_protocol;
        proxy_protocol_timeout 3s;
        proxy_pass 127.0.0.1:{mport};
    }}
"""))
    p = w.spawn("nginx", [NGINX, "-e", W["nginx_error"], "-c", w.path("nginx.conf")])
    w.wait_until("nginx", lambda: w.alive_and_listening("nginx", p, nport))


def tearDownModule():
    if W.get("world"):
        W["world"].stop()  # each child by its PID, newest first; then the temp dir


def header_len(args):
    """proxysend --dry-run: the number of header bytes these options make."""
    r = subprocess.run([os.path.join(BIN, "proxysend"), "--dry-run", "--json", *args], capture_output=True,
                       timeout=DEADLINE_S, text=True)
    if r.returncode != 0:
        raise AssertionError(f"proxysend --dry-run {' '.join(args)}: {r.stderr}{r.stdout}")
    m = re.search(r'"header_len"\s*:\s*(\d+)', r.stdout) or re.search(r'"length"\s*:\s*(\d+)', r.stdout)
    if not m:
        raise AssertionError(f"no header length in proxysend --dry-run output: {r.stdout[:400]}")
    return int(m.group(1))


def send(port, args, expect="connack=0"):
    argv = [os.path.join(BIN, "proxysend"), *args, "--mqtt-connect", "--expect", expect, "--timeout", "5s",
            f"127.0.0.1:{port}"]
    r = subprocess.run(argv, capture_output=True, timeout=DEADLINE_S, text=True)
    if r.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited {r.returncode}:\n{r.stdout}{r.stderr}")


def log_line(path, needle):
    return W["world"].wait_until(f"'{needle}' in {os.path.basename(path)}",
                      lambda: next((l for l in read(path).splitlines() if needle in l), None))


# (name, proxysend options); src/dst are added per case so each log line is unique
TLV_SETS = [
    ("no TLVs", []),
    ("alpn", ["--tlv", "alpn=mqtt"]),
    ("authority", ["--tlv", "authority=broker.example"]),
    ("unique-id", ["--tlv", "unique-id=ppconform-interop-1"]),
    ("crc32c", ["--tlv", "crc32c"]),
    ("noop", ["--tlv", "noop=4"]),
    ("netns", ["--tlv", "netns=blue"]),
    ("ssl no cert", ["--tlv", "ssl", "--tlv", "ssl-client=ssl", "--tlv", "ssl-verify=0", "--tlv", "ssl-version=TLSv1.3"]),
    ("ssl cn", ["--tlv", "ssl", "--tlv", "ssl-client=ssl,cert-conn,cert-sess", "--tlv", "ssl-verify=0",
                "--tlv", "ssl-version=TLSv1.3", "--tlv", "ssl-cn=alice"]),
    ("ssl all", ["--tlv", "ssl", "--tlv", "ssl-client=ssl,cert-conn,cert-sess", "--tlv", "ssl-verify=0",
                 "--tlv", "ssl-version=TLSv1.3", "--tlv", "ssl-cn=alice", "--tlv", "ssl-cipher=TLS_AES_256_GCM_SHA384",
                 "--tlv", "ssl-sig-alg=RSA-SHA256", "--tlv", "ssl-key-alg=RSA2048"]),
    ("aws-vpce", ["--tlv", "aws-vpce=vpce-08d2bf15fac5001c9"]),
    ("azure-linkid", ["--tlv", "azure-linkid=42"]),
    ("gcp-psc", ["--tlv", "gcp-psc=1234567890"]),
    ("authority+unique-id+crc32c", ["--tlv", "authority=broker.example", "--tlv", "unique-id=uid-2", "--tlv", "crc32c"]),
    ("everything", ["--tlv", "alpn=mqtt", "--tlv", "authority=broker.example", "--tlv", "unique-id=uid-3",
                    "--tlv", "noop=3", "--tlv", "ssl", "--tlv", "ssl-client=ssl,cert-conn,cert-sess",
                    "--tlv", "ssl-verify=0", "--tlv", "ssl-version=TLSv1.3", "--tlv", "ssl-cn=alice",
                    "--tlv", "aws-vpce=vpce-1", "--tlv", "crc32c"]),
]
PROFILES = ["haproxy-v1", "haproxy-v2", "haproxy-v2-ssl", "haproxy-v2-ssl-cn", "nginx-v1", "aws-nlb"]


class Counter:
    n = 0

    @classmethod
    def source(cls, v6=False):
        cls.n += 1
        port = 40000 + cls.n
        return (f"[2001:db8::{cls.n:x}]:{port}", f"2001:db8::{cls.n:x}:{port}") if v6 else \
               (f"203.0.113.{cls.n}:{port}", f"203.0.113.{cls.n}:{port}")


class HAProxyReceiver(unittest.TestCase):
    def check(self, args, v6=False, authority=None, unique_id=None):
        src, shown = Counter.source(v6)
        dst = "[2001:db8::1]:1883" if v6 else "198.51.100.1:1883"
        send(W["haproxy"], [*args, "--src", src, "--dst", dst])
        line = log_line(W["world"].path("haproxy.log"), f"client={shown} ")
        if authority:
            self.assertIn(f"authority={authority}", line)
        if unique_id:
            self.assertIn(f"unique_id={unique_id}", line)

    def test_R_GEN_03_profiles_decoded_by_haproxy(self):
        for prof in PROFILES:
            with self.subTest(profile=prof):
                self.check(["--profile", prof])

    def test_R_GEN_03_v1_and_v2_ipv6_decoded_by_haproxy(self):
        self.check(["-1"], v6=True)
        self.check(["-2"], v6=True)

    def test_R_TLV_01_tlv_combinations_decoded_by_haproxy(self):
        for name, args in TLV_SETS:
            with self.subTest(tlvs=name):
                auth = "broker.example" if "authority=broker.example" in args else None
                uid = next((a.split("=", 1)[1] for a in args if a.startswith("unique-id=")), None)
                self.check(["-2", *args], authority=auth, unique_id=uid)


class NginxReceiver(unittest.TestCase):
    def check(self, args, v6=False):
        src, shown = Counter.source(v6)
        dst = "[2001:db8::1]:1883" if v6 else "198.51.100.1:1883"
        full = [*args, "--src", src, "--dst", dst]
        if header_len(full) > NGINX_V2_LIMIT:
            # nginx 1.22 cannot take it: a refusal (no CONNACK) and one more "header is too large"
            before = read(W["nginx_error"]).count("header is too large")
            send(W["nginx"], full, expect="close")
            W["world"].wait_until("nginx logging 'header is too large' for this header",
                       lambda: read(W["nginx_error"]).count("header is too large") > before)
            return
        send(W["nginx"], full)
        log_line(W["nginx_access"], f"pp_src={shown} ")

    def test_R_GEN_03_profiles_decoded_by_nginx(self):
        for prof in PROFILES:
            with self.subTest(profile=prof):
                self.check(["--profile", prof])

    def test_R_GEN_03_v1_and_v2_ipv6_decoded_by_nginx(self):
        self.check(["-1"], v6=True)
        self.check(["-2"], v6=True)

    def test_R_TLV_01_tlv_combinations_decoded_by_nginx(self):
        for name, args in TLV_SETS:
            with self.subTest(tlvs=name):
                self.check(["-2", *args])


if __name__ == "__main__":
    if not BIN:
        print(__doc__)
        sys.exit(2)
    unittest.main(argv=[sys.argv[0], "-v"])
