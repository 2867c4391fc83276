"""The home page per role: each role's workbench renders, stays inside the user's scope
and costs a bounded number of queries however much data there is."""

import datetime
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone, translation

from branches.activities import services as activity_services
from branches.grading import services
from branches.grading.models import GradingRun
from branches.reports.models import ReportFile
from members.models import Member

from .. import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(client):
    client.cookies["django_language"] = "en"
    with translation.override("en"):
        yield


def today():
    return timezone.localdate()


def birthday_member(branch, name, n=0):
    """A member who joined the Party this calendar month, some years ago."""
    day = today().replace(year=today().year - 10 - n, day=min(today().day, 28))
    return f.MemberFactory(
        branch=branch, name=name, joined_on=day, converted_on=day.replace(year=day.year + 1), employee_no=f"B{name}"
    )


def test_the_secretary_sees_their_branch_and_nothing_of_another(tree, users, login):
    birthday_member(tree.branch_a, "本支部生日")
    birthday_member(tree.branch_x, "外支部生日")
    response = login(users.secretary).get(reverse("home"))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="workbench-branch-{tree.branch_a.pk}"' in html
    assert "本支部生日" in html and "外支部生日" not in html
    assert f'id="workbench-branch-{tree.branch_x.pk}"' not in html
    assert 'id="forecast-how"' in html  # the forecast says how it is computed
    assert "kind=themed_day" in html and "title=" in html  # one click to log a 政治生日 activity
    assert "workbench-committee" not in html and "workbench-admin" not in html


def test_the_other_secretary_does_not_see_branch_a(tree, users, login):
    birthday_member(tree.branch_a, "本支部生日")
    html = login(users.other_secretary).get(reverse("home")).content.decode()
    assert "本支部生日" not in html and f"workbench-branch-{tree.branch_a.pk}" not in html


def test_the_secretary_home_costs_the_same_with_many_members(tree, users, login, django_assert_max_num_queries):
    for i in range(3):
        birthday_member(tree.branch_a, f"生日{i}", i)
    client = login(users.secretary)
    client.get(reverse("home"))
    with django_assert_max_num_queries(8):  # the content kept, the forecast from its cache
        client.get(reverse("home"))
    cache.clear()
    with django_assert_max_num_queries(86) as few:  # graded afresh
        client.get(reverse("home"))
    for i in range(3, 15):
        birthday_member(tree.branch_a, f"生日{i}", i)
    for branch in (tree.branch_a, tree.branch_b):
        activity_services.activity_create(
            branch=branch, kind="themed_day", title="主题党日", date=today().replace(day=1), user=None
        )
    cache.clear()
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(reverse("home")).content.decode()
    assert html.count("wb-birthday") == 15


def test_committee_staff_see_the_loop_of_their_committee_only(tree, users, login, django_assert_max_num_queries):
    f.MemberFactory(branch=tree.branch_a)
    client = login(users.committee)
    client.get(reverse("home"))
    with django_assert_max_num_queries(8):  # the content kept, the forecast from its cache
        client.get(reverse("home"))
    cache.clear()
    with django_assert_max_num_queries(100) as few:  # three months of the loop and the forecast graded afresh
        client.get(reverse("home"))
    # More branches and members cost nothing more.
    for i in range(6):
        f.MemberFactory(branch=f.branch(tree.plant, name=f"新{i}党支部", code=f"N{i}"))
    cache.clear()
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(reverse("home")).content.decode()
    assert f'id="workbench-committee-{tree.plant.pk}"' in html
    assert f"workbench-committee-{tree.other.pk}" not in html
    this_month = today().replace(day=1)
    assert f'data-month="{this_month:%Y-%m}" data-step="inputs"' in html
    assert reverse("grading:inputs", args=[tree.plant.pk, this_month.year, this_month.month]) in html
    assert "workbench-branch" not in html and "workbench-admin" not in html


def test_committee_staff_see_overdue_terms_with_the_committee(tree, users, login):
    from branches.models import BranchTerm

    BranchTerm.objects.create(
        branch=tree.branch_a, number=3, started_on=datetime.date(2020, 1, 1), ends_on=datetime.date(2023, 1, 1)
    )
    BranchTerm.objects.create(
        branch=tree.branch_x, number=2, started_on=datetime.date(2020, 1, 1), ends_on=datetime.date(2023, 1, 1)
    )
    html = login(users.committee).get(reverse("home")).content.decode()
    assert 'id="workbench-terms"' in html and "Overdue" in html
    assert tree.branch_a.name in html and tree.plant.name in html
    assert tree.branch_x.name not in html


def test_the_administrator_sees_users_without_a_role_jobs_failed_runs_and_schedules(
    tree, users, login, django_assert_max_num_queries
):
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    crontab = CrontabSchedule.objects.create(minute="0", hour="8")
    PeriodicTask.objects.create(name="每日提醒", task="partybuild.tasks.remind", crontab=crontab)
    ReportFile.objects.create(committee=tree.plant, year=2025, format="xlsx", state="failed", error="boom")
    GradingRun.objects.create(
        committee=tree.plant, month=datetime.date(2025, 4, 1), state=GradingRun.State.FAILED, error="ZeroDivision"
    )
    client = login(users.admin)
    with django_assert_max_num_queries(22):
        client.get(reverse("home"))
    with django_assert_max_num_queries(6):  # kept: no count over the members
        html = client.get(reverse("home")).content.decode()
    assert 'id="workbench-admin"' in html
    assert "nobody" in html  # the user without a role
    assert "每日提醒" in html and "ZeroDivision" in html and tree.plant.name in html


def test_a_user_without_a_role_sees_no_workbench(users, login):
    html = login(users.nobody).get(reverse("home")).content.decode()
    assert "workbench" not in html


def test_the_activity_form_is_prefilled_from_the_birthday_link(tree, users, login):
    day = today().replace(day=1)
    response = login(users.secretary).get(
        reverse("activities:create") + f"?branch={tree.branch_a.pk}&kind=themed_day&date={day:%Y-%m-%d}&title=政治生日"
    )
    html = response.content.decode()
    assert 'value="政治生日"' in html
    assert 'value="themed_day" selected' in html


def test_the_loop_moves_from_scores_to_grading_to_publication(tree, users, login):
    from partybuild import workbench

    month = datetime.date(2025, 4, 1)
    f.MemberFactory(branch=tree.branch_a)
    loop = workbench.loop_month(committee=tree.plant, month=month, today=datetime.date(2025, 5, 2))
    assert loop.step == "inputs" and loop.missing == 6 and loop.draft_state == "none"
    for branch in (tree.branch_a, tree.branch_b):
        for dimension in ("committee_work", "production", "other"):
            services.score_input_set(branch=branch, month=month, dimension=dimension, score=Decimal(80), user=None)
    loop = workbench.loop_month(committee=tree.plant, month=month, today=datetime.date(2025, 5, 2))
    assert loop.step == "run" and loop.missing == 0
    run = services.grading_run_request(committee=tree.plant, month=month)
    services.grading_run_execute(run_id=run.pk)
    loop = workbench.loop_month(committee=tree.plant, month=month, today=datetime.date(2025, 5, 2))
    assert loop.step == "publish" and loop.draft_state == "fresh" and loop.publishable
    assert loop.last_run.pk == run.pk
    activity_services.activity_create(
        branch=tree.branch_a, kind="themed_day", title="主题党日", date=datetime.date(2025, 4, 21), user=None
    )
    loop = workbench.loop_month(committee=tree.plant, month=month, today=datetime.date(2025, 5, 2))
    assert loop.step == "run" and loop.draft_state == "stale"
    services.grading_run_execute(run_id=services.grading_run_request(committee=tree.plant, month=month).pk)
    from branches.grading import publishing

    publishing.board_publish(committee=tree.plant, month=month, user=None)
    loop = workbench.loop_month(committee=tree.plant, month=month, today=datetime.date(2025, 5, 2))
    assert loop.step == "done" and loop.published.version == 1 and not loop.publishable


def test_the_month_page_shows_the_loop_with_its_next_action(tree, users, login):
    month = datetime.date(2025, 4, 1)
    f.MemberFactory(branch=tree.branch_a)
    url = reverse("grading:board", args=[tree.plant.pk, 2025, 4])
    html = login(users.committee).get(url).content.decode()
    assert 'id="loop"' in html
    assert 'data-step="inputs" data-state="current"' in html and 'data-step="talks" data-state="todo"' in html
    assert reverse("grading:inputs", args=[tree.plant.pk, 2025, 4]) in html
    for branch in (tree.branch_a, tree.branch_b):
        for dimension in ("committee_work", "production", "other"):
            services.score_input_set(branch=branch, month=month, dimension=dimension, score=Decimal(80), user=None)
    services.grading_run_execute(run_id=services.grading_run_request(committee=tree.plant, month=month).pk)
    html = login(users.committee).get(url + "?draft=1").content.decode()
    assert 'data-step="run" data-state="done"' in html
    assert 'data-step="review" data-state="current"' in html and 'data-step="publish" data-state="current"' in html
    # The draft board has the 录入评分 and 公示 buttons.
    assert 'id="draft-inputs"' in html and 'id="draft-publish"' in html
    assert reverse("grading:publish", args=[tree.plant.pk, 2025, 4]) in html


def test_the_loop_is_not_shown_to_those_who_do_not_manage_grading(tree, users, login):
    html = login(users.secretary).get(reverse("grading:board", args=[tree.plant.pk, 2025, 4])).content.decode()
    assert 'id="loop"' not in html and "draft-publish" not in html


def test_the_committee_page_groups_its_buttons_by_task(tree, users, login):
    html = login(users.committee).get(reverse("branches:unit_detail", args=[tree.plant.pk])).content.decode()
    for group in ("organisation", "grading", "reports"):
        assert f'data-group="{group}"' in html
    grading = html[html.index('data-group="grading"') : html.index('data-group="reports"')]
    assert reverse("grading:runs", args=[tree.plant.pk]) in grading
    assert reverse("grading:talks", args=[tree.plant.pk]) in grading
    reports = html[html.index('data-group="reports"') :]
    assert reverse("reports:exports", args=[tree.plant.pk]) in reports
    branch_html = login(users.secretary).get(reverse("branches:unit_detail", args=[tree.branch_a.pk])).content.decode()
    assert 'data-group="grading"' not in branch_html and 'data-group="organisation"' in branch_html


def test_committee_staff_see_which_branches_are_heading_for_the_bottom_three(tree, users, login):
    extra = [f.branch(tree.plant, name=f"第{i}党支部", code=f"BR{i}") for i in range(3)]
    for branch in [tree.branch_a, tree.branch_b, *extra]:
        f.MemberFactory(branch=branch)
    activity_services.activity_create(
        branch=tree.branch_a, kind="themed_day", title="主题党日", date=today().replace(day=1), user=None
    )
    html = login(users.committee).get(reverse("home")).content.decode()
    block = html[html.index(f'id="committee-forecast-{tree.plant.pk}"') :]
    block = block[: block.index("</div>")]
    assert tree.branch_b.name in block and tree.branch_a.name not in block
    assert block.count("wb-at-risk") == 4  # the four that logged nothing tie at the bottom


def test_the_committee_home_counts_the_current_members_of_its_scope_only(tree, users, login):
    f.MemberFactory(branch=tree.branch_a, status="full")
    f.MemberFactory(branch=tree.branch_b, status="probationary", converted_on=None)
    f.MemberFactory(branch=tree.branch_a, left_on=datetime.date(2024, 1, 1))  # left: not counted
    f.MemberFactory(branch=tree.branch_x)  # another committee's
    mine = Member.objects.filter(branch__path__startswith=tree.plant.path, left_on__isnull=True)
    response = login(users.committee).get(reverse("home"))
    assert [(unit, members) for unit, _branches, members in response.context["top_rows"]] == [
        (tree.plant, mine.count())
    ]
    assert response.context["member_total"] == mine.count()
    assert response.context["probationary_total"] == mine.filter(status="probationary").count()
    assert response.context["probationary_total"] >= 1
