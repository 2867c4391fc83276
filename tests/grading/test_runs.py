"""Grading runs: idempotent re-runs, duplicate deliveries, a crash mid-run, the monthly
schedule, the pages that start and follow a run, and ``manage.py grade_month``."""

import datetime
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from branches.activities import services as activities
from branches.activities.models import Attendance
from branches.grading import services, tasks
from branches.grading.models import BranchScore, GradingRun, MemberScore
from branches.models import OrgUnit
from branches.services import month_label
from members.ledger.services import ledger_post_source, rule_version_for
from members.services import member_transfer
from partybuild.celery import app

from .. import factories as f

pytestmark = pytest.mark.django_db

APRIL = datetime.date(2025, 4, 1)
DAY = datetime.date(2025, 4, 10)
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def eager(settings):
    """Tasks run in this process even where REDIS_URL is set (CI): Celery read its
    configuration once, so the app's flag is switched as well as the setting."""
    was = app.conf.task_always_eager  # read first: this may be what loads Celery's configuration
    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = was


@pytest.fixture
def month(tree):
    """April 2025 of PLANT: branch A holds its themed day and one of its two group
    meetings, B only its themed day, where one member is absent; scores entered."""
    a1, a2 = (
        f.MemberFactory(branch=tree.branch_a, group=tree.group_a1),
        f.MemberFactory(branch=tree.branch_a, group=tree.group_a2),
    )
    b1 = f.MemberFactory(branch=tree.branch_b)
    activities.activity_create(branch=tree.branch_a, kind="themed_day", title="主题党日", date=DAY, user=None)
    activities.activity_create(
        branch=tree.branch_a, kind="group_meeting", group=tree.group_a1, title="小组会", date=DAY, user=None
    )
    day_b = activities.activity_create(branch=tree.branch_b, kind="themed_day", title="主题党日", date=DAY, user=None)
    activities.attendance_set(attendance=Attendance.objects.get(activity=day_b, member=b1), status="absent", user=None)
    ledger_post_source(  # a commitment's check posts its points
        members=[a2],
        code="commitment_met",
        month=APRIL,
        source="commitment",
        source_id=1,
        source_key="check",
        reason="节点完成",
        user=None,
    )
    for branch, score in ((tree.branch_a, "80"), (tree.branch_b, "60")):
        enter(branch, score)
    return [a1, a2, b1]


def enter(branch, score: str):
    for dimension in ("committee_work", "production", "other"):
        services.score_input_set(
            branch=branch, month=APRIL, dimension=dimension, score=Decimal(score), not_assessed=False, user=None
        )


def run_month(committee, month=APRIL) -> GradingRun:
    run = services.grading_run_request(committee=committee, month=month)
    services.grading_run_execute(run_id=run.pk)
    run.refresh_from_db()
    return run


def draft(committee, month=APRIL) -> tuple[list[dict], list[dict]]:
    """Every column of every draft row, in a fixed order."""
    return (
        list(BranchScore.objects.filter(committee=committee, month=month).order_by("branch_id").values()),
        list(MemberScore.objects.filter(committee=committee, month=month).order_by("member_id").values()),
    )


def numbers(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k not in ("id", "run_id")} for row in rows]


def next_month() -> datetime.date:
    return (timezone.localdate().replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


# --- runs ----------------------------------------------------------------------------------------


def test_grading_the_same_month_twice_gives_the_same_numbers(tree, month):
    first = run_month(tree.plant)
    branches, members = draft(tree.plant)
    second = run_month(tree.plant)
    assert first.state == second.state == "succeeded"
    again_branches, again_members = draft(tree.plant)
    assert numbers(again_branches) == numbers(branches) and numbers(again_members) == numbers(members)
    # The hand check of one number: A holds 2 of its 4 requirements → basics 50.
    assert BranchScore.objects.get(branch=tree.branch_a, month=APRIL).basics == Decimal("50.00")


def test_the_second_runs_rows_replace_the_firsts(tree, month):
    first = run_month(tree.plant)
    second = run_month(tree.plant)
    assert BranchScore.objects.filter(committee=tree.plant, month=APRIL).count() == 2
    assert MemberScore.objects.filter(committee=tree.plant, month=APRIL).count() == 3
    assert set(BranchScore.objects.values_list("run_id", flat=True)) == {second.pk}
    # A member row whose numbers did not change is left alone: it keeps the run that
    # wrote them (regrading an unchanged month writes no member rows).
    assert set(MemberScore.objects.values_list("run_id", flat=True)) == {first.pk}
    assert (second.branches_graded, second.members_graded) == (2, 3)


def test_a_member_who_left_the_branch_leaves_the_draft_on_the_next_run(tree, month):
    run_month(tree.plant)
    # Transferred to another committee's branch on 30 April: OTHER's member at month end.
    member_transfer(member=month[2], to_branch=tree.branch_x, on_date=datetime.date(2025, 4, 30))
    run_month(tree.plant)
    assert not MemberScore.objects.filter(committee=tree.plant, member=month[2]).exists()
    assert MemberScore.objects.filter(committee=tree.plant, month=APRIL).count() == 2


def test_a_duplicate_delivery_claims_nothing_and_changes_nothing(tree, month):
    run = services.grading_run_request(committee=tree.plant, month=APRIL)
    assert services.grading_run_execute(run_id=run.pk) is not None
    run.refresh_from_db()
    before = draft(tree.plant)
    assert services.grading_run_execute(run_id=run.pk) is None
    after = GradingRun.objects.get(pk=run.pk)
    assert (after.state, after.started_at, after.finished_at) == ("succeeded", run.started_at, run.finished_at)
    assert draft(tree.plant) == before


def test_the_task_delivered_twice_grades_once_and_then_reports_skipped(tree, month):
    run = services.grading_run_request(committee=tree.plant, month=APRIL)
    assert tasks.grade_run(run.pk) == "succeeded"
    before = draft(tree.plant)
    assert tasks.grade_run(run.pk) == "skipped"
    assert draft(tree.plant) == before


def test_a_run_that_fails_mid_way_leaves_the_previous_draft_exactly_as_it_was(tree, month, monkeypatch):
    run_month(tree.plant)
    before = draft(tree.plant)
    enter(tree.branch_b, "100")  # a successful run would now change B's total

    def boom():
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services, "_before_commit", boom)
    run = services.grading_run_request(committee=tree.plant, month=APRIL)
    with pytest.raises(RuntimeError):
        services.grading_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.state == "failed" and run.error == "RuntimeError: disk on fire" and run.finished_at
    assert (run.branches_graded, run.members_graded, run.rule_version) == (0, 0, None)
    assert draft(tree.plant) == before
    monkeypatch.setattr(services, "_before_commit", None)
    run_month(tree.plant)
    old_b = next(row for row in before[0] if row["branch_id"] == tree.branch_b.pk)
    assert BranchScore.objects.get(branch=tree.branch_b, month=APRIL).total > old_b["total"]


def test_a_run_for_a_month_that_has_not_begun_is_refused(tree):
    with pytest.raises(ValidationError, match=month_label(next_month())):
        services.grading_run_request(committee=tree.plant, month=next_month())
    assert not GradingRun.objects.exists()
    # This month may be graded so far.
    assert services.grading_run_request(committee=tree.plant, month=timezone.localdate().replace(day=1))


def test_only_a_party_committee_is_graded(tree):
    with pytest.raises(ValidationError):
        services.grading_run_request(committee=tree.branch_a, month=APRIL)


# --- the schedule -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "graded"),
    [
        # 02:00 in Shanghai is still 30 April 18:00 in UTC: the local date decides.
        (datetime.datetime(2025, 5, 1, 2, 0, tzinfo=SHANGHAI), APRIL),
        (datetime.datetime(2025, 1, 1, 2, 0, tzinfo=SHANGHAI), datetime.date(2024, 12, 1)),
    ],
)
def test_the_scheduled_job_grades_last_month_once_however_often_it_fires(tree, month, eager, time_machine, now, graded):
    time_machine.move_to(now, tick=False)
    first = tasks.grade_previous_month()
    second = tasks.grade_previous_month()
    committees = OrgUnit.objects.filter(kind=OrgUnit.Kind.COMMITTEE)
    assert first == second and len(first) == committees.count() == 3
    runs = GradingRun.objects.all()
    assert runs.count() == 3
    assert {(r.committee_id, r.month, r.trigger, r.state) for r in runs} == {
        (c.pk, graded, "schedule", "succeeded") for c in committees
    }
    assert {r.request_key for r in runs} == {f"schedule:{c.pk}:{graded:%Y-%m}" for c in committees}
    if graded == APRIL:
        assert BranchScore.objects.filter(committee=tree.plant, month=APRIL).count() == 2


def test_the_scheduled_job_leaves_dissolved_committees_alone(tree, eager, time_machine):
    OrgUnit.objects.filter(pk=tree.other.pk).update(dissolved_on=datetime.date(2024, 12, 31))
    time_machine.move_to(datetime.datetime(2025, 5, 1, 2, 0, tzinfo=SHANGHAI), tick=False)
    tasks.grade_previous_month()
    assert set(GradingRun.objects.values_list("committee_id", flat=True)) == {tree.root.pk, tree.plant.pk}


# --- pages ---------------------------------------------------------------------------------------


def test_the_runs_page_lists_runs_and_offers_last_month(tree, users, month, client):
    run = run_month(tree.plant)
    client.force_login(users.committee)
    response = client.get(reverse("grading:runs", args=[tree.plant.pk]))
    html = response.content.decode()
    last = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    assert response.status_code == 200
    assert f'value="{last:%Y-%m}"' in html
    assert reverse("grading:run_detail", args=[run.pk]) in html and "2025年4月" in html
    assert response.context["page"].object_list[0] == run


def test_starting_a_run_in_the_browser_queues_it_on_commit(
    tree, users, month, client, django_capture_on_commit_callbacks
):
    client.force_login(users.committee)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("grading:runs", args=[tree.plant.pk]), {"month": "2025-04"})
    run = GradingRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("grading:run_detail", args=[run.pk])
    assert (run.state, run.trigger, run.requested_by, run.month) == ("queued", "browser", users.committee, APRIL)
    assert len(callbacks) == 1  # the task, enqueued once the request's writes are committed
    services.grading_run_execute(run_id=run.pk)
    assert BranchScore.objects.filter(run=run).count() == 2


def test_in_eager_mode_the_run_has_finished_by_the_time_its_page_opens(
    tree, users, month, client, eager, django_capture_on_commit_callbacks
):
    client.force_login(users.committee)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("grading:runs", args=[tree.plant.pk]), {"month": "2025-04"})
    run = GradingRun.objects.get()
    assert run.state == "succeeded"
    html = client.get(response["Location"]).content.decode()
    assert 'data-state="succeeded"' in html and "100%" in html and "hx-trigger" not in html
    assert BranchScore.objects.filter(run=run).count() == 2


def test_a_month_that_has_not_begun_cannot_be_started_from_the_page(tree, users, client):
    client.force_login(users.committee)
    response = client.post(reverse("grading:runs", args=[tree.plant.pk]), {"month": f"{next_month():%Y-%m}"})
    assert response.status_code == 200
    assert month_label(next_month()) in str(response.context["form"].errors)
    assert not GradingRun.objects.exists()


def test_a_queued_run_polls_its_progress_every_second(tree, users, client):
    run = services.grading_run_request(committee=tree.plant, month=APRIL, user=users.committee)
    client.force_login(users.committee)
    html = client.get(reverse("grading:run_detail", args=[run.pk])).content.decode()
    progress = reverse("grading:run_progress", args=[run.pk])
    assert f'hx-get="{progress}"' in html and 'hx-trigger="every 1s"' in html and 'data-state="queued"' in html
    assert 'aria-valuenow="0"' in html


def test_the_progress_block_reads_the_runs_progress_from_the_cache(tree, users, client):
    run = services.grading_run_request(committee=tree.plant, month=APRIL)
    GradingRun.objects.filter(pk=run.pk).update(state="running", started_at=timezone.now())
    cache.set(services.progress_key(run.pk), 50, 60)
    client.force_login(users.committee)
    response = client.get(reverse("grading:run_progress", args=[run.pk]), headers={"hx-request": "true"})
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert 'aria-valuenow="50"' in html and 'hx-trigger="every 1s"' in html and 'data-state="running"' in html


def test_a_finished_run_stops_polling_and_links_to_the_draft_board(tree, users, month, client):
    run = run_month(tree.plant)
    client.force_login(users.committee)
    html = client.get(reverse("grading:run_progress", args=[run.pk])).content.decode()
    assert "hx-trigger" not in html and 'aria-valuenow="100"' in html
    assert 'data-branches="2" data-members="3"' in html
    assert f'href="{reverse("grading:board", args=[tree.plant.pk, 2025, 4])}?draft=1"' in html


def test_a_failed_run_shows_its_error(tree, users, month, client, monkeypatch):
    def boom():
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services, "_before_commit", boom)
    run = services.grading_run_request(committee=tree.plant, month=APRIL)
    with pytest.raises(RuntimeError):
        services.grading_run_execute(run_id=run.pk)
    client.force_login(users.committee)
    html = client.get(reverse("grading:run_detail", args=[run.pk])).content.decode()
    assert 'data-state="failed"' in html and "RuntimeError: disk on fire" in html and "hx-trigger" not in html
    assert "RuntimeError: disk on fire" in client.get(reverse("grading:runs", args=[tree.plant.pk])).content.decode()


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_runs_page_query_count_does_not_grow_with_runs(tree, users, client):
    version = rule_version_for(unit=tree.plant, month=APRIL)

    def runs(n: int):
        for i in range(n):
            GradingRun.objects.create(
                committee=tree.plant,
                month=APRIL,
                state="succeeded" if i % 2 else "failed",
                requested_by=users.committee if i % 3 else None,
                rule_version=version,
                started_at=timezone.now(),
                finished_at=timezone.now(),
                error="" if i % 2 else "boom",
            )

    client.force_login(users.committee)
    url = reverse("grading:runs", args=[tree.plant.pk])
    runs(2)
    few = count_queries(client, url)
    runs(30)
    assert count_queries(client, url) == few


def test_an_administrator_may_follow_any_committees_runs(tree, users, client):
    run = services.grading_run_request(committee=tree.other, month=APRIL)
    client.force_login(users.admin)
    assert client.get(reverse("grading:runs", args=[tree.other.pk])).status_code == 200
    assert client.get(reverse("grading:run_detail", args=[run.pk])).status_code == 200


def run_urls(tree, run):
    return [
        ("get", reverse("grading:runs", args=[tree.plant.pk])),
        ("post", reverse("grading:runs", args=[tree.plant.pk])),
        ("get", reverse("grading:run_detail", args=[run.pk])),
        ("get", reverse("grading:run_progress", args=[run.pk])),
    ]


@pytest.mark.parametrize("outsider", ["other_secretary", "other_committee", "nobody", "secretary"])
def test_outsiders_and_branch_secretaries_get_404_on_every_run_page(tree, users, client, outsider):
    # A branch secretary under PLANT sees published boards, never runs or drafts.
    run = services.grading_run_request(committee=tree.plant, month=APRIL)
    client.force_login(getattr(users, outsider))
    for method, url in run_urls(tree, run):
        response = getattr(client, method)(url, {"month": "2025-04"} if method == "post" else None)
        assert response.status_code == 404, (outsider, method, url)
    assert GradingRun.objects.count() == 1


def test_a_run_or_committee_that_does_not_exist_is_404(tree, users, client):
    client.force_login(users.admin)
    assert client.get(reverse("grading:run_detail", args=[987654])).status_code == 404
    assert client.get(reverse("grading:runs", args=[tree.branch_a.pk])).status_code == 404  # not a committee


def test_anonymous_visitors_are_sent_to_the_login_page(tree, client):
    run = services.grading_run_request(committee=tree.plant, month=APRIL)
    for method, url in run_urls(tree, run):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url


# --- manage.py grade_month -----------------------------------------------------------------------


def grade_month(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("grade_month", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_grade_month_grades_one_committee_and_prints_its_ranking(tree, month):
    out, _err = grade_month("2025-04", "--committee", "PLANT")
    run = GradingRun.objects.get()
    assert (run.committee, run.month, run.trigger, run.state) == (tree.plant, APRIL, "command", "succeeded")
    a, b = BranchScore.objects.get(branch=tree.branch_a), BranchScore.objects.get(branch=tree.branch_b)
    assert "炼钢厂党委 (PLANT) 2025-04: 2 branches, 3 members, " in out
    assert f"  top 3: 1. 连铸作业区党支部 {a.total}; 2. 设备党支部 {b.total}\n" in out
    assert "  bottom three: none\n" in out


def test_grade_month_lists_the_bottom_three(db):
    committee = f.committee(code="BIG")
    for i, score in enumerate(("80", "70", "60", "50")):
        enter(f.branch(committee, name=f"支部{i + 1}"), score)
    out, _err = grade_month("2025-04", "--committee", "BIG")
    # Totals are half the entered scores (no members, no activities): 40, 35, 30, 25.
    assert "  top 3: 1. 支部1 40.00; 2. 支部2 35.00; 3. 支部3 30.00\n" in out
    assert "  bottom three: 2. 支部2 35.00; 3. 支部3 30.00; 4. 支部4 25.00\n" in out


def test_grade_month_without_a_committee_grades_every_committee_that_is_not_dissolved(tree, month):
    gone = f.committee(code="GONE")
    OrgUnit.objects.filter(pk=gone.pk).update(dissolved_on=datetime.date(2024, 1, 1))
    out, _err = grade_month("2025-04")
    runs = GradingRun.objects.all()
    assert {r.committee.code for r in runs} == {"GROUP", "PLANT", "OTHER"}
    assert {r.state for r in runs} == {"succeeded"} and {r.trigger for r in runs} == {"command"}
    assert "(GROUP) 2025-04: 0 branches" in out and "(OTHER) 2025-04: 1 branches" in out and "GONE" not in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["2025-13"], "is not a month"),
        (["April"], "is not a month"),
        (["2025-04", "--committee", "NOPE"], "No unit has the code 'NOPE'"),
        (["2025-04", "--committee", "BRA"], "is not a party committee"),
    ],
)
def test_grade_month_refuses_bad_arguments_clearly(tree, args, message):
    with pytest.raises(CommandError, match=message):
        grade_month(*args)
    assert not GradingRun.objects.exists()


def test_grade_month_refuses_a_month_that_has_not_begun(tree):
    with translation.override("en"), pytest.raises(CommandError, match="has not begun"):
        grade_month(f"{next_month():%Y-%m}", "--committee", "PLANT")
    assert not GradingRun.objects.exists()


def test_grade_month_reports_a_failed_run_and_exits_with_an_error(tree, month, monkeypatch):
    def boom():
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services, "_before_commit", boom)
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="1 of 1 committees failed"):
        call_command("grade_month", "2025-04", "--committee", "PLANT", stdout=out, stderr=err)
    assert "failed" in err.getvalue() and "disk on fire" in err.getvalue()
    assert GradingRun.objects.get().state == "failed"
