"""The democratic review's writes: the grid, the cap on 优秀, the moves, support plans."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from branches.choices import ActivityKind
from members.ledger.models import RuleSetVersion
from members.ledger.services import rule_version_for
from members.reviews import services
from members.reviews.models import DemocraticReview, Rating, ReviewResult, ReviewTransition, SupportPlan
from members.reviews.services import ResultRow

from . import factories as rf

pytestmark = pytest.mark.django_db
State = DemocraticReview.State
E, Q, B, U = Rating.EXCELLENT, Rating.QUALIFIED, Rating.BASIC, Rating.UNQUALIFIED


@pytest.fixture
def ten(tree):
    return rf.members(tree.branch_a, 10)


@pytest.fixture
def review(tree, ten):
    return rf.review(tree.branch_a)


def ratings(members, excellent: int, rest=Q) -> dict:
    return {m: (E if i < excellent else rest) for i, m in enumerate(members)}


def test_a_review_is_held_at_a_review_meeting_of_the_branch_in_its_year(tree, users):
    with translation.override("en"):
        other = rf.meeting(tree.branch_b)
        with pytest.raises(ValidationError, match="not one of"):
            services.review_start(branch=tree.branch_a, year=rf.YEAR, meeting=other, user=None)
        lecture = rf.meeting(tree.branch_a, kind=ActivityKind.PARTY_LECTURE)
        with pytest.raises(ValidationError, match="held democratic review"):
            services.review_start(branch=tree.branch_a, year=rf.YEAR, meeting=lecture, user=None)
        with pytest.raises(ValidationError, match="not held in 2024"):
            services.review_start(branch=tree.branch_a, year=2024, meeting=rf.meeting(tree.branch_a), user=None)
    life = rf.meeting(tree.branch_a, kind=ActivityKind.ORG_LIFE_MEETING)
    review = services.review_start(branch=tree.branch_a, year=rf.YEAR, meeting=life, user=users.secretary)
    assert review.state == State.DRAFT
    with translation.override("en"), pytest.raises(ValidationError, match="already has a democratic review"):
        services.review_start(branch=tree.branch_a, year=rf.YEAR, meeting=rf.meeting(tree.branch_a), user=None)


def test_the_grid_is_saved_at_once(review, ten, users):
    rf.rate(review, {ten[0]: (E, 9, 10), ten[1]: B, ten[2]: Q}, user=users.secretary)
    rows = {r.member_id: r for r in ReviewResult.objects.filter(review=review)}
    assert {pk: r.rating for pk, r in rows.items()} == {ten[0].pk: E, ten[1].pk: B, ten[2].pk: Q}
    assert (rows[ten[0].pk].votes_for, rows[ten[0].pk].votes_cast) == (9, 10)
    # Saving again: a cleared row is removed, a changed one updated.
    rf.rate(review, {ten[0]: Q, ten[1]: B})
    assert dict(ReviewResult.objects.filter(review=review).values_list("member_id", "rating")) == {
        ten[0].pk: Q,
        ten[1].pk: B,
    }


def test_more_excellent_than_the_cap_allows_is_refused_naming_the_cap_and_the_count_allowed(review, ten):
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        rf.rate(review, ratings(ten, 4))
    assert refused.value.messages == ["At most 3 of 10 members may be rated Excellent (30%); the grid rates 4."]
    assert not ReviewResult.objects.filter(review=review).exists()  # nothing of the grid written
    rf.rate(review, ratings(ten, 3))
    assert ReviewResult.objects.filter(review=review, rating=E).count() == 3


def test_the_cap_is_the_version_in_force_at_the_meeting(review, ten, tree):
    version = rule_version_for(unit=tree.branch_a, month=rf.MEETING_DAY.replace(day=1))
    RuleSetVersion.objects.filter(pk=version.pk).update(review_excellent_share=Decimal("20"))
    with translation.override("en"), pytest.raises(ValidationError, match=r"At most 2 of 10 .*\(20%\)"):
        rf.rate(review, ratings(ten, 3))
    rf.rate(review, ratings(ten, 2))


def test_the_cap_rounds_down(tree):
    assert services.excellent_allowed(members=7, share=Decimal("30")) == 2
    assert services.excellent_allowed(members=3, share=Decimal("30")) == 0
    assert services.excellent_allowed(members=10, share=Decimal("30")) == 3


def test_votes_for_cannot_exceed_votes_cast_and_outsiders_cannot_be_rated(review, ten, member_x):
    with translation.override("en"), pytest.raises(ValidationError, match="more than the 5 votes cast"):
        rf.rate(review, {ten[0]: (Q, 6, 5)})
    with pytest.raises(ValidationError):
        services.review_results_save(review=review, rows=[ResultRow(member_id=member_x.pk, rating=Q)], user=None)


def test_a_member_who_joined_after_the_meeting_is_not_on_the_grid(review, tree):
    late = rf.members(tree.branch_a, 1)[0]
    late.memberships.update(started_on=rf.MEETING_DAY + datetime.timedelta(days=1))
    with pytest.raises(ValidationError):
        rf.rate(review, {late: Q})


def test_submit_needs_every_member_rated_then_the_committee_confirms_with_who_and_when(review, ten, users):
    rf.rate(review, ratings(ten[:9], 1))
    with translation.override("en"), pytest.raises(ValidationError, match=ten[9].name):
        services.review_submit(review=review, user=users.secretary)
    rf.rate(review, ratings(ten, 1))
    services.review_submit(review=review, user=users.secretary)
    review = services.review_confirm(review=review, user=users.committee)
    assert review.state == State.CONFIRMED
    assert review.confirmed_by == users.committee and review.confirmed_at is not None
    assert list(
        ReviewTransition.objects.filter(review=review).values_list("move", "from_state", "to_state", "user")
    ) == [
        ("submit", "draft", "submitted", users.secretary.pk),
        ("confirm", "submitted", "confirmed", users.committee.pk),
    ]
    # Confirming twice moves it once; a confirmed grid is read-only.
    with pytest.raises(ValidationError):
        services.review_confirm(review=review, user=users.committee)
    with translation.override("en"), pytest.raises(ValidationError, match="can no longer be changed"):
        rf.rate(review, ratings(ten, 0))


def test_reopening_needs_a_reason_and_makes_the_grid_editable_again(review, ten, users):
    rf.rate(review, ratings(ten, 1))
    services.review_submit(review=review, user=users.secretary)
    services.review_confirm(review=review, user=users.committee)
    with pytest.raises(ValidationError):
        services.review_reopen(review=review, user=users.committee, reason=" ")
    review = services.review_reopen(review=review, user=users.committee, reason="票数录入有误")
    assert review.state == State.DRAFT and review.confirmed_at is None
    assert ReviewTransition.objects.get(review=review, move="reopen").reason == "票数录入有误"
    rf.rate(review, ratings(ten, 2))


def test_the_committee_may_return_a_submitted_review(review, ten, users):
    rf.rate(review, ratings(ten, 1))
    services.review_submit(review=review, user=users.secretary)
    review = services.review_return(review=review, user=users.committee, reason="请补充票数")
    assert review.state == State.DRAFT


def test_a_support_plan_is_for_basic_or_unqualified_and_is_followed_up_and_closed(review, ten, users):
    rf.rate(review, {ten[0]: Q, ten[1]: U})
    results = {r.member_id: r for r in ReviewResult.objects.filter(review=review)}
    with translation.override("en"), pytest.raises(ValidationError, match="Only a member rated"):
        services.support_plan_create(
            result=results[ten[0].pk], helpers=[], measures="x", review_on=datetime.date(2026, 6, 1), user=None
        )
    with pytest.raises(ValidationError):  # the member helping themselves
        services.support_plan_create(
            result=results[ten[1].pk], helpers=[ten[1]], measures="x", review_on=datetime.date(2026, 6, 1), user=None
        )
    plan = services.support_plan_create(
        result=results[ten[1].pk],
        helpers=[ten[2], ten[3]],
        measures="结对帮扶，每月谈心一次",
        review_on=datetime.date(2026, 6, 1),
        user=users.secretary,
    )
    assert plan.member == ten[1] and set(plan.helpers.all()) == {ten[2], ten[3]}
    with pytest.raises(ValidationError):  # one plan per result
        services.support_plan_create(
            result=results[ten[1].pk], helpers=[], measures="x", review_on=datetime.date(2026, 6, 1), user=None
        )
    # The rating of a member with a plan cannot be lifted out of the support ratings.
    with translation.override("en"), pytest.raises(ValidationError, match="support plan"):
        rf.rate(review, {ten[0]: Q, ten[1]: Q})
    services.support_follow_up_add(plan=plan, date=datetime.date(2026, 1, 5), note="已谈心", user=users.secretary)
    with pytest.raises(ValidationError):
        services.support_plan_close(plan=plan, closed_on=timezone.localdate(), outcome=" ", user=None)
    plan = services.support_plan_close(plan=plan, closed_on=timezone.localdate(), outcome="转化提高", user=None)
    assert not plan.is_open and SupportPlan.objects.get(pk=plan.pk).outcome == "转化提高"
    with pytest.raises(ValidationError):
        services.support_follow_up_add(plan=plan, date=timezone.localdate(), note="再次谈心", user=None)
