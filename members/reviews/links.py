"""Who may follow a link to a review, support plan or talk page: the rules
``branches.links`` asks, each calling this app's access functions as the view does."""

from branches.access import get_unit_for_user
from branches.links import granted, passes, rule
from members.access import get_member_for_user

from .access import (
    can_see_talks_of,
    get_member_talk_for_user,
    get_review_for_user,
    get_review_result_for_user,
    get_support_plan_for_user,
)


@rule("reviews:branch_review")
def _branch_review(user, *, branch_pk, **_kwargs) -> bool:
    branch = granted(get_unit_for_user, user, branch_pk)
    return branch is not None and branch.is_branch


@rule("reviews:committee_reviews")
def _committee_reviews(user, *, committee_pk, **_kwargs) -> bool:
    committee = granted(get_unit_for_user, user, committee_pk)
    return committee is not None and committee.is_committee


@rule("reviews:detail")
def _detail(user, *, pk, **_kwargs) -> bool:
    return passes(get_review_for_user, user, pk)


@rule("reviews:return")
def _return(user, *, pk, **_kwargs) -> bool:
    review = granted(get_review_for_user, user, pk, write=True, confirm=True)
    return review is not None and review.state == review.State.SUBMITTED


@rule("reviews:reopen")
def _reopen(user, *, pk, **_kwargs) -> bool:
    review = granted(get_review_for_user, user, pk, write=True, confirm=True)
    return review is not None and review.is_confirmed


@rule("reviews:submit", "reviews:confirm")
def _posts(user, **_kwargs) -> bool:
    return False  # buttons of the review page, never a link


@rule("reviews:plan_create")
def _plan_create(user, *, pk, **_kwargs) -> bool:
    result = granted(get_review_result_for_user, user, pk, write=True)
    return result is not None and result.needs_support and not hasattr(result, "support_plan")


@rule("reviews:plan_detail")
def _plan_detail(user, *, pk, **_kwargs) -> bool:
    return passes(get_support_plan_for_user, user, pk)


@rule("reviews:plan_close")
def _plan_close(user, *, pk, **_kwargs) -> bool:
    plan = granted(get_support_plan_for_user, user, pk, write=True)
    return plan is not None and plan.is_open


@rule("reviews:member_talks")
def _member_talks(user, *, pk, **_kwargs) -> bool:
    member = granted(get_member_for_user, user, pk)
    return member is not None and can_see_talks_of(user, member)


@rule("reviews:talk_create")
def _talk_create(user, *, pk, **_kwargs) -> bool:
    member = granted(get_member_for_user, user, pk, write=True)
    return member is not None and can_see_talks_of(user, member)


@rule("reviews:talk_edit")
def _talk_edit(user, *, pk, **_kwargs) -> bool:
    return passes(get_member_talk_for_user, user, pk, write=True)


@rule("reviews:talk_done")
def _talk_done(user, *, pk, **_kwargs) -> bool:
    talk = granted(get_member_talk_for_user, user, pk, write=True)
    return talk is not None and talk.follow_up_open
