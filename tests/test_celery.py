"""The Celery app is wired: configuration from settings, a real worker on Redis and
one on the embedded broker `make demo` runs (kombu's SQLAlchemy transport over SQLite)."""

import os

import pytest
from celery import Celery, current_app
from django.conf import settings
from django.db import connection

from branches.reports import services as reports
from branches.reports.models import ReportFile
from partybuild.celery import app

from .celery_worker import WORKER_GROUP, require_redis, start_worker, stop_worker

pytestmark = pytest.mark.xdist_group(WORKER_GROUP)


def test_the_app_reads_its_configuration_from_django_settings():
    assert app.conf.timezone == "Asia/Shanghai"
    assert app.conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"
    assert app.conf.task_always_eager == settings.CELERY_TASK_ALWAYS_EAGER
    assert app.conf.broker_url == settings.CELERY_BROKER_URL
    assert settings.CELERY_BROKER_URL == (settings.REDIS_URL or os.environ.get("CELERY_BROKER_URL") or "memory://")


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_answers_on_the_redis_broker():
    require_redis()
    worker = start_worker(app)
    try:
        replies = app.control.ping(timeout=2.0)
        assert any(name.startswith("pytest@") for reply in replies for name in reply)
    finally:
        stop_worker(worker)


def embedded(tmp_path) -> tuple[dict, Celery]:
    """The worker's environment for `make demo`'s embedded broker (no Redis, whatever CI
    sets) and a client app publishing to it, results read from the same SQLite file
    as settings.py derives. The client is never made the current app: tasks declared
    with ``shared_task`` follow the current app, so every later test's ``.delay()`` would
    go to this test's SQLite file and wait for a worker that never comes."""
    broker = f"sqla+sqlite:///{tmp_path / 'celery.sqlite3'}"
    env = {"REDIS_URL": "", "CELERY_BROKER_URL": broker, "MEDIA_ROOT": str(tmp_path / "media")}
    client = Celery(
        "embedded-client",
        broker=broker,
        backend=f"db+sqlite:///{tmp_path / 'celery-results.sqlite3'}",
        set_as_current=False,
    )
    return env, client


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_on_the_embedded_broker_generates_a_queued_report(tree, users, tmp_path, settings):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("the worker cannot see an in-memory test database (run on PostgreSQL)")
    settings.MEDIA_ROOT = tmp_path / "media"
    env, client = embedded(tmp_path)
    report = reports.report_request(committee=tree.plant, year=2025, fmt="xlsx", user=users.committee)
    # Queued before any worker runs: the request that asked for it has nothing to wait for.
    result = client.send_task("branches.reports.tasks.generate_report", args=[report.pk])
    worker = start_worker(app, env=env, wait=False)
    try:
        assert result.get(timeout=120) == ReportFile.State.READY
    finally:
        stop_worker(worker)
        client.close()
    report.refresh_from_db()
    assert (report.state, report.progress) == (ReportFile.State.READY, 100)
    assert report.file.size == report.size > 0


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_on_the_embedded_broker_completes_a_task_whatever_the_database(tmp_path):
    env, client = embedded(tmp_path)
    result = client.send_task("celery.accumulate", args=[1, 2, 3])
    assert current_app.main == app.main
    worker = start_worker(app, env=env, wait=False)
    try:
        assert result.get(timeout=120) == [1, 2, 3]
    finally:
        stop_worker(worker)
        client.close()
