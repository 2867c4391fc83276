"""The monthly loop in the browser: committee staff enter scores, grade and publish; a
branch secretary opens the published board and drills into their branch's basic work."""

import datetime
import re

import pytest

from branches.activities import services as activities
from branches.grading.models import Publication, ScoreInput

from .. import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DAY = datetime.date(2025, 4, 10)


def test_committee_staff_grade_and_publish_and_a_secretary_drills_into_basic_work(
    tree, users, log_in, live_server, celery_eager
):
    for branch, group in ((tree.branch_a, tree.group_a1), (tree.branch_b, None)):
        f.MemberFactory(branch=branch, group=group)
    activities.activity_create(branch=tree.branch_a, kind="themed_day", title="主题党日", date=DAY, user=None)
    activities.activity_create(branch=tree.branch_a, kind="committee_meeting", title="支委会", date=DAY, user=None)
    activities.activity_create(branch=tree.branch_b, kind="themed_day", title="主题党日", date=DAY, user=None)
    base = f"{live_server.url}/grading/{tree.plant.pk}"

    page = log_in("committee")
    page.goto(f"{base}/2025/4/inputs/")
    for branch, score in ((tree.branch_a, "90"), (tree.branch_b, "80")):
        for dimension in ("committee_work", "production", "other"):
            cell = page.locator(f"#cell-{branch.pk}-{dimension}")
            cell.locator("input[name=score]").fill(score)
            cell.locator("input[name=score]").press("Tab")
            page.wait_for_selector(f"#cell-{branch.pk}-{dimension} [role=status]")
    assert ScoreInput.objects.filter(month="2025-04-01").count() == 6

    page.goto(f"{base}/runs/")
    page.fill("input[name=month]", "2025-04")
    page.click("main form:has(input[name=month]) [type=submit]")
    page.wait_for_selector("#draft-board", timeout=30_000)

    page.goto(f"{base}/2025/4/publish/")
    page.click("form:has(input[value=publish]) button[type=submit]")
    # First what publishing does: the month closes, the board is shown, talks fall due.
    page.wait_for_selector("#publish-consequences")
    assert not Publication.objects.exists()
    page.click("#confirm-publish")
    page.wait_for_load_state()
    assert Publication.objects.filter(committee=tree.plant, month="2025-04-01").count() == 1

    page.context.clear_cookies()
    page = log_in("secretary")
    page.goto(f"{base}/2025/4/")
    assert tree.branch_a.name in page.locator("table").first.inner_text()
    page.locator(f"#branch-{tree.branch_a.pk} a[href$='#basics']").click()
    page.wait_for_url(re.compile(rf".*/branches/{tree.branch_a.pk}/.*"))
    formula = page.locator("#basics-formula").inner_text()
    # Branch A held its committee meeting and themed day but not its two group meetings.
    assert formula == "100 × 2 ÷ 4 = 50.00"
