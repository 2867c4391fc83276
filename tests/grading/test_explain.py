"""Every number on the board explains itself: a month graded by the real engine from
activities, attendance and committee scores, then published, then opened.

PLANT's April 2025 (not a quarter end):

BRANCH_A, groups A1 (m1, m2) and A2 (m3). Required: 支委会, 党小组会 A1, 党小组会 A2,
主题党日 = 4; held: 支委会 (nobody on its list), A1's meeting, 主题党日 = 3 → basics 75.00.
Attendance: A1 meeting m1 present, m2 excused; 主题党日 m1 present, m2 late, m3 absent →
present 2, late 1, absent 1, excused 1, expected 4 → attendance half 100 × 3 ÷ 4 = 75.
Points: m1 2 + 2 = 4, m2 0 + 1 = 1, m3 −2 → mean 3 ÷ 3 = 1.
BRANCH_B (no groups): m4 present at its 主题党日: required 2, held 1 → 50.00; mean 2.
Highest mean 2 (BRANCH_B) → A's points half 100 × 1 ÷ 2 = 50; membership (75 + 50) ÷ 2 = 62.50.
A's entered scores: committee work 80 then 85, production not assessed, other 70:
total = (30 × 75 + 15 × 85 + 20 × 62.5 + 10 × 70) ÷ (30 + 15 + 20 + 10) = 5475 ÷ 75 = 73.00.
"""

import datetime
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from branches.activities import services as activities
from branches.activities.models import Attendance
from branches.grading import boards, services
from branches.grading.models import BranchScore, ScoreInput
from branches.models import RoleBinding

from .. import factories as f
from .test_boards import APRIL, MARCH, draft, publish

pytestmark = pytest.mark.django_db
DAY = datetime.date(2025, 4, 10)


def held(branch, kind, group=None):
    return activities.activity_create(branch=branch, kind=kind, title=kind, date=DAY, group=group, user=None)


def mark(activity, member, status):
    activities.attendance_set(
        attendance=Attendance.objects.get(activity=activity, member=member), status=status, user=None
    )


def enter(branch, user, **scores):
    for dimension, score in scores.items():
        services.score_input_set(
            branch=branch,
            month=APRIL,
            dimension=dimension,
            score=None if score is None else Decimal(score),
            not_assessed=score is None,
            user=user,
        )


@pytest.fixture
def graded(tree, users):
    m1 = f.MemberFactory(branch=tree.branch_a, group=tree.group_a1, name="王一")
    m2 = f.MemberFactory(branch=tree.branch_a, group=tree.group_a1, name="王二")
    m3 = f.MemberFactory(branch=tree.branch_a, group=tree.group_a2, name="王三")
    m4 = f.MemberFactory(branch=tree.branch_b, name="李四")
    held(tree.branch_a, "committee_meeting")
    meeting = held(tree.branch_a, "group_meeting", group=tree.group_a1)
    mark(meeting, m2, "excused")
    day = held(tree.branch_a, "themed_day")
    mark(day, m2, "late")
    mark(day, m3, "absent")
    held(tree.branch_b, "themed_day")
    enter(tree.branch_a, users.committee, committee_work="80", production=None, other="70")
    enter(tree.branch_a, users.admin, committee_work="85")
    enter(tree.branch_b, users.committee, committee_work="60", production="60", other="60")
    run = services.grading_run_request(committee=tree.plant, month=APRIL)
    services.grading_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.state == "succeeded", run.error
    publication = publish(tree.plant, APRIL, user=users.committee)
    return publication, (m1, m2, m3, m4)


def explain_url(tree, branch=None):
    return reverse("grading:explain_branch", args=[tree.plant.pk, 2025, 4, (branch or tree.branch_a).pk])


def test_the_engine_made_the_numbers_the_explanation_explains(tree, graded):
    a = BranchScore.objects.get(branch=tree.branch_a)
    assert (a.required, a.held, a.basics) == (4, 3, Decimal("75.00"))
    assert (a.present, a.late, a.absent, a.excused) == (2, 1, 1, 1)
    assert (a.member_mean, a.max_mean, a.membership) == (Decimal("1.0000"), Decimal("2.0000"), Decimal("62.50"))
    assert (a.committee_work, a.production, a.other, a.total) == (
        Decimal("85.00"),
        None,
        Decimal("70.00"),
        Decimal("73.00"),
    )


def test_the_explanation_shows_required_and_held_with_the_activities(tree, users, graded, login):
    response = login(users.secretary).get(explain_url(tree))
    assert response.status_code == 200
    x = response.context["x"]
    assert (len(x.compliance), x.held_now, x.compliance_changed) == (4, 3, False)
    assert [(item.requirement.kind, item.status, len(item.activities)) for item in x.compliance] == [
        ("committee_meeting", "met", 1),
        ("group_meeting", "met", 1),
        ("group_meeting", "missing", 0),
        ("themed_day", "met", 1),
    ]
    content = response.content.decode()
    assert 'id="basics-formula">100 × 3 ÷ 4 = 75.00<' in content
    assert reverse("activities:compliance_month", args=[tree.branch_a.pk, 2025, 4]) in content


def test_the_explanation_shows_attendance_counts_and_the_means(tree, users, graded, login):
    content = login(users.secretary).get(explain_url(tree)).content.decode()
    for count, value in (("present", 2), ("late", 1), ("absent", 1), ("excused", 1), ("expected", 4)):
        assert f'data-count="{count}">{value}<' in content
    assert 'id="attendance-half">100 × 3 ÷ 4 = 75<' in content
    assert 'id="member-mean">1<' in content
    assert 'id="max-mean">2 <span class="small text-muted">(设备党支部)' in content
    assert 'id="points-half">100 × 1 ÷ 2 = 50<' in content
    assert 'id="membership-formula">(75 + 50) ÷ 2 = 62.50<' in content


def test_the_member_totals_link_to_the_ledger_entries_behind_them(tree, users, graded, login):
    m1, m2, m3, _m4 = graded[1]
    response = login(users.secretary).get(explain_url(tree))
    assert [(m.member.name, m.total, m.stars) for m in response.context["x"].members] == [
        ("王一", Decimal("4.00"), 1),
        ("王二", Decimal("1.00"), 1),
        ("王三", Decimal("-2.00"), 1),
    ]
    content = response.content.decode()
    for member in (m1, m2, m3):
        assert f"{reverse('ledger:entries')}?member={member.pk}&amp;month=2025-04" in content
        assert f"{reverse('ledger:member_ledger', args=[member.pk])}?year=2025" in content
    # The link leads to the entries that add up to the total.
    entries = login(users.secretary).get(reverse("ledger:entries"), {"member": m1.pk, "month": "2025-04"})
    assert entries.status_code == 200 and entries.context["total"] == Decimal("4")


def test_a_secretary_of_another_branch_sees_the_numbers_but_not_the_records(tree, graded, login):
    other = f.user_with_role(RoleBinding.Role.SECRETARY, tree.branch_b, username="secretary_b")
    response = login(other).get(explain_url(tree))
    assert response.status_code == 200 and not response.context["records_visible"]
    content = response.content.decode()
    assert "王一" in content and reverse("ledger:entries") not in content
    assert reverse("activities:compliance_month", args=[tree.branch_a.pk, 2025, 4]) not in content


def test_the_entered_scores_say_who_entered_them_and_when(tree, users, graded, login):
    response = login(users.secretary).get(explain_url(tree))
    lines = {line.dimension: line for line in response.context["x"].entered}
    committee_work = lines["committee_work"]
    assert committee_work.value == Decimal("85.00") and committee_work.input.entered_by == users.admin
    assert [(c.score, c.entered_by.username) for c in committee_work.changes] == [
        (Decimal("85.00"), "admin"),
        (Decimal("80.00"), "committee"),
    ]
    assert lines["production"].value is None and lines["production"].input.not_assessed
    assert lines["other"].input.entered_by == users.committee and not lines["other"].changed_since_run
    content = response.content.decode()
    entered_at = ScoreInput.objects.get(branch=tree.branch_a, dimension="other").entered_at
    assert "committee" in content and "admin" in content
    assert f"{entered_at.astimezone(datetime.UTC):%Y}" in content


def test_the_weighted_total_is_shown_with_its_numbers_and_the_reweighting(tree, users, graded, login):
    response = login(users.secretary).get(explain_url(tree))
    x = response.context["x"]
    assert x.formula.total == Decimal("73.00") == x.score.total
    shares = {line.dimension: share for line, share in x.formula.rows}
    # Each dimension's share of the total is weight × score ÷ Σ(weight × score), not its
    # weight: 30 × 75 = 2250, 15 × 85 = 1275, 20 × 62.5 = 1250 and 10 × 70 = 700 of 5475.
    assert shares == {
        "basics": Decimal("41.10"),
        "committee_work": Decimal("23.29"),
        "production": None,
        "membership": Decimal("22.83"),
        "other": Decimal("12.79"),
    }
    content = response.content.decode()
    assert 'id="total-formula">5475 ÷ 75 = 73.00<' in content and 'id="reweighting"' in content
    version = x.run.rule_version
    assert f"{version.rule_set.get_absolute_url()}?version={version.number}" in content
    # The rule set by its name, the installation's version as "from the start", not 2000-01.
    assert f"{version.rule_set.name}（第{version.number}版，系统启用起）" in content and "2000-01" not in content


def test_the_explanation_charts_the_branchs_last_twelve_published_months(tree, users, graded, login):
    draft(tree.plant, MARCH, {tree.branch_a: "61.5", tree.branch_b: "62"})
    publish(tree.plant, MARCH)
    response = login(users.secretary).get(explain_url(tree))
    content = response.content.decode()
    assert 'data-chart="history"' in content and "vendor/echarts/echarts.min.js" in content
    data = json.loads(content.split('<script id="history-data" type="application/json">')[1].split("</script>")[0])
    # Published months only: no empty slots for the ten months before.
    assert data["months"] == ["2025年3月", "2025年4月"]
    assert data["totals"] == ["61.50", "73.00"] and data["ranks"] == [2, 1]


def test_the_draft_explanation_is_for_committee_staff(tree, users, graded, login):
    enter(tree.branch_a, users.committee, other="90")  # changed after the run: flagged
    response = login(users.committee).get(explain_url(tree), {"draft": "1"})
    assert response.status_code == 200 and response.context["x"].is_draft
    assert 'id="draft-banner"' in response.content.decode()
    other = {line.dimension: line for line in response.context["x"].entered}["other"]
    assert other.value == Decimal("70.00") and other.changed_since_run


def test_a_branch_not_on_the_board_has_no_explanation(tree, users, graded, login):
    client = login(users.committee)
    assert client.get(explain_url(tree, tree.branch_x)).status_code == 404
    late = f.branch(tree.plant, name="新支部")
    assert client.get(explain_url(tree, late)).status_code == 404
    assert (
        client.get(reverse("grading:explain_branch", args=[tree.plant.pk, 2025, 5, tree.branch_a.pk])).status_code
        == 404
    )


def test_the_explanation_reads_a_fixed_number_of_queries(tree, graded):
    # The row, the highest mean, the first tracked month, the graded version's
    # requirements, groups and activities (compliance), member totals, the version's
    # scored items, the entered scores and their history.
    source = boards.board_source(tree.plant, APRIL)
    with CaptureQueriesContext(connection) as ctx:
        explanation = boards.branch_explanation(source, tree.branch_a)
        [str(change.entered_by) for line in explanation.entered for change in line.changes]
        str(explanation.committee), str(explanation.rule_version)
    assert len(ctx.captured_queries) == 10


def test_a_draft_dimension_nobody_entered_says_so(tree, users, login):
    draft(tree.plant, APRIL, {tree.branch_a: "40", tree.branch_b: "50"})
    response = login(users.committee).get(explain_url(tree), {"draft": "1"})
    assert response.status_code == 200
    assert [line.input for line in response.context["x"].entered] == [None, None, None]
    assert response.content.decode().count('class="mb-0 text-danger not-entered"') == 3
