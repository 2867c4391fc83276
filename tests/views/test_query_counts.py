"""List pages make the same number of queries however many rows they show."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from members.models import MemberRole

from .. import factories as f

pytestmark = pytest.mark.django_db


def count_queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(ctx.captured_queries)


def add_members(branch, group, n):
    for _ in range(n):
        member = f.MemberFactory(branch=branch, group=group)
        MemberRole.objects.create(member=member, unit=branch, role="committee_member", started_on="2024-01-01")


def test_the_roster_query_count_does_not_grow_with_members(tree, users, client):
    client.force_login(users.committee)
    add_members(tree.branch_a, tree.group_a1, 3)
    few = count_queries(client, reverse("members:roster"))
    add_members(tree.branch_b, None, 30)
    many = count_queries(client, reverse("members:roster"))
    assert many == few
    filtered = count_queries(client, reverse("members:roster"), {"branch": tree.plant.pk, "status": "full", "q": "张"})
    assert filtered <= few + 1


def test_the_tree_query_count_does_not_grow_with_branches(tree, users, client):
    client.force_login(users.admin)
    few = count_queries(client, reverse("branches:tree"), {"groups": "1"})
    for i in range(20):
        branch = f.branch(tree.other, code=f"N{i}")
        f.group(branch, code=f"NG{i}")
        f.MemberFactory(branch=branch)
    many = count_queries(client, reverse("branches:tree"), {"groups": "1"})
    assert many == few


def test_the_branch_page_query_count_does_not_grow_with_groups_or_members(tree, users, client):
    client.force_login(users.secretary)
    url = reverse("branches:unit_detail", args=[tree.branch_a.pk])
    few = count_queries(client, url)
    for i in range(5):
        f.group(tree.branch_a, code=f"G{i}")
    add_members(tree.branch_a, tree.group_a2, 10)
    assert count_queries(client, url) == few


def test_the_committee_page_query_count_does_not_grow_with_branches(tree, users, client):
    client.force_login(users.committee)
    url = reverse("branches:unit_detail", args=[tree.plant.pk])
    few = count_queries(client, url)
    for i in range(10):
        f.branch(tree.plant, code=f"P{i}")
    assert count_queries(client, url) == few


def test_the_home_page_query_count_does_not_grow_with_the_tree(tree, users, client):
    client.force_login(users.admin)
    few = count_queries(client, reverse("home"))
    for i in range(10):
        add_members(f.branch(tree.plant, code=f"H{i}"), None, 2)
    assert count_queries(client, reverse("home")) == few
