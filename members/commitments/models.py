"""Commitments (承诺践诺): what a member (or the branch itself) promises for a year, the
half-yearly checks of each promise, and the committee's publication (公示) of a branch's
results for a period.

A template (全员安全承诺) is given to every current member of its branch at once; each
member's copy is a commitment of its own, tracked and checked separately, and the
database holds one copy per (template, member), so giving a template twice adds only
the members who joined since.

A check posts points to the member through the ledger (source = commitment, source_key
``check:mid`` / ``check:final``); the check row says what the result is now, the ledger
keeps the history.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from branches.models import OrgUnit
from branches.workflow import Move, TransitionRecord
from members.models import Member


class Field(models.TextChoices):
    SAFETY = "safety", _("Safety")
    PRODUCTION = "production", _("Production")
    STUDY = "study", _("Study")
    SERVICE = "service", _("Service")
    OTHER = "other", _("Other")


class Period(models.TextChoices):
    MID = "mid", _("Mid-year check")
    FINAL = "final", _("Year-end check")


class Result(models.TextChoices):
    MET = "met", pgettext_lazy("commitment result", "Met")
    PARTLY = "partly", pgettext_lazy("commitment result", "Partly met")
    NOT_MET = "not_met", _("Not met")


# The ledger rule each result posts (none for "not met").
RESULT_RULES = {Result.MET: "commitment_met", Result.PARTLY: "commitment_partly"}


class CommitmentTarget(models.Model):
    """What a commitment and a template share: the promise, its field, a measurable
    target where there is one, and when it is due."""

    year = models.PositiveSmallIntegerField(_("year"))
    text = models.TextField(_("commitment"))
    field = models.CharField(_("field"), max_length=20, choices=Field.choices, default=Field.OTHER)
    target_text = models.CharField(_("measurable target"), max_length=200, blank=True)
    target_value = models.DecimalField(_("target value"), max_digits=12, decimal_places=2, null=True, blank=True)
    target_unit = models.CharField(_("unit of the target"), max_length=20, blank=True)
    due_on = models.DateField(_("due on"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True

    @property
    def target(self) -> str:
        """The target in words: "零违章" or "12 次" or both."""
        number = ""
        if self.target_value is not None:
            number = f"{self.target_value.normalize():f} {self.target_unit}".strip()
        return " · ".join(part for part in (self.target_text, number) if part)


class CommitmentTemplate(CommitmentTarget):
    """A commitment the secretary gives to every member of the branch (全员安全承诺)."""

    branch = models.ForeignKey(
        OrgUnit, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="commitment_templates"
    )

    class Meta:
        verbose_name = _("commitment template")
        verbose_name_plural = _("commitment templates")
        ordering = ["branch", "-year", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(year__gte=2000, year__lte=2100), name="commitment_template_year_range")
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.text[:30]}"


class Commitment(CommitmentTarget):
    """A member's commitment for a year, or (no member) the branch's own."""

    branch = models.ForeignKey(OrgUnit, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="commitments")
    member = models.ForeignKey(
        Member,
        verbose_name=_("member"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="commitments",
        help_text=_("Empty for the branch's own commitment."),
    )
    template = models.ForeignKey(
        CommitmentTemplate,
        verbose_name=_("template"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="copies",
    )

    class Meta:
        verbose_name = _("commitment")
        verbose_name_plural = _("commitments")
        ordering = ["branch", "year", "member__employee_no", "member_id", "pk"]
        indexes = [models.Index(fields=["branch", "year"], name="commitment_branch_year")]
        constraints = [
            models.CheckConstraint(condition=Q(year__gte=2000, year__lte=2100), name="commitment_year_range"),
            # A template is given to a member once, however often "give to all" is pressed.
            models.UniqueConstraint(
                fields=["template", "member"],
                condition=Q(template__isnull=False),
                name="commitment_one_copy_per_member",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.member or self.branch}: {self.text[:30]}"

    def get_absolute_url(self) -> str:
        return reverse("commitments:detail", args=[self.pk])

    @property
    def is_branch_own(self) -> bool:
        return self.member_id is None


class CommitmentMilestone(models.Model):
    commitment = models.ForeignKey(
        Commitment, verbose_name=_("commitment"), on_delete=models.CASCADE, related_name="milestones"
    )
    title = models.CharField(_("milestone"), max_length=200)
    due_on = models.DateField(_("due on"), null=True, blank=True)
    done = models.BooleanField(_("done"), default=False)

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["commitment", "due_on", "pk"]

    def __str__(self) -> str:
        return self.title


class CommitmentCheck(models.Model):
    """The result of a commitment at a period's check, as it stands now."""

    commitment = models.ForeignKey(
        Commitment, verbose_name=_("commitment"), on_delete=models.PROTECT, related_name="checks"
    )
    period = models.CharField(_("check"), max_length=10, choices=Period.choices)
    result = models.CharField(_("result"), max_length=10, choices=Result.choices)
    evidence = models.FileField(_("evidence"), upload_to="commitments/%Y/%m/", blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    checked_at = models.DateTimeField(_("checked at"), default=timezone.now)

    class Meta:
        verbose_name = _("commitment check")
        verbose_name_plural = _("commitment checks")
        constraints = [models.UniqueConstraint(fields=["commitment", "period"], name="commitment_check_once")]

    def __str__(self) -> str:
        return f"{self.commitment_id} {self.period}: {self.result}"

    @property
    def source_key(self) -> str:
        return source_key_of(self.period)


def source_key_of(period: str) -> str:
    """What a check's ledger entries carry in ``source_key``."""
    return f"check:{period}"


class CheckPublication(models.Model):
    """The committee's publication (公示) of a branch's results for a period."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    branch = models.ForeignKey(
        OrgUnit, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="commitment_publications"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    period = models.CharField(_("check"), max_length=10, choices=Period.choices)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DRAFT)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    MOVES = (Move("publish", (State.DRAFT,), State.PUBLISHED, _("Publish")),)

    class Meta:
        verbose_name = _("publication of commitment results")
        verbose_name_plural = _("publications of commitment results")
        constraints = [
            models.UniqueConstraint(fields=["branch", "year", "period"], name="commitment_publication_once"),
            models.CheckConstraint(
                condition=Q(state="draft") | Q(published_at__isnull=False), name="commitment_published_has_date"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.branch} {self.year} {self.period}: {self.state}"

    @property
    def is_published(self) -> bool:
        return self.state == self.State.PUBLISHED


class CheckPublicationTransition(TransitionRecord):
    publication = models.ForeignKey(CheckPublication, on_delete=models.CASCADE, related_name="transitions")

    class Meta(TransitionRecord.Meta):
        verbose_name = _("publication step")
        verbose_name_plural = _("publication steps")
