"""星级党小组: party groups graded by hand (branches/grading/groups.py's docstring has the rules).

The committee of most tests, April 2025, default version (group weights 50/50, a 党小组会
required of every group every month, bands ★5 90 ★4 80 ★3 70 ★2 60):

    branch P: group P1 (a, b), group P2 (c, d)
    branch Q: group Q1 (e, f, g), group Q2 (nobody), and h, who is in no group

    P1 meets on 10 April: a present (+2), b present (+2); a +5 (commitment), b −5.78
       → totals a 7, b −3.78: sum 3.22, mean 1.61.
    P2 does not meet; c +5 +3 = 8, d 0 → mean 4, the committee's highest group mean.
    Q1 meets: e present (+2), f absent (−2), g excused (0); e +3 (study task)
       → totals 5, −2, 0: sum 3, mean 1. Attended 1 of 2 expected (g is excused).
    Q2 has no members and no meeting. h earns +10: no group's mean.

    P1: points 100 × 1.61 ÷ 4 = 40.25; meetings (100 held + 100 attendance) ÷ 2 = 100;
        score (40.25 + 100) ÷ 2 = 70.125 → 70.13 (half-up; half-even gives 70.12) ★3.
    P2: points 100; meetings (0 + 0) ÷ 2 = 0; score 50.00 ★1.
    Q1: points 25; meetings (100 + 50) ÷ 2 = 75; score 50.00 ★1 — tied with P2.
    Q2: points 0; meetings 0; score 0.00 ★1.
    Ranks: P1 1, P2 2, Q1 2, Q2 4.
"""

import datetime
from decimal import Decimal
from fractions import Fraction
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from branches.grading import groups as group_grading
from branches.grading import publishing
from branches.grading.models import GradingRun, GroupScore, PublishedGroupScore
from branches.models import OrgUnit
from members.ledger.models import MeetingRequirement, RuleSetVersion
from members.ledger.rule_services import rule_set_version_create
from members.models import Membership

from .. import factories as f
from .test_scenarios import APRIL, DAY, award, enter_all, grade, held, mark

pytestmark = pytest.mark.django_db


def build():
    committee = f.committee()
    p, q = f.branch(committee, name="P支部"), f.branch(committee, name="Q支部")
    p1, p2 = f.group(p, name="P1"), f.group(p, name="P2")
    q1, q2 = f.group(q, name="Q1"), f.group(q, name="Q2")
    a, b = f.MemberFactory(branch=p, group=p1), f.MemberFactory(branch=p, group=p1)
    c, d = f.MemberFactory(branch=p, group=p2), f.MemberFactory(branch=p, group=p2)
    e, f_, g = (f.MemberFactory(branch=q, group=q1) for _ in range(3))
    h = f.MemberFactory(branch=q)
    held(p, "group_meeting", group=p1)  # a, b present: +2 each
    award(a, "commitment_met")
    award(b, "deduction", points="-5.78")
    award(c, "commitment_met")
    award(c, "study_task")
    meeting = held(q, "group_meeting", group=q1)
    mark(meeting, f_, "absent")
    mark(meeting, g, "excused")
    award(e, "study_task")
    award(h, "commitment_met", times=2)
    return SimpleNamespace(committee=committee, p=p, q=q, p1=p1, p2=p2, q1=q1, q2=q2, members=[a, b, c, d, e, f_, g, h])


def group_rows(committee, month=APRIL) -> dict[int, GroupScore]:
    return {s.group_id: s for s in GroupScore.objects.filter(committee=committee, month=month)}


def own_version(committee, month=APRIL, **fields) -> RuleSetVersion:
    """The committee's own rule set (version 1 from ``month``), with ``fields`` changed."""
    version = rule_set_version_create(
        rule_set=None,
        committee=committee,
        effective_month=month,
        yearly_training_hours=Decimal("40"),
        note="",
        rules=[],
        user=None,
    )
    for name, value in fields.items():
        setattr(version, name, value)
    version.save()
    return version


# --- the hand-computed month -------------------------------------------------------------


def test_groups_are_graded_with_the_branches_in_the_same_run():
    w = build()
    grade(w.committee)
    rows = group_rows(w.committee)
    assert set(rows) == {w.p1.pk, w.p2.pk, w.q1.pk, w.q2.pk}
    p1, p2, q1, q2 = rows[w.p1.pk], rows[w.p2.pk], rows[w.q1.pk], rows[w.q2.pk]
    run = GradingRun.objects.get(committee=w.committee, month=APRIL)
    assert {r.run_id for r in rows.values()} == {run.pk}
    assert {r.branch_id for r in (p1, p2)} == {w.p.pk} and {r.branch_id for r in (q1, q2)} == {w.q.pk}

    assert (p1.members, p1.member_mean, p1.max_mean, p1.points_part) == (
        2,
        Decimal("1.6100"),
        Decimal("4.0000"),
        Decimal("40.2500"),
    )
    assert (p1.meetings_required, p1.meetings_held, p1.attended, p1.expected, p1.meetings_part) == (
        1,
        1,
        2,
        2,
        Decimal("100.0000"),
    )
    assert (p1.score, p1.stars, p1.rank) == (Decimal("70.13"), 3, 1)

    assert (p2.members, p2.member_mean, p2.points_part) == (2, Decimal("4.0000"), Decimal("100.0000"))
    assert (p2.meetings_required, p2.meetings_held, p2.expected, p2.meetings_part) == (1, 0, 0, Decimal("0.0000"))
    assert (p2.score, p2.stars, p2.rank) == (Decimal("50.00"), 1, 2)

    assert (q1.members, q1.member_mean, q1.points_part) == (3, Decimal("1.0000"), Decimal("25.0000"))
    assert (q1.meetings_held, q1.attended, q1.expected, q1.meetings_part) == (1, 1, 2, Decimal("75.0000"))
    assert (q1.score, q1.stars, q1.rank) == (Decimal("50.00"), 1, 2)

    assert (q2.members, q2.member_mean, q2.points_part, q2.meetings_part) == (
        0,
        Decimal("0.0000"),
        Decimal("0.0000"),
        Decimal("0.0000"),
    )
    assert (q2.score, q2.stars, q2.rank) == (Decimal("0.00"), 1, 4)


def test_the_version_weights_the_two_parts():
    # Weights 30 (points) / 70 (meetings): P1 (30 × 40.25 + 70 × 100) ÷ 100 = 82.075 → 82.08 ★4;
    # Q1 (30 × 25 + 70 × 75) ÷ 100 = 60.00 ★2; P2 (30 × 100 + 0) ÷ 100 = 30.00 ★1.
    w = build()
    own_version(w.committee, group_weight_points=Decimal("30"), group_weight_meetings=Decimal("70"))
    grade(w.committee)
    rows = group_rows(w.committee)
    assert (rows[w.p1.pk].score, rows[w.p1.pk].stars) == (Decimal("82.08"), 4)
    assert (rows[w.q1.pk].score, rows[w.q1.pk].stars, rows[w.q1.pk].rank) == (Decimal("60.00"), 2, 2)
    assert (rows[w.p2.pk].score, rows[w.p2.pk].stars, rows[w.p2.pk].rank) == (Decimal("30.00"), 1, 3)


@pytest.mark.parametrize(("five_from", "stars"), [("70.13", 5), ("70.14", 3)])
def test_stars_follow_the_versions_bands_at_their_edge(five_from, stars):
    # P1 scores 70.13: ★5 with ★5 from 70.13; with ★5 from 70.14 it is ★3 (★4 from 80).
    w = build()
    own_version(w.committee, group_star5_from=Decimal(five_from))
    grade(w.committee)
    assert (group_rows(w.committee)[w.p1.pk].score, group_rows(w.committee)[w.p1.pk].stars) == (
        Decimal("70.13"),
        stars,
    )


@pytest.mark.parametrize(
    ("score", "stars"),
    [
        ("100.00", 5),
        ("90.00", 5),
        ("89.99", 4),
        ("80.00", 4),
        ("79.99", 3),
        ("70.00", 3),
        ("69.99", 2),
        ("60.00", 2),
        ("59.99", 1),
        ("0.00", 1),
    ],
)
def test_group_star_band_edges(score, stars):
    version = RuleSetVersion.objects.get(rule_set__committee__isnull=True, number=1)
    assert group_grading.group_stars(Decimal(score), version) == stars


def test_a_score_half_a_cent_below_a_band_rounds_up_into_it():
    # (89.99 + 90.00) ÷ 2 = 89.995 → 90.00: the stars follow the rounded score, ★5.
    version = RuleSetVersion.objects.get(rule_set__committee__isnull=True, number=1)
    score = group_grading.weighted_score(points=Fraction(8999, 100), meetings=Fraction(90), version=version)
    assert (score, group_grading.group_stars(score, version)) == (Decimal("90.00"), 5)


def test_the_score_is_rounded_once_from_the_exact_parts():
    # Points 100 × (11/6) ÷ (8/3) = 68.75 exactly; attendance 200/3, compliance 100 →
    # meetings 250/3 = 83.333…; score (68.75 + 83.333…) ÷ 2 = 76.041666… → 76.04.
    # Rounding the parts to four places first (68.75 + 83.3333) ÷ 2 = 76.04165 → 76.04
    # too, but rounding each part to cents gives (68.75 + 83.33) ÷ 2 = 76.04; the exact
    # value is what the engine rounds.
    version = RuleSetVersion.objects.get(rule_set__committee__isnull=True, number=1)
    points = group_grading.points_part(Fraction(11, 6), Fraction(8, 3))
    meetings = group_grading.meetings_part(required=1, held=1, attended=2, expected=3)
    assert (points, meetings) == (Fraction(6875, 100), Fraction(250, 3))
    assert group_grading.weighted_score(points=points, meetings=meetings, version=version) == Decimal("76.04")


# --- the rules around the edges ------------------------------------------------------------------


def test_without_a_per_group_requirement_the_meetings_part_is_the_attendance_alone():
    # The version requires no 党小组会: compliance is not counted. Q1's meetings part is its
    # attendance, 50: score (25 + 50) ÷ 2 = 37.50. P1: (40.25 + 100) ÷ 2 = 70.13 as before.
    # P2 (nothing expected): 0, score 50.00.
    w = build()
    version = own_version(w.committee)
    MeetingRequirement.objects.filter(version=version, kind="group_meeting").delete()
    grade(w.committee)
    rows = group_rows(w.committee)
    q1 = rows[w.q1.pk]
    assert (q1.meetings_required, q1.meetings_held, q1.meetings_part, q1.score) == (
        0,
        0,
        Decimal("50.0000"),
        Decimal("37.50"),
    )
    assert (rows[w.p1.pk].score, rows[w.p2.pk].score) == (Decimal("70.13"), Decimal("50.00"))


def test_a_quarterly_requirement_is_due_in_the_quarters_last_month_and_met_by_any_meeting_in_it():
    committee = f.committee()
    branch = f.branch(committee)
    met, missed = f.group(branch, name="met"), f.group(branch, name="missed")
    f.MemberFactory(branch=branch, group=met)
    version = own_version(committee)
    MeetingRequirement.objects.filter(version=version, kind="group_meeting").update(frequency="quarterly")
    held(branch, "group_meeting", group=met)  # 10 April: the member present
    grade(committee)
    april = group_rows(committee)
    # April is not a quarter's end: nothing required; the meeting's attendance counts.
    assert (april[met.pk].meetings_required, april[met.pk].meetings_part) == (0, Decimal("100.0000"))
    assert (april[missed.pk].meetings_required, april[missed.pk].meetings_part) == (0, Decimal("0.0000"))
    june = datetime.date(2025, 6, 1)
    grade(committee, june)
    rows = group_rows(committee, june)
    # June: one required of each; April's meeting meets it for "met". No meeting in June:
    # attendance 0 → meetings (100 + 0) ÷ 2 = 50.
    assert (rows[met.pk].meetings_required, rows[met.pk].meetings_held, rows[met.pk].meetings_part) == (
        1,
        1,
        Decimal("50.0000"),
    )
    assert (rows[missed.pk].meetings_required, rows[missed.pk].meetings_held) == (1, 0)


def test_a_meeting_counts_once_and_a_cancelled_one_not_at_all():
    committee = f.committee()
    branch = f.branch(committee)
    group = f.group(branch)
    member = f.MemberFactory(branch=branch, group=group)
    first = held(branch, "group_meeting", group=group)
    held(branch, "group_meeting", group=group, date=datetime.date(2025, 4, 20))
    mark(first, member, "absent")
    cancelled = held(branch, "group_meeting", group=group, date=datetime.date(2025, 4, 25))
    from branches.activities import services as activities

    activities.activity_cancel(activity=cancelled, reason="停电", user=None)
    grade(committee)
    row = group_rows(committee)[group.pk]
    # Held twice, required once: compliance 100. Attendance over the two held meetings:
    # absent once, present once → 100 × 1 ÷ 2 = 50. Meetings (100 + 50) ÷ 2 = 75.
    assert (row.meetings_required, row.meetings_held, row.attended, row.expected) == (1, 1, 1, 2)
    assert row.meetings_part == Decimal("75.0000")


def test_members_count_for_the_group_they_belong_to_at_the_months_end():
    committee = f.committee()
    branch = f.branch(committee)
    old, new = f.group(branch, name="old"), f.group(branch, name="new")
    moved = f.MemberFactory(branch=branch, group=old)
    stays = f.MemberFactory(branch=branch, group=old)
    award(moved, "commitment_met", times=2)  # 10
    # Moved to the other group on 15 April (a group change closes one period, opens another).
    Membership.objects.filter(member=moved, ended_on__isnull=True).update(
        ended_on=datetime.date(2025, 4, 15), end_reason="group_change"
    )
    Membership.objects.create(member=moved, branch=branch, group=new, started_on=datetime.date(2025, 4, 15))
    grade(committee)
    rows = group_rows(committee)
    # old: stays alone, mean 0 → points 0. new: moved, mean 10, the highest → points 100.
    assert (rows[old.pk].members, rows[old.pk].points_part) == (1, Decimal("0.0000"))
    assert (rows[new.pk].members, rows[new.pk].member_mean, rows[new.pk].points_part) == (
        1,
        Decimal("10.0000"),
        Decimal("100.0000"),
    )
    assert stays.pk  # counted in "old"


def test_a_negative_mean_counts_as_zero_and_no_positive_mean_means_no_points():
    committee = f.committee()
    branch = f.branch(committee)
    minus, zero = f.group(branch, name="minus"), f.group(branch, name="zero")
    award(f.MemberFactory(branch=branch, group=minus), "deduction", points="-3")
    f.MemberFactory(branch=branch, group=zero)
    grade(committee)
    rows = group_rows(committee)
    assert (rows[minus.pk].member_mean, rows[minus.pk].max_mean, rows[minus.pk].points_part) == (
        Decimal("-3.0000"),
        Decimal("0.0000"),
        Decimal("0.0000"),
    )
    assert rows[zero.pk].points_part == Decimal("0.0000")


def test_groups_of_a_committee_below_and_dissolved_groups_are_not_graded():
    committee = f.committee()
    branch = f.branch(committee)
    kept = f.group(branch, name="kept")
    gone = f.group(branch, name="gone")
    below = f.committee(parent=committee)
    f.group(f.branch(below), name="below")
    grade(committee)
    assert set(group_rows(committee)) == {kept.pk, gone.pk}
    # Dissolved before April (recorded later): the regrade drops it from the draft.
    OrgUnit.objects.filter(pk=gone.pk).update(dissolved_on=datetime.date(2025, 3, 31))
    grade(committee)
    assert set(group_rows(committee)) == {kept.pk}
    assert group_rows(committee)[kept.pk].rank == 1


def test_regrading_gives_the_same_group_scores():
    w = build()
    grade(w.committee)
    fields = [f.name for f in GroupScore._meta.concrete_fields if f.name not in ("id", "run")]
    first = {pk: [getattr(r, n) for n in fields] for pk, r in group_rows(w.committee).items()}
    grade(w.committee)
    second = group_rows(w.committee)
    assert {pk: [getattr(r, n) for n in fields] for pk, r in second.items()} == first
    # Unchanged rows are not rewritten: each keeps the run that computed its values.
    runs = list(GradingRun.objects.filter(committee=w.committee).order_by("pk").values_list("pk", flat=True))
    assert len(runs) == 2
    assert {r.run_id for r in second.values()} == {runs[0]}
    assert not publishing.draft_status(committee=w.committee, month=APRIL).stale


def test_a_regrade_rewrites_only_the_groups_whose_values_changed():
    w = build()
    grade(w.committee)
    first = GradingRun.objects.get(committee=w.committee)
    # e +5: Q1's totals 10, −2, 0 → mean 8/3, points 66.67, score (66.67 + 75) ÷ 2 = 70.83.
    award(w.members[4], "commitment_met")
    grade(w.committee)
    second = GradingRun.objects.filter(committee=w.committee).latest("pk")
    rows = group_rows(w.committee)
    assert rows[w.q1.pk].score == Decimal("70.83")
    # Q1's values changed: written by the second run. The others keep the first run's
    # row, with their new ranks (Q1 passed them).
    assert {pk: r.run_id for pk, r in rows.items()} == {
        w.p1.pk: first.pk,
        w.p2.pk: first.pk,
        w.q1.pk: second.pk,
        w.q2.pk: first.pk,
    }
    assert {pk: r.rank for pk, r in rows.items()} == {w.q1.pk: 1, w.p1.pk: 2, w.p2.pk: 3, w.q2.pk: 4}
    assert not publishing.draft_status(committee=w.committee, month=APRIL).stale


def test_publication_copies_the_group_draft():
    w = build()
    for branch in (w.p, w.q):
        enter_all(branch, "80")
    grade(w.committee)
    publication = publishing.board_publish(committee=w.committee, month=APRIL, user=None)
    fields = [f.name for f in PublishedGroupScore._meta.concrete_fields if f.name not in ("id", "publication")]
    published = {
        r.group_id: [getattr(r, n) for n in fields] for r in PublishedGroupScore.objects.filter(publication=publication)
    }
    assert published == {pk: [getattr(r, n) for n in fields] for pk, r in group_rows(w.committee).items()}
    assert published[w.p1.pk][fields.index("score")] == Decimal("70.13")


def _grade_queries(committee) -> int:
    run = GradingRun.objects.filter(committee=committee, month=APRIL).order_by("-pk").first()
    branches = list(OrgUnit.objects.filter(parent=committee, kind=OrgUnit.Kind.BRANCH))
    version = run.rule_version
    with CaptureQueriesContext(connection) as queries:
        group_grading.grade_groups(run=run, version=version, branches=branches)
    return len(queries)


def test_the_group_grading_reads_a_fixed_number_of_queries_however_many_groups():
    small, large = f.committee(), f.committee()
    for committee, n in ((small, 1), (large, 8)):
        branch = f.branch(committee)
        for i in range(n):
            group = f.group(branch, name=f"G{i}")
            f.MemberFactory(branch=branch, group=group)
            held(branch, "group_meeting", group=group)
        grade(committee)
    assert _grade_queries(small) == _grade_queries(large)
    assert len(group_rows(large)) == 8


def test_members_without_a_group_count_for_no_group():
    w = build()
    grade(w.committee)
    # h (+10) is in branch Q but in no group: the highest group mean stays P2's 4.
    assert {r.max_mean for r in group_rows(w.committee).values()} == {Decimal("4.0000")}
    assert DAY.month == 4


def test_a_group_set_up_after_the_run_makes_the_draft_stale():
    w = build()
    for branch in (w.p, w.q):
        enter_all(branch, "80")
    grade(w.committee)
    assert publishing.draft_status(w.committee, APRIL).ready
    f.group(w.q, name="Q3")
    status = publishing.draft_status(w.committee, APRIL)
    assert status.stale and not status.ready
    grade(w.committee)
    assert publishing.draft_status(w.committee, APRIL).ready
    assert len(group_rows(w.committee)) == 5


def test_after_a_new_version_every_group_row_names_a_run_of_that_version():
    w = build()
    grade(w.committee)
    version = own_version(w.committee)
    grade(w.committee)
    latest = GradingRun.objects.filter(committee=w.committee).latest("pk")
    assert latest.rule_version == version
    # The group board reads the version from the rows' run: unchanged values or not, each
    # row was written again by a run of the new version.
    rows = GroupScore.objects.filter(committee=w.committee, month=APRIL).select_related("run")
    assert {r.run.rule_version_id for r in rows} == {version.pk}
