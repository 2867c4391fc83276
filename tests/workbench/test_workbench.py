"""The workbench's items, each computed against data with a known answer: requirements
held and still due, the 主题党日 day, 政治生日, training pace, last month's standing and
the month-to-date forecast (graded and rolled back)."""

import datetime
from decimal import Decimal

import pytest

from branches.activities import services as activity_services
from branches.grading import publishing, services
from branches.grading.models import BranchScore, GradingRun, MemberScore
from partybuild import workbench

from .. import factories as f

pytestmark = pytest.mark.django_db

APRIL = datetime.date(2025, 4, 1)
MARCH = datetime.date(2025, 3, 1)


def log(branch, kind, day, **kwargs):
    return activity_services.activity_create(
        branch=branch, kind=kind, title=kwargs.pop("title", kind), date=day, user=None, **kwargs
    )


def enter(branch, score, month=APRIL):
    for dimension in ("committee_work", "production", "other"):
        services.score_input_set(branch=branch, month=month, dimension=dimension, score=Decimal(score), user=None)


def grade_and_publish(committee, month):
    run = services.grading_run_request(committee=committee, month=month)
    services.grading_run_execute(run_id=run.pk)
    return publishing.board_publish(committee=committee, month=month, user=None)


def test_requirements_held_and_still_due_with_the_themed_day(tree, member_a):
    log(tree.branch_a, "themed_day", datetime.date(2025, 4, 21))
    panel = workbench.secretary_panel(branch=tree.branch_a, today=datetime.date(2025, 4, 22), forecast=False)
    assert [i.requirement.kind for i in panel.held] == ["themed_day"]
    due = [i.requirement.kind for i in panel.due]
    # The monthly 支委会 and one 党小组会 per group (two groups) are still due.
    assert due.count("committee_meeting") == 1 and due.count("group_meeting") == 2
    assert "themed_day" not in due
    assert panel.themed_day == datetime.date(2025, 4, 21) and panel.themed_day_held
    assert panel.days_left_in_month == 8


def test_themed_day_countdown_before_it_is_held(tree):
    panel = workbench.secretary_panel(branch=tree.branch_a, today=datetime.date(2025, 4, 10), forecast=False)
    assert panel.themed_day == datetime.date(2025, 4, 21)
    assert panel.days_to_themed_day == 11 and not panel.themed_day_held


def test_political_birthdays_are_this_months_joining_anniversaries_of_the_branch(tree):
    april = f.MemberFactory(branch=tree.branch_a, name="四月生", joined_on=datetime.date(2001, 4, 15))
    f.MemberFactory(branch=tree.branch_a, name="七月生", joined_on=datetime.date(2010, 7, 1))
    f.MemberFactory(branch=tree.branch_x, name="别支部", joined_on=datetime.date(2001, 4, 3))
    f.MemberFactory(
        branch=tree.branch_a,
        name="已离开",
        joined_on=datetime.date(2001, 4, 9),
        left_on=datetime.date(2024, 1, 1),
    )
    birthdays = workbench.political_birthdays(branch=tree.branch_a, today=datetime.date(2025, 4, 10))
    assert [(b.member, b.day, b.years) for b in birthdays] == [(april, datetime.date(2025, 4, 15), 24)]


def test_a_leap_day_joining_is_kept_on_the_28th(tree):
    f.MemberFactory(
        branch=tree.branch_a,
        joined_on=datetime.date(2004, 2, 29),
        converted_on=datetime.date(2005, 3, 1),
        birth_date=datetime.date(1980, 1, 1),
    )
    [birthday] = workbench.political_birthdays(branch=tree.branch_a, today=datetime.date(2025, 2, 1))
    assert birthday.day == datetime.date(2025, 2, 28)


def test_training_pace_is_the_requirement_times_the_elapsed_share_of_the_year(tree):
    behind = f.MemberFactory(branch=tree.branch_a, name="落后", employee_no="E1")
    on_pace = f.MemberFactory(branch=tree.branch_a, name="达标", employee_no="E2")
    training = log(tree.branch_a, "training", datetime.date(2025, 3, 10), class_hours=Decimal("20"))
    # Only 达标 attended: 落后 is marked absent.
    attendance = training.attendances.get(member=behind)
    activity_services.attendance_set(attendance=attendance, status="absent", user=None)
    today = datetime.date(2025, 7, 2)  # 183 of 365 days gone
    fraction, rows = workbench.training_pace(branch=tree.branch_a, today=today)
    assert fraction == Decimal(183) / Decimal(365)
    # 40 h × 183/365 = 20.05… → 20.1 h by now: 达标's 20 h is just behind too; 落后 furthest.
    assert [(r.member, r.hours, r.expected) for r in rows] == [
        (behind, Decimal("0.0"), Decimal("20.1")),
        (on_pace, Decimal("20.0"), Decimal("20.1")),
    ]
    # A month earlier 20 h is ahead of the pace (40 × 152/365 = 16.7).
    _fraction, rows = workbench.training_pace(branch=tree.branch_a, today=datetime.date(2025, 6, 1))
    assert [r.member for r in rows] == [behind]


def test_pace_of_a_committee_tracked_from_july_starts_in_july():
    fraction = workbench.year_elapsed_fraction(today=datetime.date(2025, 7, 31), tracked_from=datetime.date(2025, 7, 1))
    assert fraction == Decimal(31) / Decimal(184)
    assert workbench.year_elapsed_fraction(today=datetime.date(2025, 6, 1), tracked_from=datetime.date(2025, 7, 1)) == 0


def test_last_months_published_rank_score_and_movement(tree, member_a):
    f.MemberFactory(branch=tree.branch_b)
    enter(tree.branch_a, 60, MARCH)
    enter(tree.branch_b, 90, MARCH)
    grade_and_publish(tree.plant, MARCH)
    enter(tree.branch_a, 95, APRIL)
    enter(tree.branch_b, 50, APRIL)
    grade_and_publish(tree.plant, APRIL)
    standing = workbench.published_standing(committee=tree.plant, branch=tree.branch_a, month=APRIL)
    assert (standing.rank, standing.graded, standing.bottom_three) == (1, 2, False)
    assert standing.movement.kind == "up" and standing.movement.by == 1
    published = publishing.latest_publication(committee=tree.plant, month=APRIL)
    assert standing.total == published.branch_scores.get(branch=tree.branch_a).total
    assert (
        workbench.published_standing(committee=tree.plant, branch=tree.branch_a, month=datetime.date(2025, 5, 1))
        is None
    )


def test_the_first_published_month_has_no_movement(tree, member_a):
    enter(tree.branch_a, 60, MARCH)
    enter(tree.branch_b, 90, MARCH)
    grade_and_publish(tree.plant, MARCH)
    standing = workbench.published_standing(committee=tree.plant, branch=tree.branch_b, month=MARCH)
    assert standing.rank == 1 and standing.movement is None


@pytest.fixture
def five_branches(tree):
    """PLANT grades five branches, so the bottom three can be flagged."""
    extra = [f.branch(tree.plant, name=f"第{i}党支部", code=f"BR{i}") for i in range(3)]
    for branch in [tree.branch_a, tree.branch_b, *extra]:
        f.MemberFactory(branch=branch)
    return [tree.branch_a, tree.branch_b, *extra]


def test_forecast_grades_the_month_so_far_and_writes_nothing(tree, five_branches):
    # 连铸 holds this month's meetings so far; nobody else has logged anything.
    log(tree.branch_a, "themed_day", datetime.date(2025, 4, 21))
    log(tree.branch_a, "committee_meeting", datetime.date(2025, 4, 8))
    forecast = workbench.month_forecast(committee=tree.plant, month=APRIL)
    assert forecast.graded == 5
    top = forecast.row(tree.branch_a.pk)
    assert top.rank == 1 and not top.bottom_three and top.total > 0
    low = forecast.row(tree.branch_b.pk)
    assert low.bottom_three and low.total < top.total
    # The scratch run and its draft were rolled back.
    assert not GradingRun.objects.exists()
    assert not BranchScore.objects.exists() and not MemberScore.objects.exists()


def test_forecast_leaves_an_existing_draft_as_it_was(tree, five_branches):
    enter(tree.branch_b, 80)
    run = services.grading_run_request(committee=tree.plant, month=APRIL)
    services.grading_run_execute(run_id=run.pk)
    before = list(BranchScore.objects.order_by("pk").values_list("pk", "branch_id", "total", "rank", "run_id"))
    log(tree.branch_a, "themed_day", datetime.date(2025, 4, 21))
    forecast = workbench.month_forecast(committee=tree.plant, month=APRIL)
    assert forecast.row(tree.branch_a.pk).total > 0
    assert list(BranchScore.objects.order_by("pk").values_list("pk", "branch_id", "total", "rank", "run_id")) == before
    assert GradingRun.objects.count() == 1


def test_the_secretary_panel_flags_the_risk(tree, five_branches):
    log(tree.branch_b, "themed_day", datetime.date(2025, 4, 21))
    panel = workbench.secretary_panel(branch=tree.branch_a, today=datetime.date(2025, 4, 25))
    assert panel.forecast_row is not None and panel.at_risk
    other = workbench.secretary_panel(branch=tree.branch_b, today=datetime.date(2025, 4, 25))
    assert not other.at_risk and other.forecast_row.rank == 1


def test_the_secretary_sees_the_latest_published_month_while_last_month_is_a_draft(tree, member_a):
    f.MemberFactory(branch=tree.branch_b)
    enter(tree.branch_a, 60, MARCH)
    enter(tree.branch_b, 90, MARCH)
    grade_and_publish(tree.plant, MARCH)
    services.grading_run_execute(run_id=services.grading_run_request(committee=tree.plant, month=APRIL).pk)
    panel = workbench.secretary_panel(branch=tree.branch_a, today=datetime.date(2025, 5, 6), forecast=False)
    assert panel.last_month.month == MARCH and panel.last_month.rank == 2


def test_the_forecast_is_cached_until_something_is_logged(tree, five_branches, django_assert_max_num_queries):
    from django.core.cache import cache

    cache.clear()
    log(tree.branch_b, "themed_day", datetime.date(2025, 4, 21))
    first = workbench.month_forecast(committee=tree.plant, month=APRIL)
    with django_assert_max_num_queries(12):
        again = workbench.month_forecast(committee=tree.plant, month=APRIL)
    assert again.rows == first.rows
    log(tree.branch_a, "themed_day", datetime.date(2025, 4, 21))
    after = workbench.month_forecast(committee=tree.plant, month=APRIL)
    assert after.row(tree.branch_a.pk).total > first.row(tree.branch_a.pk).total


def test_a_home_page_takes_a_forecast_made_in_the_last_minute(tree, five_branches, django_assert_max_num_queries):
    log(tree.branch_b, "themed_day", datetime.date(2025, 4, 21))
    first = workbench.month_forecast(committee=tree.plant, month=APRIL)
    log(tree.branch_a, "themed_day", datetime.date(2025, 4, 21))
    with django_assert_max_num_queries(0):  # neither the inputs nor a grading
        recent = workbench.month_forecast(committee=tree.plant, month=APRIL, recent=True)
    assert recent.rows == first.rows
    # Without ``recent`` the change is seen, and the home page then takes that forecast.
    after = workbench.month_forecast(committee=tree.plant, month=APRIL)
    assert after.row(tree.branch_a.pk).total > first.row(tree.branch_a.pk).total
    assert workbench.month_forecast(committee=tree.plant, month=APRIL, recent=True).rows == after.rows


def test_talk_follow_ups_overdue_and_due_this_week_of_the_branch_only(tree, member_a, member_x):
    from members.reviews import services as reviews

    def talk(member, due):
        return reviews.member_talk_record(
            member=member,
            held_on=datetime.date(2025, 4, 1),
            kind="reminder",
            talker_name="书记",
            topic="谈心",
            user=None,
            follow_up="回访",
            follow_up_due=due,
        )

    overdue = talk(member_a, datetime.date(2025, 4, 8))
    soon = talk(member_a, datetime.date(2025, 4, 15))
    talk(member_a, datetime.date(2025, 5, 30))  # not yet
    talk(member_x, datetime.date(2025, 4, 8))  # another branch
    rows = list(workbench.talk_follow_ups_due(branch=tree.branch_a, today=datetime.date(2025, 4, 10)))
    assert rows == [overdue, soon]


def test_a_forecast_that_fails_leaves_the_page_without_one(tree, five_branches, monkeypatch):
    def broken(**_kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr("branches.grading.engine.grade", broken)
    assert workbench.month_forecast(committee=tree.plant, month=APRIL) is None
    assert not GradingRun.objects.exists()
