"""Setup, draw, redraw, dissolved and new units, the schedule and scoring."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from branches import services as branch_services
from branches.reportback import drawing, selectors, services, tasks
from branches.reportback.models import Draw, Report

from .. import factories as f
from .helpers import JAN, make_units, month, set_up

pytestmark = pytest.mark.django_db


@pytest.fixture
def district(db):
    committee = f.committee(name="大东区委", code="DADONG")
    streets = make_units(committee, 12, "街道")
    offices = make_units(committee, 60, "区直")
    return committee, streets, offices


def test_setup_refuses_quotas_that_do_not_reach_every_unit_and_says_what_would(district):
    committee, streets, offices = district
    with pytest.raises(ValidationError) as exc:
        set_up(committee, [("街道", 1, streets), ("区直单位", 9, offices)])
    errors = exc.value.message_dict
    assert "cat1_quota" in errors and "cat2_quota" in errors
    assert "6" in errors["cat1_quota"][0] and "12" in errors["cat1_quota"][0] and "2" in errors["cat1_quota"][0]
    assert "54" in errors["cat2_quota"][0] and "10" in errors["cat2_quota"][0]


def test_setup_refuses_a_unit_of_another_committee_and_unnamed_categories(district):
    committee, streets, _offices = district
    stranger = f.branch(f.committee(code="ELSE"), code="STRANGER")
    with pytest.raises(ValidationError) as exc:
        set_up(committee, [("", 2, [*streets, stranger])])
    assert "__all__" in exc.value.message_dict and "cat1_name" in exc.value.message_dict


def test_a_cycle_of_2_plus_13_covers_all_72_units_once(district):
    committee, streets, offices = district
    setup = set_up(committee, [("街道", 2, streets), ("区直单位", 13, offices)])
    seen = []
    for n in range(6):
        draw = services.draw_month(setup=setup, month=month(n), user=None)
        units = list(draw.reports.values_list("unit_id", "category__name"))
        expected_offices = 13 if n < 4 else (60 - 52 if n == 4 else 0)
        if n < 5:
            assert sum(1 for _u, c in units if c == "街道") == 2
            assert sum(1 for _u, c in units if c == "区直单位") == min(13, 60 - 13 * n)
        seen += [u for u, _c in units]
        assert expected_offices >= 0
    assert sorted(seen) == sorted(u.pk for u in [*streets, *offices])
    # The next cycle starts again from everyone.
    draw = services.draw_month(setup=setup, month=month(6), user=None)
    assert draw.reports.count() == 15


def test_a_draw_is_recorded_and_replays_to_the_same_result(district):
    committee, streets, offices = district
    setup = set_up(committee, [("街道", 2, streets), ("区直单位", 13, offices)])
    draw = services.draw_month(setup=setup, month=JAN, user=None)
    assert draw.algorithm == drawing.ALGORITHM and len(draw.seed) == 64
    street_cat = setup.categories.get(name="街道")
    assert draw.candidates[str(street_cat.pk)] == sorted(u.pk for u in streets)
    replayed = drawing.replay(candidates=draw.candidates, quotas=draw.quotas, seed=draw.seed, algorithm=draw.algorithm)
    recorded = {}
    for category_id, unit_id in draw.reports.order_by("position").values_list("category_id", "unit_id"):
        recorded.setdefault(category_id, []).append(unit_id)
    assert replayed == recorded


def test_a_month_already_drawn_is_not_drawn_again(district):
    committee, streets, offices = district
    setup = set_up(committee, [("街道", 2, streets), ("区直单位", 13, offices)])
    first = services.draw_month(setup=setup, month=JAN, user=None)
    again = services.draw_month(setup=setup, month=JAN, user=None)
    assert again.pk == first.pk and Draw.objects.count() == 1


def test_a_redraw_needs_a_reason_and_keeps_the_first_draw(district):
    committee, streets, offices = district
    setup = set_up(committee, [("街道", 2, streets), ("区直单位", 13, offices)])
    first = services.draw_month(setup=setup, month=JAN, user=None)
    with pytest.raises(ValidationError):
        services.draw_redraw(draw=first, user=None, reason=" ")
    second = services.draw_redraw(draw=first, user=None, reason="抽签时会场断网，重新抽取")
    first.refresh_from_db()
    assert first.state == Draw.State.SUPERSEDED and first.superseded_by == second
    assert second.is_standing and second.redraw_reason == "抽签时会场断网，重新抽取"
    assert Report.objects.filter(draw=first).count() == 15  # the first draw's result stays visible
    # Both replay to what they recorded; the redraw drew from the same candidates.
    assert second.candidates == first.candidates
    with pytest.raises(ValidationError):
        services.draw_redraw(draw=first, user=None, reason="again")  # superseded: no second redraw of it


def test_a_scored_month_cannot_be_redrawn(district):
    committee, streets, offices = district
    setup = set_up(committee, [("街道", 2, streets), ("区直单位", 13, offices)])
    draw = services.draw_month(setup=setup, month=JAN, user=None)
    services.assessment_set(report=draw.reports.first(), assessor="王书记", score=Decimal("90"), user=None)
    with pytest.raises(ValidationError):
        services.draw_redraw(draw=draw, user=None, reason="想换")


def test_a_dissolved_unit_leaves_the_pool(district):
    committee, streets, offices = district
    setup = set_up(committee, [("街道", 2, streets), ("区直单位", 13, offices)])
    gone = offices[0]
    type(gone).objects.filter(pk=gone.pk).update(dissolved_on=datetime.date(2025, 12, 31))
    drawn = []
    for n in range(6):
        drawn += list(
            services.draw_month(setup=setup, month=month(n), user=None).reports.values_list("unit_id", flat=True)
        )
    assert gone.pk not in drawn and len(drawn) == 71


def test_a_unit_added_mid_cycle_joins_it_if_it_fits_else_the_next(district):
    committee, streets, offices = district
    setup = set_up(committee, [("街道", 2, streets), ("区直单位", 13, offices[:-2])])
    for n in range(3):
        services.draw_month(setup=setup, month=month(n), user=None)
    # 58 offices, 39 drawn, 19 left for 3 months at 13: one more fits this cycle.
    joining = offices[-2]
    setup = set_up(committee, [("街道", 2, streets), ("区直单位", 13, offices[:-1])], today=month(3))
    assert setup.pool.get(unit=joining).joins_from == JAN
    drawn = []
    for n in range(3, 6):
        drawn += list(
            services.draw_month(setup=setup, month=month(n), user=None).reports.values_list("unit_id", flat=True)
        )
    assert joining.pk in drawn
    # Added after the cycle's last month was drawn: no month of it is left, so the next cycle.
    waiting = offices[-1]
    setup = set_up(committee, [("街道", 2, streets), ("区直单位", 13, offices)], today=month(5))
    assert setup.pool.get(unit=waiting).joins_from == month(6)
    offices_pk = str(setup.categories.get(name="区直单位").pk)
    assert waiting.pk in services.draw_month(setup=setup, month=month(6), user=None).candidates[offices_pk]


def test_the_scheduled_task_draws_once_on_or_after_the_draw_day(district, celery_eager):
    committee, streets, offices = district
    setup = set_up(committee, [("街道", 2, streets), ("区直单位", 13, offices)])
    with time_machine.travel(datetime.datetime(2026, 1, 19, 6, 0), tick=False):
        assert tasks.draw_due_months() == []
    with time_machine.travel(datetime.datetime(2026, 1, 21, 6, 0), tick=False):
        [draw_id] = tasks.draw_due_months()
        assert tasks.draw_due_months() == []  # beat firing again: nothing more
        assert tasks.draw_setup_month(setup.pk, 2026, 1) == draw_id  # a redelivered task: the same draw
    draw = Draw.objects.get()
    assert draw.trigger == Draw.Trigger.SCHEDULE and draw.started_by is None


@pytest.mark.parametrize(
    ("scoring", "scores", "expected"),
    [
        ("mean", ["90", "80", "70.5"], Decimal("80.17")),
        ("trimmed", ["90", "80", "70.5"], Decimal("80.00")),
        ("trimmed", ["95", "88", "86.25", "60"], Decimal("87.13")),  # (88 + 86.25) / 2 = 87.125 → half-up
        ("trimmed", ["90", "81"], Decimal("85.50")),  # fewer than three: the plain mean
    ],
)
def test_the_unit_score_is_the_mean_or_trimmed_mean_half_up(district, scoring, scores, expected):
    committee, streets, offices = district
    setup = set_up(committee, [("街道", 2, streets), ("区直单位", 13, offices)], scoring=scoring)
    report = services.draw_month(setup=setup, month=JAN, user=None).reports.first()
    for i, score in enumerate(scores):
        services.assessment_set(report=report, assessor=f"评委{i}", score=Decimal(score), user=None)
    services.assessment_set(report=report, assessor="评委0", score=Decimal(scores[0]), user=None)  # changed, not added
    assert report.assessments.count() == len(scores)
    assert selectors.scores_of(reports=Report.objects.filter(pk=report.pk))[report.pk] == expected
    assert selectors.month_scores(unit_ids=[report.unit_id], month=JAN)[report.unit_id].score == expected


def test_a_drawn_month_keeps_the_way_of_scoring_it_was_drawn_with(district):
    committee, streets, offices = district
    setup = set_up(committee, [("街道", 2, streets), ("区直单位", 13, offices)], scoring="trimmed")
    report = services.draw_month(setup=setup, month=JAN, user=None).reports.first()
    for i, score in enumerate(["90", "80", "70.5"]):
        services.assessment_set(report=report, assessor=f"评委{i}", score=Decimal(score), user=None)
    set_up(committee, [("街道", 2, streets), ("区直单位", 13, offices)], scoring="mean")  # from now on
    assert selectors.scores_of(reports=Report.objects.filter(pk=report.pk))[report.pk] == Decimal("80.00")
    assert services.draw_month(setup=setup, month=month(1), user=None).scoring == "mean"


def test_scores_are_refused_out_of_range_and_in_a_closed_month(district):
    committee, streets, offices = district
    setup = set_up(committee, [("街道", 2, streets), ("区直单位", 13, offices)])
    report = services.draw_month(setup=setup, month=JAN, user=None).reports.first()
    with pytest.raises(ValidationError):
        services.assessment_set(report=report, assessor="王", score=Decimal("100.5"), user=None)
    branch_services.month_close(committee=committee, month=JAN)
    with pytest.raises(ValidationError, match="2026"):
        services.assessment_set(report=report, assessor="王", score=Decimal("90"), user=None)


def test_the_draw_splits_units_into_two_half_day_sessions_at_month_end(district):
    committee, streets, offices = district
    setup = set_up(committee, [("街道", 2, streets), ("区直单位", 13, offices)])
    draw = services.draw_month(setup=setup, month=JAN, user=None)
    morning, afternoon = draw.sessions.order_by("number")
    assert morning.date == afternoon.date == datetime.date(2026, 1, 30)  # the last weekday
    assert (morning.reports.count(), afternoon.reports.count()) == (8, 7)
    assert sorted(morning.reports.values_list("order", flat=True)) == list(range(1, 9))


def test_a_month_is_drawn_at_the_earliest_in_the_month_before(district):
    committee, streets, offices = district
    setup = set_up(committee, [("街道", 2, streets), ("区直单位", 13, offices)])
    with time_machine.travel(datetime.datetime(2026, 1, 28, 9, 0), tick=False):
        assert services.draw_month(setup=setup, month=month(1), user=None).month == month(1)
        with pytest.raises(ValidationError):
            services.draw_month(setup=setup, month=month(2), user=None)
