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
from django.db.models import Count, Max
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
    """The cache key of a published board's body. Two queries: the previous month's
    latest version and the month's talks."""
    previous = (
        Publication.objects.filter(committee_id=publication.committee_id, month=add_months(publication.month, -1))
        .order_by("-version")
        .values_list("pk", flat=True)
        .first()
    )
    talks = Talk.objects.filter(committee_id=publication.committee_id, month=publication.month).aggregate(
        n=Count("id"), last=Max("id"), held=Max("held_on")
    )
    parts = [
        TEMPLATE_VERSION,
        publication.pk,
        publication.version,
        publication.published_at.isoformat(),  # a test database reuses ids: not the same version
        previous,
        talks["n"],
        talks["last"],
        talks["held"],
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
