"""Celery tasks: thin; they call one service."""

from celery import shared_task

from . import services


@shared_task
def send_daily_reminders() -> dict:
    """Beat's job, daily at 08:00 Asia/Shanghai: generate today's reminders and mail the
    digest. Safe to run twice: the rows are unique per subject and period, and a mailed
    row is never mailed again."""
    return services.reminders_run_daily()
