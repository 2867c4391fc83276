"""Issue 9's scenario, worked by hand: a committee grades April under version 1 of its own
rules and May under a version 2 made in the browser's service — other weights, 班子建设
as scored items, a new rule, a retired rule and a themed day that must be held on the
21st — and both months stay the same when regraded.

Each branch has one member and no party group, so a month requires one 支委会 and one
主题党日 (April and May are not quarter ends, and the yearly meetings are due in
December). The 支委会's attendance list is the sitting branch committee, nobody here, so
only the 主题党日 expects the member.
"""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from branches.activities import services as activities
from branches.activities.models import Attendance
from branches.grading import services
from branches.grading.models import BranchScore, GradingRun
from members.ledger.models import Rule
from members.ledger.rule_services import rule_set_version_create
from members.ledger.services import ledger_entry_record, rule_version_for

from .. import factories as f

pytestmark = pytest.mark.django_db
APRIL, MAY = datetime.date(2025, 4, 1), datetime.date(2025, 5, 1)


def held(branch, kind, day, member=None, status="present"):
    activity = activities.activity_create(branch=branch, kind=kind, title=kind, date=day, user=None)
    if member is not None and status != "present":
        activities.attendance_set(
            attendance=Attendance.objects.get(activity=activity, member=member), status=status, user=None
        )
    return activity


def enter(branch, month, **scores):
    for dimension, score in scores.items():
        services.score_input_set(branch=branch, month=month, dimension=dimension, score=Decimal(score), user=None)


def enter_item(branch, month, item, score):
    services.score_input_set(
        branch=branch, month=month, dimension=item.dimension, score=Decimal(score), user=None, item=item
    )


def grade(committee, month):
    run = services.grading_run_request(committee=committee, month=month)
    services.grading_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.state == GradingRun.State.SUCCEEDED, run.error
    return run, {s.branch_id: s for s in BranchScore.objects.filter(committee=committee, month=month)}


def numbers(scores, branch):
    s = scores[branch.pk]
    return (s.basics, s.committee_work, s.production, s.membership, s.other, s.total)


def test_april_under_version_1_and_may_under_version_2(tree):
    committee = f.committee(name="冶金党委")
    a, b = f.branch(committee, name="甲支部"), f.branch(committee, name="乙支部")
    ma, mb = f.MemberFactory(branch=a), f.MemberFactory(branch=b)
    v1 = rule_set_version_create(rule_set=None, committee=committee, effective_month=APRIL, note="", user=None)

    # April, version 1 (weights 30/15/25/20/10; a themed day on another day counts).
    held(a, "committee_meeting", datetime.date(2025, 4, 10))
    held(a, "themed_day", datetime.date(2025, 4, 18), ma)  # present: +2
    held(b, "themed_day", datetime.date(2025, 4, 21), mb, "absent")  # absent: −2, no 支委会
    enter(a, APRIL, committee_work="80", production="70", other="90")
    enter(b, APRIL, committee_work="60", production="90", other="50")
    april_run, april = grade(committee, APRIL)
    # A: basics 2/2 = 100; attendance 1/1 = 100, mean 2 of the highest 2 → 100: membership 100.
    #    30 + 0.15×80 + 0.25×70 + 0.20×100 + 0.10×90 = 30 + 12 + 17.5 + 20 + 9 = 88.50.
    # B: basics 1/2 = 50; attendance 0/1 = 0, mean −2 counts as 0 → membership 0.
    #    15 + 9 + 22.5 + 0 + 5 = 51.50.
    assert numbers(april, a) == (100, 80, 70, 100, 90, Decimal("88.50"))
    assert numbers(april, b) == (50, 60, 90, 0, 50, Decimal("51.50"))

    # Version 2 from May, made by the service the pages use.
    v2 = rule_set_version_create(
        rule_set=v1.rule_set,
        committee=None,
        effective_month=MAY,
        note="修订考评细则",
        user=None,
        parameters={
            "weight_basics": "20",
            "weight_committee_work": "30",
            "weight_production": "20",
            "themed_day_elsewhere_counts": False,
        },
        score_items=[
            {"dimension": "committee_work", "name": "组织建设", "max_score": "60"},
            {"dimension": "committee_work", "name": "作风建设", "max_score": "40"},
        ],
        rules=[
            {"code": "study_task", "retire": True},
            {
                "category": "exemplary",
                "name": "安全生产责任区无事故",
                "source": "manual",
                "points_min": "3",
                "points_max": "3",
                "monthly_cap": "3",
                "evidence_required": False,
            },
        ],
    )
    assert rule_version_for(unit=a, month=MAY) == v2 and rule_version_for(unit=a, month=APRIL) == v1
    organisation, style = v2.score_items.order_by("sort_order")
    new_rule = Rule.objects.get(version=v2, name="安全生产责任区无事故")

    # May, version 2.
    held(a, "committee_meeting", datetime.date(2025, 5, 8))
    held(a, "themed_day", datetime.date(2025, 5, 18), ma)  # present +2, but not on the 21st
    held(b, "committee_meeting", datetime.date(2025, 5, 9))
    held(b, "themed_day", datetime.date(2025, 5, 21), mb)  # present +2
    ledger_entry_record(member=mb, rule=new_rule, month=MAY, points=Decimal("3"), reason="无事故", user=None)
    retired = Rule.objects.get(version=v1, code="study_task")
    with pytest.raises(ValidationError):  # a rule of version 1 no longer posts in May
        ledger_entry_record(member=ma, rule=retired, month=MAY, points=Decimal("3"), reason="学习", user=None)
    enter_item(a, MAY, organisation, "50")
    enter_item(a, MAY, style, "35")
    enter_item(b, MAY, organisation, "40")
    enter_item(b, MAY, style, "20")
    enter(a, MAY, production="70", other="90")
    enter(b, MAY, production="90", other="50")
    may_run, may = grade(committee, MAY)
    # A: basics 1/2 = 50 (the 18th does not count); attendance 1/1 = 100; mean 2 of B's 5
    #    → points 40: membership (100 + 40) / 2 = 70; 班子建设 50 + 35 = 85.
    #    0.20×50 + 0.30×85 + 0.20×70 + 0.20×70 + 0.10×90 = 10 + 25.5 + 14 + 14 + 9 = 72.50.
    # B: basics 2/2 = 100; attendance 100, mean 5 → 100: membership 100; 班子建设 40 + 20 = 60.
    #    20 + 18 + 18 + 20 + 5 = 81.00.
    assert numbers(may, a) == (50, 85, 70, 70, 90, Decimal("72.50"))
    assert numbers(may, b) == (100, 60, 90, 100, 50, Decimal("81.00"))
    assert (april_run.rule_version, may_run.rule_version) == (v1, v2)
    assert (may[b.pk].rank, may[a.pk].rank) == (1, 2)

    # Both months are stable when regraded.
    _run, april_again = grade(committee, APRIL)
    _run, may_again = grade(committee, MAY)
    assert {k: numbers(april_again, s.branch) for k, s in april_again.items()} == {
        k: numbers(april, s.branch) for k, s in april.items()
    }
    assert {k: numbers(may_again, s.branch) for k, s in may_again.items()} == {
        k: numbers(may, s.branch) for k, s in may.items()
    }
