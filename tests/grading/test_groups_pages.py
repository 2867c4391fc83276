"""The party-group pages: the group board of a month, one group's numbers, the year, the
way in from a branch's page and from its score explanation — who sees what, the draft,
and query counts that do not grow with the number of groups.

The tree's PLANT grades BRANCH_A (groups A1, A2) and BRANCH_B. In April 2025 member_a
(A1) is present at A1's 党小组会 (+2); A2 has nobody and no meeting. A1: points 100 (the
only positive mean), meetings (100 + 100) ÷ 2 = 100 → 100.00 ★5; A2: 0.00 ★1.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from branches.grading import publishing
from branches.grading.models import GroupScore

from .. import factories as f
from .test_scenarios import APRIL, enter_all, grade, held

pytestmark = pytest.mark.django_db

MAY = datetime.date(2025, 5, 1)


def board_url(committee, month=APRIL):
    return reverse("grading:group_board", args=[committee.pk, month.year, month.month])


def explain_url(committee, group, month=APRIL):
    return reverse("grading:explain_group", args=[committee.pk, month.year, month.month, group.pk])


def year_url(committee, year=2025):
    return reverse("grading:group_year", args=[committee.pk, year])


def grade_plant(tree, month=APRIL, *, publish=True, scores: dict | None = None):
    """Grade PLANT's month (entered dimensions 80); ``scores`` set group scores in the
    draft before it is published (group → (score, stars))."""
    for branch in (tree.branch_a, tree.branch_b):
        enter_all(branch, "80", month)
    grade(tree.plant, month)
    for group, (score, stars) in (scores or {}).items():
        GroupScore.objects.filter(committee=tree.plant, month=month, group=group).update(
            score=Decimal(score), stars=stars
        )
    if publish:
        return publishing.board_publish(committee=tree.plant, month=month, user=None)
    return None


@pytest.fixture
def april(tree, member_a):
    held(tree.branch_a, "group_meeting", group=tree.group_a1)
    return grade_plant(tree)


def rows_of(response) -> list[tuple[str, str, int, int]]:
    return [(r.group.name, str(r.score), r.stars, r.rank) for r in response.context["board"].rows]


# --- who sees what ------------------------------------------------------------------------------


def test_a_secretary_under_the_committee_sees_the_published_group_board(tree, users, april, login):
    response = login(users.secretary).get(board_url(tree.plant))
    assert response.status_code == 200
    assert rows_of(response) == [("第一党小组", "100.00", 5, 1), ("第二党小组", "0.00", 1, 2)]
    content = response.content.decode()
    assert 'id="draft-banner"' not in content and 'id="draft-link"' not in content
    assert explain_url(tree.plant, tree.group_a1) + "?version=1" in content
    assert 'data-stars="5"' in content and "★★★★★" in content


def test_the_draft_is_for_committee_staff_only(tree, users, april, login):
    # The draft changes after publication: staff see it with a banner, a secretary gets 404.
    GroupScore.objects.filter(group=tree.group_a2).update(score=Decimal("61.00"), stars=2)
    assert login(users.secretary).get(board_url(tree.plant), {"draft": "1"}).status_code == 404
    assert login(users.secretary).get(explain_url(tree.plant, tree.group_a1), {"draft": "1"}).status_code == 404
    client = login(users.committee)
    response = client.get(board_url(tree.plant), {"draft": "1"})
    assert response.status_code == 200 and response.context["board"].is_draft
    assert [r[1] for r in rows_of(response)] == ["100.00", "61.00"]
    assert 'id="draft-banner"' in response.content.decode()
    published = client.get(board_url(tree.plant))
    assert [r[1] for r in rows_of(published)] == ["100.00", "0.00"]
    assert 'id="draft-link"' in published.content.decode()


def test_before_publication_the_board_says_so_and_staff_get_the_way_to_the_draft(tree, users, member_a, login):
    grade_plant(tree, publish=False)
    secretary = login(users.secretary).get(board_url(tree.plant))
    assert secretary.status_code == 200 and secretary.context["board"].rows == []
    assert 'id="not-published"' in secretary.content.decode()
    assert 'id="draft-exists"' not in secretary.content.decode()
    staff = login(users.committee).get(board_url(tree.plant))
    assert 'id="draft-exists"' in staff.content.decode()


@pytest.mark.parametrize("who", ["other_secretary", "other_committee", "nobody"])
def test_outsiders_get_404_on_every_group_page(tree, users, april, login, who):
    client = login(getattr(users, who))
    for url in (
        board_url(tree.plant),
        explain_url(tree.plant, tree.group_a1),
        year_url(tree.plant),
        reverse("grading:branch_groups", args=[tree.branch_a.pk]),
    ):
        assert client.get(url).status_code == 404, url


def test_a_group_of_another_committee_or_a_branch_is_404_under_this_one(tree, users, april, login):
    client = login(users.admin)
    assert client.get(explain_url(tree.plant, tree.group_x1)).status_code == 404
    assert client.get(explain_url(tree.plant, tree.branch_a)).status_code == 404
    assert client.get(board_url(tree.plant), {"branch": tree.branch_x.pk}).status_code == 404
    assert client.get(board_url(tree.plant), {"branch": "abc"}).status_code == 404
    assert client.get(board_url(tree.plant), {"version": "7"}).status_code == 404


# --- the board's order and filter ------------------------------------------------------------------


def test_the_board_sorts_by_rank_or_by_branch_and_filters_a_branch(tree, users, login):
    # Branch B gets a group that ranks first: by rank it leads, by branch A's come first.
    group_b = f.group(tree.branch_b, name="B组")
    f.MemberFactory(branch=tree.branch_b, group=group_b)
    held(tree.branch_b, "group_meeting", group=group_b)  # B组: 100.00; A1, A2 0.00
    grade_plant(tree)
    client = login(users.committee)
    by_rank = client.get(board_url(tree.plant))
    assert [(r[0], r[3]) for r in rows_of(by_rank)] == [("B组", 1), ("第一党小组", 2), ("第二党小组", 2)]
    by_branch = client.get(board_url(tree.plant), {"order": "branch"})
    assert [r[0] for r in rows_of(by_branch)] == ["第一党小组", "第二党小组", "B组"]
    only_a = client.get(board_url(tree.plant), {"branch": tree.branch_a.pk})
    assert [(r[0], r[3]) for r in rows_of(only_a)] == [("第一党小组", 2), ("第二党小组", 2)]
    assert only_a.context["board"].graded == 3 and 'id="branch-filter"' in only_a.content.decode()


# --- one group's numbers ------------------------------------------------------------------------------


def test_a_groups_score_opens_down_to_its_meetings_and_members(tree, users, april, member_a, login):
    response = login(users.secretary).get(explain_url(tree.plant, tree.group_a1), {"version": "1"})
    assert response.status_code == 200
    x = response.context["x"]
    assert [m.member_id for m in x.members] == [member_a.pk]
    assert [(m.present, m.late, m.absent, m.excused, m.in_month) for m in x.meetings] == [(1, 0, 0, 0, True)]
    content = response.content.decode()
    assert '<span id="points-formula">100 × 2 ÷ 2 = 100</span>' in content
    assert "100 × 1 ÷ 1 = 100</p>" in content  # compliance and attendance
    assert '<p class="mb-2" id="score-formula">(100 × 50 + 100 × 50) ÷ 100 = 100.00</p>' in content
    # Their own branch: the meeting and the member's ledger open.
    assert x.meetings[0].activity.get_absolute_url() in content
    assert reverse("ledger:member_ledger", args=[member_a.pk]) in content


def test_the_explanation_shows_the_hand_computed_numbers_of_the_draft(login):
    # test_groups.build(): P1's points 100 × 1.61 ÷ 4 = 40.25, meetings 100, score 70.13.
    from branches.models import RoleBinding

    from .test_groups import build

    w = build()
    grade(w.committee)
    staff = f.user_with_role(RoleBinding.Role.COMMITTEE_STAFF, w.committee, username="staff_w")
    response = login(staff).get(explain_url(w.committee, w.p1), {"draft": "1"})
    content = response.content.decode()
    assert '<span id="points-formula">100 × 1.6100 ÷ 4 = 40.2500</span>' in content
    assert '<th class="text-end" id="members-sum">3.22</th>' in content
    assert '<p class="mb-2" id="score-formula">(40.2500 × 50 + 100 × 50) ÷ 100 = 70.13</p>' in content
    assert 'id="draft-banner"' in content and response.context["x"].highest.group == w.p2
    q1 = login(staff).get(explain_url(w.committee, w.q1), {"draft": "1"}).content.decode()
    # Q1: attendance 100 × 1 ÷ 2 = 50; meetings (100 + 50) ÷ 2 = 75; g (excused) not expected.
    assert "100 × 1 ÷ 2 = 50</p>" in q1 and "(100 + 50) ÷ 2 = 75</p>" in q1


def test_a_secretary_of_another_branch_sees_the_numbers_but_not_the_records(tree, users, april, login):
    other = f.branch(tree.plant, name="另一支部")
    secretary_c = f.user_with_role("secretary", other, username="secretary_c")
    response = login(secretary_c).get(explain_url(tree.plant, tree.group_a1))
    assert response.status_code == 200
    content = response.content.decode()
    assert response.context["x"].meetings[0].activity.get_absolute_url() not in content
    assert "王建国" in content  # the member's name and total are on the published board


# --- the branch's groups ------------------------------------------------------------------------------


def test_the_branch_score_explanation_lists_the_branchs_groups(tree, users, april, login):
    url = reverse("grading:explain_branch", args=[tree.plant.pk, 2025, 4, tree.branch_a.pk])
    response = login(users.secretary).get(url)
    content = response.content.decode()
    assert 'id="branch-groups"' in content
    assert explain_url(tree.plant, tree.group_a1) + "?version=1" in content
    section = content[content.index('id="branch-groups"') :]
    assert section.index("第一党小组") < section.index("第二党小组")


def test_the_branch_page_links_to_its_groups_on_the_latest_published_board(tree, users, april, login):
    client = login(users.secretary)
    page = client.get(reverse("branches:unit_detail", args=[tree.branch_a.pk])).content.decode()
    link = reverse("grading:branch_groups", args=[tree.branch_a.pk])
    assert f'href="{link}"' in page
    response = client.get(link)
    assert response.status_code == 302
    assert response["Location"] == board_url(tree.plant) + f"?branch={tree.branch_a.pk}"
    board = client.get(response["Location"])
    assert [r[0] for r in rows_of(board)] == ["第一党小组", "第二党小组"]


def test_before_anything_is_published_the_branch_link_goes_to_the_committees_board_page(tree, users, login):
    response = login(users.secretary).get(reverse("grading:branch_groups", args=[tree.branch_a.pk]))
    assert response["Location"] == reverse("grading:latest_board", args=[tree.plant.pk])


# --- the year --------------------------------------------------------------------------------------------


def test_the_year_page_rates_each_group_by_the_mean_of_its_published_months(tree, users, member_a, login):
    # A1: April 90.00, May 89.99 → mean 89.995 → 90.00 ★5 (the mean rounds into the band).
    # A2: April 89.99, May 89.98 → mean 89.985 → 89.99 ★4.
    grade_plant(tree, scores={tree.group_a1: ("90.00", 5), tree.group_a2: ("89.99", 4)})
    grade_plant(tree, MAY, scores={tree.group_a1: ("89.99", 4), tree.group_a2: ("89.98", 4)})
    response = login(users.secretary).get(year_url(tree.plant))
    assert response.status_code == 200
    rows = {r.group.pk: r for r in response.context["page"].rows}
    assert (rows[tree.group_a1.pk].months, rows[tree.group_a1.pk].mean, rows[tree.group_a1.pk].stars) == (
        2,
        Decimal("90.00"),
        5,
    )
    assert (rows[tree.group_a2.pk].mean, rows[tree.group_a2.pk].stars) == (Decimal("89.99"), 4)
    assert [r.group.pk for r in response.context["page"].rows] == [tree.group_a1.pk, tree.group_a2.pk]
    assert 'class="stars text-nowrap year-stars" data-stars="5"' in response.content.decode()


def test_the_year_counts_the_latest_version_of_a_republished_month(tree, users, member_a, login):
    from branches.services import month_reopen

    grade_plant(tree, scores={tree.group_a1: ("50.00", 1)})
    month_reopen(committee=tree.plant, month=APRIL, reason="更正", user=None)
    grade_plant(tree, scores={tree.group_a1: ("70.00", 3)})
    response = login(users.committee).get(year_url(tree.plant))
    row = next(r for r in response.context["page"].rows if r.group.pk == tree.group_a1.pk)
    assert (row.months, row.mean, row.stars) == (1, Decimal("70.00"), 3)


# --- query counts -------------------------------------------------------------------------------------------


def committee_with_groups(parent, n: int):
    committee = f.committee(name=f"{n}组党委", parent=parent)
    branch = f.branch(committee)
    groups = []
    for i in range(n):
        group = f.group(branch, name=f"第{i}组")
        f.MemberFactory(branch=branch, group=group)
        held(branch, "group_meeting", group=group)
        groups.append(group)
    enter_all(branch, "80")
    grade(committee)
    publishing.board_publish(committee=committee, month=APRIL, user=None)
    return committee, branch, groups


def count_queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200, url
    return len(queries)


def test_the_group_pages_query_counts_do_not_grow_with_the_number_of_groups(tree, users, login):
    few, few_branch, few_groups = committee_with_groups(tree.root, 2)
    many, many_branch, many_groups = committee_with_groups(tree.root, 12)
    client = login(users.admin)
    for params in ({}, {"draft": "1"}, {"print": "1"}, {"order": "branch"}):
        assert count_queries(client, board_url(few), params) == count_queries(client, board_url(many), params), params
    assert count_queries(client, explain_url(few, few_groups[0])) == count_queries(
        client, explain_url(many, many_groups[0])
    )
    assert count_queries(client, year_url(few)) == count_queries(client, year_url(many))
    branch_page = reverse("grading:explain_branch", args=[few.pk, 2025, 4, few_branch.pk])
    many_page = reverse("grading:explain_branch", args=[many.pk, 2025, 4, many_branch.pk])
    assert count_queries(client, branch_page) == count_queries(client, many_page)
