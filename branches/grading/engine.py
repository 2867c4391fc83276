"""The grading computation for one committee and month (PRODUCT.md appendix).

Set-based: member totals are one ``INSERT … SELECT …`` from the ledger's per-member month
sums (``MemberMonthPoints``, kept by the database as entries are inserted; the changed
rows updated and, on PostgreSQL, the leavers deleted in the same statement); branch
inputs are a few aggregates. Python touches one row per branch (the exact arithmetic of
the dimensions on integer ratios, rounded half-up once), ranks the rows and flags the
bottom three as ``RANK_SQL`` would, and writes them in one upsert; never a ledger entry.
The SQL is written for both PostgreSQL and SQLite (3.33+: upserts, window functions,
UPDATE FROM).
"""

import calendar
import datetime
import functools
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from django.db import connection
from django.db.models import Count, Max, Q

from branches.activities.compliance import compliance_matrix
from branches.activities.models import Activity, Attendance
from branches.choices import ALWAYS_ENTERED, AttendanceStatus
from branches.models import OrgUnit
from branches.reportback.selectors import FedScore, month_scores
from branches.reportback.selectors import last_change as reportback_change
from members.ledger.models import Category, RuleSetVersion, ScoreItem
from members.ledger.services import rule_versions_for
from members.models import Membership

from .models import BranchScore, Dimension, GradingRun, ScoreInput

CENT = Decimal("0.01")
FOUR_PLACES = Decimal("0.0001")
HUNDRED = Decimal("100")
ZERO = Decimal("0")


def half_up(value: Decimal | Fraction) -> Decimal:
    """Round half-up to two places. A Fraction is rounded from its exact value: a
    quotient like 100 × (11/6) ÷ (8/3) = 68.75 must not reach the rounding as
    68.7499…, which a 28-digit Decimal division would hand it."""
    if isinstance(value, Fraction):
        return exact_quantize(value, CENT)
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def exact_quantize(value: Fraction, step: Decimal) -> Decimal:
    """``value`` rounded half-up (away from zero on a tie) to a multiple of ``step``,
    computed on integers so nothing is lost before the one rounding."""
    return quantize_ratio(value.numerator, value.denominator, step)


def quantize_ratio(numerator: int, denominator: int, step: Decimal) -> Decimal:
    """``numerator ÷ denominator`` (integers, the denominator not zero, neither reduced)
    rounded half-up (away from zero on a tie) to a multiple of ``step``, on integers.
    Neither the quotient nor the step is made a Fraction (each would be reduced by a
    gcd): a grading rounds some 35,000 values this way at 100,000 members, and computes
    most of them as integer ratios (``weighted_total``, the groups' scores)."""
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    p, q = _ratio(step)
    # value ÷ step = (numerator × q) ÷ (denominator × p), left unreduced: the floor
    # division below does not need it reduced.
    num, den = numerator * q, denominator * p
    units = (abs(num) * 2 + den) // (2 * den)
    return (Decimal(units if num >= 0 else -units) * step).quantize(step)


@functools.cache
def _ratio(step: Decimal) -> tuple[int, int]:
    return step.as_integer_ratio()


def month_end(month: datetime.date) -> datetime.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def graded_branches(*, committee: OrgUnit, month: datetime.date) -> list[OrgUnit]:
    """The branches a committee grades: those whose nearest committee it is (through
    general branches, but not through a committee below it), existing during the month."""
    return graded_branches_of(committees=[committee], month=month)[committee.pk]


# --- what the committee enters ---------------------------------------------------------


@dataclass(frozen=True)
class Scheme:
    """What a rule-set version asks the committee to enter for a month: the entered
    dimensions (board order) and, per dimension, its scored items (细则) in order — a
    dimension without items is scored as a whole, 0–100."""

    version: RuleSetVersion | None
    entered: tuple[str, ...]
    items: dict[str, list[ScoreItem]] = field(default_factory=dict)

    def items_of(self, dimension: str) -> list[ScoreItem]:
        return self.items.get(dimension, [])

    def item(self, pk: int) -> ScoreItem | None:
        return next((i for items in self.items.values() for i in items if i.pk == pk), None)


def scheme_of(version: RuleSetVersion | None) -> Scheme:
    """The scheme of ``version``: one query for its items. Without a version (a run
    recorded before versions were kept) the three dimensions always entered, whole."""
    if version is None:
        return Scheme(None, tuple(ALWAYS_ENTERED))
    entered = version.entered_dimensions
    items: dict[str, list[ScoreItem]] = defaultdict(list)
    for item in ScoreItem.objects.filter(version=version, dimension__in=entered).order_by("sort_order", "pk"):
        items[item.dimension].append(item)
    return Scheme(version, entered, dict(items))


def scheme_for(*, unit: OrgUnit, month: datetime.date) -> Scheme:
    """The scheme of the version in force for ``unit`` in ``month``. Three queries."""
    return scheme_of(rule_versions_for(units=[unit], month=month)[unit.pk])


class EnteredScores:
    """The committee's entered rows of some branches' month, read once: each
    dimension's own row (its score, or its "not assessed" mark) and each item's row.
    Rows are anything with ``branch_id``, ``dimension``, ``item_id``, ``score`` and
    ``not_assessed`` (``ScoreInput`` objects or lighter tuples).

    ``fed``: the branches' 月述职 scores of the month (``fed_scores``). An item the
    version marks as fed by the report-back takes the branch's score scaled to the
    item's maximum (score / 100 × maximum, half-up) instead of a typed row. A branch
    that did not report that month has no fed score: its item is entered by hand like
    any other (and is missing until it is), so a unit drawn in another month of the
    cycle is neither given nor denied the item's points by the draw."""

    def __init__(self, rows, fed: dict[int, FedScore] | None = None) -> None:
        self.fed = fed or {}
        self.whole: dict[tuple[int, str], object] = {}
        self.by_item: dict[tuple[int, int], object] = {}
        for row in rows:
            if row.item_id is None:
                self.whole[(row.branch_id, row.dimension)] = row
            else:
                self.by_item[(row.branch_id, row.item_id)] = row

    def not_assessed(self, branch_id: int, dimension: str) -> bool:
        row = self.whole.get((branch_id, dimension))
        return bool(row is not None and row.not_assessed)

    def fed_score(self, branch_id: int, item: ScoreItem) -> FedScore | None:
        """The report-back score feeding ``item`` for the branch, if any."""
        if item.fed_by == ScoreItem.FedBy.REPORTBACK:
            return self.fed.get(branch_id)
        return None

    def item_score(self, branch_id: int, item: ScoreItem) -> Decimal | None:
        fed = self.fed_score(branch_id, item)
        if fed is not None:
            return half_up(Fraction(fed.score) * Fraction(item.max_score) / 100)
        row = self.by_item.get((branch_id, item.pk))
        return None if row is None else row.score

    def value(self, scheme: Scheme, branch_id: int, dimension: str) -> Decimal | None:
        """The dimension's score as graded: None when not assessed; with items, their
        exact sum; a missing score (or item) counts as 0 (a draft with missing cells
        cannot be published). Rows of items another version defined are not read."""
        if self.not_assessed(branch_id, dimension):
            return None
        items = scheme.items_of(dimension)
        if items:
            scores = (self.item_score(branch_id, item) for item in items)
            return sum((s for s in scores if s is not None), ZERO)
        row = self.whole.get((branch_id, dimension))
        return row.score if row is not None and row.score is not None else ZERO

    def missing(self, scheme: Scheme, branch_id: int) -> list[tuple[str, ScoreItem | None]]:
        """(dimension, item) of every cell still to enter; item None for a dimension
        scored as a whole. A dimension marked not assessed lacks nothing."""
        cells: list[tuple[str, ScoreItem | None]] = []
        for dimension in scheme.entered:
            if self.not_assessed(branch_id, dimension):
                continue
            items = scheme.items_of(dimension)
            if items:
                cells += [(dimension, item) for item in items if self.item_score(branch_id, item) is None]
            else:
                row = self.whole.get((branch_id, dimension))
                if row is None or row.score is None:
                    cells.append((dimension, None))
        return cells


def fed_scores(*, scheme: Scheme, branch_ids: list[int], month: datetime.date) -> dict[int, FedScore]:
    """The report-back scores of the month when the scheme has an item fed by them
    (none otherwise, and no query)."""
    if not any(item.fed_by for items in scheme.items.values() for item in items):
        return {}
    return month_scores(unit_ids=branch_ids, month=month)


def entered_scores(*, branch_ids: list[int], month: datetime.date, scheme: Scheme | None = None) -> EnteredScores:
    """One query: the entered rows of ``branch_ids`` in ``month``, as light tuples; with
    ``scheme``, the report-back scores its fed items take too."""
    rows = ScoreInput.objects.filter(branch_id__in=branch_ids, month=month).values_list(
        "branch_id", "dimension", "item_id", "score", "not_assessed", named=True
    )
    fed = fed_scores(scheme=scheme, branch_ids=branch_ids, month=month) if scheme is not None else None
    return EnteredScores(rows, fed)


def graded_branches_of(*, committees: list[OrgUnit], month: datetime.date) -> dict[int, list[OrgUnit]]:
    """``graded_branches`` of several committees in one query: committee id → its branches."""
    if not committees:
        return {}
    end = month_end(month)
    prefixes = Q()
    for committee in committees:
        prefixes |= Q(path__startswith=committee.path)
    units = list(
        OrgUnit.objects.filter(prefixes, kind__in=[OrgUnit.Kind.BRANCH, OrgUnit.Kind.COMMITTEE])
        .filter(Q(dissolved_on__isnull=True) | Q(dissolved_on__gte=month))
        .filter(Q(established_on__isnull=True) | Q(established_on__lte=end))
    )
    graded = {}
    for committee in committees:
        under = [u for u in units if u.path.startswith(committee.path) and u.pk != committee.pk]
        below = [u.path for u in under if u.kind == OrgUnit.Kind.COMMITTEE]
        graded[committee.pk] = [
            u for u in under if u.kind == OrgUnit.Kind.BRANCH and not any(u.path.startswith(p) for p in below)
        ]
    return graded


@dataclass
class LedgerMarks:
    """The month's ledger entries per branch: how many, and the last id."""

    by_branch: dict[int, tuple[int, int]] = field(default_factory=dict)

    def of(self, ids: list[int]) -> list:
        rows = [self.by_branch[pk] for pk in ids if pk in self.by_branch]
        return [max((last for _n, last in rows), default=None), sum(n for n, _last in rows)]


def ledger_marks(*, branch_ids: list[int], month: datetime.date) -> LedgerMarks:
    """One query (``MemberMonthPoints``): the month's entries per branch."""
    if not branch_ids:
        return LedgerMarks()
    with connection.cursor() as cursor:
        return month_marks(cursor, month, branch_ids)


def _by_branch(queryset, branch_field: str, **aggregates) -> dict[int, dict]:
    rows = queryset.values(branch_field).annotate(**aggregates).order_by()
    return {row.pop(branch_field): row for row in rows}


def watermarks(
    *,
    committees: list[OrgUnit],
    month: datetime.date,
    branches: dict[int, list[OrgUnit]] | None = None,
    ledger: LedgerMarks | None = None,
    versions: dict[int, RuleSetVersion | None] | None = None,
) -> dict[int, dict]:
    """``watermark`` of several committees of one month, in one query per kind of input
    however many committees: each input is aggregated per branch (over the indexes on
    (month, branch) of the ledger, (branch, month) of scores, (date, kind) of activities
    and their attendance by activity) and the branches' rows are added up per committee.
    ``branches``, ``ledger`` and ``versions``: already known (the month's grading reads
    the ledger once for the members' totals and the marks together)."""
    if branches is None:
        branches = graded_branches_of(committees=committees, month=month)
    ids = sorted({b.pk for units in branches.values() for b in units})
    end = month_end(month)
    if ledger is None:
        ledger = ledger_marks(branch_ids=ids, month=month)
    if versions is None:
        versions = rule_versions_for(units=committees, month=month)
    inputs = activities = attendance = periods = {}
    if ids:
        inputs = _by_branch(
            ScoreInput.objects.filter(month=month, branch_id__in=ids), "branch_id", last=Max("entered_at")
        )
        activities = _by_branch(
            Activity.objects.filter(branch_id__in=ids, date__gte=month, date__lte=end),
            "branch_id",
            last=Max("updated_at"),
            n=Count("pk"),
        )
        attendance = _by_branch(
            Attendance.objects.filter(activity__date__gte=month, activity__date__lte=end, activity__branch_id__in=ids),
            "activity__branch_id",
            last=Max("changed_at"),
        )
        # Transfers and leavings change who counts at month end: periods added or closed.
        periods = _by_branch(
            Membership.objects.filter(branch_id__in=ids), "branch_id", last=Max("pk"), ended=Count("ended_on")
        )
    fed = set(
        ScoreItem.objects.filter(version__in=[v for v in versions.values() if v is not None])
        .exclude(fed_by="")
        .values_list("version_id", flat=True)
    )

    def stamp(value):
        return value.isoformat() if value else None

    def latest(rows: dict, pks: list[int], key: str = "last"):
        return max((rows[pk][key] for pk in pks if pk in rows and rows[pk][key] is not None), default=None)

    def total(rows: dict, pks: list[int], key: str) -> int:
        return sum(rows[pk][key] for pk in pks if pk in rows)

    marks = {}
    for committee in committees:
        pks = [b.pk for b in branches[committee.pk]]
        # A new version taking effect in the month (other weights, items) changes the grading.
        version = versions[committee.pk]
        mark = {
            "version": version.pk if version else None,
            "branches": len(pks),
            "ledger": ledger.of(pks),
            "inputs": stamp(latest(inputs, pks)),
            "activities": [stamp(latest(activities, pks)), total(activities, pks, "n")],
            "attendance": stamp(latest(attendance, pks)),
            "memberships": [latest(periods, pks), total(periods, pks, "ended")],
        }
        # Report-back scores count only where the version feeds an item from them (and only
        # then enter the mark, so the drafts of every other committee keep theirs).
        if version is not None and version.pk in fed:
            mark["reportback"] = reportback_change(unit_ids=pks, month=month)
        marks[committee.pk] = mark
    return marks


def watermark(*, committee: OrgUnit, month: datetime.date) -> dict:
    """A fingerprint of the inputs of one committee's month: its branches' ledger entries,
    activities, attendance, entered scores and membership periods. A draft whose
    watermark differs from the current one is stale and must be regraded."""
    return watermarks(committees=[committee], month=month)[committee.pk]


def _in(ids: list[int]) -> str:
    return ", ".join(["%s"] * len(ids))


# From this many branches in one pass, PostgreSQL sums the whole month's points per member
# once (one GROUP BY of ``MemberMonthPoints``) rather than probing each member's rows.
WHOLE_MONTH_FROM = 200


@dataclass
class Pass:
    """One committee's part of a grading pass: its version and graded branches (and the
    run writing the draft)."""

    committee: OrgUnit
    version: RuleSetVersion
    branches: list[OrgUnit]
    run: GradingRun | None = None


def upsert_rows(*, model, unique: list[str], columns: list[str], rows: list[tuple]) -> None:
    """Insert ``rows`` (tuples in ``columns`` order, the model's column names) into
    ``model``'s table, updating the row already there under the ``unique`` columns: one
    ``INSERT … ON CONFLICT DO UPDATE``, from plain tuples. A grading writes thousands of
    group and branch rows; a model instance per row and the ORM's preparation of each
    value cost more than the statement, and so does the driver's quoting of each value
    (~3 µs: 0.3 s for 5,000 groups). PostgreSQL gets one array literal per column,
    built here, unnested in the statement; SQLite a VALUES list per batch."""
    if not rows:
        return
    table = model._meta.db_table
    names = ", ".join(columns)
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in unique)
    conflict = f"ON CONFLICT ({', '.join(unique)}) DO UPDATE SET {updates}"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            fields = {f.attname: f for f in model._meta.concrete_fields}
            arrays = ", ".join(f"%s::{fields[c].db_type(connection)}[]" for c in columns)
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}) {conflict}",
                [_array_literal(column) for column in zip(*rows, strict=True)],
            )
            return
        batch = max(1, connection.features.max_query_params // len(columns))
        row = f"({', '.join(['%s'] * len(columns))})"
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            cursor.execute(
                f"INSERT INTO {table} ({names}) VALUES {', '.join([row] * len(chunk))} {conflict}",
                [value for values in chunk for value in values],
            )


def _array_literal(values) -> str:
    """A PostgreSQL array literal of numbers, dates, booleans and NULLs (no strings)."""
    return "{" + ",".join("NULL" if v is None else str(v) for v in values) + "}"


def _mapping_sql(rows: int, columns: str, row: str) -> str:
    """``g(columns)``: a VALUES list of ``rows`` rows, each ``row`` (placeholders)."""
    return f"g({columns}) AS (VALUES {', '.join([f'({row})'] * rows)})"


def _member_scores_sql(rows: int, *, whole_month: bool, empty: bool = False, committees: int = 0) -> str:
    """The members' totals and stars of every branch of the mapping ``g`` (``rows`` rows),
    written into the draft (rows whose numbers stay are not written). Parameters: the
    mapping's, then month, month, end, end, and (unless ``empty``) month, and on
    PostgreSQL the ``committees`` committee ids. ``empty``: the committees' draft of the
    month holds no row yet (the month's first grading), so every row is inserted as
    computed, without reading the draft. On PostgreSQL the statement also drops the
    members who no longer count (``drop_leavers``, for every committee given, those
    without branches included): the draft's rows that no computed row matches. The totals come from the ledger's
    ``MemberMonthPoints`` (a row per member and month, kept by the database as entries
    are inserted), never from the entries: ``whole_month`` (PostgreSQL, many branches)
    joins the month's rows at once; otherwise each member's row is one probe of the
    rows' (month, member) index."""
    columns = ", ".join(Category.values)
    updates = ", ".join(f"{c} = excluded.{c}" for c in [*Category.values, "total", "stars", "branch_id", "run_id"])
    # A row whose numbers did not change is left alone (and keeps the run that wrote
    # them): regrading an unchanged month writes nothing.
    changed = " OR ".join(
        f"grading_memberscore.{c} <> excluded.{c}" for c in [*Category.values, "total", "stars", "branch_id"]
    )
    mapping = _mapping_sql(
        rows, "branch_id, committee_id, run_id, s5, s4, s3, s2", "%s, %s, %s, " + ", ".join(["CAST(%s AS NUMERIC)"] * 4)
    )
    prefix = f"WITH {mapping}"
    if connection.vendor == "postgresql" and not whole_month:
        # Each member's row through one probe of membermonthpoints_unique, so a
        # committee's upsert reads its own members' rows. Joined plainly, PostgreSQL
        # hash-joins the whole month instead.
        entries = """LEFT JOIN LATERAL (
            SELECT mm.* FROM ledger_membermonthpoints mm
            WHERE mm.member_id = ms.member_id AND mm.month = %s OFFSET 0
        ) AS t ON TRUE"""
    else:  # the whole month (and SQLite, which has no LATERAL): one row a member, joined
        entries = "LEFT JOIN ledger_membermonthpoints t ON t.member_id = ms.member_id AND t.month = %s"
    named = ", ".join(f"COALESCE(t.{c}, 0) AS {c}" for c in Category.values)
    differs = " OR ".join(f"n.{c} <> old.{c}" for c in [*Category.values, "total", "stars", "branch_id"])
    computed = f"""
            SELECT g.committee_id AS committee_id, %s AS month, ms.member_id AS member_id, ms.branch_id AS branch_id,
                   g.run_id AS run_id, {named},
                   COALESCE(t.total, 0) AS total,
                   CASE WHEN COALESCE(t.total, 0) >= g.s5 THEN 5
                        WHEN COALESCE(t.total, 0) >= g.s4 THEN 4
                        WHEN COALESCE(t.total, 0) >= g.s3 THEN 3
                        WHEN COALESCE(t.total, 0) >= g.s2 THEN 2
                        ELSE 1 END AS stars
            FROM members_membership ms
            JOIN g ON g.branch_id = ms.branch_id
            {entries}
            WHERE ms.started_on <= %s AND (ms.ended_on IS NULL OR ms.ended_on > %s)"""
    if empty:
        return f"""{prefix}
        INSERT INTO grading_memberscore
            (committee_id, month, member_id, branch_id, run_id, {columns}, total, stars)
        SELECT n.committee_id, n.month, n.member_id, n.branch_id, n.run_id, {", ".join(f"n.{c}" for c in Category.values)},
               n.total, n.stars
        FROM ({computed}
        ) AS n"""
    # Rows already in the draft with the same numbers are left out before writing (one
    # hash join with the month's draft, rather than a conflict probe and check per row).
    fresh = f"""
        FROM ({computed}
        ) AS n
        LEFT JOIN grading_memberscore old
          ON old.committee_id = n.committee_id AND old.month = %s AND old.member_id = n.member_id
        WHERE old.id IS NULL OR {differs}"""
    values = ", ".join(f"n.{c}" for c in Category.values)
    if connection.vendor == "postgresql":
        # The changed rows updated by id, the new ones inserted plainly: the join has
        # already told which is which, and every writer of a committee's month holds its
        # lock, so no row can appear in between. An INSERT … ON CONFLICT pays for a
        # speculative insertion per row: twice the time of a plain INSERT on the first
        # grading of a month (100,000 new rows). The same join, full, finds the leavers
        # (a draft row no computed row matches): a second pass over the draft and the
        # memberships (0.13–0.22 s at 100,000 members) saved.
        assignments = ", ".join(f"{c} = w.{c}" for c in [*Category.values, "total", "stars", "branch_id", "run_id"])
        return f"""{prefix}, w AS MATERIALIZED (
            SELECT n.*, old.id AS old_id
            FROM ({computed}
            ) AS n
            FULL JOIN (
                SELECT * FROM grading_memberscore WHERE month = %s AND committee_id IN ({_in([0] * committees)})
            ) AS old ON old.committee_id = n.committee_id AND old.member_id = n.member_id
            WHERE old.id IS NULL OR n.member_id IS NULL OR {differs}
        ), changed AS (
            UPDATE grading_memberscore SET {assignments}
            FROM w WHERE w.member_id IS NOT NULL AND w.old_id IS NOT NULL AND grading_memberscore.id = w.old_id
        ), gone AS (
            DELETE FROM grading_memberscore USING w WHERE w.member_id IS NULL AND grading_memberscore.id = w.old_id
        )
        INSERT INTO grading_memberscore
            (committee_id, month, member_id, branch_id, run_id, {columns}, total, stars)
        SELECT committee_id, month, member_id, branch_id, run_id, {columns}, total, stars
        FROM w WHERE old_id IS NULL
    """
    return f"""{prefix}
        INSERT INTO grading_memberscore
            (committee_id, month, member_id, branch_id, run_id, {columns}, total, stars)
        SELECT n.committee_id, n.month, n.member_id, n.branch_id, n.run_id, {values}, n.total, n.stars
        {fresh}
        ON CONFLICT (committee_id, month, member_id) DO UPDATE SET {updates}
        WHERE {changed}
    """


def month_marks(cursor, month: datetime.date, branch_ids: list[int] | None = None) -> LedgerMarks:
    """The ledger's marks per branch (of ``branch_ids``, or every branch of the month),
    in one statement (one snapshot): the members whose month names one branch from their
    ``MemberMonthPoints`` rows, the few whose month names two from their own entries
    (the ``membermonthpoints_moved`` rows, one probe each of ledger_member_month)."""
    only, within = "", []
    if branch_ids is not None:
        only, within = f"AND x.branch_id IN ({_in(branch_ids)})", branch_ids
    if connection.vendor == "postgresql":
        # A probe of each moved member's entries, never a join: the planner has no
        # statistics for branch_id <> other_branch_id, guessed ~40,000 moved members
        # where there were 4, and hash-joined the whole month's ledger (1.0 s at 100,000
        # members, on every draft board and committee home). OFFSET 0 keeps it a probe.
        moved = """CROSS JOIN LATERAL (
                    SELECT le.branch_id, le.id FROM ledger_ledgerentry le
                    WHERE le.member_id = mm.member_id AND le.month = mm.month OFFSET 0
                ) AS le"""
    else:  # SQLite has no LATERAL; its planner probes by the index anyway
        moved = "JOIN ledger_ledgerentry le ON le.member_id = mm.member_id AND le.month = mm.month"
    cursor.execute(
        f"""SELECT x.branch_id, SUM(x.n), MAX(x.last) FROM (
                SELECT mm.branch_id AS branch_id, mm.entries AS n, mm.last_entry AS last
                FROM ledger_membermonthpoints mm
                WHERE mm.month = %s AND mm.branch_id = mm.other_branch_id
                UNION ALL
                SELECT le.branch_id, 1, le.id
                FROM ledger_membermonthpoints mm
                {moved}
                WHERE mm.month = %s AND mm.branch_id <> mm.other_branch_id
            ) AS x WHERE 1 = 1 {only} GROUP BY x.branch_id""",
        [month, month, *within],
    )
    return LedgerMarks({branch_id: (int(n), last) for branch_id, n, last in cursor.fetchall()})


def _member_params(passes: list[Pass], month: datetime.date, *, empty: bool = False) -> list:
    params = []
    for p in passes:
        v = p.version
        for b in p.branches:
            params += [b.pk, p.committee.pk, p.run.pk, v.star5_from, v.star4_from, v.star3_from, v.star2_from]
    end = month_end(month)
    # The draft's month, the sums', the month's end twice, the draft's month (read
    # unless the draft is empty).
    return [*params, month, month, end, end, *([] if empty else [month])]


def reads_whole_month(passes: list[Pass]) -> bool:
    """Whether the members' statement of ``passes`` sums the whole month's points at once
    (and takes the ledger's marks of every branch of the month with them)."""
    return connection.vendor == "postgresql" and sum(len(p.branches) for p in passes) >= WHOLE_MONTH_FROM


def member_statement(*, passes: list[Pass], month: datetime.date, empty: bool) -> tuple[str, list] | None:
    """The members' statement of ``passes`` for ``month`` and its parameters (None when
    no committee has a branch). ``empty``: the committees' draft of the month has no row."""
    committees = [p.committee.pk for p in passes]
    passes = [p for p in passes if p.branches]
    rows = sum(len(p.branches) for p in passes)
    if not rows:
        return None
    postgres = connection.vendor == "postgresql"
    sql = _member_scores_sql(
        rows, whole_month=reads_whole_month(passes), empty=empty, committees=len(committees) if postgres else 0
    )
    params = _member_params(passes, month, empty=empty)
    return sql, params + (committees if postgres and not empty else [])


def grade_members(*, passes: list[Pass], month: datetime.date) -> tuple[LedgerMarks | None, bool]:
    """Write the member draft of every committee of ``passes`` for ``month`` in one
    statement. Returns the ledger's marks per branch when they came from the same read
    (PostgreSQL, a whole month), else None; and whether the members who no longer count
    are gone already (none to drop from a draft that was empty; on PostgreSQL the
    statement drops them), else ``drop_leavers`` is to be called."""
    committees = [p.committee.pk for p in passes]
    if not committees:
        return None, True
    marks = None
    with connection.cursor() as cursor:
        # The month's first grading inserts every row without reading the draft (by the
        # unique index: one probe). Every writer of a committee's month holds its lock.
        cursor.execute(
            f"SELECT 1 FROM grading_memberscore WHERE committee_id IN ({_in(committees)}) AND month = %s LIMIT 1",
            [*committees, month],
        )
        empty = cursor.fetchone() is None
        if reads_whole_month(passes):
            # The marks before the totals, each statement seeing what was committed when
            # it began: an entry committed in between is in the totals but not in the
            # marks, so the draft looks stale and is regraded (never the reverse).
            marks = month_marks(cursor, month)
        statement = member_statement(passes=passes, month=month, empty=empty)
        if statement is not None:
            cursor.execute(*statement)
    return marks, empty or (statement is not None and connection.vendor == "postgresql")


def drop_leavers(*, passes: list[Pass], month: datetime.date) -> None:
    """Members who no longer count for a committee's month leave its draft: one DELETE."""
    end = month_end(month)
    params = [x for p in passes for b in p.branches for x in (b.pk, p.committee.pk)]
    committees = [p.committee.pk for p in passes]
    # A committee without branches keeps nobody: its mapping is a row that matches none.
    mapping = _mapping_sql(len(params) // 2 or 1, "branch_id, committee_id", "CAST(%s AS BIGINT), CAST(%s AS BIGINT)")
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            # The first grading of a month has just inserted every member's row, which the
            # statistics cannot know (one transaction): the planner expected ~50 rows and
            # probed the mapping once per row in a nested loop — 18 s at 100,000 members
            # and growing with members × branches. A hash anti join reads each side once.
            cursor.execute("SET LOCAL enable_nestloop = off")
        cursor.execute(
            f"""WITH {mapping}
                DELETE FROM grading_memberscore
                WHERE month = %s AND committee_id IN ({_in(committees)}) AND NOT EXISTS (
                    SELECT 1 FROM members_membership ms JOIN g ON g.branch_id = ms.branch_id
                    WHERE ms.member_id = grading_memberscore.member_id
                      AND g.committee_id = grading_memberscore.committee_id
                      AND ms.started_on <= %s AND (ms.ended_on IS NULL OR ms.ended_on > %s))""",
            [*(params or [None, None]), month, *committees, end, end],
        )
        if postgres:
            cursor.execute("SET LOCAL enable_nestloop TO DEFAULT")


# The bottom three (PRODUCT.md appendix and rulings), N = the version's
# ``bottom_three_count`` (default 3): fewer than N branches strictly lower, never a branch
# ranked first (so when all tie, none), nobody where a committee grades N branches or
# fewer. Each committee ranked on its own. Parameters: N, N, the committees, month.
RANK_SQL = """
    UPDATE grading_branchscore
    SET rank = r.rank_desc, bottom_three = (r.strictly_lower < %s AND r.graded > %s AND r.rank_desc > 1)
    FROM (
        SELECT id,
               RANK() OVER (PARTITION BY committee_id ORDER BY total DESC) AS rank_desc,
               RANK() OVER (PARTITION BY committee_id ORDER BY total ASC) - 1 AS strictly_lower,
               COUNT(*) OVER (PARTITION BY committee_id) AS graded
        FROM grading_branchscore
        WHERE committee_id IN ({committees}) AND month = %s
    ) AS r
    WHERE grading_branchscore.id = r.id
"""


def rank_branches(*, committee: OrgUnit, month: datetime.date, bottom_count: int) -> None:
    """Rank a committee's draft of a month and flag its bottom ``bottom_count``: one UPDATE."""
    rank_committees(committee_ids=[committee.pk], month=month, bottom_count=bottom_count)


def rank_committees(*, committee_ids: list[int], month: datetime.date, bottom_count: int) -> None:
    """``rank_branches`` for several committees of one bottom count: one UPDATE."""
    with connection.cursor() as cursor:
        cursor.execute(
            RANK_SQL.format(committees=_in(committee_ids)), [bottom_count, bottom_count, *committee_ids, month]
        )


@dataclass
class BranchInputs:
    required: int = 0
    held: int = 0
    present: int = 0
    late: int = 0
    absent: int = 0
    excused: int = 0
    members: int = 0
    points_sum: Decimal = ZERO

    @property
    def mean(self) -> Fraction:
        """Exact: it is divided again (by the highest mean) before anything is rounded."""
        return Fraction(self.points_sum) / self.members if self.members else Fraction(0)


def branch_inputs_of(
    *, passes: list[Pass], month: datetime.date
) -> tuple[dict[int, dict[int, BranchInputs]], dict[int, int]]:
    """(committee id → branch id → the branch's inputs, committee id → members in its
    draft), for every committee of ``passes``
    at once: the compliance matrix once per version, then one query each for the
    attendance at the month's held activities (by the activities' (date, kind) index and
    attendance by activity) and the members' totals the pass has just written."""
    end = month_end(month)
    inputs = {p.committee.pk: {b.pk: BranchInputs() for b in p.branches} for p in passes}
    counted = {p.committee.pk: 0 for p in passes}
    by_branch = {b.pk: inputs[p.committee.pk][b.pk] for p in passes for b in p.branches}
    if not by_branch:
        return inputs, counted  # committees whose branches all sit under committees below them
    ids = list(by_branch)
    # Judged as of the day after the month, when every requirement of the month is due,
    # and by the version the run grades with (an impact preview hands in a new one).
    by_version: dict[int, tuple[RuleSetVersion, list[OrgUnit]]] = {}
    for p in passes:
        by_version.setdefault(p.version.pk, (p.version, []))[1].extend(p.branches)
    for version, branches in by_version.values():
        cells = compliance_matrix(
            branches=branches, months=[month], today=end + datetime.timedelta(days=1), version=version
        )
        for (branch_id, _month), cell in cells.items():
            by_branch[branch_id].required, by_branch[branch_id].held = cell.required, cell.met
    statuses = ", ".join(
        f"SUM(CASE WHEN t.status = '{s}' THEN 1 ELSE 0 END)"
        for s in (AttendanceStatus.PRESENT, AttendanceStatus.LATE, AttendanceStatus.ABSENT, AttendanceStatus.EXCUSED)
    )
    committees = list(inputs)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT a.branch_id, {statuses}
                FROM activities_attendance t JOIN activities_activity a ON a.id = t.activity_id
                WHERE a.branch_id IN ({_in(ids)}) AND a.date >= %s AND a.date <= %s AND a.status = 'held'
                GROUP BY a.branch_id""",
            [*ids, month, end],
        )
        for branch_id, present, late, absent, excused in cursor.fetchall():
            row = by_branch[branch_id]
            row.present, row.late, row.absent, row.excused = int(present), int(late), int(absent), int(excused)
        # Sums as text keep SQLite's numbers exact on their way into Decimal.
        cursor.execute(
            f"""SELECT committee_id, branch_id, COUNT(*), CAST(SUM(total) AS TEXT) FROM grading_memberscore
               WHERE committee_id IN ({_in(committees)}) AND month = %s GROUP BY committee_id, branch_id""",
            [*committees, month],
        )
        for committee_id, branch_id, count, total in cursor.fetchall():
            counted[committee_id] += int(count)
            row = inputs[committee_id].get(branch_id)
            if row is not None:
                row.members = int(count)
                row.points_sum = Decimal(str(total or 0))
    return inputs, counted


def weighted_total(*, scores: dict[str, Decimal | None], version: RuleSetVersion) -> Decimal:
    """Weighted sum of the rounded dimensions; a dimension that is None is "not
    assessed" and its weight is shared out over the others in proportion. Exact: the
    sums are integer ratios (a Fraction per term cost 0.2 s at 1,300 branches), rounded
    once."""
    weights = version.weights
    total_num, total_den, weight_num, weight_den = 0, 1, 0, 1
    for dimension, score in scores.items():
        if score is None:
            continue
        wn, wd = weights[dimension].as_integer_ratio()
        sn, sd = score.as_integer_ratio()
        total_num, total_den = total_num * wd * sd + wn * sn * total_den, total_den * wd * sd
        weight_num, weight_den = weight_num * wd + wn * weight_den, weight_den * wd
    if weight_num == 0:
        return ZERO
    return quantize_ratio(total_num * weight_den, total_den * weight_num, CENT)


def grade(*, run: GradingRun, version: RuleSetVersion, progress=lambda pct: None) -> tuple[int, int]:
    """Write the draft of ``run.committee`` for ``run.month``. The caller holds the
    transaction and the lock. Returns (branches, members) graded."""
    committee = run.committee
    graded = grade_passes(
        passes=[Pass(committee, version, graded_branches(committee=committee, month=run.month), run)],
        month=run.month,
        progress=progress,
    )
    return graded[committee.pk]


def grade_passes(
    *, passes: list[Pass], month: datetime.date, progress=lambda pct: None, ledger: list | None = None
) -> dict[int, tuple[int, int]]:
    """Write the drafts of every committee of ``passes`` for ``month``, their runs'
    committees and months: the members of all in one statement, the branch inputs of all
    in a few queries, then each committee's branches and groups. The caller holds the
    transaction and the locks. Returns committee id → (branches, members) graded.
    ``ledger``: a list the ledger's marks per branch are appended to when the members'
    statement read them (PostgreSQL, a whole month)."""
    marks, dropped = grade_members(passes=passes, month=month)
    if marks is not None and ledger is not None:
        ledger.append(marks)
    if not dropped:
        drop_leavers(passes=passes, month=month)
    progress(50)
    inputs, counted = branch_inputs_of(passes=passes, month=month)
    # The scheme and the entered scores once per version (one, mostly), not per committee.
    schemes, entered = {}, {}
    for p in passes:
        schemes.setdefault(p.version.pk, []).append(p)
    for pk, same in schemes.items():
        scheme = scheme_of(same[0].version)
        ids = [b.pk for q in same for b in q.branches]
        schemes[pk], entered[pk] = scheme, entered_scores(branch_ids=ids, month=month, scheme=scheme)
    graded, rows = {}, []
    for p in passes:
        mine = _branch_rows(p, inputs[p.committee.pk], schemes[p.version.pk], entered[p.version.pk])
        graded[p.committee.pk] = (len(mine), counted[p.committee.pk])
        rows += mine
    _write_branches(passes=passes, month=month, rows=rows)
    # 星级党小组 in the same runs and transaction. Imported here: groups reads this module.
    from .groups import grade_groups_of

    grade_groups_of(passes=passes, month=month)
    progress(90)
    return graded


def _branch_rows(p: Pass, inputs: dict[int, BranchInputs], scheme: Scheme, entered: EnteredScores) -> list[tuple]:
    """One committee's branch draft rows (tuples in ``BRANCH_COLUMNS`` order, ranked)
    from its branches' inputs and entered scores."""
    committee, month, run, version, branches = p.committee, p.run.month, p.run, p.version, p.branches
    # Every quantity below that is rounded is computed exactly (Fraction) and rounded
    # once; the stored four-place intermediates are for display only.
    max_mean = max((max(row.mean, Fraction(0)) for row in inputs.values()), default=Fraction(0))
    shown_max = exact_quantize(max_mean, FOUR_PLACES)
    rows = []
    for branch in branches:
        row = inputs[branch.pk]
        # Basics and membership are computed even where the version has the committee
        # enter them: their inputs stay on the row for reference, the values are not used.
        basics = half_up(Fraction(100 * row.held, row.required)) if row.required else ZERO
        expected = row.present + row.late + row.absent
        attendance_half = Fraction(100 * (row.present + row.late), expected) if expected else Fraction(0)
        points_half = 100 * max(row.mean, Fraction(0)) / max_mean if max_mean > 0 else Fraction(0)
        membership = half_up((attendance_half + points_half) / 2)
        scores: dict[str, Decimal | None] = {Dimension.BASICS: basics, Dimension.MEMBERSHIP: membership}
        for dimension in scheme.entered:
            scores[dimension] = entered.value(scheme, branch.pk, dimension)
        rows.append(
            (
                committee.pk,
                month,
                branch.pk,
                run.pk,
                scores[Dimension.BASICS],
                scores[Dimension.COMMITTEE_WORK],
                scores[Dimension.PRODUCTION],
                scores[Dimension.MEMBERSHIP],
                scores[Dimension.OTHER],
                weighted_total(scores=scores, version=version),
                row.required,
                row.held,
                row.present,
                row.late,
                row.absent,
                row.excused,
                row.members,
                exact_quantize(row.mean, FOUR_PLACES),
                shown_max,
                exact_quantize(attendance_half, FOUR_PLACES),
                exact_quantize(points_half, FOUR_PLACES),
            )
        )
    total = BRANCH_COLUMNS.index("total")
    placed = ranked_with_bottom([r[total] for r in rows], bottom_count=version.bottom_three_count)
    return [(*r, rank, bottom) for r, (rank, bottom) in zip(rows, placed, strict=True)]


def ranked_with_bottom(totals: list[Decimal], *, bottom_count: int) -> list[tuple[int, bool]]:
    """(rank, bottom three) of each of a committee's ``totals``, in their order, as
    ``RANK_SQL`` computes them: the rank highest first, ties sharing it; the bottom
    ``bottom_count`` those with fewer than ``bottom_count`` branches strictly lower,
    never a branch ranked first, nobody where the committee grades ``bottom_count``
    branches or fewer."""
    lower: dict[Decimal, int] = {}
    for position, value in enumerate(sorted(totals)):
        lower.setdefault(value, position)
    graded = len(totals)
    return [
        (rank, lower[value] < bottom_count and graded > bottom_count and rank > 1)
        for value, rank in zip(totals, ranks(totals), strict=True)
    ]


def ranks(values: list) -> list[int]:
    """``RANK()`` of each of ``values`` (in their order), highest first: equal values
    share a rank and the next is skipped."""
    above: dict = {}
    for position, value in enumerate(sorted(values, reverse=True), start=1):
        above.setdefault(value, position)
    return [above[value] for value in values]


# The draft's columns in the order ``_branch_rows`` gives them (rank and bottom three last).
BRANCH_COLUMNS = [
    "committee_id",
    "month",
    "branch_id",
    "run_id",
    "basics",
    "committee_work",
    "production",
    "membership",
    "other",
    "total",
    "required",
    "held",
    "present",
    "late",
    "absent",
    "excused",
    "members",
    "member_mean",
    "max_mean",
    "attendance_half",
    "points_half",
    "rank",
    "bottom_three",
]


def _write_branches(*, passes: list[Pass], month: datetime.date, rows: list[tuple]) -> None:
    """Upsert the branch drafts of every committee of ``passes``, ranked, and drop the
    branches that no longer count: one statement each, however many committees. The
    ranks are computed before writing (the draft holds exactly the branches written),
    so no second pass over the table."""
    upsert_rows(
        model=BranchScore,
        unique=["committee_id", "month", "branch_id"],
        columns=BRANCH_COLUMNS,
        rows=rows,
    )
    BranchScore.objects.filter(committee_id__in=[p.committee.pk for p in passes], month=month).exclude(
        run_id__in=[p.run.pk for p in passes]
    ).delete()
