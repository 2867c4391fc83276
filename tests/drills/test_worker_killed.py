"""Drill: the Celery worker killed with SIGKILL in the middle of grading, ten times.

A committee's month (six branches, 150 members, a dense month of ledger entries) is
graded through a real worker on the Redis broker. Each round changes a score, starts a
run and kills the worker at a random point of it: nine times the pool's child that runs
the task (its parent requeues the message: ``reject_on_worker_lost``), the tenth time the
whole worker with its children, as when the machine dies (the message comes back after
the visibility timeout, when a new worker starts). Each run must end succeeded (the
redelivery takes over the abandoned run) or failed, never left running; every read of
the draft while it happens must be the old draft or the new one, row for row (grading
writes in one transaction); and grading again gives the same numbers.
"""

import datetime
import random
import time
from decimal import Decimal

import pytest
from django.db import connection, transaction

from branches.grading import services, tasks
from branches.grading.bench import generate_month
from branches.grading.models import BranchScore, GradingRun, MemberScore
from partybuild.celery import app

from .. import factories as f
from ..celery_worker import WORKER_GROUP, require_redis
from .servers import Worker, app_env, database_url_for_test, require_postgres, wait_until

pytestmark = [pytest.mark.xdist_group(WORKER_GROUP), pytest.mark.django_db(transaction=True)]
MONTH = datetime.date(2025, 3, 1)
ROUNDS = 10
VISIBILITY_SECONDS = 2


@pytest.fixture
def not_eager():
    was = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = was


def draft(committee) -> tuple[list[tuple], list[tuple]]:
    """Both tables of the draft, every column, read in one snapshot."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return (
            list(BranchScore.objects.filter(committee=committee, month=MONTH).order_by("branch_id").values_list()),
            list(MemberScore.objects.filter(committee=committee, month=MONTH).order_by("member_id").values_list()),
        )


def numbers(rows: tuple[list[tuple], list[tuple]]) -> tuple[list[dict], list[dict]]:
    """The draft without its row ids and run."""
    branches, members = (
        [
            {k: v for k, v in row.items() if k not in ("id", "run_id")}
            for row in model.objects.filter(pk__in=[r[0] for r in table]).order_by("pk").values()
        ]
        for model, table in ((BranchScore, rows[0]), (MemberScore, rows[1]))
    )
    return sorted(branches, key=lambda r: r["branch_id"]), sorted(members, key=lambda r: r["member_id"])


def month_of(committee) -> list:
    branches = [f.branch(committee, code=f"KB{i}") for i in range(6)]
    for branch in branches:
        for _ in range(25):
            f.MemberFactory(branch=branch)
    generate_month(month=MONTH, per_member=40, user_id=None)
    return branches


def run_state(run_id: int) -> GradingRun:
    return GradingRun.objects.get(pk=run_id)


def test_a_worker_killed_mid_grading_ten_times_leaves_old_or_new_drafts_and_a_rerun_agrees(not_eager):
    require_postgres()
    require_redis()
    committee = f.committee(code="KILLED")
    branches = month_of(committee)
    app.control.purge()
    env = app_env(DATABASE_URL=database_url_for_test(), CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_SECONDS))
    worker = Worker(env)
    rng = random.Random()
    outcomes = []
    try:
        first = services.grading_run_request(committee=committee, month=MONTH)
        assert tasks.grade_run.delay(first.pk).get(timeout=60) == "succeeded"
        first.refresh_from_db()
        seconds = (first.finished_at - first.started_at).total_seconds()
        old = draft(committee)
        assert len(old[0]) == 6 and len(old[1]) == 150
        for round_ in range(ROUNDS):
            services.score_input_set(
                branch=branches[round_ % 6],
                month=MONTH,
                dimension="production",
                score=Decimal(50 + round_),
                not_assessed=False,
                user=None,
            )
            run = services.grading_run_request(committee=committee, month=MONTH)
            tasks.grade_run.delay(run.pk)
            claimed = wait_until(
                lambda run_id=run.pk: run_state(run_id).started_at, timeout=30, interval=0.005, what="the run to start"
            )
            time.sleep(rng.uniform(0.05, 0.6) * seconds)
            whole = round_ == ROUNDS - 1
            if whole:
                worker.kill()
            else:
                worker.kill_child()
            seen = [draft(committee)]
            if whole:
                time.sleep(VISIBILITY_SECONDS + 0.5)
                worker = Worker(env)

            def finished(run_id=run.pk, seen=seen):
                seen.append(draft(committee))
                return run_state(run_id).state in ("succeeded", "failed")

            wait_until(finished, timeout=60, interval=0.05, what=f"round {round_}: the run to finish")
            after = run_state(run.pk)
            new = draft(committee)
            assert after.state == "succeeded", after.error
            for snapshot in seen:
                assert snapshot in (old, new), f"round {round_}: a draft that is neither the old nor the new one"
            assert new != old
            outcomes.append(("regraded" if after.started_at != claimed else "finished first", whole))
            old = new
        # Grading again, undisturbed, gives the same numbers.
        rerun = services.grading_run_request(committee=committee, month=MONTH)
        assert tasks.grade_run.delay(rerun.pk).get(timeout=60) == "succeeded"
        assert numbers(draft(committee)) == numbers(old)
    finally:
        worker.stop()
    # The kills landed while grading: most runs were taken over by their redelivery.
    regraded = sum(outcome == "regraded" for outcome, _ in outcomes)
    print(f"\nworker killed {ROUNDS}× (grading {seconds:.2f} s): {regraded} mid-run and regraded, {outcomes}")
    assert regraded >= 4
    assert not GradingRun.objects.exclude(state="succeeded").exists()
