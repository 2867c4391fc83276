"""Throwaway servers for the fault drills: a private Redis, a private PostgreSQL cluster,
the app under gunicorn and a Celery worker, each a subprocess on a free port.

The machine's shared PostgreSQL (5432) and Redis (6379) are never stopped: a drill
breaks only what it started. Without the server binaries a drill is skipped locally and
fails in CI (``REQUIRE_POSTGRES=1``): it is never skipped silently there.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def require(*paths: str | Path) -> None:
    missing = [str(p) for p in paths if not (Path(p).exists() if os.sep in str(p) else shutil.which(str(p)))]
    if missing:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"CI must run the fault drills: {', '.join(missing)} not found")
        pytest.skip(f"needs {', '.join(missing)}")


def require_postgres() -> None:
    if connection.vendor != "postgresql":
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail("CI must run the fault drills on PostgreSQL")
        pytest.skip("the drills run on PostgreSQL (set DATABASE_URL)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, *, timeout: float, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout} s")


def database_url_for_test(**overrides) -> str:
    db = connection.settings_dict | overrides
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


class PrivateRedis:
    """``redis-server`` on a free port, no persistence; stopped and started at will."""

    def __init__(self):
        require("redis-server")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self.answers, timeout=10, what="private redis-server")

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


class PrivatePostgres:
    """A PostgreSQL 15 cluster in a temporary directory, run as the ``postgres`` OS user
    when the tests run as root (PostgreSQL refuses to run as root)."""

    def __init__(self):
        require(PG_BIN / "initdb", PG_BIN / "pg_ctl", "pg_dump", "psql")
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="pb-drill-pg-"))
        self.data = self.dir / "data"
        self.sockets = self.dir / "sock"
        self.sockets.mkdir()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.dir, "postgres")
            shutil.chown(self.sockets, "postgres")
        self._run(PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")

    def _run(self, *args, check=True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*self.as_user, *map(str, args)], check=check, capture_output=True, text=True, cwd=self.dir, timeout=60
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-o", options, "-l", self.dir / "log", "-w", "start")

    def stop(self) -> None:
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop", check=False)

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def copy_of_test_database(self, name: str) -> None:
        """The test database as it stands (schema and committed rows), copied in."""
        db = connection.settings_dict
        self._run("psql", "-h", "127.0.0.1", "-p", self.port, "-U", "postgres", "-c", f"CREATE DATABASE {name}")
        dump = subprocess.run(
            ["pg_dump", "-h", db["HOST"], "-p", str(db["PORT"]), "-U", db["USER"], "--no-owner", db["NAME"]],
            check=True,
            capture_output=True,
            timeout=120,
        )
        subprocess.run(
            ["psql", "-q", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-v", "ON_ERROR_STOP=1", name],
            input=dump.stdout,
            check=True,
            capture_output=True,
            timeout=120,
        )


def app_env(**overrides) -> dict[str, str]:
    return os.environ | {"PARTYBUILD_ENV": "test", "DJANGO_DEBUG": "false", "PYTHONUNBUFFERED": "1"} | overrides


class Gunicorn:
    """The app under gunicorn (threads, as in production), on a free port."""

    def __init__(self, env: dict[str, str], *, threads: int = 4):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "partybuild.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--worker-class",
                "gthread",
                "--workers",
                "1",
                "--threads",
                str(threads),
                "--timeout",
                "60",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until(self._listening, timeout=60, what="gunicorn")
        except BaseException:
            self.stop()
            raise

    def _listening(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"gunicorn exited early:\n{self.output()}")
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
            return True
        except OSError:
            return False

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def session(self, cookies: dict[str, str]) -> requests.Session:
        session = requests.Session()
        for name, value in cookies.items():
            session.cookies.set(name, value, domain="127.0.0.1")
        return session

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()


class Worker:
    """A Celery worker (prefork, one child) in its own process group, so a drill can
    kill the child that runs a task or the whole worker."""

    def __init__(self, env: dict[str, str], *, pool: str = "prefork"):
        self.log = tempfile.TemporaryFile()
        self.pool = pool
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "partybuild",
                "worker",
                f"--pool={pool}",
                "--concurrency=1",
                "--loglevel=info",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                f"--hostname=drill{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env=env | {"CELERY_TASK_ALWAYS_EAGER": "false"},
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_until(self._ready, timeout=60, what="Celery worker")
        except BaseException:
            self.kill()  # never leave a worker behind
            raise

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"the Celery worker exited early:\n{self.output()}")
        ready = re.search(r"drill\d+@\S+ ready", self.output())
        return bool(ready) and (self.pool != "prefork" or bool(self.children()))

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def children(self) -> list[int]:
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid and fields[0] != "Z":
                found.append(int(stat.parent.name))
        return found

    def kill_child(self) -> int:
        (child,) = self.children()
        os.kill(child, signal.SIGKILL)
        return child

    def kill(self) -> None:
        """SIGKILL to the worker and its children at once, as when a machine dies."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
