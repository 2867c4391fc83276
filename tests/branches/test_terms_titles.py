"""Branch terms (届, 换届提醒) and branch titles (样板支部, 示范基地, 摘牌)."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from branches import selectors, services
from branches.models import BranchTerm, BranchTitle
from tests import factories as f

D = datetime.date
Title = BranchTitle.Kind


def open_terms(branch):
    return list(BranchTerm.objects.filter(branch=branch, closed_on__isnull=True))


# --- starting terms -----------------------------------------------------------------


def test_terms_are_numbered_one_two_three_in_order(tree):
    for start in [D(2016, 5, 1), D(2019, 5, 1), D(2022, 5, 1)]:
        services.branch_term_start(branch=tree.branch_a, started_on=start)
    numbers = list(
        BranchTerm.objects.filter(branch=tree.branch_a).order_by("started_on").values_list("number", flat=True)
    )
    assert numbers == [1, 2, 3]


def test_term_numbers_count_per_branch(tree):
    services.branch_term_start(branch=tree.branch_a, started_on=D(2019, 5, 1))
    services.branch_term_start(branch=tree.branch_a, started_on=D(2022, 5, 1))
    term_b = services.branch_term_start(branch=tree.branch_b, started_on=D(2022, 5, 1))
    assert term_b.number == 1


def test_a_new_term_closes_the_previous_one_on_the_new_start_date(tree, users):
    first = services.branch_term_start(branch=tree.branch_a, started_on=D(2020, 1, 10))
    second = services.branch_term_start(branch=tree.branch_a, started_on=D(2023, 2, 3), user=users.secretary)

    first.refresh_from_db()
    assert first.closed_on == D(2023, 2, 3)
    assert open_terms(tree.branch_a) == [second]
    assert BranchTerm.objects.get(pk=second.pk).created_by == users.secretary


def test_the_first_term_is_left_open(tree):
    term = services.branch_term_start(branch=tree.branch_a, started_on=D(2024, 1, 1), note="第一届")
    stored = BranchTerm.objects.get(pk=term.pk)
    assert (stored.number, stored.closed_on, stored.note) == (1, None, "第一届")
    assert selectors.branch_current_term(branch=tree.branch_a) == stored


@pytest.mark.parametrize(
    ("started_on", "length", "ends_on"),
    [
        (D(2024, 3, 1), 3, D(2027, 3, 1)),
        (D(2024, 3, 1), 4, D(2028, 3, 1)),
        (D(2024, 3, 1), 5, D(2029, 3, 1)),
        (D(2024, 2, 29), 3, D(2027, 2, 28)),
        (D(2024, 2, 29), 4, D(2028, 2, 29)),
        (D(2024, 2, 29), 5, D(2029, 2, 28)),
    ],
)
def test_a_term_ends_the_same_calendar_day_length_years_later(tree, started_on, length, ends_on):
    term = services.branch_term_start(branch=tree.branch_a, started_on=started_on, length_years=length)
    stored = BranchTerm.objects.get(pk=term.pk)
    assert (stored.length_years, stored.ends_on) == (length, ends_on)


def test_the_default_term_length_is_three_years(tree):
    term = services.branch_term_start(branch=tree.branch_a, started_on=D(2024, 7, 1))
    assert BranchTerm.objects.get(pk=term.pk).ends_on == D(2027, 7, 1)


@pytest.mark.parametrize("length", [0, 1, 2, 6, 10])
def test_a_term_length_outside_three_to_five_years_is_refused(tree, length):
    with pytest.raises(ValidationError) as excinfo:
        services.branch_term_start(branch=tree.branch_a, started_on=D(2024, 7, 1), length_years=length)
    assert "length_years" in excinfo.value.message_dict
    assert not BranchTerm.objects.filter(branch=tree.branch_a).exists()


@pytest.mark.parametrize("new_start", [D(2022, 5, 1), D(2021, 1, 1)])
def test_a_new_term_must_start_after_the_current_one(tree, new_start):
    current = services.branch_term_start(branch=tree.branch_a, started_on=D(2022, 5, 1))
    with pytest.raises(ValidationError) as excinfo:
        services.branch_term_start(branch=tree.branch_a, started_on=new_start)
    assert "started_on" in excinfo.value.message_dict
    current.refresh_from_db()
    assert current.closed_on is None
    assert BranchTerm.objects.filter(branch=tree.branch_a).count() == 1


def test_only_a_branch_has_terms(tree):
    for unit in (tree.plant, tree.group_a1):
        with pytest.raises(ValidationError):
            services.branch_term_start(branch=unit, started_on=D(2024, 1, 1))
    assert not BranchTerm.objects.exists()


# --- 换届提醒 -------------------------------------------------------------------------


def term_ending_on(branch, ends_on: datetime.date) -> BranchTerm:
    return services.branch_term_start(branch=branch, started_on=services.add_years(ends_on, -3))


def test_terms_expiring_lists_open_terms_ending_within_the_window_including_overdue_ones(tree):
    today = D(2025, 6, 1)
    plant = tree.plant
    soon = term_ending_on(tree.branch_a, D(2025, 8, 30))  # day 90: inside
    overdue = term_ending_on(tree.branch_b, D(2025, 5, 1))  # ran out, no new term yet
    later_branch = f.branch(plant, code="LATER")
    term_ending_on(later_branch, D(2025, 8, 31))  # day 91: outside
    outside_scope = term_ending_on(tree.branch_x, D(2025, 6, 15))  # OTHER committee

    expiring = selectors.terms_expiring(units=selectors.unit_subtree(unit=plant), today=today, within_days=90)
    assert list(expiring) == [overdue, soon]  # ordered by ends_on
    assert outside_scope not in expiring


def test_terms_expiring_includes_a_term_ending_today_and_on_the_last_day_of_the_window(tree):
    today = D(2025, 6, 1)
    ends_today = term_ending_on(tree.branch_a, today)
    ends_on_horizon = term_ending_on(tree.branch_b, today + datetime.timedelta(days=30))
    expiring = selectors.terms_expiring(units=selectors.unit_subtree(unit=tree.plant), today=today, within_days=30)
    assert list(expiring) == [ends_today, ends_on_horizon]


def test_terms_expiring_leaves_out_a_closed_term_even_if_its_end_date_is_near(tree):
    today = D(2025, 6, 1)
    old = term_ending_on(tree.branch_a, D(2025, 7, 1))
    new = services.branch_term_start(branch=tree.branch_a, started_on=D(2025, 5, 20))
    old.refresh_from_db()
    assert old.closed_on == D(2025, 5, 20)

    expiring = selectors.terms_expiring(units=selectors.unit_subtree(unit=tree.plant), today=today, within_days=90)
    assert list(expiring) == []
    assert new.ends_on == D(2028, 5, 20)


def test_terms_expiring_follows_the_clock_when_today_comes_from_timezone(tree):
    term = term_ending_on(tree.branch_a, D(2025, 9, 1))
    units = selectors.unit_subtree(unit=tree.root)
    with time_machine.travel(datetime.datetime(2025, 5, 1, 9, tzinfo=datetime.UTC), tick=False):
        assert list(selectors.terms_expiring(units=units, today=timezone.localdate(), within_days=90)) == []
    with time_machine.travel(datetime.datetime(2025, 6, 10, 9, tzinfo=datetime.UTC), tick=False):
        assert list(selectors.terms_expiring(units=units, today=timezone.localdate(), within_days=90)) == [term]
    with time_machine.travel(datetime.datetime(2026, 1, 1, 9, tzinfo=datetime.UTC), tick=False):
        assert list(selectors.terms_expiring(units=units, today=timezone.localdate(), within_days=90)) == [term]


def test_days_left_is_negative_once_a_term_is_overdue(tree):
    term = term_ending_on(tree.branch_a, D(2025, 6, 1))
    assert term.days_left(D(2025, 5, 30)) == 2
    assert term.days_left(D(2025, 6, 3)) == -2


# --- titles and 摘牌 -----------------------------------------------------------------


def test_a_branch_cannot_hold_two_active_titles_of_the_same_kind(tree, users):
    services.branch_title_award(branch=tree.branch_a, kind=Title.MODEL_BRANCH, awarded_on=D(2024, 1, 5))
    with pytest.raises(ValidationError):
        services.branch_title_award(branch=tree.branch_a, kind=Title.MODEL_BRANCH, awarded_on=D(2025, 1, 5))
    assert BranchTitle.objects.filter(branch=tree.branch_a, kind=Title.MODEL_BRANCH).count() == 1


def test_a_branch_can_hold_titles_of_different_kinds_and_two_branches_the_same_kind(tree, users):
    services.branch_title_award(
        branch=tree.branch_a, kind=Title.MODEL_BRANCH, awarded_on=D(2024, 1, 5), user=users.committee
    )
    services.branch_title_award(branch=tree.branch_a, kind=Title.DEMONSTRATION_BASE, awarded_on=D(2024, 1, 5))
    services.branch_title_award(branch=tree.branch_b, kind=Title.MODEL_BRANCH, awarded_on=D(2024, 1, 5))
    assert {t.kind for t in selectors.branch_active_titles(branch=tree.branch_a)} == {
        Title.MODEL_BRANCH,
        Title.DEMONSTRATION_BASE,
    }
    assert BranchTitle.objects.get(branch=tree.branch_a, kind=Title.MODEL_BRANCH).awarded_by == users.committee


def test_only_a_branch_can_hold_a_title(tree):
    with pytest.raises(ValidationError):
        services.branch_title_award(branch=tree.plant, kind=Title.MODEL_BRANCH, awarded_on=D(2024, 1, 5))
    assert not BranchTitle.objects.exists()


def test_withdrawing_a_title_keeps_the_row_with_date_reason_and_user(tree, users):
    title = services.branch_title_award(branch=tree.branch_a, kind=Title.MODEL_BRANCH, awarded_on=D(2024, 1, 5))
    services.branch_title_withdraw(
        title=title, withdrawn_on=D(2025, 3, 1), reason="  年度考核未达标  ", user=users.committee
    )

    stored = BranchTitle.objects.get(pk=title.pk)
    assert stored.withdrawn_on == D(2025, 3, 1)
    assert stored.withdrawn_reason == "年度考核未达标"
    assert stored.withdrawn_by == users.committee
    assert stored.awarded_on == D(2024, 1, 5)
    assert not stored.is_active
    assert list(selectors.branch_active_titles(branch=tree.branch_a)) == []


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_title_cannot_be_withdrawn_without_a_reason(tree, reason):
    title = services.branch_title_award(branch=tree.branch_a, kind=Title.MODEL_BRANCH, awarded_on=D(2024, 1, 5))
    with pytest.raises(ValidationError) as excinfo:
        services.branch_title_withdraw(title=title, withdrawn_on=D(2025, 3, 1), reason=reason)
    assert "reason" in excinfo.value.message_dict
    stored = BranchTitle.objects.get(pk=title.pk)
    assert (stored.withdrawn_on, stored.withdrawn_reason) == (None, "")


def test_a_title_cannot_be_withdrawn_twice(tree, users):
    title = services.branch_title_award(branch=tree.branch_a, kind=Title.MODEL_BRANCH, awarded_on=D(2024, 1, 5))
    services.branch_title_withdraw(title=title, withdrawn_on=D(2025, 3, 1), reason="第一次", user=users.committee)
    with pytest.raises(ValidationError):
        services.branch_title_withdraw(title=title, withdrawn_on=D(2025, 4, 1), reason="第二次", user=users.admin)
    stored = BranchTitle.objects.get(pk=title.pk)
    assert (stored.withdrawn_on, stored.withdrawn_reason, stored.withdrawn_by) == (
        D(2025, 3, 1),
        "第一次",
        users.committee,
    )


def test_a_title_cannot_be_withdrawn_before_it_was_awarded(tree):
    title = services.branch_title_award(branch=tree.branch_a, kind=Title.MODEL_BRANCH, awarded_on=D(2024, 1, 5))
    with pytest.raises(ValidationError) as excinfo:
        services.branch_title_withdraw(title=title, withdrawn_on=D(2024, 1, 4), reason="错误")
    assert "withdrawn_on" in excinfo.value.message_dict
    assert BranchTitle.objects.get(pk=title.pk).withdrawn_on is None


def test_a_withdrawn_title_can_be_awarded_again_and_both_rows_remain(tree):
    first = services.branch_title_award(branch=tree.branch_a, kind=Title.MODEL_BRANCH, awarded_on=D(2022, 1, 5))
    services.branch_title_withdraw(title=first, withdrawn_on=D(2023, 3, 1), reason="摘牌")
    again = services.branch_title_award(branch=tree.branch_a, kind=Title.MODEL_BRANCH, awarded_on=D(2025, 1, 5))

    rows = BranchTitle.objects.filter(branch=tree.branch_a, kind=Title.MODEL_BRANCH)
    assert rows.count() == 2
    assert list(selectors.branch_active_titles(branch=tree.branch_a)) == [again]
    assert BranchTitle.objects.get(pk=first.pk).withdrawn_on == D(2023, 3, 1)
