"""The organisation tree (党委 → 党总支 → 党支部 → 党小组) and what hangs off a branch.

The tree is a materialised path: every unit stores ``/<id>/<id>/.../`` of itself and its
ancestors, so "everything under this committee" is one ``path LIKE '/1/7/%'`` query,
however deep the tree. Paths are written only by ``branches.services``.
"""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class OrgUnit(models.Model):
    class Kind(models.TextChoices):
        COMMITTEE = "committee", _("Party committee")
        GENERAL_BRANCH = "general_branch", _("General branch")
        BRANCH = "branch", _("Party branch")
        GROUP = "group", _("Party group")

    class Tier(models.TextChoices):
        STANDARD = "standard", _("Standard")
        EXEMPLARY = "exemplary", _("Exemplary")
        RED_FLAG = "red_flag", _("Red flag")

    # Which kinds may sit under which: committees nest, a branch may sit under a
    # committee or a general branch, groups only under a branch.
    ALLOWED_PARENTS = {
        Kind.COMMITTEE: {None, Kind.COMMITTEE},
        Kind.GENERAL_BRANCH: {Kind.COMMITTEE},
        Kind.BRANCH: {Kind.COMMITTEE, Kind.GENERAL_BRANCH},
        Kind.GROUP: {Kind.BRANCH},
    }

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(
        _("code"),
        max_length=40,
        unique=True,
        help_text=_("A short unique code, used in reports and on the command line."),
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # db_index on a CharField also gives PostgreSQL a varchar_pattern_ops index, which
    # is what makes ``path LIKE 'prefix%'`` an index range scan.
    path = models.CharField(max_length=255, editable=False, db_index=True)
    depth = models.PositiveSmallIntegerField(editable=False, default=0)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)
    brand = models.CharField(_("party-building brand"), max_length=100, blank=True)
    brand_description = models.TextField(_("brand description"), blank=True)
    tier = models.CharField(_("tier"), max_length=20, choices=Tier.choices, blank=True, help_text=_("三型 ladder"))
    established_on = models.DateField(_("established on"), null=True, blank=True)
    # Months before it are "not tracked" (PRODUCT.md, rulings): no requirements, no
    # failures, and they enter no mean, rate or annual roll-up. Set on committees by an
    # administrator; units below inherit the nearest setting (``tracked_from_for``).
    tracked_from = models.DateField(
        _("tracked from"),
        null=True,
        blank=True,
        help_text=_("The first month the system grades this committee; units below it inherit it."),
    )
    dissolved_on = models.DateField(_("dissolved on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("organisation unit")
        verbose_name_plural = _("organisation units")
        ordering = ["path"]
        indexes = [
            models.Index(fields=["kind", "path"], name="orgunit_kind_path"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["committee", "general_branch", "branch", "group"]),
                name="orgunit_kind_valid",
            ),
            models.CheckConstraint(condition=Q(tier="") | Q(kind="branch"), name="orgunit_tier_only_on_branch"),
            models.CheckConstraint(
                condition=Q(tracked_from__isnull=True) | Q(kind="committee", tracked_from__day=1),
                name="orgunit_tracked_from_committee_month",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("branches:unit_detail", args=[self.pk])

    @property
    def is_branch(self) -> bool:
        return self.kind == self.Kind.BRANCH

    @property
    def is_committee(self) -> bool:
        return self.kind == self.Kind.COMMITTEE

    @property
    def is_group(self) -> bool:
        return self.kind == self.Kind.GROUP

    @property
    def is_active(self) -> bool:
        return self.dissolved_on is None

    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to this unit's parent, read off the path."""
        return [int(part) for part in self.path.strip("/").split("/")[:-1] if part]

    def is_within(self, other: "OrgUnit") -> bool:
        return self.path.startswith(other.path)


class BranchTerm(models.Model):
    """A branch committee's term of office (届). Terms last 3 to 5 years (default 3)."""

    branch = models.ForeignKey(OrgUnit, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="terms")
    number = models.PositiveSmallIntegerField(_("term number"))
    started_on = models.DateField(_("started on"))
    length_years = models.PositiveSmallIntegerField(_("term length (years)"), default=3)
    ends_on = models.DateField(_("due to end on"))
    closed_on = models.DateField(_("closed on"), null=True, blank=True, help_text=_("Set when the next term begins."))
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("branch term")
        verbose_name_plural = _("branch terms")
        ordering = ["branch", "-started_on"]
        constraints = [
            models.UniqueConstraint(fields=["branch", "number"], name="branchterm_unique_number"),
            models.UniqueConstraint(
                fields=["branch"],
                condition=Q(closed_on__isnull=True),
                name="branchterm_one_open_per_branch",
            ),
            models.CheckConstraint(
                condition=Q(length_years__gte=3, length_years__lte=5),
                name="branchterm_length_3_to_5",
            ),
            models.CheckConstraint(condition=Q(ends_on__gt=models.F("started_on")), name="branchterm_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.branch} #{self.number}"

    def days_left(self, today: datetime.date) -> int:
        return (self.ends_on - today).days


class BranchTitle(models.Model):
    """An honour title a branch holds (样板支部, 示范基地) until it is withdrawn (摘牌)."""

    class Kind(models.TextChoices):
        MODEL_BRANCH = "model_branch", _("Model branch")
        DEMONSTRATION_BASE = "demonstration_base", _("Demonstration base")

    branch = models.ForeignKey(OrgUnit, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="titles")
    kind = models.CharField(_("title"), max_length=30, choices=Kind.choices)
    awarded_on = models.DateField(_("awarded on"))
    awarded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawn_on = models.DateField(_("withdrawn on"), null=True, blank=True)
    withdrawn_reason = models.CharField(_("reason for withdrawal"), max_length=300, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("branch title")
        verbose_name_plural = _("branch titles")
        ordering = ["-awarded_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "kind"],
                condition=Q(withdrawn_on__isnull=True),
                name="branchtitle_one_active_per_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.branch} · {self.get_kind_display()}"

    @property
    def is_active(self) -> bool:
        return self.withdrawn_on is None


class RoleBinding(models.Model):
    """Binds a login to an organisation unit with a role; a user may hold several.

    What each role may see and change is decided in ``branches.access`` and nowhere else.
    """

    class Role(models.TextChoices):
        SECRETARY = "secretary", _("Branch secretary")
        COMMITTEE_STAFF = "committee_staff", _("Party committee staff")
        ADMIN = "admin", _("Administrator")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="role_bindings",
    )
    role = models.CharField(pgettext_lazy("system access", "role"), max_length=20, choices=Role.choices)
    unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("organisation unit"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="role_bindings",
        help_text=_("Empty only for administrators, who see everything."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("role binding")
        verbose_name_plural = _("role bindings")
        ordering = ["user", "role"]
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "unit"], name="rolebinding_unique"),
            models.CheckConstraint(
                condition=Q(role="admin") | Q(unit__isnull=False),
                name="rolebinding_unit_required_unless_admin",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.unit or '*'}"


class CommitteeMonth(models.Model):
    """A month's state for one committee: open, or closed once its ranking is published.

    A missing row means open. Closing and reopening are recorded in ``MonthEvent``.
    """

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    committee = models.ForeignKey(
        OrgUnit, verbose_name=_("party committee"), on_delete=models.PROTECT, related_name="months"
    )
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("committee month")
        verbose_name_plural = _("committee months")
        ordering = ["committee", "-month"]
        constraints = [
            models.UniqueConstraint(fields=["committee", "month"], name="committeemonth_unique"),
            models.CheckConstraint(condition=Q(month__day=1), name="committeemonth_first_day"),
        ]

    def __str__(self) -> str:
        return f"{self.committee} {self.month:%Y-%m} {self.get_state_display()}"


class MonthEvent(models.Model):
    """Who closed or reopened a committee's month, when, and why."""

    class Action(models.TextChoices):
        CLOSE = "close", _("Closed")
        REOPEN = "reopen", _("Reopened")

    committee_month = models.ForeignKey(CommitteeMonth, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    reason = models.TextField(_("reason"), blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("month event")
        verbose_name_plural = _("month events")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.committee_month} {self.get_action_display()}"
