"""QR sign-in: the code an activity page shows (an SVG made on the server, so no script
and no third party), the page a member's phone opens from it, and the attendance rows
the secretary's page polls to see sign-ins arrive."""

import io

import segno
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from branches.access import can_write_unit, get_unit_for_user
from members.me.access import own_member

from .. import qr, selectors, services
from ..access import get_activity_for_user
from ..models import Activity, Attendance
from .activities import attendance_rows_context


def qr_open(activity: Activity, user) -> bool:
    """Whether the activity page shows a sign-in code to ``user``: to whoever may write
    the activity, on its day, while it is held."""
    return not activity.is_cancelled and activity.date == timezone.localdate() and can_write_unit(user, activity.branch)


@login_required
@never_cache
def qr_code(request, pk: int):
    """The code, as SVG: a fresh token each time (the page reloads it every few minutes)."""
    activity = get_activity_for_user(request.user, pk, write=True)
    if not qr_open(activity, request.user):
        return HttpResponse(status=404)
    url = request.build_absolute_uri(reverse("activities:qr_checkin", args=[activity.pk, qr.qr_token(activity)]))
    buffer = io.BytesIO()
    # A standalone SVG file (with its namespace): ``svg_inline`` leaves that out.
    segno.make(url, error="m").save(buffer, kind="svg", scale=6, border=2, title=activity.title)
    return HttpResponse(buffer.getvalue(), content_type="image/svg+xml")


@login_required
@never_cache
def qr_panel(request, pk: int):
    activity = get_activity_for_user(request.user, pk, write=True)
    return render(
        request,
        "activities/_qr_panel.html",
        {
            "activity": activity,
            "qr_open": qr_open(activity, request.user),
            "refresh": qr.REFRESH_SECONDS,
            "stamp": timezone.now().timestamp(),
        },
    )


@login_required
def qr_checkin(request, pk: int, token: str):
    """Opened from the code on the member's phone: GET shows the activity and a button
    (a link preview must not sign anyone in); POST signs the member in. The token is the
    grant: it proves the code of this activity was seen within minutes, on its day."""
    activity = Activity.objects.select_related("branch").filter(pk=pk).first()
    error, attendance, done = None, None, False
    if activity is None:
        error = _("This is not a sign-in code of this system.")
    else:
        member = own_member(request.user)
        try:
            qr.qr_token_check(token=token, activity=activity, today=timezone.localdate())
            if member is None:
                raise ValidationError(_("Only a member's login can sign in by code."))
            attendance = Attendance.objects.filter(activity=activity, member=member).first()
            if attendance is None:
                raise ValidationError(_("You are not on the attendance list of this activity."))
            if request.method == "POST":
                attendance = services.attendance_sign_in(attendance=attendance, user=request.user)
                done = True
        except ValidationError as exc:
            error = " ".join(exc.messages)
    return render(
        request,
        "activities/qr_checkin.html",
        {"activity": activity, "attendance": attendance, "error": error, "done": done},
        status=400 if error else 200,
    )


@login_required
def attendance_rows(request, pk: int):
    """The grid's rows, polled by the activity page while its code is shown."""
    activity = get_activity_for_user(request.user, pk)
    return render(request, "activities/_attendance_rows.html", attendance_rows_context(request, activity))


@login_required
@never_cache
def today_sign_ins(request, branch_pk: int):
    """Today's activities of a branch with their QR sign-ins so far: the secretary's
    workbench shows this panel and polls it while an activity is held."""
    branch = get_unit_for_user(request.user, branch_pk)
    if not branch.is_branch:
        raise Http404
    if not can_write_unit(request.user, branch):
        raise PermissionDenied
    return render(request, "activities/_today_sign_ins.html", today_sign_ins_context(branch))


def today_sign_ins_context(branch) -> dict:
    return {
        "branch": branch,
        "today_activities": list(selectors.today_sign_ins(branch=branch, today=timezone.localdate())),
    }


urlpatterns = [
    path("branch/<id:branch_pk>/today/", today_sign_ins, name="today_sign_ins"),
    path("<id:pk>/qr.svg", qr_code, name="qr"),
    path("<id:pk>/qr/", qr_panel, name="qr_panel"),
    path("<id:pk>/rows/", attendance_rows, name="attendance_rows"),
    path("<id:pk>/checkin/<str:token>/", qr_checkin, name="qr_checkin"),
]
