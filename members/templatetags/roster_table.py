"""The roster's rows and its unit filter rendered in Python (issue 14).

A committee's roster offers every unit of its tree in the filter (900 options for two
committees) and shows 50 members a page: through the template language (a loop with a
comparison per option, eight cells with filters per member) that was most of the
page's time. These tags write the same HTML with plain string joins; every text that
comes from data is escaped (``esc``: what Django's ``escape`` does, without its check
for lazy strings on each value), every label goes through ``gettext``.
"""

import html

from django import template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from members.models import Member

register = template.Library()

# A stand-in id: the member page's URL is reversed once, then each row's id put in.
_ID = 987654321


def esc(value) -> str:
    return html.escape(str(value))


@register.simple_tag
def unit_options(units, selected) -> SafeString:
    """``<option>``s of ``units`` (a queryset, in its order: only ids and names are
    read), ``selected`` (a unit or None) marked."""
    chosen = selected.pk if selected is not None else None
    return mark_safe(
        "".join(
            f'<option value="{pk}"{" selected" if pk == chosen else ""}>{esc(name)}</option>'
            for pk, name in units.values_list("pk", "name")
        )
    )


@register.simple_tag
def roster_rows(members) -> SafeString:
    """A ``<tr>`` per member of the roster's page: the name linking to the member's page
    (greyed with a badge for one who left), employee number, branch, party group, status
    (probationary stands out), joining date, post and the roles they hold now
    (``member.active_roles``, prefetched)."""
    head, tail = Member(pk=_ID).get_absolute_url().rsplit(str(_ID), 1)
    left = f' <span class="badge text-bg-secondary">{esc(_("left"))}</span>'
    rows = []
    for m in members:
        active = m.left_on is None
        status = esc(m.get_status_display())
        if m.status == Member.Status.PROBATIONARY:
            status = f'<span class="badge text-bg-warning">{status}</span>'
        roles = "、".join(esc(r.get_role_display()) for r in m.active_roles)
        muted = "" if active else ' class="text-muted"'
        group = esc(m.group.name) if m.group_id and m.group.name else "—"
        joined = f"{m.joined_on:%Y-%m-%d}" if m.joined_on else ""
        rows.append(
            f"<tr{muted}>"
            f'<td><a href="{head}{m.pk}{tail}">{esc(m.name)}</a>{"" if active else left}</td>'
            f"<td>{esc(m.employee_no)}</td><td>{esc(m.branch.name)}</td><td>{group}</td>"
            f"<td>{status}</td><td>{joined}</td>"
            f'<td class="small">{esc(m.post)}</td><td class="small">{roles}</td></tr>\n'
        )
    return mark_safe("".join(rows))
