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
* the org units — count, latest id, latest change (party groups established or
  dissolved, which owe per-group requirements);
* the rule sets, their versions and meeting requirements — count and latest id each
  (a version's requirements are written with it and never edited in place).

The rows of the page shown (``rows_key``) are kept the same way: the rendered table
body of those branches, under the same data version plus the page's branches with the
names and committee headings they show, and the language.

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


def data_version(*, months: list[datetime.date]) -> tuple:
    """One row that changes whenever the activities of ``months``, the org units or the
    rules change. One query (portable SQL: SQLite runs it too)."""
    start, end = first_of_month(min(months)), month_end(first_of_month(max(months)))
    tables = [Activity, OrgUnit, RuleSet, RuleSetVersion, MeetingRequirement]
    activity, unit, rule_set, version, requirement = (model._meta.db_table for model in tables)
    with connection.cursor() as cursor:
        # Each table is read once (a cross join of one-row aggregates).
        cursor.execute(
            f"""
            SELECT * FROM
              (SELECT COUNT(*), MAX(id), MAX(updated_at) FROM {activity} WHERE date >= %s AND date <= %s) a,
              (SELECT COUNT(*), MAX(id), MAX(updated_at) FROM {unit}) u,
              (SELECT COUNT(*), MAX(id) FROM {rule_set}) s,
              (SELECT COUNT(*), MAX(id) FROM {version}) v,
              (SELECT COUNT(*), MAX(id) FROM {requirement}) r
            """,
            [start, end],
        )
        return tuple(str(value) for value in cursor.fetchone())


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
