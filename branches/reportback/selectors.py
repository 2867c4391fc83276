"""Reads of the report-back: the pool, who is left in a cycle, the matrix, scores.

Scores are aggregated in SQL (count, sum, max, min per report); Python only rounds
one row per report."""

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Max, Min, Q, QuerySet, Sum

from branches.models import OrgUnit

from .models import Draw, PoolUnit, Report, Setup, add_months

CENT = Decimal("0.01")


def eligible_units(*, committee: OrgUnit) -> QuerySet[OrgUnit]:
    """The units that may report to ``committee``: its direct sub-units other than party
    groups (its branches, general branches or sub-committees — whichever it has) and
    the branches of a general branch directly below it (a plant's branches report
    whether or not a 党总支 sits between), not dissolved. The setup picks among them."""
    return (
        OrgUnit.objects.filter(
            Q(parent=committee)
            | Q(parent__parent=committee, parent__kind=OrgUnit.Kind.GENERAL_BRANCH, kind=OrgUnit.Kind.BRANCH),
            dissolved_on__isnull=True,
        )
        .exclude(kind=OrgUnit.Kind.GROUP)
        .order_by("path")
    )


def setup_of(*, committee: OrgUnit) -> Setup | None:
    return Setup.objects.filter(committee=committee).first()


def in_pool(*, setup: Setup, day: datetime.date) -> QuerySet[PoolUnit]:
    """The pool as of ``day``: a unit dissolved on or before it has left."""
    return (
        setup.pool.filter(Q(unit__dissolved_on__isnull=True) | Q(unit__dissolved_on__gt=day))
        .select_related("unit", "category")
        .order_by("category__sort_order", "unit__sort_order", "unit__code")
    )


def reported_in_cycle(*, setup: Setup, month: datetime.date, exclude_draw: Draw | None = None) -> set[int]:
    """Units drawn by a standing draw of ``month``'s cycle (any month of it)."""
    months = setup.cycle_months_of(month)
    reports = Report.objects.filter(
        draw__setup=setup, draw__state=Draw.State.STANDING, draw__month__gte=months[0], draw__month__lte=months[-1]
    )
    if exclude_draw is not None:
        reports = reports.exclude(draw=exclude_draw)
    return set(reports.values_list("unit_id", flat=True))


def standing_draw(*, setup: Setup, month: datetime.date) -> Draw | None:
    return Draw.objects.filter(setup=setup, month=month, state=Draw.State.STANDING).first()


def half_up(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def unit_score(*, scoring: str, count: int, total: Decimal, high: Decimal, low: Decimal) -> Decimal | None:
    """The unit's score from its assessors' scores: the mean, or (``trimmed``) the mean
    without the highest and the lowest when there are three or more. Half-up, 2 places."""
    if not count:
        return None
    if scoring == Setup.Scoring.TRIMMED and count >= 3:
        return half_up((total - high - low) / (count - 2))
    return half_up(total / count)


def scores_of(*, reports: QuerySet[Report]) -> dict[int, Decimal | None]:
    """Report id → its score by its draw's way of scoring (None until an assessor
    scored it). One query."""
    rows = reports.annotate(
        n=Count("assessments"),
        total=Sum("assessments__score"),
        high=Max("assessments__score"),
        low=Min("assessments__score"),
    ).values_list("pk", "draw__scoring", "n", "total", "high", "low")
    return {
        pk: unit_score(scoring=scoring, count=n, total=total, high=high, low=low)
        for pk, scoring, n, total, high, low in rows
    }


@dataclass(frozen=True)
class FedScore:
    """A unit's report-back score of a month as grading reads it."""

    score: Decimal
    report_id: int
    session_id: int | None


def month_scores(*, unit_ids: list[int], month: datetime.date) -> dict[int, FedScore]:
    """The report-back scores of ``unit_ids`` in ``month`` (standing draws, scored
    reports only): what feeds a scored item of the monthly board. Two queries."""
    reports = Report.objects.filter(unit_id__in=unit_ids, draw__month=month, draw__state=Draw.State.STANDING)
    rows = list(
        reports.annotate(
            n=Count("assessments"),
            total=Sum("assessments__score"),
            high=Max("assessments__score"),
            low=Min("assessments__score"),
        ).values_list("pk", "unit_id", "session_id", "draw__scoring", "n", "total", "high", "low")
    )
    result = {}
    for pk, unit_id, session_id, scoring, n, total, high, low in rows:
        score = unit_score(scoring=scoring, count=n, total=total, high=high, low=low)
        if score is not None:
            result[unit_id] = FedScore(score=score, report_id=pk, session_id=session_id)
    return result


def last_change(*, unit_ids: list[int], month: datetime.date) -> str | None:
    """A fingerprint of the month's report-back scores for the grading watermark."""
    row = Report.objects.filter(unit_id__in=unit_ids, draw__month=month).aggregate(
        last=Max("assessments__entered_at"), n=Count("assessments"), draws=Max("draw_id")
    )
    stamp = row["last"].isoformat() if row["last"] else ""
    return f"{stamp}|{row['n']}|{row['draws'] or ''}"


@dataclass
class MatrixRow:
    pool: PoolUnit
    cells: list  # per month: the Report of a standing draw, or None
    reported: bool


def cycle_matrix(*, setup: Setup, month: datetime.date) -> tuple[list[datetime.date], list[MatrixRow]]:
    """Units × months of ``month``'s cycle: which month each unit reported in (its
    report), who is left. Two queries however many units and months."""
    months = setup.cycle_months_of(month)
    pool = list(
        setup.pool.select_related("unit", "category").order_by("category__sort_order", "unit__sort_order", "unit__code")
    )
    reports = Report.objects.filter(
        draw__setup=setup, draw__state=Draw.State.STANDING, draw__month__gte=months[0], draw__month__lte=months[-1]
    ).values_list("unit_id", "draw__month", "pk")
    by_unit: dict[int, dict[datetime.date, int]] = {}
    for unit_id, draw_month, pk in reports:
        by_unit.setdefault(unit_id, {})[draw_month] = pk
    rows = []
    for pooled in pool:
        seen = by_unit.get(pooled.unit_id, {})
        rows.append(MatrixRow(pool=pooled, cells=[seen.get(m) for m in months], reported=bool(seen)))
    return months, rows


def unit_history(*, unit: OrgUnit) -> QuerySet[Report]:
    """A unit's report-backs in standing draws, newest first."""
    return (
        Report.objects.filter(unit=unit, draw__state=Draw.State.STANDING)
        .select_related("draw__setup__committee", "session", "category")
        .order_by("-draw__month")
    )


def unit_notice(*, unit: OrgUnit, today: datetime.date) -> Report | None:
    """The unit's report-back of this month or next, when drawn: the notice on its page."""
    first = today.replace(day=1)
    return (
        Report.objects.filter(
            unit=unit, draw__state=Draw.State.STANDING, draw__month__gte=first, draw__month__lte=add_months(first, 1)
        )
        .select_related("draw__setup__committee", "session")
        .order_by("draw__month")
        .first()
    )
