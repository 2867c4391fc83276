"""Writes about activities and attendance. Every change that affects points reverses the
standing ledger entries of the attendances involved and posts new ones, in the same
transaction, so the ledger always follows the attendance and keeps its history."""

import datetime
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.choices import CLASS_HOUR_KINDS, ActivityKind, AttendanceStatus
from branches.downloads import shorten_filename
from branches.models import OrgUnit
from branches.services import month_assert_open
from branches.uploads import check_upload
from members.ledger.models import LedgerEntry, Source
from members.ledger.services import AttendanceItem, ledger_post_attendance, ledger_reverse_sources

from .models import Activity, ActivityAttachment, Attendance, AttendanceChange, QrSignIn
from .selectors import expected_attendees


def _validate(
    *, branch: OrgUnit, kind: str, date: datetime.date, group: OrgUnit | None, class_hours: Decimal | None
) -> None:
    errors: dict[str, str] = {}
    if not branch.is_branch:
        errors["branch"] = _("Activities are logged by a party branch.")
    if date > timezone.localdate():
        errors["date"] = _("Log an activity once it has taken place; the date is in the future.")
    if kind == ActivityKind.GROUP_MEETING:
        if group is None:
            errors["group"] = _("Choose the party group that met.")
        elif group.parent_id != branch.pk:
            errors["group"] = _("The party group %(group)s does not belong to %(branch)s.") % {
                "group": group,
                "branch": branch,
            }
    elif group is not None:
        errors["group"] = _("Only a party group meeting names a group.")
    if kind == ActivityKind.TRAINING and not class_hours:
        errors["class_hours"] = _("Study and training needs its class hours.")
    if class_hours is not None and kind not in CLASS_HOUR_KINDS:
        errors["class_hours"] = _("Class hours are recorded for study and training and for Party lectures only.")
    if class_hours is not None and not Decimal("0") < class_hours <= Decimal("24"):
        errors["class_hours"] = _("Class hours must be more than 0 and at most 24.")
    if errors:
        raise ValidationError(errors)


def _post(
    activity: Activity, attendances: list[Attendance], *, user: AbstractBaseUser | None, months_locked: bool = False
) -> list[LedgerEntry]:
    return ledger_post_attendance(
        branch=activity.branch,
        activity_kind=activity.kind,
        activity_date=activity.date,
        class_hours=activity.class_hours,
        items=[AttendanceItem(a.pk, a.member_id, a.status) for a in attendances],
        reason=activity.title,
        user=user,
        months_locked=months_locked,
    )


@transaction.atomic
def activity_create(
    *,
    branch: OrgUnit,
    kind: str,
    title: str,
    date: datetime.date,
    user: AbstractBaseUser | None,
    group: OrgUnit | None = None,
    place: str = "",
    host: str = "",
    minutes: str = "",
    class_hours: Decimal | None = None,
) -> Activity:
    """Log an activity. Its attendance list is everyone expected on that date, all
    present until the secretary says otherwise, and their points are posted at once."""
    _validate(branch=branch, kind=kind, date=date, group=group, class_hours=class_hours)
    month_assert_open(unit=branch, month=date)
    activity = Activity.objects.create(
        branch=branch,
        group=group,
        kind=kind,
        title=title,
        date=date,
        place=place,
        host=host,
        minutes=minutes,
        class_hours=class_hours,
        created_by=user,
    )
    member_ids = expected_attendees(branch=branch, kind=kind, group=group, on_date=date).values_list("pk", flat=True)
    attendances = Attendance.objects.bulk_create(
        [Attendance(activity=activity, member_id=member_id, changed_by=user) for member_id in member_ids]
    )
    _post(activity, attendances, user=user)
    return activity


@transaction.atomic
def activity_update(
    *,
    activity: Activity,
    title: str,
    date: datetime.date,
    user: AbstractBaseUser | None,
    place: str = "",
    host: str = "",
    minutes: str = "",
    class_hours: Decimal | None = None,
) -> Activity:
    """Edit an activity while its month is open. The type and group define who was
    expected, so they are fixed; to change them, cancel and log the activity anew. A
    new date or new class hours change the points: the old ones are reversed first."""
    activity = Activity.objects.select_for_update().select_related("branch").get(pk=activity.pk)
    if activity.is_cancelled:
        raise ValidationError(_("A cancelled activity cannot be edited."))
    if (date.year, date.month) != (activity.date.year, activity.date.month):
        raise ValidationError({"date": _("An activity stays in its month; cancel it and log it in the other month.")})
    _validate(branch=activity.branch, kind=activity.kind, date=date, group=activity.group, class_hours=class_hours)
    month_assert_open(unit=activity.branch, month=activity.date)
    repost = class_hours != activity.class_hours
    activity.title, activity.date, activity.place = title, date, place
    activity.host, activity.minutes, activity.class_hours = host, minutes, class_hours
    activity.save()
    if repost:
        attendances = list(activity.attendances.all())
        reason = _("Activity changed: %(title)s") % {"title": title}
        ledger_reverse_sources(
            source=Source.ATTENDANCE, source_ids=[a.pk for a in attendances], reason=reason, user=user
        )
        _post(activity, attendances, user=user)
    return activity


@transaction.atomic
def activity_cancel(*, activity: Activity, reason: str, user: AbstractBaseUser | None) -> Activity:
    """Cancel an activity logged by mistake: its points are reversed; the record stays."""
    activity = Activity.objects.select_for_update().select_related("branch").get(pk=activity.pk)
    if activity.is_cancelled:
        raise ValidationError(_("This activity has already been cancelled."))
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason for cancelling.")})
    month_assert_open(unit=activity.branch, month=activity.date)
    ledger_reverse_sources(
        source=Source.ATTENDANCE,
        source_ids=list(activity.attendances.values_list("pk", flat=True)),
        reason=_("Activity cancelled: %(reason)s") % {"reason": reason.strip()},
        user=user,
    )
    activity.status = Activity.Status.CANCELLED
    activity.cancelled_reason = reason.strip()
    activity.save(update_fields=["status", "cancelled_reason", "updated_at"])
    return activity


@transaction.atomic
def attendance_set(*, attendance: Attendance, status: str, user: AbstractBaseUser | None) -> Attendance:
    """Change one member's attendance: the change is logged, the old points reversed
    and the new ones posted."""
    if status not in AttendanceStatus.values:
        raise ValidationError({"status": _("Unknown attendance status.")})
    # The row is locked; the member and the QR sign-in come along for the row's render.
    # Given with its activity (the grid's click), it must be that activity's.
    lookup = {"pk": attendance.pk}
    if attendance.activity_id is not None:
        lookup["activity_id"] = attendance.activity_id
    attendance = (
        Attendance.objects.select_for_update(of=("self",))
        .select_related("activity__branch", "member", "qr_sign_in")
        .get(**lookup)
    )
    activity = attendance.activity
    if activity.is_cancelled:
        raise ValidationError(_("The activity has been cancelled."))
    month_assert_open(unit=activity.branch, month=activity.date)
    checked = {(activity.branch_id, activity.date.replace(day=1))}
    if attendance.status == status:
        return attendance
    AttendanceChange.objects.create(
        attendance=attendance, old_status=attendance.status, new_status=status, changed_by=user
    )
    old_label = AttendanceStatus(attendance.status).label
    attendance.status = status
    attendance.changed_by = user
    attendance.save(update_fields=["status", "changed_by", "changed_at"])
    reversed_count = ledger_reverse_sources(
        source=Source.ATTENDANCE,
        source_ids=[attendance.pk],
        reason=_("Attendance changed from %(old)s to %(new)s")
        % {"old": old_label, "new": AttendanceStatus(status).label},
        user=user,
        open_months=checked,
    )
    # The reversal locked this member's month (the same key the new entries need).
    posted = _post(activity, [attendance], user=user, months_locked=reversed_count > 0)
    if reversed_count or posted:
        # What the row shows: every earlier entry is now reversed, so the attendance
        # stands at what was just posted (the grid's click needs no query for it).
        attendance.points = sum((e.points for e in posted), Decimal("0.00"))
    return attendance


@transaction.atomic
def attendance_sign_in(*, attendance: Attendance, user: AbstractBaseUser) -> Attendance:
    """The member scanned the activity's code: they are present (through
    ``attendance_set``, so points follow and a closed month refuses), and the sign-in is
    recorded once. A second scan changes nothing; the secretary may override the status."""
    attendance = attendance_set(attendance=attendance, status=AttendanceStatus.PRESENT, user=user)
    QrSignIn.objects.get_or_create(attendance=attendance, defaults={"user": user})
    return attendance


@transaction.atomic
def activity_attachment_add(
    *, activity: Activity, upload: UploadedFile, user: AbstractBaseUser | None
) -> ActivityAttachment:
    """Store a photo or PDF through Django's storage API after checking size and type
    (by the file's first bytes, not only its name)."""
    month_assert_open(unit=activity.branch, month=activity.date)
    try:
        content_type = check_upload(upload)
    except ValidationError as exc:
        raise ValidationError({"file": exc.messages}) from None
    name = upload.name or ""
    return ActivityAttachment.objects.create(
        activity=activity,
        file=upload,
        # A long name is shortened in its stem: 「….pdf」 stays a PDF.
        name=shorten_filename(name, ActivityAttachment._meta.get_field("name").max_length),
        content_type=content_type,
        size=upload.size,
        uploaded_by=user,
    )
