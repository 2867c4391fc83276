"""Party members, their membership history, roles and honours.

``Member.branch``/``Member.group`` are the current placement, kept in step with the one
open ``Membership`` period by ``members.services``. History lives in ``Membership``:
half-open periods ``[started_on, ended_on)``, so "who belonged to branch X at the end of
month M" is ``started_on <= last_day < coalesce(ended_on, ∞)`` forever.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from branches.models import OrgUnit


class Member(models.Model):
    class Gender(models.TextChoices):
        MALE = "M", _("Male")
        FEMALE = "F", _("Female")

    class Status(models.TextChoices):
        PROBATIONARY = "probationary", _("Probationary member")
        FULL = "full", _("Full member")

    name = models.CharField(pgettext_lazy("person", "name"), max_length=50)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices)
    birth_date = models.DateField(_("date of birth"))
    ethnicity = models.CharField(_("ethnicity"), max_length=20, blank=True)
    employee_no = models.CharField(_("employee number"), max_length=30, unique=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    branch = models.ForeignKey(
        OrgUnit,
        verbose_name=_("branch"),
        on_delete=models.PROTECT,
        related_name="members",
        limit_choices_to={"kind": OrgUnit.Kind.BRANCH},
    )
    group = models.ForeignKey(
        OrgUnit,
        verbose_name=_("party group"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="group_members",
        limit_choices_to={"kind": OrgUnit.Kind.GROUP},
    )
    post = models.CharField(_("post"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    joined_on = models.DateField(_("date joined the Party"), help_text=_("政治生日"))
    converted_on = models.DateField(_("date of conversion to full member"), null=True, blank=True)
    left_on = models.DateField(_("left on"), null=True, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="member",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("party member")
        verbose_name_plural = _("party members")
        ordering = ["branch_id", "employee_no"]
        indexes = [
            models.Index(fields=["branch", "left_on", "employee_no"], name="member_roster"),
            models.Index(fields=["name"], name="member_name"),
            # The conversions due (the home pages): the current probationary members by
            # joining date, the first 20 read in order instead of sorting a scan of all.
            models.Index(
                fields=["joined_on"],
                name="member_probation_joined",
                condition=Q(left_on__isnull=True, status="probationary"),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(joined_on__gt=F("birth_date")), name="member_joined_after_birth"),
            models.CheckConstraint(
                condition=Q(converted_on__isnull=True) | Q(converted_on__gt=F("joined_on")),
                name="member_converted_after_joining",
            ),
            models.CheckConstraint(
                condition=Q(status="probationary", converted_on__isnull=True)
                | Q(status="full", converted_on__isnull=False),
                name="member_status_matches_conversion",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.employee_no})"

    def get_absolute_url(self) -> str:
        return reverse("members:detail", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.left_on is None


class Membership(models.Model):
    """One period of a member's belonging to a branch (and party group)."""

    class EndReason(models.TextChoices):
        TRANSFER = "transfer", _("Transferred to another branch")
        GROUP_CHANGE = "group_change", _("Moved to another party group")
        TRANSFER_OUT = "transfer_out", _("Transferred out of the organisation")
        DECEASED = "deceased", _("Deceased")
        EXPELLED = "expelled", _("Expelled or removed")
        OTHER = "other", _("Other")

    member = models.ForeignKey(Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="memberships")
    branch = models.ForeignKey(OrgUnit, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="memberships")
    group = models.ForeignKey(
        OrgUnit,
        verbose_name=_("party group"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="group_memberships",
    )
    started_on = models.DateField(_("from"))
    ended_on = models.DateField(_("until"), null=True, blank=True)
    end_reason = models.CharField(_("reason for ending"), max_length=20, choices=EndReason.choices, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("membership period")
        verbose_name_plural = _("membership periods")
        ordering = ["member", "started_on"]
        indexes = [models.Index(fields=["branch", "started_on", "ended_on"], name="membership_branch_period")]
        constraints = [
            models.UniqueConstraint(
                fields=["member"],
                condition=Q(ended_on__isnull=True),
                name="membership_one_open_per_member",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gt=F("started_on")),
                name="membership_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} @ {self.branch} [{self.started_on}, {self.ended_on or '…'})"


class MemberRole(models.Model):
    """A position a member holds: on the branch committee (支委) or as group leader."""

    class Role(models.TextChoices):
        SECRETARY = "secretary", _("Secretary")
        DEPUTY_SECRETARY = "deputy_secretary", _("Deputy secretary")
        ORGANISATION = "organisation", _("Organisation committee member")
        PROPAGANDA = "propaganda", _("Propaganda committee member")
        DISCIPLINE = "discipline", _("Discipline inspection committee member")
        YOUTH = "youth", _("Youth committee member")
        COMMITTEE_MEMBER = "committee_member", _("Committee member")
        GROUP_LEADER = "group_leader", _("Party group leader")

    COMMITTEE_ROLES = (
        Role.SECRETARY,
        Role.DEPUTY_SECRETARY,
        Role.ORGANISATION,
        Role.PROPAGANDA,
        Role.DISCIPLINE,
        Role.YOUTH,
        Role.COMMITTEE_MEMBER,
    )

    member = models.ForeignKey(Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="roles")
    unit = models.ForeignKey(OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="member_roles")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    term = models.ForeignKey(
        "branches.BranchTerm",
        verbose_name=_("term"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="roles",
    )
    started_on = models.DateField(_("from"))
    ended_on = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        verbose_name = _("member role")
        verbose_name_plural = _("member roles")
        ordering = ["unit", "role", "started_on"]
        constraints = [
            # One sitting secretary per branch and one leader per group.
            models.UniqueConstraint(
                fields=["unit", "role"],
                condition=Q(ended_on__isnull=True, role__in=["secretary", "group_leader"]),
                name="memberrole_one_secretary_or_leader",
            ),
            models.UniqueConstraint(
                fields=["member", "unit", "role"],
                condition=Q(ended_on__isnull=True),
                name="memberrole_no_duplicate_open",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                name="memberrole_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member.name} · {self.get_role_display()}"

    @property
    def is_active(self) -> bool:
        return self.ended_on is None


class MemberHonour(models.Model):
    """党员示范岗 / 党员责任区 with stars that accumulate (星级累加), 突击队 membership."""

    class Kind(models.TextChoices):
        MODEL_POST = "model_post", _("Party member model post")
        RESPONSIBILITY_AREA = "responsibility_area", _("Party member responsibility area")
        SHOCK_TEAM = "shock_team", _("Shock team member")
        OTHER = "other", _("Other honour")

    member = models.ForeignKey(Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="honours")
    kind = models.CharField(_("honour"), max_length=30, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=100, blank=True)
    stars = models.PositiveSmallIntegerField(_("stars"), null=True, blank=True)
    awarded_on = models.DateField(_("awarded on"))
    revoked_on = models.DateField(_("revoked on"), null=True, blank=True)
    revoked_reason = models.CharField(_("reason for revoking"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("honour")
        verbose_name_plural = _("honours")
        ordering = ["-awarded_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(stars__isnull=True) | Q(stars__gte=1, stars__lte=5),
                name="memberhonour_stars_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member.name} · {self.get_kind_display()}"

    @property
    def is_active(self) -> bool:
        return self.revoked_on is None


# The roster import's model lives with the import; importing it here registers it.
from members.imports.models import RosterUpload  # noqa: E402,F401
