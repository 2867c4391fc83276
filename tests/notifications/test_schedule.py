"""The daily schedule that migration notifications.0002 installs in django-celery-beat's
tables, run through the migration loader (see tests/grading/test_schedule.py for why: the
row is migration data that flushing tests remove)."""

import pytest
from django_celery_beat.models import PeriodicTask

from branches.notifications import tasks

from ..migration_runner import run_migration

TASK = "branches.notifications.tasks.send_daily_reminders"
MIGRATION = ("notifications", "0002_daily_schedule")


@pytest.mark.django_db(transaction=True)
def test_the_migration_schedules_the_reminders_daily_at_eight_in_shanghai():
    run_migration(MIGRATION, forwards=False)
    assert not PeriodicTask.objects.filter(task=TASK).exists()
    run_migration(MIGRATION, forwards=True)
    run_migration(MIGRATION, forwards=True)
    task = PeriodicTask.objects.select_related("crontab").get(task=TASK)
    crontab = task.crontab
    assert task.enabled and task.interval is None and not task.one_off
    assert (crontab.minute, crontab.hour, crontab.day_of_month, crontab.month_of_year, crontab.day_of_week) == (
        "0",
        "8",
        "*",
        "*",
        "*",
    )
    assert str(crontab.timezone) == "Asia/Shanghai"
    assert tasks.send_daily_reminders.name == TASK
