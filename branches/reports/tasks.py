"""Celery tasks: thin; they take ids, re-fetch and call one service."""

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def generate_report(report_id: int) -> str:
    report = services.report_generate(report_id=report_id)
    return "skipped" if report is None else report.state


@shared_task
def expire_reports() -> int:
    """Beat's job (daily): delete the files of expired reports."""
    return services.reports_expire()
