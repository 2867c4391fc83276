"""CI's short load run: 10 simulated users for 30 seconds through gunicorn and a real
Celery worker on the test database, then the consistency check. It asserts what must
hold at any speed — no failed request, every check clean — never timings.

Needs PostgreSQL and Redis (CI has both: REQUIRE_POSTGRES=1 turns the skip into a
failure). Starts a worker on the shared broker, so it runs in the worker group.
"""

from io import StringIO

import pytest
from django.conf import global_settings

from branches.grading.models import GradingRun
from branches.models import RoleBinding
from members.ledger.models import LedgerEntry
from partybuild.celery import app
from partybuild.load.run import load_run, report

from .. import factories as f
from ..celery_worker import WORKER_GROUP, require_redis
from ..conftest import requires_postgres

pytestmark = pytest.mark.xdist_group(WORKER_GROUP)


@pytest.fixture
def not_eager():
    was = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = was


@pytest.mark.django_db(transaction=True)
def test_ten_users_for_thirty_seconds_fail_nothing_and_lose_nothing(settings, not_eager):
    requires_postgres()
    require_redis()
    # The server checks passwords with the installation's hashers, not the suite's fast one.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    for c in range(2):
        committee = f.committee(code=f"LOAD{c}")
        for b in range(3):
            branch = f.branch(committee, code=f"LOAD{c}{b}")
            group = f.group(branch, code=f"LOAD{c}{b}G")
            for _ in range(6):
                f.MemberFactory(branch=branch, group=group)
    out = StringIO()
    result = load_run(users=10, run_time="30s", spawn_rate=10, secretaries=4, members=6, sessions=True, out=out)
    report(result, out=out)
    assert result.total is not None and result.total.requests > 20, out.getvalue()
    assert (result.locust_exit, result.total.failures, result.failures) == (0, 0, []), out.getvalue()
    assert {c.name: c.problems for c in result.checks} == dict.fromkeys(
        ["attendance", "caps", "reversals", "drafts", "closed_months"], 0
    ), out.getvalue()
    # The crowd did write: activities and clicks reached the ledger, grading went through the worker.
    names = {e.name: e.requests for e in result.endpoints}
    assert names.get("POST /activities/[id]/attendance/[id]/ (htmx)", 0) > 0, out.getvalue()
    assert LedgerEntry.objects.filter(reverses__isnull=False).exists()
    assert GradingRun.objects.filter(state=GradingRun.State.SUCCEEDED).exists()
    assert not GradingRun.objects.exclude(state=GradingRun.State.SUCCEEDED).exists()
    assert RoleBinding.objects.filter(user__username__startswith="load-").count() == 4 + 2
