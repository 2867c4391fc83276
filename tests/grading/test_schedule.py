"""The monthly schedule that migration grading.0002 installs in django-celery-beat's tables.

The row is migration data, and transactional tests (browser, worker, concurrency) end by
flushing every table, so a test that merely looks for it depends on what ran before.
``serialized_rollback=True`` does not rescue it: pytest-django (4.14) then reloads a
snapshot taken when the session started, but the flush before it re-created the content
types (post_migrate), and loading the snapshot's content types over them fails on their
unique (app_label, model) — and with ``--reuse-db`` the snapshot itself may come from a
flushed database. So this test runs the migration itself: it checks that grading.0002 is
recorded as applied here, then unapplies and re-applies it through Django's migration
loader — the operations the migration declares, with its historical models — and checks
what each direction leaves in the tables. A migration that lost its RunPython, or whose
function wrote the wrong schedule, fails here.
"""

import pytest
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from branches.grading import tasks

from ..migration_runner import run_migration as rerun

TASK = "branches.grading.tasks.grade_previous_month"
MIGRATION = ("grading", "0002_monthly_schedule")


def run_migration(*, forwards: bool) -> None:
    rerun(MIGRATION, forwards=forwards)


# Transactional: SQLite's schema editor cannot be opened inside the test's transaction.
@pytest.mark.django_db(transaction=True)
def test_the_migration_schedules_grading_of_last_month_at_two_on_the_first_in_shanghai():
    run_migration(forwards=False)
    assert not PeriodicTask.objects.filter(task=TASK).exists()
    run_migration(forwards=True)
    task = PeriodicTask.objects.select_related("crontab").get(task=TASK)
    crontab = task.crontab
    assert task.enabled and task.interval is None and not task.one_off
    assert (crontab.minute, crontab.hour, crontab.day_of_month, crontab.month_of_year, crontab.day_of_week) == (
        "0",
        "2",
        "1",
        "*",
        "*",
    )
    assert str(crontab.timezone) == "Asia/Shanghai"
    assert tasks.grade_previous_month.name == TASK  # the schedule names the real task


@pytest.mark.django_db(transaction=True)
def test_applying_the_migration_twice_keeps_one_schedule():
    # Already applied once by `migrate` (or just now); applying again must not duplicate.
    run_migration(forwards=True)
    run_migration(forwards=True)
    assert PeriodicTask.objects.filter(task=TASK).count() == 1
    assert CrontabSchedule.objects.filter(minute="0", hour="2", day_of_month="1").count() == 1
