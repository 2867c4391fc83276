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
"""

import datetime
import hashlib
import logging

from django.core.cache import cache
from django.db import connection
from django.utils.translation import get_language

from members.ledger.selectors import add_months

from .models import Publication, Talk

logger = logging.getLogger(__name__)

# Bumped when the body's template or what it shows changes: old renders are never read.
TEMPLATE_VERSION = 1
SECONDS = 7 * 24 * 3600


def key(
    *, publication: Publication, today: datetime.date, print_mode: bool, all_stars: bool, language: str | None = None
) -> str:
    """The cache key of a published board's body. One query: the previous month's
    latest version and the month's talks."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT (SELECT p.id FROM {Publication._meta.db_table} p
                    WHERE p.committee_id = %(committee)s AND p.month = %(previous)s
                    ORDER BY p.version DESC LIMIT 1),
                   COUNT(t.id), MAX(t.id), MAX(t.held_on)
            FROM {Talk._meta.db_table} t
            WHERE t.committee_id = %(committee)s AND t.month = %(month)s
            """,
            {
                "committee": publication.committee_id,
                "month": publication.month,
                "previous": add_months(publication.month, -1),
            },
        )
        previous, talks, last_talk, last_held = cursor.fetchone()
    parts = [
        TEMPLATE_VERSION,
        publication.pk,
        publication.version,
        publication.published_at.isoformat(),  # a test database reuses ids: not the same version
        previous,
        talks,
        last_talk,
        str(last_held),
        today.isoformat(),
        language or get_language(),
        int(print_mode),
        int(all_stars),
    ]
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    return f"grading:board:{publication.committee_id}:{publication.pk}:{digest}"


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
