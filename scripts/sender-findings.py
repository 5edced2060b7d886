#!/usr/bin/python3
"""What real PROXY senders send, checked by `proxysend --listen` in front of ppbroker.

For each sender shape (HAProxy send-proxy, send-proxy-v2, send-proxy-v2 with every
proxy-v2-options behind TLS with and without a client certificate, send-proxy-v2-ssl-cn with
and without one, HAProxy's check-send-proxy health check; nginx `proxy_protocol on` and its
relay of an IPv6 client onto an IPv4 listener) a real client connects through the sender to
its own `proxysend --listen --json --keep-header --forward <ppbroker>`; proxysend reports the
header and its findings (requirement IDs), ppbroker (PROXY listener, v1 and v2) serves or
refuses the client. The result is a JSON record, docs/sender-findings.json (issue 8 item 5):
the one source of truth, which `ppconform matrix --senders FILE` renders as the "Real senders"
section of docs/interop-matrix.md and .html.

Usage:
  sender-findings.py [--bin DIR] --write FILE   regenerate FILE
  sender-findings.py [--bin DIR] --check FILE   regenerate into a temp file, exit 1 with the
                                                diff when FILE differs
DIR holds ppbroker and proxysend (default: $PPC_BIN, else <repo>/build/bin).
Exit 77 when HAProxy, nginx's stream module, mosquitto_pub or openssl is missing, unless
CI=true, where that is a failure (1). Loopback only; every process is stopped by its PID
(also on failure); the temp dir is removed. Python 3 standard library only.
"""
import argparse
import difflib
import json
import os
import signal
import subprocess
import sys
import tempfile

DEADLINE_S = 15.0

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '../tests/interop/lib'))
import interop_util  # noqa: E402  (shared with the interop tests: World, PKI, configs, paths)
from interop_util import (HAPROXY, MOSQ_PUB, NGINX, OPENSSL, STREAM_MODULE, free_port,  # noqa: E402
                          haproxy_config, make_pki, nginx_stream_config)
RELAY_SRC = "[2001:db8::7]:40006"  # the IPv6 client nginx relays (documentation prefix)

SHAPES = [  # (key, sender, configuration shown in the doc, client shown in the doc)
    ("hap-v1", "HAProxy", "`send-proxy`", "mosquitto_pub"),
    ("hap-v2", "HAProxy", "`send-proxy-v2`", "mosquitto_pub"),
    ("hap-v2opts-cert", "HAProxy",
     "TLS frontend (`verify optional`), `send-proxy-v2 proxy-v2-options "
     "crc32c,unique-id,authority,ssl,cert-cn,ssl-cipher,cert-sig,cert-key`",
     "mosquitto_pub --cert (CN alice)"),
    ("hap-v2opts-nocert", "HAProxy", "the same, client without a certificate", "mosquitto_pub (no certificate)"),
    ("hap-cn-cert", "HAProxy", "TLS frontend (`verify optional`), `send-proxy-v2-ssl-cn`",
     "mosquitto_pub --cert (CN alice)"),
    ("hap-cn-nocert", "HAProxy", "the same, client without a certificate", "mosquitto_pub (no certificate)"),
    ("hap-check", "HAProxy", "`send-proxy-v2 check check-send-proxy` (health check)", "none (HAProxy's own check)"),
    ("ngx-plain", "nginx", "stream `proxy_protocol on`", "mosquitto_pub"),
    ("ngx-relay", "nginx",
     "stream `listen ... proxy_protocol` on 127.0.0.1 with `proxy_protocol on` (relay)",
     f"proxysend -1 --src {RELAY_SRC} --mqtt-connect (an IPv6 client)"),
]
CLIENT_SOURCE = {k: f"127.0.0.{20 + i}" for i, (k, *_rest) in enumerate(SHAPES)}

TLV_NAMES = {0x01: "ALPN", 0x02: "AUTHORITY", 0x03: "CRC32C", 0x04: "NOOP", 0x05: "UNIQUE_ID", 0x20: "SSL",
             0x30: "NETNS"}


class Fail(Exception):
    pass


class World(interop_util.World):
    """The run's temp dir and children (interop_util.World), plus the directory holding
    ppbroker and proxysend. proxysend's stdout is its JSON reports, so its stderr goes to a
    file of its own; every child runs in the temp dir."""

    def __init__(self, bin_dir):
        super().__init__("ppc-sendval-", DEADLINE_S, Fail)
        self.bin = os.path.abspath(bin_dir)

    def spawn(self, name, argv):
        return super().spawn(name, argv, separate_stderr=name.startswith("proxysend"), cwd=self.dir)


def start_ppbroker(w):
    conf, ready = w.path("ppbroker.conf"), w.path("ppbroker.ready")
    with open(conf, "w") as f:
        f.write("allow_anonymous = on\nlog.console.level = info\n"
                "listener.tcp.pp = 127.0.0.1:0\nlistener.tcp.pp.proxy_protocol = on\n"
                "listener.tcp.pp.proxy_protocol_versions = 1,2\n")
    p = w.spawn("ppbroker", [os.path.join(w.bin, "ppbroker"), "-c", conf, "--ready-file", ready])
    info = w.wait_ready_file("ppbroker", p, ready, json.loads)
    return info["listeners"]["pp"]["address"]


def start_proxysend(w, key, broker):
    """One strict listener per shape, so each report belongs to exactly one sender shape."""
    name, ready = f"proxysend-{key}", w.path(f"proxysend-{key}.ready")
    p = w.spawn(name, [os.path.join(w.bin, "proxysend"), "--listen", "127.0.0.1:0", "--forward", broker,
                       "--keep-header", "--json", "--timeout", "5s", "--ready-file", ready])
    return w.wait_ready_file(name, p, ready, lambda s: s.strip() or None)  # written by rename


def start_haproxy(w, ps):
    fe = {k: free_port() for k in ("hap-v1", "hap-v2", "hap-v2opts", "hap-cn")}
    tls = f"ssl crt {w.path('server.pem')} ca-file {w.path('ca.crt')} verify optional"
    cfg = haproxy_config(f"""frontend fe_v1
    bind 127.0.0.1:{fe['hap-v1']}
    default_backend be_v1
backend be_v1
    server s {ps['hap-v1']} send-proxy
frontend fe_v2
    bind 127.0.0.1:{fe['hap-v2']}
    default_backend be_v2
backend be_v2
    server s {ps['hap-v2']} send-proxy-v2
frontend fe_v2opts
    bind 127.0.0.1:{fe['hap-v2opts']} {tls}
    unique-id-format %{{+X}}o\\ %ci:%cp_%fi:%fp_%Ts_%rt:%pid
    use_backend be_v2opts_cert if {{ ssl_c_used }}
    default_backend be_v2opts_nocert
backend be_v2opts_cert
    server s {ps['hap-v2opts-cert']} send-proxy-v2 proxy-v2-options crc32c,unique-id,authority,ssl,cert-cn,ssl-cipher,cert-sig,cert-key
backend be_v2opts_nocert
    server s {ps['hap-v2opts-nocert']} send-proxy-v2 proxy-v2-options crc32c,unique-id,authority,ssl,cert-cn,ssl-cipher,cert-sig,cert-key
frontend fe_cn
    bind 127.0.0.1:{fe['hap-cn']} {tls}
    use_backend be_cn_cert if {{ ssl_c_used }}
    default_backend be_cn_nocert
backend be_cn_cert
    server s {ps['hap-cn-cert']} send-proxy-v2-ssl-cn
backend be_cn_nocert
    server s {ps['hap-cn-nocert']} send-proxy-v2-ssl-cn
backend be_check
    server s {ps['hap-check']} send-proxy-v2 check check-send-proxy inter 1s
""")
    path = w.path("haproxy.cfg")
    with open(path, "w") as f:
        f.write(cfg)
    r = subprocess.run([HAPROXY, "-c", "-q", "-f", path], capture_output=True, timeout=DEADLINE_S)
    if r.returncode != 0:
        raise Fail(f"haproxy -c: {r.stdout.decode(errors='replace')}{r.stderr.decode(errors='replace')}")
    p = w.spawn("haproxy", [HAPROXY, "-db", "-f", path])
    for port in fe.values():
        w.wait_until(f"HAProxy listening on {port}", lambda port=port: w.alive_and_listening("haproxy", p, port))
    return fe


def start_nginx(w, ps):
    fe = {"ngx-plain": free_port(), "ngx-relay": free_port()}
    errlog = w.path("nginx-error.log")
    path = w.path("nginx.conf")
    with open(path, "w") as f:
        f.write(nginx_stream_config(STREAM_MODULE, w.dir, errlog, f"""    server {{
        listen 127.0.0.1:{fe['ngx-plain']};
        proxy_pass {ps['ngx-plain']};
        proxy_protocol on;
    }}
    server {{
        listen 127.0.0.1:{fe['ngx-relay']} proxy_protocol;
        set_real_ip_from 127.0.0.0/8;
        proxy_pass {ps['ngx-relay']};
        proxy_protocol on;
    }}
"""))
    p = w.spawn("nginx", [NGINX, "-e", errlog, "-c", path])
    for port in fe.values():
        w.wait_until(f"nginx listening on {port}", lambda port=port: w.alive_and_listening("nginx", p, port))
    return fe


def run_client(argv):
    """Run a client to completion (bounded); True when it exited 0 (ppbroker served it)."""
    try:
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=DEADLINE_S)
    except subprocess.TimeoutExpired:
        return False
    return r.returncode == 0


def mosquitto(w, port, key, cert):
    argv = [MOSQ_PUB, "-h", "127.0.0.1", "-p", str(port), "-A", CLIENT_SOURCE[key], "-i", f"sendval-{key}",
            "-q", "1", "-t", "sendval/" + key, "-m", "hi"]
    if cert is not None:
        argv += ["--cafile", w.path("ca.crt")]
        if cert:
            argv += ["--cert", w.path("alice.crt"), "--key", w.path("alice.key")]
    return run_client(argv)


def is_shape_report(key, rep):
    """The report of this shape's client, not of a readiness probe (which HAProxy and nginx
    also forward, from 127.0.0.1) nor of a later health check."""
    if key == "hap-check":
        return (rep.get("proxy") or {}).get("command") == "LOCAL"
    if key == "ngx-relay":
        return RELAY_SRC.split("]")[0][1:].encode() in bytes.fromhex(rep.get("header_hex", ""))
    return addr((rep.get("proxy") or {}).get("src")) == CLIENT_SOURCE[key]


def shape_report(w, key):
    path = w.path(f"proxysend-{key}.log")

    def get():
        try:
            with open(path) as f:
                for line in f:
                    if line.endswith("\n") and line.startswith("{"):
                        rep = json.loads(line)
                        if is_shape_report(key, rep):
                            return rep
        except OSError:
            pass
        return None
    return w.wait_until(f"proxysend's report for {key}", get)


def drive(w, fe):
    served = {}
    served["hap-v1"] = mosquitto(w, fe["hap-v1"], "hap-v1", None)
    served["hap-v2"] = mosquitto(w, fe["hap-v2"], "hap-v2", None)
    served["hap-v2opts-cert"] = mosquitto(w, fe["hap-v2opts"], "hap-v2opts-cert", True)
    served["hap-v2opts-nocert"] = mosquitto(w, fe["hap-v2opts"], "hap-v2opts-nocert", False)
    served["hap-cn-cert"] = mosquitto(w, fe["hap-cn"], "hap-cn-cert", True)
    served["hap-cn-nocert"] = mosquitto(w, fe["hap-cn"], "hap-cn-nocert", False)
    served["ngx-plain"] = mosquitto(w, fe["ngx-plain"], "ngx-plain", None)
    served["ngx-relay"] = run_client([os.path.join(w.bin, "proxysend"), "-1", "--src", RELAY_SRC, "--mqtt-connect",
                                      "--client-id", "sendval-ngx-relay", "--expect", "connack=0", "--timeout", "5s",
                                      f"127.0.0.1:{fe['ngx-relay']}"])
    served["hap-check"] = None
    return {k: (shape_report(w, k), served[k]) for k, *_ in SHAPES}


def addr(ep):
    """An endpoint without its port (ports vary from run to run)."""
    if not ep:
        return "none"
    host = ep.rsplit(":", 1)[0]
    return host


def ssl_text(s):
    parts = [f"client 0x{s.get('client', 0):02x}", f"verify {s.get('verify')}"]
    for k in ("version", "cn", "cipher", "sig_alg", "key_alg", "group", "sig_scheme"):
        if k in s:
            parts.append(f"{k} {s[k]}")
    return "SSL(" + ", ".join(parts) + ")"


def tlvs_text(t):
    if not t or not t.get("list"):
        return "none"
    out = []
    for item in t["list"]:
        typ = item.get("type")
        name = TLV_NAMES.get(typ, f"0x{typ:02X}")
        if typ == 0x01:
            out.append(f"ALPN {t.get('alpn')}")
        elif typ == 0x02:
            out.append(f"AUTHORITY {t.get('authority')}")
        elif typ == 0x03:
            out.append(f"CRC32C {t.get('crc32c')}")
        elif typ == 0x05:
            out.append("UNIQUE_ID random")
        elif typ == 0x20:
            out.append(ssl_text(t.get("ssl") or {}))
        else:
            out.append(f"{name} ({item.get('len')} bytes)")
    return "; ".join(out)


def header_text(rep):
    h = rep.get("proxy")
    if not h:
        raw = bytes.fromhex(rep.get("header_hex", ""))
        if raw.startswith(b"PROXY ") and b"\r\n" in raw:  # show the line, ports masked
            f = raw.split(b"\r\n")[0].decode(errors="replace").split(" ")
            f[4:6] = ["random"] * len(f[4:6])
            return f"invalid ({rep.get('error')}): `{' '.join(f)}`"
        return f"invalid ({rep.get('error')}), nothing decodable"
    lax = "" if rep.get("valid") else f"invalid ({rep.get('error')}); leniently: "
    fam = h.get("family")
    if h.get("version") == 1:
        fam = "UNKNOWN" if h.get("v1_unknown") else ("TCP6" if fam == "INET6" else "TCP4")
    return (f"{lax}v{h.get('version')} {h.get('command')} {fam} {addr(h.get('src'))} → {addr(h.get('dst'))}")


NOTES = [
    "HAProxy sends the SSL TLV with `verify 0` when the client presented no certificate (client byte "
    "without CERT_CONN/CERT_SESS): proxysend reports `sender.verify_zero_without_cert` (A-12); a receiver "
    "must not read `verify 0` alone as an authenticated client.",
    "nginx relaying an IPv6 client onto an IPv4 listener writes a TCP6 line with an IPv4 destination, which "
    "the spec forbids (R-V1-17); proxysend refuses it and forwards nothing.",
    "The health check is HAProxy's own connection: a v2 LOCAL header, no client behind it.",
]


def record(results):
    """The record as JSON text: one entry per sender shape, in SHAPES order. Ports and values
    that vary from run to run are left out (`random`), so a fresh run equals the committed one.
    `ppconform matrix --senders` renders it into the matrix (Markdown and HTML)."""
    shapes = []
    for key, sender, conf, client in SHAPES:
        rep, served = results[key]
        h = rep.get("proxy") or {}
        shapes.append({
            "key": key,
            "sender": sender,
            "configuration": conf,
            "client": client,
            "header": header_text(rep),
            "tlvs": tlvs_text(h.get("tlvs")),
            "findings": [{"level": x["severity"], "id": x["id"], "name": x["name"]} for x in rep.get("findings", [])],
            "served": served,  # true/false; null when there is no client (the health check)
        })
    doc = {
        "what": "What real PROXY senders send, each checked by proxysend --listen in front of ppbroker",
        "generated_by": "scripts/sender-findings.py --write docs/sender-findings.json",
        "checked_by": "ctest interop.sendval (sender-findings.py --check); rendered by ppconform matrix --senders",
        "method": "Each sender shape forwards to its own `proxysend --listen --json --keep-header --forward <ppbroker>`; "
                  "ppbroker's listener takes PROXY v1 and v2. Real clients connect from 127.0.0.x; ports are left out "
                  "(they vary), and so are values that vary (`random`). Findings are proxysend's (proxysend/check.c), "
                  "with their requirement ID and level. \"Served\" means the client completed its MQTT exchange through "
                  "the sender, proxysend and ppbroker.",
        "shapes": shapes,
        "notes": NOTES,
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def generate(bin_dir):
    w = World(bin_dir)
    try:
        make_pki(w.dir, "ppconform sendval CA", "DNS:localhost,IP:127.0.0.1", OPENSSL)
        broker = start_ppbroker(w)
        ps = {k: start_proxysend(w, k, broker) for k, *_ in SHAPES}
        fe = start_haproxy(w, ps)
        fe.update(start_nginx(w, ps))
        return record(drive(w, fe))
    finally:
        w.stop()


def missing_peers(bin_dir):
    need = [HAPROXY, NGINX, STREAM_MODULE, MOSQ_PUB, OPENSSL,
            os.path.join(bin_dir, "ppbroker"), os.path.join(bin_dir, "proxysend")]
    return [p for p in need if not os.access(p, os.X_OK if not p.endswith(".so") else os.R_OK)]


def main():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.environ.get("PPC_BIN", os.path.join(here, "build", "bin")))
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", metavar="FILE")
    mode.add_argument("--check", metavar="FILE")
    a = ap.parse_args()
    # a SIGTERM (e.g. ctest's timeout) unwinds through generate()'s finally: children stopped by PID
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    missing = missing_peers(a.bin)
    if missing:
        print("sender-findings: missing: " + ", ".join(missing), file=sys.stderr)
        return 1 if os.environ.get("CI") == "true" else 77
    try:
        doc = generate(a.bin)
    except (Fail, subprocess.SubprocessError, OSError) as e:
        print(f"sender-findings: {e}", file=sys.stderr)
        return 1
    if a.write:
        with open(a.write, "w") as f:
            f.write(doc)
        return 0
    with tempfile.TemporaryDirectory(prefix="ppc-sendval-out-") as d:
        fresh = os.path.join(d, "sender-findings.json")
        with open(fresh, "w") as f:
            f.write(doc)
        try:
            with open(a.check) as f:
                old = f.read()
        except OSError as e:
            print(f"sender-findings: {a.check}: {e}", file=sys.stderr)
            return 1
        if old == doc:
            print(f"sender-findings: {a.check} is up to date")
            return 0
        sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), doc.splitlines(True),
                                                   a.check, "regenerated"))
        print(f"sender-findings: {a.check} differs from a fresh run "
              f"(update with --write {a.check} if the change is expected)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
