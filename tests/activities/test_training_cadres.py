"""Branch secretaries and committee members (支委) owe the version's cadre training hours
(default 56, seed 001's 轮训), everyone else the yearly hours (default 40); both are
pro-rated by the tracked months. The clock stands at 20 November 2025."""

import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from branches.activities import services
from branches.activities.compliance import branch_training_report, committee_training_summary
from branches.services import committee_tracking_set
from members.ledger.models import RuleSet, RuleSetVersion
from members.services import member_role_assign, member_role_end

from .. import factories as f

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(datetime.datetime(2025, 11, 20, 10, 0))


@pytest.fixture
def people(tree):
    """Branch A: 书记 (secretary since 2024), 委员 (organisation member until March
    2025), 前委员 (a committee member whose role ended in 2024), 组长 (a group leader,
    not on the branch committee) and 党员. Everyone attended 44 class hours in 2025."""
    people = {
        name: f.MemberFactory(branch=tree.branch_a, group=tree.group_a1, name=name, employee_no=f"A00{i}")
        for i, name in enumerate(["书记", "委员", "前委员", "组长", "党员"])
    }
    member_role_assign(member=people["书记"], unit=tree.branch_a, role="secretary", started_on=D(2024, 1, 1))
    role = member_role_assign(member=people["委员"], unit=tree.branch_a, role="organisation", started_on=D(2024, 1, 1))
    member_role_end(role=role, ended_on=D(2025, 3, 31))
    role = member_role_assign(
        member=people["前委员"], unit=tree.branch_a, role="committee_member", started_on=D(2023, 1, 1)
    )
    member_role_end(role=role, ended_on=D(2024, 12, 31))
    member_role_assign(member=people["组长"], unit=tree.group_a1, role="group_leader", started_on=D(2024, 1, 1))
    for day in (D(2025, 3, 5), D(2025, 6, 5)):
        services.activity_create(
            branch=tree.branch_a, kind="training", title="学习培训", date=day, class_hours=Decimal("22"), user=None
        )
    return people


def test_a_branch_secretary_owes_56_hours_and_a_member_40(tree, people):
    report = branch_training_report(branch=tree.branch_a, year=2025)
    assert (report.requirement, report.cadre_requirement, report.cadres) == (Decimal("40"), Decimal("56"), 2)
    rows = {row.member.name: (row.cadre, row.requirement, row.shortfall) for row in report.rows}
    assert rows == {
        "书记": (True, Decimal("56"), Decimal("12.0")),
        # On the committee until March: a committee member during the year.
        "委员": (True, Decimal("56"), Decimal("12.0")),
        # Their role ended before the year; a group leader is not on the branch committee.
        "前委员": (False, Decimal("40"), Decimal("0")),
        "组长": (False, Decimal("40"), Decimal("0")),
        "党员": (False, Decimal("40"), Decimal("0")),
    }
    assert [row.member.name for row in report.behind] == ["书记", "委员"]
    # 2024: 前委员 sat on the committee then; nobody attended anything.
    last_year = {
        row.member.name: row.requirement for row in branch_training_report(branch=tree.branch_a, year=2024).rows
    }
    assert (last_year["前委员"], last_year["书记"], last_year["党员"]) == (Decimal("56"), Decimal("56"), Decimal("40"))


def test_the_cadre_hours_come_from_the_version_and_are_pro_rated_by_the_tracked_months(tree, people):
    plant_rules = RuleSet.objects.create(committee=tree.plant, name="炼钢厂党委细则")
    RuleSetVersion.objects.create(
        rule_set=plant_rules,
        number=1,
        effective_month=D(2025, 1, 1),
        yearly_training_hours=Decimal("32"),
        cadre_training_hours=Decimal("48"),
    )
    report = branch_training_report(branch=tree.branch_a, year=2025)
    assert (report.requirement, report.cadre_requirement) == (Decimal("32"), Decimal("48"))
    committee_tracking_set(committee=tree.plant, tracked_from=D(2025, 7, 1))
    tree.branch_a.refresh_from_db()
    branch = type(tree.branch_a).objects.get(pk=tree.branch_a.pk)
    report = branch_training_report(branch=branch, year=2025, today=D(2026, 1, 5))
    # Six tracked months: 32 × 6 ÷ 12 and 48 × 6 ÷ 12.
    assert (report.tracked_months, report.requirement, report.cadre_requirement) == (
        6,
        Decimal("16.0"),
        Decimal("24.0"),
    )


def test_the_committee_summary_holds_cadres_to_their_hours(tree, people):
    summary = committee_training_summary(branches=[tree.branch_a, tree.branch_b], year=2025)
    a = summary[tree.branch_a.pk]
    assert (a.requirement, a.cadre_requirement, a.members, a.cadres) == (Decimal("40"), Decimal("56"), 5, 2)
    assert [(r.member.name, r.cadre, r.shortfall) for r in a.behind] == [
        ("书记", True, Decimal("12.0")),
        ("委员", True, Decimal("12.0")),
    ]
    report = branch_training_report(branch=tree.branch_a, year=2025)
    assert [r.member for r in report.behind] == [r.member for r in a.behind]


def test_the_committee_summary_query_count_does_not_grow_with_cadres(tree, people):
    def queries(branches):
        with CaptureQueriesContext(connection) as ctx:
            committee_training_summary(branches=branches, year=2025)
        return len(ctx.captured_queries)

    few = queries([tree.branch_a, tree.branch_b])
    for i in range(6):
        branch = f.branch(tree.plant, code=f"C{i}")
        secretary = f.MemberFactory(branch=branch)
        member_role_assign(member=secretary, unit=branch, role="secretary", started_on=D(2025, 2, 1))
    fresh = list(type(tree.branch_a).objects.filter(kind="branch"))
    assert queries(fresh) == few


def test_the_branch_page_shows_which_requirement_applies_to_whom(tree, users, people, login):
    html = login(users.secretary).get(reverse("activities:training_hours", args=[tree.branch_a.pk])).content.decode()
    assert "支部书记和支委（轮训）：56.0学时。" in html
    rows = dict(re.findall(r'data-member="(\d+)">(.*?)</tr>', html, re.S))
    secretary, member = rows[str(people["书记"].pk)], rows[str(people["党员"].pk)]
    assert "书记/支委" in secretary and '<td class="text-end">56.0</td>' in secretary
    assert "书记/支委" not in member and '<td class="text-end">40.0</td>' in member


def test_the_committee_page_shows_both_requirements_and_marks_the_cadres_behind(tree, users, people, login):
    html = login(users.committee).get(reverse("activities:training_hours", args=[tree.plant.pk])).content.decode()
    row = re.search(rf'data-branch="{tree.branch_a.pk}">(.*?)</tr>', html, re.S).group(1)
    assert '<span class="requirement">40.0</span> / <span class="cadre-requirement">56.0</span>' in row
    behind = re.findall(r'<li class="member-behind" data-member="(\d+)">(.*?)</li>', row, re.S)
    assert [(int(pk), "书记/支委" in text) for pk, text in behind] == [
        (people["书记"].pk, True),
        (people["委员"].pk, True),
    ]
