"""Every page renders for the people who may see it, in Chinese by default."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_home_for_each_role_renders_in_chinese(users, login):
    for user in (users.secretary, users.committee, users.admin):
        response = login(user).get(reverse("home"))
        assert response.status_code == 200
        assert "首页" in response.content.decode()


def test_pages_render(tree, users, member_a, login):
    client = login(users.admin)
    urls = [
        reverse("branches:tree"),
        reverse("branches:tree") + "?groups=1",
        reverse("branches:unit_detail", args=[tree.root.pk]),
        reverse("branches:unit_detail", args=[tree.branch_a.pk]),
        reverse("branches:unit_detail", args=[tree.group_a1.pk]),
        reverse("branches:unit_edit", args=[tree.branch_a.pk]),
        reverse("branches:unit_create", args=[tree.plant.pk]),
        reverse("branches:term_start", args=[tree.branch_a.pk]),
        reverse("branches:title_award", args=[tree.branch_a.pk]),
        reverse("members:roster"),
        reverse("members:roster") + f"?branch={tree.plant.pk}&q=王",
        reverse("members:create"),
        reverse("members:detail", args=[member_a.pk]),
        reverse("members:edit", args=[member_a.pk]),
        reverse("members:transfer", args=[member_a.pk]),
        reverse("members:leave", args=[member_a.pk]),
        reverse("members:honour_add", args=[member_a.pk]),
        reverse("members:committee", args=[tree.branch_a.pk]),
        reverse("members:group_leader", args=[tree.group_a1.pk]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
