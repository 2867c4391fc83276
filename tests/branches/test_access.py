"""Who sees and changes which organisation units (``branches.access``)."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from branches import access
from branches.models import OrgUnit, RoleBinding
from tests import factories as f

Role = RoleBinding.Role


def codes(user) -> set[str]:
    return set(access.visible_units(user).values_list("code", flat=True))


ALL_CODES = {"GROUP", "PLANT", "OTHER", "BRA", "BRB", "BRX", "A1", "A2", "X1"}


# --- reading --------------------------------------------------------------------------


def test_a_secretary_sees_their_branch_and_its_groups_only(users):
    assert codes(users.secretary) == {"BRA", "A1", "A2"}


def test_a_secretary_gets_404_for_a_sibling_branch_and_the_committee_above(tree, users):
    assert access.get_unit_for_user(users.secretary, tree.branch_a.pk) == tree.branch_a
    assert access.get_unit_for_user(users.secretary, tree.group_a2.pk) == tree.group_a2
    for unit in (tree.branch_b, tree.plant, tree.root, tree.branch_x, tree.group_x1):
        with pytest.raises(Http404):
            access.get_unit_for_user(users.secretary, unit.pk)


def test_a_unit_that_does_not_exist_is_a_404_like_one_out_of_scope(users):
    with pytest.raises(Http404):
        access.get_unit_for_user(users.admin, 999_999)


def test_committee_staff_see_their_whole_subtree_but_not_the_sibling_committees(tree, users):
    assert codes(users.committee) == {"PLANT", "BRA", "BRB", "A1", "A2"}
    for unit in (tree.other, tree.branch_x, tree.group_x1, tree.root):
        with pytest.raises(Http404):
            access.get_unit_for_user(users.committee, unit.pk)
    assert codes(users.other_committee) == {"OTHER", "BRX", "X1"}


def test_committee_staff_see_units_added_deep_below_them_later(tree, users):
    sub = f.committee(code="SUB", parent=tree.plant)
    deep_branch = f.branch(sub, code="DEEP")
    assert access.get_unit_for_user(users.committee, deep_branch.pk) == deep_branch
    with pytest.raises(Http404):
        access.get_unit_for_user(users.other_committee, deep_branch.pk)


def test_an_admin_binding_without_a_unit_sees_everything(users):
    assert codes(users.admin) == ALL_CODES
    scope = access.user_scope(users.admin)
    assert scope.is_admin
    assert Role.ADMIN in scope.roles


def test_a_superuser_without_any_binding_sees_everything(tree):
    boss = f.UserFactory(username="boss", is_superuser=True, is_staff=True)
    assert not RoleBinding.objects.filter(user=boss).exists()
    assert codes(boss) == ALL_CODES
    assert access.get_unit_for_user(boss, tree.branch_x.pk, write=True) == tree.branch_x
    assert access.can_manage_structure(boss, tree.root)


def test_a_user_without_a_binding_sees_nothing(tree, users):
    assert codes(users.nobody) == set()
    assert access.user_scope(users.nobody).is_empty
    with pytest.raises(Http404):
        access.get_unit_for_user(users.nobody, tree.branch_a.pk)


def test_an_anonymous_user_sees_nothing(tree):
    assert codes(AnonymousUser()) == set()
    with pytest.raises(Http404):
        access.get_unit_for_user(AnonymousUser(), tree.root.pk)


def test_a_user_with_two_bindings_sees_the_union_of_both_subtrees(tree):
    user = f.user_with_role(Role.SECRETARY, tree.branch_a, username="two_hats")
    RoleBinding.objects.create(user=user, role=Role.SECRETARY, unit=tree.branch_x)
    assert codes(user) == {"BRA", "A1", "A2", "BRX", "X1"}
    with pytest.raises(Http404):
        access.get_unit_for_user(user, tree.branch_b.pk)


def test_a_secretary_who_is_also_committee_staff_elsewhere_sees_both(tree):
    user = f.user_with_role(Role.SECRETARY, tree.branch_a, username="mixed")
    RoleBinding.objects.create(user=user, role=Role.COMMITTEE_STAFF, unit=tree.other)
    assert codes(user) == {"BRA", "A1", "A2", "OTHER", "BRX", "X1"}
    assert access.can_manage_structure(user, tree.branch_x)
    assert not access.can_manage_structure(user, tree.branch_a)


def test_inactive_users_see_nothing_whatever_their_bindings(tree, users):
    for user in (users.secretary, users.committee, users.admin):
        user.is_active = False
        user.save(update_fields=["is_active"])
        user.refresh_from_db()
        assert codes(user) == set()
        with pytest.raises(Http404):
            access.get_unit_for_user(user, tree.branch_a.pk)


def test_an_inactive_superuser_sees_nothing(tree):
    boss = f.UserFactory(username="old_boss", is_superuser=True, is_active=False)
    assert codes(boss) == set()
    assert not access.can_write_unit(boss, tree.branch_a)


# --- writing --------------------------------------------------------------------------


def test_a_secretary_may_write_their_own_branch_and_its_groups(tree, users):
    assert access.get_unit_for_user(users.secretary, tree.branch_a.pk, write=True) == tree.branch_a
    assert access.get_unit_for_user(users.secretary, tree.group_a1.pk, write=True) == tree.group_a1


def test_committee_staff_may_write_every_branch_and_group_under_them(tree, users):
    for unit in (tree.plant, tree.branch_a, tree.branch_b, tree.group_a2):
        assert access.get_unit_for_user(users.committee, unit.pk, write=True) == unit
    assert not access.can_write_unit(users.committee, tree.branch_x)


def test_a_general_branch_secretary_reads_but_may_not_write_the_general_branch(tree):
    gb = f.UnitFactory(kind=OrgUnit.Kind.GENERAL_BRANCH, parent=tree.plant, code="GB")
    under = f.branch(gb, code="BRG")
    user = f.user_with_role(Role.SECRETARY, gb, username="gb_secretary")
    assert access.get_unit_for_user(user, gb.pk) == gb
    with pytest.raises(PermissionDenied):
        access.get_unit_for_user(user, gb.pk, write=True)
    assert access.get_unit_for_user(user, under.pk, write=True) == under


def test_can_manage_structure_is_for_committee_staff_and_admins_not_secretaries(tree, users):
    assert not access.can_manage_structure(users.secretary, tree.branch_a)
    assert not access.can_manage_structure(users.secretary, tree.group_a1)
    assert access.can_manage_structure(users.committee, tree.plant)
    assert access.can_manage_structure(users.committee, tree.branch_a)
    assert not access.can_manage_structure(users.committee, tree.branch_x)
    assert access.can_manage_structure(users.admin, tree.branch_x)
    assert not access.can_manage_structure(users.nobody, tree.branch_a)


# --- caching --------------------------------------------------------------------------


def test_the_scope_is_read_once_and_cached_on_the_user_object(users, django_assert_num_queries):
    user = users.committee
    with django_assert_num_queries(1):
        first = access.user_scope(user)
    with django_assert_num_queries(0):
        second = access.user_scope(user)
    assert second is first


def test_once_the_scope_is_cached_a_unit_lookup_is_a_single_query(tree, users, django_assert_num_queries):
    access.user_scope(users.secretary)
    with django_assert_num_queries(1):
        access.get_unit_for_user(users.secretary, tree.branch_a.pk, write=True)


def test_a_fresh_user_object_reads_the_bindings_again(tree, users):
    access.user_scope(users.secretary)
    RoleBinding.objects.create(user=users.secretary, role=Role.SECRETARY, unit=tree.branch_b)
    # The old object keeps its per-request cache; a new request loads a new user object.
    assert "BRB" not in codes(users.secretary)
    reloaded = type(users.secretary).objects.get(pk=users.secretary.pk)
    assert "BRB" in codes(reloaded)
