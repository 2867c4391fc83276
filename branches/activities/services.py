"""Writes about activities and attendance. Every change that affects points reverses the
standing ledger entries of the attendances involved and posts new ones, in the same
transaction, so the ledger always follows the attendance and keeps its history."""

import datetime
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.choices import CLASS_HOUR_KINDS, ActivityKind, AttendanceStatus
from branches.downloads import shorten_filename
from branches.models import OrgUnit
from branches.selectors import committee_subquery, month_closed_exists
from branches.services import month_assert_open, month_lock_base
from branches.uploads import check_upload
from members.ledger import services as ledger_services
from members.ledger.models import LedgerEntry, Source
from members.ledger.services import (
    AttendanceItem,
    attendance_rules_in_force,
    attendance_standing_entries,
    ledger_post_attendance,
    ledger_repost_attendance,
    ledger_reverse_sources,
    lock_member_months,
    member_month_lock_base,
)

from .models import Activity, ActivityAttachment, Attendance, AttendanceChange, QrSignIn
from .selectors import attendance_count_annotations, attendance_counts_of, expected_attendees


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


def _lock_click(*, attendance_pk: int, activity: Activity) -> None:
    """The attendance click's locks, in one statement (PostgreSQL): the activity
    month's shared lock of its committee (as ``month_assert_open``; the month is read
    after it) and the member's month lock (as ``lock_member_months``: two clicks on the
    same attendance, or a click and another write to that member's month, take turns;
    each reads the ledger only once it holds the lock). The committee and the member
    are looked up in the statement itself. Nothing to do on SQLite, which serialises
    writers."""
    if connection.vendor != "postgresql":
        return
    month = activity.date.replace(day=1)
    committee_sql, committee_params = committee_subquery(unit=activity.branch).query.sql_with_params()
    member = Attendance.objects.filter(pk=attendance_pk, activity_id=activity.pk).values("member_id")
    member_sql, member_params = member.query.sql_with_params()
    # Both functions are strict: no committee (or no such attendance) takes no lock.
    # The target list is evaluated in order: the month's lock first, as everywhere.
    sql = f"SELECT pg_advisory_xact_lock_shared(%s + (({committee_sql})::bigint << 17))"
    params = [month_lock_base(month), *committee_params]
    if ledger_services.LOCKING:
        sql += f", pg_advisory_xact_lock(%s + (({member_sql})::bigint << 17))"
        params += [member_month_lock_base(month), *member_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _attendance_write(*, attendance: Attendance, status: str, user: AbstractBaseUser | None) -> None:
    """The attendance's new status and the change on record: one statement on
    PostgreSQL (a data-modifying CTE), two elsewhere."""
    old_status = attendance.status
    attendance.status = status
    attendance.changed_by = user
    attendance.changed_at = timezone.now()
    if connection.vendor != "postgresql":
        AttendanceChange.objects.create(
            attendance=attendance, old_status=old_status, new_status=status, changed_by=user
        )
        attendance.save(update_fields=["status", "changed_by", "changed_at"])
        return
    user_id = user.pk if user is not None else None
    table, changes = Attendance._meta.db_table, AttendanceChange._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH changed AS (UPDATE {table} SET status = %s, changed_by_id = %s, changed_at = %s"
            f" WHERE id = %s RETURNING id)"
            f" INSERT INTO {changes} (attendance_id, old_status, new_status, changed_by_id, changed_at)"
            f" SELECT id, %s, %s, %s, %s FROM changed",
            [status, user_id, attendance.changed_at, attendance.pk, old_status, status, user_id, attendance.changed_at],
        )


def _attendance_locked(*, attendance: Attendance) -> tuple[Attendance, Activity]:
    """The attendance, row-locked, read once its locks are held (``_lock_click``): its
    activity (fresh: cancelled meanwhile?), member with branch and QR sign-in for the
    row's render, and in the same statement whether the month is closed, the points the
    attendance stands at and the activity's counts by status."""
    lookup = {"pk": attendance.pk}
    if attendance.activity_id is not None:
        lookup["activity_id"] = attendance.activity_id
    else:  # given by its id alone: its activity first, for the locks
        attendance = Attendance.objects.select_related("activity__branch").get(pk=attendance.pk)
    activity = attendance.activity
    _lock_click(attendance_pk=attendance.pk, activity=activity)
    locked = (
        Attendance.objects.select_for_update(of=("self",))
        .select_related("activity__branch", "member__branch", "qr_sign_in")
        .annotate(
            month_closed=month_closed_exists(unit=activity.branch, month=activity.date),
            standing_points=Subquery(
                LedgerEntry.objects.filter(source=Source.ATTENDANCE, source_id=OuterRef("pk"))
                .order_by()
                .values("source_id")
                .annotate(total=Sum("points"))
                .values("total")
            ),
            **attendance_count_annotations(),
        )
        .get(**lookup)
    )
    return locked, locked.activity


def _attendance_set(*, attendance: Attendance, status: str, user: AbstractBaseUser | None) -> Attendance:
    # Every check (and every read it needs) comes before the first write, so a refusal
    # leaves nothing to roll back (see ``attendance_set``).
    attendance, activity = _attendance_locked(attendance=attendance)
    if activity.is_cancelled:
        raise ValidationError(_("The activity has been cancelled."))
    if attendance.month_closed:
        month_assert_open(unit=activity.branch, month=activity.date)  # names the committee
    attendance.points = attendance.standing_points
    attendance.counts = attendance_counts_of(attendance)
    if attendance.status == status:
        return attendance
    month = activity.date.replace(day=1)
    standing = attendance_standing_entries(attendance_id=attendance.pk)
    member = attendance.member
    for entry_month in {e.month for e in standing}:
        # A member who has transferred since: their entries are reversed in their
        # present branch's books too (as ``ledger_reverse_sources``).
        if (member.branch_id, entry_month) != (activity.branch_id, month):
            month_assert_open(unit=member.branch, month=entry_month)
    # Entries of another month (none, as activities stay in their month) would need
    # their own lock; ``_lock_click`` took the activity's.
    lock_member_months({(e.member_id, e.month) for e in standing} - {(member.pk, month)})
    version, rules = attendance_rules_in_force(
        branch=activity.branch, activity_kind=activity.kind, activity_date=activity.date
    )
    old_label, new_label = AttendanceStatus(attendance.status).label, AttendanceStatus(status).label
    old_status = attendance.status
    _attendance_write(attendance=attendance, status=status, user=user)
    posted = ledger_repost_attendance(
        branch=activity.branch,
        activity_kind=activity.kind,
        activity_date=activity.date,
        class_hours=activity.class_hours,
        item=AttendanceItem(attendance.pk, attendance.member_id, status),
        standing=standing,
        version=version,
        rules=rules,
        reason=activity.title,
        reversal_reason=_("Attendance changed from %(old)s to %(new)s") % {"old": old_label, "new": new_label},
        user=user,
    )
    if standing or posted:
        # What the row shows: every earlier entry is now reversed, so the attendance
        # stands at what was just posted.
        attendance.points = sum((e.points for e in posted), Decimal("0.00"))
    attendance.counts[old_status] -= 1
    attendance.counts[status] += 1
    return attendance


def attendance_set(*, attendance: Attendance, status: str, user: AbstractBaseUser | None) -> Attendance:
    """Change one member's attendance: the change is logged, the old points reversed
    and the new ones posted. Given with its activity (the grid's click), the attendance
    must be that activity's. The returned attendance carries ``points`` (where it
    stands now) and ``counts`` (the activity's, by status) for the page.

    Atomic without a savepoint of its own: a refusal (``ValidationError``, or
    ``Attendance.DoesNotExist``) is found before anything is written and raised once the
    block is left, so a caller inside a transaction (a test, the QR sign-in) can go on
    using it, and the click spares the two statements a savepoint costs."""
    if status not in AttendanceStatus.values:
        raise ValidationError({"status": _("Unknown attendance status.")})
    refusal: Exception | None = None
    with transaction.atomic(savepoint=False):
        try:
            attendance = _attendance_set(attendance=attendance, status=status, user=user)
        except (ValidationError, Attendance.DoesNotExist) as exc:
            refusal = exc
    if refusal is not None:
        raise refusal
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
