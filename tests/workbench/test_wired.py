"""What the workbench reads from projects and commitments: milestones due of the
branch's projects, commitment checks whose month has come, approvals waiting."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from branches.projects import services as project_services
from members.commitments import services as commitment_services
from members.commitments.models import Field, Period
from partybuild import workbench
from tests.projects.world import project_world

from .. import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(client):
    client.cookies["django_language"] = "en"
    with translation.override("en"):
        yield


def test_milestones_due_are_the_lead_branchs_overdue_and_soon_due(tree, users, member_a):
    world = project_world(tree, users, member_a)
    today = timezone.localdate()
    later = project_services.milestone_add(
        project=world.project, title="总结", due_on=today + datetime.timedelta(days=60)
    )
    soon = project_services.milestone_add(
        project=world.project, title="中试", due_on=today + datetime.timedelta(days=3)
    )
    rows = list(workbench.milestones_due(branch=tree.branch_a, today=today))
    assert [m.title for m in rows] == ["推广应用", "中试"]  # the accepted one and the far one are not due
    assert later not in rows and soon in rows
    assert list(workbench.milestones_due(branch=tree.branch_b, today=today)) == []  # co-branch: not its to deliver


def test_commitment_checks_are_due_from_their_month_until_every_result_is_in(tree, member_a):
    commitment = commitment_services.commitment_create(
        branch=tree.branch_a, year=2025, member=member_a, text="带好两名青工", field=Field.PRODUCTION, user=None
    )
    assert workbench.commitments_due(branch=tree.branch_a, today=datetime.date(2025, 5, 20)) == []
    [due] = workbench.commitments_due(branch=tree.branch_a, today=datetime.date(2025, 6, 2))
    assert (due.period, due.month, due.unchecked) == (Period.MID, datetime.date(2025, 6, 1), 1)
    commitment_services.commitment_check_set(commitment=commitment, period=Period.MID, result="met", user=None)
    assert workbench.commitments_due(branch=tree.branch_a, today=datetime.date(2025, 6, 20)) == []
    [final] = workbench.commitments_due(branch=tree.branch_a, today=datetime.date(2025, 12, 5))
    assert final.period == Period.FINAL


def test_committee_staff_see_approvals_waiting(tree, users, member_a, login):
    world = project_world(tree, users, member_a)
    submitted = project_services.project_create(
        branch=tree.branch_a,
        kind=world.project.kind,
        title="转炉炉衬维护",
        field="equipment",
        year=timezone.localdate().year,
        leader=member_a,
        user=users.secretary,
    )
    project_services.project_submit(project=submitted, user=users.secretary)
    panel = workbench.committee_panel(committee=tree.plant)
    assert (panel.projects_waiting, panel.milestones_waiting) == (1, 0)
    html = login(users.committee).get(reverse("home")).content.decode()
    assert f'id="projects-waiting-{tree.plant.pk}"' in html
    assert reverse("projects:queue", args=[tree.plant.pk]) in html
    other = login(users.other_committee).get(reverse("home")).content.decode()
    assert "projects-waiting" not in other


def test_the_secretary_sees_milestones_and_checks_on_the_home_page(tree, users, member_a, login):
    project_world(tree, users, member_a)
    f.MemberFactory(branch=tree.branch_x)
    html = login(users.secretary).get(reverse("home")).content.decode()
    assert "推广应用" in html and "wb-milestone" in html
    assert "推广应用" not in login(users.other_secretary).get(reverse("home")).content.decode()


def test_committee_staff_see_whether_this_months_draw_is_made(tree, users, login):
    from branches.reportback import services as reportback
    from tests.reportback.helpers import set_up

    this_month = timezone.localdate().replace(day=1)
    setup = set_up(tree.plant, [("生产党支部", 1, [tree.branch_a, tree.branch_b])], start=this_month, today=this_month)
    panel = workbench.committee_panel(committee=tree.plant)
    assert panel.reportback_set_up and panel.draw is None
    html = login(users.committee).get(reverse("home")).content.decode()
    assert f'id="reportback-draw-{tree.plant.pk}"' in html and "still to be made" in html
    draw = reportback.draw_month(setup=setup, month=this_month, user=users.committee)
    assert workbench.committee_panel(committee=tree.plant).draw == draw
    assert "draw is made" in login(users.committee).get(reverse("home")).content.decode()


def test_a_member_login_is_not_a_user_waiting_for_a_role(tree, member_a):
    user = f.UserFactory(username="wang")
    member_a.user = user
    member_a.save(update_fields=["user"])
    f.UserFactory(username="waiting")
    names = [u.username for u in workbench.admin_panel().users_without_role]
    assert "waiting" in names and "wang" not in names
