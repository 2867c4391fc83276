"""Reads of the party-group boards (星级党小组): a committee's month, one group's numbers,
a branch's groups, and the year.

Like the branch boards (``boards.py``) everything works on a *source*: a published
version (``Publication``) or the committee's draft (``boards.Draft``), whose group rows
(``PublishedGroupScore`` / ``GroupScore``) have the same columns. Every function reads
a fixed number of queries however many groups there are.

The year: a group's stars for a year come from the mean of its published monthly
scores (the latest version of each month, tracked months only), rounded half-up to two
places, against the group bands of the version that rates the committee's year
(``annual.annual_version``, the one member stars use).
"""

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from branches.activities.models import Activity
from branches.choices import ActivityKind, AttendanceStatus
from branches.models import OrgUnit
from members.ledger.models import RuleSetVersion
from members.models import Membership

from . import annual
from .boards import Draft, OnSource, Source, member_scores, publications
from .engine import FOUR_PLACES, exact_quantize, half_up, month_end
from .groups import (
    GroupRequirement,
    attendance_half,
    compliance_half,
    group_bands,
    group_requirement,
    group_stars,
)
from .models import GroupScore, Publication, PublishedGroupScore

# Branches and groups in the order of the committee's grid: sort order, then code.
ORDERS = {
    "rank": ("rank", "branch__sort_order", "branch__code", "group__sort_order", "group__code", "group_id"),
    "branch": ("branch__sort_order", "branch__code", "branch_id", "rank", "group__sort_order", "group__code"),
}
ORDER_LABELS = {"rank": _("by rank"), "branch": _("by branch")}


def group_scores(source: Source) -> QuerySet:
    """The group rows of a source (``GroupScore`` or ``PublishedGroupScore``)."""
    if isinstance(source, Draft):
        return GroupScore.objects.filter(committee=source.committee, month=source.month)
    return PublishedGroupScore.objects.filter(publication=source)


def source_version(source: Source) -> RuleSetVersion | None:
    """The rule set version that graded a source (its weights and bands). One query for a
    draft; none for a publication read with ``boards.publications``."""
    if isinstance(source, Draft):
        row = group_scores(source).select_related("run__rule_version__rule_set").first()
        return row.run.rule_version if row is not None else None
    return source.run.rule_version


# --- the board of a month ---------------------------------------------------------------


@dataclass
class GroupBoard(OnSource):
    committee: OrgUnit
    month: datetime.date
    source: Source | None  # None: nothing published (and no draft asked for)
    rows: list = field(default_factory=list)
    versions: list[Publication] = field(default_factory=list)
    version: RuleSetVersion | None = None
    graded: int = 0  # groups on the board (all branches)
    branch: OrgUnit | None = None  # the branch the rows are limited to
    order: str = "rank"

    @property
    def bands(self) -> list[tuple[int, Decimal]]:
        return group_bands(self.version) if self.version else []

    @property
    def branches(self) -> list[OrgUnit]:
        """The branches of the rows, in board order, each once."""
        seen: dict[int, OrgUnit] = {}
        for row in self.rows:
            seen.setdefault(row.branch_id, row.branch)
        return list(seen.values())


def group_board(
    committee: OrgUnit,
    month: datetime.date,
    *,
    draft: bool,
    version: int | None = None,
    branch: OrgUnit | None = None,
    order: str = "rank",
) -> GroupBoard:
    """The group board of ``committee``'s ``month``: the draft, the published
    ``version`` or the latest published one; with ``branch``, that branch's groups only
    (their ranks stay the committee's). Three or four queries however many groups."""
    month = month.replace(day=1)
    order = order if order in ORDERS else "rank"
    versions = publications(committee=committee, month=month)
    source: Source | None
    if draft:
        source = Draft(committee, month)
    elif version is not None:
        source = next((p for p in versions if p.version == version), None)
    else:
        source = versions[0] if versions else None
    result = GroupBoard(committee, month, source, versions=versions, branch=branch, order=order)
    if source is None:
        return result
    rows = group_scores(source)
    result.graded = rows.count()
    if branch is not None:
        rows = rows.filter(branch=branch)
    related = ["group", "branch", *(["run__rule_version__rule_set"] if isinstance(source, Draft) else [])]
    result.rows = list(rows.select_related(*related).order_by(*ORDERS[order]))
    if isinstance(source, Draft):
        result.version = result.rows[0].run.rule_version if result.rows else source_version(source)
    else:
        result.version = source.run.rule_version
    return result


def branch_group_rows(source: Source, branch: OrgUnit) -> tuple[list, int]:
    """The groups of ``branch`` on a board, best first, and how many groups the board
    ranks in all. Two queries."""
    rows = group_scores(source)
    graded = rows.count()
    return list(rows.filter(branch=branch).select_related("group").order_by(*ORDERS["rank"])), graded


# --- one group's numbers ------------------------------------------------------------------


@dataclass
class Meeting:
    """A 党小组会 of the group and its attendance."""

    activity: Activity
    present: int
    late: int
    absent: int
    excused: int
    in_month: bool  # held in the graded month: its attendance counts

    @property
    def expected(self) -> int:
        return self.present + self.late + self.absent

    @property
    def attended(self) -> int:
        return self.present + self.late


@dataclass
class GroupExplanation:
    committee: OrgUnit
    month: datetime.date
    source: Source
    score: GroupScore | PublishedGroupScore
    version: RuleSetVersion | None
    requirement: GroupRequirement | None
    members: list  # the member rows of the source, for the group's members at month end
    meetings: list[Meeting]
    highest: GroupScore | PublishedGroupScore | None  # the group with the committee's highest mean
    graded: int  # groups ranked

    @property
    def group(self) -> OrgUnit:
        return self.score.group

    @property
    def is_draft(self) -> bool:
        return isinstance(self.source, Draft)

    @property
    def compliance_half(self) -> Decimal | None:
        half = compliance_half(self.score.meetings_required, self.score.meetings_held)
        return None if half is None else exact_quantize(half, FOUR_PLACES)

    @property
    def attendance_half(self) -> Decimal:
        return exact_quantize(attendance_half(self.score.attended, self.score.expected), FOUR_PLACES)

    @property
    def weight_points(self) -> Decimal | None:
        return self.version.group_weight_points if self.version else None

    @property
    def weight_meetings(self) -> Decimal | None:
        return self.version.group_weight_meetings if self.version else None

    @property
    def weight_sum(self) -> Decimal | None:
        return self.version.group_weight_points + self.version.group_weight_meetings if self.version else None

    @property
    def bands(self) -> list[tuple[int, Decimal]]:
        return group_bands(self.version) if self.version else []

    @property
    def members_sum(self) -> Decimal:
        return sum((m.total for m in self.members), Decimal("0"))

    @property
    def members_changed(self) -> bool:
        """Today's membership records differ from what the grading read (a placement
        recorded afterwards with an earlier date): the list below is today's."""
        mean = Fraction(self.members_sum) / len(self.members) if self.members else Fraction(0)
        return (len(self.members), exact_quantize(mean, FOUR_PLACES)) != (self.score.members, self.score.member_mean)

    @property
    def meetings_in_month(self) -> list[Meeting]:
        return [m for m in self.meetings if m.in_month]


def _status_counts() -> dict:
    return {
        status: Count("attendances", filter=Q(attendances__status=status))
        for status in (
            AttendanceStatus.PRESENT,
            AttendanceStatus.LATE,
            AttendanceStatus.ABSENT,
            AttendanceStatus.EXCUSED,
        )
    }


def group_members_at(*, group: OrgUnit, on_date: datetime.date) -> QuerySet:
    """The member ids of ``group`` on ``on_date`` (periods are half-open)."""
    return (
        Membership.objects.filter(group=group, started_on__lte=on_date)
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gt=on_date))
        .values("member_id")
    )


def group_explanation(source: Source, group: OrgUnit) -> GroupExplanation | None:
    """Everything behind one group's numbers on a board, or None when it is not on it.
    A fixed number of queries: the row (with its run and version), the requirement, the
    members' totals, the meetings with their attendance, the highest mean, the count."""
    related = ["group", "branch", *(["run__rule_version__rule_set"] if isinstance(source, Draft) else [])]
    score = group_scores(source).filter(group=group).select_related(*related).first()
    if score is None:
        return None
    month = source.month
    end = month_end(month)
    version = score.run.rule_version if isinstance(source, Draft) else source.run.rule_version
    requirement = group_requirement(version=version, month=month) if version else None
    members = list(
        member_scores(source)
        .filter(member_id__in=group_members_at(group=group, on_date=end))
        .select_related("member")
        .order_by("-total", "member__name", "member_id")
    )
    start = requirement.period_start if requirement and requirement.due else month
    activities = (
        Activity.objects.filter(
            group=group,
            kind=ActivityKind.GROUP_MEETING,
            status=Activity.Status.HELD,
            date__gte=min(start, month),
            date__lte=end,
        )
        .annotate(**{f"n_{status}": count for status, count in _status_counts().items()})
        .order_by("date", "pk")
    )
    meetings = [
        Meeting(a, a.n_present, a.n_late, a.n_absent, a.n_excused, in_month=a.date >= month) for a in activities
    ]
    highest = group_scores(source).select_related("group").order_by("-member_mean", "group__name", "group_id").first()
    return GroupExplanation(
        committee=source.committee,
        month=month,
        source=source,
        score=score,
        version=version,
        requirement=requirement,
        members=members,
        meetings=meetings,
        highest=highest if highest is not None and highest.member_mean > 0 else None,
        graded=group_scores(source).count(),
    )


# --- the year -------------------------------------------------------------------------------


@dataclass
class GroupYear:
    """One group's year as its published boards have it."""

    group: OrgUnit
    branch: OrgUnit
    committee_id: int  # the committee that graded its latest published month
    scores: dict[datetime.date, PublishedGroupScore] = field(default_factory=dict)
    stars: int | None = None  # the year's, from ``mean``; None: nothing published

    @property
    def months(self) -> int:
        return len(self.scores)

    @property
    def mean(self) -> Decimal | None:
        """The mean of the published monthly scores, half-up to cents."""
        if not self.scores:
            return None
        return half_up(sum((Fraction(s.score) for s in self.scores.values()), Fraction(0)) / len(self.scores))

    def monthly(self, months: Iterable[datetime.date]) -> list[PublishedGroupScore | None]:
        return [self.scores.get(month) for month in months]


def group_year_rows(*, publication_ids: list[int], version_for: Callable[[int], RuleSetVersion]) -> list[GroupYear]:
    """Per group, its published months among ``publication_ids`` (one of each month:
    the caller passes the latest versions) and its year stars by the bands of
    ``version_for(committee id)``. One query, then Python over one row per group and
    month; groups in tree order (branch, then group)."""
    rows = (
        PublishedGroupScore.objects.filter(publication_id__in=publication_ids)
        .select_related("group", "branch", "publication")
        .order_by("publication__month", "pk")
    )
    years: dict[int, GroupYear] = {}
    for row in rows:
        year = years.get(row.group_id)
        if year is None:
            year = years[row.group_id] = GroupYear(row.group, row.branch, row.publication.committee_id)
        year.scores[row.publication.month] = row
        # The latest month's branch and committee (a group moved in the year is listed once).
        year.branch, year.committee_id = row.branch, row.publication.committee_id
    result = sorted(
        years.values(),
        key=lambda y: (y.branch.sort_order, y.branch.code, y.group.sort_order, y.group.code, y.group.pk),
    )
    for year in result:
        year.stars = group_stars(year.mean, version_for(year.committee_id))
    return result


@dataclass
class GroupYearPage:
    committee: OrgUnit
    year: int
    version: RuleSetVersion
    rows: list[GroupYear]

    @property
    def months(self) -> list[datetime.date]:
        return [datetime.date(self.year, m, 1) for m in range(1, 13)]

    @property
    def bands(self) -> list[tuple[int, Decimal]]:
        return group_bands(self.version)


def committee_group_year(*, committee: OrgUnit, year: int) -> GroupYearPage:
    """The groups a committee graded in ``year``, best year mean first. A handful of
    queries: the latest publications, the version, the rows."""
    version = annual.annual_version(committee=committee, year=year)
    ids = list(annual.latest_publications(committee=committee, year=year).values_list("pk", flat=True))
    rows = group_year_rows(publication_ids=ids, version_for=lambda _committee_id: version)
    rows.sort(key=lambda y: -(y.mean or Decimal("-1")))  # stable: tree order among equals
    return GroupYearPage(committee=committee, year=year, version=version, rows=rows)
