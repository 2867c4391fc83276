"""Activity pages: list, calendar, log, detail with the attendance grid, edit, cancel,
attachments. Thin: access → selectors/services → template."""

import calendar
import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from branches.access import can_write_unit, get_unit_for_user, visible_units, writable_branches
from branches.choices import AttendanceStatus
from branches.converters import year_in_range  # importing registers the path converters
from branches.forms import call_service
from branches.models import OrgUnit
from branches.pages import service_form_page, stored_file_response
from branches.selectors import committee_for, month_is_closed
from members.access import member_visible, visible_members
from members.ledger.models import LedgerEntry, Source

from .. import selectors, services
from ..access import get_activity_for_user
from ..forms import ActivityFilterForm, ActivityForm, AttachmentForm, CancelForm
from ..models import ActivityAttachment, Attendance


@login_required
def activity_list(request):
    units = visible_units(request.user).exclude(kind=OrgUnit.Kind.GROUP)
    form = ActivityFilterForm(request.GET or None, units=units)
    filters = form.cleaned_data if form.is_valid() else {}
    unit = filters.get("unit")
    branches = units.filter(kind=OrgUnit.Kind.BRANCH)
    if unit is not None:
        branches = branches.filter(path__startswith=unit.path)
    activities = selectors.branch_activities(
        branches=branches,
        kind=filters.get("kind") or "",
        date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
        include_cancelled=bool(filters.get("include_cancelled")),
        q=(filters.get("q") or "").strip(),
    )
    page = Paginator(activities, settings.ROSTER_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    today = timezone.localdate()
    return render(
        request,
        "activities/activity_list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "unit": unit,
            "can_create": writable_branches(request.user).exists(),
            "today": today,
        },
    )


@login_required
def activity_calendar(request, unit_pk: int, year: int, month: int):
    unit = get_unit_for_user(request.user, unit_pk)
    if not 1 <= month <= 12 or not year_in_range(year):
        raise Http404
    first = datetime.date(year, month, 1)
    last = datetime.date(year, month, calendar.monthrange(year, month)[1])
    branches = OrgUnit.objects.filter(kind=OrgUnit.Kind.BRANCH, path__startswith=unit.path)
    by_day: dict[datetime.date, list] = {}
    for activity in selectors.branch_activities(
        branches=branches, date_from=first, date_to=last, include_cancelled=True
    ):
        by_day.setdefault(activity.date, []).append(activity)
    weeks = [
        [(day, by_day.get(day, [])) if day.month == month else (day, None) for day in week]
        for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    ]
    previous = first - datetime.timedelta(days=1)
    following = last + datetime.timedelta(days=1)
    return render(
        request,
        "activities/activity_calendar.html",
        {
            "unit": unit,
            "month": first,
            "weeks": weeks,
            # Django's own catalogue translates the weekday names.
            "weekdays": [WEEKDAYS_ABBR[i] for i in range(7)],
            "previous": previous,
            "following": following,
            "today": timezone.localdate(),
            "can_write": unit.is_branch and can_write_unit(request.user, unit),
        },
    )


@login_required
def activity_create(request):
    branches = writable_branches(request.user)
    if not branches.exists():
        raise PermissionDenied
    initial = {}
    if (branch_pk := request.GET.get("branch", "")).isdigit():
        initial["branch"] = branches.filter(pk=branch_pk).first()
    # Pre-filled from a link (the workbench's "log a 政治生日 activity"); the form validates them.
    for name in ("kind", "title", "date"):
        if request.GET.get(name):
            initial[name] = request.GET[name][:200]
    form = ActivityForm(request.POST or None, initial=initial, branches=branches)
    return service_form_page(
        request,
        form,
        service=services.activity_create,
        user=request.user,
        success=_("The activity was logged; everyone expected is marked present. Correct the attendance below."),
        template="activities/activity_form.html",
        context={"title": _("Log an activity")},
    )


def _standing_points(attendances: list[Attendance]) -> dict[int, object]:
    """Points each attendance stands at now (entries net of reversals), one GROUP BY."""
    rows = (
        LedgerEntry.objects.filter(source=Source.ATTENDANCE, source_id__in=[a.pk for a in attendances])
        .values("source_id")
        .annotate(total=Sum("points"))
    )
    return {row["source_id"]: row["total"] for row in rows}


def _points_and_rules(attendances: list[Attendance]) -> tuple[dict[int, Decimal], list[dict]]:
    """What ``_standing_points`` answers, and the points the activity produced per rule
    (net of reversals), from one ``GROUP BY attendance, rule`` — a page of 150 attendees
    asked the ledger twice for the same entries."""
    rows = (
        LedgerEntry.objects.filter(source=Source.ATTENDANCE, source_id__in=[a.pk for a in attendances])
        .values("source_id", "rule__code", "rule__name", "category")
        .annotate(total=Sum("points"), entries=Count("pk"))
        .order_by()
    )
    standing: dict[int, Decimal] = {}
    by_rule: dict[tuple, dict] = {}
    for row in rows:
        standing[row["source_id"]] = standing.get(row["source_id"], Decimal(0)) + row["total"]
        key = (row["rule__code"], row["rule__name"], row["category"])
        rule = by_rule.get(key)
        if rule is None:
            code, name, category = key
            rule = by_rule[key] = {
                "rule__code": code,
                "rule__name": name,
                "category": category,
                "total": Decimal(0),
                "entries": 0,
            }
        rule["total"] += row["total"]
        rule["entries"] += row["entries"]
    return standing, [by_rule[key] for key in sorted(by_rule)]


def _month_open(activity) -> bool:
    committee = committee_for(unit=activity.branch)
    return committee is None or not month_is_closed(committee=committee, month=activity.date)


def _linked_members(user, attendances: list[Attendance]) -> set[int]:
    """The attendees whose page the user may open: one who has since transferred out
    of the user's scope is listed by name only. One query."""
    ids = [a.member_id for a in attendances]
    return set(visible_members(user).filter(pk__in=ids).values_list("pk", flat=True))


# A stand-in id: a row's URL is reversed once per page and this replaced by each row's id.
_ROW_ID = 987654321


def _status_buttons() -> dict:
    """The grid's button labels, translated once per page rather than four times a row
    (each lazy label would call gettext again)."""
    return {
        "statuses": [(value, str(label)) for value, label in AttendanceStatus.choices],
        "statuses_label": _("attendance"),
    }


def _prepare_rows(activity, attendances: list[Attendance], linked_members: set[int]) -> None:
    """What each row of the grid needs, worked out here once for 150 rows rather than
    per row in the template: the click's URL and the member's link (each reversed once,
    then filled in per row), and the QR sign-in (reading a missing one raises, which
    costs the template a ``dir()`` of the attendance per row)."""
    # Split at the stand-in's last occurrence: the activity's own id may contain it.
    click_head, click_tail = reverse("activities:attendance", args=[activity.pk, _ROW_ID]).rsplit(str(_ROW_ID), 1)
    member_head, member_tail = reverse("members:detail", args=[_ROW_ID]).rsplit(str(_ROW_ID), 1)
    for attendance in attendances:
        attendance.click_url = f"{click_head}{attendance.pk}{click_tail}"
        linked = attendance.member_id in linked_members
        attendance.member_url = f"{member_head}{attendance.member_id}{member_tail}" if linked else ""
        attendance.sign_in = getattr(attendance, "qr_sign_in", None)


MEMBER_FIELDS_NOT_SHOWN = (
    "gender",
    "birth_date",
    "ethnicity",
    "phone",
    "post",
    "status",
    "joined_on",
    "converted_on",
    "left_on",
    "user",
    "created_at",
    "updated_at",
)


def attendance_rows_context(request, activity) -> dict:
    """What the attendance grid's rows show (the page, and the rows it polls)."""
    # Of each member only what a row shows (a full member row each was a fifth of the
    # page's model building at 150 attendees).
    attendances = list(
        selectors.activity_attendance(activity=activity)
        .select_related("qr_sign_in")
        .defer(*(f"member__{name}" for name in MEMBER_FIELDS_NOT_SHOWN))
    )
    points, by_rule = _points_and_rules(attendances)
    for attendance in attendances:
        attendance.points = points.get(attendance.pk)
    linked_members = _linked_members(request.user, attendances)
    _prepare_rows(activity, attendances, linked_members)
    month_open = _month_open(activity)
    can_write = can_write_unit(request.user, activity.branch)
    return {
        "activity": activity,
        "attendances": attendances,
        **_status_buttons(),
        "month_open": month_open,
        "editable": can_write and month_open and not activity.is_cancelled,
        "can_write": can_write,
        "linked_members": linked_members,
        "by_rule": by_rule,
    }


@login_required
def activity_detail(request, pk: int):
    activity = get_activity_for_user(request.user, pk)
    rows = attendance_rows_context(request, activity)
    attendances = rows["attendances"]
    month_open = rows["month_open"]
    can_write = rows["can_write"]
    return render(
        request,
        "activities/activity_detail.html",
        {
            "activity": activity,
            "attendances": attendances,
            # Every attendance of the activity is in the grid: counted here, not asked again.
            "counts": selectors.attendance_counts_in(attendances),
            **_status_buttons(),
            "attachments": activity.attachments.all(),
            "attachment_form": AttachmentForm(),
            "by_rule": rows["by_rule"],
            "month_open": month_open,
            "editable": can_write and month_open and not activity.is_cancelled,
            "can_write": can_write,
            "linked_members": rows["linked_members"],
            "qr_live": can_write and not activity.is_cancelled and activity.date == timezone.localdate(),
        },
    )


@login_required
def activity_edit(request, pk: int):
    activity = get_activity_for_user(request.user, pk, write=True)
    if activity.is_cancelled:
        raise PermissionDenied
    fields = ("title", "date", "place", "host", "minutes", "class_hours")
    form = ActivityForm(request.POST or None, initial={f: getattr(activity, f) for f in fields}, activity=activity)
    return service_form_page(
        request,
        form,
        service=services.activity_update,
        activity=activity,
        user=request.user,
        success=_("Saved."),
        template="activities/activity_form.html",
        context={"activity": activity, "title": _("Edit %(title)s") % {"title": activity.title}},
    )


@login_required
def activity_cancel(request, pk: int):
    activity = get_activity_for_user(request.user, pk, write=True)
    return service_form_page(
        request,
        CancelForm(request.POST or None),
        service=services.activity_cancel,
        activity=activity,
        user=request.user,
        success=_("The activity was cancelled and its points reversed."),
        template="activities/activity_form.html",
        context={
            "activity": activity,
            "title": _("Cancel %(title)s") % {"title": activity.title},
            "help": _("The activity stays on record as cancelled; every point it produced is reversed."),
        },
    )


@login_required
@require_POST
def attendance_update(request, pk: int, attendance_pk: int):
    """One click in the grid: set a member's status; htmx swaps the row and the counts."""
    activity = get_activity_for_user(request.user, pk, write=True)
    # Read (and locked) once, by the service: an attendance of another activity is a 404.
    attendance = Attendance(pk=attendance_pk, activity=activity)
    try:
        attendance = services.attendance_set(
            attendance=attendance, status=request.POST.get("status", ""), user=request.user
        )
        error = None
    except Attendance.DoesNotExist:
        raise Http404 from None
    except ValidationError as exc:
        error = " ".join(exc.messages)
        activity.refresh_from_db()
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect(activity)
    if error is not None:  # nothing was saved: the row as it stands
        attendance = get_object_or_404(
            Attendance.objects.select_related("member__branch", "qr_sign_in"), pk=attendance_pk, activity=activity
        )
        attendance.points = _standing_points([attendance]).get(attendance.pk)
        counts = selectors.attendance_counts(activity=activity)
    else:  # the service read them with the row
        counts = attendance.counts
    # The member's branch came with the row: the scope decides without a query.
    linked_members = {attendance.member_id} if member_visible(request.user, attendance.member) else set()
    _prepare_rows(activity, [attendance], linked_members)
    return render(
        request,
        "activities/_attendance_row.html",
        {
            "activity": activity,
            "attendance": attendance,
            **_status_buttons(),
            # Refused because the month closed (or the activity was cancelled) meanwhile:
            # the row shows why and stops offering the buttons.
            "editable": error is None or (_month_open(activity) and not activity.is_cancelled),
            "counts": counts,
            "error": error,
            "oob": True,
            "linked_members": linked_members,
        },
    )


@login_required
@require_POST
def attachment_upload(request, pk: int):
    activity = get_activity_for_user(request.user, pk, write=True)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid() and call_service(
        form, services.activity_attachment_add, activity=activity, upload=form.cleaned_data["file"], user=request.user
    ):
        messages.success(request, _("The attachment was added."))
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect(activity)


@login_required
def attachment_download(request, pk: int):
    attachment = get_object_or_404(ActivityAttachment, pk=pk)
    # Access follows the activity: the same 404 for an outsider as for a missing file.
    get_activity_for_user(request.user, attachment.activity_id)
    return stored_file_response(attachment.file, filename=attachment.name, content_type=attachment.content_type)


urlpatterns = [
    path("", activity_list, name="list"),
    path("new/", activity_create, name="create"),
    path("<id:pk>/", activity_detail, name="detail"),
    path("<id:pk>/edit/", activity_edit, name="edit"),
    path("<id:pk>/cancel/", activity_cancel, name="cancel"),
    path("<id:pk>/attendance/<id:attendance_pk>/", attendance_update, name="attendance"),
    path("<id:pk>/attachments/", attachment_upload, name="attachment_upload"),
    path("attachments/<id:pk>/", attachment_download, name="attachment"),
    path("calendar/<id:unit_pk>/<year:year>/<month:month>/", activity_calendar, name="calendar"),
]
