"""The ledger's large tables rendered in Python (issue 14).

A branch's month is members × seven cells, each a link and a formatted number: through
the template language (an ``{% include %}`` and ``floatformat`` per cell) that was four
fifths of the page's time at a branch of 113 members. These tags write the same HTML
with one ``reverse`` per URL name and plain string joins; every text that comes from
data goes through ``escape`` and every label through ``gettext``.
"""

import datetime
import functools
from collections.abc import Callable
from decimal import Decimal
from urllib.parse import urlencode

from django import template
from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import dateformat
from django.utils.formats import get_format, number_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from branches import links
from branches.services import month_label

register = template.Library()

# A stand-in id: a URL is reversed once per page with it, then each row's id put in.
_ID = 987654321
DASH = '<span class="text-muted">–</span>'


def url_with_id(name: str, *args) -> Callable[[int], str]:
    """``reverse(name, args=[*args, pk])`` for many ``pk`` with one ``reverse``."""
    # Split at the stand-in's last occurrence: an earlier argument may contain it.
    head, tail = reverse(name, args=[*args, _ID]).rsplit(str(_ID), 1)
    return lambda pk: f"{head}{pk}{tail}"


def points_text(points: Decimal) -> str:
    """What ``{{ points|floatformat:2 }}`` shows: two decimals, the locale's separator.
    Without thousands separators (the project's setting) that is Python's own format
    with the language's decimal mark, looked up once a language: ``number_format``
    looked the formats up again for each of a branch month's 500 cells."""
    if settings.USE_THOUSAND_SEPARATOR:
        return number_format(points, decimal_pos=2)
    text = f"{points:.2f}"
    mark = _decimal_mark(get_language())
    return text if mark == "." else text.replace(".", mark)


@functools.cache
def _decimal_mark(language: str | None) -> str:
    return get_format("DECIMAL_SEPARATOR", language)


@register.simple_tag
def points(points: Decimal) -> SafeString:
    """``ledger/_points.html``: the points with two decimals, negative ones in red."""
    return mark_safe(points_html(points))


def points_html(points: Decimal) -> str:
    text = points_text(points)
    return f'<span class="text-danger">{text}</span>' if points < 0 else text


def _entries_link(base: str, query: str, points: Decimal) -> str:
    """A link to the entries behind ``points``; ``query`` is written escaped already
    (``&amp;`` between its parts, which are numbers, months and category codes)."""
    return f'<a class="text-reset" href="{base}?{query}">{points_html(points)}</a>'


@register.simple_tag
def branch_month_rows(matrix, unit, month: datetime.date) -> SafeString:
    """The rows of ``ledger/branch_month.html``'s table: a member's name (linked to
    their ledger when ``row.ledger_visible``), employee number, party group, a cell per
    category linking to the entries behind it, and the member's total."""
    entries = reverse("ledger:entries")
    ledger_url = url_with_id("ledger:member_ledger")
    ym = f"{month:%Y-%m}"
    year_query = urlencode({"year": month.year})
    left = f' <span class="badge text-bg-secondary">{escape(_("left the branch this month"))}</span>'
    parts = []
    for row in matrix.rows:
        member = row.member
        name = escape(member.name)
        if row.ledger_visible:
            name = f'<a href="{ledger_url(member.pk)}?{year_query}">{name}</a>'
        group = escape(member.group.name) if member.group_id else "—"
        member_query = f"branch={unit.pk}&amp;member={member.pk}&amp;month={ym}"
        cells = "".join(
            f"<td>{_entries_link(entries, f'{member_query}&amp;category={category}', total) if total else DASH}</td>"
            for category, total in row.categories
        )
        parts.append(
            f'<tr id="member-{member.pk}">'
            f'<td class="text-start text-nowrap">{name}{"" if row.belonged else left}</td>'
            f'<td class="text-start small text-nowrap">{escape(member.employee_no)}</td>'
            f'<td class="text-start small text-nowrap">{group}</td>'
            f'{cells}<td class="fw-semibold">{_entries_link(entries, member_query, row.total)}</td></tr>\n'
        )
    return mark_safe("".join(parts))


def _category_cells(categories, base: str, query: str) -> str:
    return "".join(
        f"<td>{_entries_link(base, f'{query}&amp;category={category}', total) if total else DASH}</td>"
        for category, total in categories
    )


@register.simple_tag
def member_month_rows(months, member) -> SafeString:
    """The rows of the member ledger's "totals by month" table: a cell per category and
    the month's total, each linking to the entries behind it, and the running total."""
    entries = reverse("ledger:entries")
    parts = []
    for m in months:
        ym = f"{m.month:%Y-%m}"
        query = f"member={member.pk}&amp;month={ym}"
        parts.append(
            f'<tr><th class="text-start text-nowrap"><a href="#month-{ym}">{escape(month_label(m.month))}</a></th>'
            f"{_category_cells(m.categories, entries, query)}"
            f'<td class="fw-semibold">{_entries_link(entries, query, m.total)}</td>'
            f'<td class="fw-semibold">{points_html(m.running)}</td></tr>\n'
        )
    return mark_safe("".join(parts))


@register.simple_tag
def member_entry_rows(entries, user) -> SafeString:
    """The rows of a month's entries on the member ledger: the rule (marked when it
    reverses, or was reversed by, another entry), the points (struck through when
    reversed), who recorded it, where it came from (the activity, or the record's page
    when ``user`` may open it), its evidence and the button to reverse it."""
    try:
        activity_url = url_with_id("activities:detail")
    except NoReverseMatch:  # the activities app is not installed: entries show no link
        activity_url = None
    evidence_url = url_with_id("ledger:evidence")
    reverse_url = url_with_id("ledger:reverse")
    system = f'<span class="text-muted">{escape(_("system"))}</span>'
    evidence = f'<i class="bi bi-paperclip"></i> {escape(_("evidence"))}'
    reverse_text = escape(_("Reverse"))
    parts = []
    for entry in entries:
        rule = escape(entry.rule.name)
        if entry.is_reversal:
            text = _("reversal of #%(pk)s") % {"pk": entry.reverses_id}
            rule += f'\n        <span class="badge text-bg-warning">{escape(text)}</span>'
        if entry.reversal_pk:
            text = _("reversed by #%(pk)s") % {"pk": entry.reversal_pk}
            rule += f'\n        <span class="badge text-bg-secondary">{escape(text)}</span>'
        points = points_html(entry.points)
        if entry.reversal_pk:
            points = f"<del>{points}</del>"
        by = entry.recorded_by
        by = escape(by.get_full_name() or by.username) if by is not None else system
        source = escape(entry.get_source_display())
        url = ""
        if getattr(entry, "activity_id", None):
            url = activity_url(entry.activity_id) if activity_url else ""
        elif entry.source_page:
            try:
                url = links.url_if_allowed(user, entry.source_page, entry.source_id) or ""
            except NoReverseMatch:  # the record's app is not installed
                url = ""
        if url:
            source = f'<a href="{escape(url)}">{source}</a>'
        if entry.evidence:
            source += f' · <a href="{evidence_url(entry.pk)}" target="_blank" rel="noopener">{evidence}</a>'
        button = ""
        if entry.can_reverse:
            button = (
                f'<a class="btn btn-sm btn-outline-secondary py-0" href="{reverse_url(entry.pk)}">{reverse_text}</a>'
            )
        muted = ' class="text-muted"' if entry.reversal_pk else ""
        parts.append(
            f'<tr id="entry-{entry.pk}"{muted}><td class="small">{entry.pk}</td>'
            f'<td class="small text-nowrap">{dateformat.format(localtime(entry.recorded_at), "Y-m-d H:i")}</td>'
            f"<td>{rule}</td>"
            f'<td class="small">{escape(entry.get_category_display())}</td>'
            f'<td class="text-end text-nowrap">{points}</td>'
            f'<td class="small">{escape(entry.reason) if entry.reason else "—"}</td>'
            f'<td class="small">{by}</td>'
            f'<td class="small">{source}</td>'
            f'<td class="text-end">{button}</td></tr>\n'
        )
    return mark_safe("".join(parts))
