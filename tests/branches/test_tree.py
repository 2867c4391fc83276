"""The organisation tree: materialised paths, subtree reads, moves and placement rules."""

from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from branches import selectors, services
from branches.models import OrgUnit
from tests import factories as f

Kind = OrgUnit.Kind


def general_branch(parent, **kwargs) -> OrgUnit:
    return f.UnitFactory(kind=Kind.GENERAL_BRANCH, parent=parent, name=kwargs.pop("name", "党总支"), **kwargs)


def fresh(unit: OrgUnit) -> OrgUnit:
    return OrgUnit.objects.get(pk=unit.pk)


@pytest.fixture
def deep(db):
    """Five levels: committee → committee → general branch → branch → group, plus a
    sibling committee with a branch of its own that must never leak into the subtree."""
    top = f.committee(name="集团党委", code="TOP")
    plant = f.committee(name="炼铁厂党委", code="PLT", parent=top)
    gb = general_branch(plant, code="GB")
    branch = f.branch(gb, code="BR")
    grp = f.group(branch, code="GRP")
    sibling = f.committee(name="焦化厂党委", code="SIB", parent=top)
    sibling_branch = f.branch(sibling, code="SIBBR")
    return SimpleNamespace(
        top=top, plant=plant, gb=gb, branch=branch, grp=grp, sibling=sibling, sibling_branch=sibling_branch
    )


# --- materialised paths -------------------------------------------------------------


def test_a_root_committee_has_its_own_id_as_path_and_depth_zero(deep):
    top = fresh(deep.top)
    assert top.path == f"/{top.pk}/"
    assert top.depth == 0
    assert top.parent_id is None


def test_each_level_appends_its_id_to_the_parents_path_and_is_one_deeper(deep):
    chain = [deep.top, deep.plant, deep.gb, deep.branch, deep.grp]
    expected_path = "/"
    for depth, unit in enumerate(chain):
        expected_path += f"{unit.pk}/"
        stored = fresh(unit)
        assert stored.path == expected_path
        assert stored.depth == depth
    # The returned object carries the same path as the row, so callers need no refresh.
    assert deep.grp.path == fresh(deep.grp).path


def test_ancestor_ids_are_read_off_the_path_root_first(deep):
    grp = fresh(deep.grp)
    assert grp.ancestor_ids() == [deep.top.pk, deep.plant.pk, deep.gb.pk, deep.branch.pk]
    assert [u.pk for u in selectors.unit_ancestors(unit=grp)] == grp.ancestor_ids()
    assert fresh(deep.top).ancestor_ids() == []


def test_unit_subtree_lists_everything_under_a_committee_in_one_query(deep, django_assert_num_queries):
    top = fresh(deep.top)
    with django_assert_num_queries(1):
        codes = {unit.code for unit in selectors.unit_subtree(unit=top)}
    assert codes == {"TOP", "PLT", "GB", "BR", "GRP", "SIB", "SIBBR"}


def test_unit_subtree_of_a_middle_committee_stays_out_of_the_sibling_committee(deep, django_assert_num_queries):
    plant = fresh(deep.plant)
    with django_assert_num_queries(1):
        codes = {unit.code for unit in selectors.unit_subtree(unit=plant)}
    assert codes == {"PLT", "GB", "BR", "GRP"}


def test_unit_subtree_can_leave_out_the_unit_itself_and_filter_by_kind(deep):
    plant = fresh(deep.plant)
    below = selectors.unit_subtree(unit=plant, include_self=False)
    assert {u.code for u in below} == {"GB", "BR", "GRP"}
    branches = selectors.unit_subtree(unit=fresh(deep.top), kinds=[Kind.BRANCH])
    assert {u.code for u in branches} == {"BR", "SIBBR"}


# --- moving a subtree ---------------------------------------------------------------


def test_moving_a_general_branch_rewrites_the_paths_and_depths_of_its_whole_subtree(deep):
    # Move the general branch (with its branch and group) from PLANT to the SIBLING committee.
    services.org_unit_move(unit=deep.gb, new_parent=fresh(deep.sibling))

    sibling = fresh(deep.sibling)
    gb, branch, grp = fresh(deep.gb), fresh(deep.branch), fresh(deep.grp)
    assert gb.parent_id == sibling.pk
    assert gb.path == f"{sibling.path}{gb.pk}/"
    assert branch.path == f"{sibling.path}{gb.pk}/{branch.pk}/"
    assert grp.path == f"{sibling.path}{gb.pk}/{branch.pk}/{grp.pk}/"
    assert (gb.depth, branch.depth, grp.depth) == (2, 3, 4)
    # Parents below the moved unit are untouched; only their paths changed.
    assert branch.parent_id == gb.pk
    assert grp.parent_id == branch.pk

    assert {u.code for u in selectors.unit_subtree(unit=sibling)} == {"SIB", "SIBBR", "GB", "BR", "GRP"}
    assert {u.code for u in selectors.unit_subtree(unit=fresh(deep.plant))} == {"PLT"}


def test_moving_a_unit_up_a_level_decreases_the_depth_of_every_descendant(deep):
    services.org_unit_move(unit=deep.gb, new_parent=fresh(deep.top))

    top = fresh(deep.top)
    gb, branch, grp = fresh(deep.gb), fresh(deep.branch), fresh(deep.grp)
    assert (gb.depth, branch.depth, grp.depth) == (1, 2, 3)
    assert grp.path == f"/{top.pk}/{gb.pk}/{branch.pk}/{grp.pk}/"
    assert grp.ancestor_ids() == [top.pk, gb.pk, branch.pk]


def test_moving_a_branch_between_general_branch_and_committee_keeps_its_groups_underneath(deep):
    services.org_unit_move(unit=deep.branch, new_parent=fresh(deep.plant))

    plant = fresh(deep.plant)
    assert fresh(deep.branch).path == f"{plant.path}{deep.branch.pk}/"
    assert fresh(deep.grp).path == f"{plant.path}{deep.branch.pk}/{deep.grp.pk}/"
    assert {u.code for u in selectors.unit_subtree(unit=fresh(deep.gb))} == {"GB"}
    assert {u.code for u in selectors.unit_subtree(unit=fresh(deep.branch))} == {"BR", "GRP"}


def test_a_unit_cannot_be_moved_under_its_own_descendant(deep):
    sub = f.committee(name="分厂党委", code="SUB", parent=deep.plant)
    before = {u.pk: (u.path, u.depth, u.parent_id) for u in OrgUnit.objects.all()}

    with pytest.raises(ValidationError):
        services.org_unit_move(unit=deep.plant, new_parent=fresh(sub))
    with pytest.raises(ValidationError):
        services.org_unit_move(unit=deep.plant, new_parent=fresh(deep.plant))

    after = {u.pk: (u.path, u.depth, u.parent_id) for u in OrgUnit.objects.all()}
    assert after == before


def test_a_move_under_a_parent_of_the_wrong_kind_is_refused_and_changes_nothing(deep):
    before = fresh(deep.branch).path
    with pytest.raises(ValidationError):
        services.org_unit_move(unit=deep.branch, new_parent=fresh(deep.sibling_branch))
    assert fresh(deep.branch).path == before
    assert fresh(deep.branch).parent_id == deep.gb.pk


# --- which kind may sit under which -------------------------------------------------


def test_a_group_cannot_sit_under_a_committee(deep):
    with pytest.raises(ValidationError):
        f.group(deep.plant, code="BADGRP")
    assert not OrgUnit.objects.filter(code="BADGRP").exists()


def test_a_group_cannot_sit_at_the_root_or_under_a_general_branch(deep):
    with pytest.raises(ValidationError):
        services.org_unit_create(kind=Kind.GROUP, name="x", code="G0", parent=None)
    with pytest.raises(ValidationError):
        services.org_unit_create(kind=Kind.GROUP, name="x", code="G1", parent=deep.gb)
    assert not OrgUnit.objects.filter(code__in=["G0", "G1"]).exists()


def test_a_branch_can_sit_under_a_general_branch_or_directly_under_a_committee(deep):
    under_gb = f.branch(deep.gb, code="BR2")
    under_committee = f.branch(deep.plant, code="BR3")
    assert fresh(under_gb).parent_id == deep.gb.pk
    assert fresh(under_committee).parent_id == deep.plant.pk


def test_a_branch_cannot_sit_at_the_root_or_under_another_branch(deep):
    with pytest.raises(ValidationError):
        services.org_unit_create(kind=Kind.BRANCH, name="x", code="B0", parent=None)
    with pytest.raises(ValidationError):
        services.org_unit_create(kind=Kind.BRANCH, name="x", code="B1", parent=deep.branch)


def test_a_general_branch_sits_only_under_a_committee(deep):
    assert fresh(general_branch(deep.top, code="GB2")).parent_id == deep.top.pk
    for code, parent in [("GB3", None), ("GB4", deep.gb), ("GB5", deep.branch), ("GB6", deep.grp)]:
        with pytest.raises(ValidationError):
            services.org_unit_create(kind=Kind.GENERAL_BRANCH, name="x", code=code, parent=parent)
    assert not OrgUnit.objects.filter(code__in=["GB3", "GB4", "GB5", "GB6"]).exists()


def test_committees_nest_under_committees_but_not_under_branches(deep):
    assert fresh(f.committee(code="C2", parent=deep.plant)).depth == 2
    with pytest.raises(ValidationError):
        services.org_unit_create(kind=Kind.COMMITTEE, name="x", code="C3", parent=deep.gb)
    with pytest.raises(ValidationError):
        services.org_unit_create(kind=Kind.COMMITTEE, name="x", code="C4", parent=deep.branch)


# --- codes and tiers ----------------------------------------------------------------


def test_a_duplicate_code_is_refused_with_a_validation_error_on_code(deep):
    with pytest.raises(ValidationError) as excinfo:
        services.org_unit_create(kind=Kind.BRANCH, name="另一个支部", code="BR", parent=deep.plant)
    assert "code" in excinfo.value.message_dict
    assert OrgUnit.objects.filter(code="BR").count() == 1


def test_a_branch_may_have_a_tier(deep):
    unit = services.org_unit_create(
        kind=Kind.BRANCH, name="红旗支部", code="RED", parent=deep.plant, tier=OrgUnit.Tier.RED_FLAG
    )
    assert fresh(unit).tier == OrgUnit.Tier.RED_FLAG


@pytest.mark.parametrize("kind", [Kind.COMMITTEE, Kind.GENERAL_BRANCH, Kind.GROUP])
def test_only_a_branch_gets_a_tier_on_creation(deep, kind):
    parent = {Kind.COMMITTEE: deep.top, Kind.GENERAL_BRANCH: deep.plant, Kind.GROUP: deep.branch}[kind]
    with pytest.raises(ValidationError):
        services.org_unit_create(kind=kind, name="x", code="TIERED", parent=parent, tier=OrgUnit.Tier.STANDARD)
    assert not OrgUnit.objects.filter(code="TIERED").exists()


def test_updating_a_non_branch_with_a_tier_is_refused(deep):
    with pytest.raises(ValidationError):
        services.org_unit_update(
            unit=fresh(deep.plant), name="x", brand="", brand_description="", sort_order=0, tier="standard"
        )
    assert fresh(deep.plant).tier == ""


def test_updating_a_branch_without_tier_permission_keeps_its_tier(deep):
    branch = fresh(deep.branch)
    services.org_unit_update(unit=branch, name="x", brand="b", brand_description="", sort_order=0, tier="exemplary")
    services.org_unit_update(unit=fresh(deep.branch), name="新名", brand="b", brand_description="", sort_order=3)
    stored = fresh(deep.branch)
    assert (stored.name, stored.tier, stored.sort_order) == ("新名", OrgUnit.Tier.EXEMPLARY, 3)


def test_the_database_refuses_a_tier_on_a_committee(deep):
    with pytest.raises(IntegrityError), transaction.atomic():
        OrgUnit.objects.filter(pk=deep.plant.pk).update(tier=OrgUnit.Tier.STANDARD)
    assert fresh(deep.plant).tier == ""


def test_the_tree_page_orders_siblings_by_sort_order_then_name_not_by_id(db):
    from branches.selectors import tree_order

    root = f.committee(code="R")
    later = f.branch(root, name="乙支部", code="B2", sort_order=2)
    first = f.branch(root, name="甲支部", code="B1", sort_order=1)
    group = f.group(later, code="G")
    other_root = f.committee(name="另一党委", code="R2")
    assert tree_order([other_root, group, later, first, root]) == [root, first, later, group, other_root]
