"""One hand-computed month per rule of PRODUCT.md's appendix (the default rule set).

Every expected number is worked out in the comments from the rule it checks. Default
weights: basics 30, committee work 15, production 25, membership 20, other 10.

Most ranking scenarios use branches with no members and no activities: their basics
and membership are 0, so with the three entered dimensions all set to X the total is
(15X + 25X + 10X) / 100 = X / 2.
"""

import datetime
import itertools
from decimal import Decimal
from fractions import Fraction

import pytest

from branches.activities import services as activities
from branches.activities.models import Attendance
from branches.grading import services
from branches.grading.engine import half_up
from branches.grading.models import BranchScore, MemberScore
from members.ledger.models import Rule
from members.ledger.services import WORKFLOW_SOURCES, ledger_entry_record, ledger_post_source, rule_version_for
from members.services import member_transfer

from .. import factories as f

pytestmark = pytest.mark.django_db
SOURCE_IDS = itertools.count(1)

APRIL = datetime.date(2025, 4, 1)
DAY = datetime.date(2025, 4, 10)


# --- helpers -----------------------------------------------------------------------------


def enter(branch, month=APRIL, **scores):
    """Enter committee scores; ``None`` marks a dimension "not assessed"."""
    for dimension, score in scores.items():
        services.score_input_set(
            branch=branch,
            month=month,
            dimension=dimension,
            score=None if score is None else Decimal(score),
            not_assessed=score is None,
            user=None,
        )


def enter_all(branch, score: str, month=APRIL):
    enter(branch, month, committee_work=score, production=score, other=score)


def grade(committee, month=APRIL) -> dict[int, BranchScore]:
    run = services.grading_run_request(committee=committee, month=month)
    services.grading_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.state == "succeeded", run.error
    return {s.branch_id: s for s in BranchScore.objects.filter(committee=committee, month=month)}


def award(member, code: str, times: int = 1, points: str | None = None, month=APRIL):
    """Record ``times`` entries of rule ``code`` (its fixed points unless given): by hand,
    or, for a rule a record's workflow posts (a suggestion's), as that workflow would."""
    rule = Rule.objects.get(version=rule_version_for(unit=member.branch, month=month), code=code)
    for _ in range(times):
        if rule.source in WORKFLOW_SOURCES:
            ledger_post_source(
                members=[member],
                code=code,
                month=month,
                source=rule.source,
                source_id=next(SOURCE_IDS),
                source_key="test",
                reason="测试",
                user=None,
            )
            continue
        ledger_entry_record(
            member=member,
            rule=rule,
            month=month,
            points=Decimal(points) if points else rule.points_max,
            reason="测试",
            user=None,
        )


def held(branch, kind: str, date=DAY, group=None):
    return activities.activity_create(branch=branch, kind=kind, title=kind, date=date, group=group, user=None)


def mark(activity, member, status: str):
    activities.attendance_set(
        attendance=Attendance.objects.get(activity=activity, member=member), status=status, user=None
    )


def committee_of(*entered: str):
    """A committee whose branches have no members and no activities, with all three
    entered dimensions of branch i set to ``entered[i]``: total = entered / 2."""
    committee = f.committee()
    branches = [f.branch(committee) for _ in entered]
    for branch, score in zip(branches, entered, strict=True):
        enter_all(branch, score)
    return committee, branches


def ranking(committee, branches):
    scores = grade(committee)
    return [(scores[b.pk].total, scores[b.pk].rank, scores[b.pk].bottom_three) for b in branches]


# --- ranking and the bottom three ------------------------------------------------------------


def test_equal_totals_share_a_rank_and_the_next_rank_is_skipped():
    # Totals 80/2, 70/2, 70/2, 60/2 = 40, 35, 35, 30 → ranks 1, 2, 2, 4.
    # Strictly lower: 40 → 3 (not flagged); 35 → 1, 35 → 1, 30 → 0 (flagged).
    committee, branches = committee_of("80", "70", "70", "60")
    assert ranking(committee, branches) == [
        (Decimal("40.00"), 1, False),
        (Decimal("35.00"), 2, True),
        (Decimal("35.00"), 2, True),
        (Decimal("30.00"), 4, True),
    ]


def test_a_tie_just_above_the_line_still_flags_exactly_three():
    # Totals 45, 40, 35, 30, 30, 25 (the appendix's 90, 80, 70, 60, 60, 50 halved).
    # Strictly lower: 45 → 5, 40 → 4, 35 → 3 (not flagged); 30 → 1, 30 → 1, 25 → 0 (flagged).
    committee, branches = committee_of("90", "80", "70", "60", "60", "50")
    assert ranking(committee, branches) == [
        (Decimal("45.00"), 1, False),
        (Decimal("40.00"), 2, False),
        (Decimal("35.00"), 3, False),
        (Decimal("30.00"), 4, True),
        (Decimal("30.00"), 4, True),
        (Decimal("25.00"), 6, True),
    ]


def test_a_tie_straddling_the_line_flags_four():
    # Totals 45, 40, 35, 35, 30, 25. Strictly lower: 45 → 5, 40 → 4 (not flagged);
    # 35 → 2, 35 → 2, 30 → 1, 25 → 0: four branches flagged.
    committee, branches = committee_of("90", "80", "70", "70", "60", "50")
    assert ranking(committee, branches) == [
        (Decimal("45.00"), 1, False),
        (Decimal("40.00"), 2, False),
        (Decimal("35.00"), 3, True),
        (Decimal("35.00"), 3, True),
        (Decimal("30.00"), 5, True),
        (Decimal("25.00"), 6, True),
    ]


@pytest.mark.parametrize("entered", [("80", "70", "60"), ("60", "60", "60"), ("50", "40"), ("70",)])
def test_nobody_is_flagged_where_a_committee_grades_three_branches_or_fewer(entered):
    committee, branches = committee_of(*entered)
    rows = ranking(committee, branches)
    assert [total for total, _rank, _flag in rows] == [Decimal(e) / 2 for e in entered]
    assert not any(flag for _total, _rank, flag in rows)


def test_with_exactly_four_branches_all_but_the_top_one_are_flagged():
    # Totals 40, 35, 30, 25: strictly lower 3, 2, 1, 0 → the last three are flagged.
    committee, branches = committee_of("80", "70", "60", "50")
    assert ranking(committee, branches) == [
        (Decimal("40.00"), 1, False),
        (Decimal("35.00"), 2, True),
        (Decimal("30.00"), 3, True),
        (Decimal("25.00"), 4, True),
    ]


def test_with_four_branches_a_tie_at_the_top_flags_only_those_below_it():
    # Totals 40, 40, 30, 25: the 40s have only two strictly lower, but a branch ranked
    # first is never in the bottom three (PRODUCT.md, rulings): 30 and 25 are flagged.
    committee, branches = committee_of("80", "80", "60", "50")
    assert ranking(committee, branches) == [
        (Decimal("40.00"), 1, False),
        (Decimal("40.00"), 1, False),
        (Decimal("30.00"), 3, True),
        (Decimal("25.00"), 4, True),
    ]


def test_when_every_branch_ties_none_is_flagged():
    committee, branches = committee_of("70", "70", "70", "70", "70")
    assert ranking(committee, branches) == [(Decimal("35.00"), 1, False)] * 5


def test_branches_of_another_committee_do_not_count_towards_the_line():
    # Four branches, but one belongs to a committee below: this committee grades three.
    committee, branches = committee_of("80", "70", "60")
    below = f.committee(parent=committee)
    enter_all(f.branch(below), "10")
    assert ranking(committee, branches) == [
        (Decimal("40.00"), 1, False),
        (Decimal("35.00"), 2, False),
        (Decimal("30.00"), 3, False),
    ]


def test_a_committee_with_no_branches_of_its_own_grades_an_empty_ranking():
    # Its only branch belongs to the committee below: nothing to rank, and the run succeeds.
    committee = f.committee()
    below = f.committee(parent=committee)
    enter_all(f.branch(below), "10")
    assert grade(committee) == {}
    assert not MemberScore.objects.filter(committee=committee).exists()


# --- "not assessed" ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entered", "total"),
    [
        # All assessed: (30×100 + 15×80 + 25×90 + 20×0 + 10×70) / 100 = 7150 / 100 = 71.50.
        ({"committee_work": "80", "production": "90", "other": "70"}, "71.50"),
        # Production not assessed: weights 30+15+20+10 = 75;
        # (30×100 + 15×80 + 20×0 + 10×70) / 75 = 4900 / 75 = 65.333… → 65.33.
        ({"committee_work": "80", "production": None, "other": "70"}, "65.33"),
        # Production and other not assessed: weights 30+15+20 = 65;
        # (30×100 + 15×80 + 20×0) / 65 = 4200 / 65 = 64.615… → 64.62.
        ({"committee_work": "80", "production": None, "other": None}, "64.62"),
        # Nothing entered is assessed: weights 30+20 = 50; (30×100 + 20×0) / 50 = 60.00.
        ({"committee_work": None, "production": None, "other": None}, "60.00"),
    ],
)
def test_a_dimension_not_assessed_shares_its_weight_out_in_proportion(entered, total):
    committee = f.committee()
    branch = f.branch(committee)  # no party groups: two requirements, both held → basics 100
    held(branch, "committee_meeting")
    held(branch, "themed_day")  # no members: nothing expected, no points → membership 0
    enter(branch, **entered)
    score = grade(committee)[branch.pk]
    assert (score.basics, score.membership, score.total) == (Decimal("100.00"), Decimal("0.00"), Decimal(total))
    for dimension, value in entered.items():
        assert getattr(score, dimension) == (None if value is None else Decimal(value))


# --- basics: what is required, and half-up rounding -----------------------------------------------


def test_at_a_quarter_end_the_general_meeting_of_january_counts_and_the_missing_lecture_does_not():
    committee = f.committee()
    branch = f.branch(committee)
    g1, g2 = f.group(branch), f.group(branch)
    f.MemberFactory(branch=branch, group=g1)
    held(branch, "general_meeting", date=datetime.date(2025, 1, 15))  # in the quarter: counts for March
    held(branch, "general_meeting", date=datetime.date(2025, 3, 5))  # met twice, counts once
    held(branch, "party_lecture", date=datetime.date(2024, 12, 20))  # the quarter before: does not count
    march = datetime.date(2025, 3, 1)
    for kind, group in (
        ("committee_meeting", None),
        ("group_meeting", g1),
        ("group_meeting", g2),
        ("themed_day", None),
    ):
        held(branch, kind, date=datetime.date(2025, 3, 12), group=group)
    # March requires 1 committee meeting + 2 group meetings + 1 themed day + 1 general
    # meeting + 1 Party lecture = 6; held 5 (no lecture in Q1): 100 × 5 / 6 = 83.333… → 83.33.
    score = grade(committee, march)[branch.pk]
    assert (score.required, score.held, score.basics) == (6, 5, Decimal("83.33"))
    # February is not a quarter end: 1 + 2 + 1 = 4 required, none held → 0.
    score = grade(committee, datetime.date(2025, 2, 1))[branch.pk]
    assert (score.required, score.held, score.basics) == (4, 0, Decimal("0.00"))


@pytest.mark.parametrize(
    ("groups", "kinds", "basics"),
    [
        (6, ["themed_day"], "12.50"),  # required 1 + 6 + 1 = 8: 100 × 1 / 8 = 12.5 exactly
        (30, ["themed_day"], "3.13"),  # required 32: 100 × 1 / 32 = 3.125 → 3.13 (half-even: 3.12)
        (30, ["themed_day", "committee_meeting"], "6.25"),  # 100 × 2 / 32 = 6.25
        (1, ["themed_day"], "33.33"),  # required 3: 33.333… → 33.33
        (1, ["themed_day", "committee_meeting"], "66.67"),  # 66.666… → 66.67
    ],
)
def test_basics_is_held_over_required_rounded_half_up(groups, kinds, basics):
    committee = f.committee()
    branch = f.branch(committee)
    for _ in range(groups):
        f.group(branch)
    for kind in kinds:
        held(branch, kind)
    score = grade(committee)[branch.pk]
    assert (score.required, score.held, score.basics) == (groups + 2, len(kinds), Decimal(basics))


def test_the_total_is_the_weighted_sum_of_the_rounded_dimensions_rounded_half_up():
    committee = f.committee()
    r, m = f.branch(committee), f.branch(committee)
    f.MemberFactory(branch=r)
    member_m = f.MemberFactory(branch=m)
    held(r, "themed_day")  # R: one of its two requirements → basics 50; R's member present, +2
    award(member_m, "commitment_met", times=6)  # 6 × 5 = 30
    award(member_m, "suggestion_adopted")  # + 2 = 32: M's mean, the highest
    enter(r, committee_work="80", production="90", other="69.99")
    score = grade(committee)[r.pk]
    # R's membership: attendance 100 × 1 / 1 = 100; points 100 × 2 / 32 = 6.25;
    # (100 + 6.25) / 2 = 53.125 → 53.13 (half-up; half-even would give 53.12).
    assert (score.attendance_half, score.points_half) == (Decimal("100.0000"), Decimal("6.2500"))
    assert (score.basics, score.membership) == (Decimal("50.00"), Decimal("53.13"))
    # Total of the rounded dimensions:
    # (30×50 + 15×80 + 25×90 + 20×53.13 + 10×69.99) / 100
    # = (1500 + 1200 + 2250 + 1062.6 + 699.9) / 100 = 6712.5 / 100 = 67.125 → 67.13.
    # (With the unrounded 53.125 it would be 6712.4 / 100 = 67.124 → 67.12.)
    assert score.total == Decimal("67.13")


# --- membership: who counts, the points half, the attendance half ---------------------------------


def test_a_member_transferred_mid_month_counts_for_the_branch_they_belonged_to_at_month_end():
    committee = f.committee()
    a, b = f.branch(committee), f.branch(committee)
    moved, stays_a, leaves_later = f.MemberFactory(branch=a), f.MemberFactory(branch=a), f.MemberFactory(branch=a)
    stays_b = f.MemberFactory(branch=b)
    award(moved, "commitment_met", times=2)  # 10 points, recorded while in A (booked to A)
    award(stays_a, "suggestion_adopted")  # 2
    member_transfer(member=moved, to_branch=b, on_date=datetime.date(2025, 4, 15))
    # Transferred on 1 May: still in A on 30 April.
    member_transfer(member=leaves_later, to_branch=b, on_date=datetime.date(2025, 5, 1))
    scores = grade(committee)
    members = dict(MemberScore.objects.filter(committee=committee, month=APRIL).values_list("member_id", "branch_id"))
    assert members == {moved.pk: b.pk, stays_a.pk: a.pk, leaves_later.pk: a.pk, stays_b.pk: b.pk}
    assert MemberScore.objects.get(member=moved, month=APRIL).total == Decimal("10.00")
    # A: stays_a 2, leaves_later 0 → mean 1. B: moved 10, stays_b 0 → mean 5, the highest.
    # Points halves: A 100 × 1 / 5 = 20, B 100. No activities: attendance halves 0.
    # Membership: A (0 + 20) / 2 = 10.00, B (0 + 100) / 2 = 50.00.
    sa, sb = scores[a.pk], scores[b.pk]
    assert (sa.members, sa.member_mean, sa.points_half, sa.membership) == (
        2,
        Decimal("1.0000"),
        Decimal("20.0000"),
        Decimal("10.00"),
    )
    assert (sb.members, sb.member_mean, sb.max_mean, sb.points_half, sb.membership) == (
        2,
        Decimal("5.0000"),
        Decimal("5.0000"),
        Decimal("100.0000"),
        Decimal("50.00"),
    )


def test_a_negative_member_mean_counts_as_zero_in_the_points_half():
    committee = f.committee()
    negative, positive = f.branch(committee), f.branch(committee)
    award(f.MemberFactory(branch=negative), "deduction", points="-3")  # mean −3
    award(f.MemberFactory(branch=positive), "suggestion_adopted", times=2)  # mean 4, the highest
    scores = grade(committee)
    # Negative: 100 × max(−3, 0) / 4 = 0, not −75. Positive: 100 × 4 / 4 = 100 → membership 50.
    assert (scores[negative.pk].member_mean, scores[negative.pk].points_half, scores[negative.pk].membership) == (
        Decimal("-3.0000"),
        Decimal("0.0000"),
        Decimal("0.00"),
    )
    assert (scores[positive.pk].points_half, scores[positive.pk].membership) == (Decimal("100.0000"), Decimal("50.00"))


def test_the_points_half_is_zero_everywhere_when_no_branch_mean_is_positive():
    committee = f.committee()
    negative, zero = f.branch(committee), f.branch(committee)
    award(f.MemberFactory(branch=negative), "deduction", points="-3")  # mean −3
    member = f.MemberFactory(branch=zero)
    held(zero, "themed_day")  # present: +2, and attendance 100 × 1 / 1 = 100
    award(member, "deduction", points="-2")  # total 0: mean 0
    scores = grade(committee)
    # The highest mean, negatives counting as 0, is 0: both points halves are 0.
    # Zero's membership: (100 + 0) / 2 = 50.00; negative's: (0 + 0) / 2 = 0.00.
    assert {s.max_mean for s in scores.values()} == {Decimal("0.0000")}
    assert (scores[zero.pk].member_mean, scores[zero.pk].points_half, scores[zero.pk].membership) == (
        Decimal("0.0000"),
        Decimal("0.0000"),
        Decimal("50.00"),
    )
    assert (scores[negative.pk].points_half, scores[negative.pk].membership) == (Decimal("0.0000"), Decimal("0.00"))


def test_the_attendance_half_is_zero_when_nothing_was_expected():
    committee = f.committee()
    quiet, busy = f.branch(committee), f.branch(committee)
    for branch in (quiet, busy):
        award(f.MemberFactory(branch=branch), "suggestion_adopted")  # both means 2
    # A committee meeting with no committee members: held, but nobody is expected.
    held(quiet, "committee_meeting")
    held(busy, "themed_day")  # busy's member present: +2 → mean 4
    scores = grade(committee)
    # Quiet: attendance 0 (nothing expected); points 100 × 2 / 4 = 50 → (0 + 50) / 2 = 25.00.
    # Busy: attendance 100 × 1 / 1 = 100; points 100 → 100.00.
    assert (scores[quiet.pk].present, scores[quiet.pk].absent, scores[quiet.pk].excused) == (0, 0, 0)
    assert (scores[quiet.pk].attendance_half, scores[quiet.pk].membership) == (Decimal("0.0000"), Decimal("25.00"))
    assert (scores[busy.pk].attendance_half, scores[busy.pk].membership) == (Decimal("100.0000"), Decimal("100.00"))


def test_excused_members_are_not_expected():
    committee = f.committee()
    branch, excused_only = f.branch(committee), f.branch(committee)
    w, x, y, z = (f.MemberFactory(branch=branch) for _ in range(4))
    day = held(branch, "themed_day")  # w present +2
    mark(day, x, "late")  # +1
    mark(day, y, "excused")  # 0
    mark(day, z, "absent")  # −2
    lone = f.MemberFactory(branch=excused_only)
    mark(held(excused_only, "themed_day"), lone, "excused")  # 0: nobody expected at all
    scores = grade(committee)
    s = scores[branch.pk]
    # Expected = present + late + absent = 3 (excused left out): 100 × (1 + 1) / 3 = 66.6667.
    # Mean (2 + 1 + 0 − 2) / 4 = 0.25, the highest → points 100.
    # Membership (66.666… + 100) / 2 = 83.333… → 83.33.
    assert (s.present, s.late, s.excused, s.absent) == (1, 1, 1, 1)
    assert (s.attendance_half, s.member_mean, s.points_half, s.membership) == (
        Decimal("66.6667"),
        Decimal("0.2500"),
        Decimal("100.0000"),
        Decimal("83.33"),
    )
    # Only excused: nothing expected → attendance 0; mean 0 → points 0.
    e = scores[excused_only.pk]
    assert (e.excused, e.attendance_half, e.membership) == (1, Decimal("0.0000"), Decimal("0.00"))


def test_membership_is_rounded_from_the_exact_value_not_a_truncated_quotient():
    # The case: the best branch has 3 members with 8 points in all (mean 8/3);
    # the other has 6 members with 11 points (mean 11/6) and 0 of 1 expected attendance.
    # Points half 100 × (11/6) ÷ (8/3) = 68.75 exactly; membership (0 + 68.75) / 2 =
    # 34.375 → 34.38 half-up. 28-digit Decimal quotients gave 68.7499… and 34.37.
    committee = f.committee()
    best, other = f.branch(committee), f.branch(committee)
    b1, b2, _b3 = (f.MemberFactory(branch=best) for _ in range(3))
    award(b1, "commitment_met")  # 5
    award(b2, "study_task")  # 3 → 8 in all
    o = [f.MemberFactory(branch=other) for _ in range(6)]
    day = held(other, "themed_day")
    for member in o[1:]:
        mark(day, member, "excused")  # 0 points, not expected
    mark(day, o[0], "absent")  # −2: expected 1, present 0
    award(o[0], "commitment_met", times=2)  # 10
    award(o[1], "study_task")  # 3 → 10 + 3 − 2 = 11 in all
    scores = grade(committee)
    s = scores[other.pk]
    assert (s.members, s.present, s.absent, s.excused) == (6, 0, 1, 5)
    assert (s.member_mean, s.max_mean) == (Decimal("1.8333"), Decimal("2.6667"))
    assert (s.attendance_half, s.points_half) == (Decimal("0.0000"), Decimal("68.7500"))
    assert s.membership == Decimal("34.38")


@pytest.mark.parametrize(
    ("value", "rounded"),
    [
        (Fraction(34375, 1000), Decimal("34.38")),
        (Fraction(-34375, 1000), Decimal("-34.38")),
        (Fraction(1, 3), Decimal("0.33")),
        (Fraction(2, 3), Decimal("0.67")),
        (Fraction(1, 200), Decimal("0.01")),
        (Fraction(1, 201), Decimal("0.00")),
        (Fraction(0), Decimal("0.00")),
    ],
)
def test_half_up_rounds_a_fraction_from_its_exact_value(value, rounded):
    assert half_up(value) == rounded
    assert str(half_up(value)) == str(rounded)


# --- member stars ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entries", "total", "stars"),
    [
        ([("commitment_met", 6, None)], "30.00", 5),  # 6 × 5 = 30 ≥ 30
        ([("commitment_met", 5, None), ("suggestion_adopted", 3, None), ("deduction", 1, "-1.01")], "29.99", 4),
        ([("commitment_met", 4, None), ("suggestion_adopted", 2, None)], "24.00", 4),  # 20 + 4 = 24 ≥ 24
        ([("commitment_met", 3, None), ("suggestion_adopted", 4, None)], "23.00", 3),  # 15 + 8 = 23
        ([("commitment_met", 3, None), ("study_task", 1, None)], "18.00", 3),  # 15 + 3 = 18 ≥ 18
        ([("commitment_met", 3, None), ("suggestion_adopted", 1, None)], "17.00", 2),  # 15 + 2 = 17
        ([("commitment_met", 2, None), ("suggestion_adopted", 1, None)], "12.00", 2),  # 10 + 2 = 12 ≥ 12
        ([("commitment_met", 1, None), ("suggestion_adopted", 3, None)], "11.00", 1),  # 5 + 6 = 11
        ([], "0.00", 1),
        ([("deduction", 1, "-3")], "-3.00", 1),
    ],
)
def test_member_stars_follow_the_month_bands(entries, total, stars):
    committee = f.committee()
    member = f.MemberFactory(branch=f.branch(committee))
    for code, times, points in entries:
        award(member, code, times=times, points=points)
    grade(committee)
    score = MemberScore.objects.get(member=member, month=APRIL)
    assert (score.total, score.stars) == (Decimal(total), stars)
