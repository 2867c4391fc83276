"""Rules as data and the append-only points ledger (积分台账).

Rule sets belong to a committee (or, with no committee, are the installation's default)
and change only by new versions with an effective month. A ledger entry names the rule
and version that produced it, so a month keeps the rules it was recorded under.

Entries are never updated or deleted: on PostgreSQL a trigger refuses it (see migration
0002), and ``members.ledger.services`` has no code path that does it. A mistake is
corrected by a reversing entry that points at the original.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from branches.choices import ALWAYS_ENTERED, ActivityKind, AttendanceStatus, Dimension
from branches.models import OrgUnit
from members.models import Member


class Category(models.TextChoices):
    POLITICAL = "political", _("Political study")
    TRAINING = "training", _("Study and training")
    ORG_LIFE = "org_life", _("Organisational life")
    EXEMPLARY = "exemplary", _("Leading by example")
    DUTY = "duty", _("Duties and commitments")
    DEDUCTION = "deduction", _("Deductions")


class Source(models.TextChoices):
    ATTENDANCE = "attendance", _("Attendance")
    MANUAL = "manual", _("Manual award or deduction")
    PROJECT = "project", _("Project")
    SUGGESTION = "suggestion", _("Suggestion")
    COMMITMENT = "commitment", _("Commitment")


# Where a workflow's entry links to: its record's page, by URL name.
SOURCE_PAGES = {
    Source.PROJECT: "projects:detail",
    Source.SUGGESTION: "suggestions:detail",
    Source.COMMITMENT: "commitments:detail",
}


class RuleSet(models.Model):
    committee = models.OneToOneField(
        OrgUnit,
        verbose_name=_("party committee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rule_set",
        help_text=_("Empty for the installation's default rule set."),
    )
    name = models.CharField(_("name"), max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("rule set")
        verbose_name_plural = _("rule sets")
        ordering = ["committee__path"]
        constraints = [
            # Only one installation default (committee NULL).
            models.UniqueConstraint(fields=["name"], condition=Q(committee__isnull=True), name="ruleset_one_default"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("ledger:ruleset_detail", args=[self.pk])


class RuleSetVersion(models.Model):
    rule_set = models.ForeignKey(RuleSet, verbose_name=_("rule set"), on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    effective_month = models.DateField(_("effective from month"))
    yearly_training_hours = models.DecimalField(
        _("required training hours a year"),
        max_digits=6,
        decimal_places=1,
        default=Decimal("40"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    # Monthly branch grading (PRODUCT.md appendix): dimension weights in percent, member
    # star bands for a month (a year's bands are twelve times these), annual grade limits.
    weight_basics = models.DecimalField(_("weight: basics"), max_digits=5, decimal_places=2, default=Decimal("30"))
    weight_committee_work = models.DecimalField(
        _("weight: committee work"), max_digits=5, decimal_places=2, default=Decimal("15")
    )
    weight_production = models.DecimalField(
        _("weight: production"), max_digits=5, decimal_places=2, default=Decimal("25")
    )
    weight_membership = models.DecimalField(
        _("weight: membership"), max_digits=5, decimal_places=2, default=Decimal("20")
    )
    weight_other = models.DecimalField(_("weight: other work"), max_digits=5, decimal_places=2, default=Decimal("10"))
    star5_from = models.DecimalField(_("five stars from"), max_digits=7, decimal_places=2, default=Decimal("30"))
    star4_from = models.DecimalField(_("four stars from"), max_digits=7, decimal_places=2, default=Decimal("24"))
    star3_from = models.DecimalField(_("three stars from"), max_digits=7, decimal_places=2, default=Decimal("18"))
    star2_from = models.DecimalField(_("two stars from"), max_digits=7, decimal_places=2, default=Decimal("12"))
    grade_advanced_from = models.DecimalField(_("advanced from"), max_digits=5, decimal_places=2, default=Decimal("90"))
    grade_standard_from = models.DecimalField(
        _("up to standard from"), max_digits=5, decimal_places=2, default=Decimal("75")
    )
    bottom_three_limit = models.PositiveSmallIntegerField(_("bottom-three months allowed for advanced"), default=3)
    # The committee's own scheme (细则), all versioned with the rest.
    bottom_three_count = models.PositiveSmallIntegerField(
        _("branches in the bottom three"),
        default=3,
        help_text=_("How many of the lowest branches are flagged each month (the bottom three)."),
    )
    basics_entered = models.BooleanField(
        _("basic work entered by the committee"),
        default=False,
        help_text=_("Otherwise computed from the required activities held."),
    )
    membership_entered = models.BooleanField(
        _("membership building entered by the committee"),
        default=False,
        help_text=_("Otherwise computed from attendance and member points."),
    )
    # Member star bands for a year; empty: twelve times the month's.
    year_star5_from = models.DecimalField(
        _("five stars a year from"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    year_star4_from = models.DecimalField(
        _("four stars a year from"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    year_star3_from = models.DecimalField(
        _("three stars a year from"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    year_star2_from = models.DecimalField(
        _("two stars a year from"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    # 主题党日 (seed 004: the 21st of every month).
    themed_day = models.PositiveSmallIntegerField(
        _("themed Party day of the month"),
        default=21,
        help_text=_("In a shorter month, its last day."),
    )
    themed_day_elsewhere_counts = models.BooleanField(
        _("a themed Party day on another day counts"),
        default=True,
        help_text=_("It counts and the board shows it was not on the day; otherwise it does not count."),
    )
    cadre_training_hours = models.DecimalField(
        _("required training hours a year for secretaries and committee members"),
        max_digits=6,
        decimal_places=1,
        default=Decimal("56"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    # 星级党小组 (seed 003): a group's monthly score from its members' mean points and
    # its party-group meetings, weighted; stars by these bands.
    group_weight_points = models.DecimalField(
        _("group weight: member points"), max_digits=5, decimal_places=2, default=Decimal("50")
    )
    group_weight_meetings = models.DecimalField(
        _("group weight: meetings and attendance"), max_digits=5, decimal_places=2, default=Decimal("50")
    )
    group_star5_from = models.DecimalField(
        _("group five stars from"), max_digits=5, decimal_places=2, default=Decimal("90")
    )
    group_star4_from = models.DecimalField(
        _("group four stars from"), max_digits=5, decimal_places=2, default=Decimal("80")
    )
    group_star3_from = models.DecimalField(
        _("group three stars from"), max_digits=5, decimal_places=2, default=Decimal("70")
    )
    group_star2_from = models.DecimalField(
        _("group two stars from"), max_digits=5, decimal_places=2, default=Decimal("60")
    )
    # The member's year (seed 002): commitments checked at mid-year and at year end; the
    # democratic review's cap on 优秀 and the stars a 不合格 member keeps at most.
    commitment_mid_check = models.PositiveSmallIntegerField(_("commitments checked at mid-year in month"), default=6)
    commitment_final_check = models.PositiveSmallIntegerField(_("commitments checked at year end in month"), default=12)
    review_excellent_share = models.DecimalField(
        _("most members rated excellent (%)"), max_digits=5, decimal_places=2, default=Decimal("30")
    )
    review_unqualified_stars = models.PositiveSmallIntegerField(
        _("annual stars at most for a member rated unqualified"), default=1
    )
    # 合理化建议 are moved on by committee staff; a committee may let secretaries do it.
    suggestions_by_secretary = models.BooleanField(_("secretaries move suggestions on"), default=False)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    GRADING_FIELDS = (
        "weight_basics",
        "weight_committee_work",
        "weight_production",
        "weight_membership",
        "weight_other",
        "star5_from",
        "star4_from",
        "star3_from",
        "star2_from",
        "grade_advanced_from",
        "grade_standard_from",
        "bottom_three_limit",
        "bottom_three_count",
        "basics_entered",
        "membership_entered",
        "year_star5_from",
        "year_star4_from",
        "year_star3_from",
        "year_star2_from",
        "themed_day",
        "themed_day_elsewhere_counts",
        "cadre_training_hours",
        "group_weight_points",
        "group_weight_meetings",
        "group_star5_from",
        "group_star4_from",
        "group_star3_from",
        "group_star2_from",
        "commitment_mid_check",
        "commitment_final_check",
        "review_excellent_share",
        "review_unqualified_stars",
        "suggestions_by_secretary",
    )

    class Meta:
        verbose_name = _("rule set version")
        verbose_name_plural = _("rule set versions")
        ordering = ["rule_set", "-effective_month"]
        constraints = [
            models.UniqueConstraint(fields=["rule_set", "number"], name="rulesetversion_unique_number"),
            models.UniqueConstraint(fields=["rule_set", "effective_month"], name="rulesetversion_unique_month"),
            models.CheckConstraint(condition=Q(effective_month__day=1), name="rulesetversion_first_day"),
            models.CheckConstraint(
                condition=Q(themed_day__gte=1, themed_day__lte=31), name="rulesetversion_themed_day"
            ),
            models.CheckConstraint(condition=Q(bottom_three_count__gte=1), name="rulesetversion_bottom_count"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_set} v{self.number} ({self.effective_month:%Y-%m})"

    @property
    def weights(self) -> dict[str, Decimal]:
        """Dimension → weight in percent."""
        return {
            Dimension.BASICS: self.weight_basics,
            Dimension.COMMITTEE_WORK: self.weight_committee_work,
            Dimension.PRODUCTION: self.weight_production,
            Dimension.MEMBERSHIP: self.weight_membership,
            Dimension.OTHER: self.weight_other,
        }

    @property
    def entered_dimensions(self) -> tuple[str, ...]:
        """The dimensions the committee scores by hand in this version, in board order."""
        entered = set(ALWAYS_ENTERED)
        if self.basics_entered:
            entered.add(Dimension.BASICS)
        if self.membership_entered:
            entered.add(Dimension.MEMBERSHIP)
        return tuple(d for d in Dimension.values if d in entered)

    def year_bands(self) -> list[tuple[int, Decimal]]:
        """(stars, from) for a year's total: the version's own, or twelve times the month's."""
        month = [(5, self.star5_from), (4, self.star4_from), (3, self.star3_from), (2, self.star2_from)]
        own = [self.year_star5_from, self.year_star4_from, self.year_star3_from, self.year_star2_from]
        return [
            (stars, year if year is not None else band * 12) for (stars, band), year in zip(month, own, strict=True)
        ]


class Frequency(models.TextChoices):
    MONTHLY = "monthly", _("Every month")
    QUARTERLY = "quarterly", _("Every quarter")
    YEARLY = "yearly", _("Every year")


class MeetingRequirement(models.Model):
    """What a branch must hold, per version (三会一课, 主题党日, 组织生活会 …): an
    activity kind, how often, once per party group or once for the branch, and for a
    yearly requirement the month by which it is due. A quarterly requirement is due in
    the last month of the quarter and a yearly one in its due month; each counts in the
    基础工作 of the month it is due, met by an activity held at any time in its period."""

    version = models.ForeignKey(
        RuleSetVersion, verbose_name=_("version"), on_delete=models.PROTECT, related_name="requirements"
    )
    kind = models.CharField(_("activity kind"), max_length=30, choices=ActivityKind.choices)
    frequency = models.CharField(_("how often"), max_length=10, choices=Frequency.choices)
    per_group = models.BooleanField(
        _("once per party group"), default=False, help_text=_("Otherwise once for the whole branch.")
    )
    due_month = models.PositiveSmallIntegerField(
        _("due by month"), null=True, blank=True, help_text=_("For a yearly requirement: 1 to 12.")
    )
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("meeting requirement")
        verbose_name_plural = _("meeting requirements")
        ordering = ["version", "sort_order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["version", "kind"], name="meetingrequirement_unique_kind"),
            models.CheckConstraint(
                condition=(Q(frequency="yearly", due_month__gte=1, due_month__lte=12) | ~Q(frequency="yearly"))
                & (Q(frequency="yearly") | Q(due_month__isnull=True)),
                name="meetingrequirement_due_month_yearly",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.get_frequency_display()}"


class ScoreItem(models.Model):
    """A scored sub-item (细则) of a dimension the committee enters: each branch is
    scored on each item up to its maximum, and the dimension is the sum of the items.
    A dimension's items add up to 100 (``rule_set_version_create`` checks it).

    An item may be *fed* by another record instead of being typed in: ``reportback``
    takes the branch's 月述职 score of the month, scaled to the item's maximum
    (``branches.grading.engine.EnteredScores``)."""

    class FedBy(models.TextChoices):
        TYPED = "", _("Entered by the committee")
        REPORTBACK = "reportback", _("The monthly report-back score")

    version = models.ForeignKey(
        RuleSetVersion, verbose_name=_("version"), on_delete=models.PROTECT, related_name="score_items"
    )
    dimension = models.CharField(_("dimension"), max_length=20, choices=Dimension.choices)
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    max_score = models.DecimalField(_("maximum score"), max_digits=5, decimal_places=2)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)
    fed_by = models.CharField(_("scored from"), max_length=20, choices=FedBy.choices, default="", blank=True)

    class Meta:
        verbose_name = _("scored item")
        verbose_name_plural = _("scored items")
        ordering = ["version", "dimension", "sort_order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="scoreitem_unique_code"),
            models.CheckConstraint(condition=Q(max_score__gt=0, max_score__lte=100), name="scoreitem_max_range"),
        ]

    def __str__(self) -> str:
        return f"{self.get_dimension_display()} · {self.name} ({self.max_score})"


class Rule(models.Model):
    version = models.ForeignKey(
        RuleSetVersion, verbose_name=_("version"), on_delete=models.PROTECT, related_name="rules"
    )
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=100)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    source = models.CharField(_("applies to"), max_length=20, choices=Source.choices)
    # For attendance rules: which activity kinds and which status trigger the rule.
    activity_kinds = models.JSONField(_("activity kinds"), default=list, blank=True)
    attendance_statuses = models.JSONField(_("attendance statuses"), default=list, blank=True)
    points_min = models.DecimalField(_("points from"), max_digits=7, decimal_places=2)
    points_max = models.DecimalField(_("points up to"), max_digits=7, decimal_places=2)
    per_class_hour = models.BooleanField(
        _("per class hour"),
        default=False,
        help_text=_("Points are multiplied by the activity's class hours."),
    )
    monthly_cap = models.DecimalField(_("monthly cap"), max_digits=7, decimal_places=2, null=True, blank=True)
    evidence_required = models.BooleanField(_("evidence required"), default=False)
    # For a band (value created, in 万元): the rule applies from this amount; the highest
    # band a value reaches is the one awarded.
    threshold = models.DecimalField(_("from amount"), max_digits=12, decimal_places=2, null=True, blank=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("rule")
        verbose_name_plural = _("rules")
        ordering = ["version", "sort_order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="rule_unique_code"),
            models.CheckConstraint(condition=Q(points_min__lte=F("points_max")), name="rule_points_range"),
            models.CheckConstraint(
                condition=Q(monthly_cap__isnull=True) | Q(monthly_cap__gt=0), name="rule_cap_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_fixed(self) -> bool:
        return self.points_min == self.points_max

    def kind_labels(self) -> list[str]:
        return [ActivityKind(kind).label for kind in self.activity_kinds if kind in ActivityKind.values]

    def status_labels(self) -> list[str]:
        return [AttendanceStatus(s).label for s in self.attendance_statuses if s in AttendanceStatus.values]


class LedgerEntry(models.Model):
    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="ledger_entries"
    )
    # The branch the member belonged to when the entry was made: a branch's month view
    # and the grading read entries by this column without replaying membership history.
    branch = models.ForeignKey(
        OrgUnit, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="ledger_entries"
    )
    month = models.DateField(_("month"))
    rule = models.ForeignKey(Rule, verbose_name=_("rule"), on_delete=models.PROTECT, related_name="entries")
    rule_version = models.ForeignKey(
        RuleSetVersion, verbose_name=_("rule set version"), on_delete=models.PROTECT, related_name="+"
    )
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    points = models.DecimalField(_("points"), max_digits=8, decimal_places=2)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    source_id = models.BigIntegerField(_("source reference"), null=True, blank=True)
    # Which step of the source posted it ("milestone:12", "grade", "adopted" …): undoing
    # that step reverses exactly these entries. A database default, so the bulk writers'
    # COPY and INSERT … SELECT need not name it.
    source_key = models.CharField(_("source step"), max_length=40, blank=True, db_default="")
    evidence = models.FileField(_("evidence"), upload_to="evidence/%Y/%m/", blank=True)
    reason = models.TextField(_("reason"), blank=True)
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("reverses"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["month", "recorded_at", "pk"]
        indexes = [
            models.Index(fields=["member", "month"], name="ledger_member_month"),
            models.Index(fields=["branch", "month"], name="ledger_branch_month"),
            models.Index(fields=["month", "member", "category"], name="ledger_month_member_cat"),
            models.Index(fields=["source", "source_id"], name="ledger_source"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(month__day=1), name="ledgerentry_month_first_day"),
        ]

    def __str__(self) -> str:
        return f"{self.member.name} {self.month:%Y-%m} {self.rule.code} {self.points}"

    @property
    def is_reversal(self) -> bool:
        return self.reverses_id is not None

    @property
    def source_page(self) -> str:
        """The URL name of the record page this entry came from ("" for none): by name
        only, so the ledger imports none of the apps that post to it."""
        return SOURCE_PAGES.get(self.source, "") if self.source_id else ""


class MemberMonthPoints(models.Model):
    """A member's month in the ledger, one row: the points by category, their total, how
    many entries and the last entry's id, and the lowest and highest branch the entries
    were booked to (the same but for a member transferred in the month). Written only by
    the database, from every insert into the ledger (migration 0011: a statement trigger
    on PostgreSQL, a row trigger on SQLite), in the inserting transaction: a snapshot sees
    exactly the sums of the entries it sees, so the grading reads one row per member
    instead of the month's entries. The ledger is append-only (a correction is a
    reversing entry, added like any other), so the sums never have to be taken back."""

    # Derived rows written ~100,000 at a time by a bulk insert of entries: no key checks
    # (the entries carry them), and only the indexes they are read by.
    member = models.ForeignKey(
        Member, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    month = models.DateField()
    branch = models.ForeignKey(
        OrgUnit, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    other_branch = models.ForeignKey(
        OrgUnit, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    political = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    training = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    org_life = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    exemplary = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    duty = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    deduction = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    entries = models.PositiveIntegerField(default=0)
    last_entry = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["month", "member"], name="membermonthpoints_unique")]
        indexes = [
            models.Index(fields=["branch", "month"], name="membermonthpoints_branch"),
            # The few members whose month names two branches (their marks are counted
            # from their entries).
            models.Index(fields=["month"], name="membermonthpoints_moved", condition=~Q(branch=F("other_branch"))),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.month:%Y-%m} {self.total}"
