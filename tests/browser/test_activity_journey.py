"""A secretary runs a themed Party day in the browser and sees the points follow."""

import re

import pytest
from django.urls import reverse

from branches.activities.models import Activity

from .. import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_secretary_logs_a_themed_day_marks_absences_and_sees_the_points(tree, users, log_in, live_server):
    members = [
        f.MemberFactory(branch=tree.branch_a, group=tree.group_a1, name=name)
        for name in ("赵一", "钱二", "孙三", "李四")
    ]
    page = log_in("secretary")

    page.click("text=组织生活")
    page.click("text=登记活动")
    page.select_option("select[name=branch]", str(tree.branch_a.pk))
    page.select_option("select[name=kind]", "themed_day")
    page.fill("input[name=title]", "安全生产主题党日")
    page.fill("input[name=date]", "2025-03-21")
    page.fill("input[name=place]", "党建活动室")
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r".*/activities/\d+/$"))
    assert page.locator('[data-count="present"]').inner_text().endswith("4")

    activity = Activity.objects.get(title="安全生产主题党日")
    rows = {a.member_id: a.pk for a in activity.attendances.all()}
    for member, status in ((members[0], "absent"), (members[1], "absent"), (members[2], "excused")):
        row = page.locator(f"#att-{rows[member.pk]}")
        row.locator(f'button[data-status="{status}"]').click()
        page.wait_for_selector(f'#att-{rows[member.pk]} button[data-status="{status}"].active')
    assert page.locator('[data-count="absent"]').inner_text().endswith("2")
    assert page.locator('[data-count="excused"]').inner_text().endswith("1")
    assert page.locator('[data-count="present"]').inner_text().endswith("1")
    assert "-2.00" in page.locator(f"#att-{rows[members[0].pk]}").inner_text()

    page.goto(live_server.url + reverse("ledger:member_ledger", args=[members[0].pk]) + "?year=2025")
    ledger = page.content()
    assert "安全生产主题党日" in ledger
    assert "-2.00" in ledger
    page.goto(live_server.url + reverse("ledger:member_ledger", args=[members[3].pk]) + "?year=2025")
    assert "2.00" in page.content()
