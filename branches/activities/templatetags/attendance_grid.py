"""The attendance grid's rows rendered in Python (issue 14).

An activity of 150 attendees is 150 rows of four buttons each: through the template
language (an ``{% include %}`` per row, a loop and four comparisons per button) that
was most of the page's time. ``attendance_rows_html`` writes the same rows with string
joins — for the page, the rows the QR sign-in polls and the row a click swaps in. Every
text that comes from data is escaped (``esc``: what Django's ``escape`` does, without
its check for lazy strings on each of ~20 values a row), every label goes through
``gettext`` (the views translate the buttons' labels once per page).
"""

import html
from collections.abc import Iterable

from django import template
from django.utils.formats import time_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from branches.choices import AttendanceStatus
from members.ledger.templatetags.ledger_tables import points_text

register = template.Library()

ROW_CLASS = {
    AttendanceStatus.ABSENT: "table-danger",
    AttendanceStatus.EXCUSED: "table-secondary",
    AttendanceStatus.LATE: "table-warning",
}
# Stand-ins in the buttons written once per page, replaced by each row's own.
_URL, _PK = "\x00url\x00", "\x00pk\x00"


def esc(value) -> str:
    return html.escape(str(value))


def _button_groups(statuses: list[tuple[str, str]], statuses_label: str) -> dict[str, str]:
    """The group of status buttons for each status a row may have (the one pressed
    differs), with the row's click URL and id left as stand-ins."""
    groups = {}
    for status in [value for value, _label in statuses] + [""]:
        buttons = []
        for value, label in statuses:
            if status == value:
                css, pressed = "btn-danger active", ' aria-pressed="true"'
            else:
                css, pressed = "btn-outline-secondary", ""
            buttons.append(
                f'<button type="button" class="btn {css}" data-status="{esc(value)}" hx-post="{_URL}"'
                f' hx-vals=\'{{"status": "{esc(value)}"}}\'{pressed}>{esc(label)}</button>'
            )
        groups[status] = (
            f'<div class="btn-group btn-group-sm pb-attendance-buttons" role="group" aria-label="{esc(statuses_label)}"'
            f' hx-target="#att-{_PK}" hx-swap="outerHTML">{"".join(buttons)}</div>'
        )
    return groups


def attendance_rows_html(
    attendances: Iterable,
    *,
    editable: bool,
    statuses: list[tuple[str, str]],
    statuses_label: str,
    error: str | None = None,
) -> str:
    """A ``<tr>`` per attendance: the member (linked when ``attendance.member_url``),
    the QR sign-in's time, an ``error`` that refused a click, the status buttons (or the
    status when not ``editable``) and the points the attendance stands at."""
    groups = _button_groups(statuses, statuses_label) if editable else {}
    signed_title = esc(_("Signed in by QR code"))
    refused = ""
    if error:
        refused = (
            '<div class="text-danger small" role="alert"><i class="bi bi-exclamation-circle-fill"></i> '
            f"{esc(error)} {esc(_('Nothing was saved.'))}</div>"
        )
    rows = []
    for attendance in attendances:
        member = attendance.member
        name = esc(member.name)
        if attendance.member_url:
            name = f'<a href="{esc(attendance.member_url)}">{name}</a>'
        signed = ""
        if attendance.sign_in:
            signed_at = time_format(localtime(attendance.sign_in.signed_at), "H:i")
            signed = (
                f' <span class="badge text-bg-success qr-signed" title="{signed_title}">'
                f'<i class="bi bi-qr-code"></i> {signed_at}</span>'
            )
        if editable:
            group = groups.get(attendance.status, groups[""])
            status = group.replace(_URL, esc(attendance.click_url)).replace(_PK, str(attendance.pk))
        else:
            status = esc(attendance.get_status_display())
        points = attendance.points
        if points is None:
            points_cell = '<td class="text-end ">—</td>'
        else:
            css = "text-danger" if points < 0 else ""
            points_cell = f'<td class="text-end {css}">{points_text(points)}</td>'
        rows.append(
            f'<tr id="att-{attendance.pk}" class="{ROW_CLASS.get(attendance.status, "")}">'
            f'<td>{name} <span class="text-muted small">{esc(member.employee_no)}</span>{signed}{refused}</td>'
            f"<td>{status}</td>{points_cell}</tr>\n"
        )
    return "".join(rows)


@register.simple_tag
def attendance_rows(attendances, editable, statuses, statuses_label) -> SafeString:
    if not attendances:
        return mark_safe(f'<tr><td colspan="3" class="text-muted">{esc(_("Nobody was expected."))}</td></tr>')
    return mark_safe(
        attendance_rows_html(attendances, editable=editable, statuses=statuses, statuses_label=statuses_label)
    )


@register.simple_tag
def attendance_row(attendance, editable, statuses, statuses_label, error=None) -> SafeString:
    return mark_safe(
        attendance_rows_html(
            [attendance], editable=editable, statuses=statuses, statuses_label=statuses_label, error=error
        )
    )
