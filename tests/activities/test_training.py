"""Training hours (学时): what counts, for which year, against which requirement."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from branches.activities import services
from branches.activities.compliance import (
    branch_training_report,
    committee_training_summary,
    member_training_hours,
)
from branches.activities.models import Attendance
from members.ledger.models import RuleSet, RuleSetVersion
from members.ledger.services import rule_version_for, rule_versions_for
from members.models import Member
from members.services import member_leave, member_transfer

from .. import factories as f

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(datetime.datetime(2025, 11, 20, 10, 0))


@pytest.fixture
def people(tree):
    return [f.MemberFactory(branch=tree.branch_a, group=tree.group_a1, name=f"党员{i}") for i in range(4)]


def training(branch, day, hours, *, kind="training", statuses=None):
    """Log an activity with class hours; ``statuses`` maps members to their attendance."""
    activity = services.activity_create(
        branch=branch, kind=kind, title="学习培训", date=day, class_hours=Decimal(hours), user=None
    )
    for member, status in (statuses or {}).items():
        attendance = Attendance.objects.get(activity=activity, member=member)
        services.attendance_set(attendance=attendance, status=status, user=None)
    return activity


def hours_of(members, year):
    return member_training_hours(members=Member.objects.filter(pk__in=[m.pk for m in members]), year=year)


def new_version(rule_set, month, hours, number):
    return RuleSetVersion.objects.create(
        rule_set=rule_set, number=number, effective_month=month, yearly_training_hours=Decimal(hours)
    )


def test_present_and_late_count_and_excused_and_absent_do_not(tree, people):
    training(
        tree.branch_a,
        D(2025, 3, 5),
        "3.5",
        statuses={people[1]: "late", people[2]: "excused", people[3]: "absent"},
    )
    training(tree.branch_a, D(2025, 5, 5), "2", kind="party_lecture")
    assert hours_of(people, 2025) == {
        people[0].pk: Decimal("5.5"),
        people[1].pk: Decimal("5.5"),
        people[2].pk: Decimal("2.0"),
        people[3].pk: Decimal("2.0"),
    }


def test_cancelled_activities_and_other_years_do_not_count(tree, people):
    training(tree.branch_a, D(2024, 12, 31), "8")
    training(tree.branch_a, D(2025, 1, 1), "1")
    cancelled = training(tree.branch_a, D(2025, 6, 1), "6")
    services.activity_cancel(activity=cancelled, reason="未举办", user=None)
    assert hours_of(people[:1], 2025) == {people[0].pk: Decimal("1.0")}
    assert hours_of(people[:1], 2024) == {people[0].pk: Decimal("8.0")}
    assert hours_of(people[:1], 2023) == {}


def test_hours_follow_the_member_across_a_transfer(tree, people):
    training(tree.branch_a, D(2025, 2, 1), "4")
    member_transfer(member=people[0], to_branch=tree.branch_b, on_date=D(2025, 4, 1))
    training(tree.branch_b, D(2025, 5, 1), "3")
    assert hours_of(people[:1], 2025) == {people[0].pk: Decimal("7.0")}


def test_the_report_lists_members_behind_first_against_the_default_forty_hours(tree, people):
    training(tree.branch_a, D(2025, 3, 5), "20", statuses={people[2]: "absent", people[3]: "absent"})
    training(tree.branch_a, D(2025, 4, 5), "20", statuses={people[1]: "excused", people[3]: "absent"})
    training(tree.branch_a, D(2025, 5, 5), "4", statuses={people[1]: "absent"})
    report = branch_training_report(branch=tree.branch_a, year=2025)
    assert report.requirement == Decimal("40")
    assert report.on_date == D(2025, 11, 20)
    rows = [(r.member, r.hours, r.shortfall, r.behind) for r in report.rows]
    assert rows == [
        (people[3], Decimal("4.0"), Decimal("36.0"), True),
        (people[1], Decimal("20.0"), Decimal("20.0"), True),
        (people[2], Decimal("24.0"), Decimal("16.0"), True),
        (people[0], Decimal("44.0"), Decimal("0"), False),
    ]
    assert [r.member for r in report.behind] == [people[3], people[1], people[2]]
    assert report.total_hours == Decimal("92.0")


def test_a_past_year_is_judged_on_the_members_at_its_end(tree, people):
    training(tree.branch_a, D(2024, 6, 5), "10")
    member_leave(member=people[0], on_date=D(2024, 9, 1), reason="deceased")
    member_transfer(member=people[1], to_branch=tree.branch_b, on_date=D(2025, 2, 1))
    newcomer = f.MemberFactory(branch=tree.branch_a, period=D(2025, 1, 15))
    report = branch_training_report(branch=tree.branch_a, year=2024)
    assert report.on_date == D(2024, 12, 31)
    assert {r.member for r in report.rows} == {people[1], people[2], people[3]}
    assert newcomer in {r.member for r in branch_training_report(branch=tree.branch_a, year=2025).rows}
    assert people[1] not in {r.member for r in branch_training_report(branch=tree.branch_a, year=2025).rows}


def test_the_requirement_comes_from_the_rule_set_version_in_force(tree, people):
    default = RuleSet.objects.get(committee__isnull=True)
    new_version(default, D(2025, 12, 1), "50", number=99)
    # The year in progress uses this month's version; a finished year uses December's.
    assert branch_training_report(branch=tree.branch_a, year=2025).requirement == Decimal("40")
    assert branch_training_report(branch=tree.branch_a, year=2025, today=D(2026, 1, 10)).requirement == Decimal("50")
    assert branch_training_report(branch=tree.branch_a, year=2024, today=D(2026, 1, 10)).requirement == Decimal("40")


def test_a_committees_own_rule_set_sets_its_branches_requirement(tree, people):
    training(tree.branch_a, D(2025, 3, 5), "16")
    training(tree.branch_a, D(2025, 4, 5), "14")
    plant_rules = RuleSet.objects.create(committee=tree.plant, name="炼钢厂党委积分规则")
    new_version(plant_rules, D(2025, 1, 1), "24", number=1)
    report = branch_training_report(branch=tree.branch_a, year=2025)
    assert report.requirement == Decimal("24")
    assert report.behind == []
    assert branch_training_report(branch=tree.branch_x, year=2025).requirement == Decimal("40")
    # Before the committee's own rules begin, the default rules (40 hours) apply.
    assert branch_training_report(branch=tree.branch_a, year=2024, today=D(2025, 11, 20)).requirement == Decimal("40")


def test_the_bulk_rule_versions_agree_with_rule_version_for(tree):
    plant_rules = RuleSet.objects.create(committee=tree.plant, name="炼钢厂党委积分规则")
    new_version(plant_rules, D(2025, 1, 1), "24", number=1)
    new_version(plant_rules, D(2025, 7, 1), "30", number=2)
    deep = f.branch(f.committee(name="车间党委", code="WS", parent=tree.plant), code="WS1")
    units = [tree.branch_a, tree.branch_b, tree.branch_x, deep, tree.plant, tree.root]
    for month in (D(2025, 3, 1), D(2025, 8, 1)):
        bulk = rule_versions_for(units=units, month=month)
        assert bulk == {unit.pk: rule_version_for(unit=unit, month=month) for unit in units}
    # Before the committee's own rules begin, the default rule set's version applies.
    default = RuleSetVersion.objects.get(rule_set__committee__isnull=True, number=1)
    assert rule_versions_for(units=[tree.branch_a], month=D(2024, 12, 1)) == {tree.branch_a.pk: default}


def test_the_committee_summary_counts_members_behind_per_branch(tree, people):
    b_people = [f.MemberFactory(branch=tree.branch_b, name=f"设备{i}") for i in range(2)]
    training(tree.branch_a, D(2025, 3, 5), "24", statuses={people[0]: "absent"})
    training(tree.branch_a, D(2025, 4, 5), "16", statuses={people[0]: "absent", people[1]: "absent"})
    training(tree.branch_b, D(2025, 4, 5), "12", kind="party_lecture")
    plant_rules = RuleSet.objects.create(committee=tree.plant, name="炼钢厂党委积分规则")
    new_version(plant_rules, D(2025, 1, 1), "30", number=1)
    empty = f.branch(tree.plant, code="EMPTY")
    summary = committee_training_summary(branches=[tree.branch_a, tree.branch_b, empty], year=2025)
    a, b = summary[tree.branch_a.pk], summary[tree.branch_b.pk]
    assert (a.requirement, a.members, a.total_hours, a.behind_count) == (Decimal("30"), 4, Decimal("104.0"), 2)
    assert [(r.member, r.hours) for r in a.behind] == [(people[0], Decimal("0")), (people[1], Decimal("24.0"))]
    assert (b.members, b.total_hours, {r.member for r in b.behind}) == (2, Decimal("24.0"), set(b_people))
    assert (summary[empty.pk].members, summary[empty.pk].behind) == (0, [])
    # The same numbers as each branch's own report.
    for branch in (tree.branch_a, tree.branch_b):
        report = branch_training_report(branch=branch, year=2025)
        assert [r.member for r in report.behind] == [r.member for r in summary[branch.pk].behind]
        assert report.total_hours == summary[branch.pk].total_hours


def test_the_committee_summary_reads_a_fixed_number_of_queries(tree, people):
    def queries(branches):
        with CaptureQueriesContext(connection) as ctx:
            committee_training_summary(branches=branches, year=2025)
        return len(ctx.captured_queries)

    few = queries([tree.branch_a, tree.branch_b, tree.branch_x])
    more = []
    for i in range(22):
        branch = f.branch(tree.plant, code=f"T{i}")
        f.MemberFactory(branch=branch)
        if i % 5 == 0:
            training(branch, D(2025, 2, 2), "3")
        more.append(branch)
    assert queries([tree.branch_a, tree.branch_b, tree.branch_x, *more]) == few
