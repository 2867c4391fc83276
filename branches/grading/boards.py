"""Reads of the ranking boards (排名公示): the board of a committee's month, its members,
a branch's history, the distribution of totals, and the explanation of every number.

A board is read from a *source*: a ``Publication`` (a published version; the latest one
unless a version is asked for) or the committee's ``Draft`` of the month (the
``BranchScore``/``MemberScore`` rows the last grading run upserted). Both have the same
columns, so everything below works on either.

Every function reads a fixed number of queries however many branches or members there
are: one per kind of row, with ranking (``ROW_NUMBER``), bucketing and "latest version
of each month" done in SQL; Python touches one row per branch.
"""

import datetime
import math
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from django.db.models import F, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.expressions import Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from branches.activities.compliance import ComplianceItem, Status, branch_month_compliance
from branches.models import CommitteeMonth, OrgUnit
from branches.reportback.selectors import FedScore
from members.ledger.models import RuleSetVersion, ScoreItem
from members.ledger.selectors import add_months

from .engine import ZERO, EnteredScores, fed_scores, half_up, month_end, scheme_of
from .models import (
    BranchScore,
    Dimension,
    GradingRun,
    MemberScore,
    Publication,
    PublishedBranchScore,
    PublishedMemberScore,
    ScoreInput,
    ScoreInputChange,
    Talk,
)
from .publishing import talk_board

# The board's column order: the order of the appendix.
DIMENSIONS = (Dimension.BASICS, Dimension.COMMITTEE_WORK, Dimension.PRODUCTION, Dimension.MEMBERSHIP, Dimension.OTHER)
HISTORY_MONTHS = 12
DEFAULT_BOTTOM_COUNT = 3  # a run recorded before versions were kept


# --- sources ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    """The committee's draft of a month, as a board source."""

    committee: OrgUnit
    month: datetime.date


Source = Publication | Draft


def is_draft(source: Source) -> bool:
    return isinstance(source, Draft)


def branch_scores(source: Source) -> QuerySet:
    """The branch rows of a source (``BranchScore`` or ``PublishedBranchScore``)."""
    if isinstance(source, Draft):
        return BranchScore.objects.filter(committee=source.committee, month=source.month)
    return PublishedBranchScore.objects.filter(publication=source)


def member_scores(source: Source) -> QuerySet:
    """The member rows of a source (``MemberScore`` or ``PublishedMemberScore``)."""
    if isinstance(source, Draft):
        return MemberScore.objects.filter(committee=source.committee, month=source.month)
    return PublishedMemberScore.objects.filter(publication=source)


def draft_exists(*, committee: OrgUnit, month: datetime.date) -> bool:
    return BranchScore.objects.filter(committee=committee, month=month.replace(day=1)).exists()


def publications(*, committee: OrgUnit, month: datetime.date) -> list[Publication]:
    """Every published version of a committee's month, newest first. One query."""
    return list(
        Publication.objects.filter(committee=committee, month=month)
        .select_related("run__rule_version__rule_set", "published_by")
        .order_by("-version")
    )


def latest_publication(*, committee: OrgUnit) -> Publication | None:
    """The committee's most recently published month (its newest version)."""
    return (
        Publication.objects.filter(committee=committee)
        .select_related("run__rule_version__rule_set", "published_by")
        .order_by("-month", "-version")
        .first()
    )


def current_draft_month(*, committee: OrgUnit) -> datetime.date | None:
    """The newest month whose draft is still open (graded, and not published or
    reopened since): what committee staff are working on. One query."""
    closed = CommitteeMonth.objects.filter(committee=committee, state=CommitteeMonth.State.CLOSED).values("month")
    return (
        BranchScore.objects.filter(committee=committee)
        .exclude(month__in=closed)
        .order_by("-month")
        .values_list("month", flat=True)
        .first()
    )


# --- the board --------------------------------------------------------------------------


@dataclass(frozen=True)
class Movement:
    """Against the previous month's published rank: ↑n (better), ↓n, = or new."""

    kind: str  # "up", "down", "same", "new"
    by: int = 0
    previous_rank: int | None = None

    def __str__(self) -> str:
        if self.kind == "up":
            return f"↑{self.by}"
        if self.kind == "down":
            return f"↓{self.by}"
        return "=" if self.kind == "same" else str(_("new"))


def movement(rank: int, previous_rank: int | None) -> Movement:
    if previous_rank is None:
        return Movement("new")
    if previous_rank > rank:
        return Movement("up", previous_rank - rank, previous_rank)
    if previous_rank < rank:
        return Movement("down", rank - previous_rank, previous_rank)
    return Movement("same", 0, previous_rank)


class TalkStatus:
    RECORDED = "recorded"
    NONE = "none"


@dataclass
class BoardRow:
    score: BranchScore | PublishedBranchScore
    # None when no previous month was published (nothing to compare with).
    movement: Movement | None = None
    # For bottom-three branches only: whether the talk (谈话帮扶) is recorded.
    talk: str | None = None
    talk_overdue: bool = False

    @property
    def branch(self) -> OrgUnit:
        return self.score.branch

    @property
    def rank(self) -> int:
        return self.score.rank

    @property
    def total(self) -> Decimal:
        return self.score.total

    @property
    def bottom_three(self) -> bool:
        return self.score.bottom_three

    @property
    def dimensions(self) -> list[tuple[str, Decimal | None]]:
        """(dimension, value) in the board's order; None is "not assessed"."""
        return [(d.value, getattr(self.score, d.value)) for d in DIMENSIONS]


class OnSource:
    """What a board read from a ``source`` says about it (branch and group boards)."""

    source: "Source | None"

    @property
    def is_draft(self) -> bool:
        return isinstance(self.source, Draft)

    @property
    def publication(self) -> Publication | None:
        return self.source if isinstance(self.source, Publication) else None


@dataclass
class Board(OnSource):
    committee: OrgUnit
    month: datetime.date
    source: Source | None  # None: nothing published (and no draft asked for)
    rows: list[BoardRow] = field(default_factory=list)
    versions: list[Publication] = field(default_factory=list)  # every published version, newest first
    previous: Publication | None = None  # the previous month's board compared against
    rule_version: RuleSetVersion | None = None  # the version that graded the rows

    @property
    def bottom_count(self) -> int:
        """How many branches the version flags at the bottom (the bottom three's N)."""
        return self.rule_version.bottom_three_count if self.rule_version else DEFAULT_BOTTOM_COUNT

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def bottom_three(self) -> list[BoardRow]:
        return [row for row in self.rows if row.bottom_three]


def board_head(committee: OrgUnit, month: datetime.date, *, version: int | None = None) -> Board:
    """A published board without its rows (what the page's header shows: the versions,
    the one shown and the rules that graded it), for a body read from the cache: the
    given ``version`` or the latest. One query."""
    month = month.replace(day=1)
    versions = publications(committee=committee, month=month)
    if version is not None:
        source = next((p for p in versions if p.version == version), None)
    else:
        source = versions[0] if versions else None
    result = Board(committee, month, source, versions=versions)
    if source is not None:
        result.rule_version = source.run.rule_version
    return result


def draft_head(committee: OrgUnit, month: datetime.date) -> Board:
    """A draft board without its rows, for a body read from the cache: the published
    versions and the rules that graded the first row (as ``board`` reads them). Two
    queries."""
    month = month.replace(day=1)
    source = Draft(committee, month)
    result = Board(committee, month, source, versions=publications(committee=committee, month=month))
    first = (
        branch_scores(source)
        .select_related("run__rule_version__rule_set")
        .order_by("rank", "branch__name", "branch_id")
        .first()
    )
    if first is not None:
        result.rule_version = first.run.rule_version
    return result


def board(
    committee: OrgUnit,
    month: datetime.date,
    *,
    draft: bool,
    version: int | None = None,
    today: datetime.date | None = None,
) -> Board:
    """The board of ``committee``'s ``month``: the draft, the published ``version``, or
    (by default) the latest published version. Six queries at most however many
    branches: the versions, the rows, the previous month's board and its ranks, the
    talks, and when the branches still owing one were first flagged."""
    month = month.replace(day=1)
    versions = publications(committee=committee, month=month)
    source: Source | None
    if draft:
        source = Draft(committee, month)
    elif version is not None:
        source = next((p for p in versions if p.version == version), None)
    else:
        source = versions[0] if versions else None
    result = Board(committee, month, source, versions=versions)
    if source is None:
        return result
    related = ["branch", *(["run__rule_version__rule_set"] if isinstance(source, Draft) else [])]
    scores = list(branch_scores(source).select_related(*related).order_by("rank", "branch__name", "branch_id"))
    if not scores:
        return result
    result.rule_version = scores[0].run.rule_version if isinstance(source, Draft) else source.run.rule_version
    result.previous = previous = (
        Publication.objects.filter(committee=committee, month=add_months(month, -1)).order_by("-version").first()
    )
    previous_ranks = (
        dict(PublishedBranchScore.objects.filter(publication=previous).values_list("branch_id", "rank"))
        if previous
        else {}
    )
    # Talks are owed once a board is published: a draft says nothing of them (its
    # bottom three may still change, and "no talk yet" would read as a fault).
    bottom = {s.branch_id for s in scores if s.bottom_three} if isinstance(source, Publication) else set()
    talked = (
        set(
            Talk.objects.filter(committee=committee, month=month, branch_id__in=bottom).values_list(
                "branch_id", flat=True
            )
        )
        if bottom
        else set()
    )
    # Overdue follows the one rule of ``publishing.talk_board`` (due a set number of days
    # after the first publication that flagged the branch).
    overdue = (
        {t.branch.pk for t in talk_board(committee, today or timezone.localdate(), month=month) if t.overdue}
        if isinstance(source, Publication) and bottom - talked
        else set()
    )
    for score in scores:
        row = BoardRow(score)
        if previous is not None:
            row.movement = movement(score.rank, previous_ranks.get(score.branch_id))
        if score.branch_id in bottom:
            row.talk = TalkStatus.RECORDED if score.branch_id in talked else TalkStatus.NONE
            row.talk_overdue = score.branch_id in overdue
        result.rows.append(row)
    return result


# --- members ----------------------------------------------------------------------------


def top_members(source: Source, per_branch: int = 3, *, branch: OrgUnit | None = None) -> dict[int, list]:
    """``branch_id → its best members`` (by total, then name), ``per_branch`` each. One
    query: ``ROW_NUMBER() OVER (PARTITION BY branch ORDER BY total DESC)`` filtered in SQL."""
    rows = member_scores(source)
    if branch is not None:
        rows = rows.filter(branch=branch)
    rows = (
        rows.annotate(
            position=Window(
                RowNumber(),
                partition_by=[F("branch_id")],
                order_by=[F("total").desc(), F("member__name").asc(), F("member_id").asc()],
            )
        )
        .filter(position__lte=per_branch)
        .select_related("member")
        .order_by("branch_id", "position")
    )
    result: dict[int, list] = defaultdict(list)
    for row in rows:
        result[row.branch_id].append(row)
    return dict(result)


def star_list(source: Source, *, branch: OrgUnit | None = None, limit: int | None = None) -> list:
    """Members with ★5 in the source's month, best first (the first ``limit``). One query."""
    rows = member_scores(source).filter(stars=5)
    if branch is not None:
        rows = rows.filter(branch=branch)
    rows = rows.select_related("member", "branch").order_by("-total", "branch__name", "member__name", "member_id")
    return list(rows[:limit] if limit is not None else rows)


def star_count(source: Source) -> int:
    return member_scores(source).filter(stars=5).count()


# --- charts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryPoint:
    month: datetime.date
    total: Decimal | None  # None: not published that month
    rank: int | None
    version: int | None


def branch_history(
    committee: OrgUnit, branch: OrgUnit, months: int = HISTORY_MONTHS, *, until: datetime.date | None = None
) -> list[HistoryPoint]:
    """The branch's published total and rank in each of the ``months`` months up to
    ``until`` (default: this month), oldest first; the latest version of each month. One
    query: the "latest version" is a correlated subquery, not a Python loop."""
    until = (until or timezone.localdate()).replace(day=1)
    start = add_months(until, -(months - 1))
    latest = (
        Publication.objects.filter(
            committee_id=OuterRef("publication__committee_id"), month=OuterRef("publication__month")
        )
        .order_by("-version")
        .values("pk")[:1]
    )
    rows = (
        PublishedBranchScore.objects.filter(
            branch=branch,
            publication__committee=committee,
            publication__month__gte=start,
            publication__month__lte=until,
            publication=Subquery(latest),
        )
        .values_list("publication__month", "total", "rank", "publication__version")
        .order_by()
    )
    found = {month: (total, rank, version) for month, total, rank, version in rows}
    points = []
    for i in range(months):
        month = add_months(start, i)
        total, rank, version = found.get(month, (None, None, None))
        points.append(HistoryPoint(month, total, rank, version))
    return points


# Bin widths a reader takes in at a glance; the histogram uses the smallest that is at
# least the Freedman–Diaconis width.
NICE_WIDTHS = tuple(Decimal(w) for w in ("0.5", "1", "2", "2.5", "5", "10", "20", "25", "50", "100"))
MIN_BINS = 5
MAX_BINS = 20


@dataclass(frozen=True)
class Bin:
    """[low, high) — the last bin also holds its ``high``."""

    low: Decimal
    high: Decimal
    count: int

    @property
    def label(self) -> str:
        return f"{self.low.normalize():f}–{self.high.normalize():f}"


def _quartile(ordered: list[Decimal], q: Fraction) -> Decimal:
    """The ``q`` quantile by linear interpolation between closest ranks (numpy's default)."""
    position = (len(ordered) - 1) * q
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    fraction = Decimal(position.numerator % position.denominator) / Decimal(position.denominator)
    return ordered[below] + (ordered[above] - ordered[below]) * fraction


def histogram_bins(values: list[Decimal]) -> list[Bin]:
    """Bins that fit the data: across the actual min–max only (not 0–100), a bin per few
    points. The width is the range over max(5, ⌈√n⌉) bins, or the Freedman–Diaconis
    width 2·IQR/∛n where that is narrower, rounded up to a nice width (0.5, 1, 2, 2.5,
    5, …) and at most ``MAX_BINS`` bins; bins start at a multiple of it. All values
    equal: one bin of width 1. Six branches between 86 and 95 give five 2-point bars,
    not two 10-point ones."""
    if not values:
        return []
    ordered = sorted(values)
    n, low, high = len(ordered), ordered[0], ordered[-1]
    spread = high - low
    if spread == 0:
        width = Decimal(1)
    else:
        raw = spread / max(MIN_BINS, math.isqrt(n - 1) + 1)
        iqr = _quartile(ordered, Fraction(3, 4)) - _quartile(ordered, Fraction(1, 4))
        if iqr > 0:
            raw = min(raw, 2 * iqr / Decimal(n) ** (Decimal(1) / 3))
        raw = max(raw, spread / MAX_BINS)
        width = next((w for w in NICE_WIDTHS if w >= raw), NICE_WIDTHS[-1])
    start = (low / width).to_integral_value(rounding="ROUND_FLOOR") * width
    count = max(1, int(((high - start) / width).to_integral_value(rounding="ROUND_CEILING")))
    counts = [0] * count
    for value in ordered:
        # ``high`` on a bin edge is held by the last bin, not one of its own.
        counts[min(int((value - start) // width), count - 1)] += 1
    return [Bin(start + i * width, start + (i + 1) * width, c) for i, c in enumerate(counts)]


def board_totals(source: Source) -> list[Decimal]:
    """Every branch's total on the board of ``source``. One query."""
    return list(branch_scores(source).values_list("total", flat=True))


def board_source(
    committee: OrgUnit, month: datetime.date, *, draft: bool = False, version: int | None = None
) -> Source | None:
    month = month.replace(day=1)
    if draft:
        return Draft(committee, month)
    rows = Publication.objects.filter(committee=committee, month=month)
    if version is not None:
        rows = rows.filter(version=version)
    return rows.select_related("committee", "run__rule_version__rule_set", "published_by").order_by("-version").first()


# --- explanations -----------------------------------------------------------------------


@dataclass
class WeightLine:
    dimension: str
    weight: Decimal
    score: Decimal | None  # None: not assessed, its weight shared out over the others

    @property
    def assessed(self) -> bool:
        return self.score is not None

    @property
    def product(self) -> Decimal | None:
        return None if self.score is None else self.weight * self.score

    @property
    def label(self) -> str:
        return Dimension(self.dimension).label


@dataclass
class Formula:
    """total = Σ(weight × score) ÷ Σ weight, over the assessed dimensions, rounded half-up."""

    lines: list[WeightLine]

    @property
    def assessed(self) -> list[WeightLine]:
        return [line for line in self.lines if line.assessed]

    @property
    def weight_sum(self) -> Decimal:
        return sum((line.weight for line in self.assessed), ZERO)

    @property
    def weight_all(self) -> Decimal:
        return sum((line.weight for line in self.lines), ZERO)

    @property
    def product_sum(self) -> Decimal:
        return sum((line.product for line in self.assessed), ZERO)

    @property
    def reweighted(self) -> bool:
        return len(self.assessed) < len(self.lines)

    @property
    def total(self) -> Decimal:
        return half_up(Fraction(self.product_sum) / Fraction(self.weight_sum)) if self.weight_sum else ZERO

    def share(self, line: WeightLine) -> Decimal | None:
        """How much of the total the dimension contributed, in percent: weight × score ÷
        Σ(weight × score). Not the weight: a dimension weighted 30 % that scored 0
        contributed nothing."""
        if not line.assessed or not self.product_sum:
            return None
        return half_up(100 * Fraction(line.product) / Fraction(self.product_sum))

    @property
    def rows(self) -> list[tuple[WeightLine, Decimal | None]]:
        return [(line, self.share(line)) for line in self.lines]


def formula(*, score, version: RuleSetVersion) -> Formula:
    weights = version.weights
    return Formula([WeightLine(d.value, weights[d], getattr(score, d.value)) for d in DIMENSIONS])


@dataclass
class ItemLine:
    """A scored item (细则) of an entered dimension: its maximum, the score entered for
    the branch, and who entered what when."""

    item: ScoreItem
    input: ScoreInput | None  # None: not entered (counted as 0 in a draft)
    changes: list[ScoreInputChange]
    # The 月述职 score feeding the item (the version marks it fed and the branch
    # reported that month) and the item's value from it; the typed row is then unused.
    fed: FedScore | None = None
    fed_value: Decimal | None = None

    @property
    def score(self) -> Decimal | None:
        if self.fed is not None:
            return self.fed_value
        return self.input.score if self.input is not None else None


@dataclass
class EnteredLine:
    """A dimension the committee enters: the value graded, and who entered what when —
    for a dimension scored by items, each item and their sum."""

    dimension: str
    value: Decimal | None  # as graded; None: not assessed
    input: ScoreInput | None  # the dimension's own row; None: nothing entered for it
    changes: list[ScoreInputChange]
    run_started: datetime.datetime | None
    items: list[ItemLine] = field(default_factory=list)

    @property
    def label(self) -> str:
        return Dimension(self.dimension).label

    @property
    def itemised(self) -> bool:
        return bool(self.items)

    @property
    def not_assessed(self) -> bool:
        return bool(self.input and self.input.not_assessed)

    @property
    def entered(self) -> bool:
        """Whether anything was entered: the whole dimension's value or mark, or an item."""
        if self.itemised:
            return self.not_assessed or any(line.input for line in self.items)
        return self.input is not None and (self.input.score is not None or self.input.not_assessed)

    @property
    def items_missing(self) -> list[ItemLine]:
        return [] if self.not_assessed else [line for line in self.items if line.score is None]

    @property
    def item_max_sum(self) -> Decimal:
        return sum((line.item.max_score for line in self.items), ZERO)

    @property
    def item_sum(self) -> Decimal:
        """The exact sum of the items' scores as they stand (a missing item counts 0)."""
        return sum((line.score for line in self.items if line.score is not None), ZERO)

    @property
    def item_terms(self) -> str:
        """The sum written out: 35.50 + 28.00 + 30.00."""
        return " + ".join(f"{line.score:.2f}" if line.score is not None else "0" for line in self.items)

    @property
    def _inputs(self) -> list[ScoreInput]:
        return [i for i in [self.input, *(line.input for line in self.items)] if i is not None]

    @property
    def changed_since_run(self) -> bool:
        """Whether an input changed after the grading run read it."""
        return bool(self.run_started and any(i.entered_at > self.run_started for i in self._inputs))

    def after_run(self, change: ScoreInputChange) -> bool:
        return bool(self.run_started and change.entered_at > self.run_started)


@dataclass
class Explanation:
    committee: OrgUnit
    month: datetime.date
    source: Source
    score: BranchScore | PublishedBranchScore
    run: GradingRun
    rule_version: RuleSetVersion | None
    formula: Formula | None
    compliance: list[ComplianceItem]
    members: list
    entered: list[EnteredLine]  # every dimension the committee enters, in board order
    # The branch whose member mean is the committee's highest (the points half's 100).
    highest_mean_branch: OrgUnit | None = None

    def entered_line(self, dimension: str) -> EnteredLine | None:
        return next((line for line in self.entered if line.dimension == dimension), None)

    @property
    def basics_entered(self) -> EnteredLine | None:
        """基础工作 as the committee entered it, where the version says so."""
        return self.entered_line(Dimension.BASICS)

    @property
    def membership_entered(self) -> EnteredLine | None:
        """党员队伍建设 as the committee entered it, where the version says so."""
        return self.entered_line(Dimension.MEMBERSHIP)

    @property
    def entered_always(self) -> list[EnteredLine]:
        """The entered dimensions other than basics and membership (shown in their own places)."""
        return [line for line in self.entered if line.dimension not in (Dimension.BASICS, Dimension.MEMBERSHIP)]

    @property
    def computed_basics(self) -> Decimal:
        """基础工作 as the activities would have made it (for reference where it was entered)."""
        return half_up(Fraction(100 * self.score.held, self.score.required)) if self.score.required else ZERO

    @property
    def computed_membership(self) -> Decimal:
        """党员队伍建设 as attendance and points would have made it (for reference)."""
        return half_up((Fraction(self.score.attendance_half) + Fraction(self.score.points_half)) / 2)

    @property
    def bottom_count(self) -> int:
        return self.rule_version.bottom_three_count if self.rule_version else DEFAULT_BOTTOM_COUNT

    @property
    def branch(self) -> OrgUnit:
        return self.score.branch

    @property
    def is_draft(self) -> bool:
        return isinstance(self.source, Draft)

    @property
    def expected(self) -> int:
        """Attendance expected: present + late + absent (excused is not expected)."""
        return self.score.present + self.score.late + self.score.absent

    @property
    def attended(self) -> int:
        return self.score.present + self.score.late

    @property
    def held_now(self) -> int:
        """Requirements met according to today's records (the grading read ``score.held``)."""
        return sum(1 for item in self.compliance if item.status == Status.MET)

    @property
    def compliance_changed(self) -> bool:
        return (len(self.compliance), self.held_now) != (self.score.required, self.score.held)

    @property
    def members_sum(self) -> Decimal:
        return sum((m.total for m in self.members), ZERO)


def branch_explanation(source: Source, branch: OrgUnit) -> Explanation | None:
    """Everything behind one branch's numbers on a board, or None when the branch is not
    on it. A fixed number of queries: the row (with its run and rule version), the
    compliance list (two), the highest mean, the member totals, the entered scores and
    their history (two)."""
    score = (
        branch_scores(source)
        .filter(branch=branch)
        .select_related("branch", *(["run__rule_version__rule_set"] if isinstance(source, Draft) else []))
        .first()
    )
    if score is None:
        return None
    month = source.month
    run = score.run if isinstance(source, Draft) else source.run
    version = run.rule_version
    # Judged by the version the run graded with (its requirements, its themed day).
    compliance = branch_month_compliance(
        branch=branch, month=month, today=month_end(month) + datetime.timedelta(days=1), version=version
    )
    highest = branch_scores(source).select_related("branch").order_by("-member_mean", "branch__name").first()
    members = list(
        member_scores(source).filter(branch=branch).select_related("member").order_by("-total", "member__name")
    )
    scheme = scheme_of(version)
    rows = list(
        ScoreInput.objects.filter(branch=branch, month=month, dimension__in=scheme.entered)
        .select_related("entered_by")
        .prefetch_related(Prefetch("changes", queryset=ScoreInputChange.objects.select_related("entered_by")))
    )
    whole = {row.dimension: row for row in rows if row.item_id is None}
    by_item = {row.item_id: row for row in rows if row.item_id is not None}

    def changes(row: ScoreInput | None) -> list[ScoreInputChange]:
        return list(row.changes.all()) if row is not None else []

    fed = EnteredScores([], fed_scores(scheme=scheme, branch_ids=[branch.pk], month=month))

    def item_line(item: ScoreItem) -> ItemLine:
        row = by_item.get(item.pk)
        feeding = fed.fed_score(branch.pk, item)
        value = fed.item_score(branch.pk, item) if feeding is not None else None
        return ItemLine(item, row, changes(row), fed=feeding, fed_value=value)

    entered = [
        EnteredLine(
            d,
            getattr(score, d),
            whole.get(d),
            changes(whole.get(d)),
            run.started_at,
            items=[item_line(item) for item in scheme.items_of(d)],
        )
        for d in scheme.entered
    ]
    return Explanation(
        committee=source.committee,
        month=month,
        source=source,
        score=score,
        run=run,
        rule_version=version,
        formula=formula(score=score, version=version) if version else None,
        compliance=compliance,
        members=members,
        entered=entered,
        highest_mean_branch=highest.branch if highest and highest.member_mean > 0 else None,
    )
