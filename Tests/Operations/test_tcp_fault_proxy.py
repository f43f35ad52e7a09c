"""The TCP fault proxy the high-availability tests (issue 20) put in front of each keeper's database connection
(Tests/Support/tcp_fault_proxy.py): it forwards bytes both ways (a large transfer, a half-close, a real PostgreSQL
session), SIGUSR1 resets every live connection and keeps serving, SIGUSR2 partitions (nothing forwarded, connections
held open silently) until the second SIGUSR2 resets the stalled connections and forwarding resumes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SUPPORT = os.path.join(HERE, "..", "Support")
sys.path.insert(0, SUPPORT)

from pgserver import PgServer  # noqa: E402

PROXY = os.path.join(SUPPORT, "tcp_fault_proxy.py")


class EchoServer:
    """Echoes each connection's bytes back; closes after the client's FIN; counts connections reset under it."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.resets = 0
        self.accepted = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._echo, args=(c,), daemon=True).start()

    def _echo(self, c):
        with c:
            try:
                while data := c.recv(65536):
                    c.sendall(data)
            except ConnectionResetError:
                self.resets += 1
                return
            try:
                c.shutdown(socket.SHUT_WR)
            except OSError:  # the peer is already gone
                pass

    def close(self):
        self.sock.close()


class Proxy:
    def __init__(self, target_port: int):
        self.p = subprocess.Popen([sys.executable, PROXY, "--target", f"127.0.0.1:{target_port}"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ready = json.loads(self.p.stdout.readline())
        assert ready["pid"] == self.p.pid
        self.port = ready["port"]

    def signal(self, sig: int, expect: str) -> str:
        """Sends `sig` and waits for the proxy's stderr line acknowledging it (so the fault is in force)."""
        self.p.send_signal(sig)
        line = self.p.stderr.readline()
        assert expect in line, line
        return line

    def connect(self) -> socket.socket:
        s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        return s

    def stop(self) -> int:
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            return self.p.wait(timeout=10)
        finally:
            if self.p.poll() is None:
                self.p.kill()
            for f in (self.p.stdin, self.p.stdout, self.p.stderr):
                if not f.closed:
                    f.close()


@pytest.fixture
def echo():
    e = EchoServer()
    yield e
    e.close()


@pytest.fixture
def proxy(echo):
    p = Proxy(echo.port)
    yield p
    p.stop()


def roundtrip(s: socket.socket, data: bytes) -> bytes:
    s.sendall(data)
    got = b""
    while len(got) < len(data):
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
    return got


def assert_reset(s: socket.socket) -> None:
    """The connection ended with a TCP RST (a FIN would be a graceful close, not the fault asked for)."""
    s.settimeout(5)
    with pytest.raises(ConnectionResetError):
        if s.recv(10) == b"":
            raise AssertionError("closed with FIN, not RST")


def test_forwards_both_ways_with_backpressure_and_half_close(proxy):
    s = proxy.connect()
    assert roundtrip(s, b"hello") == b"hello"
    # More than the proxy buffers per direction (1 MiB), written while the reply is read.
    big = os.urandom(3 << 20)
    got = bytearray()
    writer = threading.Thread(target=s.sendall, args=(big,))
    writer.start()
    while len(got) < len(big):
        got += s.recv(1 << 16)
    writer.join()
    assert bytes(got) == big
    # Half-close: our FIN reaches the server, whose last bytes and FIN come back.
    s.sendall(b"last")
    s.shutdown(socket.SHUT_WR)
    tail = b""
    while chunk := s.recv(100):
        tail += chunk
    assert tail == b"last"
    s.close()
    assert proxy.stop() == 0


def test_drop_resets_live_connections_and_keeps_accepting(proxy, echo):
    a, b = proxy.connect(), proxy.connect()
    assert roundtrip(a, b"a") == b"a" and roundtrip(b, b"b") == b"b"
    assert "reset 2 connections" in proxy.signal(signal.SIGUSR1, "drop")
    for s in (a, b):
        assert_reset(s)
    deadline = time.time() + 5
    while echo.resets < 2 and time.time() < deadline:
        time.sleep(0.05)
    assert echo.resets == 2, "the upstream side is reset too"
    c = proxy.connect()
    assert roundtrip(c, b"again") == b"again"


def test_stall_holds_connections_silently_then_recovers(proxy, echo):
    a = proxy.connect()
    assert roundtrip(a, b"before") == b"before"
    proxy.signal(signal.SIGUSR2, "stall: holding 1 connections")
    a.sendall(b"lost")
    a.settimeout(1.0)
    with pytest.raises(socket.timeout):  # no reply, no FIN, no RST: a partition
        a.recv(10)
    # A new connection is accepted but nothing reaches the server.
    accepted = echo.accepted
    b = proxy.connect()
    b.sendall(b"hello?")
    b.settimeout(1.0)
    with pytest.raises(socket.timeout):
        b.recv(10)
    assert echo.accepted == accepted
    # Unstall: the connections that lived through the partition are reset; new ones work.
    assert "reset 2 stalled connections" in proxy.signal(signal.SIGUSR2, "unstall")
    for s in (a, b):
        assert_reset(s)
    c = proxy.connect()
    assert roundtrip(c, b"after") == b"after"


def test_a_refused_upstream_resets_the_client():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    p = Proxy(port)
    try:
        try:
            c = p.connect()
        except ConnectionResetError:
            return  # the reset came before connect() returned (it polls a non-blocking connect when given a timeout)
        assert_reset(c)
    finally:
        assert p.stop() == 0


def test_exits_when_its_stdin_pipe_closes(echo):
    p = Proxy(echo.port)
    p.p.stdin.close()
    assert p.p.wait(timeout=10) == 0
    p.stop()


def psql(port: int, password: str, sql: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(["psql", "-X", "-q", "-A", "-t", "-h", "127.0.0.1", "-p", str(port), "-U", "keeper", "-d", "keeper",
                           "-c", sql], capture_output=True, text=True, timeout=timeout, env=dict(os.environ, PGPASSWORD=password))


def test_a_postgresql_session_through_the_proxy_and_a_drop_under_it():
    with PgServer() as pg:
        p = Proxy(pg.port)
        try:
            r = psql(p.port, pg.password, "select 40 + 2")
            assert (r.returncode, r.stdout.strip()) == (0, "42"), r.stderr
            # A session busy on the server loses its connection at once when the proxy drops it.
            started = time.time()
            busy = subprocess.Popen(["psql", "-X", "-h", "127.0.0.1", "-p", str(p.port), "-U", "keeper", "-d", "keeper",
                                     "-c", "select pg_sleep(30)"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    env=dict(os.environ, PGPASSWORD=pg.password))
            deadline = time.time() + 10
            while time.time() < deadline and pg.psql("select count(*) from pg_stat_activity where query like 'select pg_sleep%'",
                                                     superuser=True) != "1":
                time.sleep(0.1)
            p.signal(signal.SIGUSR1, "drop: reset 1 connections")
            _, err = busy.communicate(timeout=10)
            assert busy.returncode != 0 and time.time() - started < 15, err
            assert "connection" in err.lower(), err
            # A partition: a new session cannot even log in; after it, sessions work again.
            p.signal(signal.SIGUSR2, "stall")
            with pytest.raises(subprocess.TimeoutExpired):
                psql(p.port, pg.password, "select 1", timeout=2)
            p.signal(signal.SIGUSR2, "unstall")
            r = psql(p.port, pg.password, "select 1")
            assert (r.returncode, r.stdout.strip()) == (0, "1"), r.stderr
        finally:
            assert p.stop() == 0
