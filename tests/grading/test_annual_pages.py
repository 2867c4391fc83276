"""Pages of the year: who may open them, what they show, and their query counts."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from branches.grading import annual
from branches.grading.models import AnnualGrade
from branches.models import OrgUnit

from .. import factories as f
from .test_annual import YEAR, month, publish

pytestmark = pytest.mark.django_db
Grade = AnnualGrade.Grade


@pytest.fixture
def year(tree):
    """Branch A: 92, 88, 95 (advanced, 91.67); branch B: 70 each month (below). Two
    members in A, one in B."""
    m1, m2 = f.MemberFactory(branch=tree.branch_a, name="王建国"), f.MemberFactory(branch=tree.branch_a, name="刘芳")
    m3 = f.MemberFactory(branch=tree.branch_b, name="赵磊")
    for n, total in ((1, "92.00"), (2, "88.00"), (3, "95.00")):
        publish(
            tree.plant,
            month(n),
            [(tree.branch_a, total), (tree.branch_b, "70.00")],
            [(m1, tree.branch_a, "30.00"), (m2, tree.branch_a, "10.00"), (m3, tree.branch_b, "20.00")],
        )
    grades = annual.annual_rollup(committee=tree.plant, year=YEAR, user=None)
    return {g.branch_id: g for g in grades}


def urls(tree, grade: AnnualGrade) -> dict[str, str]:
    return {
        "annual": reverse("grading:annual", args=[tree.plant.pk, YEAR]),
        "annual_confirm": reverse("grading:annual_confirm", args=[grade.pk]),
        "annual_members": reverse("grading:annual_members", args=[tree.plant.pk, YEAR]),
    }


@pytest.mark.parametrize("outsider", ["other_committee", "other_secretary", "nobody"])
def test_outsiders_get_404_on_every_page_of_the_year(tree, users, login, year, outsider):
    client = login(getattr(users, outsider))
    for name, url in urls(tree, year[tree.branch_a.pk]).items():
        assert client.get(url).status_code == 404, name
        assert client.post(url, {"final_grade": "below", "reason": "x"}).status_code == 404, name
    assert not AnnualGrade.objects.exclude(final_grade="").exists()


def test_a_secretary_sees_the_members_stars_but_not_the_grades(tree, users, login, year):
    client = login(users.secretary)
    pages = urls(tree, year[tree.branch_a.pk])
    assert client.get(pages["annual"]).status_code == 404
    assert client.post(pages["annual"]).status_code == 404
    assert client.get(pages["annual_confirm"]).status_code == 404
    response = client.get(pages["annual_members"])
    assert response.status_code == 200
    grades_link = reverse("grading:annual", args=[tree.plant.pk, YEAR])
    assert f'href="{grades_link}"' not in response.content.decode()


def test_anonymous_visitors_are_sent_to_log_in(client, tree, year):
    for url in urls(tree, year[tree.branch_a.pk]).values():
        response = client.get(url)
        assert response.status_code == 302 and "login" in response.url


def test_a_year_outside_the_range_is_404(tree, users, login):
    client = login(users.committee)
    for y in (1999, 9999):
        assert client.get(reverse("grading:annual", args=[tree.plant.pk, y])).status_code == 404
        assert client.get(reverse("grading:annual_members", args=[tree.plant.pk, y])).status_code == 404


def test_a_branch_is_not_a_committee_for_the_year_pages(tree, users, login):
    client = login(users.admin)
    assert client.get(reverse("grading:annual", args=[tree.branch_a.pk, YEAR])).status_code == 404


def test_the_committee_rolls_up_the_year_from_the_page(tree, users, login):
    for n, total in ((1, "92.00"), (2, "88.00"), (3, "95.00")):
        publish(tree.plant, month(n), [(tree.branch_a, total)])
    client = login(users.committee)
    url = reverse("grading:annual", args=[tree.plant.pk, YEAR])
    assert client.get(url).context["grades"] == []
    response = client.post(url, follow=True)
    assert response.redirect_chain[-1][0] == url
    grade = AnnualGrade.objects.get(committee=tree.plant, year=YEAR, branch=tree.branch_a)
    assert (grade.mean_total, grade.proposed_grade) == (Decimal("91.67"), Grade.ADVANCED)
    page = response.content.decode()
    assert "91.67" in page and reverse("grading:annual_confirm", args=[grade.pk]) in page


def test_the_page_says_which_confirmations_new_numbers_withdrew(tree, users, login, year):
    grade = year[tree.branch_a.pk]
    annual.annual_grade_confirm(grade=grade, final_grade=Grade.ADVANCED, confirm_tier=False, user=users.committee)
    publish(tree.plant, month(3), [(tree.branch_a, "10.00"), (tree.branch_b, "70.00")])
    client = login(users.committee)
    response = client.post(reverse("grading:annual", args=[tree.plant.pk, YEAR]), follow=True)
    messages = [str(m) for m in response.context["messages"]]
    assert any(tree.branch_a.name in m for m in messages)
    grade.refresh_from_db()
    assert grade.final_grade == ""


def test_the_confirm_form_defaults_to_the_proposed_grade(tree, users, login, year):
    client = login(users.committee)
    response = client.get(reverse("grading:annual_confirm", args=[year[tree.branch_a.pk].pk]))
    assert response.status_code == 200
    assert response.context["form"]["final_grade"].value() == Grade.ADVANCED


def test_an_override_without_a_reason_is_refused_on_the_form(tree, users, login, year):
    client = login(users.committee)
    grade = year[tree.branch_a.pk]
    url = reverse("grading:annual_confirm", args=[grade.pk])
    response = client.post(url, {"final_grade": Grade.STANDARD, "reason": ""})
    assert response.status_code == 200 and response.context["form"].errors["reason"]
    grade.refresh_from_db()
    assert grade.final_grade == ""
    response = client.post(url, {"final_grade": Grade.STANDARD, "reason": "安全事故", "confirm_tier": "on"})
    assert response.status_code == 302 and response.url == reverse("grading:annual", args=[tree.plant.pk, YEAR])
    grade.refresh_from_db()
    assert (grade.final_grade, grade.grade_reason, grade.confirmed_by, grade.tier_confirmed) == (
        Grade.STANDARD,
        "安全事故",
        users.committee,
        True,
    )


def test_confirming_the_tier_on_the_page_moves_the_branch(tree, users, login, year):
    OrgUnit.objects.filter(pk=tree.branch_b.pk).update(tier=OrgUnit.Tier.RED_FLAG)
    annual.annual_rollup(committee=tree.plant, year=YEAR)
    grade = AnnualGrade.objects.get(branch=tree.branch_b)
    client = login(users.committee)
    client.post(reverse("grading:annual_confirm", args=[grade.pk]), {"final_grade": Grade.BELOW, "confirm_tier": "on"})
    tree.branch_b.refresh_from_db()
    assert tree.branch_b.tier == OrgUnit.Tier.EXEMPLARY


def test_the_members_page_lists_year_totals_and_stars_and_filters_by_branch(tree, users, login, year):
    client = login(users.secretary)
    url = reverse("grading:annual_members", args=[tree.plant.pk, YEAR])
    rows = list(client.get(url).context["page"])
    # 3 × 30 = 90, 3 × 20 = 60, 3 × 10 = 30: all one star for a year.
    assert [(r["member__name"], r["year_total"], r["stars"]) for r in rows] == [
        ("王建国", Decimal("90.00"), 1),
        ("赵磊", Decimal("60.00"), 1),
        ("刘芳", Decimal("30.00"), 1),
    ]
    assert rows[0]["branch"] == tree.branch_a
    rows = list(client.get(url, {"branch": tree.branch_b.pk}).context["page"])
    assert [r["member__name"] for r in rows] == ["赵磊"]
    # A branch that is not the committee's, or not a number, is no filter.
    for value in (tree.branch_x.pk, "x"):
        assert len(client.get(url, {"branch": value}).context["page"]) == 3


def test_the_members_page_is_paginated_by_fifty(tree, users, login):
    members = [f.MemberFactory(branch=tree.branch_a) for _ in range(55)]
    publish(tree.plant, month(1), [(tree.branch_a, "80.00")], [(m, tree.branch_a, "1.00") for m in members])
    client = login(users.committee)
    url = reverse("grading:annual_members", args=[tree.plant.pk, YEAR])
    first = client.get(url).context["page"]
    assert (len(first), first.paginator.count, first.paginator.num_pages) == (50, 55, 2)
    assert len(client.get(url, {"page": 2}).context["page"]) == 5


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_annual_page_queries_do_not_grow_with_branches(tree, users, login, year):
    client = login(users.committee)
    url = reverse("grading:annual", args=[tree.plant.pk, YEAR])
    annual.annual_grade_confirm(
        grade=year[tree.branch_a.pk], final_grade=Grade.ADVANCED, confirm_tier=False, user=users.committee
    )
    few = _queries(client, url)
    more = [f.branch(tree.plant) for _ in range(12)]
    publish(tree.plant, month(5), [(b, "77.00") for b in more])
    annual.annual_rollup(committee=tree.plant, year=YEAR)
    for grade in AnnualGrade.objects.filter(branch__in=more[:6]):
        annual.annual_grade_confirm(grade=grade, final_grade=Grade.STANDARD, confirm_tier=False, user=users.admin)
    assert _queries(client, url) == few


def test_the_members_page_queries_do_not_grow_with_members(tree, users, login, year):
    client = login(users.secretary)
    url = reverse("grading:annual_members", args=[tree.plant.pk, YEAR])
    few = _queries(client, url)
    branch = f.branch(tree.plant)
    members = [f.MemberFactory(branch=branch) for _ in range(30)]
    publish(tree.plant, month(6), [(branch, "80.00")], [(m, branch, "2.00") for m in members])
    assert _queries(client, url) == few
    assert _queries(client, url + f"?branch={branch.pk}") == few
