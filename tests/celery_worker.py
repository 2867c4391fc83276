"""A real Celery worker in a subprocess, on the Redis broker and the *test* database.

Used by tests that must prove a task goes through a worker rather than eagerly. The
worker is pointed at the test database pytest-django created, so such tests need
``transactional_db`` (the worker cannot see data inside the test's transaction).
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
# Under pytest-xdist every test that starts a worker runs in one process, one at a time
# (``--dist loadgroup``): two workers on one broker would take each other's tasks.
WORKER_GROUP = "celery-worker"


def require_redis() -> str:
    url = settings.REDIS_URL
    if not url:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail("CI must run the worker tests: REDIS_URL is not set")
        pytest.skip("needs Redis (set REDIS_URL)")
    return url


def start_worker(app, *, env: dict | None = None, wait: bool = True) -> subprocess.Popen:
    """A worker with the environment plus ``env``; with ``wait``, once it answers a
    ping (a broker without broadcast, like the embedded one, cannot: then the caller
    waits for a task's result instead)."""
    db = connection.settings_dict
    env = (
        os.environ
        | {
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
            if connection.vendor == "postgresql"
            else f"sqlite:///{db['NAME']}",
            "CELERY_TASK_ALWAYS_EAGER": "false",
        }
        | (env or {})
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "partybuild",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "--loglevel=warning",
            "--without-gossip",
            "--without-mingle",
            "--hostname=pytest@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    if not wait:
        return process
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Celery worker exited early:\n{process.stdout.read()}")
        if app.control.ping(timeout=1.0):
            return process
    process.kill()
    raise RuntimeError("the Celery worker did not answer a ping within 60 s")


def stop_worker(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
