"""排名榜 in the navigation: it opens the latest published board of the user's committee
(a secretary's: their branch's committee), never an unpublished month; committee staff
also get a way to the draft they are working on; with nothing published yet, a page
that says so and where to go instead."""

import re

import pytest
from django.urls import reverse

from branches.services import month_close

from .test_boards import APRIL, MARCH, draft, publish

pytestmark = pytest.mark.django_db


def latest_url(committee):
    return reverse("grading:latest_board", args=[committee.pk])


def board_url(committee, month):
    return reverse("grading:board", args=[committee.pk, month.year, month.month])


def nav_board_link(client) -> str:
    html = client.get("/").content.decode()
    return re.search(r'<a class="nav-link" href="([^"]+)">排名榜</a>', html).group(1)


@pytest.fixture
def march_published_april_drafted(tree):
    draft(tree.plant, MARCH, {tree.branch_a: "81", tree.branch_b: "79"})
    publish(tree.plant, MARCH)
    month_close(committee=tree.plant, month=MARCH)
    draft(tree.plant, APRIL, {tree.branch_a: "70", tree.branch_b: "90"})


@pytest.mark.parametrize("who", ["secretary", "committee"])
def test_the_navigation_opens_the_latest_published_board(tree, users, login, march_published_april_drafted, who):
    client = login(getattr(users, who))

    link = nav_board_link(client)
    assert link == latest_url(tree.plant)
    response = client.get(link, follow=True)

    assert response.redirect_chain == [(board_url(tree.plant, MARCH), 302)]
    html = response.content.decode()
    assert "尚未公示" not in html and "81.00" in html and "90.00" not in html


def test_committee_staff_also_get_the_current_draft_and_secretaries_do_not(
    tree, users, login, march_published_april_drafted
):
    staff = login(users.committee).get(board_url(tree.plant, MARCH)).content.decode()
    assert f'id="current-draft" href="{board_url(tree.plant, APRIL)}?draft=1"' in staff
    assert 'id="current-draft"' not in login(users.secretary).get(board_url(tree.plant, MARCH)).content.decode()


def test_a_published_and_closed_month_is_not_offered_as_the_current_draft(tree, users, login):
    draft(tree.plant, MARCH, {tree.branch_a: "81", tree.branch_b: "79"})
    publish(tree.plant, MARCH)
    month_close(committee=tree.plant, month=MARCH)
    assert 'id="current-draft"' not in login(users.committee).get(board_url(tree.plant, MARCH)).content.decode()


def test_with_nothing_published_a_secretary_is_told_so_and_pointed_at_their_records(tree, users, login):
    draft(tree.plant, APRIL, {tree.branch_a: "70", tree.branch_b: "90"})
    client = login(users.secretary)

    response = client.get(latest_url(tree.plant))

    assert response.status_code == 200
    html = response.content.decode()
    assert "炼钢厂党委尚未公示任何排名。" in html and "90.00" not in html and "?draft=1" not in html
    meanwhile = html.split('id="meanwhile"')[1].split("</div>")[0]
    for url in re.findall(r'href="([^"]+)"', meanwhile):
        assert client.get(url, follow=True).status_code == 200
    assert reverse("activities:compliance_matrix", args=[tree.branch_a.pk]) in meanwhile


def test_with_nothing_published_committee_staff_get_the_draft_and_the_publication_page(tree, users, login):
    draft(tree.plant, APRIL, {tree.branch_a: "70", tree.branch_b: "90"})

    html = login(users.committee).get(latest_url(tree.plant)).content.decode()

    assert f'id="current-draft" href="{board_url(tree.plant, APRIL)}?draft=1"' in html
    assert "/publish/" in html and reverse("grading:runs", args=[tree.plant.pk]) in html


def test_an_unpublished_month_links_to_the_latest_published_one(tree, users, login, march_published_april_drafted):
    html = login(users.secretary).get(board_url(tree.plant, APRIL)).content.decode()
    assert f'id="latest-link" href="{board_url(tree.plant, MARCH)}"' in html and "2025年3月" in html


@pytest.mark.parametrize("who", ["other_secretary", "other_committee", "nobody"])
def test_outsiders_get_404_for_the_latest_board(tree, users, login, march_published_april_drafted, who):
    assert login(getattr(users, who)).get(latest_url(tree.plant)).status_code == 404
