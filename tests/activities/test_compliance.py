"""三会一课 compliance is computed from the logged activities: monthly and quarterly
requirements, across quarter and year boundaries, with a frozen clock."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from branches.activities import services
from branches.activities.compliance import (
    CellState,
    Status,
    branch_month_compliance,
    branches_under,
    compliance_matrix,
    year_months,
)
from branches.models import OrgUnit

from .. import factories as f

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture(autouse=True)
def clock(time_machine):
    """Late enough that every activity below can be logged (none may be in the future)."""
    time_machine.move_to(datetime.datetime(2026, 6, 15, 10, 0))


def log(branch, kind, day, *, group=None, class_hours=None, title="活动"):
    return services.activity_create(
        branch=branch, kind=kind, title=title, date=day, group=group, class_hours=class_hours, user=None
    )


def statuses(branch, month, today):
    """{(kind, group code or None): status} for a branch's month."""
    return {
        (item.requirement.kind, item.group.code if item.group else None): item.status
        for item in branch_month_compliance(branch=branch, month=month, today=today)
    }


def held_monthly(branch, day, groups=()):
    log(branch, "committee_meeting", day)
    log(branch, "themed_day", day)
    for group in groups:
        log(branch, "group_meeting", day, group=group)


def test_an_ordinary_month_requires_a_committee_meeting_a_themed_day_and_a_meeting_per_group(tree):
    items = branch_month_compliance(branch=tree.branch_a, month=D(2025, 2, 1), today=D(2025, 4, 15))
    assert [(i.requirement.kind, i.group) for i in items] == [
        ("committee_meeting", None),
        ("group_meeting", tree.group_a1),
        ("group_meeting", tree.group_a2),
        ("themed_day", None),
    ]
    assert {i.status for i in items} == {Status.MISSING}


def test_march_requires_the_quarterly_meetings_and_a_general_meeting_held_in_january_meets_it(tree):
    january_meeting = log(tree.branch_b, "general_meeting", D(2025, 1, 10))
    held_monthly(tree.branch_b, D(2025, 3, 5))
    items = branch_month_compliance(branch=tree.branch_b, month=D(2025, 3, 1), today=D(2025, 4, 15))
    by_kind = {item.requirement.kind: item for item in items}
    assert list(by_kind) == ["committee_meeting", "themed_day", "general_meeting", "party_lecture"]
    assert by_kind["general_meeting"].status == Status.MET
    assert by_kind["general_meeting"].activities == [january_meeting]
    assert by_kind["party_lecture"].status == Status.MISSING
    # January and February do not judge the quarter's meetings.
    assert ("general_meeting", None) not in statuses(tree.branch_b, D(2025, 1, 1), D(2025, 4, 15))
    assert ("party_lecture", None) not in statuses(tree.branch_b, D(2025, 2, 1), D(2025, 4, 15))


def test_a_party_lecture_held_in_april_does_not_count_for_the_first_quarter(tree):
    log(tree.branch_b, "party_lecture", D(2025, 4, 2))
    assert statuses(tree.branch_b, D(2025, 3, 1), D(2025, 7, 1))[("party_lecture", None)] == Status.MISSING
    assert statuses(tree.branch_b, D(2025, 6, 1), D(2025, 7, 1))[("party_lecture", None)] == Status.MET


def test_a_party_lecture_held_in_the_last_days_of_a_quarter_counts_for_it(tree):
    log(tree.branch_b, "party_lecture", D(2025, 3, 31))
    log(tree.branch_b, "general_meeting", D(2025, 4, 1))
    march = statuses(tree.branch_b, D(2025, 3, 1), D(2025, 7, 1))
    assert (march[("party_lecture", None)], march[("general_meeting", None)]) == (Status.MET, Status.MISSING)
    june = statuses(tree.branch_b, D(2025, 6, 1), D(2025, 7, 1))
    assert (june[("party_lecture", None)], june[("general_meeting", None)]) == (Status.MISSING, Status.MET)


def test_december_requires_the_fourth_quarter_meetings_and_the_years_own(tree):
    log(tree.branch_b, "general_meeting", D(2025, 10, 20))
    log(tree.branch_b, "party_lecture", D(2025, 12, 2))
    held_monthly(tree.branch_b, D(2025, 12, 10))
    # The default requirements also hold a 组织生活会 and a 民主评议党员 due by December
    # (any time in the year): this branch held one of them in May.
    log(tree.branch_b, "org_life_meeting", D(2025, 5, 6))
    december = statuses(tree.branch_b, D(2025, 12, 1), D(2026, 1, 5))
    assert december == {
        ("committee_meeting", None): Status.MET,
        ("themed_day", None): Status.MET,
        ("general_meeting", None): Status.MET,
        ("party_lecture", None): Status.MET,
        ("org_life_meeting", None): Status.MET,
        ("democratic_review", None): Status.MISSING,
    }
    # The third quarter knows nothing of October's general meeting.
    assert statuses(tree.branch_b, D(2025, 9, 1), D(2026, 1, 5))[("general_meeting", None)] == Status.MISSING


def test_january_of_the_next_year_does_not_see_decembers_activities(tree):
    held_monthly(tree.branch_b, D(2025, 12, 30))
    log(tree.branch_b, "general_meeting", D(2025, 12, 31))
    log(tree.branch_b, "party_lecture", D(2025, 12, 31))
    items = branch_month_compliance(branch=tree.branch_b, month=D(2026, 1, 1), today=D(2026, 2, 1))
    assert [(i.requirement.kind, i.status, i.activities) for i in items] == [
        ("committee_meeting", Status.MISSING, []),
        ("themed_day", Status.MISSING, []),
    ]
    # Nor does the first quarter of the new year.
    march = statuses(tree.branch_b, D(2026, 3, 1), D(2026, 4, 1))
    assert march[("general_meeting", None)] == march[("party_lecture", None)] == Status.MISSING


def test_a_month_in_progress_is_not_yet_due_for_what_is_unmet_and_met_for_what_is_met(tree, time_machine):
    time_machine.move_to(datetime.datetime(2025, 4, 15, 10, 0))
    log(tree.branch_b, "committee_meeting", D(2025, 4, 3))
    # ``today`` defaults to the (frozen) local date.
    assert statuses(tree.branch_b, D(2025, 4, 1), None) == {
        ("committee_meeting", None): Status.MET,
        ("themed_day", None): Status.NOT_DUE,
    }
    # The last day of the month is still in the month; the next day it is due.
    assert statuses(tree.branch_b, D(2025, 4, 1), D(2025, 4, 30))[("themed_day", None)] == Status.NOT_DUE
    assert statuses(tree.branch_b, D(2025, 4, 1), D(2025, 5, 1))[("themed_day", None)] == Status.MISSING
    # A month that has not begun is not due either.
    assert set(statuses(tree.branch_b, D(2025, 5, 1), D(2025, 4, 15)).values()) == {Status.NOT_DUE}


def test_a_quarter_end_month_in_progress_is_not_yet_due(tree, time_machine):
    time_machine.move_to(datetime.datetime(2025, 6, 10, 10, 0))
    log(tree.branch_b, "general_meeting", D(2025, 4, 8))
    assert statuses(tree.branch_b, D(2025, 6, 1), None) == {
        ("committee_meeting", None): Status.NOT_DUE,
        ("themed_day", None): Status.NOT_DUE,
        ("general_meeting", None): Status.MET,
        ("party_lecture", None): Status.NOT_DUE,
    }
    assert statuses(tree.branch_b, D(2025, 6, 1), D(2025, 7, 1))[("party_lecture", None)] == Status.MISSING


def test_cancelled_activities_do_not_count(tree):
    themed_day = log(tree.branch_b, "themed_day", D(2025, 3, 21))
    lecture = log(tree.branch_b, "party_lecture", D(2025, 2, 10), class_hours=Decimal("2"))
    for activity in (themed_day, lecture):
        services.activity_cancel(activity=activity, reason="误录", user=None)
    march = statuses(tree.branch_b, D(2025, 3, 1), D(2025, 4, 15))
    assert march[("themed_day", None)] == march[("party_lecture", None)] == Status.MISSING
    cell = compliance_matrix(branches=[tree.branch_b], months=[D(2025, 3, 1)], today=D(2025, 4, 15))
    assert cell[(tree.branch_b.pk, D(2025, 3, 1))].met == 0


def test_two_group_meetings_of_one_group_count_once_and_a_branch_with_two_groups_needs_both(tree):
    first = log(tree.branch_a, "group_meeting", D(2025, 3, 4), group=tree.group_a1)
    second = log(tree.branch_a, "group_meeting", D(2025, 3, 18), group=tree.group_a1)
    items = branch_month_compliance(branch=tree.branch_a, month=D(2025, 3, 1), today=D(2025, 4, 15))
    groups = [(i.group, i.status, i.activities) for i in items if i.requirement.kind == "group_meeting"]
    assert groups == [(tree.group_a1, Status.MET, [first, second]), (tree.group_a2, Status.MISSING, [])]
    cell = compliance_matrix(branches=[tree.branch_a], months=[D(2025, 3, 1)], today=D(2025, 4, 15))[
        (tree.branch_a.pk, D(2025, 3, 1))
    ]
    # committee, two groups, themed day, general meeting, lecture: one met.
    assert (cell.required, cell.met, cell.missing, cell.state) == (6, 1, 5, CellState.PARTIAL)
    log(tree.branch_a, "group_meeting", D(2025, 3, 20), group=tree.group_a2)
    assert statuses(tree.branch_a, D(2025, 3, 1), D(2025, 4, 15))[("group_meeting", "A2")] == Status.MET


def test_a_group_dissolved_before_the_month_is_not_required_and_one_dissolved_during_it_is(tree):
    OrgUnit.objects.filter(pk=tree.group_a2.pk).update(dissolved_on=D(2025, 2, 15))
    assert ("group_meeting", "A2") not in statuses(tree.branch_a, D(2025, 3, 1), D(2025, 4, 15))
    assert ("group_meeting", "A2") in statuses(tree.branch_a, D(2025, 2, 1), D(2025, 4, 15))
    cells = compliance_matrix(branches=[tree.branch_a], months=year_months(2025), today=D(2025, 4, 15))
    assert cells[(tree.branch_a.pk, D(2025, 2, 1))].required == 4
    assert cells[(tree.branch_a.pk, D(2025, 3, 1))].required == 5


def test_a_group_established_after_the_month_is_not_required(tree):
    late = f.group(tree.branch_b, code="B1", established_on=D(2025, 5, 6))
    assert ("group_meeting", "B1") not in statuses(tree.branch_b, D(2025, 4, 1), D(2025, 6, 15))
    assert statuses(tree.branch_b, D(2025, 5, 1), D(2025, 6, 15))[("group_meeting", "B1")] == Status.MISSING
    log(tree.branch_b, "group_meeting", D(2025, 5, 20), group=late)
    cells = compliance_matrix(branches=[tree.branch_b], months=[D(2025, 4, 1), D(2025, 5, 1)], today=D(2025, 6, 15))
    assert [cells[(tree.branch_b.pk, m)].required for m in (D(2025, 4, 1), D(2025, 5, 1))] == [2, 3]
    assert cells[(tree.branch_b.pk, D(2025, 5, 1))].met == 1


def test_a_branch_has_nothing_required_before_it_was_established(tree):
    young = f.branch(tree.plant, code="YOUNG", established_on=D(2025, 3, 10))
    cells = compliance_matrix(branches=[young], months=year_months(2025), today=D(2025, 6, 15))
    assert cells[(young.pk, D(2025, 2, 1))].state == CellState.NONE
    assert cells[(young.pk, D(2025, 3, 1))].state == CellState.MISSING
    assert branch_month_compliance(branch=young, month=D(2025, 2, 1), today=D(2025, 6, 15)) == []


def test_the_matrix_cells_say_met_missing_partial_and_not_yet_due(tree):
    held_monthly(tree.branch_b, D(2025, 1, 10))
    log(tree.branch_b, "committee_meeting", D(2025, 2, 10))
    held_monthly(tree.branch_b, D(2025, 4, 10))
    cells = compliance_matrix(branches=[tree.branch_b], months=year_months(2025), today=D(2025, 4, 15))
    states = [cells[(tree.branch_b.pk, m)].state for m in year_months(2025)]
    assert states[:5] == [CellState.MET, CellState.PARTIAL, CellState.MISSING, CellState.MET, CellState.NOT_DUE]
    assert set(states[4:]) == {CellState.NOT_DUE}
    march = cells[(tree.branch_b.pk, D(2025, 3, 1))]
    assert (march.required, march.met, march.missing) == (4, 0, 4)
    assert len(march.missing_labels) == 4
    april = cells[(tree.branch_b.pk, D(2025, 4, 1))]
    assert (april.met, april.not_due, april.is_compliant) == (2, 0, True)


def test_the_matrix_agrees_with_the_branch_month_detail(tree):
    for branch, groups in ((tree.branch_a, [tree.group_a1]), (tree.branch_b, []), (tree.branch_x, [tree.group_x1])):
        held_monthly(branch, D(2025, 2, 3), groups)
        log(branch, "party_lecture", D(2025, 2, 20))
        held_monthly(branch, D(2025, 6, 3), groups)
        log(branch, "general_meeting", D(2025, 5, 20))
    services.activity_cancel(activity=log(tree.branch_x, "themed_day", D(2025, 7, 1)), reason="x", user=None)
    today = D(2025, 7, 12)
    branches = [tree.branch_a, tree.branch_b, tree.branch_x]
    cells = compliance_matrix(branches=branches, months=year_months(2025), today=today)
    assert len(cells) == 36
    for branch in branches:
        for month in year_months(2025):
            items = branch_month_compliance(branch=branch, month=month, today=today)
            cell = cells[(branch.pk, month)]
            counted = [sum(1 for i in items if i.status == s) for s in (Status.MET, Status.MISSING, Status.NOT_DUE)]
            assert [cell.met, cell.missing, cell.not_due] == counted, (branch, month)
            assert cell.required == len(items)


def test_the_matrix_reads_six_queries_however_many_branches_and_months(tree):
    # The rule sets, their versions and the versions' requirements; held activities,
    # party groups and the first tracked months of the committees above.
    def queries(branches, months):
        with CaptureQueriesContext(connection) as ctx:
            compliance_matrix(branches=branches, months=months, today=D(2025, 7, 1))
        return len(ctx.captured_queries)

    few = queries([tree.branch_a, tree.branch_b], year_months(2025)[:3])
    many_branches = [f.branch(tree.plant, code=f"M{i}") for i in range(20)]
    for i, branch in enumerate(many_branches[:5]):
        f.group(branch, code=f"MG{i}")
        held_monthly(branch, D(2025, 1, 5 + i))
    assert queries([tree.branch_a, tree.branch_b, *many_branches], year_months(2024) + year_months(2025)) == few == 5


def test_branches_are_listed_under_their_nearest_committee(tree):
    workshop = f.committee(name="车间党委", code="WORKSHOP", parent=tree.plant)
    general = f.UnitFactory(kind="general_branch", parent=tree.plant, name="机关党总支", code="GEN")
    under_general = f.branch(general, name="机关第一党支部", code="GEN1")
    f.branch(workshop, name="车间党支部", code="WS1")
    dissolved = f.branch(tree.plant, code="GONE")
    OrgUnit.objects.filter(pk=dissolved.pk).update(dissolved_on=D(2024, 6, 30))
    entries = branches_under(unit=tree.root, year=2025)
    assert [(e.branch.code, e.committee.code) for e in entries] == [
        # Siblings in tree order (sort order, then name): 机关党总支, 设备, 连铸.
        ("GEN1", "PLANT"),
        ("BRB", "PLANT"),
        ("BRA", "PLANT"),
        ("WS1", "WORKSHOP"),
        ("BRX", "OTHER"),
    ]
    assert "GONE" in [e.branch.code for e in branches_under(unit=tree.plant, year=2024)]
    assert [e.branch for e in branches_under(unit=tree.branch_a, year=2025)] == [tree.branch_a]
    assert under_general in [e.branch for e in branches_under(unit=general, year=2025)]
    assert [e.committee for e in branches_under(unit=workshop, year=2025)] == [workshop]
