"""Organisational life (组织生活): activities a branch logs, who attended, attachments.

Points for attendance are not stored here: ``branches.activities.services`` posts them
to the ledger, and every change of attendance reverses the old entry and posts anew.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from branches.choices import ActivityKind, AttendanceStatus
from branches.models import OrgUnit
from members.models import Member


class Activity(models.Model):
    class Status(models.TextChoices):
        HELD = "held", _("Held")
        CANCELLED = "cancelled", _("Cancelled")

    branch = models.ForeignKey(OrgUnit, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="activities")
    group = models.ForeignKey(
        OrgUnit,
        verbose_name=_("party group"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="group_activities",
        help_text=_("For a party group meeting: the group that met."),
    )
    kind = models.CharField(_("type"), max_length=30, choices=ActivityKind.choices)
    title = models.CharField(pgettext_lazy("activity", "title"), max_length=200)
    date = models.DateField(_("date"))
    place = models.CharField(_("place"), max_length=200, blank=True)
    host = models.CharField(_("host"), max_length=100, blank=True)
    minutes = models.TextField(_("minutes"), blank=True)
    class_hours = models.DecimalField(_("class hours"), max_digits=4, decimal_places=1, null=True, blank=True)
    status = models.CharField(
        pgettext_lazy("activity", "status"), max_length=10, choices=Status.choices, default=Status.HELD
    )
    cancelled_reason = models.CharField(_("reason for cancelling"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-date", "-pk"]
        indexes = [
            models.Index(fields=["branch", "date"], name="activity_branch_date"),
            models.Index(fields=["date", "kind"], name="activity_date_kind"),
            # The compliance cache's version of a year's activities (count, latest id and
            # change) from the index alone: a scan of the table was most of a cached page.
            models.Index(fields=["date"], include=["updated_at", "id"], name="activity_date_version"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(group__isnull=True) | Q(kind="group_meeting"),
                name="activity_group_only_for_group_meeting",
            ),
            models.CheckConstraint(
                condition=Q(class_hours__isnull=True) | Q(class_hours__gt=0),
                name="activity_class_hours_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("activities:detail", args=[self.pk])

    @property
    def is_cancelled(self) -> bool:
        return self.status == self.Status.CANCELLED


class Attendance(models.Model):
    activity = models.ForeignKey(
        Activity, verbose_name=_("activity"), on_delete=models.PROTECT, related_name="attendances"
    )
    member = models.ForeignKey(Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="attendances")
    status = models.CharField(
        _("attendance"), max_length=10, choices=AttendanceStatus.choices, default=AttendanceStatus.PRESENT
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendances")
        ordering = ["activity", "member__employee_no"]
        constraints = [
            models.UniqueConstraint(fields=["activity", "member"], name="attendance_unique"),
        ]
        indexes = [
            models.Index(fields=["member", "status"], name="attendance_member_status"),
            # The grading's watermark and branch inputs read a month's attendance by
            # activity: status and changed_at from the index alone (key columns, not
            # INCLUDE, which SQLite lacks).
            models.Index(fields=["activity", "status", "changed_at"], name="attendance_activity_cover"),
        ]

    def __str__(self) -> str:
        return f"{self.activity} · {self.member.name} · {self.get_status_display()}"


class AttendanceChange(models.Model):
    """Every change of someone's attendance, so the grid's history is never lost."""

    attendance = models.ForeignKey(Attendance, on_delete=models.PROTECT, related_name="changes")
    old_status = models.CharField(max_length=10, choices=AttendanceStatus.choices)
    new_status = models.CharField(max_length=10, choices=AttendanceStatus.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("attendance change")
        verbose_name_plural = _("attendance changes")
        ordering = ["-changed_at"]

    def __str__(self) -> str:
        return f"{self.attendance}: {self.old_status} → {self.new_status}"


class ActivityAttachment(models.Model):
    activity = models.ForeignKey(
        Activity, verbose_name=_("activity"), on_delete=models.PROTECT, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to="activities/%Y/%m/")
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class QrSignIn(models.Model):
    """A member marked themselves present by scanning the activity's QR code (once per
    attendance); the secretary's grid shows it, and may still override the status."""

    attendance = models.OneToOneField(Attendance, on_delete=models.PROTECT, related_name="qr_sign_in")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    signed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("QR sign-in")
        verbose_name_plural = _("QR sign-ins")

    def __str__(self) -> str:
        return f"{self.attendance} @ {self.signed_at:%H:%M}"
