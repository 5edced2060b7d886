"""Shared helpers for the interop tests and scripts/sender-findings.py: a free loopback port,
a listening check, and a deadline-bounded wait. Import after adding this folder to sys.path."""
import socket
import time

POLL_S = 0.02  # between readiness checks; a wait never pauses past its deadline


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
