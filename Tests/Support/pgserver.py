#!/usr/bin/env python3
"""A throwaway PostgreSQL 15 server for tests (issue 20: the store on PostgreSQL, keepers in high availability).

    pgserver.py serve [--port 0]   -> one JSON line {"url", "port", "pid", "data_dir", "user", "password", "database"}
                                      on stdout, then serves until SIGTERM/SIGINT (or the end of stdin when stdin is a
                                      pipe: the parent holding it died) and removes everything it made

While serving, faults by signal (each done in turn and acknowledged by one line on stderr; stdout says nothing more):
``SIGUSR1`` — crash restart: kill -9 the postmaster and its backends, start again on the same port and data directory
(recovery from the WAL: committed data survives, every connection is cut); ``SIGUSR2`` — clean restart (``restart()``,
what ``systemctl restart postgresql`` does). The JSON line's ``pid`` is the first postmaster's.

In Python: ``with PgServer() as pg: pg.psql("select 1")`` — and ``pg.restart()``, ``pg.crash_restart()`` (``pg.kill9()``
+ ``pg.start()``) for fault tests.

Debian's binaries (``postgresql-15``, installed by deploy/dev/setup.sh): ``initdb`` and ``pg_ctl`` in a temporary
directory, listening on 127.0.0.1 only, at a free port, with a Unix socket inside that directory (never
/var/run/postgresql, so it does not collide with a system server). ``initdb`` refuses to run as root, and CI runs as
root: then the directory is handed to Debian's ``postgres`` user and every server command runs as that user through
``runuser``. The server has one login role ``keeper`` (password authentication, scram-sha-256) owning a database
``keeper``: a keeper's least-privilege role, not a superuser. Nothing is left behind: ``stop()`` removes the directory.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

PG_BIN = os.environ.get("EXPANSION_KEEPER_PG_BIN", "/usr/lib/postgresql/15/bin")


class PgServerError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    def __init__(self, port: int = 0, password: str | None = None):
        for tool in ("initdb", "pg_ctl", "postgres"):
            if not os.access(os.path.join(PG_BIN, tool), os.X_OK):
                raise PgServerError(f"{PG_BIN}/{tool} not found: install Debian's postgresql-15 (deploy/dev/setup.sh does), "
                                    "or set EXPANSION_KEEPER_PG_BIN")
        self.port = port or free_port()
        self.password = password or secrets.token_hex(12)
        self.user = "keeper"
        self.database = "keeper"
        self.root = tempfile.mkdtemp(prefix="keeper-pg-")
        self.data_dir = os.path.join(self.root, "data")
        self.socket_dir = os.path.join(self.root, "socket")
        self.log = os.path.join(self.root, "server.log")
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                raise PgServerError("running as root, and there is no 'postgres' user to run the server as "
                                    "(initdb refuses root); install Debian's postgresql-15")
            os.chmod(self.root, 0o755)
            self.as_user = ["runuser", "-u", "postgres", "--"]
            self._owner = (pw.pw_uid, pw.pw_gid)
        else:
            self._owner = None
        os.makedirs(self.socket_dir)
        if self._owner:
            os.chown(self.socket_dir, *self._owner)
            open(self.log, "a").close()
            os.chown(self.log, *self._owner)
        self.started = False

    # ------------------------------------------------------------------ lifecycle
    def _run(self, args: list[str], **kw) -> subprocess.CompletedProcess:
        r = subprocess.run(self.as_user + args, capture_output=True, text=True, timeout=kw.pop("timeout", 120), **kw)
        if r.returncode != 0:
            raise PgServerError(f"{' '.join(args[:2])} failed ({r.returncode}): {r.stderr.strip()[-2000:]} "
                                f"{self._log_tail()}")
        return r

    def _log_tail(self) -> str:
        try:
            with open(self.log) as fh:
                return "server log: " + fh.read()[-1500:]
        except OSError:
            return ""

    def init(self) -> None:
        pwfile = os.path.join(self.root, "superuser-password")
        with open(pwfile, "w") as fh:
            fh.write(secrets.token_hex(16) + "\n")
        if self._owner:
            os.chown(pwfile, *self._owner)
        os.chmod(pwfile, 0o600)
        os.makedirs(self.data_dir, mode=0o700)
        if self._owner:
            os.chown(self.data_dir, *self._owner)
        self._run([os.path.join(PG_BIN, "initdb"), "-D", self.data_dir, "-U", "postgres", "--pwfile", pwfile,
                   "--auth-local", "trust", "--auth-host", "scram-sha-256", "-E", "UTF8", "--locale", "C.UTF-8"])
        os.remove(pwfile)

    def start(self) -> None:
        opts = (f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.socket_dir} "
                "-c fsync=on -c max_connections=50")
        self._run([os.path.join(PG_BIN, "pg_ctl"), "-D", self.data_dir, "-l", self.log, "-o", opts, "-w", "-t", "60", "start"])
        self.started = True

    def setup_role(self) -> None:
        pw = self.password.replace("'", "''")
        self.psql(f"CREATE ROLE {self.user} LOGIN PASSWORD '{pw}'", superuser=True)
        self.psql(f"CREATE DATABASE {self.database} OWNER {self.user}", superuser=True)
        self.psql(f"REVOKE ALL ON DATABASE {self.database} FROM PUBLIC", superuser=True)

    def stop(self, mode: str = "fast") -> None:
        if self.started:
            subprocess.run(self.as_user + [os.path.join(PG_BIN, "pg_ctl"), "-D", self.data_dir, "-m", mode, "-w", "-t", "60", "stop"],
                           capture_output=True, text=True, timeout=120)
            self.started = False

    def restart(self) -> None:
        """A clean restart of the server (what an operator's `systemctl restart postgresql` does)."""
        self.stop()
        self.start()

    def kill9(self) -> None:
        """SIGKILL to the postmaster, then to its backends: the crash a machine's death looks like; start() recovers
        from the WAL. (A backend left behind would keep the old shared memory attached and make start() refuse.)"""
        pid = self.pid
        if pid:
            children = _children(pid)
            os.kill(pid, signal.SIGKILL)
            for child in children:
                try:
                    os.kill(child, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            deadline = time.time() + 10
            while time.time() < deadline and any(_alive(p) for p in [pid] + children):
                time.sleep(0.05)
        # Wait for the port to close.
        deadline = time.time() + 30
        while time.time() < deadline and _listening(self.port):
            time.sleep(0.1)
        self.started = False
        # The lock files name the dead postmaster's pid. Until whoever adopted it reaps it (pid 1 may never do so in a
        # container), that pid still answers kill(pid, 0), and the next postmaster would refuse to start.
        for lock in (os.path.join(self.data_dir, "postmaster.pid"), os.path.join(self.socket_dir, f".s.PGSQL.{self.port}.lock")):
            try:
                os.remove(lock)
            except OSError:
                pass

    def crash_restart(self) -> None:
        """kill -9 the server and start it again on the same port and data directory."""
        self.kill9()
        self.start()

    def remove(self) -> None:
        self.stop(mode="immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    # ------------------------------------------------------------------ access
    @property
    def pid(self) -> int | None:
        try:
            with open(os.path.join(self.data_dir, "postmaster.pid")) as fh:
                return int(fh.readline().strip())
        except (OSError, ValueError):
            return None

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{self.database}?sslmode=disable"

    def psql(self, sql: str, superuser: bool = False) -> str:
        """Runs `sql` and returns psql's unaligned output: as the keeper role over TCP with its password, or as the
        superuser over the private Unix socket."""
        if superuser:
            args = self.as_user + ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", self.socket_dir, "-p", str(self.port),
                                   "-U", "postgres", "-d", "postgres", "-c", sql]
            env = dict(os.environ)
        else:
            args = ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(self.port),
                    "-U", self.user, "-d", self.database, "-c", sql]
            env = dict(os.environ, PGPASSWORD=self.password)
        r = subprocess.run(args, capture_output=True, text=True, timeout=60, env=env)
        if r.returncode != 0:
            raise PgServerError(f"psql: {r.stderr.strip()}")
        return r.stdout.strip()

    def __enter__(self) -> "PgServer":
        try:
            self.init()
            self.start()
            self.setup_role()
        except BaseException:
            self.remove()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, dead but not yet reaped by whoever adopted it, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (from /proc)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")".
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                out.append(int(entry))
    return out


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="pgserver.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve", help="start a throwaway server, print one JSON line, serve until SIGTERM/SIGINT; "
                                     "SIGUSR1 crash-restarts it, SIGUSR2 restarts it cleanly")
    s.add_argument("--port", type=int, default=0)
    a = ap.parse_args(argv)
    # A parent that launched us from a thread with signals blocked (Foundation.Process from a Swift concurrency thread)
    # passes its mask on: unblock what we must react to.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGUSR2])
    stop = {"now": False}
    faults: list[int] = []  # restart signals queued by the handler, done in order by the loop below

    def on_signal(*_):
        stop["now"] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGUSR1, lambda sig, _: faults.append(sig))
    signal.signal(signal.SIGUSR2, lambda sig, _: faults.append(sig))
    if stat.S_ISFIFO(os.fstat(0).st_mode):
        def watch_parent():
            # The raw descriptor, not sys.stdin: a daemon thread blocked in a buffered read makes the interpreter's
            # shutdown abort ("could not acquire lock for <stdin>").
            while os.read(0, 4096):
                pass
            os.kill(os.getpid(), signal.SIGTERM)

        threading.Thread(target=watch_parent, daemon=True).start()
    try:
        with PgServer(port=a.port) as pg:
            print(json.dumps({"url": pg.url, "port": pg.port, "pid": pg.pid, "data_dir": pg.data_dir, "user": pg.user,
                              "password": pg.password, "database": pg.database}), flush=True)
            while not stop["now"]:
                if not faults:
                    time.sleep(0.1)
                    continue
                started = time.time()
                if faults.pop(0) == signal.SIGUSR1:
                    pg.crash_restart()
                    what = "crash restart (kill -9, recovery from the WAL)"
                else:
                    pg.restart()
                    what = "clean restart"
                print(f"pgserver: {what} done in {time.time() - started:.2f} s, postmaster pid {pg.pid}", file=sys.stderr, flush=True)
    except PgServerError as e:
        print(f"pgserver: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
