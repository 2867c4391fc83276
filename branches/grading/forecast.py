"""The month so far (本月预测): a committee's month graded on what is logged today.

A secretary wants to know mid-month whether the branch is heading for the bottom three.
Nothing new is computed here: the month is graded by the engine a real run uses, with
the version in force, inside a transaction that is then rolled back (as the impact
preview does, ``preview.py``) — the scratch run and the draft rows never reach the
database, and a draft the committee already has for the month is left as it was.

Graded mid-month, requirements not yet held count as not held (the run judges as of the
month's end) and the scores the committee enters count as 0 until entered, as a draft
does; the forecast says so on the page.

Grading writes (and rolls back) a committee's month of rows, so the result is cached
under the month's watermark (``engine.watermark``: ledger, activities, attendance,
entered scores, memberships, version) and the graded branches: a secretary opening the
home page again grades nothing until something is logged.
"""

import datetime
import hashlib
import json
import logging
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction

from branches.models import OrgUnit
from branches.selectors import month_tracked
from members.ledger.services import rule_version_for

from . import engine
from .models import BranchScore, GradingRun
from .services import lock_committee_month

CACHE_SECONDS = 15 * 60
# A home page's forecast may be this old: it is advice, and checking that it is still
# current reads the inputs of every branch of the committee (``engine.watermark``).
RECENT_SECONDS = 60
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ForecastRow:
    branch_id: int
    total: Decimal
    rank: int
    bottom_three: bool
    basics: Decimal | None
    membership: Decimal | None


@dataclass
class Forecast:
    committee: OrgUnit
    month: datetime.date
    bottom_count: int
    rows: list[ForecastRow] = field(default_factory=list)

    def row(self, branch_id: int) -> ForecastRow | None:
        return next((r for r in self.rows if r.branch_id == branch_id), None)

    @property
    def graded(self) -> int:
        return len(self.rows)


class _Discard(Exception):
    def __init__(self, rows: list[ForecastRow], bottom_count: int):
        super().__init__("forecast: rolled back")
        self.rows, self.bottom_count = rows, bottom_count


def month_forecast(
    *, committee: OrgUnit, month: datetime.date, watermark: dict | None = None, recent: bool = False
) -> Forecast | None:
    """Grade ``committee``'s ``month`` on what is logged now and roll it back. None when
    the month is not tracked or no rule set is in force. ``watermark``: the month's
    current ``engine.watermark``, when the caller has already read it. ``recent``: a
    forecast made in the last ``RECENT_SECONDS`` will do (the home pages), without
    checking the inputs again."""
    month = month.replace(day=1)
    recent_key = f"grading:forecast:recent:{committee.pk}:{month:%Y-%m}"
    if recent:
        cached = cache.get(recent_key)
        if cached is not None:
            rows, bottom_count = cached
            return Forecast(committee, month, bottom_count, rows)
    if not month_tracked(unit=committee, month=month):
        return None
    try:
        version = rule_version_for(unit=committee, month=month)
    except ValidationError:
        return None
    branch_ids = sorted(b.pk for b in engine.graded_branches(committee=committee, month=month))
    if watermark is None:
        watermark = engine.watermark(committee=committee, month=month)
    stamp = json.dumps([watermark, branch_ids], sort_keys=True)
    key = f"grading:forecast:{committee.pk}:{month:%Y-%m}:{hashlib.sha256(stamp.encode()).hexdigest()}"
    cached = cache.get(key)
    if cached is not None:
        rows, bottom_count = cached
        cache.set(recent_key, cached, RECENT_SECONDS)
        return Forecast(committee, month, bottom_count, rows)
    try:
        with transaction.atomic():
            lock_committee_month(committee, month)
            run = GradingRun.objects.create(
                committee=committee, month=month, state=GradingRun.State.RUNNING, rule_version=version
            )
            engine.grade(run=run, version=version)
            rows = [
                ForecastRow(*values)
                for values in BranchScore.objects.filter(committee=committee, month=month)
                .order_by("rank", "branch_id")
                .values_list("branch_id", "total", "rank", "bottom_three", "basics", "membership")
            ]
            raise _Discard(rows, version.bottom_three_count)
    except _Discard as done:
        cache.set(key, (done.rows, done.bottom_count), CACHE_SECONDS)
        cache.set(recent_key, (done.rows, done.bottom_count), RECENT_SECONDS)
        return Forecast(committee, month, done.bottom_count, done.rows)
    except Exception:
        # A forecast is advice on a home page: a grading error (which the real run
        # reports as a failed run) must not take the page down with it.
        logger.exception("forecast of %s %s failed", committee.pk, month)
        return None
