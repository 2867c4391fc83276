"""Membership history and the reads built on it (``members.selectors``).

The key property: "who belonged to branch X at the end of month M" has an exact answer
forever, because periods are half-open ``[started_on, ended_on)`` and never rewritten.
"""

import datetime

import pytest

from branches import selectors as unit_selectors
from members import selectors, services
from members.models import Member, MemberRole, Membership
from tests import factories as f

D = datetime.date
Reason = Membership.EndReason


def belongs(member, branch, on_date) -> bool:
    return selectors.members_of_branch_at(branch=branch, on_date=on_date).filter(pk=member.pk).exists()


def roster_at(branch, on_date) -> set[int]:
    return set(selectors.members_of_branch_at(branch=branch, on_date=on_date).values_list("pk", flat=True))


# --- members_of_branch_at -------------------------------------------------------------


@pytest.mark.parametrize(
    ("on_date", "in_a", "in_b"),
    [
        (D(2025, 2, 28), True, False),
        (D(2025, 3, 14), True, False),
        (D(2025, 3, 15), False, True),
        (D(2025, 3, 31), False, True),
    ],
)
def test_a_member_transferred_on_the_15th_belongs_to_the_old_branch_until_the_day_before(
    tree, member_a, on_date, in_a, in_b
):
    services.member_transfer(member=member_a, to_branch=tree.branch_b, on_date=D(2025, 3, 15))
    assert belongs(member_a, tree.branch_a, on_date) is in_a
    assert belongs(member_a, tree.branch_b, on_date) is in_b


def test_a_member_belongs_to_exactly_one_branch_on_every_day_around_a_transfer(tree, member_a):
    services.member_transfer(member=member_a, to_branch=tree.branch_b, on_date=D(2025, 3, 15))
    day = D(2025, 3, 1)
    while day <= D(2025, 3, 31):
        assert belongs(member_a, tree.branch_a, day) + belongs(member_a, tree.branch_b, day) == 1, day
        day += datetime.timedelta(days=1)


def test_a_member_does_not_belong_anywhere_before_their_first_period(tree, member_a):
    assert not belongs(member_a, tree.branch_a, D(2019, 12, 31))
    assert belongs(member_a, tree.branch_a, D(2020, 1, 1))


def test_a_member_who_left_on_the_10th_belongs_at_the_previous_month_end_but_not_after(tree, member_a):
    services.member_leave(member=member_a, on_date=D(2025, 4, 10), reason=Reason.TRANSFER_OUT)
    assert belongs(member_a, tree.branch_a, D(2025, 3, 31))
    assert belongs(member_a, tree.branch_a, D(2025, 4, 9))
    assert not belongs(member_a, tree.branch_a, D(2025, 4, 10))
    assert not belongs(member_a, tree.branch_a, D(2025, 4, 30))


def test_a_transfer_on_the_last_day_of_a_month_counts_for_the_new_branch_at_that_month_end(tree, member_a):
    services.member_transfer(member=member_a, to_branch=tree.branch_b, on_date=D(2025, 3, 31))
    assert belongs(member_a, tree.branch_a, D(2025, 3, 30))
    assert not belongs(member_a, tree.branch_a, D(2025, 3, 31))
    assert belongs(member_a, tree.branch_b, D(2025, 3, 31))
    assert not belongs(member_a, tree.branch_b, D(2025, 2, 28))


def test_the_answer_for_a_past_month_end_does_not_change_after_later_moves(tree, member_a, member_x):
    stay = f.MemberFactory(branch=tree.branch_a)
    services.member_transfer(member=member_a, to_branch=tree.branch_b, on_date=D(2025, 3, 15))
    month_ends = [D(2025, 1, 31), D(2025, 2, 28), D(2025, 3, 31)]
    branches = [tree.branch_a, tree.branch_b, tree.branch_x]
    before = {(b.pk, d): roster_at(b, d) for b in branches for d in month_ends}
    assert before[(tree.branch_a.pk, D(2025, 2, 28))] == {member_a.pk, stay.pk}
    assert before[(tree.branch_b.pk, D(2025, 3, 31))] == {member_a.pk}

    # Later history: member_a moves on to X and back to A, stay leaves, member_x comes to A.
    services.member_transfer(member=member_a, to_branch=tree.branch_x, on_date=D(2025, 6, 1))
    services.member_transfer(member=Member.objects.get(pk=member_a.pk), to_branch=tree.branch_a, on_date=D(2025, 9, 1))
    services.member_leave(member=stay, on_date=D(2025, 7, 1), reason=Reason.OTHER)
    services.member_transfer(member=member_x, to_branch=tree.branch_a, on_date=D(2025, 8, 1))

    after = {(b.pk, d): roster_at(b, d) for b in branches for d in month_ends}
    assert after == before
    assert roster_at(tree.branch_a, D(2025, 9, 30)) == {member_a.pk, member_x.pk}


def test_a_member_who_came_back_has_a_gap_in_the_old_branch(tree, member_a):
    services.member_transfer(member=member_a, to_branch=tree.branch_b, on_date=D(2025, 3, 15))
    services.member_transfer(member=Member.objects.get(pk=member_a.pk), to_branch=tree.branch_a, on_date=D(2025, 5, 1))
    assert [belongs(member_a, tree.branch_a, d) for d in (D(2025, 2, 28), D(2025, 4, 30), D(2025, 5, 31))] == [
        True,
        False,
        True,
    ]


def test_member_history_lists_every_period_newest_first(tree, member_a):
    services.member_transfer(member=member_a, to_branch=tree.branch_b, on_date=D(2025, 3, 15))
    history = [(p.branch_id, p.started_on, p.ended_on) for p in selectors.member_history(member=member_a)]
    assert history == [
        (tree.branch_b.pk, D(2025, 3, 15), None),
        (tree.branch_a.pk, D(2020, 1, 1), D(2025, 3, 15)),
    ]


# --- conversions_due ------------------------------------------------------------------


def probationary(branch, joined_on, **kwargs) -> Member:
    return f.MemberFactory(
        branch=branch, status=Member.Status.PROBATIONARY, joined_on=joined_on, converted_on=None, **kwargs
    )


def test_conversions_due_lists_probationary_members_whose_year_ends_within_30_days_or_is_over(tree):
    today = D(2025, 6, 1)
    in_ten_days = probationary(tree.branch_a, D(2024, 6, 11))
    on_day_30 = probationary(tree.branch_a, D(2024, 7, 1))
    probationary(tree.branch_a, D(2024, 7, 2))  # day 31: not yet
    overdue = probationary(tree.branch_b, D(2023, 12, 1))
    due_today = probationary(tree.branch_b, D(2024, 6, 1))
    probationary(tree.branch_a, D(2025, 1, 1))  # half a year to go
    f.MemberFactory(branch=tree.branch_a, joined_on=D(2023, 1, 1), converted_on=D(2024, 1, 1))  # full
    gone = probationary(tree.branch_a, D(2024, 1, 1))
    services.member_leave(member=gone, on_date=D(2025, 2, 1), reason=Reason.TRANSFER_OUT)

    due = selectors.conversions_due(members=Member.objects.all(), today=today)
    assert list(due) == [overdue, due_today, in_ten_days, on_day_30]  # by joining date


def test_conversions_due_only_looks_at_the_members_it_is_given(tree):
    today = D(2025, 6, 1)
    mine = probationary(tree.branch_a, D(2024, 5, 1))
    probationary(tree.branch_x, D(2024, 5, 1))
    due = selectors.conversions_due(members=Member.objects.filter(branch=tree.branch_a), today=today)
    assert list(due) == [mine]


def test_conversions_due_honours_a_custom_window(tree):
    today = D(2025, 6, 1)
    in_60_days = probationary(tree.branch_a, D(2024, 7, 31))
    assert list(selectors.conversions_due(members=Member.objects.all(), today=today)) == []
    assert list(selectors.conversions_due(members=Member.objects.all(), today=today, within_days=60)) == [in_60_days]


def test_a_member_who_joined_on_29_february_is_due_on_28_february_and_listed_in_time(tree):
    """conversion_due_on says 2025-02-28; with a 30-day window that day is inside the
    window from 2025-01-29 on, so the member must be listed then."""
    leap = probationary(tree.branch_a, D(2024, 2, 29))
    assert selectors.conversion_due_on(leap) == D(2025, 2, 28)
    assert list(selectors.conversions_due(members=Member.objects.all(), today=D(2025, 1, 29))) == [leap]
    # On the due day itself with no look-ahead at all, the member is due.
    assert list(selectors.conversions_due(members=Member.objects.all(), today=D(2025, 2, 28), within_days=0)) == [leap]


# --- member_counts --------------------------------------------------------------------


def test_member_counts_gives_per_branch_totals_and_probationary_counts_in_one_query(tree, django_assert_num_queries):
    f.MemberFactory.create_batch(2, branch=tree.branch_a)
    probationary(tree.branch_a, D(2025, 1, 1))
    gone = probationary(tree.branch_a, D(2024, 12, 1))
    services.member_leave(member=gone, on_date=D(2025, 3, 1), reason=Reason.OTHER)
    probationary(tree.branch_b, D(2025, 1, 1))
    f.MemberFactory(branch=tree.branch_x)

    units = unit_selectors.unit_subtree(unit=tree.plant)
    with django_assert_num_queries(1):
        counts = selectors.member_counts(units=units)

    assert {branch_id: (row["total"], row["probationary"]) for branch_id, row in counts.items()} == {
        tree.branch_a.pk: (3, 1),
        tree.branch_b.pk: (1, 1),
    }


def test_member_counts_leaves_out_branches_without_active_members(tree, member_a):
    counts = selectors.member_counts(units=unit_selectors.unit_subtree(unit=tree.root))
    assert set(counts) == {tree.branch_a.pk}
    assert (counts[tree.branch_a.pk]["total"], counts[tree.branch_a.pk]["probationary"]) == (1, 0)


def test_group_member_counts_counts_active_members_per_group(tree, member_a):
    f.MemberFactory(branch=tree.branch_a, group=tree.group_a1)
    f.MemberFactory(branch=tree.branch_a, group=tree.group_a2)
    f.MemberFactory(branch=tree.branch_a, group=None)
    assert selectors.group_member_counts(branch=tree.branch_a) == {tree.group_a1.pk: 2, tree.group_a2.pk: 1}


# --- roster_filter --------------------------------------------------------------------


@pytest.fixture
def roster(tree):
    a1 = f.MemberFactory(branch=tree.branch_a, group=tree.group_a1, name="王建国", employee_no="GS-1001", post="炉长")
    a2 = f.MemberFactory(
        branch=tree.branch_a,
        group=tree.group_a2,
        name="刘芳",
        employee_no="GS-1002",
        post="质检员",
        status=Member.Status.PROBATIONARY,
        joined_on=D(2025, 1, 1),
        converted_on=None,
    )
    b = f.MemberFactory(branch=tree.branch_b, group=None, name="陈刚", employee_no="GS-2001", post="钳工")
    x = f.MemberFactory(branch=tree.branch_x, group=tree.group_x1, name="王丽", employee_no="RZ-3001", post="炉长")
    gone = f.MemberFactory(branch=tree.branch_a, group=None, name="王退", employee_no="GS-1009", post="退休职工")
    services.member_leave(member=gone, on_date=D(2025, 1, 1), reason=Reason.TRANSFER_OUT)
    services.member_role_assign(member=a1, unit=tree.branch_a, role=MemberRole.Role.SECRETARY, started_on=D(2024, 1, 1))
    old = services.member_role_assign(
        member=b, unit=tree.branch_b, role=MemberRole.Role.SECRETARY, started_on=D(2022, 1, 1)
    )
    services.member_role_end(role=old, ended_on=D(2024, 12, 31))
    services.member_role_assign(member=b, unit=tree.branch_b, role=MemberRole.Role.PROPAGANDA, started_on=D(2025, 1, 1))
    return type("Roster", (), {"a1": a1, "a2": a2, "b": b, "x": x, "gone": gone})


def names(members) -> list[str]:
    return [m.name for m in members]


def rf(**kwargs):
    return selectors.roster_filter(members=Member.objects.all(), **kwargs)


def test_roster_without_filters_lists_current_members_grouped_by_branch_then_by_number(tree, roster):
    rows = list(rf())
    assert set(names(rows)) == {"王建国", "刘芳", "陈刚", "王丽"}
    # Sibling branches may come in any order (paths sort as text), but each branch's
    # members are contiguous and ordered by employee number.
    by_branch = [m.branch_id for m in rows]
    assert sorted(by_branch, key=by_branch.index) == by_branch
    assert [m.employee_no for m in rows if m.branch_id == tree.branch_a.pk] == ["GS-1001", "GS-1002"]


def test_roster_q_matches_name_employee_number_or_post(tree, roster):
    assert set(names(rf(q="王"))) == {"王建国", "王丽"}
    assert names(rf(q="gs-100")) == ["王建国", "刘芳"]
    assert set(names(rf(q="炉长"))) == {"王建国", "王丽"}
    assert names(rf(q="不存在")) == []


def test_roster_q_ignores_case_whether_or_not_it_has_letters(tree, roster):
    """Text without case (Chinese, digits) is matched without UPPER(): the same rows."""
    assert names(rf(q="gs-100")) == names(rf(q="GS-100")) == names(rf(q="Gs-100")) == ["王建国", "刘芳"]
    assert names(rf(q="-100")) == ["王建国", "刘芳"]
    assert names(rf(q="3001")) == ["王丽"]
    assert names(rf(q="rz")) == ["王丽"]


def test_roster_branch_filter_on_a_committee_covers_all_its_branches(tree, roster):
    assert set(names(rf(branch=tree.plant))) == {"王建国", "刘芳", "陈刚"}
    assert set(names(rf(branch=tree.root))) == {"王建国", "刘芳", "陈刚", "王丽"}
    assert names(rf(branch=tree.branch_b)) == ["陈刚"]


def test_roster_group_filter(tree, roster):
    assert names(rf(group=tree.group_a2)) == ["刘芳"]
    assert names(rf(group=tree.group_x1)) == ["王丽"]


def test_roster_status_filter(tree, roster):
    assert names(rf(status=Member.Status.PROBATIONARY)) == ["刘芳"]
    assert set(names(rf(status=Member.Status.FULL))) == {"王建国", "陈刚", "王丽"}


def test_roster_role_filter_counts_only_sitting_roles(tree, roster):
    assert names(rf(role=MemberRole.Role.SECRETARY)) == ["王建国"]
    assert names(rf(role=MemberRole.Role.PROPAGANDA)) == ["陈刚"]


def test_roster_includes_members_who_left_only_when_asked(tree, roster):
    assert "王退" not in names(rf())
    assert names(rf(include_left=True, branch=tree.branch_a)) == ["王建国", "刘芳", "王退"]
    assert names(rf(include_left=True, q="退休")) == ["王退"]


def test_roster_filters_combine_and_respect_the_given_scope(tree, roster):
    assert names(rf(q="王", branch=tree.plant)) == ["王建国"]
    scoped = Member.objects.filter(branch=tree.branch_x)
    assert names(selectors.roster_filter(members=scoped, q="炉长")) == ["王丽"]


def test_roster_rows_carry_their_active_roles(tree, roster):
    rows = {m.name: m for m in rf()}
    assert [r.role for r in rows["王建国"].active_roles] == [MemberRole.Role.SECRETARY]
    assert [r.role for r in rows["陈刚"].active_roles] == [MemberRole.Role.PROPAGANDA]
    assert rows["刘芳"].active_roles == []
