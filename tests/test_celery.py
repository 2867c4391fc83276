"""The Celery app is wired: configuration from settings, a real worker on Redis."""

import pytest
from django.conf import settings

from partybuild.celery import app

from .celery_worker import WORKER_GROUP, require_redis, start_worker, stop_worker

pytestmark = pytest.mark.xdist_group(WORKER_GROUP)


def test_the_app_reads_its_configuration_from_django_settings():
    assert app.conf.timezone == "Asia/Shanghai"
    assert app.conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"
    assert app.conf.task_always_eager == settings.CELERY_TASK_ALWAYS_EAGER
    assert app.conf.broker_url == (settings.REDIS_URL or "memory://")


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_answers_on_the_redis_broker():
    require_redis()
    worker = start_worker(app)
    try:
        replies = app.control.ping(timeout=2.0)
        assert any(name.startswith("pytest@") for reply in replies for name in reply)
    finally:
        stop_worker(worker)
