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

from branches.choices import ActivityKind, AttendanceStatus
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
    )

    class Meta:
        verbose_name = _("rule set version")
        verbose_name_plural = _("rule set versions")
        ordering = ["rule_set", "-effective_month"]
        constraints = [
            models.UniqueConstraint(fields=["rule_set", "number"], name="rulesetversion_unique_number"),
            models.UniqueConstraint(fields=["rule_set", "effective_month"], name="rulesetversion_unique_month"),
            models.CheckConstraint(condition=Q(effective_month__day=1), name="rulesetversion_first_day"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_set} v{self.number} ({self.effective_month:%Y-%m})"


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
