"""Projects (党建攻关项目 / 党员先锋工程 / 挑战项目) and challenges posted for claiming (揭榜).

A project moves through its states by the moves of ``workflow.py``; each move writes a
``ProjectTransition`` and posts or reverses its points through the ledger
(``services.py``). Points are never stored here: the ledger's entries carry
``source = project`` and the project's id, ``source_key`` the step that posted them.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from branches.models import OrgUnit
from branches.workflow import TransitionRecord
from members.models import Member

MONEY = {"max_digits": 12, "decimal_places": 2}


class ProjectKind(models.Model):
    """A kind of project. The defaults (committee empty) are offered to every committee;
    a committee adds its own."""

    committee = models.ForeignKey(
        OrgUnit,
        verbose_name=_("party committee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="project_kinds",
        help_text=_("Empty for a kind every committee may use."),
    )
    name = models.CharField(_("name"), max_length=50)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("project kind")
        verbose_name_plural = _("project kinds")
        ordering = ["sort_order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["committee", "name"], name="project_kind_unique_name"),
            models.UniqueConstraint(
                fields=["name"], condition=Q(committee__isnull=True), name="project_kind_unique_default_name"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ProjectSettings(models.Model):
    """What a committee calls its three year-end grades (default 一等 / 二等 / 三等)."""

    committee = models.OneToOneField(
        OrgUnit, verbose_name=_("party committee"), on_delete=models.PROTECT, related_name="project_settings"
    )
    grade_1_name = models.CharField(_("first grade"), max_length=20, default="一等")
    grade_2_name = models.CharField(_("second grade"), max_length=20, default="二等")
    grade_3_name = models.CharField(_("third grade"), max_length=20, default="三等")

    class Meta:
        verbose_name = _("project settings")
        verbose_name_plural = _("project settings")

    def __str__(self) -> str:
        return self.committee.name

    def grade_names(self) -> dict[int, str]:
        return {1: self.grade_1_name, 2: self.grade_2_name, 3: self.grade_3_name}


class ProjectField(models.TextChoices):
    PROCESS = "process", _("Process")
    EQUIPMENT = "equipment", _("Equipment")
    QUALITY = "quality", _("Quality")
    SAFETY = "safety", _("Safety")
    COST = "cost", _("Cost reduction")
    OTHER = "other", _("Other")


class Challenge(models.Model):
    """A task the committee posts for branches or members to claim (揭榜挂帅)."""

    class State(models.TextChoices):
        OPEN = "open", _("Open for claims")
        AWARDED = "awarded", _("Awarded")
        CLOSED = "closed", _("Closed")

    committee = models.ForeignKey(
        OrgUnit, verbose_name=_("party committee"), on_delete=models.PROTECT, related_name="challenges"
    )
    kind = models.ForeignKey(ProjectKind, verbose_name=_("kind"), on_delete=models.PROTECT, related_name="+")
    field = models.CharField(_("field"), max_length=20, choices=ProjectField.choices, default=ProjectField.OTHER)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"))
    targets = models.TextField(_("targets"), blank=True)
    deadline = models.DateField(_("claims until"))
    reward = models.DecimalField(
        _("reward (10,000 yuan)"), **MONEY, null=True, blank=True, validators=[MinValueValidator(Decimal("0"))]
    )
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.OPEN)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    posted_at = models.DateTimeField(_("posted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("challenge")
        verbose_name_plural = _("challenges")
        ordering = ["-posted_at", "-pk"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("projects:challenge", args=[self.pk])


class ChallengeClaim(models.Model):
    """A branch's (or a member's) claim with its pledge (军令状: what, by when)."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        PICKED = "picked", _("Picked")
        CLOSED = "closed", _("Not picked")

    challenge = models.ForeignKey(
        Challenge, verbose_name=_("challenge"), on_delete=models.PROTECT, related_name="claims"
    )
    branch = models.ForeignKey(OrgUnit, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="+")
    leader = models.ForeignKey(
        Member, verbose_name=_("leader"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    pledge = models.TextField(_("pledge"), help_text=_("What the claimant promises to achieve (军令状)."))
    pledge_by = models.DateField(_("achieved by"))
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.PENDING)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimed_at = models.DateTimeField(_("claimed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("claim")
        verbose_name_plural = _("claims")
        ordering = ["claimed_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["challenge", "branch"], name="challenge_claim_one_per_branch"),
        ]

    def __str__(self) -> str:
        return f"{self.challenge} · {self.branch}"


class Project(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", pgettext_lazy("project state", "Submitted")
        RETURNED = "returned", _("Returned")
        ACTIVE = "active", _("In progress")
        CONCLUDED = "concluded", _("Concluded")
        EVALUATED = "evaluated", _("Evaluated")

    committee = models.ForeignKey(
        OrgUnit,
        verbose_name=_("party committee"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The committee that approves and evaluates the project: the lead branch's."),
    )
    kind = models.ForeignKey(ProjectKind, verbose_name=_("kind"), on_delete=models.PROTECT, related_name="projects")
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    branch = models.ForeignKey(
        OrgUnit, verbose_name=_("lead branch"), on_delete=models.PROTECT, related_name="projects"
    )
    co_branches = models.ManyToManyField(
        OrgUnit, verbose_name=_("co-operating branches"), blank=True, related_name="co_projects"
    )
    leader = models.ForeignKey(
        Member, verbose_name=_("leader"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    field = models.CharField(_("field"), max_length=20, choices=ProjectField.choices, default=ProjectField.OTHER)
    year = models.PositiveSmallIntegerField(_("year"), help_text=_("The year in which it is evaluated."))
    budget = models.DecimalField(
        _("budget (10,000 yuan)"), **MONEY, null=True, blank=True, validators=[MinValueValidator(Decimal("0"))]
    )
    reward = models.DecimalField(
        _("reward funds (10,000 yuan)"), **MONEY, null=True, blank=True, validators=[MinValueValidator(Decimal("0"))]
    )
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.DRAFT)
    results = models.TextField(_("results"), blank=True)
    grade = models.PositiveSmallIntegerField(_("grade"), null=True, blank=True)
    challenge = models.OneToOneField(
        Challenge, verbose_name=_("challenge"), null=True, blank=True, on_delete=models.PROTECT, related_name="project"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        ordering = ["-year", "branch__path", "pk"]
        indexes = [models.Index(fields=["committee", "year", "state"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(grade__isnull=True) | Q(grade__in=[1, 2, 3]), name="project_grade_one_to_three"
            ),
            models.CheckConstraint(
                condition=Q(state="evaluated", grade__isnull=False) | (~Q(state="evaluated") & Q(grade__isnull=True)),
                name="project_grade_iff_evaluated",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("projects:detail", args=[self.pk])


class ProjectMember(models.Model):
    class Role(models.TextChoices):
        DEPUTY = "deputy", _("Deputy leader")
        CORE = "core", _("Technical lead")
        MEMBER = "member", _("Member")

    project = models.ForeignKey(Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="members")
    member = models.ForeignKey(Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="+")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        verbose_name = _("project member")
        verbose_name_plural = _("project members")
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["project", "member"], name="project_member_once")]

    def __str__(self) -> str:
        return f"{self.member} ({self.get_role_display()})"


class ProjectTarget(models.Model):
    """A quantified target: metric, unit, baseline, target and the stretch (挑战值)."""

    project = models.ForeignKey(Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="targets")
    metric = models.CharField(_("metric"), max_length=100)
    unit = models.CharField(pgettext_lazy("measure", "unit"), max_length=20, blank=True)
    baseline = models.DecimalField(_("baseline"), max_digits=14, decimal_places=3)
    target = models.DecimalField(_("target"), max_digits=14, decimal_places=3)
    stretch = models.DecimalField(_("stretch target"), max_digits=14, decimal_places=3, null=True, blank=True)

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.metric


class Milestone(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUBMITTED = "submitted", _("Submitted for acceptance")
        ACCEPTED = "accepted", pgettext_lazy("milestone state", "Accepted")

    project = models.ForeignKey(Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(_("title"), max_length=200)
    due_on = models.DateField(_("due on"))
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.PENDING)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["due_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state="accepted", accepted_at__isnull=False) | ~Q(state="accepted"),
                name="milestone_accepted_has_time",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def source_key(self) -> str:
        """The ledger's ``source_key`` of the points this milestone's acceptance posts."""
        return f"milestone:{self.pk}"


class ValueRecord(models.Model):
    """Value created (创效) in a month, in 万元, with its evidence."""

    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="value_records"
    )
    month = models.DateField(_("month"))
    amount = models.DecimalField(_("value created (10,000 yuan)"), **MONEY)
    progress = models.TextField(_("progress this month"), blank=True)
    evidence = models.FileField(_("evidence"), upload_to="projects/%Y/%m/", blank=True)
    evidence_name = models.CharField(_("file name"), max_length=200, blank=True)
    evidence_type = models.CharField(max_length=100, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("value record")
        verbose_name_plural = _("value records")
        ordering = ["month", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["project", "month"], name="value_record_one_per_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="value_record_first_of_month"),
        ]

    def __str__(self) -> str:
        return f"{self.project} · {self.month:%Y-%m}"


class ProjectTransition(TransitionRecord):
    """A move of the project, or of one of its milestones (``milestone`` set)."""

    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="transitions"
    )
    milestone = models.ForeignKey(
        Milestone, verbose_name=_("milestone"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta(TransitionRecord.Meta):
        verbose_name = _("project transition")
        verbose_name_plural = _("project transitions")
