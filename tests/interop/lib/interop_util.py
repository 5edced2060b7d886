"""Shared helpers for the interop tests and scripts/sender-findings.py: a free loopback port,
a listening check, a deadline-bounded wait, the temp dir and child processes of one run
(World: spawn, readiness, stop by PID), a throwaway PKI, and the HAProxy and nginx
configuration preambles. Import after adding this folder to sys.path."""
import os
import shutil
import socket
import subprocess
import tempfile
import time

POLL_S = 0.02  # between readiness checks; a wait never pauses past its deadline

# The peers as Debian installs them (scripts/deps.sh)
HAPROXY, NGINX = "/usr/sbin/haproxy", "/usr/sbin/nginx"
STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so"
MOSQUITTO, MOSQ_PUB = "/usr/sbin/mosquitto", "/usr/bin/mosquitto_pub"
NODE, OPENSSL = "/usr/bin/node", "/usr/bin/openssl"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_until(what, fn, timeout, error=AssertionError):
    """Poll fn() until it returns a truthy value; raise `error` naming `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        left = deadline - time.monotonic()
        if left <= 0:
            raise error(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(min(POLL_S, left))  # bounded by the deadline


class World:
    """One temp dir and the child processes a test run starts in it.

    spawn() logs a child's stdout and stderr to <dir>/<name>.log (with separate_stderr, stderr
    goes to <name>.err, so stdout stays machine-readable); stop() ends every child by its PID,
    newest first (TERM, then KILL after a bounded wait), and removes the dir unless PPC_KEEP
    is set. Waits default to `deadline_s`; `error` is the exception raised when one times out
    or a child dies while it is awaited."""

    STOP_WAIT_S = 5.0

    def __init__(self, prefix, deadline_s=10.0, error=AssertionError):
        self.dir = tempfile.mkdtemp(prefix=prefix)
        self.procs = []  # (name, Popen) in start order
        self.deadline_s = deadline_s
        self.error = error

    def wait_until(self, what, fn, timeout=None):
        return wait_until(what, fn, self.deadline_s if timeout is None else timeout, self.error)

    def path(self, name):
        return os.path.join(self.dir, name)

    def spawn(self, name, argv, separate_stderr=False, **popen_kw):
        log = open(self.path(name + ".log"), "wb")
        err = open(self.path(name + ".err"), "wb") if separate_stderr else None
        try:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=err or subprocess.STDOUT,
                                 **popen_kw)
        finally:
            log.close()  # the child has its own descriptors
            if err:
                err.close()
        self.procs.append((name, p))
        return p

    def log_tail(self, name, n=2000):
        try:
            with open(self.path(name + ".log"), "rb") as f:
                return f.read()[-n:].decode(errors="replace")
        except OSError:
            return ""

    def alive(self, name, p):
        """True while p runs; raises `error` with the end of its log once it has exited."""
        if p.poll() is not None:
            raise self.error(f"{name} exited {p.returncode}: {self.log_tail(name)}")
        return True

    def alive_and_listening(self, name, p, port):
        return self.alive(name, p) and listening(port)

    def wait_ready_file(self, name, p, path, parse):
        """Wait for p to write its ready file: parse(its text) must return a truthy value
        (a half-written file fails to parse and is read again); raises if p exits first."""
        def ready():
            self.alive(name, p)
            try:
                with open(path) as f:
                    return parse(f.read())
            except (OSError, ValueError):
                return None
        return self.wait_until(f"{name}'s ready file", ready)

    def stop(self):
        for _name, p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=self.STOP_WAIT_S)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        if not os.environ.get("PPC_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)


def make_pki(d, ca_cn, server_san, openssl=OPENSSL):
    """A throwaway PKI in d: ca.{key,crt}, server.{key,crt} (CN localhost, subjectAltName
    server_san, e.g. "DNS:localhost,IP:127.0.0.1"), alice.{key,crt} (client, CN alice), and
    server.pem (certificate then key, as HAProxy's `crt` wants it). Valid for two days."""
    def run(*args):
        subprocess.run([openssl, *args], check=True, capture_output=True, timeout=30, cwd=d)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
        "-subj", f"/CN={ca_cn}")
    with open(os.path.join(d, "server.ext"), "w") as f:
        f.write(f"subjectAltName={server_san}\nextendedKeyUsage=serverAuth\n")
    with open(os.path.join(d, "client.ext"), "w") as f:
        f.write("extendedKeyUsage=clientAuth\n")
    for name, cn, ext in (("server", "localhost", "server.ext"), ("alice", "alice", "client.ext")):
        run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={cn}")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", f"{name}.crt", "-days", "2", "-extfile", ext)
    with open(os.path.join(d, "server.pem"), "wb") as out:
        for part in ("server.crt", "server.key"):
            with open(os.path.join(d, part), "rb") as f:
                out.write(f.read())


def haproxy_config(sections, timeout="30s"):
    """An HAProxy configuration in TCP mode logging to stdout, followed by `sections`
    (frontends and backends, as text)."""
    return f"""global
    log stdout format raw local0
    maxconn 256
defaults
    mode tcp
    log global
    timeout connect 2s
    timeout client {timeout}
    timeout server {timeout}
{sections}"""


def nginx_stream_config(module, d, errlog, stream):
    """An nginx configuration that runs in the foreground as one process (pid file in d,
    error log errlog) with the stream module `module` loaded and `stream` inside stream { }."""
    return f"""load_module {module};
daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {errlog} info;
events {{ worker_connections 64; }}
stream {{
{stream}}}
"""
