"""The grading of a month for every committee at once (``grading_runs_execute``, what
``grade_month`` and bench_grading do): the same drafts and watermarks as grading each
committee on its own, on SQLite and on PostgreSQL — there by the per-member probes and
by the whole month read once."""

import datetime

import pytest

from branches.grading import engine, services
from branches.grading.models import BranchScore, GradingRun, GroupScore, MemberScore
from branches.models import OrgUnit
from members.services import member_transfer

from .. import factories as f
from .test_scenarios import APRIL, award, enter_all, held, mark

pytestmark = pytest.mark.django_db


def two_plants():
    """A group committee over two plant committees (branches with groups, members,
    points, meetings and entered scores) and a branch of its own."""
    root = f.committee(name="集团党委")
    plants = [f.committee(parent=root, name=f"厂{i}") for i in (1, 2)]
    for n, unit in enumerate([*plants, root]):
        for b in range(2 if unit is root else 3):
            branch = f.branch(unit)
            group = f.group(branch)
            members = [f.MemberFactory(branch=branch, group=group) for _ in range(2 + b)]
            for i, member in enumerate(members):
                award(member, "commitment_met", times=1 + (i + b + n) % 3)
            meeting = held(branch, "group_meeting", group=group)
            mark(meeting, members[0], "absent")
            held(branch, "themed_day")
            enter_all(branch, f"{70 + 5 * b + n}")
    return root, plants


def drafts(month=APRIL):
    member = sorted(
        (s.committee_id, s.member_id, s.branch_id, s.total, s.stars) for s in MemberScore.objects.filter(month=month)
    )
    branch = sorted(
        (s.committee_id, s.branch_id, s.total, s.rank, s.bottom_three, s.members, s.membership, s.basics)
        for s in BranchScore.objects.filter(month=month)
    )
    group = sorted(
        (s.committee_id, s.group_id, s.score, s.rank, s.members, s.expected, s.attended)
        for s in GroupScore.objects.filter(month=month)
    )
    return member, branch, group


def runs_of(committees, month=APRIL):
    return {c.pk: GradingRun.objects.filter(committee=c, month=month).order_by("-pk").first() for c in committees}


def grade_one_by_one(committees):
    for committee in committees:
        run = services.grading_run_request(committee=committee, month=APRIL)
        services.grading_run_execute(run_id=run.pk)


def grade_together(committees):
    runs = [services.grading_run_request(committee=c, month=APRIL) for c in committees]
    return services.grading_runs_execute(run_ids=[r.pk for r in runs])


def test_grading_every_committee_at_once_writes_what_grading_each_on_its_own_writes(reading):
    root, plants = two_plants()
    committees = [root, *plants]
    grade_one_by_one(committees)
    alone = drafts()
    marks = {pk: run.watermark for pk, run in runs_of(committees).items()}
    counts = {pk: (run.branches_graded, run.members_graded) for pk, run in runs_of(committees).items()}
    MemberScore.objects.all().delete()
    GroupScore.objects.all().delete()
    BranchScore.objects.all().delete()

    done = grade_together(committees)

    assert {run.state for run in done} == {GradingRun.State.SUCCEEDED}
    assert drafts() == alone
    assert {pk: run.watermark for pk, run in runs_of(committees).items()} == marks
    assert {pk: (run.branches_graded, run.members_graded) for pk, run in runs_of(committees).items()} == counts
    assert counts[root.pk] == (2, 2 + 3)


def test_a_regrade_together_after_changes_matches_a_first_grading_of_the_same_data(reading):
    root, plants = two_plants()
    committees = [root, *plants]
    grade_together(committees)
    member = MemberScore.objects.filter(committee=plants[0]).order_by("member_id").first().member
    award(member, "commitment_met", times=2)
    leaver = MemberScore.objects.filter(committee=plants[1]).order_by("member_id").first().member
    leaver.memberships.update(ended_on=APRIL)
    grade_together(committees)
    regraded = drafts()
    MemberScore.objects.all().delete()
    GroupScore.objects.all().delete()
    BranchScore.objects.all().delete()
    grade_together(committees)
    assert drafts() == regraded
    assert not MemberScore.objects.filter(member=leaver).exists()


def test_a_pass_keeps_the_run_that_wrote_an_unchanged_member_row(reading):
    root, plants = two_plants()
    first = {r.committee_id: r for r in grade_together([root, *plants])}
    second = {r.committee_id: r for r in grade_together([root, *plants])}
    assert set(MemberScore.objects.values_list("run_id", flat=True)) == {r.pk for r in first.values()}
    assert set(BranchScore.objects.values_list("run_id", flat=True)) == {r.pk for r in second.values()}


def test_the_ledger_marks_count_the_entries_of_a_member_transferred_mid_month_in_both_branches(reading):
    root, plants = two_plants()
    committees = [root, *plants]
    grade_together(committees)
    moved = MemberScore.objects.filter(committee=plants[0]).order_by("member_id").first().member
    to_branch = OrgUnit.objects.filter(parent=plants[1], kind=OrgUnit.Kind.BRANCH).order_by("pk").first()
    member_transfer(member=moved, to_branch=to_branch, on_date=datetime.date(2025, 4, 15))
    moved.refresh_from_db()
    award(moved, "commitment_met")  # booked to the new branch; the earlier ones stay with the old
    assert moved.ledger_entries.filter(month=APRIL).values("branch_id").distinct().count() == 2
    grade_together(committees)
    assert {pk: run.watermark for pk, run in runs_of(committees).items()} == {
        c.pk: engine.watermark(committee=c, month=APRIL) for c in committees
    }


def test_the_watermarks_of_several_committees_are_each_ones_watermark():
    root, plants = two_plants()
    committees = [root, *plants]
    together = engine.watermarks(committees=committees, month=APRIL)
    assert together == {c.pk: engine.watermark(committee=c, month=APRIL) for c in committees}
    assert together[root.pk]["branches"] == 2


def test_the_watermarks_read_each_kind_of_input_once_however_many_committees(django_assert_max_num_queries):
    root, plants = two_plants()
    more = [f.committee(parent=root) for _ in range(4)]
    for committee in more:
        f.MemberFactory(branch=f.branch(committee))
    committees = [root, *plants, *more]
    engine.watermarks(committees=committees, month=APRIL)  # warm
    with django_assert_max_num_queries(10):
        engine.watermarks(committees=committees, month=APRIL)


def test_a_failing_pass_fails_every_run_and_keeps_every_previous_draft(monkeypatch):
    root, plants = two_plants()
    committees = [root, *plants]
    grade_together(committees)
    before = drafts()
    award(MemberScore.objects.order_by("member_id").first().member, "commitment_met", times=3)

    def fail():
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "_before_commit", fail)
    with pytest.raises(RuntimeError):
        grade_together(committees)
    assert drafts() == before
    last = runs_of(committees)
    assert {run.state for run in last.values()} == {GradingRun.State.FAILED}


def test_runs_of_different_months_are_not_executed_together():
    root, _plants = two_plants()
    april = services.grading_run_request(committee=root, month=APRIL)
    may = services.grading_run_request(committee=root, month=datetime.date(2025, 5, 1))
    with pytest.raises(ValueError):
        services.grading_runs_execute(run_ids=[april.pk, may.pk])


def test_a_run_already_claimed_is_not_executed_again():
    root, _plants = two_plants()
    run = services.grading_run_request(committee=root, month=APRIL)
    assert services.grading_runs_execute(run_ids=[run.pk])
    assert services.grading_runs_execute(run_ids=[run.pk]) == []
    assert OrgUnit.objects.filter(pk=root.pk).exists()
