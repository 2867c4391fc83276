"""The year: annual grades, the 三型 tier proposal and members' annual stars, each
number worked out by hand in the comments. Publications are made directly with the
ORM (``publish``), as the publishing service would leave them."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from branches.grading import annual
from branches.grading.models import (
    AnnualGrade,
    GradingRun,
    Publication,
    PublishedBranchScore,
    PublishedMemberScore,
)
from branches.models import OrgUnit
from members.ledger.models import RuleSet, RuleSetVersion

from .. import factories as f

pytestmark = pytest.mark.django_db
YEAR = 2024
Grade = AnnualGrade.Grade
Tier = OrgUnit.Tier


def month(n: int, year: int = YEAR) -> datetime.date:
    return datetime.date(year, n, 1)


def publish(committee, on: datetime.date, branches=(), members=(), version: int | None = None) -> Publication:
    """A publication of ``committee``'s month: ``branches`` as (branch, total[, bottom
    three]) and ``members`` as (member, branch, total). Each call adds the next version."""
    if version is None:
        version = Publication.objects.filter(committee=committee, month=on).count() + 1
    run = GradingRun.objects.create(committee=committee, month=on, state=GradingRun.State.SUCCEEDED)
    publication = Publication.objects.create(committee=committee, month=on, version=version, run=run)
    PublishedBranchScore.objects.bulk_create(
        PublishedBranchScore(
            publication=publication,
            branch=row[0],
            basics=Decimal(row[1]),
            membership=Decimal(row[1]),
            total=Decimal(row[1]),
            bottom_three=row[2] if len(row) > 2 else False,
        )
        for row in branches
    )
    PublishedMemberScore.objects.bulk_create(
        PublishedMemberScore(publication=publication, member=member, branch=branch, total=Decimal(total))
        for member, branch, total in members
    )
    return publication


def rollup(tree, user=None, year: int = YEAR) -> list[AnnualGrade]:
    return annual.annual_rollup(committee=tree.plant, year=year, user=user)


def set_tier(branch: OrgUnit, tier: str) -> None:
    OrgUnit.objects.filter(pk=branch.pk).update(tier=tier)
    branch.refresh_from_db()


# --- the annual grade ---------------------------------------------------------------


def test_months_of_92_88_95_have_a_mean_of_91_67_and_are_proposed_advanced(tree):
    for n, total in ((1, "92.00"), (2, "88.00"), (3, "95.00")):
        publish(tree.plant, month(n), [(tree.branch_a, total)])
    [grade] = rollup(tree)
    # (92 + 88 + 95) / 3 = 275 / 3 = 91.666… → 91.67 ≥ 90, never in the bottom three.
    assert (grade.months_published, grade.mean_total, grade.bottom_three_months, grade.proposed_grade) == (
        3,
        Decimal("91.67"),
        0,
        Grade.ADVANCED,
    )
    assert grade.final_grade == "" and grade.confirmed_at is None


def test_a_branch_in_the_bottom_three_four_times_cannot_be_advanced(tree):
    # Mean (92 + 88 + 95 + 92) / 4 = 91.75 — advanced by the mean, but four bottom-three months.
    for n, total in ((1, "92.00"), (2, "88.00"), (3, "95.00"), (4, "92.00")):
        publish(tree.plant, month(n), [(tree.branch_a, total, True)])
    [grade] = rollup(tree)
    assert (grade.mean_total, grade.bottom_three_months, grade.proposed_grade) == (
        Decimal("91.75"),
        4,
        Grade.STANDARD,
    )


def test_three_times_in_the_bottom_three_is_still_allowed_for_advanced(tree):
    for n, total in ((1, "92.00"), (2, "88.00"), (3, "95.00"), (4, "92.00")):
        publish(tree.plant, month(n), [(tree.branch_a, total, n != 4)])
    [grade] = rollup(tree)
    assert (grade.bottom_three_months, grade.proposed_grade) == (3, Grade.ADVANCED)


@pytest.mark.parametrize(
    ("totals", "mean", "proposed"),
    [
        # (74.99 + 75.00) / 2 = 74.995 → half-up 75.00: up to standard.
        (("74.99", "75.00"), "75.00", Grade.STANDARD),
        # (74.98 + 75.00) / 2 = 74.99: below standard.
        (("74.98", "75.00"), "74.99", Grade.BELOW),
        # (89.99 + 90.00) / 2 = 89.995 → 90.00: advanced.
        (("89.99", "90.00"), "90.00", Grade.ADVANCED),
        # (89.99 + 89.99 + 90.00) / 3 = 89.9933… → 89.99: up to standard.
        (("89.99", "89.99", "90.00"), "89.99", Grade.STANDARD),
    ],
)
def test_the_mean_is_rounded_half_up_to_the_cent_before_it_is_graded(tree, totals, mean, proposed):
    for n, total in enumerate(totals, start=1):
        publish(tree.plant, month(n), [(tree.branch_a, total)])
    [grade] = rollup(tree)
    assert (grade.mean_total, grade.proposed_grade) == (Decimal(mean), proposed)


def test_only_the_latest_published_version_of_a_month_counts(tree):
    publish(tree.plant, month(1), [(tree.branch_a, "50.00", True), (tree.branch_b, "60.00")])
    # January reopened and republished: A 90 and out of the bottom three; B no longer graded.
    publish(tree.plant, month(1), [(tree.branch_a, "90.00")])
    publish(tree.plant, month(2), [(tree.branch_a, "91.00"), (tree.branch_b, "70.00")])
    grades = {g.branch_id: g for g in rollup(tree)}
    # A: (90 + 91) / 2 = 90.50 over 2 months, 0 in the bottom three. B: only February, 70.
    a, b = grades[tree.branch_a.pk], grades[tree.branch_b.pk]
    assert (a.months_published, a.mean_total, a.bottom_three_months, a.proposed_grade) == (
        2,
        Decimal("90.50"),
        0,
        Grade.ADVANCED,
    )
    assert (b.months_published, b.mean_total, b.proposed_grade) == (1, Decimal("70.00"), Grade.BELOW)


def test_other_years_and_other_committees_do_not_count(tree):
    publish(tree.plant, month(12, YEAR - 1), [(tree.branch_a, "10.00")])
    publish(tree.plant, month(1, YEAR + 1), [(tree.branch_a, "10.00")])
    publish(tree.other, month(5), [(tree.branch_x, "10.00")])
    publish(tree.plant, month(5), [(tree.branch_a, "80.00")])
    [grade] = rollup(tree)
    assert (grade.branch_id, grade.months_published, grade.mean_total) == (tree.branch_a.pk, 1, Decimal("80.00"))


def test_a_year_without_publications_rolls_up_to_nothing(tree):
    assert rollup(tree) == []
    assert not AnnualGrade.objects.exists()


def test_the_grade_limits_are_those_in_force_in_december(tree):
    rule_set = RuleSet.objects.create(committee=tree.plant, name="炼钢厂规则")
    RuleSetVersion.objects.create(rule_set=rule_set, number=1, effective_month=month(1), grade_advanced_from=80)
    RuleSetVersion.objects.create(
        rule_set=rule_set, number=2, effective_month=month(12), grade_advanced_from=95, grade_standard_from=85
    )
    for n, total in ((1, "92.00"), (2, "88.00"), (3, "95.00")):
        publish(tree.plant, month(n), [(tree.branch_a, total)])
    # 91.67 is below December's 95 but above its 85.
    assert rollup(tree)[0].proposed_grade == Grade.STANDARD


def test_a_year_still_running_is_graded_by_the_rules_of_the_current_month(tree):
    assert annual.rule_month(2025, today=datetime.date(2025, 7, 15)) == datetime.date(2025, 7, 1)
    assert annual.rule_month(2024, today=datetime.date(2025, 7, 15)) == datetime.date(2024, 12, 1)


def test_a_year_that_has_not_begun_cannot_be_rolled_up(tree):
    with pytest.raises(ValidationError):
        rollup(tree, year=timezone.localdate().year + 1)


# --- the 三型 ladder ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("tier", "grade", "expected"),
    [
        (Tier.STANDARD, Grade.ADVANCED, Tier.EXEMPLARY),
        (Tier.EXEMPLARY, Grade.ADVANCED, Tier.RED_FLAG),
        (Tier.RED_FLAG, Grade.ADVANCED, Tier.RED_FLAG),
        (Tier.RED_FLAG, Grade.BELOW, Tier.EXEMPLARY),
        (Tier.EXEMPLARY, Grade.BELOW, Tier.STANDARD),
        (Tier.STANDARD, Grade.BELOW, Tier.STANDARD),
        (Tier.STANDARD, Grade.STANDARD, Tier.STANDARD),
        (Tier.EXEMPLARY, Grade.STANDARD, Tier.EXEMPLARY),
        (Tier.RED_FLAG, Grade.STANDARD, Tier.RED_FLAG),
        ("", Grade.ADVANCED, Tier.STANDARD),
        ("", Grade.STANDARD, ""),
        ("", Grade.BELOW, ""),
    ],
)
def test_the_tier_moves_one_step_up_for_advanced_and_one_down_for_below_standard(tier, grade, expected):
    assert annual.tier_move(tier=tier, grade=grade) == expected


def test_the_roll_up_proposes_the_tier_move_from_the_branch_s_current_tier(tree):
    set_tier(tree.branch_a, Tier.EXEMPLARY)
    set_tier(tree.branch_b, Tier.EXEMPLARY)
    publish(tree.plant, month(1), [(tree.branch_a, "95.00"), (tree.branch_b, "60.00")])
    grades = {g.branch_id: g for g in rollup(tree)}
    assert (grades[tree.branch_a.pk].tier_before, grades[tree.branch_a.pk].tier_proposed) == (
        Tier.EXEMPLARY,
        Tier.RED_FLAG,
    )
    assert (grades[tree.branch_b.pk].tier_before, grades[tree.branch_b.pk].tier_proposed) == (
        Tier.EXEMPLARY,
        Tier.STANDARD,
    )


# --- confirmation -------------------------------------------------------------------


@pytest.fixture
def advanced(tree):
    """Branch A, standard tier, advanced with 91.67 (see the first test)."""
    set_tier(tree.branch_a, Tier.STANDARD)
    for n, total in ((1, "92.00"), (2, "88.00"), (3, "95.00")):
        publish(tree.plant, month(n), [(tree.branch_a, total)])
    return rollup(tree)[0]


def test_confirming_the_proposed_grade_needs_no_reason(tree, users, advanced):
    grade = annual.annual_grade_confirm(
        grade=advanced, final_grade=Grade.ADVANCED, reason="", confirm_tier=False, user=users.committee
    )
    grade.refresh_from_db()
    assert (grade.final_grade, grade.grade_reason, grade.confirmed_by, grade.tier_confirmed) == (
        Grade.ADVANCED,
        "",
        users.committee,
        False,
    )
    assert grade.confirmed_at is not None
    tree.branch_a.refresh_from_db()
    assert tree.branch_a.tier == Tier.STANDARD


def test_overriding_the_proposed_grade_needs_a_written_reason(users, advanced):
    for reason in ("", "   "):
        with pytest.raises(ValidationError) as raised:
            annual.annual_grade_confirm(
                grade=advanced, final_grade=Grade.STANDARD, reason=reason, confirm_tier=False, user=users.committee
            )
        assert "reason" in raised.value.error_dict
    advanced.refresh_from_db()
    assert advanced.final_grade == "" and advanced.confirmed_by is None
    annual.annual_grade_confirm(
        grade=advanced,
        final_grade=Grade.STANDARD,
        reason="安全生产事故一起",
        confirm_tier=False,
        user=users.committee,
    )
    advanced.refresh_from_db()
    assert (advanced.final_grade, advanced.grade_reason) == (Grade.STANDARD, "安全生产事故一起")


def test_a_grade_that_is_not_a_grade_is_refused(users, advanced):
    with pytest.raises(ValidationError) as raised:
        annual.annual_grade_confirm(
            grade=advanced, final_grade="excellent", reason="x", confirm_tier=False, user=users.committee
        )
    assert "final_grade" in raised.value.error_dict


def test_confirming_the_tier_moves_the_branch_up_the_ladder(tree, users, advanced):
    annual.annual_grade_confirm(
        grade=advanced, final_grade=Grade.ADVANCED, reason="", confirm_tier=True, user=users.committee
    )
    tree.branch_a.refresh_from_db()
    advanced.refresh_from_db()
    assert tree.branch_a.tier == Tier.EXEMPLARY
    assert (advanced.tier_before, advanced.tier_proposed, advanced.tier_confirmed) == (
        Tier.STANDARD,
        Tier.EXEMPLARY,
        True,
    )


def test_the_tier_proposal_follows_an_overriding_grade(tree, users, advanced):
    annual.annual_grade_confirm(
        grade=advanced, final_grade=Grade.ADVANCED, reason="", confirm_tier=True, user=users.committee
    )
    # Overridden to "up to standard": the branch stays 标准型, and the applied move goes back.
    annual.annual_grade_confirm(
        grade=advanced, final_grade=Grade.STANDARD, reason="整改未完成", confirm_tier=True, user=users.committee
    )
    tree.branch_a.refresh_from_db()
    advanced.refresh_from_db()
    assert (advanced.tier_proposed, tree.branch_a.tier) == (Tier.STANDARD, Tier.STANDARD)


def test_unticking_the_tier_puts_back_the_tier_it_applied(tree, users, advanced):
    annual.annual_grade_confirm(
        grade=advanced, final_grade=Grade.ADVANCED, reason="", confirm_tier=True, user=users.committee
    )
    annual.annual_grade_confirm(
        grade=advanced, final_grade=Grade.ADVANCED, reason="", confirm_tier=False, user=users.committee
    )
    tree.branch_a.refresh_from_db()
    advanced.refresh_from_db()
    assert (tree.branch_a.tier, advanced.tier_confirmed) == (Tier.STANDARD, False)


# --- idempotency ----------------------------------------------------------------------


def test_rolling_up_again_changes_nothing_and_keeps_the_confirmation(tree, users, advanced):
    annual.annual_grade_confirm(
        grade=advanced, final_grade=Grade.STANDARD, reason="整改未完成", confirm_tier=False, user=users.committee
    )
    annual.annual_grade_confirm(
        grade=advanced, final_grade=Grade.ADVANCED, reason="", confirm_tier=True, user=users.committee
    )
    before = AnnualGrade.objects.values().get(pk=advanced.pk)
    again = rollup(tree)
    assert [g.pk for g in again] == [advanced.pk] and not again[0].confirmation_withdrawn
    assert AnnualGrade.objects.values().get(pk=advanced.pk) == before
    assert AnnualGrade.objects.count() == 1
    tree.branch_a.refresh_from_db()
    # The branch is now 示范型 by this confirmation; the year still starts from 标准型.
    assert (tree.branch_a.tier, before["tier_before"], before["tier_proposed"]) == (
        Tier.EXEMPLARY,
        Tier.STANDARD,
        Tier.EXEMPLARY,
    )


def test_new_numbers_withdraw_the_confirmation_and_the_tier_it_applied(tree, users, advanced):
    annual.annual_grade_confirm(
        grade=advanced, final_grade=Grade.ADVANCED, reason="", confirm_tier=True, user=users.committee
    )
    # March republished at 65: (92 + 88 + 65) / 3 = 81.67, up to standard.
    publish(tree.plant, month(3), [(tree.branch_a, "65.00")])
    [grade] = rollup(tree)
    assert grade.confirmation_withdrawn
    grade.refresh_from_db()
    tree.branch_a.refresh_from_db()
    assert (grade.mean_total, grade.proposed_grade, grade.final_grade, grade.confirmed_by) == (
        Decimal("81.67"),
        Grade.STANDARD,
        "",
        None,
    )
    assert (grade.tier_before, grade.tier_proposed, grade.tier_confirmed) == (Tier.STANDARD, Tier.STANDARD, False)
    assert tree.branch_a.tier == Tier.STANDARD
    assert not rollup(tree)[0].confirmation_withdrawn


def test_a_withdrawn_confirmation_leaves_a_tier_someone_has_changed_since(tree, users, advanced):
    annual.annual_grade_confirm(
        grade=advanced, final_grade=Grade.ADVANCED, reason="", confirm_tier=True, user=users.committee
    )
    set_tier(tree.branch_a, Tier.RED_FLAG)  # edited on the branch page after the confirmation
    publish(tree.plant, month(3), [(tree.branch_a, "65.00")])
    [grade] = rollup(tree)
    tree.branch_a.refresh_from_db()
    # Up to standard from 红旗型: it stays 红旗型, and that is where the proposal starts.
    assert grade.confirmation_withdrawn
    assert (tree.branch_a.tier, grade.tier_before, grade.tier_proposed) == (Tier.RED_FLAG, Tier.RED_FLAG, Tier.RED_FLAG)


def test_an_unconfirmed_grade_follows_the_new_numbers_quietly(tree, advanced):
    publish(tree.plant, month(4), [(tree.branch_a, "40.00")])
    [grade] = rollup(tree)
    # (92 + 88 + 95 + 40) / 4 = 78.75
    assert (grade.pk, grade.mean_total, grade.proposed_grade, grade.confirmation_withdrawn) == (
        advanced.pk,
        Decimal("78.75"),
        Grade.STANDARD,
        False,
    )


def test_the_roll_up_queries_do_not_grow_with_branches(tree):
    def count(n_branches: int, year: int) -> tuple[int, int]:
        branches = [f.branch(tree.plant) for _ in range(n_branches)]
        publish(tree.plant, month(1, year), [(b, "80.00") for b in branches])
        tree.plant = OrgUnit.objects.get(pk=tree.plant.pk)  # as a new request would load it
        with CaptureQueriesContext(connection) as first:
            rollup(tree, year=year)
        with CaptureQueriesContext(connection) as again:
            rollup(tree, year=year)
        return len(first), len(again)

    assert count(2, 2022) == count(20, 2023)


# --- members' annual stars ------------------------------------------------------------


def stars_of(tree, year: int = YEAR, branch=None) -> dict[int, tuple[Decimal, int]]:
    rows = annual.member_annual_stars(committee=tree.plant, year=year, branch=branch)
    return {row["member_id"]: (row["year_total"], row["stars"]) for row in rows}


def test_member_stars_for_the_year_use_twelve_times_the_month_bands(tree):
    # Year bands: ★5 ≥ 360, ★4 ≥ 288, ★3 ≥ 216, ★2 ≥ 144.
    members = {total: f.MemberFactory(branch=tree.branch_a) for total in ("359.99", "360", "288", "287.99", "144")}
    low = f.MemberFactory(branch=tree.branch_b)
    for n in range(1, 13):
        # Eleven months of 30.00, 29.99 and 30.00 in December; 24 / 23.99; 12 for the others.
        rows = [
            (members["359.99"], tree.branch_a, "29.99" if n == 12 else "30.00"),
            (members["360"], tree.branch_a, "30.00"),
            (members["288"], tree.branch_a, "24.00"),
            (members["287.99"], tree.branch_a, "23.99" if n == 12 else "24.00"),
            (members["144"], tree.branch_a, "12.00"),
            (low, tree.branch_b, "-1.50" if n == 1 else "0.00"),
        ]
        publish(tree.plant, month(n), [(tree.branch_a, "80.00")], rows)
    stars = stars_of(tree)
    assert stars[members["359.99"].pk] == (Decimal("359.99"), 4)
    assert stars[members["360"].pk] == (Decimal("360.00"), 5)
    assert stars[members["288"].pk] == (Decimal("288.00"), 4)
    assert stars[members["287.99"].pk] == (Decimal("287.99"), 3)
    assert stars[members["144"].pk] == (Decimal("144.00"), 2)
    assert stars[low.pk] == (Decimal("-1.50"), 1)
    ordered = [row["member_id"] for row in annual.member_annual_stars(committee=tree.plant, year=YEAR)]
    assert ordered[:2] == [members["360"].pk, members["359.99"].pk] and ordered[-1] == low.pk


def test_member_stars_count_only_the_latest_version_of_a_month(tree):
    member = f.MemberFactory(branch=tree.branch_a)
    publish(tree.plant, month(1), [(tree.branch_a, "80.00")], [(member, tree.branch_a, "30.00")])
    publish(tree.plant, month(1), [(tree.branch_a, "80.00")], [(member, tree.branch_a, "10.00")])
    publish(tree.plant, month(2), [(tree.branch_a, "80.00")], [(member, tree.branch_a, "5.50")])
    [row] = annual.member_annual_stars(committee=tree.plant, year=YEAR)
    assert (row["year_total"], row["months"], row["stars"]) == (Decimal("15.50"), 2, 1)


def test_a_member_who_moved_counts_the_whole_year_under_each_branch_they_were_in(tree):
    member = f.MemberFactory(branch=tree.branch_a)
    stayer = f.MemberFactory(branch=tree.branch_a)
    publish(
        tree.plant, month(1), [(tree.branch_a, "80.00")], [(member, tree.branch_a, "20"), (stayer, tree.branch_a, "1")]
    )
    publish(
        tree.plant, month(2), [(tree.branch_b, "80.00")], [(member, tree.branch_b, "7"), (stayer, tree.branch_a, "1")]
    )
    assert stars_of(tree, branch=tree.branch_b) == {member.pk: (Decimal("27.00"), 1)}
    assert stars_of(tree, branch=tree.branch_a) == {member.pk: (Decimal("27.00"), 1), stayer.pk: (Decimal("2.00"), 1)}
    last = annual.members_last_branch(committee=tree.plant, year=YEAR, member_ids=[member.pk, stayer.pk])
    assert last == {member.pk: tree.branch_b.pk, stayer.pk: tree.branch_a.pk}
