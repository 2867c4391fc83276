"""Writes about members (``members.services``): validation, placement changes, roles, honours."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from members import services
from members.models import Member, MemberHonour, MemberRole, Membership
from tests import factories as f

D = datetime.date
Status = Member.Status
Reason = Membership.EndReason
RoleKind = MemberRole.Role
HonourKind = MemberHonour.Kind
TODAY = D(2025, 6, 10)


def at_noon(day: datetime.date):
    """Freeze the clock at noon Beijing time on ``day``."""
    return time_machine.travel(
        datetime.datetime(day.year, day.month, day.day, 12, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False
    )


def periods(member):
    return list(Membership.objects.filter(member=member).order_by("started_on", "pk"))


def open_period(member):
    return Membership.objects.get(member=member, ended_on__isnull=True)


# --- member_validate ------------------------------------------------------------------


@pytest.fixture
def valid(tree):
    """Valid data for a new full member of BRANCH_A, group A1; tests change one thing."""
    return {
        "birth_date": D(1990, 5, 20),
        "joined_on": D(2015, 7, 1),
        "status": Status.FULL,
        "converted_on": D(2016, 7, 1),
        "branch": tree.branch_a,
        "group": tree.group_a1,
        "employee_no": "NEW-001",
        "today": TODAY,
    }


def error_fields(**data) -> set[str]:
    with pytest.raises(ValidationError) as excinfo:
        services.member_validate(**data)
    return set(excinfo.value.message_dict)


def test_valid_member_data_passes_validation(valid):
    services.member_validate(**valid)


def test_a_probationary_member_without_conversion_date_is_valid(valid):
    services.member_validate(**{**valid, "status": Status.PROBATIONARY, "converted_on": None, "group": None})


def test_a_birth_date_in_the_future_is_refused_on_birth_date(valid):
    assert "birth_date" in error_fields(**{**valid, "birth_date": TODAY + datetime.timedelta(days=1)})


def test_a_joining_date_in_the_future_is_refused_on_joined_on(valid):
    data = {**valid, "status": Status.PROBATIONARY, "converted_on": None, "joined_on": D(2025, 6, 11)}
    assert error_fields(**data) == {"joined_on"}


def test_joining_before_the_eighteenth_birthday_is_refused_on_joined_on(valid):
    data = {**valid, "joined_on": D(2008, 5, 19), "converted_on": D(2009, 6, 1)}
    assert error_fields(**data) == {"joined_on"}


def test_joining_on_the_eighteenth_birthday_is_allowed(valid):
    services.member_validate(**{**valid, "joined_on": D(2008, 5, 20), "converted_on": D(2009, 6, 1)})


def test_a_full_member_without_a_conversion_date_is_refused_on_converted_on(valid):
    assert error_fields(**{**valid, "converted_on": None}) == {"converted_on"}


def test_a_probationary_member_with_a_conversion_date_is_refused_on_converted_on(valid):
    assert error_fields(**{**valid, "status": Status.PROBATIONARY}) == {"converted_on"}


def test_conversion_earlier_than_one_year_after_joining_is_refused_on_converted_on(valid):
    assert error_fields(**{**valid, "converted_on": D(2016, 6, 30)}) == {"converted_on"}


def test_conversion_exactly_one_year_after_joining_is_allowed(valid):
    services.member_validate(**{**valid, "converted_on": D(2016, 7, 1)})


def test_conversion_in_the_future_is_refused_on_converted_on(valid):
    data = {**valid, "joined_on": D(2024, 7, 1), "converted_on": D(2025, 7, 1)}
    assert error_fields(**data) == {"converted_on"}


def test_a_group_of_another_branch_is_refused_on_group(valid, tree):
    assert error_fields(**{**valid, "group": tree.group_x1}) == {"group"}


def test_a_unit_that_is_not_a_group_is_refused_on_group(valid, tree):
    assert error_fields(**{**valid, "group": tree.branch_a}) == {"group"}


def test_a_committee_as_branch_is_refused_on_branch(valid, tree):
    assert "branch" in error_fields(**{**valid, "branch": tree.plant, "group": None})


def test_a_duplicate_employee_number_is_refused_on_employee_no(valid, member_x):
    assert error_fields(**{**valid, "employee_no": member_x.employee_no}) == {"employee_no"}


def test_exclude_pk_lets_a_member_keep_their_own_employee_number(valid, member_a, member_x):
    services.member_validate(**{**valid, "employee_no": member_a.employee_no, "exclude_pk": member_a.pk})
    # … but not take somebody else's.
    data = {**valid, "employee_no": member_x.employee_no, "exclude_pk": member_a.pk}
    assert error_fields(**data) == {"employee_no"}


def test_several_problems_are_reported_together(valid, tree, member_x):
    data = {**valid, "converted_on": None, "group": tree.group_x1, "employee_no": member_x.employee_no}
    assert error_fields(**data) == {"converted_on", "group", "employee_no"}


# --- member_create --------------------------------------------------------------------


def test_member_create_writes_the_member_and_exactly_one_open_period(tree, users):
    member = services.member_create(
        name="赵志刚",
        gender=Member.Gender.MALE,
        birth_date=D(1988, 2, 1),
        employee_no="E-7788",
        branch=tree.branch_a,
        group=tree.group_a2,
        status=Status.PROBATIONARY,
        joined_on=D(2024, 12, 1),
        started_on=D(2024, 12, 1),
        post="炉长",
        user=users.secretary,
    )
    stored = Member.objects.get(pk=member.pk)
    assert (stored.name, stored.employee_no, stored.branch, stored.group, stored.status, stored.left_on) == (
        "赵志刚",
        "E-7788",
        tree.branch_a,
        tree.group_a2,
        Status.PROBATIONARY,
        None,
    )
    [period] = periods(member)
    assert (period.branch, period.group, period.started_on, period.ended_on, period.recorded_by) == (
        tree.branch_a,
        tree.group_a2,
        D(2024, 12, 1),
        None,
        users.secretary,
    )


def test_member_create_with_invalid_data_writes_nothing(tree, member_a):
    with pytest.raises(ValidationError):
        services.member_create(
            name="重复",
            gender=Member.Gender.FEMALE,
            birth_date=D(1988, 2, 1),
            employee_no=member_a.employee_no,
            branch=tree.branch_a,
            status=Status.FULL,
            joined_on=D(2010, 1, 1),
            converted_on=D(2011, 1, 1),
            started_on=D(2020, 1, 1),
        )
    assert Member.objects.count() == 1
    assert Membership.objects.count() == 1


# --- member_transfer ------------------------------------------------------------------


def test_a_transfer_ends_the_old_period_on_the_effective_date_and_opens_the_new_one_that_day(tree, member_a, users):
    new = services.member_transfer(
        member=member_a, to_branch=tree.branch_b, on_date=D(2025, 3, 15), note="调岗", user=users.committee
    )

    old, current = periods(member_a)
    assert (old.branch, old.group, old.ended_on, old.end_reason, old.note) == (
        tree.branch_a,
        tree.group_a1,
        D(2025, 3, 15),
        Reason.TRANSFER,
        "调岗",
    )
    assert current.pk == new.pk
    assert (current.branch, current.group, current.started_on, current.ended_on, current.recorded_by) == (
        tree.branch_b,
        None,
        D(2025, 3, 15),
        None,
        users.committee,
    )


def test_a_transfer_moves_the_members_current_branch_and_group(tree, member_a):
    group_b1 = f.group(tree.branch_b, code="B1")
    services.member_transfer(member=member_a, to_branch=tree.branch_b, to_group=group_b1, on_date=D(2025, 3, 15))
    stored = Member.objects.get(pk=member_a.pk)
    assert (stored.branch, stored.group) == (tree.branch_b, group_b1)
    assert open_period(member_a).group == group_b1


def test_a_transfer_ends_the_members_open_roles_in_the_old_branch_and_group(tree, member_a):
    secretary = services.member_role_assign(
        member=member_a, unit=tree.branch_a, role=RoleKind.SECRETARY, started_on=D(2022, 1, 1)
    )
    leader = services.member_role_assign(
        member=member_a, unit=tree.group_a1, role=RoleKind.GROUP_LEADER, started_on=D(2021, 1, 1)
    )
    earlier = services.member_role_assign(
        member=member_a, unit=tree.branch_a, role=RoleKind.PROPAGANDA, started_on=D(2020, 1, 1)
    )
    services.member_role_end(role=earlier, ended_on=D(2021, 12, 31))

    services.member_transfer(member=member_a, to_branch=tree.branch_b, on_date=D(2025, 3, 15))

    ended = {r.pk: r.ended_on for r in MemberRole.objects.filter(member=member_a)}
    assert ended == {secretary.pk: D(2025, 3, 15), leader.pk: D(2025, 3, 15), earlier.pk: D(2021, 12, 31)}


def test_a_transfer_to_the_same_branch_is_refused(tree, member_a):
    with pytest.raises(ValidationError) as excinfo:
        services.member_transfer(member=member_a, to_branch=tree.branch_a, on_date=D(2025, 3, 15))
    assert "to_branch" in excinfo.value.message_dict
    assert len(periods(member_a)) == 1


def test_a_transfer_into_a_group_of_another_branch_is_refused(tree, member_a):
    with pytest.raises(ValidationError) as excinfo:
        services.member_transfer(
            member=member_a, to_branch=tree.branch_b, to_group=tree.group_x1, on_date=D(2025, 3, 15)
        )
    assert "to_group" in excinfo.value.message_dict
    assert Member.objects.get(pk=member_a.pk).branch == tree.branch_a
    assert len(periods(member_a)) == 1


def test_a_transfer_to_something_that_is_not_a_branch_is_refused(tree, member_a):
    with pytest.raises(ValidationError) as excinfo:
        services.member_transfer(member=member_a, to_branch=tree.plant, on_date=D(2025, 3, 15))
    assert "to_branch" in excinfo.value.message_dict


@pytest.mark.parametrize("on_date", [D(2020, 1, 1), D(2019, 12, 31)])
def test_a_transfer_dated_on_or_before_the_current_period_start_is_refused(tree, member_a, on_date):
    with pytest.raises(ValidationError) as excinfo:
        services.member_transfer(member=member_a, to_branch=tree.branch_b, on_date=on_date)
    assert "on_date" in excinfo.value.message_dict
    [period] = periods(member_a)
    assert period.ended_on is None
    assert Member.objects.get(pk=member_a.pk).branch == tree.branch_a


def test_a_member_who_left_cannot_be_transferred(tree, member_a):
    services.member_leave(member=member_a, on_date=D(2024, 5, 1), reason=Reason.TRANSFER_OUT)
    with pytest.raises(ValidationError):
        services.member_transfer(member=member_a, to_branch=tree.branch_b, on_date=D(2025, 3, 15))
    assert Member.objects.get(pk=member_a.pk).branch == tree.branch_a
    assert [p.ended_on for p in periods(member_a)] == [D(2024, 5, 1)]


# --- member_leave ---------------------------------------------------------------------


def test_leaving_sets_left_on_and_closes_the_period_with_the_reason(tree, member_a, users):
    services.member_leave(
        member=member_a, on_date=D(2025, 4, 10), reason=Reason.DECEASED, note="病故", user=users.secretary
    )
    stored = Member.objects.get(pk=member_a.pk)
    assert stored.left_on == D(2025, 4, 10)
    assert not stored.is_active
    [period] = periods(member_a)
    assert (period.ended_on, period.end_reason, period.note) == (D(2025, 4, 10), Reason.DECEASED, "病故")


def test_leaving_ends_all_open_roles(tree, member_a):
    services.member_role_assign(member=member_a, unit=tree.branch_a, role=RoleKind.SECRETARY, started_on=D(2022, 1, 1))
    services.member_role_assign(
        member=member_a, unit=tree.group_a1, role=RoleKind.GROUP_LEADER, started_on=D(2022, 1, 1)
    )
    services.member_leave(member=member_a, on_date=D(2025, 4, 10), reason=Reason.TRANSFER_OUT)
    assert set(MemberRole.objects.filter(member=member_a).values_list("ended_on", flat=True)) == {D(2025, 4, 10)}


@pytest.mark.parametrize("reason", [Reason.TRANSFER, Reason.GROUP_CHANGE])
def test_leaving_with_a_placement_reason_is_refused(tree, member_a, reason):
    with pytest.raises(ValidationError) as excinfo:
        services.member_leave(member=member_a, on_date=D(2025, 4, 10), reason=reason)
    assert "reason" in excinfo.value.message_dict
    assert Member.objects.get(pk=member_a.pk).left_on is None
    assert open_period(member_a).end_reason == ""


def test_leaving_deletes_nothing_and_keeps_the_earlier_history(tree, member_a):
    services.member_transfer(member=member_a, to_branch=tree.branch_b, on_date=D(2024, 3, 1))
    services.member_leave(member=member_a, on_date=D(2025, 4, 10), reason=Reason.EXPELLED)

    assert Member.objects.filter(pk=member_a.pk).exists()
    history = [(p.branch_id, p.started_on, p.ended_on, p.end_reason) for p in periods(member_a)]
    assert history == [
        (tree.branch_a.pk, D(2020, 1, 1), D(2024, 3, 1), Reason.TRANSFER),
        (tree.branch_b.pk, D(2024, 3, 1), D(2025, 4, 10), Reason.EXPELLED),
    ]


def test_a_member_cannot_leave_twice(tree, member_a):
    services.member_leave(member=member_a, on_date=D(2025, 4, 10), reason=Reason.OTHER)
    with pytest.raises(ValidationError):
        services.member_leave(member=member_a, on_date=D(2025, 5, 10), reason=Reason.OTHER)
    assert Member.objects.get(pk=member_a.pk).left_on == D(2025, 4, 10)


def test_leaving_on_or_before_the_current_period_start_is_refused(tree, member_a):
    with pytest.raises(ValidationError):
        services.member_leave(member=member_a, on_date=D(2020, 1, 1), reason=Reason.OTHER)
    assert Member.objects.get(pk=member_a.pk).left_on is None


def test_leaving_before_a_role_began_is_refused_cleanly_not_with_a_database_error(tree, member_a):
    """A role recorded to start later than the leaving date must not make the service
    crash with an IntegrityError (memberrole_ends_after_start); either it refuses with a
    ValidationError or it ends the role without ending it before it began."""
    role = services.member_role_assign(
        member=member_a, unit=tree.branch_a, role=RoleKind.ORGANISATION, started_on=D(2025, 5, 1)
    )
    try:
        services.member_leave(member=member_a, on_date=D(2025, 4, 10), reason=Reason.DECEASED)
    except ValidationError:
        assert Member.objects.get(pk=member_a.pk).left_on is None
    else:
        role.refresh_from_db()
        assert role.ended_on is not None
        assert role.ended_on >= role.started_on


def test_a_transfer_dated_before_a_role_began_is_refused_cleanly_not_with_a_database_error(tree, member_a):
    """Same as above for a transfer: ending the old branch's roles must not trip
    memberrole_ends_after_start."""
    role = services.member_role_assign(
        member=member_a, unit=tree.branch_a, role=RoleKind.ORGANISATION, started_on=D(2025, 5, 1)
    )
    try:
        services.member_transfer(member=member_a, to_branch=tree.branch_b, on_date=D(2025, 4, 10))
    except ValidationError:
        assert Member.objects.get(pk=member_a.pk).branch == tree.branch_a
    else:
        role.refresh_from_db()
        assert role.ended_on is not None
        assert role.ended_on >= role.started_on


# --- member_update --------------------------------------------------------------------


def update_data(member: Member, **changes) -> dict:
    data = {
        field: getattr(member, field)
        for field in (
            "name",
            "gender",
            "birth_date",
            "employee_no",
            "status",
            "joined_on",
            "group",
            "converted_on",
            "phone",
            "ethnicity",
            "post",
        )
    }
    return {**data, **changes}


def test_member_update_changes_own_data_without_touching_the_history(tree, member_a):
    with at_noon(TODAY):
        services.member_update(
            member=member_a, **update_data(member_a, name="王建军", post="班长", phone="13800000000")
        )
    stored = Member.objects.get(pk=member_a.pk)
    assert (stored.name, stored.post, stored.phone) == ("王建军", "班长", "13800000000")
    assert len(periods(member_a)) == 1


def test_changing_the_group_closes_the_period_today_and_opens_a_new_one(tree, member_a, users):
    with at_noon(TODAY):
        services.member_update(member=member_a, user=users.secretary, **update_data(member_a, group=tree.group_a2))

    old, new = periods(member_a)
    assert (old.group, old.ended_on, old.end_reason) == (tree.group_a1, TODAY, Reason.GROUP_CHANGE)
    assert (new.branch, new.group, new.started_on, new.ended_on, new.recorded_by) == (
        tree.branch_a,
        tree.group_a2,
        TODAY,
        None,
        users.secretary,
    )
    assert Member.objects.get(pk=member_a.pk).group == tree.group_a2


def test_changing_the_group_ends_a_group_leader_role_in_the_old_group(tree, member_a):
    leader = services.member_role_assign(
        member=member_a, unit=tree.group_a1, role=RoleKind.GROUP_LEADER, started_on=D(2022, 1, 1)
    )
    secretary = services.member_role_assign(
        member=member_a, unit=tree.branch_a, role=RoleKind.SECRETARY, started_on=D(2022, 1, 1)
    )
    with at_noon(TODAY):
        services.member_update(member=member_a, **update_data(member_a, group=tree.group_a2))
    leader.refresh_from_db()
    secretary.refresh_from_db()
    assert leader.ended_on == TODAY
    assert secretary.ended_on is None


def test_a_second_group_change_on_the_same_day_corrects_todays_period(tree, member_a):
    with at_noon(TODAY):
        services.member_update(member=member_a, **update_data(member_a, group=tree.group_a2))
        member = Member.objects.get(pk=member_a.pk)
        services.member_update(member=member, **update_data(member, group=None))

    old, current = periods(member_a)
    assert (old.group, old.started_on, old.ended_on) == (tree.group_a1, D(2020, 1, 1), TODAY)
    assert (current.group, current.started_on, current.ended_on) == (None, TODAY, None)
    assert Member.objects.get(pk=member_a.pk).group is None


def test_a_group_change_on_the_day_of_a_transfer_corrects_the_new_period(tree, member_a):
    group_b1 = f.group(tree.branch_b, code="B1")
    services.member_transfer(member=member_a, to_branch=tree.branch_b, on_date=TODAY)
    with at_noon(TODAY):
        member = Member.objects.get(pk=member_a.pk)
        services.member_update(member=member, **update_data(member, group=group_b1))

    history = [(p.branch, p.group, p.started_on, p.ended_on) for p in periods(member_a)]
    assert history == [
        (tree.branch_a, tree.group_a1, D(2020, 1, 1), TODAY),
        (tree.branch_b, group_b1, TODAY, None),
    ]


def test_a_member_who_left_cannot_be_edited(tree, member_a):
    services.member_leave(member=member_a, on_date=D(2025, 4, 10), reason=Reason.OTHER)
    with at_noon(TODAY), pytest.raises(ValidationError):
        services.member_update(member=member_a, **update_data(member_a, name="改名"))
    assert Member.objects.get(pk=member_a.pk).name == "王建国"


def test_member_update_validates_and_writes_nothing_on_error(tree, member_a, member_x):
    with at_noon(TODAY), pytest.raises(ValidationError) as excinfo:
        services.member_update(
            member=member_a, **update_data(member_a, employee_no=member_x.employee_no, group=tree.group_a2)
        )
    assert "employee_no" in excinfo.value.message_dict
    stored = Member.objects.get(pk=member_a.pk)
    assert (stored.employee_no, stored.group) == (member_a.employee_no, tree.group_a1)
    assert len(periods(member_a)) == 1


# --- roles ----------------------------------------------------------------------------


def test_a_committee_role_needs_the_member_in_that_branch(tree, member_a):
    with pytest.raises(ValidationError) as excinfo:
        services.member_role_assign(member=member_a, unit=tree.branch_b, role=RoleKind.ORGANISATION, started_on=TODAY)
    assert "member" in excinfo.value.message_dict
    role = services.member_role_assign(
        member=member_a, unit=tree.branch_a, role=RoleKind.ORGANISATION, started_on=TODAY
    )
    assert MemberRole.objects.get(pk=role.pk).unit == tree.branch_a


def test_a_committee_role_cannot_be_held_on_a_group(tree, member_a):
    with pytest.raises(ValidationError):
        services.member_role_assign(member=member_a, unit=tree.group_a1, role=RoleKind.SECRETARY, started_on=TODAY)
    assert not MemberRole.objects.exists()


def test_a_group_leader_needs_the_member_in_that_group(tree, member_a):
    with pytest.raises(ValidationError) as excinfo:
        services.member_role_assign(member=member_a, unit=tree.group_a2, role=RoleKind.GROUP_LEADER, started_on=TODAY)
    assert "member" in excinfo.value.message_dict
    with pytest.raises(ValidationError):
        services.member_role_assign(member=member_a, unit=tree.branch_a, role=RoleKind.GROUP_LEADER, started_on=TODAY)
    role = services.member_role_assign(
        member=member_a, unit=tree.group_a1, role=RoleKind.GROUP_LEADER, started_on=TODAY
    )
    assert MemberRole.objects.filter(unit=tree.group_a1, ended_on__isnull=True).get() == role


def test_a_second_sitting_secretary_in_a_branch_is_refused_with_a_validation_error(tree, member_a):
    other = f.MemberFactory(branch=tree.branch_a)
    first = services.member_role_assign(
        member=member_a, unit=tree.branch_a, role=RoleKind.SECRETARY, started_on=D(2023, 1, 1)
    )
    with pytest.raises(ValidationError) as excinfo:
        services.member_role_assign(member=other, unit=tree.branch_a, role=RoleKind.SECRETARY, started_on=TODAY)
    assert "role" in excinfo.value.message_dict
    assert list(MemberRole.objects.filter(unit=tree.branch_a, role=RoleKind.SECRETARY)) == [first]


def test_a_second_group_leader_in_a_group_is_refused(tree, member_a):
    other = f.MemberFactory(branch=tree.branch_a, group=tree.group_a1)
    services.member_role_assign(member=member_a, unit=tree.group_a1, role=RoleKind.GROUP_LEADER, started_on=TODAY)
    with pytest.raises(ValidationError):
        services.member_role_assign(member=other, unit=tree.group_a1, role=RoleKind.GROUP_LEADER, started_on=TODAY)
    assert MemberRole.objects.filter(unit=tree.group_a1).count() == 1


def test_secretaries_of_different_branches_do_not_clash(tree, member_a, member_x):
    services.member_role_assign(member=member_a, unit=tree.branch_a, role=RoleKind.SECRETARY, started_on=TODAY)
    services.member_role_assign(member=member_x, unit=tree.branch_x, role=RoleKind.SECRETARY, started_on=TODAY)
    assert MemberRole.objects.filter(role=RoleKind.SECRETARY, ended_on__isnull=True).count() == 2


def test_a_branch_may_have_several_ordinary_committee_members(tree, member_a):
    other = f.MemberFactory(branch=tree.branch_a)
    services.member_role_assign(member=member_a, unit=tree.branch_a, role=RoleKind.COMMITTEE_MEMBER, started_on=TODAY)
    services.member_role_assign(member=other, unit=tree.branch_a, role=RoleKind.COMMITTEE_MEMBER, started_on=TODAY)
    assert MemberRole.objects.filter(unit=tree.branch_a, role=RoleKind.COMMITTEE_MEMBER).count() == 2


def test_the_same_member_cannot_hold_the_same_open_role_twice(tree, member_a):
    services.member_role_assign(member=member_a, unit=tree.branch_a, role=RoleKind.PROPAGANDA, started_on=TODAY)
    with pytest.raises(ValidationError):
        services.member_role_assign(member=member_a, unit=tree.branch_a, role=RoleKind.PROPAGANDA, started_on=TODAY)
    assert MemberRole.objects.filter(member=member_a).count() == 1


def test_after_the_secretary_role_ends_a_new_secretary_can_be_assigned(tree, member_a):
    other = f.MemberFactory(branch=tree.branch_a)
    old = services.member_role_assign(
        member=member_a, unit=tree.branch_a, role=RoleKind.SECRETARY, started_on=D(2022, 1, 1)
    )
    services.member_role_end(role=old, ended_on=D(2025, 1, 31))
    new = services.member_role_assign(
        member=other, unit=tree.branch_a, role=RoleKind.SECRETARY, started_on=D(2025, 2, 1)
    )
    secretaries = {r.pk: (r.member_id, r.ended_on) for r in MemberRole.objects.filter(role=RoleKind.SECRETARY)}
    assert secretaries == {old.pk: (member_a.pk, D(2025, 1, 31)), new.pk: (other.pk, None)}


def test_a_member_who_left_cannot_be_given_a_role(tree, member_a):
    services.member_leave(member=member_a, on_date=D(2025, 4, 10), reason=Reason.OTHER)
    member = Member.objects.get(pk=member_a.pk)
    with pytest.raises(ValidationError):
        services.member_role_assign(member=member, unit=tree.branch_a, role=RoleKind.SECRETARY, started_on=TODAY)
    assert not MemberRole.objects.exists()


def test_a_role_cannot_end_before_it_started(tree, member_a):
    role = services.member_role_assign(
        member=member_a, unit=tree.branch_a, role=RoleKind.SECRETARY, started_on=D(2024, 3, 1)
    )
    with pytest.raises(ValidationError) as excinfo:
        services.member_role_end(role=role, ended_on=D(2024, 2, 29))
    assert "ended_on" in excinfo.value.message_dict
    assert MemberRole.objects.get(pk=role.pk).ended_on is None


def test_a_role_may_end_on_the_day_it_started(tree, member_a):
    role = services.member_role_assign(
        member=member_a, unit=tree.branch_a, role=RoleKind.SECRETARY, started_on=D(2024, 3, 1)
    )
    services.member_role_end(role=role, ended_on=D(2024, 3, 1))
    assert MemberRole.objects.get(pk=role.pk).ended_on == D(2024, 3, 1)


def test_a_role_cannot_be_ended_twice(tree, member_a):
    role = services.member_role_assign(
        member=member_a, unit=tree.branch_a, role=RoleKind.SECRETARY, started_on=D(2024, 3, 1)
    )
    services.member_role_end(role=role, ended_on=D(2024, 12, 31))
    with pytest.raises(ValidationError):
        services.member_role_end(role=role, ended_on=D(2025, 1, 31))
    assert MemberRole.objects.get(pk=role.pk).ended_on == D(2024, 12, 31)


# --- honours --------------------------------------------------------------------------


@pytest.mark.parametrize("stars", [1, 3, 5])
def test_a_model_post_carries_one_to_five_stars(tree, member_a, stars):
    honour = services.member_honour_award(
        member=member_a, kind=HonourKind.MODEL_POST, awarded_on=TODAY, title="连铸示范岗", stars=stars
    )
    stored = MemberHonour.objects.get(pk=honour.pk)
    assert (stored.kind, stored.stars, stored.title) == (HonourKind.MODEL_POST, stars, "连铸示范岗")


@pytest.mark.parametrize("stars", [0, 6, -1])
def test_stars_outside_one_to_five_are_refused(tree, member_a, stars):
    with pytest.raises(ValidationError) as excinfo:
        services.member_honour_award(member=member_a, kind=HonourKind.MODEL_POST, awarded_on=TODAY, stars=stars)
    assert "stars" in excinfo.value.message_dict
    assert not MemberHonour.objects.exists()


@pytest.mark.parametrize("kind", [HonourKind.MODEL_POST, HonourKind.RESPONSIBILITY_AREA])
def test_a_model_post_or_responsibility_area_without_stars_is_refused(tree, member_a, kind):
    with pytest.raises(ValidationError) as excinfo:
        services.member_honour_award(member=member_a, kind=kind, awarded_on=TODAY)
    assert "stars" in excinfo.value.message_dict
    assert not MemberHonour.objects.exists()


def test_a_shock_team_membership_needs_no_stars(tree, member_a, users):
    honour = services.member_honour_award(
        member=member_a, kind=HonourKind.SHOCK_TEAM, awarded_on=TODAY, user=users.secretary
    )
    stored = MemberHonour.objects.get(pk=honour.pk)
    assert (stored.stars, stored.recorded_by) == (None, users.secretary)


def test_revoking_an_honour_keeps_the_row_with_date_and_reason(tree, member_a):
    honour = services.member_honour_award(
        member=member_a, kind=HonourKind.MODEL_POST, awarded_on=D(2024, 1, 1), stars=2
    )
    services.member_honour_revoke(honour=honour, revoked_on=D(2025, 2, 1), reason="  安全事故  ")
    stored = MemberHonour.objects.get(pk=honour.pk)
    assert (stored.revoked_on, stored.revoked_reason, stored.stars) == (D(2025, 2, 1), "安全事故", 2)
    assert not stored.is_active


@pytest.mark.parametrize("reason", ["", "  "])
def test_revoking_an_honour_without_a_reason_is_refused(tree, member_a, reason):
    honour = services.member_honour_award(
        member=member_a, kind=HonourKind.MODEL_POST, awarded_on=D(2024, 1, 1), stars=2
    )
    with pytest.raises(ValidationError) as excinfo:
        services.member_honour_revoke(honour=honour, revoked_on=D(2025, 2, 1), reason=reason)
    assert "reason" in excinfo.value.message_dict
    assert MemberHonour.objects.get(pk=honour.pk).revoked_on is None


def test_an_honour_cannot_be_revoked_twice_or_before_it_was_awarded(tree, member_a):
    honour = services.member_honour_award(
        member=member_a, kind=HonourKind.MODEL_POST, awarded_on=D(2024, 1, 1), stars=2
    )
    with pytest.raises(ValidationError):
        services.member_honour_revoke(honour=honour, revoked_on=D(2023, 12, 31), reason="太早")
    services.member_honour_revoke(honour=honour, revoked_on=D(2025, 2, 1), reason="第一次")
    with pytest.raises(ValidationError):
        services.member_honour_revoke(honour=honour, revoked_on=D(2025, 3, 1), reason="第二次")
    stored = MemberHonour.objects.get(pk=honour.pk)
    assert (stored.revoked_on, stored.revoked_reason) == (D(2025, 2, 1), "第一次")
