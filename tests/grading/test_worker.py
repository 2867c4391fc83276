"""A grading run through a real Celery worker on Redis, against the test database.

Skipped without REDIS_URL (CI sets it and REQUIRE_POSTGRES=1 turns the skip into a
failure). The data must be committed for the worker to see it: a transactional test.
"""

import datetime
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection

from branches.activities import services as activities
from branches.grading import services, tasks
from branches.grading.models import BranchScore, GradingRun, MemberScore
from partybuild.celery import app

from .. import factories as f
from ..celery_worker import WORKER_GROUP, require_redis, start_worker, stop_worker

pytestmark = pytest.mark.xdist_group(WORKER_GROUP)
APRIL = datetime.date(2025, 4, 1)


@pytest.fixture
def not_eager():
    was = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = was


@pytest.mark.django_db(transaction=True)
def test_a_run_goes_through_a_real_worker_once(not_eager):
    require_redis()
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("the worker cannot see an in-memory test database (run on PostgreSQL)")
    committee = f.committee(code="WORKER")
    branch = f.branch(committee)
    f.MemberFactory(branch=branch)
    activities.activity_create(
        branch=branch, kind="themed_day", title="主题党日", date=datetime.date(2025, 4, 10), user=None
    )
    for dimension, score in (("committee_work", "80"), ("production", "90"), ("other", "70")):
        services.score_input_set(
            branch=branch, month=APRIL, dimension=dimension, score=Decimal(score), not_assessed=False, user=None
        )
    run = services.grading_run_request(committee=committee, month=APRIL)
    worker = start_worker(app)
    try:
        assert tasks.grade_run.delay(run.pk).get(timeout=60) == "succeeded"
        # Redelivered: the worker finds nothing to claim.
        assert tasks.grade_run.delay(run.pk).get(timeout=60) == "skipped"
    finally:
        stop_worker(worker)
    run.refresh_from_db()
    assert (run.state, run.branches_graded, run.members_graded) == (GradingRun.State.SUCCEEDED, 1, 1)
    assert cache.get(services.progress_key(run.pk)) == 100
    # Basics: themed day held, committee meeting not → 100 × 1 / 2 = 50.
    # Membership: attendance 100 × 1 / 1 = 100, points 100 (the only mean) → 100.
    # Total = (30×50 + 15×80 + 25×90 + 20×100 + 10×70) / 100 = 7650 / 100 = 76.50.
    score = BranchScore.objects.get(committee=committee, month=APRIL, branch=branch)
    assert (score.run_id, score.basics, score.membership, score.total, score.rank) == (
        run.pk,
        Decimal("50.00"),
        Decimal("100.00"),
        Decimal("76.50"),
        1,
    )
    assert MemberScore.objects.get(committee=committee, month=APRIL).total == Decimal("2.00")
