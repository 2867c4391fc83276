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

from django.core.cache import cache
from django.db import connection
from django.utils.translation import get_language

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


def _digest(identity: list, inputs: tuple, today: datetime.date, language, print_mode: bool, all_stars: bool) -> str:
    """What a board's body depends on beside its own rows (``identity``): the previous
    month's version and the month's talks (``inputs``), the day, language and mode."""
    previous, talks, last_talk, last_held = inputs
    parts = [
        TEMPLATE_VERSION,
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
