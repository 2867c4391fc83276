"""One load run: the stack started on loopback, Locust driven headless, the figures
printed per endpoint, the ledger checked afterwards. ``manage.py load_run`` and the CI
test (tests/load/) call ``load_run``.

The stack is gunicorn (2 workers, 127.0.0.1 only) and a real Celery worker, both on the
database and Redis of the settings (``DATABASE_URL``, ``REDIS_URL``) — the caller's
choice: ``make load`` points them at a copy of the 100k benchmark data set.
"""

import csv
import datetime
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from branches.grading import engine, tasks
from branches.grading.models import GradingRun
from branches.grading.services import grading_run_request
from branches.models import OrgUnit
from partybuild.consistency import Check, run_checks

from .setup import load_logins_ensure

ROOT = Path(__file__).resolve().parent.parent.parent
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"


@dataclass
class Endpoint:
    name: str
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float


@dataclass
class LoadResult:
    endpoints: list[Endpoint] = field(default_factory=list)
    total: Endpoint | None = None
    failures: list[str] = field(default_factory=list)  # "count× method name: message"
    checks: list[Check] = field(default_factory=list)
    locust_exit: int = 0
    startup_seconds: float = 0.0
    locust_seconds: float = 0.0
    settle_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return (
            self.locust_exit == 0
            and self.total is not None
            and self.total.requests > 0
            and self.total.failures == 0
            and all(c.ok for c in self.checks)
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env() -> dict:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return os.environ | {
        "DATABASE_URL": f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DJANGO_DEBUG": "false",
        "DATABASE_CONN_MAX_AGE": "60",
        "PYTHONUNBUFFERED": "1",
    }


def _wait_http(url: str, process: subprocess.Popen, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited early ({process.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"gunicorn did not answer {url} within {seconds:.0f} s")


def _wait_worker(process: subprocess.Popen, seconds: float) -> None:
    from partybuild.celery import app

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Celery worker exited early ({process.returncode})")
        if app.control.ping(timeout=1.0):
            return
    raise RuntimeError(f"the Celery worker did not answer a ping within {seconds:.0f} s")


def _stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _float(value: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _read_stats(prefix: str, result: LoadResult) -> None:
    with open(f"{prefix}_stats.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            endpoint = Endpoint(
                name=row["Name"],
                requests=int(row["Request Count"]),
                failures=int(row["Failure Count"]),
                rps=_float(row["Requests/s"]),
                p50=_float(row["50%"]),
                p95=_float(row["95%"]),
                p99=_float(row["99%"]),
            )
            if row["Name"] == "Aggregated":
                result.total = endpoint
            else:
                result.endpoints.append(endpoint)
    failures = Path(f"{prefix}_failures.csv")
    if failures.exists():
        with failures.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                result.failures.append(f"{row['Occurrences']}× {row['Method']} {row['Name']}: {row['Error']}")


def _settle(committee_ids: list[int], month, seconds: float) -> None:
    """After the crowd has gone: let the worker finish the runs it was given, then grade
    once more every draft the crowd left stale, so the drafts check compares them all."""
    deadline = time.monotonic() + seconds

    republished = set()

    def wait_idle():
        while GradingRun.objects.filter(
            committee_id__in=committee_ids, state__in=[GradingRun.State.QUEUED, GradingRun.State.RUNNING]
        ).exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"grading runs were still unfinished {seconds:.0f} s after the load")
            # A run still queued long after the crowd left lost its message (seen once when
            # the whole suite loaded the machine): deliver it again, once, and say so. A
            # second delivery of a message that was not lost is harmless: the claim takes
            # a queued run once.
            stuck = GradingRun.objects.filter(
                committee_id__in=committee_ids,
                state=GradingRun.State.QUEUED,
                requested_at__lt=timezone.now() - datetime.timedelta(seconds=20),
            ).exclude(pk__in=republished)
            for run_id in stuck.values_list("pk", flat=True):
                print(f"grading run {run_id}: still queued 20 s after it was requested; delivered again", flush=True)
                republished.add(run_id)
                tasks.grade_run.delay(run_id)
            time.sleep(1)

    wait_idle()
    for committee in OrgUnit.objects.filter(pk__in=committee_ids):
        latest = (
            GradingRun.objects.filter(committee=committee, month=month, state=GradingRun.State.SUCCEEDED)
            .order_by("-finished_at", "-pk")
            .first()
        )
        if latest is None or engine.watermark(committee=committee, month=month) != latest.watermark:
            run = grading_run_request(committee=committee, month=month, trigger=GradingRun.Trigger.COMMAND)
            tasks.grade_run.delay(run.pk)
    wait_idle()


def load_run(
    *,
    users: int,
    run_time: str,
    spawn_rate: float | None = None,
    out=sys.stdout,
    workdir: str | None = None,
    secretaries: int = 20,
    members: int = 40,
    sessions: bool = False,
) -> LoadResult:
    """Start the stack, run Locust, settle, check; the stack is stopped whatever happens."""
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        raise RuntimeError("a load run needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL)")
    workdir = workdir or tempfile.mkdtemp(prefix="partybuild-load-")
    Path(workdir).mkdir(parents=True, exist_ok=True)
    plan = load_logins_ensure(secretaries=secretaries, members=members, sessions=sessions)
    plan_path = Path(workdir) / "plan.json"
    plan_path.write_text(json.dumps(plan.as_dict(), ensure_ascii=False), encoding="utf-8")
    connection.close()  # the stack's processes get their own connections
    env = _env()
    port = _free_port()
    host = f"http://127.0.0.1:{port}"
    web = worker = None
    result = LoadResult()
    started = time.monotonic()
    try:
        web = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "partybuild.wsgi", "--workers", "2", "--bind", f"127.0.0.1:{port}",
             "--timeout", "120", "--preload", "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=open(Path(workdir) / "gunicorn.log", "w"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "partybuild", "worker", "--concurrency=2", "--loglevel=warning",
             "--without-gossip", "--without-mingle", "--hostname=load@%h"],
            cwd=ROOT, env=env, stdout=open(Path(workdir) / "celery.log", "w"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        _wait_http(f"{host}/accounts/login/", web, 90)
        _wait_worker(worker, 90)
        result.startup_seconds = time.monotonic() - started
        out.write(
            f"Load: {users} users for {run_time} against {host} (gunicorn 2 workers, Celery worker), "
            f"database {connection.settings_dict['NAME']}; logs in {workdir}\n"
        )
        out.flush()
        prefix = str(Path(workdir) / "locust")
        locust = subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", host,
             "-u", str(users), "-r", str(spawn_rate or max(1.0, users / 10)), "-t", run_time,
             "--csv", prefix, "--only-summary", "--stop-timeout", "10", "--loglevel", "WARNING"],
            cwd=ROOT, env=env | {"LOAD_PLAN": str(plan_path)}, stdout=open(Path(workdir) / "locust.log", "w"),
            stderr=subprocess.STDOUT, timeout=_seconds(run_time) + 300,
        )  # fmt: skip
        result.locust_exit = locust.returncode
        result.locust_seconds = time.monotonic() - started - result.startup_seconds
        _read_stats(prefix, result)
        started = time.monotonic()
        year, number = plan.month.split("-")
        _settle([c["committee_id"] for c in plan.committees], datetime.date(int(year), int(number), 1), 600)
        result.settle_seconds = time.monotonic() - started
    finally:
        _stop(web)
        _stop(worker)
    result.checks = run_checks()
    return result


def _seconds(run_time: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600}
    if run_time[-1] in units:
        return int(float(run_time[:-1]) * units[run_time[-1]])
    return int(run_time)


def report(result: LoadResult, out=sys.stdout) -> None:
    """The figures per endpoint, the failures and the checks."""
    rows = [*sorted(result.endpoints, key=lambda e: e.name), *([result.total] if result.total else [])]
    width = max([len(e.name) for e in rows] + [8])
    out.write(
        f"\n{'endpoint':<{width}}  {'requests':>8}  {'fail':>5}  {'req/s':>7}  {'p50 ms':>7}  {'p95 ms':>7}  {'p99 ms':>7}\n"
    )
    for e in rows:
        out.write(
            f"{e.name:<{width}}  {e.requests:>8}  {e.failures:>5}  {e.rps:>7.2f}  {e.p50:>7.0f}  {e.p95:>7.0f}  {e.p99:>7.0f}\n"
        )
    for failure in result.failures:
        out.write(f"FAILURE {failure}\n")
    if result.locust_exit:
        out.write(f"Locust exited with {result.locust_exit}\n")
    out.write(
        f"\nStack up in {result.startup_seconds:.1f} s, Locust ran {result.locust_seconds:.1f} s, settled in "
        f"{result.settle_seconds:.1f} s (queued grading finished, stale drafts regraded).\n"
    )
    for check in result.checks:
        note = f"  ({check.note})" if check.note else ""
        mark = "ok  " if check.ok else "FAIL"
        out.write(f"{mark} {check.name:<14} {check.checked:>9} checked  {check.problems:>6} inconsistent{note}\n")
        for example in check.examples:
            out.write(f"       e.g. {example}\n")
