"""月述职: a committee's monthly report-back (seed 000, Dadong district).

A committee sets up its pool (the units that report to it, each in a category), a
quota per category per month and a cycle in which every unit reports once. Each
month a *draw* picks the quota of each category from the units that have not yet
reported in the cycle; the draw keeps everything needed to replay it (candidates,
quotas, seed, algorithm). The drawn units report in sessions, leaders comment and
assessors score; the unit's score may feed a scored item of the monthly board.
"""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from branches.models import OrgUnit

DEFAULT_THEMES = {
    1: "计划部署",
    2: "工作进展和创新举措",
    3: "工作成效、问题和整改",
    4: "全年成效和明年打算",
}


class Setup(models.Model):
    """One committee's report-back: its cycle, scoring and quarter themes."""

    class Scoring(models.TextChoices):
        MEAN = "mean", _("Mean of the assessors' scores")
        TRIMMED = "trimmed", _("Trimmed mean (without the highest and lowest when three or more)")

    committee = models.OneToOneField(
        OrgUnit, verbose_name=_("party committee"), on_delete=models.PROTECT, related_name="reportback_setup"
    )
    cycle_start = models.DateField(_("first month of the first cycle"))
    cycle_months = models.PositiveSmallIntegerField(_("months per cycle"), default=6)
    draw_day = models.PositiveSmallIntegerField(
        _("draw day"), default=20, help_text=_("The day of the month on which the scheduled draw runs.")
    )
    scoring = models.CharField(_("unit score"), max_length=10, choices=Scoring.choices, default=Scoring.TRIMMED)
    theme_q1 = models.CharField(_("theme of the first quarter"), max_length=100, default=DEFAULT_THEMES[1])
    theme_q2 = models.CharField(_("theme of the second quarter"), max_length=100, default=DEFAULT_THEMES[2])
    theme_q3 = models.CharField(_("theme of the third quarter"), max_length=100, default=DEFAULT_THEMES[3])
    theme_q4 = models.CharField(_("theme of the fourth quarter"), max_length=100, default=DEFAULT_THEMES[4])
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("report-back setup")
        verbose_name_plural = _("report-back setups")
        constraints = [
            models.CheckConstraint(condition=Q(cycle_start__day=1), name="reportback_setup_start_first_day"),
            models.CheckConstraint(
                condition=Q(cycle_months__gte=1, cycle_months__lte=24), name="reportback_setup_cycle_range"
            ),
            models.CheckConstraint(condition=Q(draw_day__gte=1, draw_day__lte=28), name="reportback_setup_draw_day"),
        ]

    def __str__(self) -> str:
        return str(self.committee)

    def get_absolute_url(self) -> str:
        return reverse("reportback:overview", args=[self.committee_id])

    def theme_for(self, month: datetime.date) -> str:
        return getattr(self, f"theme_q{(month.month - 1) // 3 + 1}")

    def cycle_of(self, month: datetime.date) -> tuple[int, datetime.date, int]:
        """(cycle number from 0, the cycle's first month, the month's position in it)."""
        offset = (month.year - self.cycle_start.year) * 12 + month.month - self.cycle_start.month
        number, position = divmod(offset, self.cycle_months)
        return number, add_months(self.cycle_start, number * self.cycle_months), position

    def cycle_months_of(self, month: datetime.date) -> list[datetime.date]:
        _number, start, _position = self.cycle_of(month)
        return [add_months(start, i) for i in range(self.cycle_months)]


def add_months(month: datetime.date, n: int) -> datetime.date:
    index = month.year * 12 + month.month - 1 + n
    return datetime.date(index // 12, index % 12 + 1, 1)


class Category(models.Model):
    """A category of unit (街道 / 区直单位, 生产单位 / 机关单位) and its monthly quota."""

    setup = models.ForeignKey(Setup, on_delete=models.CASCADE, related_name="categories")
    name = models.CharField(_("category"), max_length=50)
    quota = models.PositiveSmallIntegerField(_("units per month"))
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("unit category")
        verbose_name_plural = _("unit categories")
        ordering = ["setup", "sort_order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["setup", "sort_order"], name="reportback_category_slot"),
            models.CheckConstraint(condition=Q(quota__gte=1), name="reportback_category_quota_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class PoolUnit(models.Model):
    """A unit in the pool, its category and the first cycle it reports in: a unit added
    during a cycle joins it only if the remaining months still fit it (``joins_from``
    is then that cycle's first month, else the next cycle's)."""

    setup = models.ForeignKey(Setup, on_delete=models.CASCADE, related_name="pool")
    unit = models.ForeignKey(OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="units")
    joins_from = models.DateField(_("reports from the cycle starting"))
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("unit in the pool")
        verbose_name_plural = _("units in the pool")
        ordering = ["setup", "category", "unit_id"]
        constraints = [models.UniqueConstraint(fields=["setup", "unit"], name="reportback_pool_unique_unit")]

    def __str__(self) -> str:
        return f"{self.unit_id} · {self.category_id}"


class Draw(models.Model):
    """One draw of a month: the record from which anyone may replay it. A redraw
    supersedes it (with a reason) and both stay."""

    class Trigger(models.TextChoices):
        BROWSER = "browser", _("From the browser")
        SCHEDULE = "schedule", _("Scheduled")

    class State(models.TextChoices):
        STANDING = "standing", pgettext_lazy("draw state", "Standing")
        SUPERSEDED = "superseded", _("Superseded by a redraw")

    setup = models.ForeignKey(Setup, on_delete=models.PROTECT, related_name="draws")
    month = models.DateField(_("month"))
    # {category_id: [unit ids, ascending]} and {category_id: number drawn}: the input.
    candidates = models.JSONField(_("candidates"))
    quotas = models.JSONField(_("quotas"))
    seed = models.CharField(_("seed"), max_length=64)
    algorithm = models.CharField(_("algorithm"), max_length=40)
    # The setup's way of scoring when the month was drawn: changing the setup later does
    # not change the scores of a month already drawn (and perhaps published).
    scoring = models.CharField(
        _("unit score"), max_length=10, choices=Setup.Scoring.choices, default=Setup.Scoring.TRIMMED
    )
    trigger = models.CharField(_("started"), max_length=10, choices=Trigger.choices, default=Trigger.BROWSER)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(_("drawn at"), auto_now_add=True)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.STANDING)
    # SET_NULL, not PROTECT: ``state`` says a draw was superseded; this only points on.
    superseded_by = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="supersedes"
    )
    redraw_reason = models.TextField(_("reason for the redraw"), blank=True)

    class Meta:
        verbose_name = _("draw")
        verbose_name_plural = _("draws")
        ordering = ["setup", "month", "started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["setup", "month"],
                condition=Q(state="standing"),
                name="reportback_draw_one_standing_per_month",
            ),
            models.CheckConstraint(condition=Q(month__day=1), name="reportback_draw_month_first_day"),
        ]

    def __str__(self) -> str:
        return f"{self.setup} {self.month:%Y-%m}"

    def get_absolute_url(self) -> str:
        return reverse("reportback:replay", args=[self.pk])

    @property
    def is_standing(self) -> bool:
        return self.state == self.State.STANDING


class Session(models.Model):
    """A sitting at which some of the drawn units report (default: two half-days at
    month end); the top leader's summary comment (综合点评) is the session's."""

    draw = models.ForeignKey(Draw, on_delete=models.PROTECT, related_name="sessions")
    number = models.PositiveSmallIntegerField(_("session"))
    date = models.DateField(_("date"))
    starts_at = models.TimeField(_("starts at"))
    ends_at = models.TimeField(_("ends at"))
    place = models.CharField(_("place"), max_length=100, blank=True)
    summary_by = models.CharField(_("summary comment by"), max_length=50, blank=True)
    summary = models.TextField(_("summary comment (综合点评)"), blank=True)

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        ordering = ["draw", "number"]
        constraints = [models.UniqueConstraint(fields=["draw", "number"], name="reportback_session_number")]

    def __str__(self) -> str:
        return f"{self.draw} #{self.number}"

    def get_absolute_url(self) -> str:
        return reverse("reportback:session", args=[self.pk])


class Report(models.Model):
    """A drawn unit's report-back in a month: where it came in the draw, its session
    and place in the order, and its written report."""

    draw = models.ForeignKey(Draw, on_delete=models.PROTECT, related_name="reports")
    unit = models.ForeignKey(OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(_("drawn as"))
    session = models.ForeignKey(
        Session, verbose_name=_("session"), null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    file = models.FileField(_("report"), upload_to="reportback/%Y/%m/", blank=True)
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("report-back")
        verbose_name_plural = _("report-backs")
        ordering = ["draw", "session__number", "order", "position"]
        constraints = [models.UniqueConstraint(fields=["draw", "unit"], name="reportback_report_once_per_draw")]

    def __str__(self) -> str:
        return f"{self.draw} · {self.unit_id}"

    def get_absolute_url(self) -> str:
        return reverse("reportback:report", args=[self.pk])


class Comment(models.Model):
    """A leader's comment on the spot (即席点评) on one unit's report."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="comments")
    leader = models.CharField(pgettext_lazy("commenting", "leader"), max_length=50)
    text = models.TextField(_("comment"))
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    entered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["report", "entered_at", "pk"]

    def __str__(self) -> str:
        return f"{self.leader}: {self.text[:20]}"


class Assessment(models.Model):
    """One assessor's score (0–100) of one report; every assessor's score is kept."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="assessments")
    assessor = models.CharField(_("assessor"), max_length=50)
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=2)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    entered_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("assessor's score")
        verbose_name_plural = _("assessors' scores")
        ordering = ["report", "assessor"]
        constraints = [
            models.UniqueConstraint(fields=["report", "assessor"], name="reportback_assessment_once"),
            models.CheckConstraint(condition=Q(score__gte=0, score__lte=100), name="reportback_assessment_range"),
        ]

    def __str__(self) -> str:
        return f"{self.assessor}: {self.score}"
