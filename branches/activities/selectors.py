"""Reads about activities: who is expected, lists, counts, and the points an activity produced."""

import datetime

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from branches.choices import ATTENDED, ActivityKind
from branches.models import OrgUnit
from members.models import Member, MemberRole, Membership
from members.selectors import members_of_branch_at

from .models import Activity, Attendance


def expected_attendees(
    *, branch: OrgUnit, kind: str, group: OrgUnit | None, on_date: datetime.date
) -> QuerySet[Member]:
    """Who is on the attendance list: the branch's members on that date; a party group
    meeting, the group's members; a branch committee meeting, the sitting committee."""
    if kind == ActivityKind.GROUP_MEETING and group is not None:
        periods = Membership.objects.filter(branch=branch, group=group, started_on__lte=on_date).filter(
            Q(ended_on__isnull=True) | Q(ended_on__gt=on_date)
        )
        members = Member.objects.filter(pk__in=periods.values("member_id"))
    elif kind == ActivityKind.COMMITTEE_MEETING:
        roles = MemberRole.objects.filter(
            unit=branch,
            role__in=MemberRole.COMMITTEE_ROLES,
            started_on__lte=on_date,
            # Roles end on the day a member transfers or leaves, like membership periods:
            # someone whose role ended that day is no longer on the committee.
        ).filter(Q(ended_on__isnull=True) | Q(ended_on__gt=on_date))
        members = Member.objects.filter(pk__in=roles.values("member_id"))
    else:
        members = members_of_branch_at(branch=branch, on_date=on_date)
    return members.order_by("employee_no")


def branch_activities(
    *,
    branches: QuerySet[OrgUnit],
    kind: str = "",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    include_cancelled: bool = False,
    q: str = "",
) -> QuerySet[Activity]:
    activities = Activity.objects.filter(branch__in=branches)
    if kind:
        activities = activities.filter(kind=kind)
    if date_from:
        activities = activities.filter(date__gte=date_from)
    if date_to:
        activities = activities.filter(date__lte=date_to)
    if not include_cancelled:
        activities = activities.filter(status=Activity.Status.HELD)
    if q:
        activities = activities.filter(Q(title__icontains=q) | Q(place__icontains=q) | Q(host__icontains=q))
    return (
        activities.select_related("branch", "group")
        .annotate(
            expected=Count("attendances"),
            attended=Count("attendances", filter=Q(attendances__status__in=ATTENDED)),
        )
        .order_by("-date", "-pk")
    )


COUNTED_STATUSES = ("present", "late", "excused", "absent")


def attendance_counts(*, activity: Activity) -> dict[str, int]:
    rows = Attendance.objects.filter(activity=activity).values("status").annotate(n=Count("pk"))
    counts = dict.fromkeys(COUNTED_STATUSES, 0)
    counts.update({row["status"]: row["n"] for row in rows})
    counts["total"] = sum(counts.values())
    return counts


def attendance_counts_in(attendances: list[Attendance]) -> dict[str, int]:
    """``attendance_counts`` of an activity whose every attendance is in ``attendances``
    (the grid has read them all): counted in memory."""
    counts = dict.fromkeys(COUNTED_STATUSES, 0)
    for attendance in attendances:
        counts[attendance.status] = counts.get(attendance.status, 0) + 1
    counts["total"] = sum(counts.values())
    return counts


def attendance_count_annotations() -> dict[str, Subquery]:
    """``attendance_counts`` of an attendance's activity, as annotations on a statement
    that reads the attendance anyway (``attendance_counts_of`` reads them back)."""
    return {
        f"count_{status}": Coalesce(
            Subquery(
                Attendance.objects.filter(activity_id=OuterRef("activity_id"), status=status)
                .order_by()
                .values("activity_id")
                .annotate(n=Count("pk"))
                .values("n")
            ),
            0,
        )
        for status in COUNTED_STATUSES
    }


def attendance_counts_of(attendance: Attendance) -> dict[str, int]:
    counts = {status: getattr(attendance, f"count_{status}") for status in COUNTED_STATUSES}
    counts["total"] = sum(counts.values())
    return counts


def activity_attendance(*, activity: Activity) -> QuerySet[Attendance]:
    return activity.attendances.select_related("member").order_by("member__employee_no")


def today_sign_ins(*, branch: OrgUnit, today: datetime.date) -> QuerySet[Activity]:
    """The branch's activities held today, each with how many members signed in by the
    QR code, how many are present so far and how many are expected — one query, for the
    secretary's workbench, which polls it while the activity runs."""
    return (
        Activity.objects.filter(branch=branch, date=today, status=Activity.Status.HELD)
        .annotate(
            signed=Count("attendances__qr_sign_in"),
            attended=Count("attendances", filter=Q(attendances__status__in=ATTENDED)),
            expected=Count("attendances"),
        )
        .order_by("pk")
    )
