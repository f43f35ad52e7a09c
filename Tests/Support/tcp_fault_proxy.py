#!/usr/bin/env python3
"""A TCP proxy in front of one keeper's database connection that can cut it or partition it (issue 20's fault tests;
stdlib only, one thread, selectors).

    tcp_fault_proxy.py --target HOST:PORT [--listen-port 0]   -> one JSON line {"port": N, "pid": P} on stdout when ready

It listens on 127.0.0.1 and forwards bytes both ways, half-closes included, one upstream connection per client
connection (a refused upstream resets the client). Faults, by signal:

- ``SIGUSR1`` — drop: every current connection (client and upstream side) is closed abruptly, with a TCP RST
  (SO_LINGER 0); new connections are accepted and forwarded as before (a stall in force stays in force).
- ``SIGUSR2`` — toggle stall (a partition): while stalled, nothing is forwarded in either direction, on the open
  connections or on new ones (they are accepted and then ignored), and every connection is held open silently — no
  FIN, no RST, like a network that eats packets. Toggling back drops (RST) every connection that lived through the
  stall and forwards new ones normally.
- ``SIGTERM``/``SIGINT`` — exit 0. So does the end of stdin when stdin is a pipe (the parent that held it died).

Each fault is reported on stderr (one line); stdout carries the ready line only.
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import signal
import socket
import stat
import struct
import sys

LIMIT = 1 << 20  # bytes buffered per direction before the proxy stops reading the source (backpressure)


def log(msg: str) -> None:
    print(f"tcp_fault_proxy[{os.getpid()}]: {msg}", file=sys.stderr, flush=True)


def reset(sock: socket.socket | None) -> None:
    """Closes `sock` with a TCP RST instead of a FIN."""
    if sock is None:
        return
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class Conn:
    """One client connection and its upstream connection (None when accepted during a stall)."""

    def __init__(self, proxy: "Proxy", client: socket.socket, upstream: socket.socket | None):
        self.proxy = proxy
        self.client = client
        self.upstream = upstream
        self.frozen = upstream is None
        self.out: dict[socket.socket, bytearray] = {}  # bytes waiting to be written to that socket
        self.eof: dict[socket.socket, bool] = {}  # that socket's peer has sent FIN
        self.registered: dict[socket.socket, int] = {}
        self.shut: set[socket.socket] = set()  # sockets whose write side we shut down (the FIN passed on)
        for s in self.sockets():
            s.setblocking(False)
            self.out[s] = bytearray()
            self.eof[s] = False

    def sockets(self) -> list[socket.socket]:
        return [s for s in (self.client, self.upstream) if s is not None]

    def other(self, s: socket.socket) -> socket.socket:
        return self.upstream if s is self.client else self.client

    def update(self) -> None:
        """(Re-)registers each socket for what it can do now: read unless its peer ended or the other side's buffer
        is full, write while bytes wait for it. A frozen connection is registered for nothing."""
        sel = self.proxy.sel
        for s in self.sockets():
            events = 0
            if not self.frozen:
                if not self.eof[s] and len(self.out[self.other(s)]) < LIMIT:
                    events |= selectors.EVENT_READ
                if self.out[s]:
                    events |= selectors.EVENT_WRITE
            have = self.registered.get(s, 0)
            if events == have:
                continue
            if have and events:
                sel.modify(s, events, self)
            elif have:
                sel.unregister(s)
            else:
                sel.register(s, events, self)
            self.registered[s] = events

    def freeze(self) -> None:
        self.frozen = True
        self.update()

    def unregister(self) -> None:
        for s, ev in self.registered.items():
            if ev:
                try:
                    self.proxy.sel.unregister(s)
                except (KeyError, ValueError):
                    pass
        self.registered.clear()

    def abort(self) -> None:
        """Both sides closed with RST."""
        self.unregister()
        for s in self.sockets():
            reset(s)
        self.proxy.conns.discard(self)

    def close(self) -> None:
        """Both sides closed normally (everything was forwarded and both peers ended)."""
        self.unregister()
        for s in self.sockets():
            try:
                s.close()
            except OSError:
                pass
        self.proxy.conns.discard(self)

    def on_event(self, s: socket.socket, mask: int) -> None:
        dst = self.other(s)
        try:
            if mask & selectors.EVENT_READ:
                try:
                    data = s.recv(65536)
                except BlockingIOError:
                    data = None
                if data == b"":
                    self.eof[s] = True
                    self.flush(dst)
                elif data:
                    self.out[dst] += data
                    self.flush(dst)
            if mask & selectors.EVENT_WRITE:
                self.flush(s)
        except OSError:
            # A reset or broken pipe on either side is passed on as a reset to the other.
            self.abort()
            return
        if all(self.eof.values()) and not any(self.out.values()):
            self.close()
            return
        self.update()

    def flush(self, s: socket.socket) -> None:
        buf = self.out[s]
        if buf:
            try:
                n = s.send(buf)
            except BlockingIOError:
                n = 0
            del buf[:n]
        if not buf and self.eof[self.other(s)] and s not in self.shut:
            self.shut.add(s)
            s.shutdown(socket.SHUT_WR)


class Proxy:
    def __init__(self, target: tuple[str, int], listen_port: int):
        self.target = target
        self.sel = selectors.DefaultSelector()
        self.conns: set[Conn] = set()
        self.stalled = False
        self.running = True
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", listen_port))
        self.listener.listen(128)
        self.listener.setblocking(False)
        self.port = self.listener.getsockname()[1]
        self.sel.register(self.listener, selectors.EVENT_READ, "accept")
        # Signals arrive as bytes on this socket pair (signal.set_wakeup_fd), in order, handled between events.
        self.wake_r, self.wake_w = socket.socketpair()
        self.wake_r.setblocking(False)
        self.wake_w.setblocking(False)
        self.sel.register(self.wake_r, selectors.EVENT_READ, "signal")
        signal.set_wakeup_fd(self.wake_w.fileno())
        for sig in (signal.SIGUSR1, signal.SIGUSR2, signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: None)
        try:
            if stat.S_ISFIFO(os.fstat(0).st_mode):
                os.set_blocking(0, False)
                self.sel.register(0, selectors.EVENT_READ, "stdin")
        except OSError:
            pass

    def accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except BlockingIOError:
                return
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.stalled:
                conn = Conn(self, client, None)  # accepted, then ignored: the partition eats everything
            else:
                try:
                    upstream = socket.create_connection(self.target, timeout=5)
                except OSError as e:
                    log(f"upstream {self.target[0]}:{self.target[1]} refused ({e}): resetting the client")
                    reset(client)
                    continue
                upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                conn = Conn(self, client, upstream)
            self.conns.add(conn)
            conn.update()

    def drop(self) -> int:
        conns = list(self.conns)
        for c in conns:
            c.abort()
        return len(conns)

    def on_signal(self, sig: int) -> None:
        if sig == signal.SIGUSR1:
            log(f"drop: reset {self.drop()} connections{' (still stalled)' if self.stalled else ''}")
        elif sig == signal.SIGUSR2:
            self.stalled = not self.stalled
            if self.stalled:
                for c in self.conns:
                    c.freeze()
                log(f"stall: holding {len(self.conns)} connections silently, forwarding nothing")
            else:
                log(f"unstall: reset {self.drop()} stalled connections, forwarding new ones")
        elif sig in (signal.SIGTERM, signal.SIGINT):
            self.running = False

    def run(self) -> None:
        while self.running:
            for key, mask in self.sel.select(timeout=1.0):
                if key.data == "accept":
                    self.accept()
                elif key.data == "signal":
                    try:
                        for sig in self.wake_r.recv(64):
                            self.on_signal(sig)
                    except BlockingIOError:
                        pass
                elif key.data == "stdin":
                    try:
                        if os.read(0, 4096) == b"":
                            self.running = False
                    except BlockingIOError:
                        pass
                elif key.data in self.conns:  # skip events of a connection closed earlier in this batch
                    key.data.on_event(key.fileobj, mask)
        self.drop()
        self.listener.close()


def main(argv=None) -> int:
    # A parent that launched us from a thread with signals blocked (Foundation.Process from a Swift concurrency thread)
    # passes its mask on: unblock what we must react to.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGUSR2])
    ap = argparse.ArgumentParser(prog="tcp_fault_proxy.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", required=True, help="HOST:PORT to forward to")
    ap.add_argument("--listen-port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    a = ap.parse_args(argv)
    host, _, port = a.target.rpartition(":")
    if not host or not port.isdigit():
        ap.error("--target must be HOST:PORT")
    proxy = Proxy((host, int(port)), a.listen_port)
    print(json.dumps({"port": proxy.port, "pid": os.getpid()}), flush=True)
    proxy.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
