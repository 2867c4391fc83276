"""The board pages: who sees what, the draft, versions, print, the large screen, charts,
and a query count that does not grow with the number of branches."""

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from branches.grading.models import Talk

from .. import factories as f
from .test_boards import APRIL, MARCH, MAY, branches_of, draft, member_draft, publish

pytestmark = pytest.mark.django_db


def board_url(committee, month=APRIL):
    return reverse("grading:board", args=[committee.pk, month.year, month.month])


def explain_url(committee, branch, month=APRIL):
    return reverse("grading:explain_branch", args=[committee.pk, month.year, month.month, branch.pk])


def screen_url(committee, branch):
    return reverse("grading:screen", args=[committee.pk, branch.pk])


@pytest.fixture
def published(tree):
    """PLANT's April: BRANCH_A 88.5, BRANCH_B 92 — published; the draft then changes."""
    draft(tree.plant, APRIL, {tree.branch_a: "88.5", tree.branch_b: "92"})
    publication = publish(tree.plant, APRIL)
    draft(tree.plant, APRIL, {tree.branch_a: "77.25", tree.branch_b: "92"})
    return publication


def rows_of(response) -> list[tuple[str, str]]:
    return [(row.branch.name, str(row.total)) for row in response.context["board"]]


# --- who sees what -------------------------------------------------------------------------


def test_a_secretary_under_the_committee_sees_the_published_board(tree, users, published, login):
    response = login(users.secretary).get(board_url(tree.plant))
    assert response.status_code == 200
    assert rows_of(response) == [("设备党支部", "92.00"), ("连铸作业区党支部", "88.50")]
    content = response.content.decode()
    assert "88.50" in content and "77.25" not in content and 'id="draft-banner"' not in content
    assert 'id="draft-link"' not in content  # no way to the draft for a secretary


def test_a_secretary_asking_for_the_draft_gets_404(tree, users, published, login):
    assert login(users.secretary).get(board_url(tree.plant), {"draft": "1"}).status_code == 404
    assert login(users.secretary).get(explain_url(tree.plant, tree.branch_a), {"draft": "1"}).status_code == 404


def test_committee_staff_see_the_draft_with_a_banner(tree, users, published, login):
    client = login(users.committee)
    response = client.get(board_url(tree.plant), {"draft": "1"})
    assert response.status_code == 200 and response.context["board"].is_draft
    assert rows_of(response) == [("设备党支部", "92.00"), ("连铸作业区党支部", "77.25")]
    assert 'id="draft-banner"' in response.content.decode()
    # Without the parameter they see what was published, with a way to the draft.
    published_page = client.get(board_url(tree.plant))
    assert rows_of(published_page) == [("设备党支部", "92.00"), ("连铸作业区党支部", "88.50")]
    assert 'id="draft-link"' in published_page.content.decode()


def test_a_secretary_gets_404_for_a_committee_they_are_not_under(tree, users, published, login):
    draft(tree.other, APRIL, {tree.branch_x: "70"})
    publish(tree.other, APRIL)
    client = login(users.secretary)
    assert client.get(board_url(tree.other)).status_code == 404
    assert client.get(explain_url(tree.other, tree.branch_x)).status_code == 404
    assert client.get(screen_url(tree.other, tree.branch_x)).status_code == 404


@pytest.mark.parametrize("outsider", ["other_secretary", "other_committee", "nobody"])
def test_outsiders_get_404_on_every_board_page(tree, users, published, login, outsider):
    client = login(getattr(users, outsider))
    for url in (board_url(tree.plant), explain_url(tree.plant, tree.branch_a), screen_url(tree.plant, tree.branch_a)):
        assert client.get(url).status_code == 404, url
        assert client.get(url, {"draft": "1"}).status_code == 404, url


def test_anonymous_visitors_are_sent_to_log_in(tree, published, client):
    response = client.get(board_url(tree.plant))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_a_month_nobody_published_is_a_friendly_page_without_numbers(tree, users, login):
    draft(tree.plant, APRIL, {tree.branch_a: "66.66", tree.branch_b: "55.55"})
    response = login(users.secretary).get(board_url(tree.plant))
    assert response.status_code == 200
    content = response.content.decode()
    assert 'id="not-published"' in content and "66.66" not in content and 'id="board"' not in content
    # Committee staff are pointed to the draft.
    staff = login(users.committee).get(board_url(tree.plant))
    assert f"{board_url(tree.plant)}?draft=1" in staff.content.decode()


def test_an_impossible_month_or_an_unknown_version_is_404(tree, users, published, login):
    client = login(users.committee)
    assert client.get(reverse("grading:board", args=[tree.plant.pk, 2025, 13])).status_code == 404
    assert client.get(board_url(tree.plant), {"version": "9"}).status_code == 404
    assert client.get(board_url(tree.plant), {"version": "x"}).status_code == 404
    # A branch, not a committee, has no board.
    assert client.get(reverse("grading:board", args=[tree.branch_a.pk, 2025, 4])).status_code == 404


# --- versions, movement, talks, members ----------------------------------------------------


def test_the_version_selector_opens_earlier_versions(tree, users, published, login):
    publish(tree.plant, APRIL)  # version 2: the changed draft
    client = login(users.secretary)
    latest = client.get(board_url(tree.plant))
    assert rows_of(latest) == [("设备党支部", "92.00"), ("连铸作业区党支部", "77.25")]
    assert 'id="versions"' in latest.content.decode()
    first = client.get(board_url(tree.plant), {"version": "1"})
    assert rows_of(first) == [("设备党支部", "92.00"), ("连铸作业区党支部", "88.50")]
    # Explanation links pin the version they were opened from.
    assert f"{explain_url(tree.plant, tree.branch_a)}?version=1" in first.content.decode()


def test_the_board_shows_movement_bottom_three_and_talks(tree, users, login):
    c, d, e = branches_of(tree.plant, 3)
    draft(tree.plant, MARCH, {tree.branch_a: "90", tree.branch_b: "80", c: "70", d: "60", e: "50"})
    publish(tree.plant, MARCH)
    draft(tree.plant, APRIL, {tree.branch_a: "70", tree.branch_b: "80", c: "90", d: "60", e: "50"})
    publish(tree.plant, APRIL)
    Talk.objects.create(
        committee=tree.plant,
        month=APRIL,
        branch=d,
        held_on=datetime.date(2025, 5, 6),
        talked_by="党委书记",
        talked_with="支部书记",
        notes="谈心",
        actions="补课",
    )
    response = login(users.secretary).get(board_url(tree.plant))
    rows = {
        row.branch.pk: (row.rank, str(row.movement), row.bottom_three, row.talk) for row in response.context["board"]
    }
    assert rows == {
        c.pk: (1, "↑2", False, None),
        tree.branch_b.pk: (2, "=", False, None),
        tree.branch_a.pk: (3, "↓2", True, "none"),
        d.pk: (4, "=", True, "recorded"),
        e.pk: (5, "=", True, "none"),
    }
    content = response.content.decode()
    assert content.count('class="badge text-bg-danger bottom-three"') == 3
    assert content.count("talk-recorded") == 1 and content.count("talk-none") == 2


def test_the_board_shows_each_branchs_top_members_and_the_star_list(tree, users, login):
    run = draft(tree.plant, APRIL, {tree.branch_a: "80", tree.branch_b: "70"})
    members = [f.MemberFactory(branch=tree.branch_a, name=f"成员{i}") for i in range(4)]
    star = f.MemberFactory(branch=tree.branch_b, name="星级党员")
    member_draft(
        tree.plant,
        APRIL,
        run,
        {members[0]: ("10", 1), members[1]: ("20", 2), members[2]: ("25", 4), members[3]: ("5", 1), star: ("33", 5)},
    )
    publish(tree.plant, APRIL)
    response = login(users.secretary).get(board_url(tree.plant))
    top = {branch.pk: [m.member.name if m else None for m in ms] for branch, ms in response.context["top_members"]}
    assert top == {tree.branch_a.pk: ["成员2", "成员1", "成员0"], tree.branch_b.pk: ["星级党员", None, None]}
    assert [m.member.name for m in response.context["stars"]] == ["星级党员"]
    assert 'id="star-list"' in response.content.decode()


# --- print, screen, charts ----------------------------------------------------------------


def test_the_print_layout_has_no_navigation_and_a_title_with_version_and_date(tree, users, published, login):
    response = login(users.secretary).get(board_url(tree.plant), {"print": "1"})
    assert response.status_code == 200
    content = response.content.decode()
    # The A4 layout comes from a static stylesheet (the CSP refuses inline <style>).
    assert (
        "pb-navbar" not in content
        and "css/print-sheet.css" in content
        and 'class="print-mode print-landscape"' in content
    )
    assert 'class="print-title"' in content and tree.plant.name in content and "2025年4月" in content
    assert f"{timezone.localtime(published.published_at):%Y-%m-%d}" in content  # the page says Shanghai's date
    assert "88.50" in content and "echarts" not in content
    # The explanation prints too.
    explanation = login(users.secretary).get(explain_url(tree.plant, tree.branch_a), {"print": "1"})
    assert explanation.status_code == 200 and "pb-navbar" not in explanation.content.decode()


def test_the_large_screen_shows_the_latest_published_month(tree, users, login):
    c = f.branch(tree.plant, name="第三党支部")
    run = draft(tree.plant, MARCH, {tree.branch_a: "60", tree.branch_b: "70", c: "50"})
    publish(tree.plant, MARCH)
    run = draft(tree.plant, APRIL, {tree.branch_a: "95", tree.branch_b: "70", c: "50"})
    member = f.MemberFactory(branch=tree.branch_a, name="先锋党员")
    member_draft(tree.plant, APRIL, run, {member: ("31", 5)})
    publication = publish(tree.plant, APRIL)
    # A May draft exists but is not published: the screen shows April.
    draft(tree.plant, MAY, {tree.branch_a: "10", tree.branch_b: "70", c: "50"})
    response = login(users.secretary).get(screen_url(tree.plant, tree.branch_a))
    assert response.status_code == 200
    assert response.context["publication"] == publication
    own = response.context["own"]
    # March: B 70 (1), A 60 (2), C 50 (3); April: A first.
    assert (own.rank, str(own.total), str(own.movement)) == (1, "95.00", "↑1")
    assert [row.branch for row in response.context["top"]] == [tree.branch_a, tree.branch_b, c]
    assert [m.member.name for m in response.context["members"]] == ["先锋党员"]
    assert [m.member.name for m in response.context["stars"]] == ["先锋党员"]
    content = response.content.decode()
    assert 'hx-trigger="every 300s"' in content and "pb-navbar" not in content and 'id="own-rank"' in content
    # The container re-fetches itself: an htmx request gets the panel alone.
    panel = login(users.secretary).get(screen_url(tree.plant, tree.branch_a), headers={"HX-Request": "true"})
    assert panel.status_code == 200 and "<html" not in panel.content.decode()
    assert panel.content.decode().lstrip().startswith('<div class="screen" id="screen"')


def test_the_large_screen_needs_a_branch_under_the_committee(tree, users, published, login):
    client = login(users.committee)
    assert client.get(screen_url(tree.plant, tree.branch_x)).status_code == 404
    assert client.get(screen_url(tree.plant, tree.group_a1)).status_code == 404
    assert client.get(screen_url(tree.branch_a, tree.branch_a)).status_code == 404


def test_the_large_screen_says_so_when_nothing_is_published(tree, users, login):
    response = login(users.secretary).get(screen_url(tree.plant, tree.branch_a))
    assert response.status_code == 200 and "publication" not in response.context


def test_the_board_carries_the_distribution_as_chart_data(tree, users, published, login):
    response = login(users.secretary).get(board_url(tree.plant))
    content = response.content.decode()
    assert 'data-chart="distribution"' in content and "vendor/echarts/echarts.min.js" in content
    assert "js/grading-charts.js" in content
    data = json.loads(content.split('<script id="distribution-data" type="application/json">')[1].split("</script>")[0])
    # 88.50 and 92.00: bins of one point across the range, not two 10-point bars.
    assert data["labels"] == ["88–89", "89–90", "90–91", "91–92"] and data["counts"] == [1, 0, 0, 1]


# --- query count ---------------------------------------------------------------------------


def count_queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(ctx.captured_queries)


def board_with(committee, n: int) -> list:
    branches = branches_of(committee, n)
    draft(committee, MARCH, {b: str(40 + i) for i, b in enumerate(branches)})
    publish(committee, MARCH)
    run = draft(committee, APRIL, {b: str(90 - i) for i, b in enumerate(branches)})
    members = [f.MemberFactory(branch=b) for b in branches for _ in range(2)]
    member_draft(
        committee, APRIL, run, {m: (str(20 + i % 15), 5 if i % 15 >= 10 else 3) for i, m in enumerate(members)}
    )
    publish(committee, APRIL)
    Talk.objects.create(
        committee=committee,
        month=APRIL,
        branch=branches[-1],
        held_on=datetime.date(2025, 5, 6),
        talked_by="甲",
        talked_with="乙",
        notes="-",
        actions="-",
    )
    return branches


def test_the_board_page_query_count_does_not_grow_with_branches(tree, users, login):
    few_committee = f.committee(name="少", parent=tree.root)
    many_committee = f.committee(name="多", parent=tree.root)
    few_branches = board_with(few_committee, 4)
    many_branches = board_with(many_committee, 30)
    client = login(users.admin)
    for params in ({}, {"draft": "1"}, {"print": "1"}):
        few = count_queries(client, board_url(few_committee), params)
        many = count_queries(client, board_url(many_committee), params)
        assert few == many, params
    few = count_queries(client, screen_url(few_committee, few_branches[0]))
    many = count_queries(client, screen_url(many_committee, many_branches[0]))
    assert few == many
    few = count_queries(client, explain_url(few_committee, few_branches[0]))
    many = count_queries(client, explain_url(many_committee, many_branches[0]))
    assert few == many


def test_a_long_star_list_shows_the_first_members_and_how_many_there_are(tree, users, login, monkeypatch):
    from branches.grading.views import boards as views

    monkeypatch.setattr(views, "STARS_SHOWN", 2)
    run = draft(tree.plant, APRIL, {tree.branch_a: "80", tree.branch_b: "70"})
    stars = [f.MemberFactory(branch=tree.branch_a, name=f"星{i}") for i in range(3)]
    member_draft(tree.plant, APRIL, run, {m: (str(40 - i), 5) for i, m in enumerate(stars)})
    publish(tree.plant, APRIL)
    client = login(users.secretary)
    response = client.get(board_url(tree.plant))
    assert [m.member.name for m in response.context["stars"]] == ["星0", "星1"]
    assert response.context["star_total"] == 3 and 'id="all-stars"' in response.content.decode()
    everything = client.get(board_url(tree.plant), {"stars": "all"})
    assert [m.member.name for m in everything.context["stars"]] == ["星0", "星1", "星2"]
    assert 'id="all-stars"' not in everything.content.decode()
