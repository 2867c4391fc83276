"""Proof that nothing was lost or doubled (``manage.py check_consistency``).

Each check is one SQL statement (GROUP BY and anti-joins) that returns the offending
rows, so it costs the same on the demo and on 100,000 members:

* ``attendance``: every attendance's standing points (entries neither reversing nor
  reversed) equal what its status earns under the rule-set version in force for the
  activity's branch and month — per rule, the rule's points (times the class hours
  where the rule is per hour); nothing for a cancelled activity, nothing for a rule
  that does not match. A capped rule may stand lower (the cap clipped it when it was
  posted) but never above its points, never below zero.
* ``caps``: no member's month holds more of a capped rule than its cap.
* ``reversals``: each reversing entry mirrors exactly one original: the same member,
  month, rule, source and step, the points negated; it reverses no reversal, and no
  original is reversed twice.
* ``drafts``: every member row of a current draft (its run's watermark equals the
  inputs' now: the draft says it is up to date) equals the ledger's sums for the member
  and month, per category and in total. Stale drafts are counted, not compared.
* ``closed_months``: no entry was recorded in a committee's month while it was closed
  (between a close and the next reopening, by the entry's ``recorded_at``).

Which version is in force comes from ``members.ledger.services.rule_versions_by_month``
(the one rule, for every branch and month at once), handed to the SQL as a table.
"""

import datetime
from dataclasses import dataclass, field

from django.db import connection, transaction

from branches.grading import engine
from branches.grading.models import GradingRun
from branches.models import OrgUnit
from members.ledger.models import Category
from members.ledger.services import rule_versions_by_month

EXAMPLES = 5


@dataclass
class Check:
    name: str
    description: str
    checked: int = 0
    problems: int = 0
    examples: list[str] = field(default_factory=list)
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.problems == 0


def _rows(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def _versions_table() -> None:
    """``cc_version(branch_id, month, version_id)``: the version in force for every
    (branch, month) that has activities."""
    pairs = _rows("SELECT DISTINCT branch_id, date_trunc('month', date)::date FROM activities_activity ORDER BY 1, 2")
    _rows("DROP TABLE IF EXISTS cc_version")
    _rows("CREATE TEMP TABLE cc_version (branch_id bigint, month date, version_id bigint) ON COMMIT DROP")
    if not pairs:
        return
    units = {u.pk: u for u in OrgUnit.objects.filter(pk__in={b for b, _ in pairs})}
    months = sorted({m for _, m in pairs})
    in_force = rule_versions_by_month(units=list(units.values()), months=months)
    rows = [(b, m, in_force[(b, m)].pk) for b, m in pairs if in_force.get((b, m)) is not None]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO cc_version SELECT * FROM unnest(%s::bigint[], %s::date[], %s::bigint[])",
            [[r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]],
        )
    _rows("ANALYZE cc_version")


# Standing entries: neither reversing nor reversed.
STANDING = """
    SELECT le.* FROM ledger_ledgerentry le
    WHERE le.reverses_id IS NULL
      AND NOT EXISTS (SELECT 1 FROM ledger_ledgerentry r WHERE r.reverses_id = le.id)
"""

ATTENDANCE_SQL = f"""
    WITH expected AS (
        SELECT a.id AS attendance_id, r.id AS rule_id, r.code, r.monthly_cap,
               CASE WHEN r.per_class_hour THEN round(r.points_min * act.class_hours, 2)
                    ELSE r.points_min END AS points
        FROM activities_attendance a
        JOIN activities_activity act ON act.id = a.activity_id AND act.status = 'held'
        JOIN cc_version v ON v.branch_id = act.branch_id AND v.month = date_trunc('month', act.date)::date
        JOIN ledger_rule r ON r.version_id = v.version_id AND r.source = 'attendance'
             AND r.activity_kinds ? act.kind AND r.attendance_statuses ? a.status
             AND (NOT r.per_class_hour OR COALESCE(act.class_hours, 0) > 0)
    ),
    standing AS (
        SELECT s.source_id AS attendance_id, s.rule_id, SUM(s.points) AS points, COUNT(*) AS n
        FROM ({STANDING}) s
        WHERE s.source = 'attendance'
        GROUP BY s.source_id, s.rule_id
    )
    SELECT COALESCE(e.attendance_id, s.attendance_id), COALESCE(e.rule_id, s.rule_id),
           e.points, s.points, s.n, e.monthly_cap
    FROM expected e
    FULL JOIN standing s ON s.attendance_id = e.attendance_id AND s.rule_id = e.rule_id
    WHERE e.attendance_id IS NULL                           -- points no rule gives
       OR (s.attendance_id IS NULL AND e.points <> 0)       -- points lost
       OR s.n > 1                                           -- posted twice
       OR (e.monthly_cap IS NULL AND s.points <> e.points)
       OR (e.monthly_cap IS NOT NULL AND (s.points > e.points OR s.points < 0))
    ORDER BY 1, 2
"""

CAPS_SQL = """
    SELECT le.member_id, le.month, r.code, SUM(le.points), MAX(r.monthly_cap)
    FROM ledger_ledgerentry le JOIN ledger_rule r ON r.id = le.rule_id
    WHERE r.monthly_cap IS NOT NULL
    GROUP BY le.member_id, le.month, r.code
    HAVING SUM(le.points) > MAX(r.monthly_cap)
    ORDER BY 1, 2, 3
"""

REVERSALS_SQL = """
    SELECT r.id, r.reverses_id, r.points, o.points,
           CASE WHEN o.reverses_id IS NOT NULL THEN 'reverses a reversal'
                WHEN r.points <> -o.points THEN 'points not negated'
                WHEN r.member_id <> o.member_id THEN 'another member'
                WHEN r.month <> o.month THEN 'another month'
                WHEN r.rule_id <> o.rule_id THEN 'another rule'
                WHEN r.source <> o.source OR r.source_id IS DISTINCT FROM o.source_id
                  OR r.source_key <> o.source_key THEN 'another source'
           END
    FROM ledger_ledgerentry r JOIN ledger_ledgerentry o ON o.id = r.reverses_id
    WHERE o.reverses_id IS NOT NULL OR r.points <> -o.points OR r.member_id <> o.member_id
       OR r.month <> o.month OR r.rule_id <> o.rule_id OR r.source <> o.source
       OR r.source_id IS DISTINCT FROM o.source_id OR r.source_key <> o.source_key
    UNION ALL
    SELECT MIN(r.id), r.reverses_id, NULL, NULL, 'reversed ' || COUNT(*) || ' times'
    FROM ledger_ledgerentry r WHERE r.reverses_id IS NOT NULL
    GROUP BY r.reverses_id HAVING COUNT(*) > 1
    ORDER BY 1
"""

_CATEGORY_SUMS = ", ".join(
    f"COALESCE(SUM(le.points) FILTER (WHERE le.category = '{c}'), 0) AS {c}" for c in Category.values
)
_CATEGORY_DIFF = " OR ".join(f"ms.{c} <> COALESCE(t.{c}, 0)" for c in Category.values)
DRAFTS_SQL = f"""
    SELECT ms.committee_id, ms.month, ms.member_id, ms.total, COALESCE(t.total, 0)
    FROM grading_memberscore ms
    JOIN unnest(%s::bigint[], %s::date[]) AS cur(committee_id, month)
         ON cur.committee_id = ms.committee_id AND cur.month = ms.month
    LEFT JOIN LATERAL (
        SELECT {_CATEGORY_SUMS}, SUM(le.points) AS total
        FROM ledger_ledgerentry le WHERE le.member_id = ms.member_id AND le.month = ms.month
    ) t ON TRUE
    WHERE ms.total <> COALESCE(t.total, 0) OR {_CATEGORY_DIFF}
    ORDER BY 1, 2, 3
"""

CLOSED_SQL = """
    WITH committee_of AS (
        SELECT DISTINCT ON (b.id) b.id AS unit_id, c.id AS committee_id
        FROM branches_orgunit b
        JOIN branches_orgunit c ON c.kind = 'committee' AND left(b.path, length(c.path)) = c.path
        ORDER BY b.id, c.depth DESC
    ),
    closings AS (
        SELECT cm.committee_id, cm.month, e.at AS closed_at,
               (SELECT MIN(o.at) FROM branches_monthevent o
                WHERE o.committee_month_id = cm.id AND o.action = 'reopen' AND o.at > e.at) AS reopened_at
        FROM branches_committeemonth cm
        JOIN branches_monthevent e ON e.committee_month_id = cm.id AND e.action = 'close'
        UNION ALL  -- closed with no event on record (written directly): closed since it last changed
        SELECT cm.committee_id, cm.month, cm.changed_at, NULL
        FROM branches_committeemonth cm
        WHERE cm.state = 'closed'
          AND NOT EXISTS (SELECT 1 FROM branches_monthevent e WHERE e.committee_month_id = cm.id)
    )
    SELECT le.id, le.member_id, le.month, le.recorded_at, c.closed_at
    FROM ledger_ledgerentry le
    JOIN committee_of co ON co.unit_id = le.branch_id
    JOIN closings c ON c.committee_id = co.committee_id AND c.month = le.month
    WHERE le.recorded_at > c.closed_at AND (c.reopened_at IS NULL OR le.recorded_at < c.reopened_at)
    ORDER BY le.id
"""


def _current_drafts() -> tuple[list[tuple[int, datetime.date]], int]:
    """(committee, month) of every draft whose latest successful run is still current,
    and how many drafts are stale."""
    latest: dict[tuple[int, datetime.date], GradingRun] = {}
    for run in (
        GradingRun.objects.filter(state=GradingRun.State.SUCCEEDED)
        .select_related("committee")
        .order_by("finished_at", "pk")
    ):
        latest[(run.committee_id, run.month)] = run
    with_rows = set(_rows("SELECT DISTINCT committee_id, month FROM grading_memberscore"))
    current, stale = [], 0
    for key in sorted(with_rows):
        run = latest.get(key)
        if run is not None and engine.watermark(committee=run.committee, month=run.month) == run.watermark:
            current.append(key)
        else:
            stale += 1
    return current, stale


def _count(sql: str) -> int:
    return _rows(sql)[0][0]


def run_checks() -> list[Check]:
    """Every check, read in one REPEATABLE READ snapshot so concurrent writes cannot
    make the checks disagree with each other."""
    if connection.vendor != "postgresql":
        raise RuntimeError("check_consistency reads PostgreSQL (jsonb operators, LATERAL)")
    if connection.in_atomic_block:  # a caller's transaction (the tests): its snapshot
        with transaction.atomic():
            return _run_checks()
    with transaction.atomic():
        _rows("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return _run_checks()


def _run_checks() -> list[Check]:
    checks = []
    _versions_table()

    check = Check("attendance", "attendances whose standing points equal their status's rule")
    check.checked = _count("SELECT COUNT(*) FROM activities_attendance")
    rows = _rows(ATTENDANCE_SQL)
    check.problems = len({r[0] for r in rows})
    check.examples = [
        f"attendance {a} rule {rule}: expected {exp if exp is not None else 'nothing'}, "
        f"standing {got if got is not None else 'nothing'}" + (f" in {n} entries" if n and n > 1 else "")
        for a, rule, exp, got, n, _cap in rows[:EXAMPLES]
    ]
    checks.append(check)

    check = Check("caps", "members' months within every capped rule's cap")
    rows = _rows(CAPS_SQL)
    check.checked = _count(
        "SELECT COUNT(*) FROM (SELECT DISTINCT le.member_id, le.month, r.code FROM ledger_ledgerentry le "
        "JOIN ledger_rule r ON r.id = le.rule_id WHERE r.monthly_cap IS NOT NULL) t"
    )
    check.problems = len(rows)
    check.examples = [
        f"member {m} {month:%Y-%m} {code}: {total} over the cap {cap}" for m, month, code, total, cap in rows[:EXAMPLES]
    ]
    checks.append(check)

    check = Check("reversals", "reversing entries that mirror exactly one original")
    check.checked = _count("SELECT COUNT(*) FROM ledger_ledgerentry WHERE reverses_id IS NOT NULL")
    rows = _rows(REVERSALS_SQL)
    check.problems = len(rows)
    check.examples = [f"entry {r} reversing {o}: {why}" for r, o, _p, _q, why in rows[:EXAMPLES]]
    checks.append(check)

    check = Check("drafts", "member rows of current drafts equal to the ledger's sums")
    current, stale = _current_drafts()
    if current:
        committees, months = [c for c, _ in current], [m for _, m in current]
        check.checked = _rows(
            "SELECT COUNT(*) FROM grading_memberscore ms JOIN unnest(%s::bigint[], %s::date[]) AS cur(c, m) "
            "ON cur.c = ms.committee_id AND cur.m = ms.month",
            [committees, months],
        )[0][0]
        rows = _rows(DRAFTS_SQL, [committees, months])
    else:
        rows = []
    check.problems = len(rows)
    check.note = f"{len(current)} current draft(s) compared, {stale} stale skipped"
    check.examples = [
        f"committee {c} {month:%Y-%m} member {m}: draft {draft}, ledger {ledger}"
        for c, month, m, draft, ledger in rows[:EXAMPLES]
    ]
    checks.append(check)

    check = Check("closed_months", "entries recorded while their month was open")
    check.checked = _count("SELECT COUNT(*) FROM ledger_ledgerentry")
    rows = _rows(CLOSED_SQL)
    check.problems = len(rows)
    check.examples = [
        f"entry {e} (member {m}, {month:%Y-%m}) recorded {at:%Y-%m-%d %H:%M:%S}, month closed {closed:%Y-%m-%d %H:%M:%S}"
        for e, m, month, at, closed in rows[:EXAMPLES]
    ]
    checks.append(check)
    return checks
