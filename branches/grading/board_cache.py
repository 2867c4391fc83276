"""The rendered body of a published board, cached (issue 14).

A published version never changes, so its board — the ranked table, the top members,
the five-star list and the distribution — is rendered once and kept in Django's cache
(Redis in production). What the body still depends on is all in the key:

* the publication (its id and version: a new version, after the month is reopened and
  published again, is a new key; the old version's page keeps its own);
* the previous month's latest publication (the movement column);
* the committee's talks of the month and today's date (the talk column: recorded,
  owed, overdue);
* the language, the print layout and whether every ★5 member is listed.

Nothing of the viewer is in the body: its only links are the branches' explanation
pages of the same version and the page itself, which everyone who may open the
published board may open too (``views.boards.explained``: the same committee access,
no draft). The header with the viewer's own buttons (draft, publish, PDF, Excel) and
the month's guided flow is rendered on every request. A cache that is down or fails
is a miss: the board is rendered as if nothing were cached.

A draft (``draft_key``) is cached the same way for the committee staff who may see it:
its rows are written only by a grading run, in the transaction that marks the run
succeeded, so the latest succeeded run of the month (its id and when it finished) stands
for every row; the rest of the key is the published board's. Like a published body, a
cached draft keeps the branch and member names it was rendered with until the next run.
"""

import datetime
import hashlib
import logging

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.utils.translation import get_language

from branches import dataversion
from branches.models import OrgUnit
from members.ledger.models import RuleSet, RuleSetVersion
from members.ledger.selectors import add_months

from .models import GradingRun, Publication, Talk

logger = logging.getLogger(__name__)

# Bumped when the body's template or what it shows changes: old renders are never read.
TEMPLATE_VERSION = 1
SECONDS = 7 * 24 * 3600


def key(
    *, publication: Publication, today: datetime.date, print_mode: bool, all_stars: bool, language: str | None = None
) -> str:
    """The cache key of a published board's body. One query: the previous month's
    latest version and the month's talks."""
    previous, talks, last_talk, last_held, _run, _finished = _inputs(
        committee_id=publication.committee_id, month=publication.month
    )
    identity = [
        publication.pk,
        publication.version,
        publication.published_at.isoformat(),  # a test database reuses ids: not the same version
    ]
    digest = _digest(identity, (previous, talks, last_talk, last_held), today, language, print_mode, all_stars)
    return f"grading:board:{publication.committee_id}:{publication.pk}:{digest}"


def draft_key(
    *,
    committee_id: int,
    month: datetime.date,
    today: datetime.date,
    print_mode: bool,
    all_stars: bool,
    language: str | None = None,
) -> str | None:
    """The cache key of a draft board's body; None while no run of the month has
    succeeded (there is no draft to keep). One query: the latest succeeded run, the
    previous month's latest version and the month's talks."""
    previous, talks, last_talk, last_held, run, finished = _inputs(committee_id=committee_id, month=month)
    if run is None:
        return None
    identity = ["draft", committee_id, month.isoformat(), run, str(finished)]  # finished: a test database reuses ids
    digest = _digest(identity, (previous, talks, last_talk, last_held), today, language, print_mode, all_stars)
    return f"grading:draft:{committee_id}:{month:%Y-%m}:{digest}"


def page_key(
    *,
    committee: OrgUnit,
    month: datetime.date,
    version: int | None,
    today: datetime.date,
    print_mode: bool,
    all_stars: bool,
    scope: tuple,
    language: str | None = None,
) -> str | None:
    """The cache key of a published board's whole content — the header and the body —
    for a viewer who does not manage the committee's grading; None when the month (or
    the ``version`` asked for) is not published. One query and no model built: the
    month's versions with what the header shows of them (publisher, note, the rules
    that graded it) and what the body depends on beside its rows (as ``key``).

    The header's links (the committee page, the rules, the group board, the PDF) are
    decided by the viewer's scope alone for such a viewer: ``scope`` is its value
    (``branches.access.scope_signature``) and part of the key, so two
    viewers share a header only when every link would open for both or for neither. The
    committee's name and path are in the key (a unit moved is a new path)."""
    rows = _versions(committee_id=committee.pk, month=month)
    versions = [row[:13] for row in rows]
    shown = next((v for v in versions if v[1] == version), None) if version is not None else next(iter(versions), None)
    if shown is None:
        return None
    previous, talks, last_talk, last_held = rows[0][13:]
    identity = [
        "page",
        committee.pk,
        committee.name,
        committee.path,
        month.isoformat(),
        shown[0],
        [tuple(str(part) for part in v) for v in versions],
        scope,
    ]
    digest = _digest(identity, (previous, talks, last_talk, last_held), today, language, print_mode, all_stars)
    return f"grading:page:{committee.pk}:{shown[0]}:{digest}"


def _versions(*, committee_id: int, month: datetime.date) -> list[tuple]:
    """Every published version of the month, newest first, with what a board's header
    shows of it: (id, version, published at, note, publisher id, user name, first and
    last name, rule-set version id and number, rule set id, name and committee), each
    followed by the body's other inputs (``_inputs``: the previous month's latest
    publication, the month's talks: count, latest id and day). One query."""
    user = get_user_model()._meta.db_table
    talk = Talk._meta.db_table
    publication = Publication._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT p.id, p.version, p.published_at, p.note, p.published_by_id, u.username, u.first_name,
                   u.last_name, v.id, v.number, s.id, s.name, s.committee_id,
                   (SELECT pp.id FROM {publication} pp
                    WHERE pp.committee_id = %(committee)s AND pp.month = %(previous)s
                    ORDER BY pp.version DESC LIMIT 1),
                   (SELECT COUNT(t.id) FROM {talk} t WHERE t.committee_id = %(committee)s AND t.month = %(month)s),
                   (SELECT MAX(t.id) FROM {talk} t WHERE t.committee_id = %(committee)s AND t.month = %(month)s),
                   (SELECT MAX(t.held_on) FROM {talk} t WHERE t.committee_id = %(committee)s AND t.month = %(month)s)
            FROM {publication} p
            LEFT JOIN {user} u ON u.id = p.published_by_id
            LEFT JOIN {GradingRun._meta.db_table} r ON r.id = p.run_id
            LEFT JOIN {RuleSetVersion._meta.db_table} v ON v.id = r.rule_version_id
            LEFT JOIN {RuleSet._meta.db_table} s ON s.id = v.rule_set_id
            WHERE p.committee_id = %(committee)s AND p.month = %(month)s
            ORDER BY p.version DESC
            """,
            {"committee": committee_id, "month": month, "previous": add_months(month, -1)},
        )
        return cursor.fetchall()


def _digest(identity: list, inputs: tuple, today: datetime.date, language, print_mode: bool, all_stars: bool) -> str:
    """What a board's body depends on beside its own rows (``identity``): the previous
    month's version and the month's talks (``inputs``), the day, language and mode."""
    previous, talks, last_talk, last_held = inputs
    parts = [
        TEMPLATE_VERSION,
        dataversion.deploy_signature(),
        *identity,
        previous,
        talks,
        last_talk,
        str(last_held),
        today.isoformat(),
        language or get_language(),
        int(print_mode),
        int(all_stars),
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def _inputs(*, committee_id: int, month: datetime.date) -> tuple:
    """(previous month's latest publication id, the month's talks: count, latest id and
    latest day held, the latest succeeded run's id and finish). One query."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT (SELECT p.id FROM {Publication._meta.db_table} p
                    WHERE p.committee_id = %(committee)s AND p.month = %(previous)s
                    ORDER BY p.version DESC LIMIT 1),
                   COUNT(t.id), MAX(t.id), MAX(t.held_on),
                   (SELECT r.id FROM {GradingRun._meta.db_table} r
                    WHERE r.committee_id = %(committee)s AND r.month = %(month)s AND r.state = %(succeeded)s
                    ORDER BY r.finished_at DESC, r.id DESC LIMIT 1),
                   (SELECT MAX(r.finished_at) FROM {GradingRun._meta.db_table} r
                    WHERE r.committee_id = %(committee)s AND r.month = %(month)s AND r.state = %(succeeded)s)
            FROM {Talk._meta.db_table} t
            WHERE t.committee_id = %(committee)s AND t.month = %(month)s
            """,
            {
                "committee": committee_id,
                "month": month,
                "previous": add_months(month, -1),
                "succeeded": GradingRun.State.SUCCEEDED,
            },
        )
        return cursor.fetchone()


def get(cache_key: str) -> str | None:
    try:
        return cache.get(cache_key)
    except Exception:  # a cache that is down is a miss, never an error page
        logger.warning("board cache: get failed", exc_info=True)
        return None


def put(cache_key: str, html: str) -> None:
    try:
        cache.set(cache_key, html, SECONDS)
    except Exception:
        logger.warning("board cache: set failed", exc_info=True)
