#!/usr/bin/env python3
"""Real PROXY senders and real MQTT clients into ppbroker.

HAProxy (send-proxy, send-proxy-v2, send-proxy-v2 with proxy-v2-options, send-proxy-v2-ssl-cn
with TLS client certificates, v2 health checks that send LOCAL) and nginx stream
(`proxy_protocol on`) sit in front of ppbroker; mosquitto_pub, Python paho-mqtt and MQTT.js
connect through them from chosen 127.0.0.N source addresses. Each test asserts through
ppbroker's admin API (/api/v1/events) that the session's carried source, TLVs and
CN-derived username are what the real sender sent.

Usage: test_senders.py BIN_DIR SOURCE_DIR  (ctest runs it; exit 77 = a peer is missing
outside CI, said loudly; with CI=true a missing peer fails). Every process is started as a
child and stopped by PID in tearDownModule, also after failures; all files live in one
temp dir that is removed at the end. Loopback only.
"""
import json
import os
import subprocess
import sys
import unittest
import urllib.request

BIN, SRC = (sys.argv[1], sys.argv[2]) if len(sys.argv) >= 3 else (None, None)
DEADLINE_S = 10.0

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '../lib'))
import interop_util  # noqa: E402  (shared: World, make_pki, configs, peer paths, free_port)
from interop_util import (HAPROXY, MOSQ_PUB, NGINX, NODE, STREAM_MODULE, free_port,  # noqa: E402
                          haproxy_config, nginx_stream_config)

W = {}       # world (interop_util.World: temp dir and children), ports, admin address


def run_client(argv, timeout=DEADLINE_S, **kw):
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, **kw)
    if r.returncode != 0:
        raise AssertionError(f"{argv[0]} exited {r.returncode}: {r.stdout.decode(errors='replace')}"
                             f"{r.stderr.decode(errors='replace')}")
    return r


def start_ppbroker(w):
    conf, ready = w.path("ppbroker.conf"), w.path("ready.json")
    with open(conf, "w") as f:
        f.write("allow_anonymous = on\nlog.console.level = info\nadmin.listener = 127.0.0.1:0\n"
                "listener.tcp.pp = 127.0.0.1:0\nlistener.tcp.pp.proxy_protocol = on\n"
                "listener.tcp.pp.proxy_protocol_versions = 1,2\n"
                "listener.tcp.cn = 127.0.0.1:0\nlistener.tcp.cn.proxy_protocol = on\n"
                "listener.tcp.cn.proxy_protocol_use_cn_as_username = on\n")
    p = w.spawn("ppbroker", [os.path.join(BIN, "ppbroker"), "-c", conf, "--ready-file", ready])
    info = w.wait_ready_file("ppbroker", p, ready, json.loads)
    W["admin"] = info["admin"]
    W["pp"] = info["listeners"]["pp"]["address"]
    W["cn"] = info["listeners"]["cn"]["address"]


def start_haproxy(w):
    ports = {k: free_port() for k in ("v1", "v2", "v2opts", "cn")}
    W["hap"] = ports
    pki = w.dir
    cfg = haproxy_config(f"""frontend fe_v1
    bind 127.0.0.1:{ports['v1']}
    default_backend be_v1
backend be_v1
    server broker {W['pp']} send-proxy
frontend fe_v2
    bind 127.0.0.1:{ports['v2']}
    default_backend be_v2
backend be_v2
    server broker {W['pp']} send-proxy-v2
frontend fe_v2opts
    bind 127.0.0.1:{ports['v2opts']} ssl crt {pki}/server.pem ca-file {pki}/ca.crt verify optional alpn mqtt
    unique-id-format %{{+X}}o\\ %ci:%cp_%fi:%fp_%Ts_%rt:%pid
    default_backend be_v2opts
backend be_v2opts
    server broker {W['pp']} send-proxy-v2-ssl proxy-v2-options crc32c,unique-id,authority,ssl-cipher,cert-sig,cert-key,cert-cn
frontend fe_cn
    bind 127.0.0.1:{ports['cn']} ssl crt {pki}/server.pem ca-file {pki}/ca.crt verify required
    default_backend be_cn
backend be_cn
    server broker {W['cn']} send-proxy-v2-ssl-cn
backend be_check
    # health checks only: check-send-proxy makes each check open with a v2 LOCAL header
    server broker {W['pp']} send-proxy-v2 check check-send-proxy inter 200ms
""")
    path = w.path("haproxy.cfg")
    with open(path, "w") as f:
        f.write(cfg)
    run_client([HAPROXY, "-c", "-q", "-f", path])
    p = w.spawn("haproxy", [HAPROXY, "-db", "-f", path])
    for port in ports.values():
        w.wait_until(f"HAProxy listening on {port}", lambda port=port: w.alive_and_listening("haproxy", p, port))


def start_nginx(w):
    port = free_port()
    W["ngx"] = port
    errlog, path = w.path("nginx-error.log"), w.path("nginx.conf")
    with open(path, "w") as f:
        f.write(nginx_stream_config(STREAM_MODULE, w.dir, errlog, f"""    server {{
        listen 127.0.0.1:{port};
        proxy_pass {W['pp']};
        proxy_protocol on;
    }}
"""))
    p = w.spawn("nginx", [NGINX, "-e", errlog, "-c", path])
    w.wait_until(f"nginx listening on {port}", lambda: w.alive_and_listening("nginx", p, port))


def setUpModule():
    missing = [p for p in (HAPROXY, NGINX, STREAM_MODULE, NODE, MOSQ_PUB) if not os.path.exists(p)]
    try:
        import paho.mqtt.client  # noqa: F401
    except ImportError:
        missing.append("python3-paho-mqtt")
    if not os.path.exists(os.path.join(SRC, "tests/interop/aedes/node_modules/mqtt/package.json")):
        missing.append("MQTT.js (scripts/interop-deps.sh)")
    if missing:
        print("test_senders: interop peers missing: " + ", ".join(missing), file=sys.stderr)
        sys.exit(1 if os.environ.get("CI") == "true" else 77)
    w = W["world"] = interop_util.World("ppc-senders-", DEADLINE_S)
    interop_util.make_pki(w.dir, "ppconform interop CA", "DNS:localhost,DNS:broker.example,IP:127.0.0.1")
    start_ppbroker(w)
    start_haproxy(w)
    start_nginx(w)


def tearDownModule():
    if W.get("world"):
        W["world"].stop()  # each child by its PID, newest first; then the temp dir


def events():
    with urllib.request.urlopen(f"http://{W['admin']}/api/v1/events?since=0", timeout=3) as r:
        return json.load(r).get("events", [])


def session_of(cid):
    """Wait for the connack event of client id cid; return (connack event, PROXY view of its connection)."""
    def find():
        evs = events()
        for e in evs:
            if e.get("type") == "connack" and e.get("client_id") == cid:
                for h in evs:
                    if h.get("type") == "proxy_header" and h.get("conn") == e.get("conn"):
                        return e, h.get("proxy") or {}
        return None
    return W["world"].wait_until(f"ppbroker's events for client {cid}", find)


def pki(name):
    return W["world"].path(name)


def paho_publish(port, cid, source, tls=False):
    """Python paho-mqtt (Debian python3-paho-mqtt): connect from `source`, publish QoS 1, disconnect."""
    import paho.mqtt.client as mqtt
    c = mqtt.Client(client_id=cid, protocol=mqtt.MQTTv311)
    if tls:
        c.tls_set(ca_certs=pki("ca.crt"), certfile=pki("alice.crt"), keyfile=pki("alice.key"))
    c.connect("127.0.0.1", port, keepalive=30, bind_address=source)
    c.loop_start()
    try:
        info = c.publish("interop/paho", b"hi", qos=1)
        info.wait_for_publish(timeout=DEADLINE_S)
        if not info.is_published():
            raise AssertionError("paho: PUBACK not received")
    finally:
        c.disconnect()
        c.loop_stop()


def mqttjs_publish(port, cid, source, tls=None):
    """MQTT.js (npm mqtt, pinned in tests/interop/aedes/package.json)."""
    argv = [NODE, os.path.join(SRC, "tests/interop/aedes/mqttjs_publish.mjs"), "--port", str(port),
            "--client-id", cid, "--source", source]
    if tls is not None:
        argv += ["--ca", pki("ca.crt"), "--cert", pki("alice.crt"), "--key", pki("alice.key"),
                 "--servername", tls.get("servername", "localhost"), "--alpn", tls.get("alpn", "")]
    run_client(argv)


def mosquitto_publish(port, cid, source, tls=False):
    argv = [MOSQ_PUB, "-h", "127.0.0.1", "-p", str(port), "-A", source, "-i", cid, "-q", "1",
            "-t", "interop/mosquitto", "-m", "hi"]
    if tls:
        argv += ["--cafile", pki("ca.crt"), "--cert", pki("alice.crt"), "--key", pki("alice.key")]
    run_client(argv)


class HAProxySenders(unittest.TestCase):
    def assert_carried(self, cid, source, version):
        ack, hdr = session_of(cid)
        self.assertEqual(ack.get("reason_code", 0), 0, ack)
        self.assertEqual(hdr.get("version"), version, hdr)
        self.assertEqual(hdr.get("command"), "PROXY", hdr)
        self.assertTrue(str(hdr.get("src", "")).startswith(source + ":"), f"carried source {hdr.get('src')} is not {source}")
        self.assertTrue(str(ack.get("attributed_peer", "")).startswith(source + ":"),
                        f"session attributed to {ack.get('attributed_peer')}, not {source}")
        self.assertNotEqual(ack.get("attributed_peer"), ack.get("real_peer"), "the session uses the carried source")
        return ack, hdr

    def test_R_GEN_03_send_proxy_v1_mosquitto_pub(self):
        self.assert_carried(self._publish(mosquitto_publish, W["hap"]["v1"], "hap-v1-mosq", "127.0.0.11"), "127.0.0.11", 1)

    def test_R_GEN_03_send_proxy_v1_paho(self):
        self.assert_carried(self._publish(paho_publish, W["hap"]["v1"], "hap-v1-paho", "127.0.0.12"), "127.0.0.12", 1)

    def test_R_GEN_03_send_proxy_v2_mosquitto_pub(self):
        self.assert_carried(self._publish(mosquitto_publish, W["hap"]["v2"], "hap-v2-mosq", "127.0.0.13"), "127.0.0.13", 2)

    def test_R_GEN_03_send_proxy_v2_mqttjs(self):
        self.assert_carried(self._publish(mqttjs_publish, W["hap"]["v2"], "hap-v2-mqttjs", "127.0.0.14"), "127.0.0.14", 2)

    def test_R_TLV_send_proxy_v2_ssl_with_options_mqttjs(self):
        cid = self._publish(mqttjs_publish, W["hap"]["v2opts"], "hap-v2opts-mqttjs", "127.0.0.15",
                            tls={"servername": "broker.example", "alpn": "mqtt"})
        _, hdr = self.assert_carried(cid, "127.0.0.15", 2)
        tlvs = hdr.get("tlvs") or {}
        self.assertEqual(tlvs.get("crc32c"), "ok", "HAProxy's CRC32C verifies")
        self.assertEqual(tlvs.get("authority"), "broker.example", "AUTHORITY is the SNI the client sent")
        self.assertEqual(tlvs.get("alpn"), "mqtt", "ALPN is the protocol negotiated")
        self.assertTrue(tlvs.get("unique_id_hex"), "UNIQUE_ID present")
        ssl = tlvs.get("ssl") or {}
        self.assertEqual(ssl.get("cn"), "alice", ssl)
        self.assertTrue(str(ssl.get("version", "")).startswith("TLSv1"), ssl)
        self.assertTrue(ssl.get("cipher"), ssl)
        self.assertEqual(ssl.get("sig_alg"), "RSA-SHA256", ssl)
        self.assertEqual(ssl.get("key_alg"), "RSA2048", ssl)
        self.assertEqual(ssl.get("verify"), 0, ssl)

    def test_R_TLV_send_proxy_v2_ssl_with_options_paho(self):
        cid = self._publish(paho_publish, W["hap"]["v2opts"], "hap-v2opts-paho", "127.0.0.16", tls=True)
        _, hdr = self.assert_carried(cid, "127.0.0.16", 2)
        ssl = (hdr.get("tlvs") or {}).get("ssl") or {}
        self.assertEqual(ssl.get("cn"), "alice", ssl)

    def test_R_SSL_08_send_proxy_v2_ssl_cn_username_mosquitto_pub(self):
        cid = self._publish(mosquitto_publish, W["hap"]["cn"], "hap-cn-mosq", "127.0.0.17", tls=True)
        ack, hdr = self.assert_carried(cid, "127.0.0.17", 2)
        self.assertEqual(((hdr.get("tlvs") or {}).get("ssl") or {}).get("cn"), "alice", hdr)
        self.assertEqual(ack.get("username"), "alice", "the CN HAProxy sent is the username")

    def test_R_SSL_08_send_proxy_v2_ssl_cn_username_mqttjs(self):
        cid = self._publish(mqttjs_publish, W["hap"]["cn"], "hap-cn-mqttjs", "127.0.0.18", tls={})
        ack, _ = self.assert_carried(cid, "127.0.0.18", 2)
        self.assertEqual(ack.get("username"), "alice", ack)

    def test_R_V2_07_health_checks_send_local(self):
        def local_headers():
            return [e for e in events() if e.get("type") == "proxy_header"
                    and (e.get("proxy") or {}).get("command") == "LOCAL"]
        found = W["world"].wait_until("a LOCAL header from HAProxy's health checks", local_headers)
        e = found[0]
        self.assertEqual(e["proxy"].get("version"), 2, e)
        self.assertEqual(e.get("attributed_peer"), e.get("real_peer"), "LOCAL keeps the real peer")

    def _publish(self, fn, port, cid, source, **kw):
        fn(port, cid, source, **kw)
        return cid


class NginxSender(unittest.TestCase):
    def test_R_GEN_03_nginx_proxy_protocol_on_paho(self):
        paho_publish(W["ngx"], "ngx-paho", "127.0.0.21")
        ack, hdr = session_of("ngx-paho")
        self.assertEqual(hdr.get("version"), 1, hdr)
        self.assertTrue(str(hdr.get("src", "")).startswith("127.0.0.21:"), hdr)
        self.assertTrue(str(ack.get("attributed_peer", "")).startswith("127.0.0.21:"), ack)

    def test_R_GEN_03_nginx_proxy_protocol_on_mosquitto_pub(self):
        mosquitto_publish(W["ngx"], "ngx-mosq", "127.0.0.22")
        _, hdr = session_of("ngx-mosq")
        self.assertTrue(str(hdr.get("src", "")).startswith("127.0.0.22:"), hdr)

    def test_R_GEN_03_nginx_proxy_protocol_on_mqttjs(self):
        mqttjs_publish(W["ngx"], "ngx-mqttjs", "127.0.0.23")
        _, hdr = session_of("ngx-mqttjs")
        self.assertTrue(str(hdr.get("src", "")).startswith("127.0.0.23:"), hdr)


if __name__ == "__main__":
    if not BIN:
        print(__doc__)
        sys.exit(2)
    unittest.main(argv=[sys.argv[0], "-v"])
