"""The daily draw schedule that migration reportback.0002 installs (run through the
migration itself, as tests/grading/test_schedule.py explains)."""

import pytest
from django_celery_beat.models import PeriodicTask

from branches.reportback import tasks

from ..migration_runner import run_migration

TASK = "branches.reportback.tasks.draw_due_months"
MIGRATION = ("reportback", "0002_draw_schedule")


@pytest.mark.django_db(transaction=True)
def test_the_migration_schedules_the_draw_every_morning_in_shanghai_once():
    run_migration(MIGRATION, forwards=False)
    assert not PeriodicTask.objects.filter(task=TASK).exists()
    run_migration(MIGRATION, forwards=True)
    run_migration(MIGRATION, forwards=True)
    task = PeriodicTask.objects.select_related("crontab").get(task=TASK)
    crontab = task.crontab
    assert task.enabled and (crontab.minute, crontab.hour, crontab.day_of_month) == ("0", "6", "*")
    assert str(crontab.timezone) == "Asia/Shanghai"
    assert tasks.draw_due_months.name == TASK
