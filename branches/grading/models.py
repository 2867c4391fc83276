"""Monthly grading (月度考核), publication (公示), talks (谈话帮扶) and the annual roll-up.

A committee's month has one *draft*: the period-keyed rows ``MemberScore`` and
``BranchScore`` (unique per committee, month and member/branch) that every grading run
upserts in one transaction. Publishing copies the draft into ``Published*`` rows under a
new ``Publication`` version, so every published version stays readable forever.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from branches.choices import ALWAYS_ENTERED, Dimension
from branches.models import OrgUnit
from members.ledger.models import RuleSetVersion, ScoreItem
from members.models import Member

# The dimensions a committee always enters by hand (a version may add basics and
# membership: ``RuleSetVersion.entered_dimensions``).
ENTERED_DIMENSIONS = ALWAYS_ENTERED


class ScoreInput(models.Model):
    """A committee's score for one branch, month and entered dimension (0–100), or
    "not assessed", which shares the dimension's weight out over the others. Where the
    version splits the dimension into scored sub-items (``ScoreItem``), one row per item
    (0 to the item's maximum) and the dimension is their sum; the dimension's own row
    (no item) then only says whether the dimension as a whole is not assessed, and
    holds no score once that mark is lifted."""

    branch = models.ForeignKey(OrgUnit, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="score_inputs")
    month = models.DateField(_("month"))
    dimension = models.CharField(_("dimension"), max_length=20, choices=Dimension.choices)
    item = models.ForeignKey(
        ScoreItem,
        verbose_name=_("scored item"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inputs",
    )
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=2, null=True, blank=True)
    not_assessed = models.BooleanField(_("not assessed"), default=False)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    entered_at = models.DateTimeField(_("entered at"), auto_now=True)

    class Meta:
        verbose_name = _("entered score")
        verbose_name_plural = _("entered scores")
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "month", "dimension"], condition=Q(item__isnull=True), name="scoreinput_unique"
            ),
            models.UniqueConstraint(
                fields=["branch", "month", "item"], condition=Q(item__isnull=False), name="scoreinput_unique_item"
            ),
            models.CheckConstraint(
                condition=(
                    Q(not_assessed=True, score__isnull=True)
                    | Q(not_assessed=False, score__gte=0, score__lte=100)
                    # A dimension scored by items whose "not assessed" mark was lifted.
                    | Q(not_assessed=False, score__isnull=True, item__isnull=True)
                ),
                name="scoreinput_score_or_not_assessed",
            ),
            models.CheckConstraint(condition=Q(month__day=1), name="scoreinput_first_day"),
        ]

    def __str__(self) -> str:
        return f"{self.branch} {self.month:%Y-%m} {self.dimension}{f' {self.item.code}' if self.item_id else ''}"


class ScoreInputChange(models.Model):
    """Every value a score cell has had, with who entered it and when."""

    score_input = models.ForeignKey(ScoreInput, on_delete=models.PROTECT, related_name="changes")
    score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    not_assessed = models.BooleanField(default=False)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    entered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-entered_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.score_input}: {self.score}"


class GradingRun(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    class Trigger(models.TextChoices):
        BROWSER = "browser", _("Started in the browser")
        COMMAND = "command", _("Started from a shell")
        SCHEDULE = "schedule", _("Scheduled")

    committee = models.ForeignKey(
        OrgUnit, verbose_name=_("party committee"), on_delete=models.PROTECT, related_name="grading_runs"
    )
    month = models.DateField(_("month"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    trigger = models.CharField(_("started by"), max_length=10, choices=Trigger.choices, default=Trigger.BROWSER)
    # The scheduled run of a month is requested once however often beat fires.
    request_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    rule_version = models.ForeignKey(
        RuleSetVersion,
        verbose_name=_("rule set version"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # What the inputs looked like when the run read them: if they have changed since,
    # the draft is stale and the page says so.
    watermark = models.JSONField(default=dict, blank=True)
    branches_graded = models.PositiveIntegerField(default=0)
    members_graded = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("grading run")
        verbose_name_plural = _("grading runs")
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["committee", "month", "state"], name="gradingrun_lookup")]

    def __str__(self) -> str:
        return f"{self.committee} {self.month:%Y-%m} #{self.pk} {self.state}"

    @property
    def is_finished(self) -> bool:
        return self.state in (self.State.SUCCEEDED, self.State.FAILED)


class ScoreColumns(models.Model):
    """The numbers of one branch in one month: the five dimensions and what they came from."""

    # None: a dimension the committee enters and marked "not assessed".
    basics = models.DecimalField(_("basic work"), max_digits=5, decimal_places=2, null=True, blank=True)
    committee_work = models.DecimalField(_("committee work"), max_digits=5, decimal_places=2, null=True, blank=True)
    production = models.DecimalField(_("production"), max_digits=5, decimal_places=2, null=True, blank=True)
    membership = models.DecimalField(_("membership building"), max_digits=5, decimal_places=2, null=True, blank=True)
    other = models.DecimalField(_("other work"), max_digits=5, decimal_places=2, null=True, blank=True)
    total = models.DecimalField(_("total"), max_digits=5, decimal_places=2)
    rank = models.PositiveIntegerField(_("rank"), default=0)
    bottom_three = models.BooleanField(_("bottom three"), default=False)
    # Inputs, kept so every number can explain itself.
    required = models.PositiveSmallIntegerField(default=0)
    held = models.PositiveSmallIntegerField(default=0)
    present = models.PositiveIntegerField(default=0)
    late = models.PositiveIntegerField(default=0)
    absent = models.PositiveIntegerField(default=0)
    excused = models.PositiveIntegerField(default=0)
    members = models.PositiveIntegerField(default=0)
    member_mean = models.DecimalField(max_digits=9, decimal_places=4, default=Decimal("0"))
    max_mean = models.DecimalField(max_digits=9, decimal_places=4, default=Decimal("0"))
    attendance_half = models.DecimalField(max_digits=9, decimal_places=4, default=Decimal("0"))
    points_half = models.DecimalField(max_digits=9, decimal_places=4, default=Decimal("0"))

    class Meta:
        abstract = True


class BranchScore(ScoreColumns):
    """The draft: one row per (committee, month, branch), upserted by every run."""

    committee = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    month = models.DateField()
    branch = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="branch_scores")
    run = models.ForeignKey(GradingRun, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["rank", "branch__name"]
        constraints = [models.UniqueConstraint(fields=["committee", "month", "branch"], name="branchscore_unique")]

    def __str__(self) -> str:
        return f"{self.branch} {self.month:%Y-%m} {self.total}"


class MemberColumns(models.Model):
    political = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0"))
    training = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0"))
    org_life = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0"))
    exemplary = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0"))
    duty = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0"))
    deduction = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0"))
    total = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0"))
    stars = models.PositiveSmallIntegerField(default=1)

    class Meta:
        abstract = True


class MemberScore(MemberColumns):
    """The draft: one row per (committee, month, member) — the member counted by the
    branch they belonged to at the month's end."""

    # The draft is derived data that one INSERT … SELECT writes from existing rows, ~100k
    # at a time: per-column indexes and deferred foreign-key checks would double the cost
    # of every grading (bench_grading), so only the two composite indexes it is read by
    # are kept. The published copies keep their constraints.
    committee = models.ForeignKey(
        OrgUnit, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    month = models.DateField()
    member = models.ForeignKey(
        Member, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    branch = models.ForeignKey(
        OrgUnit, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    run = models.ForeignKey(
        GradingRun, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["committee", "month", "member"], name="memberscore_unique")]
        indexes = [models.Index(fields=["committee", "month", "branch"], name="memberscore_branch")]

    def __str__(self) -> str:
        return f"{self.member_id} {self.month:%Y-%m} {self.total}"


class Publication(models.Model):
    """A published ranking board (公示). Republishing after a reopening adds a version."""

    committee = models.ForeignKey(
        OrgUnit, verbose_name=_("party committee"), on_delete=models.PROTECT, related_name="publications"
    )
    month = models.DateField(_("month"))
    version = models.PositiveSmallIntegerField(_("version"))
    run = models.ForeignKey(GradingRun, on_delete=models.PROTECT, related_name="publications")
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(_("published at"), auto_now_add=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("publication")
        verbose_name_plural = _("publications")
        ordering = ["committee", "-month", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["committee", "month", "version"], name="publication_unique_version")
        ]

    def __str__(self) -> str:
        return f"{self.committee} {self.month:%Y-%m} v{self.version}"


class PublishedBranchScore(ScoreColumns):
    publication = models.ForeignKey(Publication, on_delete=models.PROTECT, related_name="branch_scores")
    branch = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="published_scores")

    class Meta:
        ordering = ["rank", "branch__name"]
        constraints = [models.UniqueConstraint(fields=["publication", "branch"], name="publishedbranch_unique")]

    def __str__(self) -> str:
        return f"{self.publication} {self.branch}"


class PublishedMemberScore(MemberColumns):
    publication = models.ForeignKey(Publication, on_delete=models.PROTECT, related_name="member_scores")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    branch = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["publication", "member"], name="publishedmember_unique")]
        indexes = [models.Index(fields=["publication", "branch", "total"], name="publishedmember_branch")]

    def __str__(self) -> str:
        return f"{self.publication} {self.member_id}"


class GroupColumns(models.Model):
    """A party group's month (星级党小组, seed 003): its members' mean points against the
    best group of the committee, and its party-group meetings and their attendance,
    weighted by the version; stars by the version's group bands."""

    members = models.PositiveIntegerField(default=0)
    member_mean = models.DecimalField(max_digits=9, decimal_places=4, default=Decimal("0"))
    max_mean = models.DecimalField(max_digits=9, decimal_places=4, default=Decimal("0"))
    points_part = models.DecimalField(max_digits=9, decimal_places=4, default=Decimal("0"))
    meetings_required = models.PositiveSmallIntegerField(default=0)
    meetings_held = models.PositiveSmallIntegerField(default=0)
    expected = models.PositiveIntegerField(default=0)
    attended = models.PositiveIntegerField(default=0)
    meetings_part = models.DecimalField(max_digits=9, decimal_places=4, default=Decimal("0"))
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=2, default=Decimal("0"))
    stars = models.PositiveSmallIntegerField(_("stars"), default=1)
    rank = models.PositiveIntegerField(_("rank"), default=0)

    class Meta:
        abstract = True


class GroupScore(GroupColumns):
    """The draft: one row per (committee, month, party group), written by every run."""

    # Derived data like the member draft, read only by (committee, month[, group]): the
    # unique index serves every read, so the keys keep no index and no constraint of
    # their own (four indexes and four deferred checks a row cost more than writing the
    # 5,000 rows of a month). Deleting a unit or a run is still refused by the ORM.
    committee = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    month = models.DateField()
    group = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="group_scores", db_constraint=False, db_index=False
    )
    branch = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False)
    run = models.ForeignKey(GradingRun, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False)

    class Meta:
        ordering = ["rank", "group__name"]
        constraints = [models.UniqueConstraint(fields=["committee", "month", "group"], name="groupscore_unique")]

    def __str__(self) -> str:
        return f"{self.group} {self.month:%Y-%m} {self.score}"


class PublishedGroupScore(GroupColumns):
    publication = models.ForeignKey("Publication", on_delete=models.PROTECT, related_name="group_scores")
    group = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="published_group_scores")
    branch = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["rank", "group__name"]
        constraints = [
            models.UniqueConstraint(fields=["publication", "group"], name="publishedgroupscore_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.group} v{self.publication_id} {self.score}"


class Talk(models.Model):
    """谈话帮扶: the committee secretary's talk with a bottom-three branch's secretary."""

    committee = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    month = models.DateField(_("month"))
    branch = models.ForeignKey(OrgUnit, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="talks")
    held_on = models.DateField(_("held on"))
    talked_by = models.CharField(_("talk held by"), max_length=100)
    talked_with = models.CharField(_("talk held with"), max_length=100)
    notes = models.TextField(_("notes"))
    actions = models.TextField(_("agreed actions"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("talk")
        verbose_name_plural = _("talks")
        ordering = ["-held_on"]
        indexes = [models.Index(fields=["committee", "month", "branch"], name="talk_lookup")]

    def __str__(self) -> str:
        return f"{self.branch} {self.month:%Y-%m} {self.held_on}"


class AnnualGrade(models.Model):
    """The year's roll-up for one branch: proposed grade and tier move, and what the
    committee confirmed (with a written reason where it overrides)."""

    class Grade(models.TextChoices):
        ADVANCED = "advanced", _("Advanced")
        STANDARD = "standard", _("Up to standard")
        BELOW = "below", _("Below standard")

    committee = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("year"))
    branch = models.ForeignKey(
        OrgUnit, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="annual_grades"
    )
    months_published = models.PositiveSmallIntegerField(default=0)
    mean_total = models.DecimalField(_("mean monthly total"), max_digits=5, decimal_places=2, null=True, blank=True)
    bottom_three_months = models.PositiveSmallIntegerField(_("months in the bottom three"), default=0)
    proposed_grade = models.CharField(_("proposed grade"), max_length=10, choices=Grade.choices, blank=True)
    final_grade = models.CharField(_("confirmed grade"), max_length=10, choices=Grade.choices, blank=True)
    grade_reason = models.TextField(_("reason for overriding"), blank=True)
    tier_before = models.CharField(_("tier before"), max_length=20, choices=OrgUnit.Tier.choices, blank=True)
    tier_proposed = models.CharField(_("proposed tier"), max_length=20, choices=OrgUnit.Tier.choices, blank=True)
    tier_confirmed = models.BooleanField(_("tier change confirmed"), default=False)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("annual grade")
        verbose_name_plural = _("annual grades")
        ordering = ["committee", "-year", "-mean_total"]
        constraints = [models.UniqueConstraint(fields=["committee", "year", "branch"], name="annualgrade_unique")]

    def __str__(self) -> str:
        return f"{self.branch} {self.year} {self.proposed_grade}"
