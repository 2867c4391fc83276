"""The project pages: outsiders get 404 on every URL, insiders without the right 403,
the list's queries do not grow with its rows, the workflow's buttons work and a refusal
is shown."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from branches.projects import services
from branches.projects.models import Milestone, Project, ValueRecord
from branches.services import month_close
from members.ledger.models import LedgerEntry, Source
from tests import factories as f

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def world(project, milestone, tree, users, kinds, member_a):
    record, _ = services.value_record_add(
        project=project,
        month=timezone.localdate().replace(day=1),
        amount=Decimal("3.5"),
        user=users.secretary,
        evidence=SimpleUploadedFile("月度创效.pdf", PDF, content_type="application/pdf"),
    )
    challenge = services.challenge_post(
        committee=tree.plant,
        kind=kinds["挑战项目"],
        title="板坯缺陷攻关",
        description="降低板坯纵裂",
        deadline=timezone.localdate() + datetime.timedelta(days=5),
        user=users.committee,
    )
    claim = services.challenge_claim(
        challenge=challenge,
        branch=tree.branch_a,
        pledge="三个月内纵裂率降到0.1%",
        pledge_by=timezone.localdate() + datetime.timedelta(days=90),
        user=users.secretary,
    )
    return {
        "project": project,
        "milestone": milestone,
        "record": record,
        "challenge": challenge,
        "claim": claim,
        "team": project.members.first(),
        "committee": tree.plant,
    }


def urls(world) -> list[tuple[str, str]]:
    p, c, year = world["project"].pk, world["committee"].pk, timezone.localdate().year
    return [
        ("get", f"/projects/{p}/"),
        ("get", f"/projects/{p}/edit/"),
        ("post", f"/projects/{p}/move/"),
        ("post", f"/projects/{p}/team/"),
        ("post", f"/projects/team/{world['team'].pk}/remove/"),
        ("post", f"/projects/{p}/targets/"),
        ("post", f"/projects/{p}/milestones/"),
        ("post", f"/projects/milestones/{world['milestone'].pk}/move/"),
        ("post", f"/projects/{p}/values/"),
        ("get", f"/projects/values/{world['record'].pk}/evidence/"),
        ("get", f"/projects/challenges/{world['challenge'].pk}/"),
        ("post", f"/projects/challenges/{world['challenge'].pk}/claim/"),
        ("post", f"/projects/challenges/{world['challenge'].pk}/close/"),
        ("post", f"/projects/claims/{world['claim'].pk}/pick/"),
        ("get", f"/projects/committee/{c}/queue/"),
        ("get", f"/projects/committee/{c}/evaluation/{year}/"),
        ("get", f"/projects/committee/{c}/summary/{year}/"),
        ("get", f"/projects/committee/{c}/settings/"),
    ]


@pytest.mark.parametrize("who", ["other_secretary", "other_committee", "nobody"])
def test_outsiders_get_404_on_every_project_url(world, users, login, who):
    client = login(getattr(users, who))
    for method, url in urls(world):
        data = (
            {"move": "approve"} if url.endswith("/move/") and "milestones" not in url else {"move": "milestone_accept"}
        )
        response = getattr(client, method)(url, data)
        assert response.status_code == 404, (who, method, url, response.status_code)
    assert LedgerEntry.objects.filter(source=Source.PROJECT).count() == 0


def test_outsiders_see_none_of_it_in_the_lists(world, users, login):
    client = login(users.other_secretary)
    assert "连铸坯质量攻关" not in client.get("/projects/").content.decode()
    assert "板坯缺陷攻关" not in client.get("/projects/challenges/").content.decode()


def test_a_secretary_cannot_make_the_committees_moves(world, users, login):
    client = login(users.secretary)
    p = world["project"]
    assert (
        client.post(f"/projects/milestones/{world['milestone'].pk}/move/", {"move": "milestone_accept"}).status_code
        == 403
    )
    assert client.post(f"/projects/{p.pk}/move/", {"move": "evaluate", "grade": "1"}).status_code == 403
    assert client.post(f"/projects/claims/{world['claim'].pk}/pick/").status_code == 403
    assert client.get(f"/projects/committee/{world['committee'].pk}/queue/").status_code == 404
    assert LedgerEntry.objects.filter(source=Source.PROJECT).count() == 0


def test_a_secretary_of_a_co_branch_sees_the_project_but_does_not_write(world, tree, users, login):
    project = world["project"]
    project.co_branches.add(tree.branch_b)
    secretary_b = f.user_with_role("secretary", tree.branch_b, username="secretary_b")
    client = login(secretary_b)
    assert client.get(f"/projects/{project.pk}/").status_code == 200
    assert client.post(f"/projects/{project.pk}/milestones/", {"title": "x", "due_on": "2026-12-01"}).status_code == 403


def test_every_page_opens_for_the_committee(world, users, login):
    client = login(users.committee)
    for method, url in urls(world):
        if method == "get" and "/edit/" not in url:
            assert client.get(url).status_code == 200, url
    assert client.get("/projects/").status_code == 200
    assert client.get("/projects/challenges/").status_code == 200
    assert client.get("/projects/challenges/new/").status_code == 200
    assert client.get("/projects/new/").status_code == 200  # committee staff may apply for a branch


def test_the_list_queries_do_not_grow_with_projects(
    world, tree, users, kinds, login, django_assert_max_num_queries, member_a
):
    client = login(users.committee)
    client.get("/projects/")
    with django_assert_max_num_queries(12) as few:
        client.get("/projects/")
    for i in range(8):
        p = services.project_create(
            branch=tree.branch_b if i % 2 else tree.branch_a,
            kind=kinds["党员先锋工程"],
            title=f"项目{i}",
            field="cost",
            year=2026,
            user=None,
        )
        services.milestone_add(project=p, title="节点", due_on=datetime.date(2026, 1, 1))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/projects/")
    assert response.content.decode().count("项目") >= 8


def test_accepting_a_milestone_on_the_page_posts_and_shows_the_points(world, users, login):
    client = login(users.committee)
    milestone = world["milestone"]
    response = client.post(f"/projects/milestones/{milestone.pk}/move/", {"move": "milestone_accept"}, follow=True)
    assert response.status_code == 200
    assert Milestone.objects.get(pk=milestone.pk).state == "accepted"
    page = response.content.decode()
    assert "王建国" in page and f"/ledger/members/{world['project'].leader_id}/" in page or "ledger" in page
    assert LedgerEntry.objects.filter(source=Source.PROJECT, source_key=f"milestone:{milestone.pk}").count() == 2


def test_a_refused_move_is_shown_with_the_month_named(world, tree, users, login):
    month_close(committee=tree.plant, month=timezone.localdate().replace(day=1))
    client = login(users.committee)
    response = client.post(
        f"/projects/milestones/{world['milestone'].pk}/move/", {"move": "milestone_accept"}, follow=True
    )
    messages = [str(m) for m in get_messages(response.wsgi_request)] or [response.content.decode()]
    month = timezone.localdate()
    assert any(f"{month.year}年{month.month}月" in m for m in messages), messages
    assert Milestone.objects.get(pk=world["milestone"].pk).state == "pending"


def test_the_skipped_are_reported_to_the_user(world, users, login):
    client = login(users.committee)
    for i in range(3):
        m = services.milestone_add(project=world["project"], title=f"节点{i}", due_on=timezone.localdate())
        services.milestone_accept(milestone=m, user=users.committee)
    response = client.post(
        f"/projects/milestones/{world['milestone'].pk}/move/", {"move": "milestone_accept"}, follow=True
    )
    assert "王建国" in response.content.decode()
    texts = " ".join(str(m) for m in response.context["messages"])
    assert "王建国" in texts


def test_the_evidence_downloads_with_its_name(world, users, login):
    response = login(users.secretary).get(f"/projects/values/{world['record'].pk}/evidence/")
    assert response.status_code == 200
    assert "filename*=UTF-8''%E6%9C%88" in response["Content-Disposition"]


def test_the_secretary_applies_and_the_committee_approves_through_the_pages(tree, users, kinds, member_a, login):
    client = login(users.secretary)
    response = client.post(
        "/projects/new/",
        {
            "branch": tree.branch_a.pk,
            "kind": kinds["党员先锋工程"].pk,
            "title": "党员责任区",
            "field": "safety",
            "year": 2026,
            "leader": member_a.pk,
        },
    )
    project = Project.objects.get(title="党员责任区")
    assert response["Location"] == f"/projects/{project.pk}/"
    client.post(f"/projects/{project.pk}/move/", {"move": "submit"})
    client = login(users.committee)
    assert "党员责任区" in client.get(f"/projects/committee/{tree.plant.pk}/queue/").content.decode()
    client.post(
        f"/projects/{project.pk}/move/", {"move": "approve", "next": f"/projects/committee/{tree.plant.pk}/queue/"}
    )
    assert Project.objects.get(pk=project.pk).state == "active"


def test_the_summary_adds_the_years_value_by_branch(world, users, login, tree):
    response = login(users.committee).get(f"/projects/committee/{tree.plant.pk}/summary/{timezone.localdate().year}/")
    assert response.context["value_total"] == Decimal("3.5")
    assert [(r["project__branch__name"], r["total"]) for r in response.context["by_branch"]] == [
        ("连铸作业区党支部", Decimal("3.5"))
    ]
    assert ValueRecord.objects.count() == 1


def test_the_team_target_and_milestone_forms_save_and_refuse(world, users, login, tree):
    client = login(users.secretary)
    p = world["project"]
    client.post(f"/projects/{p.pk}/targets/", {"metric": "合格率", "unit": "%", "baseline": "98", "target": "99.5"})
    client.post(f"/projects/{p.pk}/milestones/", {"title": "中期检查", "due_on": "2026-06-30"})
    newcomer = f.MemberFactory(branch=tree.branch_a, name="新队员")
    client.post(f"/projects/{p.pk}/team/", {"member": newcomer.pk, "role": "member"})
    assert list(p.targets.values_list("metric", flat=True)) == ["合格率"]
    assert p.milestones.filter(title="中期检查").exists()
    assert p.members.filter(member=newcomer).exists()
    response = client.post(f"/projects/{p.pk}/targets/", {}, follow=True)
    assert response.status_code == 200 and len(list(response.context["messages"])) >= 1


def test_the_branch_page_lists_its_projects(world, users, login, tree):
    page = login(users.secretary).get(f"/org/{tree.branch_a.pk}/").content.decode()
    assert f'href="/projects/{world["project"].pk}/"' in page


def test_the_member_ledger_links_a_project_entry_to_its_project(world, users, login, member_a):
    services.milestone_accept(milestone=world["milestone"], user=users.committee)
    client = login(users.secretary)
    page = client.get(f"/ledger/members/{member_a.pk}/").content.decode()
    assert f'href="/projects/{world["project"].pk}/"' in page
    listing = client.get(f"/ledger/entries/?member={member_a.pk}").content.decode()
    assert f'href="/projects/{world["project"].pk}/"' in listing
    # An outsider to the project (but not to the member) reads the source without a link.


def test_the_committee_page_links_its_projects_summary_for_its_staff(world, users, login, tree):
    year = timezone.localdate().year
    page = login(users.committee).get(f"/org/{tree.plant.pk}/").content.decode()
    assert f'href="/projects/committee/{tree.plant.pk}/summary/{year}/"' in page


def test_the_project_page_reads_a_fixed_number_of_queries(world, users, login, django_assert_max_num_queries):
    client = login(users.committee)
    url = f"/projects/{world['project'].pk}/"
    with django_assert_max_num_queries(40) as before:
        client.get(url)
    for i in range(5):
        m = services.milestone_add(project=world["project"], title=f"节点{i}", due_on=timezone.localdate())
        services.milestone_accept(milestone=m, user=users.committee)
    with django_assert_max_num_queries(len(before.captured_queries) + 2):  # the points' member links
        client.get(url)


def test_the_branch_edits_its_draft_and_not_once_submitted(draft, users, login, kinds, tree):
    client = login(users.secretary)
    form = {
        "kind": kinds["挑战项目"].pk,
        "title": "连铸坯质量攻关（修订）",
        "field": "quality",
        "year": 2026,
        "leader": draft.leader_id,
        "co_branches": [tree.branch_b.pk],
    }
    assert client.get(f"/projects/{draft.pk}/edit/").status_code == 200
    client.post(f"/projects/{draft.pk}/edit/", form)
    draft.refresh_from_db()
    assert draft.title == "连铸坯质量攻关（修订）" and list(draft.co_branches.all()) == [tree.branch_b]
    client.post(f"/projects/{draft.pk}/move/", {"move": "submit"})
    assert client.get(f"/projects/{draft.pk}/edit/").status_code == 403


def test_the_committee_grades_on_the_grid_and_withdraws_the_grade(project, users, login, tree):
    services.project_conclude(project=project, user=users.secretary, results="完成")
    client = login(users.committee)
    grid = f"/projects/committee/{tree.plant.pk}/evaluation/{project.year}/"
    assert "连铸坯质量攻关" in client.get(grid).content.decode()
    response = client.post(f"/projects/{project.pk}/move/", {"move": "evaluate", "grade": "3", "next": grid})
    assert response["Location"] == grid
    project.refresh_from_db()
    assert project.grade == 3
    assert LedgerEntry.objects.filter(source=Source.PROJECT, source_key="grade").count() == 2
    client.post(f"/projects/{project.pk}/move/", {"move": "unevaluate", "reason": "复核", "next": grid})
    project.refresh_from_db()
    assert project.state == "concluded" and project.grade is None
    assert LedgerEntry.objects.filter(source=Source.PROJECT, reverses__source_key="grade").count() == 2


def test_the_month_is_recorded_with_its_evidence_through_the_page(project, users, login):
    client = login(users.secretary)
    month = timezone.localdate().replace(day=1)
    upload = SimpleUploadedFile("证明.pdf", PDF, content_type="application/pdf")
    client.post(f"/projects/{project.pk}/values/", {"month": f"{month:%Y-%m}", "amount": "11", "evidence": upload})
    record = project.value_records.get()
    assert (record.month, record.amount, record.evidence_name) == (month, Decimal("11"), "证明.pdf")
    # 11 万元 crosses the first band: +2 to the leader and the teammate.
    assert LedgerEntry.objects.filter(source=Source.PROJECT, source_key="value:project_value_10").count() == 2
    fake = SimpleUploadedFile("假.pdf", b"not a pdf", content_type="application/pdf")
    response = client.post(
        f"/projects/{project.pk}/values/", {"month": "2020-01", "amount": "1", "evidence": fake}, follow=True
    )
    assert project.value_records.count() == 1
    assert any("PDF" in str(m) for m in response.context["messages"])


def test_the_committee_adds_a_kind_and_names_its_grades_on_its_settings_page(users, login, tree, kinds):
    client = login(users.committee)
    url = f"/projects/committee/{tree.plant.pk}/settings/"
    client.post(url, {"form": "kind", "kind-name": "一支部一项目"})
    client.post(
        url,
        {"form": "grades", "grades-grade_1_name": "优秀", "grades-grade_2_name": "良好", "grades-grade_3_name": "合格"},
    )
    page = client.get(url).content.decode()
    assert "一支部一项目" in page and "良好" in page
    assert login(users.secretary).get(url).status_code == 404
