"""合理化建议: a suggestion by one or more members of a branch, moved through
提出 → 审核 (accepted or rejected) → 发布 → 实施 by the committee (or the secretary, where
the rule set allows). Each move is a ``SuggestionTransition`` row; acceptance and
implementation post points through the ledger with source = suggestion and this
record's id (``services``), so every entry links back here.

The allowed moves are data (``MOVES``), as STYLE.md's "Workflows" asks: each names the
states it leaves, the one it reaches, and what it posts or reverses (``POSTS``,
``REVERSES``).
"""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from branches.models import OrgUnit
from branches.workflow import Move, TransitionRecord
from members.models import Member


class Field(models.TextChoices):
    PROCESS = "process", _("Process (工艺)")
    EQUIPMENT = "equipment", _("Equipment (设备)")
    QUALITY = "quality", _("Quality (质量)")
    SAFETY = "safety", _("Safety (安全)")
    COST = "cost", _("Cost reduction (降本)")
    MANAGEMENT = "management", _("Management (管理)")
    OTHER = "other", _("Other (其他)")


class State(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted (提出)")
    ACCEPTED = "accepted", _("Accepted (审核通过)")
    REJECTED = "rejected", _("Rejected (未采纳)")
    PUBLISHED = "published", _("Published (发布)")
    IMPLEMENTED = "implemented", _("Implemented (实施)")


# The funnel's stages: a suggestion that reached a stage counts in it and in every stage
# before it (an implemented suggestion was accepted and published).
REACHED_ACCEPTED = (State.ACCEPTED, State.PUBLISHED, State.IMPLEMENTED)
REACHED_PUBLISHED = (State.PUBLISHED, State.IMPLEMENTED)
OPEN_STATES = (State.SUBMITTED, State.ACCEPTED, State.PUBLISHED)

MOVES = (
    Move("accept", (State.SUBMITTED,), State.ACCEPTED, _("Accept")),
    Move("reject", (State.SUBMITTED,), State.REJECTED, _("Reject")),
    Move("publish", (State.ACCEPTED,), State.PUBLISHED, pgettext_lazy("suggestion", "Publish")),
    Move("implement", (State.PUBLISHED,), State.IMPLEMENTED, _("Record the implementation")),
    # Undoing a stage: each reverses exactly the points that stage posted.
    Move("withdraw_acceptance", (State.ACCEPTED,), State.SUBMITTED, _("Withdraw the acceptance")),
    Move("reopen", (State.REJECTED,), State.SUBMITTED, _("Reopen")),
    Move("withdraw_publication", (State.PUBLISHED,), State.ACCEPTED, _("Withdraw the publication")),
    Move("withdraw_implementation", (State.IMPLEMENTED,), State.PUBLISHED, _("Withdraw the implementation")),
)
# move → (rule code, ledger source_key) it posts to every proposer.
POSTS = {"accept": ("suggestion_adopted", "accept"), "implement": ("suggestion_implemented", "implement")}
# undo move → the source_key whose standing entries it reverses.
REVERSES = {"withdraw_acceptance": "accept", "withdraw_implementation": "implement"}
# Moves that need a reason (a rejection, and every undo).
NEEDS_REASON = {"reject", "withdraw_acceptance", "reopen", "withdraw_publication", "withdraw_implementation"}
UNDO_MOVES = {"withdraw_acceptance", "reopen", "withdraw_publication", "withdraw_implementation"}


class Suggestion(models.Model):
    title = models.CharField(pgettext_lazy("suggestion", "title"), max_length=200)
    text = models.TextField(_("suggestion"))
    branch = models.ForeignKey(OrgUnit, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="suggestions")
    proposers = models.ManyToManyField(Member, verbose_name=_("proposers"), related_name="suggestions")
    field = models.CharField(_("field"), max_length=20, choices=Field.choices, default=Field.PROCESS)
    expected_benefit = models.TextField(_("expected benefit"), blank=True)
    expected_value = models.DecimalField(
        _("expected value (10k yuan)"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    submitted_on = models.DateField(_("submitted on"))
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.SUBMITTED)
    rejection_reason = models.TextField(_("reason for rejection"), blank=True)
    realised_value = models.DecimalField(
        _("realised benefit (10k yuan)"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    evidence = models.FileField(_("evidence"), upload_to="suggestions/%Y/%m/", blank=True)
    evidence_name = models.CharField(_("evidence file name"), max_length=200, blank=True)
    evidence_content_type = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("suggestion")
        verbose_name_plural = _("suggestions")
        ordering = ["-submitted_on", "-pk"]
        indexes = [models.Index(fields=["branch", "submitted_on"]), models.Index(fields=["state"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(realised_value__isnull=True) | models.Q(state=State.IMPLEMENTED),
                name="suggestion_realised_only_when_implemented",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("suggestions:detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def moves(self) -> list[Move]:
        """The moves its state allows now (who may make them is ``access``'s question)."""
        return [move for move in MOVES if self.state in move.sources]


class SuggestionTransition(TransitionRecord):
    suggestion = models.ForeignKey(
        Suggestion, verbose_name=_("suggestion"), on_delete=models.CASCADE, related_name="transitions"
    )

    class Meta(TransitionRecord.Meta):
        verbose_name = _("suggestion step")
        verbose_name_plural = _("suggestion steps")
        indexes = [models.Index(fields=["suggestion", "at"])]

    def __str__(self) -> str:
        return f"{self.suggestion_id}: {self.from_state} → {self.to_state}"

    @property
    def move_label(self) -> str:
        if self.move == "submit":
            return _("Submitted")
        return next((str(m.label) for m in MOVES if m.name == self.move), self.move)
