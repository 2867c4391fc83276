"""The compliance matrix's summary line ("N of M branches with nothing missing") over
every branch of a tree, cached (issue 14).

The matrix itself only computes the cells of the page shown (50 branches), but the
summary counts every branch of the tree: at 1,300 branches that was 85% of the page's
time (the held activities of the whole year, then Python over every branch-month). The
answer is kept in Django's cache under a key holding everything it depends on, read
fresh on every request in one query plus what the page reads anyway:

* the branches counted, with the dates they existed and their first tracked month
  (a branch added, dissolved or moved under another committee is another key);
* today (a month that ends turns "not yet due" into "missing");
* the activities of the year — count, latest id, latest change (``updated_at``: a
  cancelled, re-dated or edited activity; a deleted one lowers the count);
* the org units — count, latest change and a checksum of what the matrix reads of
  each: its place in the tree (a unit moved, which an ``update()`` of paths does
  without touching ``updated_at``), kind, name, order and dates (party groups
  established or dissolved, which owe per-group requirements);
* the rule sets, their versions and meeting requirements — count and latest id each
  (a version's requirements are written with it and never edited in place).

The rows of the page shown (``rows_key``) are kept the same way: the rendered table
body of those branches, under the same data version plus the page's branches with the
names and committee headings they show, and the language.

What a whole page shows (``page_key``: the rows, the summary and the page's place) is
kept under the data version alone with the unit, year, day, page and language: as the
version covers every unit, a page read from it skips listing the tree's branches and
their committees, which a 1,300-branch tree spent more on than on anything else.

A cache that is down or fails is a miss: the summary is computed as if nothing were
cached.
"""

import datetime
import hashlib
import logging

from django.core.cache import cache
from django.db import connection
from django.utils.translation import get_language

from branches.models import OrgUnit
from branches.selectors import tracked_from_for
from members.ledger.models import MeetingRequirement, RuleSet, RuleSetVersion

from ..models import Activity
from .requirements import BranchEntry, compliant_branch_ids, first_of_month, month_end

logger = logging.getLogger(__name__)

# Bumped when what the summary counts changes: old answers are never read.
SUMMARY_VERSION = 1
SECONDS = 24 * 3600


# What the matrix reads of every unit, checksummed: where it sits in the tree (a move
# is an ``update()`` of paths and parents that leaves ``updated_at`` alone), its kind,
# name and order, and its dates — not left to the latest ``updated_at`` alone, which two
# saves within one tick of the clock would leave unchanged. The text is aggregated in
# the table's order, not sorted (a third of the cost): rows that only moved on disk make
# another version, a cache miss, never a stale page.
TREE_FIELDS = (
    "id",
    "parent_id",
    "path",
    "kind",
    "name",
    "sort_order",
    "established_on",
    "dissolved_on",
    "tracked_from",
)


def _tree_checksum_sql(table: str) -> str:
    parts = ", ':', ".join(TREE_FIELDS)
    return f"SELECT COUNT(*), MAX(updated_at), md5(string_agg(concat({parts}), ',')) FROM {table}"


def _tree_checksum_python() -> tuple:
    """``_tree_checksum_sql`` where the database has no ``md5`` (SQLite): the same
    fields read and hashed here."""
    rows = list(OrgUnit.objects.order_by("pk").values_list(*TREE_FIELDS, "updated_at"))
    latest = max((row[-1] for row in rows), default=None)
    return (len(rows), latest, hashlib.md5(repr([row[:-1] for row in rows]).encode()).hexdigest())


def data_version(*, months: list[datetime.date]) -> tuple:
    """One row that changes whenever the activities of ``months``, the org units or the
    rules change. One query (on SQLite, two: the tree's checksum is taken in Python)."""
    start, end = first_of_month(min(months)), month_end(first_of_month(max(months)))
    tables = [Activity, OrgUnit, RuleSet, RuleSetVersion, MeetingRequirement]
    activity, unit, rule_set, version, requirement = (model._meta.db_table for model in tables)
    postgres = connection.vendor == "postgresql"
    tree = f"({_tree_checksum_sql(unit)}) u," if postgres else ""
    with connection.cursor() as cursor:
        # Each table is read once (a cross join of one-row aggregates); the activities
        # from an index that holds what is counted (``activity_date_version``).
        cursor.execute(
            f"""
            SELECT * FROM
              (SELECT COUNT(*), MAX(id), MAX(updated_at) FROM {activity} WHERE date >= %s AND date <= %s) a,
              {tree}
              (SELECT COUNT(*), MAX(id) FROM {rule_set}) s,
              (SELECT COUNT(*), MAX(id) FROM {version}) v,
              (SELECT COUNT(*), MAX(id) FROM {requirement}) r
            """,
            [start, end],
        )
        row = cursor.fetchone()
    if not postgres:
        row = (*row, *_tree_checksum_python())
    return tuple(str(value) for value in row)


def _branch_parts(branches: list[OrgUnit]) -> list[tuple]:
    tracked_from = tracked_from_for(units=branches)
    return [(b.pk, b.kind, str(b.established_on), str(b.dissolved_on), str(tracked_from[b.pk])) for b in branches]


def _digest(parts: list) -> str:
    return hashlib.sha256(repr([SUMMARY_VERSION, *parts]).encode()).hexdigest()[:32]


def get(key: str):
    try:
        return cache.get(key)
    except Exception:  # a cache that is down is a miss, never an error page
        logger.warning("compliance cache: get failed", exc_info=True)
        return None


def put(key: str, value) -> None:
    try:
        cache.set(key, value, SECONDS)
    except Exception:
        logger.warning("compliance cache: set failed", exc_info=True)


def compliant_count(
    *, branches: list[OrgUnit], months: list[datetime.date], today: datetime.date, version: tuple | None = None
) -> int:
    """How many of ``branches`` have nothing missing (yet) in ``months``: the size of
    ``compliant_branch_ids``, from the cache when nothing it depends on changed. Two
    queries on a hit (the first tracked months, unless known, and the data's version,
    unless given: ``data_version``)."""
    if not branches or not months:
        return len(branches)
    version = version or data_version(months=months)
    parts = [today.isoformat(), [m.isoformat() for m in months], _branch_parts(branches), version]
    key = f"activities:compliant:{_digest(parts)}"
    cached = get(key)
    if cached is not None:
        return cached
    count = len(compliant_branch_ids(branches=branches, months=months, today=today))
    put(key, count)
    return count


def rows_key(
    *,
    unit: OrgUnit,
    entries: list[BranchEntry],
    months: list[datetime.date],
    today: datetime.date,
    version: tuple,
) -> str:
    """The cache key of the matrix's rendered rows for ``entries`` (the page shown)
    under ``unit``: what the cells are computed from (``version``: ``data_version``),
    the branches with the names and committee headings shown, and the language."""
    branches = [e.branch for e in entries]
    shown = [
        (e.branch.name, e.committee.pk if e.committee else None, e.committee.name if e.committee else "")
        for e in entries
    ]
    parts = [
        "rows",
        unit.is_branch,
        today.isoformat(),
        [m.isoformat() for m in months],
        _branch_parts(branches),
        shown,
        version,
        get_language(),
    ]
    return f"activities:compliance-rows:{_digest(parts)}"


def page_key(*, unit: OrgUnit, year: int, today: datetime.date, page: int, version: tuple) -> str:
    """The cache key of what the matrix page of ``unit`` shows for ``year`` on ``page``
    (the rows, the summary and the page count): ``version`` (``data_version``) covers
    every unit and activity it is computed from; the day and the language are the rest."""
    parts = ["page", unit.pk, year, today.isoformat(), page, version, get_language()]
    return f"activities:compliance-page:{_digest(parts)}"
