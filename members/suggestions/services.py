"""Writes to suggestions: entering one (``suggestion_submit``) and one service per move
of the workflow (``models.MOVES``).

Every move claims its from-state with a conditional UPDATE (``branches.workflow.claim``),
so a double submit or two racing clicks move the suggestion once and post its points
once; the second is refused with the state the first left. It writes a transition row
and posts or reverses the stage's points through the ledger in the same transaction:
acceptance posts ``suggestion_adopted`` (source key "accept") to every proposer,
implementation ``suggestion_implemented`` ("implement"); withdrawing either reverses
exactly the entries that stage posted. A closed month refuses the whole move, naming
the month (the ledger's ``month_assert_open``).

The services do not ask who is calling (a secretary entering for their members now,
members themselves later): the views decide who may (``access``).
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.downloads import shorten_filename
from branches.models import OrgUnit
from branches.uploads import check_upload
from branches.workflow import claim, move_named, refuse
from members.ledger.models import LedgerEntry, Source
from members.ledger.services import ledger_post_source, ledger_reverse_sources
from members.models import Member

from .models import MOVES, NEEDS_REASON, POSTS, REVERSES, Field, State, Suggestion, SuggestionTransition

MAX_VALUE = Decimal("99999999.99")


@transaction.atomic
def suggestion_submit(
    *,
    branch: OrgUnit,
    proposers: list[Member],
    title: str,
    text: str,
    field: str,
    user: AbstractBaseUser | None,
    expected_benefit: str = "",
    expected_value: Decimal | None = None,
    submitted_on: datetime.date | None = None,
) -> Suggestion:
    """Record a suggestion (提出) by ``proposers``, members of ``branch``."""
    today = timezone.localdate()
    submitted_on = submitted_on or today
    errors: dict[str, str] = {}
    if not branch.is_branch or not branch.is_active:
        errors["branch"] = _("Suggestions are entered for an active branch.")
    proposers = list({m.pk: m for m in proposers}.values())
    if not proposers:
        errors["proposers"] = _("Name at least one proposer.")
    elif outside := [m.name for m in proposers if m.branch_id != branch.pk or not m.is_active]:
        errors["proposers"] = _("Not current members of %(branch)s: %(names)s.") % {
            "branch": branch.name,
            "names": "、".join(outside),
        }
    if not title.strip():
        errors["title"] = _("Give the suggestion a title.")
    if not text.strip():
        errors["text"] = _("Describe the suggestion.")
    if field not in Field.values:
        errors["field"] = _("Choose a field.")
    if expected_value is not None and not Decimal("0") <= expected_value <= MAX_VALUE:
        errors["expected_value"] = _("Give a value from 0 up.")
    if submitted_on > today:
        errors["submitted_on"] = _("A suggestion cannot be dated in the future.")
    if errors:
        raise ValidationError(errors)
    suggestion = Suggestion.objects.create(
        branch=branch,
        title=title.strip(),
        text=text.strip(),
        field=field,
        expected_benefit=expected_benefit.strip(),
        expected_value=expected_value,
        submitted_on=submitted_on,
        created_by=user,
    )
    suggestion.proposers.set(proposers)
    SuggestionTransition.objects.create(
        suggestion=suggestion,
        move="submit",
        from_state="",
        to_state=State.SUBMITTED,
        user=user,
        at=_moment(submitted_on),
    )
    return suggestion


@dataclass
class MoveOutcome:
    """What a move did: the suggestion as it now stands, the ledger entries it posted,
    the proposers it passed over with why (a full cap, a retired rule), and how many
    entries it reversed."""

    suggestion: Suggestion
    entries: list[LedgerEntry] = field(default_factory=list)
    skipped: list[tuple[Member, str]] = field(default_factory=list)
    reversed: int = 0

    def get_absolute_url(self) -> str:
        return self.suggestion.get_absolute_url()


def _moment(day: datetime.date) -> datetime.datetime:
    """When a move dated ``day`` happened: now if today, else noon of that day."""
    if day == timezone.localdate():
        return timezone.now()
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


def _points_reason(name: str, suggestion: Suggestion) -> str:
    if name == "accept":
        return _("Suggestion adopted: %(title)s") % {"title": suggestion.title}
    return _("Suggestion implemented: %(title)s") % {"title": suggestion.title}


@transaction.atomic
def _move(
    *,
    suggestion: Suggestion,
    name: str,
    user: AbstractBaseUser | None,
    reason: str = "",
    on: datetime.date | None = None,
    changes: dict | None = None,
    evidence: tuple[UploadedFile, str] | None = None,
) -> MoveOutcome:
    move = move_named(MOVES, name)
    today = timezone.localdate()
    on = on or today
    reason = (reason or "").strip()
    if name in NEEDS_REASON and not reason:
        raise ValidationError({"reason": _("Give a reason.")})
    if on > today:
        raise ValidationError({"on": _("A step cannot be dated in the future.")})
    if on < suggestion.submitted_on:
        raise ValidationError({"on": _("A step cannot be dated before the suggestion was submitted.")})
    if not claim(Suggestion.objects, suggestion.pk, move, updated_at=timezone.now(), **(changes or {})):
        # Not in a state this move leaves: moved meanwhile (a double submit, another
        # reviewer) or never allowed. Say what it is now.
        current = Suggestion.objects.filter(pk=suggestion.pk).values_list("state", flat=True).first()
        raise refuse(move, State(current).label if current else _("gone"))
    outcome = MoveOutcome(suggestion=suggestion)
    if name in POSTS:
        code, key = POSTS[name]
        posting = ledger_post_source(
            members=list(suggestion.proposers.select_related("branch")),
            code=code,
            month=on,
            source=Source.SUGGESTION,
            source_id=suggestion.pk,
            source_key=key,
            reason=_points_reason(name, suggestion),
            user=user,
        )
        outcome.entries, outcome.skipped = posting.entries, posting.skipped
    if name in REVERSES:
        outcome.reversed = ledger_reverse_sources(
            source=Source.SUGGESTION,
            source_ids=[suggestion.pk],
            source_key=REVERSES[name],
            reason=reason,
            user=user,
        )
    if evidence is not None:
        # Stored only once the move is claimed and its points posted.
        upload, content_type = evidence
        stored = Suggestion(pk=suggestion.pk)
        stored.evidence.save(upload.name or "evidence", upload, save=False)
        Suggestion.objects.filter(pk=suggestion.pk).update(
            evidence=stored.evidence.name,
            evidence_name=shorten_filename(upload.name or "", Suggestion._meta.get_field("evidence_name").max_length),
            evidence_content_type=content_type,
        )
    SuggestionTransition.objects.create(
        suggestion=suggestion,
        move=name,
        from_state=move.sources[0],
        to_state=move.target,
        reason=reason,
        user=user,
        at=_moment(on),
    )
    suggestion.refresh_from_db()
    return outcome


def suggestion_accept(
    *, suggestion: Suggestion, user: AbstractBaseUser | None, reason: str = "", on: datetime.date | None = None
) -> MoveOutcome:
    """审核 accepted: every proposer earns ``suggestion_adopted`` in the month of ``on``."""
    return _move(suggestion=suggestion, name="accept", user=user, reason=reason, on=on)


def suggestion_reject(
    *, suggestion: Suggestion, user: AbstractBaseUser | None, reason: str, on: datetime.date | None = None
) -> MoveOutcome:
    """审核 rejected, with the reason the branch is told."""
    return _move(
        suggestion=suggestion,
        name="reject",
        user=user,
        reason=reason,
        on=on,
        changes={"rejection_reason": (reason or "").strip()},
    )


def suggestion_publish(
    *, suggestion: Suggestion, user: AbstractBaseUser | None, reason: str = "", on: datetime.date | None = None
) -> MoveOutcome:
    """发布: the accepted suggestion is announced for implementation."""
    return _move(suggestion=suggestion, name="publish", user=user, reason=reason, on=on)


def suggestion_implement(
    *,
    suggestion: Suggestion,
    realised_value: Decimal | None,
    evidence: UploadedFile | None,
    user: AbstractBaseUser | None,
    reason: str = "",
    on: datetime.date | None = None,
) -> MoveOutcome:
    """实施: the realised benefit (万元) with its evidence; every proposer earns
    ``suggestion_implemented``."""
    errors = {}
    content_type = ""
    if realised_value is None or not Decimal("0") <= realised_value <= MAX_VALUE:
        errors["realised_value"] = _("Give the realised benefit in 10k yuan (0 or more).")
    if evidence is None:
        errors["evidence"] = _("Attach the evidence of the implementation (a photo or PDF).")
    else:
        try:
            content_type = check_upload(evidence)
        except ValidationError as exc:
            errors["evidence"] = " ".join(exc.messages)
    if errors:
        raise ValidationError(errors)
    return _move(
        suggestion=suggestion,
        name="implement",
        user=user,
        reason=reason,
        on=on,
        changes={"realised_value": realised_value},
        evidence=(evidence, content_type),
    )


def suggestion_withdraw_acceptance(
    *, suggestion: Suggestion, user: AbstractBaseUser | None, reason: str, on: datetime.date | None = None
) -> MoveOutcome:
    """Back to 提出: the adoption points are reversed (in the months they were posted)."""
    return _move(suggestion=suggestion, name="withdraw_acceptance", user=user, reason=reason, on=on)


def suggestion_reopen(
    *, suggestion: Suggestion, user: AbstractBaseUser | None, reason: str, on: datetime.date | None = None
) -> MoveOutcome:
    """A rejected suggestion goes back to 提出 for another review."""
    return _move(
        suggestion=suggestion, name="reopen", user=user, reason=reason, on=on, changes={"rejection_reason": ""}
    )


def suggestion_withdraw_publication(
    *, suggestion: Suggestion, user: AbstractBaseUser | None, reason: str, on: datetime.date | None = None
) -> MoveOutcome:
    """Back to accepted (not yet announced); no points change."""
    return _move(suggestion=suggestion, name="withdraw_publication", user=user, reason=reason, on=on)


def suggestion_withdraw_implementation(
    *, suggestion: Suggestion, user: AbstractBaseUser | None, reason: str, on: datetime.date | None = None
) -> MoveOutcome:
    """Back to published: the implementation points are reversed and the realised
    benefit and evidence cleared (the file stays in storage; the step keeps the reason)."""
    return _move(
        suggestion=suggestion,
        name="withdraw_implementation",
        user=user,
        reason=reason,
        on=on,
        changes={"realised_value": None, "evidence": "", "evidence_name": "", "evidence_content_type": ""},
    )


# The service of each move, for the pages that take a move's name from a button.
MOVE_SERVICES = {
    "accept": suggestion_accept,
    "reject": suggestion_reject,
    "publish": suggestion_publish,
    "implement": suggestion_implement,
    "withdraw_acceptance": suggestion_withdraw_acceptance,
    "reopen": suggestion_reopen,
    "withdraw_publication": suggestion_withdraw_publication,
    "withdraw_implementation": suggestion_withdraw_implementation,
}
