"""The Django admin works for administrators: list pages, search, and roles on users."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from branches.models import OrgUnit, RoleBinding

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("root", "root@example.invalid", "pw-for-tests-123")


def test_every_admin_list_page_renders_and_searches(tree, member_a, superuser, client):
    client.force_login(superuser)
    for model in (
        "branches/orgunit",
        "branches/branchterm",
        "branches/branchtitle",
        "branches/rolebinding",
        "members/member",
        "members/memberrole",
        "members/memberhonour",
        "auth/user",
    ):
        response = client.get(f"/admin/{model}/", {"q": "党"})
        assert response.status_code == 200, model


def test_a_unit_created_in_the_admin_gets_its_path(tree, superuser, client):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:branches_orgunit_add"),
        {"kind": "branch", "name": "新建党支部", "code": "NEW1", "parent": tree.plant.pk, "sort_order": 0, "tier": ""},
    )
    assert response.status_code == 302
    unit = OrgUnit.objects.get(code="NEW1")
    assert unit.path == f"{tree.plant.path}{unit.pk}/" and unit.depth == tree.plant.depth + 1


def test_moving_a_unit_in_the_admin_moves_its_subtree(tree, superuser, client):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:branches_orgunit_change", args=[tree.branch_a.pk]),
        {
            "kind": "branch",
            "name": tree.branch_a.name,
            "code": "BRA",
            "parent": tree.other.pk,
            "sort_order": 0,
            "tier": "",
        },
    )
    assert response.status_code == 302
    tree.group_a1.refresh_from_db()
    assert tree.group_a1.path.startswith(tree.other.path)


def test_roles_are_given_on_the_user_page(tree, superuser, client):
    client.force_login(superuser)
    user = get_user_model().objects.create_user("newsec", password="pw-for-tests-123")
    response = client.get(reverse("admin:auth_user_change", args=[user.pk]))
    assert "role_bindings-TOTAL_FORMS" in response.content.decode()
    assert not RoleBinding.objects.filter(user=user).exists()


def test_members_cannot_be_deleted_or_added_in_the_admin(member_a, superuser, client):
    client.force_login(superuser)
    assert client.get(reverse("admin:members_member_delete", args=[member_a.pk])).status_code == 403
    assert client.get(reverse("admin:members_member_add")).status_code == 403
