"""Organisation pages: tree, branch page, editing, terms, titles, new units."""

import datetime

import pytest
from django.urls import reverse

from branches.models import BranchTerm, BranchTitle, OrgUnit

pytestmark = pytest.mark.django_db


def test_a_secretary_edits_the_brand_but_not_the_tier(tree, users, client):
    client.force_login(users.secretary)
    url = reverse("branches:unit_edit", args=[tree.branch_a.pk])
    assert "tier" not in client.get(url).context["form"].fields
    client.post(
        url,
        {"name": tree.branch_a.name, "brand": "钢铁先锋", "brand_description": "", "sort_order": 0, "tier": "red_flag"},
    )
    tree.branch_a.refresh_from_db()
    assert (tree.branch_a.brand, tree.branch_a.tier) == ("钢铁先锋", "")


def test_committee_staff_set_the_tier(tree, users, client):
    client.force_login(users.committee)
    client.post(
        reverse("branches:unit_edit", args=[tree.branch_a.pk]),
        {"name": tree.branch_a.name, "brand": "", "brand_description": "", "sort_order": 0, "tier": "exemplary"},
    )
    tree.branch_a.refresh_from_db()
    assert tree.branch_a.tier == "exemplary"


def test_a_secretary_sets_up_a_party_group_in_their_branch(tree, users, client):
    client.force_login(users.secretary)
    response = client.post(
        reverse("branches:unit_create", args=[tree.branch_a.pk]), {"kind": "group", "name": "第三党小组", "code": "A3"}
    )
    group = OrgUnit.objects.get(code="A3")
    assert response.status_code == 302
    assert group.parent == tree.branch_a and group.path == f"{tree.branch_a.path}{group.pk}/"


def test_a_duplicate_code_is_refused(tree, users, client):
    client.force_login(users.committee)
    response = client.post(
        reverse("branches:unit_create", args=[tree.plant.pk]), {"kind": "branch", "name": "新支部", "code": "BRA"}
    )
    assert "code" in response.context["form"].errors


def test_starting_a_term_closes_the_previous_one(tree, users, client):
    client.force_login(users.secretary)
    url = reverse("branches:term_start", args=[tree.branch_a.pk])
    client.post(url, {"started_on": "2021-06-01", "length_years": "3"})
    client.post(url, {"started_on": "2024-06-01", "length_years": "5"})
    first, second = BranchTerm.objects.filter(branch=tree.branch_a).order_by("number")
    assert first.closed_on == datetime.date(2024, 6, 1)
    assert (second.number, second.ends_on, second.closed_on) == (2, datetime.date(2029, 6, 1), None)
    response = client.post(url, {"started_on": "2020-01-01", "length_years": "3"})
    assert "started_on" in response.context["form"].errors


def test_a_term_ending_soon_shows_a_reminder(tree, users, client, time_machine):
    time_machine.move_to(datetime.datetime(2024, 4, 1, 9, 0))
    client.force_login(users.secretary)
    client.post(
        reverse("branches:term_start", args=[tree.branch_a.pk]), {"started_on": "2021-05-01", "length_years": "3"}
    )
    page = client.get(reverse("branches:unit_detail", args=[tree.branch_a.pk])).content.decode()
    assert "30" in page and "换届" in page
    home = client.get(reverse("home")).content.decode()
    assert "2024-05-01" in home


def test_titles_are_awarded_and_withdrawn_with_a_reason(tree, users, client):
    client.force_login(users.committee)
    client.post(
        reverse("branches:title_award", args=[tree.branch_a.pk]), {"kind": "model_branch", "awarded_on": "2023-01-01"}
    )
    title = BranchTitle.objects.get(branch=tree.branch_a)
    url = reverse("branches:title_withdraw", args=[tree.branch_a.pk, title.pk])
    assert client.post(url, {"withdrawn_on": "2024-01-01", "reason": ""}).status_code == 200
    client.post(url, {"withdrawn_on": "2024-01-01", "reason": "年度考核未达标"})
    title.refresh_from_db()
    assert (title.withdrawn_on, title.withdrawn_reason, title.withdrawn_by) == (
        datetime.date(2024, 1, 1),
        "年度考核未达标",
        users.committee,
    )
    page = client.get(reverse("branches:unit_detail", args=[tree.branch_a.pk])).content.decode()
    assert "年度考核未达标" in page
