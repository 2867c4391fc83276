"""The board selectors: rows, ranks, movement, talks, members, history, distribution.

Boards are built directly from rows (``BranchScore`` bulk-created, ranked by the
engine's own window-function UPDATE, then copied into a ``Publication`` by
``publish`` below), so these tests do not depend on the grading or publishing services.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from branches.grading import boards, engine
from branches.grading.models import (
    BranchScore,
    GradingRun,
    MemberScore,
    Publication,
    PublishedBranchScore,
    PublishedMemberScore,
    ScoreColumns,
    Talk,
)
from members.ledger.services import rule_version_for

from .. import factories as f

pytestmark = pytest.mark.django_db

MARCH = datetime.date(2025, 3, 1)
APRIL = datetime.date(2025, 4, 1)
MAY = datetime.date(2025, 5, 1)
SCORE_FIELDS = [field.name for field in ScoreColumns._meta.fields]
MEMBER_FIELDS = ["political", "training", "org_life", "exemplary", "duty", "deduction", "total", "stars"]


# --- helpers (also used by the page tests) -------------------------------------------------


def run_for(committee, month) -> GradingRun:
    now = timezone.now()
    return GradingRun.objects.create(
        committee=committee,
        month=month,
        state=GradingRun.State.SUCCEEDED,
        rule_version=rule_version_for(unit=committee, month=month),
        started_at=now,
        finished_at=now,
    )


def draft(committee, month, totals: dict, **columns) -> GradingRun:
    """Write a draft where branch ``b`` has total ``totals[b]`` (its entered dimensions
    are the total and the computed ones too unless ``columns`` say otherwise), ranked
    by the engine's own SQL."""
    run = run_for(committee, month)
    BranchScore.objects.filter(committee=committee, month=month).delete()
    rows = []
    for branch, total in totals.items():
        total = Decimal(total)
        values = {
            "basics": total,
            "committee_work": total,
            "production": total,
            "membership": total,
            "other": total,
            "total": total,
        }
        values.update(columns.get(branch.pk, {}))
        rows.append(BranchScore(committee=committee, month=month, branch=branch, run=run, **values))
    BranchScore.objects.bulk_create(rows)
    engine.rank_branches(committee=committee, month=month, bottom_count=run.rule_version.bottom_three_count)
    return run


def member_draft(committee, month, run, totals: dict) -> None:
    """Member rows: ``totals[member] = (total, stars)``, counted by the member's branch."""
    MemberScore.objects.bulk_create(
        MemberScore(
            committee=committee,
            month=month,
            member=member,
            branch_id=member.branch_id,
            run=run,
            total=Decimal(total),
            stars=stars,
        )
        for member, (total, stars) in totals.items()
    )


def publish(committee, month, *, version: int | None = None, user=None) -> Publication:
    """Copy the draft into a new published version, as publication does."""
    run = BranchScore.objects.filter(committee=committee, month=month).values_list("run", flat=True).first()
    if version is None:
        version = Publication.objects.filter(committee=committee, month=month).count() + 1
    publication = Publication.objects.create(
        committee=committee, month=month, version=version, run_id=run, published_by=user
    )
    PublishedBranchScore.objects.bulk_create(
        PublishedBranchScore(
            publication=publication,
            branch_id=score.branch_id,
            **{name: getattr(score, name) for name in SCORE_FIELDS},
        )
        for score in BranchScore.objects.filter(committee=committee, month=month)
    )
    PublishedMemberScore.objects.bulk_create(
        PublishedMemberScore(
            publication=publication,
            member_id=score.member_id,
            branch_id=score.branch_id,
            **{name: getattr(score, name) for name in MEMBER_FIELDS},
        )
        for score in MemberScore.objects.filter(committee=committee, month=month)
    )
    return publication


def branches_of(committee, n: int) -> list:
    return [f.branch(committee, name=f"第{i:02d}党支部") for i in range(n)]


def summary(board) -> list[tuple]:
    return [(row.branch.name, row.total, row.rank, row.bottom_three) for row in board]


# --- the board ---------------------------------------------------------------------------


def test_the_board_lists_the_latest_publication_best_first():
    committee = f.committee()
    a, b, c = branches_of(committee, 3)
    draft(committee, APRIL, {a: "70", b: "90", c: "80"})
    publish(committee, APRIL)
    result = boards.board(committee, APRIL, draft=False)
    assert result.publication.version == 1 and not result.is_draft
    assert summary(result) == [
        (b.name, Decimal("90.00"), 1, False),
        (c.name, Decimal("80.00"), 2, False),
        (a.name, Decimal("70.00"), 3, False),
    ]
    # Three branches or fewer: nobody is flagged, no talk is owed.
    assert [row.talk for row in result] == [None, None, None]


def test_the_board_reads_the_draft_only_when_asked():
    committee = f.committee()
    a, b = branches_of(committee, 2)
    draft(committee, APRIL, {a: "60", b: "50"})
    assert boards.board(committee, APRIL, draft=False).source is None
    result = boards.board(committee, APRIL, draft=True)
    assert result.is_draft and summary(result) == [
        (a.name, Decimal("60.00"), 1, False),
        (b.name, Decimal("50.00"), 2, False),
    ]


def test_equal_totals_share_a_rank_on_the_board():
    committee = f.committee()
    a, b, c, d = branches_of(committee, 4)
    draft(committee, APRIL, {a: "90", b: "80", c: "80", d: "70"})
    publish(committee, APRIL)
    assert [(row.branch, row.rank) for row in boards.board(committee, APRIL, draft=False)] == [
        (a, 1),
        (b, 2),
        (c, 2),
        (d, 4),
    ]


def test_an_earlier_version_stays_readable_and_the_latest_is_the_default():
    committee = f.committee()
    a, b = branches_of(committee, 2)
    draft(committee, APRIL, {a: "60", b: "50"})
    publish(committee, APRIL)
    draft(committee, APRIL, {a: "40", b: "50"})
    publish(committee, APRIL)
    latest = boards.board(committee, APRIL, draft=False)
    first = boards.board(committee, APRIL, draft=False, version=1)
    assert [p.version for p in latest.versions] == [2, 1]
    assert [(r.branch, r.total) for r in latest] == [(b, Decimal("50.00")), (a, Decimal("40.00"))]
    assert [(r.branch, r.total) for r in first] == [(a, Decimal("60.00")), (b, Decimal("50.00"))]
    assert boards.board(committee, APRIL, draft=False, version=3).source is None


def test_movement_compares_with_the_previous_months_latest_published_rank():
    committee = f.committee()
    a, b, c, d = branches_of(committee, 4)
    draft(committee, MARCH, {a: "90", b: "80", c: "70"})
    publish(committee, MARCH)
    # A republished March (version 2) is what April compares with: c first, a second.
    draft(committee, MARCH, {a: "80", b: "60", c: "90"})
    publish(committee, MARCH)
    draft(committee, APRIL, {a: "90", b: "95", c: "70", d: "75"})
    publish(committee, APRIL)
    result = boards.board(committee, APRIL, draft=False)
    moves = {row.branch: (row.movement.kind, row.movement.by, row.movement.previous_rank) for row in result}
    # March v2 ranks: c 1, a 2, b 3. April: b 1 (↑2), a 2 (=), d 3 (new), c 4 (↓3).
    assert moves == {b: ("up", 2, 3), a: ("same", 0, 2), d: ("new", 0, None), c: ("down", 3, 1)}
    assert [str(row.movement) for row in result if row.movement.kind != "new"] == ["↑2", "=", "↓3"]
    assert result.previous.version == 2


def test_without_a_published_previous_month_there_is_no_movement():
    committee = f.committee()
    a, b = branches_of(committee, 2)
    draft(committee, MARCH, {a: "90", b: "80"})  # graded, never published
    draft(committee, APRIL, {a: "90", b: "80"})
    publish(committee, APRIL)
    assert [row.movement for row in boards.board(committee, APRIL, draft=False)] == [None, None]


def test_talk_status_is_shown_for_the_bottom_three_only(time_machine):
    committee = f.committee()
    a, b, c, d, e = branches_of(committee, 5)
    draft(committee, APRIL, {a: "90", b: "80", c: "70", d: "60", e: "50"})
    publication = publish(committee, APRIL)
    Talk.objects.create(
        committee=committee,
        month=APRIL,
        branch=d,
        held_on=datetime.date(2025, 5, 8),
        talked_by="书记",
        talked_with="支部书记",
        notes="谈话",
        actions="整改",
    )
    published_on = timezone.localtime(publication.published_at).date()
    result = boards.board(committee, APRIL, draft=False, today=published_on)
    assert [(row.branch, row.bottom_three, row.talk, row.talk_overdue) for row in result] == [
        (a, False, None, False),
        (b, False, None, False),
        (c, True, "none", False),
        (d, True, "recorded", False),
        (e, True, "none", False),
    ]
    # Past the days allowed after the first publication that flagged them, a missing talk
    # is overdue — a republication does not restart the clock.
    # (Publications are append-only: the second one is made sixteen days later.)
    time_machine.move_to(publication.published_at + datetime.timedelta(days=16))
    publish(committee, APRIL)
    later = published_on + datetime.timedelta(days=16)
    overdue = {row.branch: row.talk_overdue for row in boards.board(committee, APRIL, draft=False, today=later)}
    assert overdue == {a: False, b: False, c: True, d: False, e: True}
    on_time = boards.board(committee, APRIL, draft=False, today=later - datetime.timedelta(days=1))
    assert [row.talk_overdue for row in on_time] == [False] * 5


def test_a_tie_on_the_bottom_three_line_owes_more_than_three_talks():
    committee = f.committee()
    a, b, c, d, e = branches_of(committee, 5)
    draft(committee, APRIL, {a: "90", b: "60", c: "60", d: "60", e: "50"})
    publish(committee, APRIL)
    result = boards.board(committee, APRIL, draft=False)
    assert [row.talk for row in result] == [None, "none", "none", "none", "none"]
    assert len(result.bottom_three) == 4


def test_the_board_reads_a_fixed_number_of_queries_however_many_branches():
    few_committee, many_committee = f.committee(), f.committee()
    for committee, n in ((few_committee, 4), (many_committee, 30)):
        branches = branches_of(committee, n)
        draft(committee, MARCH, {b: str(50 + i) for i, b in enumerate(branches)})
        publish(committee, MARCH)
        draft(committee, APRIL, {b: str(80 - i) for i, b in enumerate(branches)})
        publish(committee, APRIL)
    counts = []
    for committee in (few_committee, many_committee):
        with CaptureQueriesContext(connection) as ctx:
            result = boards.board(committee, APRIL, draft=False)
            [str(row.branch) for row in result]
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1] <= 8  # the talk status reads publishing.talk_board (3 queries)
    assert len(result) == 30 and len(result.bottom_three) == 3


# --- members -----------------------------------------------------------------------------


def test_top_members_are_the_best_of_each_branch_by_total():
    committee = f.committee()
    a, b = branches_of(committee, 2)
    run = draft(committee, APRIL, {a: "80", b: "70"})
    ma = [f.MemberFactory(branch=a, name=name) for name in ("甲", "乙", "丙", "丁")]
    mb = [f.MemberFactory(branch=b, name=name) for name in ("戊", "己")]
    member_draft(
        committee,
        APRIL,
        run,
        {ma[0]: ("12", 2), ma[1]: ("31", 5), ma[2]: ("12", 2), ma[3]: ("5", 1), mb[0]: ("-2", 1), mb[1]: ("30", 5)},
    )
    publication = publish(committee, APRIL)
    for source in (publication, boards.Draft(committee, APRIL)):
        with CaptureQueriesContext(connection) as ctx:
            top = boards.top_members(source, per_branch=3)
            names = {branch_id: [(m.member.name, m.total) for m in rows] for branch_id, rows in top.items()}
        assert len(ctx.captured_queries) == 1
        # Equal totals keep one order (by name) and the fourth member is left out.
        assert names == {
            a.pk: [("乙", Decimal("31.00")), ("丙", Decimal("12.00")), ("甲", Decimal("12.00"))],
            b.pk: [("己", Decimal("30.00")), ("戊", Decimal("-2.00"))],
        }
        assert [(m.member.name, m.branch) for m in boards.star_list(source)] == [("乙", a), ("己", b)]
    assert list(boards.top_members(publication, per_branch=1, branch=b)) == [b.pk]
    assert [m.member.name for m in boards.star_list(publication, branch=b)] == ["己"]


# --- charts ------------------------------------------------------------------------------


def test_branch_history_gives_the_latest_published_total_and_rank_of_each_month():
    committee = f.committee()
    a, b = branches_of(committee, 2)
    draft(committee, MARCH, {a: "70", b: "80"})
    publish(committee, MARCH)
    draft(committee, APRIL, {a: "90", b: "80"})
    publish(committee, APRIL)
    draft(committee, APRIL, {a: "60", b: "80"})  # republished: version 2 counts
    publish(committee, APRIL)
    with CaptureQueriesContext(connection) as ctx:
        history = boards.branch_history(committee, a, until=MAY)
    assert len(ctx.captured_queries) == 1
    assert len(history) == 12 and history[0].month == datetime.date(2024, 6, 1) and history[-1].month == MAY
    assert [(p.month, p.total, p.rank, p.version) for p in history[-3:]] == [
        (MARCH, Decimal("70.00"), 2, 1),
        (APRIL, Decimal("60.00"), 2, 2),
        (MAY, None, None, None),
    ]


def test_the_distribution_bins_the_boards_totals_across_their_range():
    committee = f.committee()
    branches = branches_of(committee, 6)
    totals = ["86", "88.5", "90", "91", "93.25", "95"]
    draft(committee, APRIL, dict(zip(branches, totals, strict=True)))
    publish(committee, APRIL)
    bins = boards.histogram_bins(boards.board_totals(boards.board_source(committee, APRIL)))
    assert [(b.label, b.count) for b in bins] == [("86–88", 1), ("88–90", 1), ("90–92", 2), ("92–94", 1), ("94–96", 1)]
