"""星级党小组 (the group half of 双评星, seed 003): every party group's monthly score,
stars and rank, computed in the branch grading's run and transaction.

The rules (written down here, shown on each group's explanation page):

* **Which groups.** The party groups of the branches the committee grades
  (``engine.graded_branches``) that existed at some time in the month.
* **Points part** (0–100). The group's members are those whose membership period at the
  month's end names the group; their totals are the month's ``MemberScore`` rows the
  same run has just written. The group's mean is their sum ÷ their number (0 for a group
  without members). Points part = 100 × the group's mean ÷ the highest group mean of the
  committee, a negative mean counting as 0, and 0 everywhere when no mean is positive —
  the branch's points half, among groups.
* **Meetings part** (0–100). Two halves:
  - *compliance*: 100 × held ÷ required. One 党小组会 is required of each group in a month
    where the version's requirements hold a per-group 党小组会 requirement that is due:
    every month for a monthly one, the quarter's last month for a quarterly one, the due
    month for a yearly one; a 党小组会 of the group held at any time in that period meets
    it, and it counts once however often it was met.
  - *attendance*: 100 × (present + late) ÷ expected at the group's 党小组会 held in the
    month, where expected = present + late + absent (excused is not expected), and 0 when
    nothing was expected — the branch's attendance half.
  When nothing is required of the group in the month (required = 0), the compliance half
  is not counted and the meetings part is the attendance half alone.
* **Score** = (w_points × points part + w_meetings × meetings part) ÷ (w_points +
  w_meetings), with the version's group weights; computed exactly (``Fraction``) and
  rounded once, half-up to two places. The parts stored with four places are for display.
* **Stars** from the rounded score (what the board shows) by the version's group bands:
  ★5 from ``group_star5_from`` (90), ★4 from 80, ★3 from 70, ★2 from 60, ★1 below.
* **Rank** among the committee's groups of the month: highest score first, equal scores
  share a rank and the next is skipped (``RANK()``).

Set-based like the branch grading: one query each for the groups, the requirement, the
members' totals per group, the meetings held and the attendance per group; Python over
one row per group; one bulk upsert keyed (committee, month, group); the groups that no
longer count deleted; ranks computed with the scores (the draft holds exactly the
groups graded), so no second pass over the table.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import NamedTuple

from django.db import connection
from django.db.models import Max, Q

from branches.activities.models import Activity
from branches.choices import ActivityKind, AttendanceStatus
from branches.models import OrgUnit
from members.ledger.models import Frequency, MeetingRequirement, RuleSetVersion

from .engine import (
    CENT,
    FOUR_PLACES,
    ZERO,
    Pass,
    exact_quantize,
    half_up,
    month_end,
    quantize_ratio,
    ranks,
    upsert_rows,
)
from .models import GradingRun, GroupScore

# The values a row is compared on: a row whose values all stay keeps the run that
# computed them (its rank may still move, when another group passes it).
COMPARED_FIELDS = [
    "members",
    "member_mean",
    "max_mean",
    "points_part",
    "meetings_required",
    "meetings_held",
    "expected",
    "attended",
    "meetings_part",
    "score",
    "stars",
]
SCORE = COMPARED_FIELDS.index("score")


def _write_groups(*, versions: dict[int, int], month: datetime.date, rows: list[tuple]) -> None:
    """Upsert the rows whose values or rank changed (or that are new), drop the groups
    that no longer count: the draft's rows are read once and compared here, so a regrade
    rewrites only what moved. A row keeps the run that computed its values (``run``), as
    the members' rows do, also when only its rank moved; the latest done run of the
    committee's month vouches for the whole draft, which holds exactly the groups it
    graded. A row graded by another rule-set version is written again even if its values
    stay: the group board reads the version from the row's run. ``versions``: committee
    id → the version it grades by. ``rows``: (committee id, group, run id, the values of
    COMPARED_FIELDS in order, rank) — ranked before writing, since the draft holds
    exactly these groups: no second pass over the table. Written as plain tuples, no
    model instance."""
    old = {
        (row[0], row[1]): row[2:]
        for row in GroupScore.objects.filter(committee_id__in=list(versions), month=month).values_list(
            "committee_id", "group_id", "id", "run_id", "rank", "run__rule_version_id", "branch_id", *COMPARED_FIELDS
        )
    }
    changed = []
    for committee_id, group, run_id, values, rank in rows:
        before = old.get((committee_id, group.pk))
        if before is None or before[3:] != (versions[committee_id], group.parent_id, *values):
            changed.append((committee_id, month, group.pk, group.parent_id, run_id, *values, rank))
        elif before[2] != rank:
            changed.append((committee_id, month, group.pk, group.parent_id, before[1], *values, rank))
    upsert_rows(
        model=GroupScore,
        unique=["committee_id", "month", "group_id"],
        columns=["committee_id", "month", "group_id", "branch_id", "run_id", *COMPARED_FIELDS, "rank"],
        rows=changed,
    )
    # Groups that no longer count (dissolved, moved under another committee) leave the draft.
    kept = {(committee_id, group.pk) for committee_id, group, *_rest in rows}
    gone = [values[0] for key, values in old.items() if key not in kept]
    if gone:
        GroupScore.objects.filter(pk__in=gone).delete()


# --- the rules as functions (the explanation pages use them too) -----------------------


def group_bands(version: RuleSetVersion) -> list[tuple[int, Decimal]]:
    """(stars, from) of the version's group bands, highest first."""
    return [
        (5, version.group_star5_from),
        (4, version.group_star4_from),
        (3, version.group_star3_from),
        (2, version.group_star2_from),
    ]


def group_stars(score: Decimal, version: RuleSetVersion) -> int:
    return next((stars for stars, band in group_bands(version) if score >= band), 1)


def compliance_half(required: int, held: int) -> Fraction | None:
    """100 × held ÷ required; None when nothing is required (the half is not counted)."""
    return Fraction(100 * min(held, required), required) if required else None


def attendance_half(attended: int, expected: int) -> Fraction:
    return Fraction(100 * attended, expected) if expected else Fraction(0)


def meetings_part(*, required: int, held: int, attended: int, expected: int) -> Fraction:
    attendance = attendance_half(attended, expected)
    compliance = compliance_half(required, held)
    return attendance if compliance is None else (compliance + attendance) / 2


def points_part(mean: Fraction, max_mean: Fraction) -> Fraction:
    return 100 * max(mean, Fraction(0)) / max_mean if max_mean > 0 else Fraction(0)


def weighted_score(*, points: Fraction, meetings: Fraction, version: RuleSetVersion) -> Decimal:
    return _weighted(points, meetings, group_weights(version))


def group_weights(version: RuleSetVersion) -> tuple[Fraction, Fraction]:
    """The version's (points, meetings) group weights, exact."""
    return Fraction(version.group_weight_points), Fraction(version.group_weight_meetings)


def _weighted(points: Fraction, meetings: Fraction, weights: tuple[Fraction, Fraction]) -> Decimal:
    weight_points, weight_meetings = weights
    total = weight_points + weight_meetings
    if total <= 0:
        return ZERO.quantize(Decimal("0.01"))
    return half_up((weight_points * points + weight_meetings * meetings) / total)


@dataclass(frozen=True)
class GroupRequirement:
    """The version's per-group 党小组会 requirement as it stands in one month."""

    frequency: str | None  # None: the version requires no per-group 党小组会
    due: bool  # one is required of every group this month
    period_start: datetime.date  # a meeting from this day to the month's end meets it

    @property
    def frequency_label(self) -> str:
        return Frequency(self.frequency).label if self.frequency else ""


def group_requirement(*, version: RuleSetVersion, month: datetime.date) -> GroupRequirement:
    """Whether the version requires a 党小组会 of every group in ``month``. One query."""
    requirement = (
        MeetingRequirement.objects.filter(version=version, kind=ActivityKind.GROUP_MEETING, per_group=True)
        .only("frequency", "due_month")
        .first()
    )
    if requirement is None:
        return GroupRequirement(None, False, month)
    if requirement.frequency == Frequency.QUARTERLY:
        return GroupRequirement(
            requirement.frequency, month.month % 3 == 0, month.replace(month=(month.month - 1) // 3 * 3 + 1)
        )
    if requirement.frequency == Frequency.YEARLY:
        return GroupRequirement(requirement.frequency, month.month == requirement.due_month, month.replace(month=1))
    return GroupRequirement(requirement.frequency, True, month)


# --- the computation ---------------------------------------------------------------------


def graded_groups(*, branches: list[OrgUnit], month: datetime.date) -> list[OrgUnit]:
    """The party groups of ``branches`` that existed at some time in ``month``. One query."""
    if not branches:
        return []
    return list(_groups_query(branches=branches, month=month).only("pk", "parent_id"))


def _groups_query(*, branches: list[OrgUnit], month: datetime.date):
    return (
        OrgUnit.objects.filter(kind=OrgUnit.Kind.GROUP, parent_id__in=[b.pk for b in branches])
        .filter(Q(dissolved_on__isnull=True) | Q(dissolved_on__gte=month))
        .filter(Q(established_on__isnull=True) | Q(established_on__lte=month_end(month)))
        .order_by("pk")
    )


class GroupRow(NamedTuple):
    pk: int
    parent_id: int


@dataclass
class GroupInputs:
    members: int = 0
    points_sum: Decimal = ZERO
    held: int = 0
    attended: int = 0
    expected: int = 0

    @property
    def mean(self) -> Fraction:
        return Fraction(self.points_sum) / self.members if self.members else Fraction(0)


def _in(ids: list[int]) -> str:
    return ", ".join(["%s"] * len(ids))


def _group_inputs(
    *, passes: list[Pass], month: datetime.date, groups: dict[int, list[GroupRow]], requirements: dict
) -> dict[int, dict[int, GroupInputs]]:
    """committee id → group id → the group's inputs, for every committee at once: one
    query each for the members' totals, the attendance and the meetings held."""
    end = month_end(month)
    inputs = {p.committee.pk: {g.pk: GroupInputs() for g in groups[p.committee.pk]} for p in passes}
    ids = [g.pk for p in passes for g in groups[p.committee.pk]]
    by_group = {g.pk: inputs[p.committee.pk][g.pk] for p in passes for g in groups[p.committee.pk]}
    committees = [p.committee.pk for p in passes]
    with connection.cursor() as cursor:
        # The members of each group at the month's end, with the totals this run wrote.
        # Sums as text keep SQLite's numbers exact on their way into Decimal.
        cursor.execute(
            f"""SELECT s.committee_id, ms.group_id, COUNT(*), CAST(SUM(s.total) AS TEXT)
                FROM grading_memberscore s
                JOIN members_membership ms ON ms.member_id = s.member_id
                 AND ms.started_on <= %s AND (ms.ended_on IS NULL OR ms.ended_on > %s)
                WHERE s.committee_id IN ({_in(committees)}) AND s.month = %s AND ms.group_id IN ({_in(ids)})
                GROUP BY s.committee_id, ms.group_id""",
            [end, end, *committees, month, *ids],
        )
        for committee_id, group_id, count, total in cursor.fetchall():
            row = inputs[committee_id].get(group_id)
            if row is not None:
                row.members = int(count)
                row.points_sum = Decimal(str(total or 0))
        # Attendance at the groups' meetings held in the month.
        attended = ", ".join(f"'{s}'" for s in (AttendanceStatus.PRESENT, AttendanceStatus.LATE))
        cursor.execute(
            f"""SELECT a.group_id,
                       SUM(CASE WHEN t.status IN ({attended}) THEN 1 ELSE 0 END),
                       SUM(CASE WHEN t.status = '{AttendanceStatus.ABSENT}' THEN 1 ELSE 0 END)
                FROM activities_attendance t JOIN activities_activity a ON a.id = t.activity_id
                WHERE a.group_id IN ({_in(ids)}) AND a.kind = %s AND a.status = %s
                  AND a.date >= %s AND a.date <= %s
                GROUP BY a.group_id""",
            [*ids, ActivityKind.GROUP_MEETING, Activity.Status.HELD, month, end],
        )
        for group_id, present_or_late, absent in cursor.fetchall():
            by_group[group_id].attended = int(present_or_late or 0)
            by_group[group_id].expected = int(present_or_late or 0) + int(absent or 0)
    # The meetings held in each due requirement's period: one query over the earliest.
    due = [p for p in passes if groups[p.committee.pk] and requirements[p.committee.pk].due]
    if due:
        start = min(requirements[p.committee.pk].period_start for p in due)
        # A group meets it with a meeting from its period's start to the month's end: its
        # last meeting in the longest period tells.
        last = dict(
            Activity.objects.filter(
                group_id__in=[g.pk for p in due for g in groups[p.committee.pk]],
                kind=ActivityKind.GROUP_MEETING,
                status=Activity.Status.HELD,
                date__gte=start,
                date__lte=end,
            )
            .values_list("group_id")
            .annotate(last=Max("date"))
            .order_by()
        )
        for p in due:
            period_start = requirements[p.committee.pk].period_start
            for g in groups[p.committee.pk]:
                if g.pk in last and last[g.pk] >= period_start:
                    inputs[p.committee.pk][g.pk].held = 1
    return inputs


def _scored(
    mean: Fraction, max_mean: Fraction, *, required: int, row: GroupInputs, weights: tuple[Fraction, Fraction]
) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """(mean, points part, meetings part — four places — and the score) of one group:
    ``points_part``, ``meetings_part`` and ``weighted_score`` on integer ratios, each
    value exact before its one rounding, so the same numbers as those functions (which
    the explanation pages use) at a fraction of the cost: 5,000 groups made ~60,000
    Fractions, each reduced by a gcd."""
    # points part = 100 × max(mean, 0) ÷ max_mean, 0 when no mean is positive
    if max_mean > 0 and mean > 0:
        points = (100 * mean.numerator * max_mean.denominator, mean.denominator * max_mean.numerator)
    else:
        points = (0, 1)
    # attendance half = 100 × attended ÷ expected; with a requirement, averaged with the
    # compliance half 100 × min(held, required) ÷ required
    attendance = (100 * row.attended, row.expected) if row.expected else (0, 1)
    if required:
        compliance = (100 * min(row.held, required), required)
        meetings = (
            compliance[0] * attendance[1] + attendance[0] * compliance[1],
            2 * compliance[1] * attendance[1],
        )
    else:
        meetings = attendance
    weight_points, weight_meetings = weights
    total = weight_points + weight_meetings
    if total <= 0:
        score = ZERO.quantize(Decimal("0.01"))
    else:
        # (wp × points + wm × meetings) ÷ (wp + wm), as one ratio
        wp, wm = weight_points, weight_meetings
        left_den, right_den = wp.denominator * points[1], wm.denominator * meetings[1]
        num = (wp.numerator * points[0] * right_den + wm.numerator * meetings[0] * left_den) * total.denominator
        score = quantize_ratio(num, left_den * right_den * total.numerator, CENT)
    return (
        exact_quantize(mean, FOUR_PLACES),
        quantize_ratio(*points, FOUR_PLACES),
        quantize_ratio(*meetings, FOUR_PLACES),
        score,
    )


def graded_groups_of(*, passes: list[Pass], month: datetime.date) -> dict[int, list[GroupRow]]:
    """``graded_groups`` of every committee of ``passes`` in one query, as (pk,
    parent_id) rows: a grading of 5,000 groups needs no model instances of them."""
    owner = {b.pk: p.committee.pk for p in passes for b in p.branches}
    groups = {p.committee.pk: [] for p in passes}
    branches = [b for p in passes for b in p.branches]
    if branches:
        for pk, parent_id in _groups_query(branches=branches, month=month).values_list("pk", "parent_id"):
            groups[owner[parent_id]].append(GroupRow(pk, parent_id))
    return groups


def grade_groups(*, run: GradingRun, version: RuleSetVersion, branches: list[OrgUnit]) -> int:
    """Write the group draft of ``run.committee``'s ``run.month`` from the member draft
    the same run has just written; the caller holds the transaction and the lock.
    Returns the number of groups graded."""
    return grade_groups_of(passes=[Pass(run.committee, version, branches, run)], month=run.month)[run.committee.pk]


def grade_groups_of(*, passes: list[Pass], month: datetime.date) -> dict[int, int]:
    """``grade_groups`` for every committee of ``passes`` at once: the inputs of all in a
    few queries, the scores and ranks in Python, one upsert of the rows that changed and
    one DELETE of the groups that no longer count. Returns committee id → groups graded."""
    groups = graded_groups_of(passes=passes, month=month)
    # One query per version (one, mostly), not per committee.
    by_version = {}
    for p in passes:
        if groups[p.committee.pk] and p.version.pk not in by_version:
            by_version[p.version.pk] = group_requirement(version=p.version, month=month)
    requirements = {p.committee.pk: by_version[p.version.pk] for p in passes if groups[p.committee.pk]}
    inputs = _group_inputs(passes=passes, month=month, groups=groups, requirements=requirements) if requirements else {}
    rows = []
    graded = {}
    for p in passes:
        committee, run, version = p.committee, p.run, p.version
        if not groups[committee.pk]:
            graded[committee.pk] = 0
            continue
        requirement = requirements[committee.pk]
        required = 1 if requirement.due else 0
        mine = inputs[committee.pk]
        weights = group_weights(version)
        # Each mean once (a Fraction of a Decimal is not cheap at 5,000 groups).
        means = {pk: row.mean for pk, row in mine.items()}
        max_mean = max((max(mean, Fraction(0)) for mean in means.values()), default=Fraction(0))
        shown_max = exact_quantize(max_mean, FOUR_PLACES)
        mine_rows = []
        for group in groups[committee.pk]:
            row, mean = mine[group.pk], means[group.pk]
            mean4, points4, meetings4, score = _scored(mean, max_mean, required=required, row=row, weights=weights)
            values = (  # in COMPARED_FIELDS order
                row.members,
                mean4,
                shown_max,
                points4,
                required,
                row.held,
                row.expected,
                row.attended,
                meetings4,
                score,
                group_stars(score, version),
            )
            mine_rows.append((committee.pk, group, run.pk, values))
        ranked = ranks([values[SCORE] for _c, _g, _r, values in mine_rows])
        rows += [(*row, rank) for row, rank in zip(mine_rows, ranked, strict=True)]
        graded[committee.pk] = len(groups[committee.pk])
    _write_groups(versions={p.committee.pk: p.version.pk for p in passes}, month=month, rows=rows)
    return graded
