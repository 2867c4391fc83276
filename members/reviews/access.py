"""Who may see and change reviews, support plans and talks.

A review (and its results and support plans) is in scope when its branch is: 404
outside, 403 for a write without the right. Entering the grid and submitting it is the
branch's (its secretary or the committee, ``can_write_unit``); confirming, returning and
reopening are the committee's only (``can_confirm_review``).

Talks with a member are confidential: only the secretary of the member's branch (of the
talk's branch, which may be a general branch above it) and committee staff see them. A
member of another branch, or anyone without one of those roles, gets 404 — even once
members can log in, a member's own login will not be one of those roles.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from branches.access import can_write_unit, user_scope
from branches.models import OrgUnit, RoleBinding
from members.models import Member

from .models import DemocraticReview, MemberTalk, ReviewResult, SupportPlan

Role = RoleBinding.Role
# The roles a talk is shown to; nobody else, whatever else they may read.
TALK_ROLES = (Role.SECRETARY, Role.COMMITTEE_STAFF)


def visible_reviews(user) -> QuerySet[DemocraticReview]:
    return DemocraticReview.objects.filter(user_scope(user).path_q("branch__path"))


def can_confirm_review(user, branch: OrgUnit) -> bool:
    scope = user_scope(user)
    return scope.is_admin or scope.contains(branch, Role.COMMITTEE_STAFF)


def get_review_for_user(user, pk: int, *, write: bool = False, confirm: bool = False) -> DemocraticReview:
    review = visible_reviews(user).select_related("branch", "meeting", "confirmed_by").filter(pk=pk).first()
    if review is None:
        raise Http404
    if write and not can_write_unit(user, review.branch):
        raise PermissionDenied
    if confirm and not can_confirm_review(user, review.branch):
        raise PermissionDenied
    return review


def get_review_result_for_user(user, pk: int, *, write: bool = False) -> ReviewResult:
    result = (
        ReviewResult.objects.filter(user_scope(user).path_q("review__branch__path"))
        .select_related("review__branch", "member")
        .filter(pk=pk)
        .first()
    )
    if result is None:
        raise Http404
    if write and not can_write_unit(user, result.review.branch):
        raise PermissionDenied
    return result


def get_support_plan_for_user(user, pk: int, *, write: bool = False) -> SupportPlan:
    plan = (
        SupportPlan.objects.filter(user_scope(user).path_q("result__review__branch__path"))
        .select_related("result__review__branch", "member")
        .filter(pk=pk)
        .first()
    )
    if plan is None:
        raise Http404
    if write and not can_write_unit(user, plan.result.review.branch):
        raise PermissionDenied
    return plan


def visible_member_talks(user) -> QuerySet[MemberTalk]:
    """Talks whose branch lies under the user's secretary or committee-staff bindings
    (everything for an administrator)."""
    scope = user_scope(user)
    if scope.is_admin:
        return MemberTalk.objects.all()
    return MemberTalk.objects.filter(scope.path_q("branch__path", *TALK_ROLES))


def can_see_talks_of(user, member: Member) -> bool:
    """May ``user`` read (and list) the talks of ``member``'s current branch?"""
    scope = user_scope(user)
    return scope.is_admin or scope.contains(member.branch, *TALK_ROLES)


def get_member_talk_for_user(user, pk: int, *, write: bool = False) -> MemberTalk:
    talk = visible_member_talks(user).select_related("member__branch", "branch").filter(pk=pk).first()
    if talk is None:
        raise Http404
    if write and not can_write_unit(user, talk.branch):
        raise PermissionDenied
    return talk
