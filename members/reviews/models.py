"""The member's year: the democratic review (民主评议党员) with its support plans (帮促),
and talks with members (谈心谈话 / 提醒谈话).

A branch holds one review a year, at its review meeting (an activity of the
``democratic_review`` or ``org_life_meeting`` kind). The secretary enters every member's
result as one grid; the committee confirms it. Only a confirmed review counts outside
this app: on the member page, in the year-end files and in the cap of a 不合格 member's
annual stars (``selectors.unqualified_members``).
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from branches.activities.models import Activity
from branches.choices import ActivityKind
from branches.models import OrgUnit
from branches.workflow import Move, TransitionRecord
from members.models import Member


class Rating(models.TextChoices):
    EXCELLENT = "excellent", pgettext_lazy("review rating", "Excellent")
    QUALIFIED = "qualified", pgettext_lazy("review rating", "Qualified")
    BASIC = "basic", pgettext_lazy("review rating", "Basically qualified")
    UNQUALIFIED = "unqualified", pgettext_lazy("review rating", "Unqualified")


# The meetings a review may be held at: 民主评议党员 itself, or the 组织生活会 that holds it.
REVIEW_MEETING_KINDS = (ActivityKind.DEMOCRATIC_REVIEW, ActivityKind.ORG_LIFE_MEETING)
# The ratings that call for a support plan (帮促).
NEEDS_SUPPORT = (Rating.BASIC, Rating.UNQUALIFIED)


class DemocraticReview(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("review state", "Being entered")
        SUBMITTED = "submitted", pgettext_lazy("review state", "Submitted")
        CONFIRMED = "confirmed", pgettext_lazy("review state", "Confirmed")

    branch = models.ForeignKey(
        OrgUnit, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="democratic_reviews"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    meeting = models.ForeignKey(
        Activity, verbose_name=_("review meeting"), on_delete=models.PROTECT, related_name="democratic_reviews"
    )
    state = models.CharField(
        pgettext_lazy("review", "state"), max_length=20, choices=State.choices, default=State.DRAFT
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("democratic review")
        verbose_name_plural = _("democratic reviews")
        ordering = ["-year", "branch__name"]
        constraints = [
            models.UniqueConstraint(fields=["branch", "year"], name="review_one_per_branch_year"),
            models.CheckConstraint(
                condition=~Q(state="confirmed") | Q(confirmed_at__isnull=False), name="review_confirmed_has_time"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.branch.name} {self.year}"

    def get_absolute_url(self) -> str:
        return reverse("reviews:detail", args=[self.pk])

    @property
    def is_confirmed(self) -> bool:
        return self.state == self.State.CONFIRMED

    @property
    def is_editable(self) -> bool:
        return self.state == self.State.DRAFT


State = DemocraticReview.State

# The review's moves (STYLE.md, "Workflows"). Who may: the branch (secretary or committee)
# submits; only the committee confirms, returns or reopens — ``access.can_confirm_review``.
MOVES = (
    Move("submit", (State.DRAFT,), State.SUBMITTED, pgettext_lazy("review move", "Submit to the committee")),
    Move("confirm", (State.SUBMITTED,), State.CONFIRMED, pgettext_lazy("review move", "Confirm")),
    Move("return", (State.SUBMITTED,), State.DRAFT, pgettext_lazy("review move", "Return to the branch")),
    Move("reopen", (State.CONFIRMED,), State.DRAFT, pgettext_lazy("review move", "Reopen")),
)
COMMITTEE_MOVES = ("confirm", "return", "reopen")


class ReviewTransition(TransitionRecord):
    review = models.ForeignKey(DemocraticReview, on_delete=models.CASCADE, related_name="transitions")

    class Meta(TransitionRecord.Meta):
        verbose_name = _("review transition")
        verbose_name_plural = _("review transitions")


class ReviewResult(models.Model):
    """A member's result: the rating and, where the meeting counted them, the votes for
    that rating out of the votes cast."""

    review = models.ForeignKey(DemocraticReview, on_delete=models.CASCADE, related_name="results")
    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="review_results"
    )
    rating = models.CharField(pgettext_lazy("review", "rating"), max_length=20, choices=Rating.choices)
    votes_for = models.PositiveSmallIntegerField(_("votes for the rating"), null=True, blank=True)
    votes_cast = models.PositiveSmallIntegerField(_("votes cast"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("review result")
        verbose_name_plural = _("review results")
        ordering = ["review", "member__employee_no"]
        constraints = [
            models.UniqueConstraint(fields=["review", "member"], name="review_result_unique"),
            models.CheckConstraint(
                condition=Q(votes_for__isnull=True) | Q(votes_cast__isnull=True) | Q(votes_for__lte=F("votes_cast")),
                name="review_votes_within_cast",
            ),
        ]
        indexes = [models.Index(fields=["member", "rating"], name="review_result_member_rating")]

    def __str__(self) -> str:
        return f"{self.review} · {self.member.name} · {self.get_rating_display()}"

    @property
    def needs_support(self) -> bool:
        return self.rating in NEEDS_SUPPORT


class SupportPlan(models.Model):
    """帮促: helpers, measures and a review date for a member rated 基本合格 or 不合格,
    followed up until closed with an outcome."""

    result = models.OneToOneField(
        ReviewResult, verbose_name=_("review result"), on_delete=models.PROTECT, related_name="support_plan"
    )
    member = models.ForeignKey(Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="support_plans")
    # An explicit through model: ``seed_demo --reset`` finds what points at a plan among
    # the installed models, which leave out auto-created many-to-many tables.
    helpers = models.ManyToManyField(
        Member, verbose_name=_("helpers"), through="SupportHelper", related_name="supporting_plans", blank=True
    )
    measures = models.TextField(_("measures"))
    review_on = models.DateField(_("review date"))
    outcome = models.TextField(_("outcome"), blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("support plan")
        verbose_name_plural = _("support plans")
        ordering = ["closed_on", "review_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | ~Q(outcome=""), name="support_plan_closed_has_outcome"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member.name} · {self.result.review.year}"

    def get_absolute_url(self) -> str:
        return reverse("reviews:plan_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.closed_on is None


class SupportHelper(models.Model):
    plan = models.ForeignKey(SupportPlan, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(Member, verbose_name=_("helper"), on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("helper")
        verbose_name_plural = _("helpers")
        constraints = [models.UniqueConstraint(fields=["plan", "member"], name="support_helper_unique")]

    def __str__(self) -> str:
        return f"{self.plan} · {self.member.name}"


class SupportFollowUp(models.Model):
    plan = models.ForeignKey(SupportPlan, on_delete=models.CASCADE, related_name="follow_ups")
    date = models.DateField(_("date"))
    note = models.TextField(_("follow-up"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("support follow-up")
        verbose_name_plural = _("support follow-ups")
        ordering = ["date", "pk"]

    def __str__(self) -> str:
        return f"{self.plan} · {self.date:%Y-%m-%d}"


class MemberTalk(models.Model):
    """A talk with one member (谈心谈话, 提醒谈话). Seen by the branch's secretary and the
    committee only (``access.get_member_talk_for_user``). ``branch`` is the member's
    branch when the talk was held: its secretary keeps the record after a transfer."""

    class Kind(models.TextChoices):
        HEART_TO_HEART = "heart_to_heart", _("Heart-to-heart talk")
        REMINDER = "reminder", _("Reminder talk")
        OTHER = "other", pgettext_lazy("talk kind", "Other")

    member = models.ForeignKey(Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="talks")
    branch = models.ForeignKey(OrgUnit, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="member_talks")
    held_on = models.DateField(_("held on"))
    kind = models.CharField(_("kind of talk"), max_length=20, choices=Kind.choices)
    talked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    talker_name = models.CharField(_("talk held by"), max_length=50)
    talker_role = models.CharField(_("their role"), max_length=50, blank=True)
    topic = models.TextField(_("topic"))
    follow_up = models.TextField(_("follow-up"), blank=True)
    follow_up_due = models.DateField(_("follow-up due"), null=True, blank=True)
    follow_up_done_on = models.DateField(_("follow-up done on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("talk with a member")
        verbose_name_plural = _("talks with members")
        ordering = ["-held_on", "-pk"]
        indexes = [models.Index(fields=["branch", "follow_up_due"], name="member_talk_branch_due")]
        constraints = [
            models.CheckConstraint(
                condition=Q(follow_up_due__isnull=True) | ~Q(follow_up=""), name="member_talk_due_needs_follow_up"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.held_on:%Y-%m-%d} {self.member.name} · {self.get_kind_display()}"

    def get_absolute_url(self) -> str:
        return reverse("reviews:member_talks", args=[self.member_id])

    @property
    def follow_up_open(self) -> bool:
        return bool(self.follow_up_due) and self.follow_up_done_on is None
