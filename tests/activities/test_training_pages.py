"""The training-hours pages: a branch's members against the requirement, and a
committee's summary per branch with who is behind. (Outsider 404s for these pages are
in test_compliance_pages.py, with every other URL of the module.)"""

import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from branches.activities import services
from branches.activities.models import Attendance
from members.ledger.models import RuleSet, RuleSetVersion

from .. import factories as f

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(datetime.datetime(2025, 11, 20, 10, 0))


def training(branch, day, hours, *, absent=()):
    activity = services.activity_create(
        branch=branch, kind="training", title="学习培训", date=day, class_hours=Decimal(hours), user=None
    )
    for member in absent:
        attendance = Attendance.objects.get(activity=activity, member=member)
        services.attendance_set(attendance=attendance, status="absent", user=None)
    return activity


def url(unit, **params):
    base = reverse("activities:training_hours", args=[unit.pk])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


@pytest.fixture
def people(tree):
    """A: 张 on track (40 hours), 李 behind (24), 王 behind (0). B: 赵 behind (16)."""
    zhang = f.MemberFactory(branch=tree.branch_a, name="张达标", employee_no="A001")
    li = f.MemberFactory(branch=tree.branch_a, name="李欠缺", employee_no="A002")
    wang = f.MemberFactory(branch=tree.branch_a, name="王缺席", employee_no="A003")
    zhao = f.MemberFactory(branch=tree.branch_b, name="赵设备", employee_no="B001")
    training(tree.branch_a, D(2025, 3, 5), "24", absent=[wang])
    training(tree.branch_a, D(2025, 6, 5), "16", absent=[li, wang])
    training(tree.branch_b, D(2025, 6, 5), "16")
    return {"zhang": zhang, "li": li, "wang": wang, "zhao": zhao}


def member_rows(html):
    """(member id, CSS class) of each row of the branch table, in order."""
    return [(int(pk), cls) for cls, pk in re.findall(r'<tr class="([^"]*)" data-member="(\d+)"', html)]


def test_the_branch_page_lists_members_behind_first_and_highlighted(tree, users, people, client):
    client.force_login(users.secretary)
    response = client.get(url(tree.branch_a))
    assert response.status_code == 200
    rows = member_rows(response.content.decode())
    assert [pk for pk, _cls in rows] == [people["wang"].pk, people["li"].pk, people["zhang"].pk]
    assert ["member-behind" in cls and "table-danger" in cls for _pk, cls in rows] == [True, True, False]
    report = response.context["report"]
    assert report.requirement == Decimal("40")
    assert [(r.hours, r.shortfall) for r in report.rows] == [
        (Decimal("0"), Decimal("40")),
        (Decimal("24.0"), Decimal("16.0")),
        (Decimal("40.0"), Decimal("0")),
    ]


def test_the_branch_page_uses_the_committees_requirement_and_other_years(tree, users, people, client):
    plant_rules = RuleSet.objects.create(committee=tree.plant, name="炼钢厂党委积分规则")
    RuleSetVersion.objects.create(
        rule_set=plant_rules, number=1, effective_month=D(2024, 1, 1), yearly_training_hours=Decimal("20")
    )
    client.force_login(users.committee)
    response = client.get(url(tree.branch_a))
    assert response.context["report"].requirement == Decimal("20")
    assert [cls for _pk, cls in member_rows(response.content.decode())].count("member-on-track") == 2
    last_year = client.get(url(tree.branch_a, year=2024))
    assert last_year.context["year"] == 2024
    assert {r.hours for r in last_year.context["report"].rows} == {Decimal("0")}
    # Next year has not begun: the page shows this year instead.
    assert client.get(url(tree.branch_a, year=2026)).context["year"] == 2025


def test_the_committee_page_summarises_each_branch_and_lists_who_is_behind(tree, users, people, client):
    client.force_login(users.committee)
    response = client.get(url(tree.plant))
    assert response.status_code == 200
    html = response.content.decode()
    row_a = re.search(rf'<tr class="branch-behind" data-branch="{tree.branch_a.pk}">(.*?)</tr>', html, re.S).group(1)
    assert f'href="{url(tree.branch_a)}?year=2025"' in row_a
    assert "<details>" in row_a
    behind = re.findall(r'<li class="member-behind" data-member="(\d+)">', row_a)
    assert [int(pk) for pk in behind] == [people["wang"].pk, people["li"].pk]
    assert people["zhang"].name not in row_a
    summaries = {s.branch: s for _committee, rows in response.context["sections"] for s in rows}
    a, b = summaries[tree.branch_a], summaries[tree.branch_b]
    assert (a.members, a.behind_count, a.total_hours) == (3, 2, Decimal("64.0"))
    assert (b.members, b.behind_count, b.total_hours) == (1, 1, Decimal("16.0"))
    assert people["zhao"].name in html


def test_a_branch_where_everyone_is_on_track_shows_no_list(tree, users, client):
    member = f.MemberFactory(branch=tree.branch_b)
    training(tree.branch_b, D(2025, 2, 5), "20")
    training(tree.branch_b, D(2025, 3, 5), "20")
    client.force_login(users.committee)
    html = client.get(url(tree.plant)).content.decode()
    row_b = re.search(rf'<tr class="branch-on-track" data-branch="{tree.branch_b.pk}">(.*?)</tr>', html, re.S)
    assert row_b and "<details>" not in row_b.group(1)
    assert member.name not in html


def count_queries(client, page_url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(page_url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_committee_page_query_count_does_not_grow_with_branches(tree, users, people, client):
    client.force_login(users.admin)
    few = count_queries(client, url(tree.root))
    for i in range(22):
        branch = f.branch(tree.plant if i % 2 else tree.other, code=f"TP{i}")
        members = [f.MemberFactory(branch=branch) for _ in range(2)]
        if i % 3 == 0:
            training(branch, D(2025, 4, 1), "6", absent=members[:1])
    many = count_queries(client, url(tree.root))
    assert many == few


def test_the_branch_page_query_count_does_not_grow_with_members(tree, users, people, client):
    client.force_login(users.secretary)
    few = count_queries(client, url(tree.branch_a))
    for _ in range(15):
        f.MemberFactory(branch=tree.branch_a)
    training(tree.branch_a, D(2025, 7, 1), "4")
    assert count_queries(client, url(tree.branch_a)) == few
