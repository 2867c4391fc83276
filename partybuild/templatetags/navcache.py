"""``{% navcache %}…{% endnavcache %}``: the signed-in navigation, rendered once per user
and what it shows, then read from the cache (issue 14).

The navigation of ``base.html`` is the same on every page a user opens — its links
follow the user's roles and units, its menu their name — yet rendering it (a dozen
reversed URLs, the language list) cost more than many a page's own content.
Everything it depends on is in the key, so a change is a new key, never a stale menu:

* the user (id, user name, full name, staff and superuser flags);
* the scope: administrator or not, and every binding's role, unit id and unit path
  (a unit moved is a new path);
* the primary unit the links open (an administrator's: the root) and the committee
  whose ranking board they open, both read per request, hit or miss (so a page makes
  the same queries either way);
* the language, and what a deploy changes (``dataversion.deploy_signature``: the
  templates' source and the translation catalogues; a deploy that changes either is a
  new key).

What differs per request is not cached: the CSRF token of the block's forms and the
current path (the language switch's ``next``) are put in after reading. A cache that is
down is a miss: the block is rendered as without a cache.
"""

import hashlib
import logging

from django import template
from django.core.cache import cache
from django.utils.html import escape
from django.utils.translation import get_language

from branches import dataversion
from branches.access import Scope, scope_signature

logger = logging.getLogger(__name__)
register = template.Library()

SECONDS = 24 * 3600
# Placeholders rendered into the cached HTML and replaced per request (letters and
# digits only: escaping leaves them alone).
CSRF_MARK = "pbnavcsrf7f3a9c"
NEXT_MARK = "pbnavnext7f3a9c"


class NavCacheNode(template.Node):
    def __init__(self, nodelist: template.NodeList, source_digest: str):
        self.nodelist = nodelist
        self.source_digest = source_digest

    def key(self, context) -> str | None:
        user = context.get("user")
        scope = context.get("scope")
        if not isinstance(scope, Scope) or user is None or not getattr(user, "is_authenticated", False):
            return None
        primary = context.get("primary_unit")
        # Read for the key, hit or miss: a page makes the same queries either way.
        board_committee = context.get("board_committee")
        parts = [
            self.source_digest,
            user.pk,
            user.get_username(),
            user.get_full_name(),
            bool(user.is_staff),
            bool(user.is_superuser),
            scope_signature(scope),
            (primary.pk, primary.path) if primary is not None else None,
            board_committee.pk if board_committee else None,
            get_language(),
        ]
        digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
        return f"navcache:{user.pk}:{digest}"

    def render_nodelist(self, context) -> str:
        with context.push(csrf_token=CSRF_MARK, nav_next=NEXT_MARK):
            return self.nodelist.render(context)

    def render(self, context) -> str:
        key = self.key(context)
        html = None
        if key is not None:
            try:
                html = cache.get(key)
            except Exception:  # a cache that is down is a miss, never an error page
                logger.warning("navcache: get failed", exc_info=True)
        if html is None:
            html = self.render_nodelist(context)
            if key is not None:
                try:
                    cache.set(key, html, SECONDS)
                except Exception:
                    logger.warning("navcache: set failed", exc_info=True)
        request = context.get("request")
        token = context.get("csrf_token")
        path = request.get_full_path() if request is not None else ""
        return html.replace(CSRF_MARK, escape(str(token)) if token else "").replace(NEXT_MARK, escape(path))


@register.tag
def navcache(parser, token):
    nodelist = parser.parse(("endnavcache",))
    parser.delete_first_token()
    return NavCacheNode(nodelist, dataversion.deploy_signature())
