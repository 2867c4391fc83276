"""Celery tasks: thin; they take ids, re-fetch and call one service."""

import datetime

from celery import shared_task
from django.utils import timezone

from . import services
from .models import Draw, Setup


@shared_task(acks_late=True)
def draw_setup_month(setup_id: int, year: int, month: int) -> int:
    """Draw one committee's month (a month already drawn is returned as it is)."""
    setup = Setup.objects.get(pk=setup_id)
    draw = services.draw_month(
        setup=setup, month=datetime.date(year, month, 1), user=None, trigger=Draw.Trigger.SCHEDULE
    )
    return draw.pk


@shared_task
def draw_due_months() -> list[int]:
    """Beat's job (daily, 06:00 Asia/Shanghai): draw this month for every committee whose
    draw day has come and whose month is not drawn yet. Running daily rather than on the
    day itself means a missed day (beat down) is made up the next morning; a month
    already drawn is skipped here and, under a race, by ``draw_month`` itself."""
    today = timezone.localdate()
    month = today.replace(day=1)
    drawn = []
    setups = Setup.objects.filter(draw_day__lte=today.day, cycle_start__lte=month).exclude(
        draws__month=month, draws__state=Draw.State.STANDING
    )
    for setup_id in setups.values_list("pk", flat=True):
        if not Setup.objects.get(pk=setup_id).pool.exists():
            continue
        drawn.append(draw_setup_month(setup_id, month.year, month.month))
    return drawn
