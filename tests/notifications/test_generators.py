"""Each generator: who gets the reminder, and from which day. Fixed dates in April and
May 2025 (the conftest tree tracks every month; the default rule set holds the 主题党日
on the 21st)."""

import datetime
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from branches.activities import services as activities
from branches.grading import publishing
from branches.grading import services as grading
from branches.notifications import generators
from branches.notifications.models import Kind, Notification
from branches.services import branch_term_start
from members.models import Member
from members.reviews import services as reviews

from .. import factories as f

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def rows(kind: str) -> list[tuple[str, str, str]]:
    return sorted(Notification.objects.filter(kind=kind).values_list("user__username", "subject", "period").order_by())


def test_the_themed_day_is_announced_from_three_days_before_to_secretaries_of_branches_that_have_not_held_it(
    tree, users
):
    activities.activity_create(
        branch=tree.branch_x, kind="themed_day", title="主题党日", date=datetime.date(2025, 4, 5), user=None
    )
    assert generators.themed_day_reminders(today=datetime.date(2025, 4, 17)) == 0
    generators.themed_day_reminders(today=datetime.date(2025, 4, 18))
    # BRANCH_B has no secretary; BRANCH_X held it on the 5th (another day counts by default).
    assert rows(Kind.THEMED_DAY) == [("secretary", f"branch:{tree.branch_a.pk}", "2025-04")]
    notification = Notification.objects.get()
    assert "21" in notification.title
    assert notification.url == f"/activities/new/?branch={tree.branch_a.pk}"


def test_no_themed_day_reminder_after_the_day(tree, users):
    assert generators.themed_day_reminders(today=datetime.date(2025, 4, 22)) == 0
    assert not Notification.objects.exists()


def test_the_themed_day_on_a_day_the_version_sets(tree, users):
    from members.ledger.services import rule_version_for

    version = rule_version_for(unit=tree.branch_a, month=datetime.date(2025, 4, 1))
    type(version).objects.filter(pk=version.pk).update(themed_day=10)
    assert generators.themed_day_reminders(today=datetime.date(2025, 4, 6)) == 0
    generators.themed_day_reminders(today=datetime.date(2025, 4, 7))
    assert ("secretary", f"branch:{tree.branch_a.pk}", "2025-04") in rows(Kind.THEMED_DAY)


def test_meetings_still_due_are_named_to_the_secretary_five_days_before_the_month_ends(tree, users):
    assert generators.requirements_due_reminders(today=datetime.date(2025, 4, 24)) == 0
    generators.requirements_due_reminders(today=datetime.date(2025, 4, 25))
    assert rows(Kind.REQUIREMENTS_DUE) == [
        ("other_secretary", f"branch:{tree.branch_x.pk}", "2025-04"),
        ("secretary", f"branch:{tree.branch_a.pk}", "2025-04"),
    ]
    notification = Notification.objects.get(user=users.secretary)
    assert notification.url == f"/activities/compliance/{tree.branch_a.pk}/2025/4/"
    assert "主题党日" in notification.body or "themed" in notification.body.lower()


def test_a_branch_that_held_everything_is_not_reminded(tree, users):
    from branches.activities.compliance import branch_month_compliance

    april = datetime.date(2025, 4, 1)
    for item in branch_month_compliance(branch=tree.branch_x, month=april, today=datetime.date(2025, 5, 1)):
        activities.activity_create(
            branch=tree.branch_x,
            group=item.group,
            kind=item.requirement.kind,
            title="会议",
            date=datetime.date(2025, 4, 21),
            user=None,
        )
    generators.requirements_due_reminders(today=datetime.date(2025, 4, 30))
    assert [r[0] for r in rows(Kind.REQUIREMENTS_DUE)] == ["secretary"]


def test_a_term_running_out_reaches_the_secretary_and_the_committee_staff_from_90_days_before(tree, users, settings):
    settings.TERM_REMINDER_DAYS = 90
    term = branch_term_start(branch=tree.branch_a, started_on=datetime.date(2022, 6, 1))
    start = term.ends_on - datetime.timedelta(days=90)
    assert generators.term_expiring_reminders(today=start - datetime.timedelta(days=1)) == 0
    generators.term_expiring_reminders(today=start)
    assert rows(Kind.TERM_EXPIRING) == [
        ("committee", f"term:{term.pk}", "2025-06-01"),
        ("secretary", f"term:{term.pk}", "2025-06-01"),
    ]


def test_an_overdue_term_says_so(tree, users):
    branch_term_start(branch=tree.branch_a, started_on=datetime.date(2022, 6, 1))
    generators.notifications_generate(today=datetime.date(2025, 7, 1))
    title = Notification.objects.filter(kind=Kind.TERM_EXPIRING, user=users.committee).get().title
    assert "逾期" in title or "overdue" in title


def test_a_conversion_due_reaches_the_branch_secretary_from_30_days_before(tree, users):
    member = f.MemberFactory(
        branch=tree.branch_a, status=Member.Status.PROBATIONARY, joined_on=datetime.date(2024, 5, 10), converted_on=None
    )
    assert generators.conversion_due_reminders(today=datetime.date(2025, 4, 9)) == 0
    generators.conversion_due_reminders(today=datetime.date(2025, 4, 10))
    assert rows(Kind.CONVERSION_DUE) == [("secretary", f"member:{member.pk}", "2025-05-10")]
    assert Notification.objects.get().url == f"/members/{member.pk}/"


def test_a_follow_up_of_a_talk_with_a_member_reaches_the_secretary_three_days_before(tree, users, member_a):
    talk = reviews.member_talk_record(
        member=member_a,
        held_on=datetime.date(2025, 4, 1),
        kind="reminder",
        talker_name="张书记",
        topic="学习不够",
        user=None,
        follow_up="每周交学习笔记",
        follow_up_due=datetime.date(2025, 4, 20),
    )
    assert generators.member_talk_follow_up_reminders(today=datetime.date(2025, 4, 16)) == 0
    generators.member_talk_follow_up_reminders(today=datetime.date(2025, 4, 17))
    assert rows(Kind.MEMBER_TALK_FOLLOW_UP) == [("secretary", f"member_talk:{talk.pk}", "2025-04-20")]


@pytest.fixture
def board(tree, users, time_machine):
    """April 2025's ranking of PLANT, published on 3 May: BRC, BRD and BRE in the bottom
    three, their talks due on 18 May (15 days)."""
    time_machine.move_to(datetime.datetime(2025, 5, 3, 10, tzinfo=SHANGHAI))
    c = f.branch(tree.plant, name="运输党支部", code="BRC")
    d = f.branch(tree.plant, name="质检党支部", code="BRD")
    e = f.branch(tree.plant, name="后勤党支部", code="BRE")
    april = datetime.date(2025, 4, 1)
    for branch, score in ((tree.branch_a, "90"), (tree.branch_b, "80"), (c, "70"), (d, "60"), (e, "50")):
        for dimension in ("committee_work", "production", "other"):
            grading.score_input_set(
                branch=branch, month=april, dimension=dimension, score=Decimal(score), user=users.committee
            )
    run = grading.grading_run_request(committee=tree.plant, month=april)
    grading.grading_run_execute(run_id=run.pk)
    publishing.board_publish(committee=tree.plant, month=april, user=users.committee)
    return SimpleNamespace(c=c, d=d, e=e)


def test_talks_due_reach_the_committee_staff_from_three_days_before(tree, users, board, settings):
    settings.GRADING_TALK_DUE_DAYS = 15
    publishing.talk_record(
        committee=tree.plant,
        month=datetime.date(2025, 4, 1),
        branch=board.c,
        held_on=datetime.date(2025, 5, 3),
        talked_by="党委书记",
        talked_with="支部书记",
        notes="了解情况",
        actions="限期整改",
        user=users.committee,
    )
    assert generators.talk_due_reminders(today=datetime.date(2025, 5, 14)) == 0
    generators.talk_due_reminders(today=datetime.date(2025, 5, 15))
    assert rows(Kind.TALK_DUE) == [
        ("committee", f"branch:{board.d.pk}", "2025-04"),
        ("committee", f"branch:{board.e.pk}", "2025-04"),
    ]


def test_the_generators_read_a_fixed_number_of_queries_however_many_branches(tree, users):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    day = datetime.date(2025, 4, 25)
    f.MemberFactory(
        branch=tree.branch_a, status=Member.Status.PROBATIONARY, joined_on=datetime.date(2024, 5, 1), converted_on=None
    )
    branch_term_start(branch=tree.branch_a, started_on=datetime.date(2022, 6, 1))
    with CaptureQueriesContext(connection) as few:
        generators.notifications_generate(today=day)
    for i in range(8):
        branch = f.branch(tree.plant, name=f"新支部{i}", code=f"N{i}")
        f.user_with_role("secretary", branch, username=f"sec{i}")
        f.MemberFactory(
            branch=branch, status=Member.Status.PROBATIONARY, joined_on=datetime.date(2024, 5, 1), converted_on=None
        )
        branch_term_start(branch=branch, started_on=datetime.date(2022, 6, 1))
    with CaptureQueriesContext(connection) as many:
        generators.notifications_generate(today=day)
    assert Notification.objects.filter(kind=Kind.REQUIREMENTS_DUE).count() == 10
    assert Notification.objects.filter(kind=Kind.CONVERSION_DUE).count() == 9
    assert Notification.objects.filter(kind=Kind.TERM_EXPIRING).count() == 18  # secretary and committee staff
    assert len(many) == len(few)


def test_a_milestone_due_reaches_the_lead_branch_secretary_from_a_week_before(tree, users, member_a):
    from branches.projects import services as projects
    from branches.projects.defaults import install_default_kinds
    from branches.projects.models import ProjectKind

    install_default_kinds()
    project = projects.project_create(
        branch=tree.branch_a,
        kind=ProjectKind.objects.filter(committee__isnull=True).first(),
        title="连铸坯质量攻关",
        field="quality",
        year=2025,
        leader=member_a,
        budget=Decimal("20"),
        user=users.secretary,
    )
    projects.project_submit(project=project, user=users.secretary)
    projects.project_approve(project=project, user=users.committee)
    due = projects.milestone_add(project=project, title="完成工艺试验", due_on=datetime.date(2025, 6, 10))
    submitted = projects.milestone_add(project=project, title="中期检查", due_on=datetime.date(2025, 6, 9))
    projects.milestone_submit(milestone=submitted, user=users.secretary)
    assert generators.milestone_due_reminders(today=datetime.date(2025, 6, 2)) == 0
    generators.milestone_due_reminders(today=datetime.date(2025, 6, 3))
    assert rows(Kind.MILESTONE_DUE) == [("secretary", f"milestone:{due.pk}", "2025-06-10")]
    assert Notification.objects.get().url == f"/projects/{project.pk}/"


def test_a_unit_drawn_to_report_back_is_told_this_month_and_the_month_before(tree, users):
    from branches.reportback import services as reportback

    april = datetime.date(2025, 4, 1)
    setup = reportback.setup_save(
        committee=tree.plant,
        cycle_start=april,
        cycle_months=2,
        draw_day=20,
        scoring="trimmed",
        themes=["计划部署", "工作进展和创新举措", "工作成效、问题和整改", "全年成效和明年打算"],
        categories=[
            reportback.CategorySpec(slot=1, name="生产单位", quota=1, unit_ids=[tree.branch_a.pk, tree.branch_b.pk])
        ],
        today=april,
    )
    draws = [reportback.draw_month(setup=setup, month=m, user=None) for m in (april, datetime.date(2025, 5, 1))]
    report_a = next(r for d in draws for r in d.reports.all() if r.unit_id == tree.branch_a.pk)
    month = report_a.draw.month
    before = month - datetime.timedelta(days=45)  # the month before the month before
    assert generators.reportback_drawn_reminders(today=before) == 0
    generators.reportback_drawn_reminders(today=month - datetime.timedelta(days=1))
    # BRANCH_B (drawn the other month) has no secretary.
    assert rows(Kind.REPORTBACK_DRAWN) == [("secretary", f"report:{report_a.pk}", f"{month:%Y-%m}")]
    assert Notification.objects.get().url == f"/reportback/report/{report_a.pk}/"
