"""What a member sees of their own standing. Each read is a fixed number of queries:
totals grouped by the database, ranks by window functions, never a loop over rows."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Count, F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from branches.activities.compliance.requirements import first_of_month
from branches.activities.compliance.training import (
    _requirements,
    cadre_member_ids,
    member_training_hours,
    training_reference_date,
)
from branches.activities.models import Attendance
from branches.grading import annual, boards
from branches.grading.models import PublishedMemberScore
from branches.models import OrgUnit
from branches.selectors import committee_for, tracked_from_for, tracked_months_in_year
from members.ledger.models import LedgerEntry
from members.ledger.selectors import ZERO, member_entries, member_month_totals, year_category_totals
from members.ledger.services import rule_version_for
from members.models import Member


@dataclass
class Points:
    year: int
    month: datetime.date
    month_categories: list[tuple[str, Decimal]]
    month_total: Decimal
    year_categories: list[tuple[str, Decimal]]
    year_total: Decimal


def my_points(*, member: Member, today: datetime.date) -> Points:
    """This month's and this year's points by category (one ``GROUP BY month, category``)."""
    month = today.replace(day=1)
    months = member_month_totals(member=member, year=today.year)
    this = next((m for m in months if m.month == month), None)
    year_categories = year_category_totals(months)
    return Points(
        year=today.year,
        month=month,
        month_categories=this.categories if this else [(c, ZERO) for c, _t in year_categories],
        month_total=this.total if this else ZERO,
        year_categories=year_categories,
        year_total=sum((t for _c, t in year_categories), ZERO),
    )


def my_entries(*, member: Member, year: int) -> QuerySet[LedgerEntry]:
    """Every entry of the year, newest month first, with the title of the activity an
    attendance entry came from (a subquery, not a query per row)."""
    activity_title = Attendance.objects.filter(pk=OuterRef("source_id")).values("activity__title")[:1]
    activity_date = Attendance.objects.filter(pk=OuterRef("source_id")).values("activity__date")[:1]
    return (
        member_entries(member=member, year=year)
        .annotate(
            activity_title=Subquery(activity_title),
            activity_date=Subquery(activity_date),
        )
        .order_by("-month", "-recorded_at", "-pk")
    )


@dataclass
class Standing:
    """The member's row of a published board (the latest version of the month)."""

    month: datetime.date
    total: Decimal
    stars: int
    rank: int  # in the branch, by total (equal totals share a rank)
    of: int  # members of the branch on that board


def _count_in_branch(**condition) -> Coalesce:
    """How many rows of the same publication and branch meet ``condition`` (a correlated
    subquery on the ``(publication, branch, total)`` index)."""
    rows = (
        PublishedMemberScore.objects.filter(publication=OuterRef("publication"), branch=OuterRef("branch"), **condition)
        .order_by()
        .values("publication")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows), 0)


def my_monthly_standings(*, member: Member, committee: OrgUnit | None, year: int) -> list[Standing]:
    """The member's published months of ``year``, newest first, with their rank in the
    branch (one more than the branch-mates with a strictly higher total, so equal totals
    share a rank): one query."""
    if committee is None:
        return []
    latest = annual.latest_publications(committee=committee, year=year)
    rows = (
        PublishedMemberScore.objects.filter(publication__in=latest, member_id=member.pk)
        .annotate(
            higher=_count_in_branch(total__gt=OuterRef("total")),
            size=_count_in_branch(),
            month=F("publication__month"),
        )
        .order_by("-month")
    )
    return [Standing(r.month, r.total, r.stars, r.higher + 1, r.size) for r in rows]


def my_annual_stars(*, member: Member, committee: OrgUnit | None, year: int) -> dict | None:
    """The year so far from the published months: total, months counted and stars by
    the year bands (with the 不合格 cap), as ``annual.member_annual_stars`` computes them."""
    if committee is None:
        return None
    try:
        return annual.member_annual_stars(committee=committee, year=year).filter(member_id=member.pk).first()
    except ValidationError:  # no rule set version in force for the year
        return None


def my_board(*, committee: OrgUnit | None) -> boards.Board | None:
    """The latest published board of the member's committee (read-only)."""
    if committee is None:
        return None
    latest = boards.latest_publication(committee=committee)
    if latest is None:
        return None
    return boards.board(committee, latest.month, draft=False)


@dataclass
class Training:
    year: int
    hours: Decimal
    requirement: Decimal | None

    @property
    def shortfall(self) -> Decimal:
        return max((self.requirement or Decimal("0")) - self.hours, Decimal("0"))


def my_training(*, member: Member, today: datetime.date) -> Training:
    """Class hours this year against the requirement (the cadre hours for a branch
    committee member), as the branch's training page computes them."""
    year = today.year
    hours = member_training_hours(members=[member.pk], year=year).get(member.pk, Decimal("0.0"))
    on_date = training_reference_date(year=year, today=today)
    try:
        version = rule_version_for(unit=member.branch, month=first_of_month(on_date))
    except ValidationError:
        version = None
    tracked = tracked_months_in_year(tracked_from=tracked_from_for(units=[member.branch])[member.branch_id], year=year)
    members_req, cadres_req = _requirements(version, tracked)
    cadre = member.pk in cadre_member_ids(members=[member.pk], year=year, on_date=on_date)
    return Training(year, hours, cadres_req if cadre else members_req)


@dataclass
class PoliticalBirthday:
    joined_on: datetime.date
    next_on: datetime.date
    years: int  # the anniversary reached on ``next_on``
    days_left: int


def political_birthday(*, member: Member, today: datetime.date) -> PoliticalBirthday:
    """政治生日: the anniversary of joining the Party (29 February falls on 28 February)."""

    def anniversary(year: int) -> datetime.date:
        try:
            return member.joined_on.replace(year=year)
        except ValueError:
            return datetime.date(year, 2, 28)

    next_on = anniversary(today.year)
    if next_on < today:
        next_on = anniversary(today.year + 1)
    return PoliticalBirthday(member.joined_on, next_on, next_on.year - member.joined_on.year, (next_on - today).days)


def committee_of(member: Member) -> OrgUnit | None:
    return committee_for(unit=member.branch)
