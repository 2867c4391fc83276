"""The roster's search: within the user's scope however the database reads it, the
rows and the unit filter rendered as before (issue 14)."""

import re

import pytest
from django.urls import reverse

from .. import factories as f

pytestmark = pytest.mark.django_db


def names(response) -> list[str]:
    body = response.content.decode().split('id="roster"', 1)[1]
    return re.findall(r'<td><a href="/members/\d+/">([^<]+)</a>', body)


def test_a_search_finds_only_members_in_the_scope(tree, users, client):
    f.MemberFactory(branch=tree.branch_a, name="张三", employee_no="A1")
    f.MemberFactory(branch=tree.branch_b, name="李张", employee_no="B1", post="张罗")
    f.MemberFactory(branch=tree.branch_x, name="张外", employee_no="X1")
    f.MemberFactory(branch=tree.branch_a, name="王五", employee_no="A2")
    client.force_login(users.committee)
    response = client.get(reverse("members:roster"), {"q": "张"})
    assert sorted(names(response)) == ["张三", "李张"]
    assert response.context["page"].paginator.count == 2
    # A secretary's scope is their branch; an administrator's is everything.
    client.force_login(users.secretary)
    assert names(client.get(reverse("members:roster"), {"q": "张"})) == ["张三"]
    client.force_login(users.admin)
    assert sorted(names(client.get(reverse("members:roster"), {"q": "张"}))) == ["张三", "张外", "李张"]


def test_the_rows_show_who_left_the_status_group_and_roles(tree, users, client):
    from members.models import MemberRole

    active = f.MemberFactory(
        branch=tree.branch_a, group=tree.group_a1, name="<b>赵</b>", status="probationary", converted_on=None
    )
    MemberRole.objects.create(member=active, unit=tree.branch_a, role="secretary", started_on="2024-01-01")
    MemberRole.objects.create(member=active, unit=tree.branch_a, role="committee_member", started_on="2024-01-01")
    left = f.MemberFactory(branch=tree.branch_a, name="钱", left_on="2024-06-30")
    client.force_login(users.secretary)
    html = client.get(reverse("members:roster"), {"include_left": "on"}).content.decode()
    assert "&lt;b&gt;赵&lt;/b&gt;" in html and "<b>赵</b>" not in html  # escaped
    row = re.search(rf'<tr><td><a href="/members/{active.pk}/">.*?</tr>', html, re.S).group(0)
    assert tree.group_a1.name in row and 'class="badge text-bg-warning"' in row and "、" in row
    assert re.search(rf'<tr class="text-muted"><td><a href="/members/{left.pk}/">钱</a> <span class="badge', html)
    # The unit filter keeps the unit chosen.
    html = client.get(reverse("members:roster"), {"branch": tree.branch_a.pk}).content.decode()
    assert f'<option value="{tree.branch_a.pk}" selected>{tree.branch_a.name}</option>' in html
