"""A first hand-computed month: every number below is worked out in the comments."""

import datetime
from decimal import Decimal

import pytest

from branches.activities import services as activities
from branches.activities.models import Attendance
from branches.grading import services
from branches.grading.models import BranchScore, MemberScore

from .. import factories as f

pytestmark = pytest.mark.django_db
APRIL = datetime.date(2025, 4, 1)
D = datetime.date(2025, 4, 10)


def test_a_two_branch_month_matches_the_hand_computation(users):
    committee = f.committee(code="GC")
    a, b = f.branch(committee, code="GA"), f.branch(committee, code="GB")
    a1 = f.group(a, code="GA1")
    f.group(b, code="GB1"), f.group(b, code="GB2")
    m1, m2 = f.MemberFactory(branch=a, group=a1), f.MemberFactory(branch=a, group=a1)
    m3 = f.MemberFactory(branch=b)
    # A holds all three monthly requirements (committee meeting, its one group, themed day): basics 100.
    activities.activity_create(
        branch=a, kind="committee_meeting", title="支委会", date=D, user=None
    )  # nobody on the committee
    activities.activity_create(
        branch=a, kind="group_meeting", group=a1, title="小组会", date=D, user=None
    )  # m1, m2 present
    day = activities.activity_create(branch=a, kind="themed_day", title="主题党日", date=D, user=None)
    activities.attendance_set(attendance=Attendance.objects.get(activity=day, member=m2), status="absent", user=None)
    # B holds only the themed day of its four requirements: basics 25.
    activities.activity_create(branch=b, kind="themed_day", title="主题党日", date=D, user=None)
    for branch, dims in (
        (a, {"committee_work": "80", "production": "90", "other": "70"}),
        (b, {"committee_work": "60", "production": None, "other": "50"}),
    ):
        for dimension, score in dims.items():
            services.score_input_set(
                branch=branch,
                month=APRIL,
                dimension=dimension,
                score=Decimal(score) if score else None,
                not_assessed=score is None,
                user=users.admin,
            )
    run = services.grading_run_request(committee=committee, month=APRIL)
    services.grading_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.state == "succeeded" and (run.branches_graded, run.members_graded) == (2, 3)

    # Members: m1 +2 +2 = 4, m2 +2 −2 = 0, m3 +2 = 2. Means: A 2, B 2; highest 2.
    totals = dict(MemberScore.objects.values_list("member_id", "total"))
    assert totals == {m1.pk: Decimal("4.00"), m2.pk: Decimal("0.00"), m3.pk: Decimal("2.00")}
    score_a, score_b = BranchScore.objects.get(branch=a), BranchScore.objects.get(branch=b)
    # A: attendance 3 of 4 expected = 75, points 100 → membership 87.50.
    # Total = (30×100 + 15×80 + 25×90 + 20×87.5 + 10×70) / 100 = 89.00.
    assert (score_a.basics, score_a.membership, score_a.total, score_a.rank) == (
        Decimal("100.00"),
        Decimal("87.50"),
        Decimal("89.00"),
        1,
    )
    # B: production not assessed, weights 30+15+20+10 = 75:
    # (30×25 + 15×60 + 20×100 + 10×50) / 75 = 4150 / 75 = 55.333… → 55.33.
    assert (score_b.basics, score_b.membership, score_b.production, score_b.total, score_b.rank) == (
        Decimal("25.00"),
        Decimal("100.00"),
        None,
        Decimal("55.33"),
        2,
    )
    assert not score_a.bottom_three and not score_b.bottom_three
