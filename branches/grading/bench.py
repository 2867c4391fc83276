"""Benchmark data and measurements for ``manage.py bench_grading`` (issue 4, PostgreSQL).

The data is written set-based, straight into the tables, one ``INSERT … SELECT`` per
kind of row: a dense month of ledger entries (``members × entries_per_member``, rules,
categories and points mixed from the installation's default rule set), the month's
required activities with attendance for every member expected at them, and the
committee's three entered scores for every branch. Nothing here goes through the
services: a service call per row would take hours at 1.2 million entries, and the
benchmark measures the grading, not the writing.

The measurements: the full grading of the month (every committee, one run each, through
``grading_run_request`` and ``grading_run_execute``), the baseline of one raw
``GROUP BY`` of the month's entries by member and category, the grading's phases, the
plan of the member upsert, and the board page.
"""

import datetime
import json
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from unittest import mock

from django.db import connection, transaction
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from branches.activities.models import Activity, Attendance
from branches.choices import ActivityKind, AttendanceStatus
from branches.models import OrgUnit
from members.ledger.models import Category, LedgerEntry, Rule, RuleSetVersion, Source
from members.ledger.services import rule_versions_for
from members.models import MemberRole

from . import engine, groups, services
from .models import ENTERED_DIMENSIONS, BranchScore, GradingRun

# The baseline the grading is compared with: the month's points by member and category.
BASELINE_SQL = (
    "SELECT member_id, category, SUM(points) FROM ledger_ledgerentry WHERE month = %s GROUP BY member_id, category"
)
TARGET_RATIO = Decimal("2")

# A member's month, slot by slot: the n-th entry of a member is drawn from slot
# (n − 1) mod 12, and within a slot by a bucket 0–19 computed from the member and n,
# so each (rule, points) choice below holds ``share`` twentieths of the slot.
# (rule code, points, share); the shares of a slot add up to 20.
MIX: tuple[tuple[tuple[str, str, int], ...], ...] = (
    (("org_present", "2", 18), ("org_late", "1", 1), ("org_absent", "-2", 1)),  # themed day
    (("org_present", "2", 17), ("org_excused", "0", 2), ("org_absent", "-2", 1)),  # group meeting
    (("org_present", "2", 19), ("org_late", "1", 1)),  # a lecture or a general meeting
    (("study_task", "3", 19), ("org_present", "2", 1)),  # the month's study task
    (("training_hour", "1", 6), ("training_hour", "2", 8), ("training_hour", "4", 6)),
    (("training_hour", "2", 10), ("training_hour", "3", 10)),
    (("volunteer", "3", 14), ("org_present", "2", 6)),
    (("suggestion_adopted", "2", 6), ("commitment_met", "5", 8), ("suggestion_implemented", "5", 6)),
    (("exemplary_award", "2", 8), ("exemplary_award", "5", 8), ("exemplary_award", "10", 4)),
    (("org_present", "2", 16), ("org_late", "1", 4)),
    (("commitment_met", "5", 20),),
    (("deduction", "-2", 2), ("deduction", "-5", 1), ("org_present", "2", 17)),
)
BUCKETS = 20

# Attendance at the generated activities, by a bucket 0–99 of member and activity.
ATTENDANCE_MIX = ((85, AttendanceStatus.PRESENT), (90, AttendanceStatus.LATE), (95, AttendanceStatus.EXCUSED))


def previous_month(today: datetime.date) -> datetime.date:
    return (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def median(values: list[float]) -> float:
    return statistics.median(values)


def entries_in_month(*, month: datetime.date) -> int:
    return LedgerEntry.objects.filter(month=month).count()


def default_version(*, month: datetime.date) -> RuleSetVersion:
    """The installation default's version in force in ``month``."""
    version = (
        RuleSetVersion.objects.filter(rule_set__committee__isnull=True, effective_month__lte=month)
        .order_by("-effective_month")
        .first()
    )
    if version is None:
        raise LookupError("the installation has no default rule set version for this month")
    return version


# --- data -------------------------------------------------------------------------------------


@dataclass
class Generated:
    entries: int = 0
    activities: int = 0
    attendances: int = 0
    score_inputs: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def _mix_values(version: RuleSetVersion) -> str:
    """``MIX`` as a literal VALUES list (slot, bucket, rule id, category, points, source);
    every value comes from this module or the rule table and is checked on the way."""
    rules = {r.code: r for r in Rule.objects.filter(version=version)}
    rows = []
    for slot, choices in enumerate(MIX):
        if sum(share for _code, _points, share in choices) != BUCKETS:
            raise ValueError(f"slot {slot} of the mix does not add up to {BUCKETS}")
        bucket = 0
        for code, points, share in choices:
            rule = rules[code]
            if rule.category not in Category.values or rule.source not in Source.values:
                raise ValueError(f"rule {code} has an unknown category or source")
            value = Decimal(points)
            for _ in range(share):
                rows.append(f"({slot}, {bucket}, {int(rule.pk)}, '{rule.category}', {value}, '{rule.source}')")
                bucket += 1
    return ", ".join(rows)


def insert_ledger_entries(*, month: datetime.date, per_member: int) -> int:
    """``per_member`` entries for every member in ``month``, booked to the member's
    current branch, recorded by nobody (the benchmark did). Returns the rows written."""
    version = default_version(month=month)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO ledger_ledgerentry
                (member_id, branch_id, month, rule_id, rule_version_id, category, points, source, source_id,
                 evidence, reason, reverses_id, recorded_by_id, recorded_at)
            SELECT m.id, m.branch_id, %s, x.rule_id, %s, x.category, x.points, x.source, NULL,
                   '', '', NULL, NULL, now()
            FROM members_member m
            CROSS JOIN generate_series(1, %s) AS g(n)
            JOIN (VALUES {_mix_values(version)}) AS x(slot, bucket, rule_id, category, points, source)
              ON x.slot = (g.n - 1) %% {len(MIX)}
             AND x.bucket = (m.id * 7 + g.n * 13 + (m.branch_id %% 5) * 3) %% {BUCKETS}
            """,
            [month, version.pk, per_member],
        )
        return cursor.rowcount


def _branch_exists_sql(alias: str) -> str:
    return (
        f"({alias}.established_on IS NULL OR {alias}.established_on <= %(end)s) "
        f"AND ({alias}.dissolved_on IS NULL OR {alias}.dissolved_on >= %(month)s)"
    )


def insert_activities(*, month: datetime.date, user_id: int | None) -> int:
    """The month's required meetings, held by most branches: a themed Party day for
    every branch, a committee meeting for nine in ten, a group meeting for six groups
    in seven, and in a quarter's last month a general meeting and a Party lecture for
    three branches in four. The shortfalls give the branches different basics."""
    end = engine.month_end(month)
    kinds = [
        (ActivityKind.THEMED_DAY, "主题党日", 0, None, 1),
        (ActivityKind.COMMITTEE_MEETING, "支部委员会会议", 3, None, 10),
    ]
    if month.month % 3 == 0:
        kinds += [
            (ActivityKind.GENERAL_MEETING, "支部党员大会", 6, None, 4),
            (ActivityKind.PARTY_LECTURE, "党课", 9, Decimal("2"), 4),
        ]
    values = ", ".join(
        f"('{kind}', '{title}', {offset}, {hours if hours is not None else 'NULL'}::numeric, {every})"
        for kind, title, offset, hours, every in kinds
    )
    params = {"month": month, "end": end, "user": user_id}
    common = "'党员活动室', '', '', 'held', '', %(user)s, now(), now()"
    with connection.cursor() as cursor:
        # A kind held by all but every ``every``-th branch (every = 1: all of them).
        cursor.execute(
            f"""
            INSERT INTO activities_activity
                (branch_id, group_id, kind, title, date, class_hours,
                 place, host, minutes, status, cancelled_reason, created_by_id, created_at, updated_at)
            SELECT b.id, NULL, k.kind, k.title, %(month)s::date + ((b.id + k.day) %% 25)::int, k.hours, {common}
            FROM branches_orgunit b
            CROSS JOIN (VALUES {values}) AS k(kind, title, day, hours, every)
            WHERE b.kind = 'branch' AND {_branch_exists_sql("b")} AND (k.every = 1 OR b.id %% k.every <> 0)
            """,
            params,
        )
        count = cursor.rowcount
        cursor.execute(
            f"""
            INSERT INTO activities_activity
                (branch_id, group_id, kind, title, date, class_hours,
                 place, host, minutes, status, cancelled_reason, created_by_id, created_at, updated_at)
            SELECT b.id, g.id, 'group_meeting', '党小组会', %(month)s::date + (g.id %% 25)::int, NULL, {common}
            FROM branches_orgunit g JOIN branches_orgunit b ON b.id = g.parent_id
            WHERE g.kind = 'group' AND b.kind = 'branch' AND g.id %% 7 <> 0
              AND {_branch_exists_sql("b")} AND {_branch_exists_sql("g")}
            """,
            params,
        )
        return count + cursor.rowcount


def insert_attendance(*, month: datetime.date, after_activity_id: int) -> int:
    """Attendance at the activities with ids above ``after_activity_id``: everyone who
    belonged to the branch at the month's end (the group's members at a group meeting,
    the sitting branch committee at a committee meeting), mostly present."""
    end = engine.month_end(month)
    status = " ".join(f"WHEN {{bucket}} < {limit} THEN '{s}'" for limit, s in ATTENDANCE_MIX)
    status = f"CASE {status} ELSE '{AttendanceStatus.ABSENT}' END"
    member_bucket = status.format(bucket="((ms.member_id * 31 + a.id * 17) %% 100)")
    role_bucket = status.format(bucket="((r.member_id * 31 + a.id * 17) %% 100)")
    roles = ", ".join(f"'{r}'" for r in MemberRole.COMMITTEE_ROLES)
    params = {"month": month, "end": end, "after": after_activity_id}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO activities_attendance (activity_id, member_id, status, changed_by_id, changed_at)
            SELECT a.id, ms.member_id, {member_bucket}, NULL, now()
            FROM activities_activity a
            JOIN members_membership ms
              ON ms.branch_id = a.branch_id AND ms.started_on <= %(end)s
             AND (ms.ended_on IS NULL OR ms.ended_on > %(end)s)
            WHERE a.id > %(after)s AND a.date >= %(month)s AND a.date <= %(end)s
              AND a.kind <> 'committee_meeting'
              AND (a.kind <> 'group_meeting' OR ms.group_id = a.group_id)
            """,
            params,
        )
        count = cursor.rowcount
        cursor.execute(
            f"""
            INSERT INTO activities_attendance (activity_id, member_id, status, changed_by_id, changed_at)
            SELECT DISTINCT ON (a.id, r.member_id) a.id, r.member_id, {role_bucket}, NULL, now()
            FROM activities_activity a
            JOIN members_memberrole r
              ON r.unit_id = a.branch_id AND r.role IN ({roles}) AND r.started_on <= %(end)s
             AND (r.ended_on IS NULL OR r.ended_on > %(end)s)
            WHERE a.id > %(after)s AND a.date >= %(month)s AND a.date <= %(end)s AND a.kind = 'committee_meeting'
            """,
            params,
        )
        return count + cursor.rowcount


def insert_score_inputs(*, month: datetime.date, user_id: int | None) -> int:
    """The committee's three entered scores for every branch of the month (60–99.99;
    production "not assessed" for one branch in fifty), with their history rows.
    Existing cells are left as they are."""
    end = engine.month_end(month)
    dimensions = ", ".join(f"('{d}', {i})" for i, d in enumerate(ENTERED_DIMENSIONS))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO grading_scoreinput (branch_id, month, dimension, score, not_assessed, entered_by_id, entered_at)
            SELECT b.id, %(month)s, d.dimension,
                   CASE WHEN d.dimension = 'production' AND b.id %% 50 = 0 THEN NULL
                        ELSE 60 + ((b.id * 37 + d.n * 1117) %% 4000) / 100.0 END,
                   d.dimension = 'production' AND b.id %% 50 = 0, %(user)s, now()
            FROM branches_orgunit b CROSS JOIN (VALUES {dimensions}) AS d(dimension, n)
            WHERE b.kind = 'branch' AND {_branch_exists_sql("b")}
            ON CONFLICT (branch_id, month, dimension) WHERE item_id IS NULL DO NOTHING
            """,
            {"month": month, "end": end, "user": user_id},
        )
        count = cursor.rowcount
        cursor.execute(
            """
            INSERT INTO grading_scoreinputchange (score_input_id, score, not_assessed, entered_by_id, entered_at)
            SELECT si.id, si.score, si.not_assessed, si.entered_by_id, si.entered_at
            FROM grading_scoreinput si
            WHERE si.month = %s
              AND NOT EXISTS (SELECT 1 FROM grading_scoreinputchange c WHERE c.score_input_id = si.id)
            """,
            [month],
        )
    return count


def _foreign_keys_checked_after(models_):
    # The seed's helper: at 1.2 million rows, checking each row's keys as it arrives
    # costs more than the insert. Imported late: it lives in a management command.
    from partybuild.management.commands.seed_demo import foreign_keys_checked_after

    return foreign_keys_checked_after(models_)


def generate_month(
    *, month: datetime.date, per_member: int, user_id: int | None, stage: Callable[[str], None] = lambda s: None
) -> Generated:
    """Write the benchmark month in one transaction. Activities and attendance only if
    the month has no activity yet; score inputs where a cell is empty; entries always."""
    result = Generated()
    with transaction.atomic():
        with _foreign_keys_checked_after((LedgerEntry, Activity, Attendance)):
            started = time.perf_counter()
            result.entries = insert_ledger_entries(month=month, per_member=per_member)
            result.seconds["ledger entries"] = time.perf_counter() - started
            stage(f"{result.entries:,} ledger entries")
            started = time.perf_counter()
            end = engine.month_end(month)
            if not Activity.objects.filter(date__gte=month, date__lte=end).exists():
                last = Activity.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
                result.activities = insert_activities(month=month, user_id=user_id)
                result.attendances = insert_attendance(month=month, after_activity_id=last)
            result.seconds["activities and attendance"] = time.perf_counter() - started
            stage(f"{result.activities:,} activities, {result.attendances:,} attendances")
        started = time.perf_counter()
        result.score_inputs = insert_score_inputs(month=month, user_id=user_id)
        result.seconds["score inputs"] = time.perf_counter() - started
        stage(f"{result.score_inputs:,} entered scores")
    started = time.perf_counter()
    refresh_statistics()
    result.seconds["statistics"] = time.perf_counter() - started
    return result


def refresh_statistics() -> None:
    """What autovacuum would have done by the time a month is graded: fresh planner
    statistics and (outside a transaction) a visibility map for index-only scans."""
    tables = [
        "ledger_ledgerentry",
        "ledger_membermonthpoints",
        "activities_activity",
        "activities_attendance",
        "grading_scoreinput",
        "members_membership",
    ]
    verb = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"{verb} {table}")


def vacuum_drafts() -> None:
    """Clear the dead rows a grading pass leaves (every pass rewrites 100,000 draft
    rows), as autovacuum would between two gradings; a no-op inside a transaction."""
    if connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        for table in ("grading_memberscore", "grading_branchscore", "grading_groupscore", "grading_gradingrun"):
            cursor.execute(f"VACUUM ANALYZE {table}")


def autovacuum_is_on() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        return cursor.fetchone()[0] == "on"


# --- measurements ---------------------------------------------------------------------------


def committees() -> list[OrgUnit]:
    """Every committee, as ``grade_month`` without ``--committee`` grades them (those
    whose branches all sit under committees below them included: their runs are short)."""
    return list(OrgUnit.objects.filter(kind=OrgUnit.Kind.COMMITTEE).order_by("path"))


@dataclass
class GradingPass:
    seconds: float
    branches: int
    members: int
    runs: int

    @property
    def per_member_us(self) -> float:
        return self.seconds / self.members * 1e6 if self.members else 0.0


def grade_month(*, month: datetime.date, committees: list[OrgUnit], user=None) -> GradingPass:
    """The full grading of ``month``: one run per committee, requested through the
    services and executed together (``grading_runs_execute``), as ``grade_month``
    without ``--committee`` does."""
    started = time.perf_counter()
    runs = [
        services.grading_run_request(committee=c, month=month, user=user, trigger=GradingRun.Trigger.COMMAND)
        for c in committees
    ]
    done = services.grading_runs_execute(run_ids=[run.pk for run in runs])
    seconds = time.perf_counter() - started
    return GradingPass(seconds, sum(r.branches_graded for r in done), sum(r.members_graded for r in done), len(done))


def time_baseline(*, month: datetime.date) -> tuple[float, int]:
    """The baseline, measured in the database: the execution time of one GROUP BY of the
    month's entries by member and category (EXPLAIN ANALYZE without per-node timing, so
    nothing is fetched into Python and the clock costs nothing). Returns (seconds, rows)."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " + BASELINE_SQL, [month])
        plan = cursor.fetchone()[0]
    plan = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
    return plan["Execution Time"] / 1000, int(plan["Plan"]["Actual Rows"])


def reset_drafts(*, month: datetime.date) -> None:
    """Forget the month's grading (member, branch and group drafts, the runs), as
    before the first grading of the month. Benchmark data only: never published."""
    with connection.cursor() as cursor:
        for table in ("grading_memberscore", "grading_groupscore", "grading_branchscore"):
            cursor.execute(f"DELETE FROM {table} WHERE month = %s", [month])
    vacuum_drafts()


def insert_fresh_entries(*, month: datetime.date) -> int:
    """One more entry for every member in ``month`` (freshly written data: the first
    grading reads it before any vacuum), then fresh planner statistics."""
    written = insert_ledger_entries(month=month, per_member=1)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE ledger_ledgerentry")
        cursor.execute("ANALYZE ledger_membermonthpoints")
    return written


def insert_changes(*, month: datetime.date, every: int, salt: int) -> tuple[int, int]:
    """What happens between two gradings: a new entry for one member in ``every`` and a
    reversal of one entry in ``every`` × 12 (not yet reversed) of the month.
    Returns (entries added, entries reversed)."""
    version = default_version(month=month)
    rule = (
        Rule.objects.filter(version=version, code="volunteer").first() or Rule.objects.filter(version=version).first()
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO ledger_ledgerentry
                (member_id, branch_id, month, rule_id, rule_version_id, category, points, source, source_id,
                 evidence, reason, reverses_id, recorded_by_id, recorded_at)
            SELECT m.id, m.branch_id, %s, %s, %s, %s, 3, %s, NULL, '', 'bench change', NULL, NULL, now()
            FROM members_member m WHERE (m.id + %s) %% %s = 0 AND m.branch_id IS NOT NULL
            """,
            [month, rule.pk, version.pk, rule.category, rule.source, salt, every],
        )
        added = cursor.rowcount
        cursor.execute(
            """
            INSERT INTO ledger_ledgerentry
                (member_id, branch_id, month, rule_id, rule_version_id, category, points, source, source_id,
                 evidence, reason, reverses_id, recorded_by_id, recorded_at)
            SELECT le.member_id, le.branch_id, le.month, le.rule_id, le.rule_version_id, le.category, -le.points,
                   le.source, le.source_id, '', 'bench reversal', le.id, NULL, now()
            FROM ledger_ledgerentry le
            WHERE le.month = %s AND le.reverses_id IS NULL AND (le.id + %s) %% %s = 0
              AND NOT EXISTS (SELECT 1 FROM ledger_ledgerentry r WHERE r.reverses_id = le.id)
            """,
            [month, salt, every * 12],
        )
        return added, cursor.rowcount


# Statements of the grading, by how they start: which phase they belong to.
SQL_PHASES = (
    ('INSERT INTO "grading_branchscore"', "branch upsert and ranking"),
    ('DELETE FROM "grading_branchscore"', "branch upsert and ranking"),
    ("UPDATE grading_branchscore", "branch upsert and ranking"),
)
# Engine functions timed whole (their statements included).
FUNCTION_PHASES = (
    ("watermarks", "watermark"),
    ("branch_inputs_of", "branch inputs"),
    ("grade_members", "member upsert"),
    ("drop_leavers", "member upsert"),
)


@contextmanager
def phase_timer():
    """Time the grading's phases: engine functions by wrapping them, single statements
    by a database execute wrapper. Yields a dict phase → seconds, summed over runs."""
    seconds: dict[str, float] = defaultdict(float)

    def timed(name: str, function):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                seconds[name] += time.perf_counter() - started

        return wrapper

    def statement(execute, sql, params, many, context):
        phase = next((name for prefix, name in SQL_PHASES if sql.lstrip().startswith(prefix)), None)
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            if phase:
                seconds[phase] += time.perf_counter() - started

    with ExitStack() as stack:
        for attribute, name in FUNCTION_PHASES:
            stack.enter_context(mock.patch.object(engine, attribute, timed(name, getattr(engine, attribute))))
        stack.enter_context(mock.patch.object(groups, "grade_groups_of", timed("groups", groups.grade_groups_of)))
        stack.enter_context(connection.execute_wrapper(statement))
        yield seconds


def _passes(*, month: datetime.date, committees: list[OrgUnit]) -> list[engine.Pass]:
    """The month's last successful run of each committee, as a grading pass."""
    runs = {}
    for run in GradingRun.objects.filter(month=month, state=GradingRun.State.SUCCEEDED).order_by("pk"):
        runs[run.committee_id] = run
    branches = engine.graded_branches_of(committees=committees, month=month)
    versions = rule_versions_for(units=committees, month=month)
    return [
        engine.Pass(c, versions[c.pk], branches[c.pk], runs[c.pk])
        for c in committees
        if c.pk in runs and versions[c.pk]
    ]


def _explain(sql: str, params=None) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of a statement, rolled back, with the grading's settings."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            lines = [row[0] for row in cursor.fetchall()]
        transaction.set_rollback(True)
    return lines


def explain_member_upsert(*, month: datetime.date, committees: list[OrgUnit]) -> list[str]:
    """The plan of the members' statement of the whole month (every committee at once)."""
    passes = _passes(month=month, committees=committees)
    if not passes:
        return []
    statement = engine.member_statement(passes=passes, month=month, empty=False)
    return _explain(*statement) if statement else []


def explain_inputs(*, month: datetime.date, committees: list[OrgUnit]) -> dict[str, list[str]]:
    """The plans of the watermarks' and the branch inputs' queries that read attendance,
    the ledger or the drafts (every committee at once), keyed by their first words."""
    passes = _passes(month=month, committees=committees)
    with CaptureQueriesContext(connection) as captured:
        engine.watermarks(committees=committees, month=month)
        engine.branch_inputs_of(passes=passes, month=month)
    plans = {}
    for query in captured.captured_queries:
        sql = query["sql"]
        if any(t in sql for t in ("activities_attendance", "ledger_membermonthpoints", "grading_memberscore")):
            plans[" ".join(sql.split())[:90]] = _explain(sql)
    return plans


def explain_baseline(*, month: datetime.date) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + BASELINE_SQL, [month])
        return [row[0] for row in cursor.fetchall()]


def committees_by_size(*, month: datetime.date) -> list[tuple[OrgUnit, int]]:
    """Committees with a draft for ``month`` and their branch counts, largest first."""
    rows = list(
        BranchScore.objects.filter(month=month)
        .values_list("committee_id")
        .annotate(n=Count("id"))
        .order_by("-n", "committee_id")
    )
    units = OrgUnit.objects.in_bulk([pk for pk, _n in rows])
    return [(units[pk], n) for pk, n in rows]


def largest_committee(*, month: datetime.date) -> OrgUnit | None:
    ranked = committees_by_size(month=month)
    return ranked[0][0] if ranked else None


@dataclass
class BoardFigures:
    url: str
    branches: int
    status: int = 0
    queries: int = 0
    seconds: list[float] = field(default_factory=list)
    sql_seconds: float = 0.0
    error: str = ""


def board_url(*, committee: OrgUnit, month: datetime.date) -> str | None:
    try:
        return reverse("grading:board", args=[committee.pk, month.year, month.month]) + "?draft=1"
    except NoReverseMatch:
        return None


def render_board(*, committee: OrgUnit, branches: int, month: datetime.date, user, repeat: int) -> BoardFigures | None:
    """Render a committee's draft board ``repeat`` times with the test client; None
    when the board view is not there yet."""
    from django.test import Client

    url = board_url(committee=committee, month=month)
    if url is None:
        return None
    client = Client()
    client.force_login(user)
    figures = BoardFigures(url, branches)
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            try:
                response = client.get(url)
            except Exception as exc:  # the page is someone else's work in progress: report, don't fail
                figures.error = f"{type(exc).__name__}: {exc}"
                return figures
            figures.seconds.append(time.perf_counter() - started)
        figures.status, figures.queries = response.status_code, len(captured)
        figures.sql_seconds = sum(float(q["time"]) for q in captured.captured_queries)
    return figures
