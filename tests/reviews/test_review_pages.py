"""The pages: outsiders 404 everywhere, the secretary cannot confirm (403), the grid in
a fixed number of queries, refusals shown on the page, talks seen only by the branch's
secretary and the committee."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from members.reviews import services
from members.reviews.models import DemocraticReview, MemberTalk, Rating, ReviewResult

from . import factories as rf

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
Q, U, E = Rating.QUALIFIED, Rating.UNQUALIFIED, Rating.EXCELLENT


@pytest.fixture(autouse=True)
def english(client, settings):
    """Messages are asserted in English: the pages are asked in English too."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def world(tree, users, member_a):
    others = rf.members(tree.branch_a, 3)
    review = rf.review(tree.branch_a)
    rf.rate(review, {member_a: U, **{m: Q for m in others}})
    result = ReviewResult.objects.get(review=review, member=member_a)
    plan = services.support_plan_create(
        result=result, helpers=[others[0]], measures="结对帮扶", review_on=TODAY - datetime.timedelta(days=3), user=None
    )
    talk = services.member_talk_record(
        member=member_a,
        held_on=TODAY - datetime.timedelta(days=20),
        kind=MemberTalk.Kind.REMINDER,
        talker_name="刘书记",
        topic="学习笔记未完成",
        follow_up="两周后检查",
        follow_up_due=TODAY - datetime.timedelta(days=5),
        user=users.secretary,
    )
    return {"review": review, "result": result, "plan": plan, "talk": talk, "member": member_a, "others": others}


def urls(tree, world) -> list[tuple[str, str]]:
    """(method, url) of every page of the app."""
    review, result, plan, talk, member = (world[k] for k in ("review", "result", "plan", "talk", "member"))
    return [
        ("get", reverse("reviews:branch_review", args=[tree.branch_a.pk, rf.YEAR])),
        ("get", reverse("reviews:committee_reviews", args=[tree.plant.pk, rf.YEAR])),
        ("get", reverse("reviews:detail", args=[review.pk])),
        ("post", reverse("reviews:submit", args=[review.pk])),
        ("post", reverse("reviews:confirm", args=[review.pk])),
        ("get", reverse("reviews:return", args=[review.pk])),
        ("get", reverse("reviews:reopen", args=[review.pk])),
        ("get", reverse("reviews:plan_create", args=[result.pk])),
        ("get", reverse("reviews:plan_detail", args=[plan.pk])),
        ("get", reverse("reviews:plan_close", args=[plan.pk])),
        ("get", reverse("reviews:member_talks", args=[member.pk])),
        ("get", reverse("reviews:talk_create", args=[member.pk])),
        ("get", reverse("reviews:talk_edit", args=[talk.pk])),
        ("get", reverse("reviews:talk_done", args=[talk.pk])),
    ]


@pytest.mark.parametrize("outsider", ["other_secretary", "other_committee", "nobody"])
def test_outsiders_get_404_on_every_page(tree, users, world, login, outsider):
    client = login(getattr(users, outsider))
    for method, url in urls(tree, world):
        assert getattr(client, method)(url).status_code == 404, url


def test_anonymous_users_are_sent_to_log_in(tree, world, client):
    for method, url in urls(tree, world):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


def test_the_secretary_cannot_confirm_return_or_reopen(tree, users, world, login):
    review = world["review"]
    client = login(users.secretary)
    assert client.post(reverse("reviews:submit", args=[review.pk])).status_code == 302
    assert DemocraticReview.objects.get(pk=review.pk).state == "submitted"
    assert client.post(reverse("reviews:confirm", args=[review.pk])).status_code == 403
    assert client.get(reverse("reviews:return", args=[review.pk])).status_code == 403
    assert DemocraticReview.objects.get(pk=review.pk).state == "submitted"
    page = client.get(reverse("reviews:detail", args=[review.pk]))
    assert b'id="review-confirm"' not in page.content


def test_the_committee_confirms_and_the_grid_becomes_read_only(tree, users, world, login):
    review = world["review"]
    services.review_submit(review=review, user=users.secretary)
    client = login(users.committee)
    response = client.post(reverse("reviews:confirm", args=[review.pk]))
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.is_confirmed and review.confirmed_by == users.committee
    secretary = login(users.secretary)
    page = secretary.get(reverse("reviews:detail", args=[review.pk]))
    assert page.context["form"] is None and b'id="review-grid-form"' not in page.content
    # A POST to the grid changes nothing.
    secretary.post(reverse("reviews:detail", args=[review.pk]), {f"rating_{world['member'].pk}": Q})
    assert ReviewResult.objects.get(review=review, member=world["member"]).rating == U
    # The committee may reopen with a reason.
    committee = login(users.committee)
    response = committee.post(reverse("reviews:reopen", args=[review.pk]), {"reason": "录入有误"})
    assert response.status_code == 302
    assert DemocraticReview.objects.get(pk=review.pk).state == "draft"


def grid_data(members, ratings) -> dict:
    data = {}
    for member, rating in zip(members, ratings, strict=True):
        data |= {
            f"rating_{member.pk}": rating,
            f"votes_for_{member.pk}": "",
            f"votes_cast_{member.pk}": "",
            f"note_{member.pk}": "",
        }
    return data


def test_the_grid_page_saves_every_row_and_shows_the_cap_refusal_in_place(tree, users, login):
    members = rf.members(tree.branch_a, 10)
    review = rf.review(tree.branch_a)
    client = login(users.secretary)
    url = reverse("reviews:detail", args=[review.pk])
    page = client.post(url, grid_data(members, [E] * 4 + [Q] * 6))
    assert page.status_code == 200
    assert "At most 3 of 10 members may be rated Excellent (30%); the grid rates 4." in page.content.decode()
    assert not ReviewResult.objects.filter(review=review).exists()
    response = client.post(url, grid_data(members, [E] * 3 + [Q] * 6 + [U]))
    assert response.status_code == 302
    assert ReviewResult.objects.filter(review=review).count() == 10


def test_the_grid_page_takes_a_fixed_number_of_queries(tree, users, login, django_assert_max_num_queries):
    members = rf.members(tree.branch_a, 40)
    review = rf.review(tree.branch_a)
    rf.rate(review, {m: Q for m in members})
    client = login(users.secretary)
    url = reverse("reviews:detail", args=[review.pk])
    client.get(url)
    with django_assert_max_num_queries(20):
        page = client.get(url)
    assert len(page.context["rows"]) == 40


def test_the_committee_page_counts_each_branchs_ratings(tree, users, world, login, django_assert_max_num_queries):
    client = login(users.committee)
    with django_assert_max_num_queries(14):
        page = client.get(reverse("reviews:committee_reviews", args=[tree.plant.pk, rf.YEAR]))
    rows = {row.branch: row for row in page.context["rows"]}
    assert rows[tree.branch_a].counts == [0, 3, 0, 1]
    assert rows[tree.branch_b].review is None
    assert rows[tree.branch_a].review.open_plans == 1


def test_starting_a_review_from_the_branch_page(tree, users, login):
    rf.members(tree.branch_a, 2)
    meeting = rf.meeting(tree.branch_a)
    client = login(users.secretary)
    url = reverse("reviews:branch_review", args=[tree.branch_a.pk, rf.YEAR])
    assert client.get(url).status_code == 200
    response = client.post(url, {"meeting": meeting.pk})
    review = DemocraticReview.objects.get(branch=tree.branch_a, year=rf.YEAR)
    assert response["Location"] == review.get_absolute_url()
    assert client.get(url)["Location"] == review.get_absolute_url()


def test_a_support_plan_is_followed_up_and_closed_through_its_pages(tree, users, world, login):
    plan = world["plan"]
    client = login(users.secretary)
    page = client.get(reverse("reviews:plan_detail", args=[plan.pk]))
    assert b'id="plan-state"' in page.content and b"Overdue" in page.content
    client.post(reverse("reviews:plan_detail", args=[plan.pk]), {"date": TODAY.isoformat(), "note": "已谈心"})
    assert plan.follow_ups.count() == 1
    client.post(reverse("reviews:plan_close", args=[plan.pk]), {"closed_on": TODAY.isoformat(), "outcome": "转化提高"})
    plan.refresh_from_db()
    assert plan.outcome == "转化提高" and not plan.is_open


def test_talks_are_seen_by_the_branch_secretary_and_the_committee_only(tree, users, world, login):
    member = world["member"]
    for user in (users.secretary, users.committee, users.admin):
        page = login(user).get(reverse("reviews:member_talks", args=[member.pk]))
        assert page.status_code == 200 and "学习笔记未完成" in page.content.decode()
    for user in (users.other_secretary, users.other_committee, users.nobody):
        assert login(user).get(reverse("reviews:member_talks", args=[member.pk])).status_code == 404
    # The member page links to the talks only for those who may read them.
    page = login(users.secretary).get(member.get_absolute_url())
    assert b'id="member-talks-link"' in page.content


def test_the_access_function_answers_404_to_a_member_of_another_branch(tree, users, world):
    from django.http import Http404

    from members.reviews.access import get_member_talk_for_user

    talk = world["talk"]
    assert get_member_talk_for_user(users.secretary, talk.pk) == talk
    assert get_member_talk_for_user(users.committee, talk.pk) == talk
    for outsider in (users.other_secretary, users.other_committee, users.nobody):
        with pytest.raises(Http404):
            get_member_talk_for_user(outsider, talk.pk)


def test_recording_a_talk_and_marking_its_follow_up_done(tree, users, world, login):
    member = world["member"]
    client = login(users.secretary)
    response = client.post(
        reverse("reviews:talk_create", args=[member.pk]),
        {
            "held_on": TODAY.isoformat(),
            "kind": MemberTalk.Kind.HEART_TO_HEART,
            "talker_name": "刘书记",
            "talker_role": "支部书记",
            "topic": "家庭困难",
            "follow_up": "协调工会慰问",
            "follow_up_due": (TODAY + datetime.timedelta(days=7)).isoformat(),
        },
    )
    assert response.status_code == 302
    talk = MemberTalk.objects.get(topic="家庭困难")
    client.post(reverse("reviews:talk_done", args=[talk.pk]), {"done_on": TODAY.isoformat()})
    talk.refresh_from_db()
    assert talk.follow_up_done_on == TODAY


def test_the_branch_page_shows_overdue_follow_ups_and_open_plans(tree, users, world, login):
    page = login(users.secretary).get(tree.branch_a.get_absolute_url())
    html = page.content.decode()
    assert f'data-talk="{world["talk"].pk}"' in html
    assert f'data-plan="{world["plan"].pk}"' in html
    services.member_talk_follow_up_done(talk=world["talk"], done_on=TODAY, user=None)
    html = login(users.secretary).get(tree.branch_a.get_absolute_url()).content.decode()
    assert f'data-talk="{world["talk"].pk}"' not in html


def test_the_member_page_shows_the_review_result(tree, users, world, login):
    page = login(users.secretary).get(world["member"].get_absolute_url())
    html = page.content.decode()
    assert 'id="member-reviews"' in html and "Unqualified" in html and "Not confirmed yet" in html


def test_after_a_transfer_the_new_branch_does_not_read_the_old_branchs_talks(tree, users, world, login):
    from members.services import member_transfer

    member, talk = world["member"], world["talk"]
    member_transfer(member=member, to_branch=tree.branch_x, on_date=TODAY)
    page = login(users.other_secretary).get(reverse("reviews:member_talks", args=[member.pk]))
    assert page.status_code == 200 and list(page.context["talks"]) == []
    assert login(users.other_secretary).get(reverse("reviews:talk_edit", args=[talk.pk])).status_code == 404
    # The branch where it was recorded keeps it.
    assert login(users.secretary).get(reverse("reviews:talk_edit", args=[talk.pk])).status_code == 200


def test_the_branch_page_reads_follow_ups_and_plans_in_a_fixed_number_of_queries(
    tree, users, world, login, django_assert_max_num_queries
):
    client = login(users.secretary)
    url = tree.branch_a.get_absolute_url()
    client.get(url)
    with django_assert_max_num_queries(100) as few:
        client.get(url)
        one_talk = len(few.captured_queries)
    members = rf.members(tree.branch_a, 8)
    for member in members:
        services.member_talk_record(
            member=member,
            held_on=TODAY - datetime.timedelta(days=20),
            kind=MemberTalk.Kind.REMINDER,
            talker_name="刘书记",
            topic="提醒",
            follow_up="回访",
            follow_up_due=TODAY - datetime.timedelta(days=2),
            user=None,
        )
    client.get(url)
    assert one_talk > 5
    with django_assert_max_num_queries(one_talk):
        page = client.get(url)
    assert page.content.decode().count('class="list-group-item overdue-talk"') == 9
