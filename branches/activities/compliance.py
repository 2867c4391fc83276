"""三会一课 落实: compliance with the required activities, and training hours.

Everything here is computed from the logged activities and attendance, never typed in.

Required in a month (PRODUCT.md, appendix): one 支委会, one 党小组会 per party group
of the branch, one 主题党日; in the last month of a quarter also one 支部党员大会 and
one 党课 held at any time in that quarter. Each requirement counts once however often
it was met; cancelled activities count for nothing. Every requirement of a month ends
with the month, so a month that has not ended yet is "not yet due" for what is still
unmet (what is met is met).

The matrix and the committee's training summary read a fixed number of queries however
many branches and months they cover: one aggregate over activities (or attendance) and
one query per kind of supporting row, then Python over O(branches × months) cells.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import DecimalField, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from branches.choices import ATTENDED, CLASS_HOUR_KINDS, ActivityKind
from branches.models import OrgUnit
from branches.selectors import (
    committees_for,
    is_tracked,
    month_tracked,
    tracked_from_for,
    tracked_months_in_year,
    tree_order,
    unit_subtree,
)
from members.ledger.services import rule_version_for, rule_versions_for
from members.models import Member, Membership
from members.selectors import members_of_branch_at

from .models import Activity, Attendance

MONTHLY_KINDS = (ActivityKind.COMMITTEE_MEETING, ActivityKind.GROUP_MEETING, ActivityKind.THEMED_DAY)
QUARTERLY_KINDS = (ActivityKind.GENERAL_MEETING, ActivityKind.PARTY_LECTURE)
REQUIRED_KINDS = MONTHLY_KINDS + QUARTERLY_KINDS
HOURS_FIELD = DecimalField(max_digits=8, decimal_places=1)
ZERO = Decimal("0.0")  # hours, shortfalls: one decimal place, like class hours
ONE_PLACE = Decimal("0.1")


class Status(models.TextChoices):
    """Of one requirement."""

    MET = "met", _("Met")
    MISSING = "missing", _("Missing")
    NOT_DUE = "not_due", _("Not yet due")


class CellState(models.TextChoices):
    """Of a branch's month in the matrix."""

    MET = "met", _("All met")
    MISSING = "missing", _("Nothing met")
    PARTIAL = "partial", _("Partly met")
    NOT_DUE = "not_due", _("Not yet due")
    NONE = "none", _("Not required")  # the branch did not exist that month
    NOT_TRACKED = "not_tracked", _("Not tracked")  # before its committee's first tracked month


# --- periods -----------------------------------------------------------------------


def first_of_month(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def month_end(month: datetime.date) -> datetime.date:
    next_month = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return next_month - datetime.timedelta(days=1)


def quarter_start(month: datetime.date) -> datetime.date:
    return datetime.date(month.year, (month.month - 1) // 3 * 3 + 1, 1)


def is_quarter_end(month: datetime.date) -> bool:
    return month.month % 3 == 0


def _exists_in(unit: OrgUnit, start: datetime.date, end: datetime.date) -> bool:
    """Whether ``unit`` existed at some time in ``[start, end]``."""
    if unit.established_on is not None and unit.established_on > end:
        return False
    return unit.dissolved_on is None or unit.dissolved_on >= start


# --- requirements --------------------------------------------------------------------


# What an activity must match to meet a requirement: its kind, its party group (for a
# group meeting) and its month — the quarter's first month for the quarterly kinds.
Key = tuple[str, int | None, datetime.date]


@dataclass(frozen=True)
class Requirement:
    kind: str
    month: datetime.date
    group: OrgUnit | None = None

    @property
    def quarterly(self) -> bool:
        return self.kind in QUARTERLY_KINDS

    @property
    def period_start(self) -> datetime.date:
        return quarter_start(self.month) if self.quarterly else self.month

    @property
    def period_end(self) -> datetime.date:
        return month_end(self.month)

    @property
    def label(self) -> str:
        label = str(ActivityKind(self.kind).label)
        return f"{label} · {self.group.name}" if self.group is not None else label

    def key(self) -> Key:
        return (self.kind, self.group.pk if self.group else None, self.period_start)

    def is_due(self, today: datetime.date) -> bool:
        return today > self.period_end


# A party group as the requirements see it: id, established on, dissolved on.
GroupSpan = tuple[int, datetime.date | None, datetime.date | None]


def _group_spans(groups: Iterable[OrgUnit]) -> list[GroupSpan]:
    ordered = sorted(groups, key=lambda g: (g.sort_order, g.name, g.pk))
    return [(g.pk, g.established_on, g.dissolved_on) for g in ordered]


def _requirement_keys(branch: OrgUnit, month: datetime.date, end: datetime.date, groups: list[GroupSpan]) -> list[Key]:
    """The one definition of what is required of ``branch`` in ``month`` (ending on
    ``end``), as keys; ``groups`` are the branch's party groups in order. Plain tuples
    and no queries: the matrix calls this for every branch and month."""
    if branch.kind != OrgUnit.Kind.BRANCH or not _exists_in(branch, month, end):
        return []
    keys: list[Key] = [(ActivityKind.COMMITTEE_MEETING, None, month)]
    keys += [
        (ActivityKind.GROUP_MEETING, pk, month)
        for pk, established_on, dissolved_on in groups
        if (established_on is None or established_on <= end) and (dissolved_on is None or dissolved_on >= month)
    ]
    keys.append((ActivityKind.THEMED_DAY, None, month))
    if is_quarter_end(month):
        start = quarter_start(month)
        keys += [(kind, None, start) for kind in QUARTERLY_KINDS]
    return keys


def month_requirements(*, branch: OrgUnit, month: datetime.date, groups: Iterable[OrgUnit]) -> list[Requirement]:
    """What ``branch`` must hold in ``month``. ``groups`` are the branch's party groups
    (any; those that did not exist in the month are left out here). The caller checks
    that the month is tracked (``month_tracked``)."""
    month = first_of_month(month)
    by_id = {g.pk: g for g in groups}
    return [
        Requirement(kind, month, by_id.get(group_id))
        for kind, group_id, _start in _requirement_keys(branch, month, month_end(month), _group_spans(by_id.values()))
    ]


def _activity_key(kind: str, group_id: int | None, month: datetime.date) -> Key:
    """The requirement key an activity of ``kind`` held in ``month`` meets."""
    if kind in QUARTERLY_KINDS:
        return (kind, None, quarter_start(month))
    if kind == ActivityKind.GROUP_MEETING:
        return (kind, group_id, month)
    return (kind, None, month)


def _status(requirement: Requirement, met: bool, today: datetime.date) -> str:
    if met:
        return Status.MET
    return Status.MISSING if requirement.is_due(today) else Status.NOT_DUE


# --- one branch, one month -----------------------------------------------------------------


@dataclass
class ComplianceItem:
    requirement: Requirement
    status: str
    activities: list[Activity] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.requirement.label

    @property
    def group(self) -> OrgUnit | None:
        return self.requirement.group

    @property
    def status_label(self) -> str:
        return Status(self.status).label


def branch_month_compliance(
    *, branch: OrgUnit, month: datetime.date, today: datetime.date | None = None
) -> list[ComplianceItem]:
    """Each requirement of ``branch`` in ``month``, its status and the held activities
    that met it (oldest first); nothing in a month that is not tracked. Three queries:
    the first tracked month, the groups and the activities."""
    today = today or timezone.localdate()
    month = first_of_month(month)
    if not month_tracked(unit=branch, month=month):
        return []
    groups = OrgUnit.objects.filter(parent=branch, kind=OrgUnit.Kind.GROUP)
    requirements = month_requirements(branch=branch, month=month, groups=groups)
    if not requirements:
        return []
    activities = (
        Activity.objects.filter(
            branch=branch,
            status=Activity.Status.HELD,
            kind__in=REQUIRED_KINDS,
            date__gte=min(r.period_start for r in requirements),
            date__lte=month_end(month),
        )
        .select_related("group")
        .order_by("date", "pk")
    )
    by_key: dict[tuple, list[Activity]] = defaultdict(list)
    for activity in activities:
        by_key[_activity_key(activity.kind, activity.group_id, first_of_month(activity.date))].append(activity)
    items = []
    for requirement in requirements:
        met_by = by_key.get(requirement.key(), [])
        items.append(ComplianceItem(requirement, _status(requirement, bool(met_by), today), met_by))
    return items


# --- the matrix: many branches × many months ----------------------------------------------


@dataclass
class MatrixCell:
    branch_id: int
    month: datetime.date
    required: int = 0
    met: int = 0
    not_due: int = 0
    missing_requirements: list[Requirement] = field(default_factory=list)
    tracked: bool = True

    @property
    def missing(self) -> int:
        return len(self.missing_requirements)

    @property
    def missing_labels(self) -> list[str]:
        return [requirement.label for requirement in self.missing_requirements]

    @property
    def state(self) -> str:
        if not self.tracked:
            return CellState.NOT_TRACKED
        if self.required == 0:
            return CellState.NONE
        if self.met == self.required:
            return CellState.MET
        if self.not_due:
            return CellState.NOT_DUE
        return CellState.PARTIAL if self.met else CellState.MISSING

    @property
    def state_label(self) -> str:
        return CellState(self.state).label

    @property
    def is_compliant(self) -> bool:
        """Nothing is missing (yet)."""
        return not self.missing_requirements


def compliance_matrix(
    *, branches: list[OrgUnit], months: list[datetime.date], today: datetime.date | None = None
) -> dict[tuple[int, datetime.date], MatrixCell]:
    """``(branch_id, month) → cell`` for every branch and month, in three queries however
    many there are: the distinct (branch, kind, group, month) of held required
    activities over the whole range, the branches' party groups and the first tracked
    month of their committees. The Python that follows is O(branches × months ×
    requirements) set lookups, nothing per activity. A month before the branch's first
    tracked month requires nothing and is marked not tracked."""
    today = today or timezone.localdate()
    months = sorted({first_of_month(m) for m in months})
    branch_ids = [b.pk for b in branches]
    if not branch_ids or not months:
        return {}
    start = min(quarter_start(m) for m in months)
    end = month_end(months[-1])
    rows = (
        Activity.objects.filter(
            branch_id__in=branch_ids,
            status=Activity.Status.HELD,
            kind__in=REQUIRED_KINDS,
            date__gte=start,
            date__lte=end,
        )
        .annotate(month=TruncMonth("date"))
        .values_list("branch_id", "kind", "group_id", "month")
        .order_by()
        .distinct()
    )
    held: dict[int, set[Key]] = defaultdict(set)
    for branch_id, kind, group_id, month in rows:
        held[branch_id].add(_activity_key(kind, group_id, month))
    groups_by_branch: dict[int, list[OrgUnit]] = defaultdict(list)
    groups = OrgUnit.objects.filter(
        Q(dissolved_on__isnull=True) | Q(dissolved_on__gte=months[0]),
        Q(established_on__isnull=True) | Q(established_on__lte=end),
        kind=OrgUnit.Kind.GROUP,
        parent_id__in=branch_ids,
    ).only("parent_id", "name", "sort_order", "established_on", "dissolved_on")
    for group in groups:
        groups_by_branch[group.parent_id].append(group)

    tracked_from = tracked_from_for(units=branches)
    # Every requirement of a month ends with the month.
    periods = [(month, month_end(month), today > month_end(month)) for month in months]
    cells = {}
    for branch in branches:
        branch_held = held.get(branch.pk, set())
        group_by_id = {g.pk: g for g in groups_by_branch.get(branch.pk, [])}
        spans = _group_spans(group_by_id.values())
        for month, last_day, due in periods:
            if not is_tracked(tracked_from=tracked_from[branch.pk], month=month):
                cells[(branch.pk, month)] = MatrixCell(branch.pk, month, tracked=False)
                continue
            cell = MatrixCell(branch.pk, month)
            for key in _requirement_keys(branch, month, last_day, spans):
                cell.required += 1
                if key in branch_held:
                    cell.met += 1
                elif due:
                    cell.missing_requirements.append(Requirement(key[0], month, group_by_id.get(key[1])))
                else:
                    cell.not_due += 1
            cells[(branch.pk, month)] = cell
    return cells


def year_months(year: int) -> list[datetime.date]:
    return [datetime.date(year, m, 1) for m in range(1, 13)]


@dataclass(frozen=True)
class BranchEntry:
    branch: OrgUnit
    committee: OrgUnit | None  # the nearest party committee: the heading it is listed under


def branches_under(*, unit: OrgUnit, year: int) -> list[BranchEntry]:
    """The party branches of ``unit``'s subtree that existed in ``year``, grouped by
    their nearest committee (committees in tree order) and in tree order within it.
    Two or three queries however many branches: the subtree and the committees above."""
    start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    units = tree_order(list(unit_subtree(unit=unit).exclude(kind=OrgUnit.Kind.GROUP)))
    position = {u.pk: i for i, u in enumerate(units)}
    branches = [u for u in units if u.kind == OrgUnit.Kind.BRANCH and _exists_in(u, start, end)]
    committees = committees_for(units=branches) if branches else {}

    def order(branch: OrgUnit) -> tuple[int, int]:
        committee = committees.get(branch.pk)
        # A committee above ``unit`` heads everything it has here: it goes first.
        return (position.get(committee.pk, -1) if committee else -1, position[branch.pk])

    return [BranchEntry(b, committees.get(b.pk)) for b in sorted(branches, key=order)]


# --- training hours ------------------------------------------------------------------------


def member_training_hours(*, members: QuerySet | Iterable[int], year: int) -> dict[int, Decimal]:
    """Class hours per member in ``year``: held training and Party lectures the member
    attended (present or late), wherever they were held. One GROUP BY; a member who
    attended none is absent from the result (zero hours)."""
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
    )
    return {row["member_id"]: (row["hours"] or ZERO).quantize(ONE_PLACE) for row in rows}


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


@dataclass
class TrainingRow:
    member: Member
    hours: Decimal
    requirement: Decimal | None

    @property
    def shortfall(self) -> Decimal:
        if self.requirement is None:
            return ZERO
        return max(self.requirement - self.hours, ZERO)

    @property
    def behind(self) -> bool:
        return self.shortfall > 0


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

    @property
    def behind(self) -> list[TrainingRow]:
        return [row for row in self.rows if row.behind]

    @property
    def total_hours(self) -> Decimal:
        return sum((row.hours for row in self.rows), ZERO)


def branch_training_report(*, branch: OrgUnit, year: int, today: datetime.date | None = None) -> TrainingReport:
    """The branch's members (at the end of ``year``, or today for the year in progress)
    with their class hours against the yearly requirement of the rule set version in
    force then; those behind first."""
    today = today or timezone.localdate()
    on_date = training_reference_date(year=year, today=today)
    try:
        yearly = rule_version_for(unit=branch, month=first_of_month(on_date)).yearly_training_hours
    except ValidationError:
        yearly = None
    tracked = tracked_months_in_year(tracked_from=tracked_from_for(units=[branch])[branch.pk], year=year)
    requirement = prorated_requirement(yearly=yearly, tracked_months=tracked)
    members_at = members_of_branch_at(branch=branch, on_date=on_date)
    members = list(members_at.order_by("employee_no"))
    hours = member_training_hours(members=members_at, year=year)
    rows = [TrainingRow(member, hours.get(member.pk, ZERO), requirement) for member in members]
    return TrainingReport(branch, year, on_date, requirement, _sort_rows(rows), tracked)


@dataclass
class BranchTrainingSummary:
    branch: OrgUnit
    requirement: Decimal | None
    tracked_months: int = 12
    members: int = 0
    total_hours: Decimal = ZERO
    behind: list[TrainingRow] = field(default_factory=list)

    @property
    def behind_count(self) -> int:
        return len(self.behind)


def committee_training_summary(
    *, branches: list[OrgUnit], year: int, today: datetime.date | None = None
) -> dict[int, BranchTrainingSummary]:
    """Per branch: its members (as in ``branch_training_report``), how many are behind
    the requirement — and who, furthest behind first — and their total class hours.
    Five queries however many branches: memberships, hours, the rule sets and the
    first tracked months."""
    today = today or timezone.localdate()
    on_date = training_reference_date(year=year, today=today)
    versions = rule_versions_for(units=branches, month=on_date)
    tracked_from = tracked_from_for(units=branches)
    summaries = {}
    for branch in branches:
        version = versions.get(branch.pk)
        tracked = tracked_months_in_year(tracked_from=tracked_from[branch.pk], year=year)
        requirement = prorated_requirement(
            yearly=version.yearly_training_hours if version else None, tracked_months=tracked
        )
        summaries[branch.pk] = BranchTrainingSummary(branch, requirement, tracked_months=tracked)
    periods = (
        Membership.objects.filter(branch__in=[b.pk for b in branches], started_on__lte=on_date)
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gt=on_date))
        .select_related("member")
        .order_by()
    )
    hours = member_training_hours(members=periods.values("member_id"), year=year)
    rows: dict[int, list[TrainingRow]] = defaultdict(list)
    for period in periods:
        branch_id, member = period.branch_id, period.member
        summary = summaries[branch_id]
        row = TrainingRow(member, hours.get(member.pk, ZERO), summary.requirement)
        summary.members += 1
        summary.total_hours += row.hours
        if row.behind:
            rows[branch_id].append(row)
    for branch_id, behind in rows.items():
        summaries[branch_id].behind = _sort_rows(behind)
    return summaries
