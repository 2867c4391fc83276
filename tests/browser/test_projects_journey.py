"""揭榜挂帅 in the browser: the committee posts a challenge, a secretary claims it for
the branch with a pledge, the committee picks the claim, a milestone of the project is
accepted and the leader's ledger shows the points, linked back to the project."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from branches.projects.defaults import install_default_kinds
from branches.projects.models import Challenge, Project, ProjectKind
from members.ledger.models import LedgerEntry, Source

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_challenge_is_posted_claimed_picked_and_its_milestone_scores(
    tree, users, member_a, page, log_in, live_server
):
    install_default_kinds()
    today = timezone.localdate()
    kind = ProjectKind.objects.get(committee__isnull=True, name="挑战项目")

    log_in("committee")
    page.goto(live_server.url + reverse("projects:challenges"))
    page.click("text=发布榜单")
    page.select_option("select[name=committee]", str(tree.plant.pk))
    page.select_option("select[name=kind]", str(kind.pk))
    page.fill("input[name=title]", "转炉炉龄提升揭榜")
    page.select_option("select[name=field]", "equipment")
    page.fill("textarea[name=description]", "炉龄由8000炉提高到10000炉")
    page.fill("input[name=deadline]", (today + datetime.timedelta(days=10)).isoformat())
    page.fill("input[name=reward]", "5")
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r".*/projects/challenges/\d+/$"))
    challenge = Challenge.objects.get(title="转炉炉龄提升揭榜")

    page.context.clear_cookies()
    log_in("secretary")
    page.click("text=攻关项目")
    page.click("text=揭榜挂帅")
    page.click("text=转炉炉龄提升揭榜")
    page.select_option("#claim-form select[name=branch]", str(tree.branch_a.pk))
    page.select_option("#claim-form select[name=leader]", str(member_a.pk))
    page.fill("#claim-form textarea[name=pledge]", "半年内炉龄突破10000炉")
    page.fill("#claim-form input[name=pledge_by]", (today + datetime.timedelta(days=180)).isoformat())
    page.click("#claim-form button[type=submit]")
    page.wait_for_selector("#claims >> text=半年内炉龄突破10000炉")
    claim = challenge.claims.get()

    page.context.clear_cookies()
    log_in("committee")
    page.goto(live_server.url + challenge.get_absolute_url())
    page.click(f'button[data-pick="{claim.pk}"]')
    page.wait_for_url(re.compile(r".*/projects/\d+/$"))
    project = Project.objects.get(challenge=challenge)
    assert project.state == "active" and project.branch == tree.branch_a and project.leader == member_a
    assert "实施中" in page.locator("#project-state").inner_text()

    page.click("#milestones summary")
    page.fill("#milestones input[name=title]", "溅渣护炉工艺固化")
    page.fill("#milestones input[name=due_on]", (today + datetime.timedelta(days=30)).isoformat())
    page.click("#milestones form button[type=submit]")
    page.wait_for_selector("#milestones >> text=溅渣护炉工艺固化")
    page.click('#milestones button[data-move="milestone_accept"]')
    page.wait_for_selector("#milestones >> text=已验收")
    assert LedgerEntry.objects.filter(source=Source.PROJECT, source_id=project.pk, member=member_a).count() == 1

    page.goto(live_server.url + reverse("ledger:member_ledger", args=[member_a.pk]) + f"?year={today.year}")
    ledger = page.content()
    assert "攻关项目节点通过验收" in ledger
    assert "3.00" in ledger
    page.click(f'a[href="{project.get_absolute_url()}"]')
    page.wait_for_url(re.compile(rf".*/projects/{project.pk}/$"))
