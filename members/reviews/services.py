"""Writes of the democratic review, its support plans and talks with members.

The review's moves are data (``models.MOVES``); each claims its from-state with a
conditional UPDATE (``branches.workflow.claim``) and writes a ``ReviewTransition`` in
the same transaction, so two racing clicks move it once. Nothing here posts points: the
review's consequence for a 不合格 member is the cap on their annual stars, which grading
reads from ``selectors.unqualified_members``.
"""

import datetime
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.activities.models import Activity
from branches.models import OrgUnit
from branches.workflow import claim, move_named, refuse
from members.ledger.services import rule_version_for
from members.models import Member

from . import selectors
from .models import (
    MOVES,
    NEEDS_SUPPORT,
    REVIEW_MEETING_KINDS,
    DemocraticReview,
    MemberTalk,
    Rating,
    ReviewResult,
    ReviewTransition,
    SupportFollowUp,
    SupportPlan,
)

State = DemocraticReview.State


@dataclass(frozen=True)
class ResultRow:
    """One row of the grid as entered: no rating means the member is not rated yet."""

    member_id: int
    rating: str
    votes_for: int | None = None
    votes_cast: int | None = None
    note: str = ""


# --- the review ------------------------------------------------------------------------


def excellent_allowed(*, members: int, share: Decimal) -> int:
    """How many of ``members`` may be rated 优秀 under ``share`` per cent (rounded down:
    the cap is a ceiling)."""
    return int((Decimal(members) * share / Decimal(100)).to_integral_value(rounding=ROUND_FLOOR))


def share_text(share: Decimal) -> str:
    return f"{share.normalize():f}"


@transaction.atomic
def review_start(*, branch: OrgUnit, year: int, meeting: Activity, user: AbstractBaseUser | None) -> DemocraticReview:
    """Open the branch's review of ``year`` at its review meeting."""
    errors = {}
    if not branch.is_branch:
        errors["meeting"] = _("Only a party branch holds a democratic review.")
    elif meeting.branch_id != branch.pk:
        errors["meeting"] = _("The meeting is not one of %(branch)s.") % {"branch": branch.name}
    elif meeting.kind not in REVIEW_MEETING_KINDS or meeting.is_cancelled:
        errors["meeting"] = _("Choose a held democratic review or organisational life meeting.")
    elif meeting.date.year != year:
        errors["meeting"] = _("The meeting was not held in %(year)s.") % {"year": year}
    if DemocraticReview.objects.filter(branch=branch, year=year).exists():
        errors["meeting"] = _("%(branch)s already has a democratic review for %(year)s.") % {
            "branch": branch.name,
            "year": year,
        }
    if errors:
        raise ValidationError(errors)
    return DemocraticReview.objects.create(branch=branch, year=year, meeting=meeting, created_by=user)


def _check_cap(*, review: DemocraticReview, members: int, excellent: int) -> None:
    version = rule_version_for(unit=review.branch, month=review.meeting.date.replace(day=1))
    share = version.review_excellent_share
    allowed = excellent_allowed(members=members, share=share)
    if excellent > allowed:
        raise ValidationError(
            _(
                "At most %(allowed)s of %(members)s members may be rated %(rating)s (%(share)s%%); "
                "the grid rates %(count)s."
            )
            % {
                "allowed": allowed,
                "members": members,
                "rating": Rating.EXCELLENT.label,
                "share": share_text(share),
                "count": excellent,
            }
        )


def _lock(review: DemocraticReview) -> DemocraticReview:
    return DemocraticReview.objects.select_for_update().select_related("branch", "meeting").get(pk=review.pk)


@transaction.atomic
def review_results_save(
    *, review: DemocraticReview, rows: list[ResultRow], user: AbstractBaseUser | None
) -> list[ReviewResult]:
    """Save the whole grid at once: every row is checked, and the share of 优秀 against
    the version in force at the meeting, before anything is written."""
    review = _lock(review)
    if not review.is_editable:
        raise ValidationError(
            _("The review is %(state)s: its results can no longer be changed.") % {"state": review.get_state_display()}
        )
    grid = dict(selectors.review_members(review=review).values_list("pk", "name"))
    existing = {r.member_id: r for r in review.results.all()}
    planned = set(SupportPlan.objects.filter(result__review=review).values_list("member_id", flat=True))
    errors: list[str] = []
    keep: list[ReviewResult] = []
    for row in rows:
        if row.member_id not in grid:
            errors.append(_("A row names someone who was not a member of the branch at the meeting."))
            continue
        name = grid[row.member_id]
        if row.rating and row.rating not in Rating.values:
            errors.append(_("%(name)s: choose a rating.") % {"name": name})
            continue
        if row.votes_for is not None and row.votes_cast is not None and row.votes_for > row.votes_cast:
            errors.append(
                _("%(name)s: %(for)s votes for the rating is more than the %(cast)s votes cast.")
                % {"name": name, "for": row.votes_for, "cast": row.votes_cast}
            )
        if row.member_id in planned and row.rating not in NEEDS_SUPPORT:
            errors.append(
                _("%(name)s has a support plan: the rating must stay basically qualified or unqualified.")
                % {"name": name}
            )
        if row.rating:
            keep.append(
                ReviewResult(
                    review=review,
                    member_id=row.member_id,
                    rating=row.rating,
                    votes_for=row.votes_for,
                    votes_cast=row.votes_cast,
                    note=row.note,
                    changed_by=user,
                )
            )
    if errors:
        raise ValidationError(errors)
    _check_cap(review=review, members=len(grid), excellent=sum(1 for r in keep if r.rating == Rating.EXCELLENT))
    kept = {r.member_id for r in keep}
    review.results.exclude(member_id__in=kept).delete()
    unchanged = {
        r.member_id
        for r in keep
        if (old := existing.get(r.member_id))
        and (old.rating, old.votes_for, old.votes_cast, old.note) == (r.rating, r.votes_for, r.votes_cast, r.note)
    }
    ReviewResult.objects.bulk_create(
        [r for r in keep if r.member_id not in unchanged],
        update_conflicts=True,
        unique_fields=["review", "member"],
        update_fields=["rating", "votes_for", "votes_cast", "note", "changed_by", "changed_at"],
    )
    return list(review.results.all())


def _move(
    *, review: DemocraticReview, name: str, user: AbstractBaseUser | None, reason: str = "", **changes
) -> DemocraticReview:
    move = move_named(MOVES, name)
    review = _lock(review)
    if review.state not in move.sources:
        raise refuse(move, review.get_state_display())
    from_state = review.state
    if not claim(DemocraticReview.objects, review.pk, move, **changes):
        raise refuse(move, review.get_state_display())
    ReviewTransition.objects.create(
        review=review, move=move.name, from_state=from_state, to_state=move.target, reason=reason, user=user
    )
    review.refresh_from_db()
    return review


@transaction.atomic
def review_submit(*, review: DemocraticReview, user: AbstractBaseUser | None) -> DemocraticReview:
    """The branch hands its grid to the committee: every member rated, the cap held."""
    review = _lock(review)
    grid = dict(selectors.review_members(review=review).values_list("pk", "name"))
    rated = dict(review.results.values_list("member_id", "rating"))
    missing = [name for pk, name in grid.items() if pk not in rated]
    if missing:
        raise ValidationError(
            _("Rate every member before submitting; not rated yet: %(names)s.") % {"names": "、".join(missing)}
        )
    _check_cap(review=review, members=len(grid), excellent=sum(1 for r in rated.values() if r == Rating.EXCELLENT))
    return _move(review=review, name="submit", user=user, submitted_by=user, submitted_at=timezone.now())


@transaction.atomic
def review_confirm(*, review: DemocraticReview, user: AbstractBaseUser | None) -> DemocraticReview:
    return _move(review=review, name="confirm", user=user, confirmed_by=user, confirmed_at=timezone.now())


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why.")})
    return reason


@transaction.atomic
def review_return(*, review: DemocraticReview, user: AbstractBaseUser | None, reason: str) -> DemocraticReview:
    return _move(review=review, name="return", user=user, reason=_reason(reason))


@transaction.atomic
def review_reopen(*, review: DemocraticReview, user: AbstractBaseUser | None, reason: str) -> DemocraticReview:
    """Undo a confirmation: the grid is editable again and no longer counts (stars,
    year-end files) until confirmed anew."""
    return _move(review=review, name="reopen", user=user, reason=_reason(reason), confirmed_by=None, confirmed_at=None)


# --- support plans (帮促) -----------------------------------------------------------------


def _check_helpers(*, member: Member, branch: OrgUnit, helpers: list[Member]) -> None:
    if any(h.pk == member.pk for h in helpers):
        raise ValidationError({"helpers": _("The member cannot be their own helper.")})
    if any(h.branch_id != branch.pk for h in helpers):
        raise ValidationError({"helpers": _("Helpers are members of %(branch)s.") % {"branch": branch.name}})


@transaction.atomic
def support_plan_create(
    *,
    result: ReviewResult,
    helpers: list[Member],
    measures: str,
    review_on: datetime.date,
    user: AbstractBaseUser | None,
) -> SupportPlan:
    result = (
        ReviewResult.objects.select_for_update()
        .select_related("review__branch", "review__meeting", "member")
        .get(pk=result.pk)
    )
    if result.rating not in NEEDS_SUPPORT:
        raise ValidationError(
            _(
                "Only a member rated basically qualified or unqualified gets a support plan; %(name)s is rated %(rating)s."
            )
            % {"name": result.member.name, "rating": result.get_rating_display()}
        )
    if SupportPlan.objects.filter(result=result).exists():
        raise ValidationError(_("%(name)s already has a support plan for this review.") % {"name": result.member.name})
    if review_on < result.review.meeting.date:
        raise ValidationError({"review_on": _("The review date comes after the review meeting.")})
    if not measures.strip():
        raise ValidationError({"measures": _("Describe the measures.")})
    _check_helpers(member=result.member, branch=result.review.branch, helpers=helpers)
    plan = SupportPlan.objects.create(
        result=result, member=result.member, measures=measures.strip(), review_on=review_on, created_by=user
    )
    plan.helpers.set(helpers)
    return plan


def _lock_plan(plan: SupportPlan) -> SupportPlan:
    plan = SupportPlan.objects.select_for_update().get(pk=plan.pk)
    if not plan.is_open:
        raise ValidationError(_("The support plan was closed on %(date)s.") % {"date": f"{plan.closed_on:%Y-%m-%d}"})
    return plan


@transaction.atomic
def support_follow_up_add(
    *, plan: SupportPlan, date: datetime.date, note: str, user: AbstractBaseUser | None
) -> SupportFollowUp:
    plan = _lock_plan(plan)
    if date > timezone.localdate():
        raise ValidationError({"date": _("A follow-up is recorded once it has happened.")})
    if not note.strip():
        raise ValidationError({"note": _("Say what was done.")})
    return SupportFollowUp.objects.create(plan=plan, date=date, note=note.strip(), recorded_by=user)


@transaction.atomic
def support_plan_close(
    *, plan: SupportPlan, closed_on: datetime.date, outcome: str, user: AbstractBaseUser | None
) -> SupportPlan:
    plan = _lock_plan(plan)
    if not outcome.strip():
        raise ValidationError({"outcome": _("Say what came of the plan.")})
    if closed_on > timezone.localdate():
        raise ValidationError({"closed_on": _("A plan is closed on or before today.")})
    if closed_on < plan.created_at.date():
        raise ValidationError({"closed_on": _("A plan is closed after it was made.")})
    plan.closed_on, plan.outcome, plan.closed_by = closed_on, outcome.strip(), user
    plan.save(update_fields=["closed_on", "outcome", "closed_by"])
    return plan


# --- talks with members ------------------------------------------------------------------


def _talk_errors(
    *, held_on: datetime.date, follow_up: str, follow_up_due: datetime.date | None, talker_name: str, topic: str
) -> None:
    errors = {}
    if held_on > timezone.localdate():
        errors["held_on"] = _("A talk is recorded once it has been held.")
    if not talker_name.strip():
        errors["talker_name"] = _("Say who held the talk.")
    if not topic.strip():
        errors["topic"] = _("Say what the talk was about.")
    if follow_up_due is not None and not follow_up.strip():
        errors["follow_up"] = _("A due date needs a follow-up to be due.")
    if follow_up_due is not None and follow_up_due < held_on:
        errors["follow_up_due"] = _("The follow-up is due after the talk.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def member_talk_record(
    *,
    member: Member,
    held_on: datetime.date,
    kind: str,
    talker_name: str,
    topic: str,
    user: AbstractBaseUser | None,
    talker_role: str = "",
    follow_up: str = "",
    follow_up_due: datetime.date | None = None,
) -> MemberTalk:
    _talk_errors(
        held_on=held_on, follow_up=follow_up, follow_up_due=follow_up_due, talker_name=talker_name, topic=topic
    )
    if kind not in MemberTalk.Kind.values:
        raise ValidationError({"kind": _("Choose the kind of talk.")})
    return MemberTalk.objects.create(
        member=member,
        branch_id=member.branch_id,
        held_on=held_on,
        kind=kind,
        talked_by=user,
        talker_name=talker_name.strip(),
        talker_role=talker_role.strip(),
        topic=topic.strip(),
        follow_up=follow_up.strip(),
        follow_up_due=follow_up_due,
    )


@transaction.atomic
def member_talk_update(
    *,
    talk: MemberTalk,
    held_on: datetime.date,
    kind: str,
    talker_name: str,
    topic: str,
    user: AbstractBaseUser | None,
    talker_role: str = "",
    follow_up: str = "",
    follow_up_due: datetime.date | None = None,
) -> MemberTalk:
    _talk_errors(
        held_on=held_on, follow_up=follow_up, follow_up_due=follow_up_due, talker_name=talker_name, topic=topic
    )
    if kind not in MemberTalk.Kind.values:
        raise ValidationError({"kind": _("Choose the kind of talk.")})
    talk = MemberTalk.objects.select_for_update().get(pk=talk.pk)
    talk.held_on, talk.kind, talk.talker_name, talk.talker_role = (
        held_on,
        kind,
        talker_name.strip(),
        talker_role.strip(),
    )
    talk.topic, talk.follow_up, talk.follow_up_due = topic.strip(), follow_up.strip(), follow_up_due
    if follow_up_due is None:
        talk.follow_up_done_on = None
    talk.save()
    return talk


@transaction.atomic
def member_talk_follow_up_done(
    *, talk: MemberTalk, done_on: datetime.date, user: AbstractBaseUser | None
) -> MemberTalk:
    talk = MemberTalk.objects.select_for_update().get(pk=talk.pk)
    if not talk.follow_up_due:
        raise ValidationError(_("This talk has no follow-up to mark done."))
    if talk.follow_up_done_on:
        raise ValidationError(
            _("The follow-up was marked done on %(date)s.") % {"date": f"{talk.follow_up_done_on:%Y-%m-%d}"}
        )
    if done_on < talk.held_on or done_on > timezone.localdate():
        raise ValidationError({"done_on": _("The follow-up is done between the talk and today.")})
    talk.follow_up_done_on = done_on
    talk.save(update_fields=["follow_up_done_on", "updated_at"])
    return talk
