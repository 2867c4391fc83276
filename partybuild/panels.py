"""The home page's content, rendered once and kept under the data versions of what it
read (``branches/dataversion.py``, issue 14).

The home of a secretary (a card per branch), of committee staff (the month loop of the
guided flow, talks, queues) and of the administrator (counts over every member) read
dozens of queries, the draft's watermark and the training report; they change only
when something they read is written. The content (everything inside the page's
``content`` block) is kept under:

* the viewer — user id, flags and scope (``branches.access.scope_signature``): its
  links are decided per viewer, so a viewer never reads another's content;
* today (overdue, days left, the months of the loop), the language and time zone, and
  what a deploy changes (``dataversion.deploy_signature``: templates, catalogues);
* the versions of every table its queries named, read before it was rendered: a write
  through any path (service, import, raw SQL) bumps them on commit, and the next view
  renders it again.

The forecasts (本月预测) are not kept with it: each card's is read per request (its own
cache lets it be a minute old, ``forecast.RECENT_SECONDS``), rendered from its template
and put in at the card's ``<!--wb-forecast-…-->`` mark, as before.
"""

import datetime
from collections.abc import Callable
from types import SimpleNamespace

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from branches import dataversion
from branches.access import Scope, scope_signature
from branches.grading.forecast import month_forecast

from . import workbench

# What the content uses of the viewer and their scope's units, read before it is built.
VIEWER_TABLES = ("auth_user", "branches_rolebinding", "branches_orgunit")


def home_content(*, request, scope: Scope, today: datetime.date, build: Callable[[], dict]) -> str:
    """The home page's content for ``request.user``: ``build()`` is its context (with
    the cards' panels built without their forecasts), rendered from ``home_body.html``
    and kept; the cards' forecasts put in."""
    user = request.user
    parts = [
        dataversion.deploy_signature(),
        user.pk,
        bool(user.is_staff),
        bool(user.is_superuser),
        scope_signature(scope),
        today.isoformat(),
        get_language(),
        timezone.get_current_timezone_name(),
    ]

    def render() -> tuple[str, list, list]:
        context = build()
        html = render_to_string("home_body.html", context, request=request)
        branches = [(p.branch, p.committee) for p in context.get("secretary_panels", [])]
        committees = [p.committee for p in context.get("committee_panels", [])]
        return html, branches, committees

    html, branches, committees = dataversion.cached("home", parts, render, also=VIEWER_TABLES)
    month = today.replace(day=1)
    for branch, committee in branches:
        forecast = month_forecast(committee=committee, month=month, recent=True) if committee else None
        row = forecast.row(branch.pk) if forecast else None
        p = SimpleNamespace(
            committee=committee, forecast=forecast, forecast_row=row, at_risk=bool(row and row.bottom_three)
        )
        part = render_to_string("workbench/secretary_forecast.html", {"p": p})
        html = html.replace(f"<!--wb-forecast-s{branch.pk}-->", part, 1)
    for committee in committees:
        forecast, at_risk = workbench.committee_forecast(committee=committee, today=today)
        panel = SimpleNamespace(committee=committee, forecast=forecast, at_risk=at_risk)
        part = render_to_string("workbench/committee_forecast.html", {"panel": panel})
        html = html.replace(f"<!--wb-forecast-c{committee.pk}-->", part, 1)
    return mark_safe(html)
