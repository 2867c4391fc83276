"""Drill: Redis down, then back.

The app runs under gunicorn with a Celery worker, both on a private ``redis-server``
(broker, result backend and cache). With Redis stopped, pages keep working (the cache
degrades to no cache; sessions live in the database, so logging in works too), and
starting a grading run or an export answers 503 with a form error saying the job queue
is unavailable — and leaves no run or report row behind. When Redis returns on the same
port, the same web process and the same worker carry on: a run started then is graded.
"""

import datetime
import html
import re
import time
from decimal import Decimal

import pytest
import requests
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation
from kombu.exceptions import OperationalError

from branches import jobs
from branches.grading import services
from branches.grading.models import GradingRun
from branches.models import RoleBinding
from branches.reports.models import ReportFile
from partybuild.cache import ForgivingRedisCache

from .. import factories as f
from .servers import Gunicorn, PrivateRedis, Worker, app_env, database_url_for_test, require_postgres, wait_until

APRIL = datetime.date(2025, 4, 1)
PASSWORD = "pw-for-tests-123"


def queue_unavailable_text() -> str:
    with translation.override("zh-hans"):
        return str(jobs.QueueUnavailable().message)


def csrf_token(session: requests.Session, url: str) -> str:
    page = session.get(url, timeout=30)
    assert page.status_code == 200, page.text[:500]
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)


def log_in(web: Gunicorn, username: str) -> requests.Session:
    session = requests.Session()
    url = web.base + reverse("login")
    token = csrf_token(session, url)
    response = session.post(
        url, {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token}, allow_redirects=False
    )
    assert response.status_code == 302
    return session


def post_form(session: requests.Session, url: str, data: dict) -> requests.Response:
    return session.post(
        url, data | {"csrfmiddlewaretoken": csrf_token(session, url)}, allow_redirects=False, timeout=60
    )


@pytest.mark.django_db(transaction=True)
def test_with_redis_down_pages_work_jobs_are_refused_cleanly_and_work_resumes_when_it_returns():
    require_postgres()
    redis = PrivateRedis()
    redis.start()
    committee = f.committee(code="NOREDIS")
    branch = f.branch(committee)
    f.MemberFactory(branch=branch)
    for dimension in ("committee_work", "production", "other"):
        services.score_input_set(
            branch=branch, month=APRIL, dimension=dimension, score=Decimal("80"), not_assessed=False, user=None
        )
    staff_user = f.user_with_role(RoleBinding.Role.COMMITTEE_STAFF, committee, username="staff")
    # The tests hash with MD5 for speed; the app under gunicorn knows its own hashers.
    staff_user.password = PBKDF2PasswordHasher().encode(PASSWORD, "drillsalt", iterations=1000)
    staff_user.save(update_fields=["password"])
    env = app_env(DATABASE_URL=database_url_for_test(), REDIS_URL=redis.url)
    web = worker = None
    timings = {}
    try:
        web, worker = Gunicorn(env), Worker(env, pool="solo")
        staff = log_in(web, "staff")
        runs = web.base + reverse("grading:runs", args=[committee.pk])
        exports = web.base + reverse("reports:exports", args=[committee.pk])

        response = post_form(staff, runs, {"month": "2025-04"})
        assert response.status_code == 302
        first = GradingRun.objects.get()
        wait_until(lambda: GradingRun.objects.get().state == "succeeded", timeout=60, what="the first run")

        redis.stop()
        down = time.monotonic()
        detail = web.base + reverse("grading:run_detail", args=[first.pk])
        for url in (web.base + "/", runs, exports, detail):
            started = time.monotonic()
            assert staff.get(url, timeout=30).status_code == 200, url
            timings[url.removeprefix(web.base)] = time.monotonic() - started
        log_in(web, "staff")  # sessions are in the database: logging in works without Redis

        started = time.monotonic()
        refused = post_form(staff, runs, {"month": "2025-04"})
        timings["refused run"] = time.monotonic() - started
        assert refused.status_code == 503
        assert queue_unavailable_text() in html.unescape(refused.text)
        assert list(GradingRun.objects.values_list("pk", flat=True)) == [first.pk]  # nothing half-done
        refused = post_form(staff, exports, {"year": "2025", "format": "xlsx"})
        assert refused.status_code == 503
        assert queue_unavailable_text() in html.unescape(refused.text)
        assert not ReportFile.objects.exists()

        redis.start()
        timings["down"] = time.monotonic() - down
        # No restart, no manual step: the same web process queues, the same worker grades.
        response = post_form(staff, runs, {"month": "2025-04"})
        assert response.status_code == 302
        run = GradingRun.objects.exclude(pk=first.pk).get()
        started = time.monotonic()
        wait_until(lambda: GradingRun.objects.get(pk=run.pk).state == "succeeded", timeout=60, what="the run after")
        timings["graded after Redis returned"] = time.monotonic() - started
        response = post_form(staff, exports, {"year": "2025", "format": "xlsx"})
        assert response.status_code == 302
        wait_until(lambda: ReportFile.objects.get().state == "ready", timeout=60, what="the export after")
    except BaseException:
        for process in (web, worker):
            if process is not None:
                print(process.output()[-6000:])
        raise
    finally:
        for process in (web, worker):
            if process is not None:
                process.stop()
        redis.stop()
    print("\nRedis down:", {k: f"{v:.2f} s" for k, v in timings.items()})


# --- the same behaviour, in process --------------------------------------------------------------


def test_the_cache_degrades_to_no_cache_while_redis_is_down(monkeypatch):
    monkeypatch.setattr(ForgivingRedisCache, "_down_until", 0.0)
    down = ForgivingRedisCache("redis://127.0.0.1:1/0", {"OPTIONS": {"socket_connect_timeout": 0.5}})
    assert down.get("k", "default") == "default"
    down.set("k", 1)
    assert down.add("k", 1) is False and down.get_many(["k"]) == {} and not down.has_key("k")
    with pytest.raises(ValueError):
        down.incr("k")
    assert ForgivingRedisCache._down_until > time.monotonic()  # the next calls do not even try


@pytest.mark.django_db
def test_a_run_the_queue_refuses_is_taken_back_and_the_page_says_so(tree, users, client, monkeypatch):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    from branches.grading import tasks
    from branches.reports import tasks as report_tasks

    monkeypatch.setattr(tasks.grade_run, "apply_async", broker_down)
    monkeypatch.setattr(report_tasks.generate_report, "apply_async", broker_down)
    client.force_login(users.committee)
    # The message goes on commit; in a test transaction, the commit is simulated.
    monkeypatch.setattr("django.db.transaction.on_commit", lambda func, *a, **k: func())
    response = client.post(reverse("grading:runs", args=[tree.plant.pk]), {"month": "2025-04"})
    assert response.status_code == 503
    assert queue_unavailable_text() in html.unescape(response.content.decode())
    assert not GradingRun.objects.exists()
    response = client.post(reverse("reports:exports", args=[tree.plant.pk]), {"year": "2025", "format": "xlsx"})
    assert response.status_code == 503 and not ReportFile.objects.exists()
    assert cache.get("anything") is None
