"""三会一课 落实: compliance with the required activities, computed from the logged
activities, never typed in.

What is required comes from the rule-set version in force for the branch and month
(``MeetingRequirement`` rows, PRODUCT.md appendix by default): a monthly requirement is
due every month, a quarterly one in the quarter's last month and met by an activity
held at any time in the quarter, a yearly one in its due month and met by an activity
held from January 1 to the end of that month. A requirement "per party group" is due
once for each group of the branch. Each counts in the month it is due (and so in that
month's 基础工作), once however often it was met; cancelled activities count for
nothing. Every requirement of a month ends with the month, so a month that has not
ended yet is "not yet due" for what is still unmet (what is met is met).

The 主题党日 is held on the version's day of the month (the last day in a shorter
month). One held on another day still meets the requirement where the version says so
(and the pages show it was not on the day); otherwise it does not count.

The matrix reads a fixed number of queries however many branches and months it covers:
the versions in force and their requirements, one aggregate over activities and one
query per kind of supporting row, then Python over O(branches × months × requirements)
cells.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import reduce
from operator import or_
from typing import NamedTuple

from django.db import models
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import ExtractDay, TruncMonth
from django.utils import dateformat, timezone
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from branches.choices import ActivityKind
from branches.models import OrgUnit
from branches.selectors import (
    committees_for,
    is_tracked,
    month_tracked,
    tracked_from_for,
    tree_order,
    unit_subtree,
)
from branches.services import month_label
from members.ledger.models import Frequency, MeetingRequirement, RuleSetVersion
from members.ledger.services import rule_versions_by_month

from ..models import Activity

# Kinds held on a set day of the month (the version's ``themed_day``).
DAY_RULED_KINDS = (ActivityKind.THEMED_DAY,)


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


def set_day_in(month: datetime.date, day: int) -> int:
    """The set day of ``month``: ``day``, or the month's last day in a shorter month."""
    return min(day, month_end(month).day)


def day_label(day: datetime.date) -> str:
    """A day without its year as the active language writes it: "10月18日", "October 18"."""
    return dateformat.format(day, pgettext("month and day format", "F j"))


def _exists_in(unit: OrgUnit, start: datetime.date, end: datetime.date) -> bool:
    """Whether ``unit`` existed at some time in ``[start, end]``."""
    if unit.established_on is not None and unit.established_on > end:
        return False
    return unit.dissolved_on is None or unit.dissolved_on >= start


# --- the requirements of a version --------------------------------------------------


class Spec(NamedTuple):
    """One ``MeetingRequirement`` row as plain values: the matrix looks at it for every
    branch and month."""

    kind: str
    frequency: str
    per_group: bool
    due_month: int | None

    def period_start(self, month: datetime.date) -> datetime.date | None:
        """The first month of the period this requirement covers when it is due in
        ``month``; None when it is not due in ``month``."""
        if self.frequency == Frequency.QUARTERLY:
            return quarter_start(month) if is_quarter_end(month) else None
        if self.frequency == Frequency.YEARLY:
            return month.replace(month=1) if month.month == self.due_month else None
        return month


@dataclass(frozen=True, eq=False)
class Scheme:
    """What one rule-set version requires: its meeting requirements in order and the
    themed day's rule. One object per version, shared by every branch-month under it."""

    specs: tuple[Spec, ...]
    themed_day: int = 21
    elsewhere_counts: bool = True

    def strict_day(self, kind: str) -> int | None:
        """The day of the month an activity of ``kind`` must be held on to count (the
        month's last day in a shorter month), or None when any day counts."""
        return self.themed_day if kind in DAY_RULED_KINDS and not self.elsewhere_counts else None


def schemes_for(*, units: list[OrgUnit], months: list[datetime.date]) -> dict[tuple[int, datetime.date], Scheme | None]:
    """``(unit id, month) → Scheme`` of the version in force (None where none is), in
    three queries however many units and months: the rule sets, their versions and all
    those versions' requirements."""
    versions = rule_versions_by_month(units=units, months=months)
    return _schemes(versions)


def scheme_of(version: RuleSetVersion) -> Scheme:
    """The ``Scheme`` of one known version (one query: its requirements)."""
    return _schemes({None: version})[None]


def _schemes(versions: dict) -> dict:
    """The same keys, each version replaced by its ``Scheme`` (one query for all their
    requirements, none when there is no version)."""
    in_play = {v.pk: v for v in versions.values() if v is not None}
    specs: dict[int, list[Spec]] = defaultdict(list)
    if in_play:
        rows = (
            MeetingRequirement.objects.filter(version_id__in=in_play)
            .order_by("version_id", "sort_order", "pk")
            .values_list("version_id", "kind", "frequency", "per_group", "due_month")
        )
        for version_id, *row in rows:
            specs[version_id].append(Spec(*row))
    schemes = {pk: Scheme(tuple(specs[pk]), v.themed_day, v.themed_day_elsewhere_counts) for pk, v in in_play.items()}
    return {key: schemes[v.pk] if v is not None else None for key, v in versions.items()}


# A party group as the requirements see it: id, established on, dissolved on.
GroupSpan = tuple[int, datetime.date | None, datetime.date | None]
# A requirement due in a month, as plain values: the row, its party group (per-group
# requirements) and the first month of its period.
Due = tuple[Spec, int | None, datetime.date]


def _group_spans(groups: Iterable[OrgUnit]) -> list[GroupSpan]:
    ordered = sorted(groups, key=lambda g: (g.sort_order, g.name, g.pk))
    return [(g.pk, g.established_on, g.dissolved_on) for g in ordered]


def _due(
    scheme: Scheme | None, month: datetime.date, end: datetime.date, groups: list[GroupSpan], *, groups_only=False
) -> list[Due]:
    """The one definition of what is due in ``month`` (ending on ``end``) under
    ``scheme``; ``groups`` are the party groups (in order), each owing the per-group
    requirements in a month it existed in. With ``groups_only``, only those. No queries:
    the matrix calls this for every branch and month."""
    if scheme is None:
        return []
    due: list[Due] = []
    for spec in scheme.specs:
        start = spec.period_start(month)
        if start is None or (groups_only and not spec.per_group):
            continue
        if spec.per_group:
            due += [
                (spec, pk, start)
                for pk, established_on, dissolved_on in groups
                if (established_on is None or established_on <= end) and (dissolved_on is None or dissolved_on >= month)
            ]
        else:
            due.append((spec, None, start))
    return due


def _branch_due(
    branch: OrgUnit, scheme: Scheme | None, month: datetime.date, end: datetime.date, groups: list[GroupSpan]
) -> list[Due]:
    if branch.kind != OrgUnit.Kind.BRANCH or not _exists_in(branch, month, end):
        return []
    return _due(scheme, month, end, groups)


@dataclass(frozen=True)
class Requirement:
    kind: str
    month: datetime.date  # the month it is due in (and counts in)
    group: OrgUnit | None = None
    frequency: str = Frequency.MONTHLY
    start: datetime.date | None = None  # the first month of its period; None: ``month``
    # For a kind held on a set day: the version's day, and whether another day counts.
    themed_day: int | None = None
    elsewhere_counts: bool = True

    @property
    def quarterly(self) -> bool:
        return self.frequency == Frequency.QUARTERLY

    @property
    def yearly(self) -> bool:
        return self.frequency == Frequency.YEARLY

    @property
    def period_start(self) -> datetime.date:
        return self.start or self.month

    @property
    def period_end(self) -> datetime.date:
        return month_end(self.month)

    @property
    def label(self) -> str:
        label = str(ActivityKind(self.kind).label)
        return f"{label} · {self.group.name}" if self.group is not None else label

    @property
    def rule_note(self) -> str:
        """When it may be held, where that is not simply "this month"."""
        notes = []
        if self.period_start != self.month:
            notes.append(
                gettext("any time from %(start)s to %(end)s")
                % {"start": month_label(self.period_start), "end": month_label(self.month)}
            )
        if self.themed_day is not None:
            day = set_day_in(self.month, self.themed_day)
            if self.elsewhere_counts:
                notes.append(gettext("set for day %(day)s; another day also counts") % {"day": day})
            else:
                notes.append(gettext("only on day %(day)s") % {"day": day})
        return gettext("; ").join(notes)

    def is_due(self, today: datetime.date) -> bool:
        return today > self.period_end


def _requirement(spec: Spec, month: datetime.date, group: OrgUnit | None, start, scheme: Scheme) -> Requirement:
    return Requirement(
        spec.kind,
        month,
        group,
        spec.frequency,
        start if start != month else None,
        scheme.themed_day if spec.kind in DAY_RULED_KINDS else None,
        scheme.elsewhere_counts,
    )


def month_requirements(
    *, branch: OrgUnit, month: datetime.date, groups: Iterable[OrgUnit], scheme: Scheme | None
) -> list[Requirement]:
    """What ``branch`` must hold in ``month`` under ``scheme`` (``schemes_for``).
    ``groups`` are the branch's party groups (any; those that did not exist in the month
    are left out here). The caller checks that the month is tracked (``month_tracked``)."""
    month = first_of_month(month)
    by_id = {g.pk: g for g in groups}
    due = _branch_due(branch, scheme, month, month_end(month), _group_spans(by_id.values()))
    return [_requirement(spec, month, by_id.get(group_id), start, scheme) for spec, group_id, start in due]


def _status(requirement: Requirement, met: bool, today: datetime.date) -> str:
    if met:
        return Status.MET
    return Status.MISSING if requirement.is_due(today) else Status.NOT_DUE


# --- what was held, as the requirements see it -----------------------------------------


class Held:
    """What one branch (or party group) held: per (kind, party group) — and per (kind,
    None) for the whole branch — the months with a held activity, and for a kind held on
    a set day, the days of each month it was held on."""

    __slots__ = ("months", "days")

    def __init__(self) -> None:
        self.months: dict[tuple[str, int | None], set[datetime.date]] = {}
        self.days: dict[tuple[str, int | None, datetime.date], set[int]] = {}

    def add(self, kind: str, group_id: int | None, month: datetime.date, day: int | None) -> None:
        months, days = self.months, self.days
        for group in (None, group_id) if group_id is not None else (None,):
            held = months.get((kind, group))
            if held is None:
                months[(kind, group)] = {month}
            else:
                held.add(month)
            if day is not None:
                days.setdefault((kind, group, month), set()).add(day)

    def _on_day(self, kind: str, group_id: int | None, held: datetime.date, day: int) -> bool:
        return set_day_in(held, day) in self.days.get((kind, group_id, held), ())

    def met(self, due: Due, month: datetime.date, scheme: Scheme) -> bool:
        spec, group_id, start = due
        held_months = self.months.get((spec.kind, group_id))
        if not held_months:
            return False
        strict = scheme.strict_day(spec.kind)
        if strict is None and start == month:
            return month in held_months
        for held in held_months:
            if start <= held <= month and (strict is None or self._on_day(spec.kind, group_id, held, strict)):
                return True
        return False

    def only_off_day(self, due: Due, month: datetime.date, scheme: Scheme) -> bool:
        """Whether a met requirement of a kind held on a set day was met only on other
        days (which count under ``scheme``): the pages say so."""
        spec, group_id, start = due
        if spec.kind not in DAY_RULED_KINDS:
            return False
        held = [m for m in self.months.get((spec.kind, group_id), ()) if start <= m <= month]
        return not any(self._on_day(spec.kind, group_id, m, scheme.themed_day) for m in held)


NOTHING_HELD = Held()


def _held_rows(*, schemes: Iterable[tuple[Scheme | None, datetime.date]], end: datetime.date, **where) -> QuerySet:
    """The distinct (branch, group, kind, month, set-day day) of held activities that
    could meet a requirement of ``schemes`` (each with a month it is in force in): one
    aggregate, each kind read from the earliest month any of its requirements reaches
    back to. ``where`` narrows it to branches or groups; no rows when nothing is required."""
    starts: dict[str, datetime.date] = {}
    for scheme, month in schemes:
        for spec in scheme.specs if scheme else ():
            start = spec.period_start(month)
            if start is not None and (spec.kind not in starts or start < starts[spec.kind]):
                starts[spec.kind] = start
    if not starts:
        return Activity.objects.none()
    return (
        Activity.objects.filter(
            reduce(or_, (Q(kind=kind, date__gte=start) for kind, start in starts.items())),
            status=Activity.Status.HELD,
            date__lte=end,
            **where,
        )
        .annotate(
            month=TruncMonth("date"),
            day=Case(
                When(kind__in=DAY_RULED_KINDS, then=ExtractDay("date")),
                default=Value(None),
                output_field=IntegerField(),
            ),
        )
        .values_list("branch_id", "group_id", "kind", "month", "day")
        .order_by()
        .distinct()
    )


# --- one branch, one month -----------------------------------------------------------------


@dataclass(frozen=True)
class HeldActivity:
    """An activity held for a requirement: whether it counts, and for one held on
    another day than the set one, that day."""

    activity: Activity
    counts: bool = True
    set_day: int | None = None

    @property
    def off_day(self) -> bool:
        return self.set_day is not None

    @property
    def note(self) -> str:
        """ "10月18日举行（规定为21日）", with why it does not count where it does not."""
        if self.set_day is None:
            return ""
        values = {"date": day_label(self.activity.date), "day": self.set_day}
        if self.counts:
            return gettext("held on %(date)s (set for day %(day)s)") % values
        return gettext("held on %(date)s, not on the set day %(day)s: it does not count") % values


@dataclass
class ComplianceItem:
    requirement: Requirement
    status: str
    held: list[HeldActivity] = field(default_factory=list)

    @property
    def activities(self) -> list[Activity]:
        """The held activities that meet the requirement (oldest first)."""
        return [h.activity for h in self.held if h.counts]

    @property
    def not_counting(self) -> list[HeldActivity]:
        return [h for h in self.held if not h.counts]

    @property
    def only_off_day(self) -> bool:
        """Met, but only by activities held on another day than the set one."""
        counting = [h for h in self.held if h.counts]
        return bool(counting) and all(h.off_day for h in counting)

    @property
    def label(self) -> str:
        return self.requirement.label

    @property
    def group(self) -> OrgUnit | None:
        return self.requirement.group

    @property
    def status_label(self) -> str:
        return Status(self.status).label


def _held_for(requirement: Requirement, activities: list[Activity]) -> list[HeldActivity]:
    """The activities held for ``requirement`` in its period (kind, party group, dates),
    each with whether it counts: on the set day, or on another where that counts."""
    held = []
    for activity in activities:
        if activity.kind != requirement.kind or not (
            requirement.period_start <= activity.date <= requirement.period_end
        ):
            continue
        if requirement.group is not None and activity.group_id != requirement.group.pk:
            continue
        if requirement.themed_day is None:
            held.append(HeldActivity(activity))
            continue
        day = set_day_in(activity.date, requirement.themed_day)
        if activity.date.day == day:
            held.append(HeldActivity(activity))
        else:
            held.append(HeldActivity(activity, requirement.elsewhere_counts, day))
    return held


def branch_month_compliance(
    *,
    branch: OrgUnit,
    month: datetime.date,
    today: datetime.date | None = None,
    version: RuleSetVersion | None = None,
) -> list[ComplianceItem]:
    """Each requirement of ``branch`` in ``month``, its status and the held activities
    for it (oldest first, with those that do not count); nothing in a month that is not
    tracked. ``version``: the rule-set version to judge by (a grading run's), by default
    the one in force. Four queries and two more to find the version: the first tracked
    month, the version's requirements, the groups and the activities."""
    today = today or timezone.localdate()
    month = first_of_month(month)
    if not month_tracked(unit=branch, month=month):
        return []
    if version is not None:
        scheme = scheme_of(version)
    else:
        scheme = schemes_for(units=[branch], months=[month])[(branch.pk, month)]
    groups = OrgUnit.objects.filter(parent=branch, kind=OrgUnit.Kind.GROUP)
    requirements = month_requirements(branch=branch, month=month, groups=groups, scheme=scheme)
    if not requirements:
        return []
    activities = list(
        Activity.objects.filter(
            branch=branch,
            status=Activity.Status.HELD,
            kind__in={r.kind for r in requirements},
            date__gte=min(r.period_start for r in requirements),
            date__lte=month_end(month),
        )
        .select_related("group")
        .order_by("date", "pk")
    )
    items = []
    for requirement in requirements:
        held = _held_for(requirement, activities)
        met = any(h.counts for h in held)
        items.append(ComplianceItem(requirement, _status(requirement, met, today), held))
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
    # Met, but only by an activity held on another day than the set one (which counts).
    off_day_requirements: list[Requirement] = field(default_factory=list)

    @property
    def missing(self) -> int:
        return len(self.missing_requirements)

    @property
    def missing_labels(self) -> list[str]:
        return [requirement.label for requirement in self.missing_requirements]

    @property
    def off_day_labels(self) -> list[str]:
        return [requirement.label for requirement in self.off_day_requirements]

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
    *,
    branches: list[OrgUnit],
    months: list[datetime.date],
    today: datetime.date | None = None,
    version: RuleSetVersion | None = None,
) -> dict[tuple[int, datetime.date], MatrixCell]:
    """``(branch_id, month) → cell`` for every branch and month, in five queries however
    many there are: the versions in force (one) and their requirements, the distinct
    (branch, group, kind, month) of held activities that could meet one over the whole
    range, the branches' party groups and the first tracked month of their committees.
    The Python that follows is O(branches × months × requirements) set lookups, nothing
    per activity. A month before the branch's first tracked month requires nothing and
    is marked not tracked. ``version`` judges every cell by that rule-set version instead
    of the one in force (a grading run's, or a new version's impact preview)."""
    today = today or timezone.localdate()
    cells = {}
    made: dict[int, OrgUnit] = {}
    for branch_id, month, due, tracked, scheme, dues, branch_held, group_rows in _evaluated(
        branches=branches, months=months, today=today, version=version
    ):
        if not tracked:
            cells[(branch_id, month)] = MatrixCell(branch_id, month, tracked=False)
            continue
        cell = MatrixCell(branch_id, month, required=len(dues))
        cells[(branch_id, month)] = cell
        for requirement in dues:
            if branch_held.met(requirement, month, scheme):
                cell.met += 1
                if requirement[0].kind in DAY_RULED_KINDS and branch_held.only_off_day(requirement, month, scheme):
                    spec, group_id, start = requirement
                    group = _group_unit(group_id, group_rows, made)
                    cell.off_day_requirements.append(_requirement(spec, month, group, start, scheme))
            elif due:
                spec, group_id, start = requirement
                group = _group_unit(group_id, group_rows, made)
                cell.missing_requirements.append(_requirement(spec, month, group, start, scheme))
            else:
                cell.not_due += 1
    return cells


def compliant_branch_ids(
    *, branches: list[OrgUnit], months: list[datetime.date], today: datetime.date | None = None
) -> set[int]:
    """The ids of ``branches`` with nothing missing (yet) in ``months``: the cells of
    ``compliance_matrix`` that are all ``is_compliant``, by the same rules and queries,
    without building the cells (a summary over every branch of a tree)."""
    today = today or timezone.localdate()
    # Only a month that has ended can miss anything: the others are not read at all.
    ended = [m for m in months if today > month_end(first_of_month(m))]
    missed: set[int] = set()
    for branch_id, month, due, tracked, scheme, dues, branch_held, _groups in _evaluated(
        branches=branches, months=ended, today=today
    ):
        if not (due and tracked) or branch_id in missed:
            continue
        if not all(branch_held.met(requirement, month, scheme) for requirement in dues):
            missed.add(branch_id)
    return {b.pk for b in branches} - missed


def _group_unit(group_id: int | None, group_rows: dict[int, tuple], made: dict[int, OrgUnit]) -> OrgUnit | None:
    """The party group of a listed requirement, made from its row once."""
    if group_id is None or group_id not in group_rows:
        return None
    if group_id not in made:
        pk, parent_id, name, sort_order, established_on, dissolved_on = group_rows[group_id]
        made[group_id] = OrgUnit(
            pk=pk,
            parent_id=parent_id,
            name=name,
            sort_order=sort_order,
            established_on=established_on,
            dissolved_on=dissolved_on,
            kind=OrgUnit.Kind.GROUP,
        )
    return made[group_id]


def _evaluated(
    *,
    branches: list[OrgUnit],
    months: list[datetime.date],
    today: datetime.date,
    version: RuleSetVersion | None = None,
):
    """For every branch and month (months in order): ``(branch id, month, ended,
    tracked, scheme, the requirements due, what the branch held, the party groups' rows
    by id)``; nothing due where the unit is no branch or did not exist. The queries of
    ``compliance_matrix``; what is due is worked out once per scheme, month and set of
    party groups (the branches without groups share one list)."""
    months = sorted({first_of_month(m) for m in months})
    branch_ids = [b.pk for b in branches]
    if not branch_ids or not months:
        return
    end = month_end(months[-1])
    if version is not None:
        scheme = scheme_of(version)
        schemes = {(branch.pk, month): scheme for branch in branches for month in months}
    else:
        schemes = schemes_for(units=branches, months=months)
    in_play = {(scheme, month) for (_branch_id, month), scheme in schemes.items()}
    held: dict[int, Held] = defaultdict(Held)
    for branch_id, group_id, kind, month, day in _held_rows(schemes=in_play, end=end, branch_id__in=branch_ids):
        held[branch_id].add(kind, group_id, month, day)
    # The party groups as plain rows; an OrgUnit is made only for a requirement a cell
    # lists (missing, or met off the set day), so most are never built.
    by_branch: dict[int, list[tuple]] = defaultdict(list)
    groups = OrgUnit.objects.filter(
        Q(dissolved_on__isnull=True) | Q(dissolved_on__gte=months[0]),
        Q(established_on__isnull=True) | Q(established_on__lte=end),
        kind=OrgUnit.Kind.GROUP,
        parent_id__in=branch_ids,
    ).values_list("pk", "parent_id", "name", "sort_order", "established_on", "dissolved_on")
    for row in groups:
        by_branch[row[1]].append(row)
    group_rows = {row[0]: row for rows in by_branch.values() for row in rows}
    tracked_from = tracked_from_for(units=branches)
    # Every requirement of a month ends with the month.
    periods = [(month, month_end(month), today > month_end(month)) for month in months]
    due_lists: dict[tuple, list[Due]] = {}
    for branch in branches:
        branch_id = branch.pk
        branch_held = held.get(branch_id, NOTHING_HELD)
        ordered = sorted(by_branch.get(branch_id, ()), key=lambda r: (r[3], r[2], r[0]))
        spans = tuple((r[0], r[4], r[5]) for r in ordered)
        first_tracked = tracked_from[branch_id]
        is_branch = branch.kind == OrgUnit.Kind.BRANCH
        for month, last_day, due in periods:
            if not is_tracked(tracked_from=first_tracked, month=month):
                yield branch_id, month, due, False, None, (), branch_held, group_rows
                continue
            scheme = schemes[(branch_id, month)]
            if not is_branch or not _exists_in(branch, month, last_day):
                yield branch_id, month, due, True, scheme, (), branch_held, group_rows
                continue
            key = (id(scheme), month, spans)
            dues = due_lists.get(key)
            if dues is None:
                dues = due_lists[key] = _due(scheme, month, last_day, list(spans))
            yield branch_id, month, due, True, scheme, dues, branch_held, group_rows


def group_meeting_compliance(*, groups: list[OrgUnit], month: datetime.date) -> dict[int, tuple[int, int]]:
    """``group id → (required, held)``: the requirements due from each party group in
    ``month`` (those "once per party group" in the version in force: by default its
    monthly 党小组会) and how many of them it met, by the same rules as the branch's.
    (0, 0) for a group that did not exist in the month or a month that is not tracked.
    Four queries however many groups: the versions in force (one) and their
    requirements, the groups' held activities and the first tracked months."""
    month = first_of_month(month)
    if not groups:
        return {}
    end = month_end(month)
    schemes = schemes_for(units=groups, months=[month])
    in_play = {(scheme, month) for scheme in schemes.values()}
    held: dict[int, Held] = defaultdict(Held)
    rows = _held_rows(schemes=in_play, end=end, group_id__in=[g.pk for g in groups])
    for _branch_id, group_id, kind, held_month, day in rows:
        held[group_id].add(kind, group_id, held_month, day)
    tracked_from = tracked_from_for(units=groups)
    result = {}
    for group in groups:
        if not is_tracked(tracked_from=tracked_from[group.pk], month=month):
            result[group.pk] = (0, 0)
            continue
        scheme = schemes[(group.pk, month)]
        due = _due(scheme, month, end, _group_spans([group]), groups_only=True)
        group_held = held.get(group.pk, NOTHING_HELD)
        result[group.pk] = (len(due), sum(1 for d in due if group_held.met(d, month, scheme)))
    return result


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
