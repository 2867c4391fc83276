"""A secretary opens the workbench, sees a member's 政治生日 this month and logs the
activity from the one-click link; committee staff follow the loop to the score grid."""

import re

import pytest
from django.utils import timezone

from branches.activities.models import Activity

from .. import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_secretary_logs_a_political_birthday_from_the_workbench(tree, users, log_in, live_server):
    today = timezone.localdate()
    joined = today.replace(year=today.year - 12, day=min(today.day, 28))
    f.MemberFactory(
        branch=tree.branch_a,
        group=tree.group_a1,
        name="周政生",
        joined_on=joined,
        converted_on=joined.replace(year=joined.year + 1),
    )
    page = log_in("secretary")
    birthdays = page.locator('[data-testid="birthdays"]')
    assert "周政生" in birthdays.inner_text()
    assert page.locator("#forecast-how").is_visible()
    page.click(f"#log-birthday-{tree.branch_a.pk}")
    assert page.input_value("input[name=title]") == "政治生日"
    assert page.input_value("select[name=kind]") == "themed_day"
    page.fill("input[name=title]", "重温入党誓词 过政治生日")
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r".*/activities/\d+/$"))
    assert Activity.objects.filter(branch=tree.branch_a, title="重温入党誓词 过政治生日").exists()


def test_committee_staff_follow_the_loop_to_the_score_grid(tree, users, log_in, live_server):
    f.MemberFactory(branch=tree.branch_a)
    page = log_in("committee")
    row = page.locator(f'#workbench-committee-{tree.plant.pk} tr.wb-loop[data-step="inputs"]').first
    row.locator("a.wb-next").click()
    page.wait_for_url(re.compile(r".*/grading/\d+/\d{4}/\d+/inputs/$"))
