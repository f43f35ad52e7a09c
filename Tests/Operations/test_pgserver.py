"""The throwaway PostgreSQL 15 the high-availability tests (issue 20) will run keepers against
(Tests/Support/pgserver.py): it starts from Debian's binaries on a free loopback port, as the unprivileged `postgres`
user when the tests run as root (initdb refuses root), gives the keeper a password-authenticated role that is not a
superuser and owns its database, keeps committed data across a restart and across a kill -9 of the server (which
`serve` does on SIGUSR2 and SIGUSR1 for the fault tests), and leaves nothing behind."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SUPPORT = os.path.join(HERE, "..", "Support")
sys.path.insert(0, SUPPORT)

from pgserver import PgServer, PgServerError, _listening  # noqa: E402


def uid_of(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("Uid:"):
                return int(line.split()[1])
    raise AssertionError(f"no Uid line for {pid}")


def test_a_throwaway_server_with_a_least_privilege_role():
    with PgServer() as pg:
        assert _listening(pg.port)
        if os.geteuid() == 0:
            assert uid_of(pg.pid) != 0, "the server must not run as root"
        assert pg.psql("select 1") == "1"
        # The keeper's role: not a superuser, cannot create roles or databases, owns its database.
        assert pg.psql("select rolsuper, rolcreaterole, rolcreatedb from pg_roles where rolname = current_user") == "f|f|f"
        assert pg.psql("select pg_get_userbyid(datdba) from pg_database where datname = current_database()") == "keeper"
        with pytest.raises(PgServerError, match="permission denied"):
            pg.psql("create role intruder")
        # A wrong password is refused (the server does not trust loopback).
        good = pg.password
        pg.password = "wrong"
        with pytest.raises(PgServerError, match="password authentication failed"):
            pg.psql("select 1")
        pg.password = good
        pg.psql("create table journal (id bigint primary key, epoch bigint not null)")
        pg.psql("insert into journal values (1, 7)")
        # A restart keeps what was committed.
        pg.restart()
        assert pg.psql("select epoch from journal where id = 1") == "7"
        # So does a kill -9 of the server (crash recovery from the WAL).
        pg.psql("insert into journal values (2, 8)")
        pg.kill9()
        assert not _listening(pg.port)
        pg.start()
        assert pg.psql("select count(*) from journal") == "2"
        root = pg.root
    assert not os.path.exists(root), "the server's directory is removed"


def test_serve_prints_one_json_line_and_stops_on_sigterm():
    p = subprocess.Popen([sys.executable, os.path.join(SUPPORT, "pgserver.py"), "serve"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        info = json.loads(line)
        assert info["url"].startswith("postgresql://keeper@127.0.0.1:") and info["database"] == "keeper"
        assert _listening(info["port"])
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=60) == 0, p.stderr.read()
        deadline = time.time() + 10
        while time.time() < deadline and _listening(info["port"]):
            time.sleep(0.1)
        assert not _listening(info["port"])
        assert not os.path.exists(info["data_dir"])
    finally:
        if p.poll() is None:
            p.kill()


def test_serve_restarts_on_signals_and_keeps_committed_data():
    """SIGUSR1: a crash restart (kill -9, recovery from the WAL, live sessions cut); SIGUSR2: a clean restart. Both on
    the same port, each acknowledged on stderr, nothing more on stdout; the end of stdin (the parent died) stops it."""
    p = subprocess.Popen([sys.executable, os.path.join(SUPPORT, "pgserver.py"), "serve"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        info = json.loads(p.stdout.readline())
        log = os.path.join(os.path.dirname(info["data_dir"]), "server.log")

        def psql(sql: str, timeout: float = 30) -> str:
            r = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(info["port"]),
                                "-U", info["user"], "-d", info["database"], "-c", sql], capture_output=True, text=True,
                               timeout=timeout, env=dict(os.environ, PGPASSWORD=info["password"]))
            assert r.returncode == 0, r.stderr
            return r.stdout.strip()

        psql("create table journal (id bigint primary key, epoch bigint not null); insert into journal values (1, 7)")
        first_start = psql("select pg_postmaster_start_time()")
        # A session busy on the server when it crashes is cut.
        busy = subprocess.Popen(["psql", "-X", "-h", "127.0.0.1", "-p", str(info["port"]), "-U", info["user"], "-d", info["database"],
                                 "-c", "select pg_sleep(60)"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=dict(os.environ, PGPASSWORD=info["password"]))
        deadline = time.time() + 10
        while time.time() < deadline and psql("select count(*) from pg_stat_activity where query like 'select pg_sleep%'") != "1":
            time.sleep(0.1)
        p.send_signal(signal.SIGUSR1)
        assert "crash restart" in p.stderr.readline()
        busy.communicate(timeout=10)
        assert busy.returncode != 0
        assert _listening(info["port"])
        assert psql("select epoch from journal where id = 1") == "7"
        crash_start = psql("select pg_postmaster_start_time()")
        assert crash_start != first_start
        with open(log) as fh:
            assert "automatic recovery in progress" in fh.read(), "a crash restart recovers from the WAL"
        psql("insert into journal values (2, 8)")
        p.send_signal(signal.SIGUSR2)
        assert "clean restart" in p.stderr.readline()
        assert psql("select count(*) from journal") == "2"
        assert psql("select pg_postmaster_start_time()") != crash_start
        with open(log) as fh:
            assert fh.read().count("automatic recovery in progress") == 1, "a clean restart needs no recovery"
        # The parent's end (stdin closes) stops and removes the server, like SIGTERM.
        p.stdin.close()
        assert p.wait(timeout=60) == 0, p.stderr.read()
        assert p.stdout.read() == "", "stdout carries the JSON line only"
        assert not os.path.exists(info["data_dir"])
    finally:
        if p.poll() is None:
            p.kill()
