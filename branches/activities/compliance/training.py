"""Training hours (学时): class hours per member in a year against the yearly requirement
of the rule-set version in force. Branch secretaries and committee members (支委, any
branch committee role held during the year) owe the version's cadre hours (seed 001's
轮训; the 2019 党员教育管理工作条例: 56 class hours), everyone else its yearly hours;
both pro-rated by the months the committee tracks."""

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db.models import DecimalField, Q, QuerySet, Sum
from django.utils import timezone

from branches.choices import ATTENDED, CLASS_HOUR_KINDS
from branches.models import OrgUnit
from branches.selectors import tracked_from_for, tracked_months_in_year
from members.ledger.models import RuleSetVersion
from members.ledger.services import rule_version_for, rule_versions_for
from members.models import Member, MemberRole, Membership
from members.selectors import members_of_branch_at

from ..models import Activity, Attendance
from .requirements import first_of_month

HOURS_FIELD = DecimalField(max_digits=8, decimal_places=1)
ZERO = Decimal("0.0")  # hours, shortfalls: one decimal place, like class hours
ONE_PLACE = Decimal("0.1")


def member_training_hours(*, members: QuerySet | Iterable[int], year: int, stream: bool = False) -> dict[int, Decimal]:
    """Class hours per member in ``year``: held training and Party lectures the member
    attended (present or late), wherever they were held. One GROUP BY; a member who
    attended none is absent from the result (zero hours). ``stream``: read the rows in
    chunks (a server-side cursor) — a year-end workbook asks for every member of the
    tree at once, and the fetched list was its peak memory; a page's few members are
    fetched at once, without the cursor's round trips."""
    rows = (
        Attendance.objects.filter(
            member__in=members,
            status__in=ATTENDED,
            activity__status=Activity.Status.HELD,
            activity__kind__in=CLASS_HOUR_KINDS,
            activity__class_hours__isnull=False,
            activity__date__gte=datetime.date(year, 1, 1),
            activity__date__lte=datetime.date(year, 12, 31),
        )
        .values("member_id")
        .annotate(hours=Sum("activity__class_hours", output_field=HOURS_FIELD))
        .order_by()
        .values_list("member_id", "hours")
    )
    pairs = rows.iterator(chunk_size=2000) if stream else rows
    return {member_id: (hours or ZERO).quantize(ONE_PLACE) for member_id, hours in pairs}


def cadre_member_ids(*, members: QuerySet | Iterable[int], year: int, on_date: datetime.date) -> set[int]:
    """Those of ``members`` who held a branch committee role (书记, 副书记, 支委 …, not a
    group leader) at some time from January 1 of ``year`` to ``on_date``. One query."""
    return set(
        MemberRole.objects.filter(member__in=members, role__in=MemberRole.COMMITTEE_ROLES, started_on__lte=on_date)
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gte=datetime.date(year, 1, 1)))
        .values_list("member_id", flat=True)
    )


def training_reference_date(*, year: int, today: datetime.date) -> datetime.date:
    """Whose hours and which requirement a year is judged by: the members at the end of
    the year and December's rules, or for the year in progress, today's."""
    return min(datetime.date(year, 12, 31), today)


def prorated_requirement(*, yearly: Decimal | None, tracked_months: int) -> Decimal | None:
    """The year's class-hour requirement for the months that are tracked: a committee
    that began in July owes half the year's hours (none when no month is tracked)."""
    if yearly is None or tracked_months == 0:
        return None
    if tracked_months == 12:
        return yearly
    return (yearly * tracked_months / 12).quantize(ONE_PLACE, rounding=ROUND_HALF_UP)


def _requirements(version: RuleSetVersion | None, tracked: int) -> tuple[Decimal | None, Decimal | None]:
    """(members', secretaries' and committee members') requirement for the tracked months."""
    if version is None:
        return None, None
    return (
        prorated_requirement(yearly=version.yearly_training_hours, tracked_months=tracked),
        prorated_requirement(yearly=version.cadre_training_hours, tracked_months=tracked),
    )


@dataclass
class TrainingRow:
    member: Member
    hours: Decimal
    requirement: Decimal | None
    cadre: bool = False  # a secretary or committee member: owes the cadre hours

    @property
    def shortfall(self) -> Decimal:
        if self.requirement is None:
            return ZERO
        return max(self.requirement - self.hours, ZERO)

    @property
    def behind(self) -> bool:
        return self.shortfall > 0


def _row(member: Member, hours: dict[int, Decimal], cadres: set[int], requirements) -> TrainingRow:
    cadre = member.pk in cadres
    return TrainingRow(member, hours.get(member.pk, ZERO), requirements[1] if cadre else requirements[0], cadre)


def _sort_rows(rows: list[TrainingRow]) -> list[TrainingRow]:
    """Those behind first, furthest behind first; then by employee number."""
    return sorted(rows, key=lambda r: (not r.behind, -r.shortfall, r.member.employee_no))


@dataclass
class TrainingReport:
    branch: OrgUnit
    year: int
    on_date: datetime.date
    requirement: Decimal | None  # None: no rule set version is in force, or nothing tracked
    rows: list[TrainingRow]
    tracked_months: int = 12
    cadre_requirement: Decimal | None = None  # secretaries and committee members

    @property
    def behind(self) -> list[TrainingRow]:
        return [row for row in self.rows if row.behind]

    @property
    def cadres(self) -> int:
        return sum(1 for row in self.rows if row.cadre)

    @property
    def total_hours(self) -> Decimal:
        return sum((row.hours for row in self.rows), ZERO)


def branch_training_report(*, branch: OrgUnit, year: int, today: datetime.date | None = None) -> TrainingReport:
    """The branch's members (at the end of ``year``, or today for the year in progress)
    with their class hours against the requirement of the rule set version in force
    then — the cadre hours for those on a branch committee during the year; those behind
    first."""
    today = today or timezone.localdate()
    on_date = training_reference_date(year=year, today=today)
    try:
        version = rule_version_for(unit=branch, month=first_of_month(on_date))
    except ValidationError:
        version = None
    tracked = tracked_months_in_year(tracked_from=tracked_from_for(units=[branch])[branch.pk], year=year)
    requirements = _requirements(version, tracked)
    members_at = members_of_branch_at(branch=branch, on_date=on_date)
    members = list(members_at.order_by("employee_no"))
    hours = member_training_hours(members=members_at, year=year)
    cadres = cadre_member_ids(members=members_at, year=year, on_date=on_date)
    rows = [_row(member, hours, cadres, requirements) for member in members]
    return TrainingReport(branch, year, on_date, requirements[0], _sort_rows(rows), tracked, requirements[1])


@dataclass
class BranchTrainingSummary:
    branch: OrgUnit
    requirement: Decimal | None
    tracked_months: int = 12
    members: int = 0
    total_hours: Decimal = ZERO
    behind: list[TrainingRow] = field(default_factory=list)
    cadre_requirement: Decimal | None = None
    cadres: int = 0

    @property
    def behind_count(self) -> int:
        return len(self.behind)


def committee_training_summary(
    *, branches: list[OrgUnit], year: int, today: datetime.date | None = None
) -> dict[int, BranchTrainingSummary]:
    """Per branch: its members (as in ``branch_training_report``), how many are behind
    their requirement — and who, furthest behind first — and their total class hours.
    Five queries however many branches: memberships, hours, committee roles, the rule
    sets with their versions (one) and the first tracked months."""
    today = today or timezone.localdate()
    on_date = training_reference_date(year=year, today=today)
    versions = rule_versions_for(units=branches, month=on_date)
    tracked_from = tracked_from_for(units=branches)
    summaries, requirements = {}, {}
    for branch in branches:
        tracked = tracked_months_in_year(tracked_from=tracked_from[branch.pk], year=year)
        requirements[branch.pk] = _requirements(versions.get(branch.pk), tracked)
        members, cadres = requirements[branch.pk]
        summaries[branch.pk] = BranchTrainingSummary(branch, members, tracked_months=tracked, cadre_requirement=cadres)
    periods = (
        Membership.objects.filter(branch__in=[b.pk for b in branches], started_on__lte=on_date)
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gt=on_date))
        .select_related("member")
        .order_by()
    )
    hours = member_training_hours(members=periods.values("member_id"), year=year)
    cadres = cadre_member_ids(members=periods.values("member_id"), year=year, on_date=on_date)
    rows: dict[int, list[TrainingRow]] = defaultdict(list)
    for period in periods:
        branch_id, member = period.branch_id, period.member
        summary = summaries[branch_id]
        row = _row(member, hours, cadres, requirements[branch_id])
        summary.members += 1
        summary.cadres += row.cadre
        summary.total_hours += row.hours
        if row.behind:
            rows[branch_id].append(row)
    for branch_id, behind in rows.items():
        summaries[branch_id].behind = _sort_rows(behind)
    return summaries
