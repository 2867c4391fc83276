"""The database itself refuses inconsistent member data, whatever code writes it.

Each refusal happens inside ``transaction.atomic()`` so the test transaction survives;
the same checks run on SQLite and PostgreSQL (partial unique indexes and CHECKs on both).
"""

import datetime

import pytest
from django.db import IntegrityError, transaction

from members.models import Member, MemberHonour, MemberRole, Membership
from tests import factories as f

D = datetime.date


def test_the_database_refuses_a_second_open_period_for_a_member(tree, member_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(member=member_a, branch=tree.branch_b, started_on=D(2025, 1, 1))
    assert Membership.objects.filter(member=member_a).count() == 1


def test_the_database_allows_a_new_open_period_once_the_old_one_is_closed(tree, member_a):
    Membership.objects.filter(member=member_a).update(ended_on=D(2025, 1, 1), end_reason="transfer")
    Membership.objects.create(member=member_a, branch=tree.branch_b, started_on=D(2025, 1, 1))
    assert Membership.objects.filter(member=member_a, ended_on__isnull=True).get().branch == tree.branch_b


def test_open_periods_of_different_members_do_not_clash(tree, member_a, member_x):
    assert Membership.objects.filter(ended_on__isnull=True).count() == 2


@pytest.mark.parametrize("ended_on", [D(2019, 12, 31), D(2020, 1, 1)])
def test_the_database_refuses_a_period_ending_before_or_when_it_starts(tree, member_a, ended_on):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.filter(member=member_a).update(ended_on=ended_on)
    assert Membership.objects.get(member=member_a).ended_on is None


def test_the_database_refuses_a_closed_period_inserted_backwards(tree, member_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(
            member=member_a, branch=tree.branch_b, started_on=D(2018, 5, 1), ended_on=D(2018, 4, 1)
        )
    assert Membership.objects.filter(member=member_a).count() == 1


def member_row(tree, **overrides) -> dict:
    return {
        "name": "测试",
        "gender": Member.Gender.MALE,
        "birth_date": D(1990, 1, 1),
        "employee_no": "DB-1",
        "branch": tree.branch_a,
        "status": Member.Status.FULL,
        "joined_on": D(2015, 1, 1),
        "converted_on": D(2016, 1, 1),
        **overrides,
    }


def test_the_database_accepts_a_consistent_member_row(tree):
    Member.objects.create(**member_row(tree))
    assert Member.objects.filter(employee_no="DB-1").exists()


def test_the_database_refuses_a_full_member_without_a_conversion_date(tree):
    with pytest.raises(IntegrityError), transaction.atomic():
        Member.objects.create(**member_row(tree, converted_on=None))
    assert not Member.objects.filter(employee_no="DB-1").exists()


def test_the_database_refuses_a_probationary_member_with_a_conversion_date(tree):
    with pytest.raises(IntegrityError), transaction.atomic():
        Member.objects.create(**member_row(tree, status=Member.Status.PROBATIONARY))
    assert not Member.objects.filter(employee_no="DB-1").exists()


def test_the_database_refuses_joining_before_birth_and_conversion_before_joining(tree):
    with pytest.raises(IntegrityError), transaction.atomic():
        Member.objects.create(**member_row(tree, joined_on=D(1989, 1, 1)))
    with pytest.raises(IntegrityError), transaction.atomic():
        Member.objects.create(**member_row(tree, converted_on=D(2014, 1, 1)))
    assert not Member.objects.filter(employee_no="DB-1").exists()


def test_the_database_refuses_a_duplicate_employee_number(tree, member_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        Member.objects.create(**member_row(tree, employee_no=member_a.employee_no))
    assert Member.objects.filter(employee_no=member_a.employee_no).count() == 1


def test_the_database_refuses_two_open_secretaries_in_one_branch(tree, member_a):
    other = f.MemberFactory(branch=tree.branch_a)
    MemberRole.objects.create(member=member_a, unit=tree.branch_a, role="secretary", started_on=D(2024, 1, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        MemberRole.objects.create(member=other, unit=tree.branch_a, role="secretary", started_on=D(2025, 1, 1))
    assert MemberRole.objects.filter(unit=tree.branch_a, role="secretary").count() == 1


def test_the_database_allows_a_new_secretary_beside_an_ended_one(tree, member_a):
    other = f.MemberFactory(branch=tree.branch_a)
    MemberRole.objects.create(
        member=member_a, unit=tree.branch_a, role="secretary", started_on=D(2021, 1, 1), ended_on=D(2024, 12, 31)
    )
    MemberRole.objects.create(member=other, unit=tree.branch_a, role="secretary", started_on=D(2025, 1, 1))
    assert MemberRole.objects.filter(unit=tree.branch_a, role="secretary", ended_on__isnull=True).get().member == other


def test_the_database_refuses_two_open_leaders_of_one_group(tree, member_a):
    other = f.MemberFactory(branch=tree.branch_a, group=tree.group_a1)
    MemberRole.objects.create(member=member_a, unit=tree.group_a1, role="group_leader", started_on=D(2024, 1, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        MemberRole.objects.create(member=other, unit=tree.group_a1, role="group_leader", started_on=D(2025, 1, 1))
    assert MemberRole.objects.filter(unit=tree.group_a1).count() == 1


def test_the_database_allows_several_open_ordinary_committee_members(tree, member_a):
    other = f.MemberFactory(branch=tree.branch_a)
    for member in (member_a, other):
        MemberRole.objects.create(member=member, unit=tree.branch_a, role="committee_member", started_on=D(2024, 1, 1))
    assert MemberRole.objects.filter(unit=tree.branch_a, ended_on__isnull=True).count() == 2


def test_the_database_refuses_a_role_ending_before_it_started(tree, member_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        MemberRole.objects.create(
            member=member_a, unit=tree.branch_a, role="propaganda", started_on=D(2024, 1, 1), ended_on=D(2023, 1, 1)
        )
    assert not MemberRole.objects.exists()


@pytest.mark.parametrize("stars", [0, 6])
def test_the_database_refuses_stars_outside_one_to_five(tree, member_a, stars):
    with pytest.raises(IntegrityError), transaction.atomic():
        MemberHonour.objects.create(member=member_a, kind="model_post", stars=stars, awarded_on=D(2024, 1, 1))
    assert not MemberHonour.objects.exists()
