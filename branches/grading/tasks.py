"""Celery tasks: thin; they take ids, re-fetch and call one service."""

import datetime

from celery import shared_task
from django.utils import timezone

from branches.models import OrgUnit
from branches.selectors import is_tracked, tracked_from_for

from . import services
from .models import GradingRun


# Acknowledged once done and redelivered if its worker dies mid-run (SIGKILL, out of
# memory): the run's claim lets the redelivery take over a run left running.
@shared_task(acks_late=True, reject_on_worker_lost=True)
def grade_run(run_id: int) -> str:
    run = services.grading_run_execute(run_id=run_id)
    return "skipped" if run is None else run.state


@shared_task
def grade_previous_month() -> list[int]:
    """Beat's job (1st of the month, 02:00 Asia/Shanghai): grade last month for every
    committee that tracks it. The request key makes a second firing for the same month
    a no-op."""
    month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    run_ids = []
    committees = list(OrgUnit.objects.filter(kind=OrgUnit.Kind.COMMITTEE, dissolved_on__isnull=True))
    tracked_from = tracked_from_for(units=committees)
    for committee in committees:
        if not is_tracked(tracked_from=tracked_from[committee.pk], month=month):
            continue  # its tracking begins later: nothing to grade
        run = services.grading_run_request(
            committee=committee,
            month=month,
            trigger=GradingRun.Trigger.SCHEDULE,
            request_key=f"schedule:{committee.pk}:{month:%Y-%m}",
        )
        if run.state == GradingRun.State.QUEUED:
            grade_run.delay(run.pk)
        run_ids.append(run.pk)
    return run_ids
