"""A secretary holds the democratic review in the browser: starts it from the branch
page, is refused too many 优秀, saves the grid, makes a support plan, submits; the
committee confirms and the member page shows the result."""

import datetime
import re

import pytest
from django.utils import timezone

from branches.activities.models import Activity
from members.reviews.models import DemocraticReview, SupportPlan

from .. import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_secretary_enters_the_review_and_the_committee_confirms_it(tree, users, log_in, live_server, tmp_path):
    members = [
        f.MemberFactory(branch=tree.branch_a, group=tree.group_a1, name=n) for n in ("赵一", "钱二", "孙三", "李四")
    ]
    today = timezone.localdate()
    Activity.objects.create(branch=tree.branch_a, kind="democratic_review", title="民主评议党员大会", date=today)
    page = log_in("secretary")

    page.goto(live_server.url + tree.branch_a.get_absolute_url())
    page.click("#branch-review-link")
    page.click("#submit-id-submit")
    page.wait_for_url(re.compile(r".*/reviews/\d+/$"))
    review = DemocraticReview.objects.get(branch=tree.branch_a, year=today.year)

    def rate(ratings):
        for member, rating in zip(members, ratings, strict=True):
            page.select_option(f"select[name=rating_{member.pk}]", rating)

    rate(["excellent", "excellent", "qualified", "unqualified"])
    page.click("#grid-save")
    assert "至多1名可评为优秀（30%）" in page.locator("#grid-errors").inner_text()
    rate(["excellent", "qualified", "qualified", "unqualified"])
    page.fill(f"input[name=votes_for_{members[0].pk}]", "4")
    page.fill(f"input[name=votes_cast_{members[0].pk}]", "4")
    page.click("#grid-save")
    page.wait_for_selector(".alert-success")
    page.screenshot(path="/tmp/rv_grid.png", full_page=True)

    page.click("text=制定帮促计划")
    page.check(f"input[name=helpers][value='{members[1].pk}']")
    page.fill("textarea[name=measures]", "结对帮扶，每月谈心一次")
    page.fill("input[name=review_on]", (today + datetime.timedelta(days=90)).isoformat())
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r".*/reviews/support/\d+/$"))
    assert SupportPlan.objects.get(member=members[3]).helpers.get() == members[1]

    page.goto(live_server.url + review.get_absolute_url())
    page.click("#review-submit")
    page.wait_for_selector(".alert-success")
    assert page.locator("#review-confirm").count() == 0  # the secretary cannot confirm

    page.click("#user-menu")
    page.click("text=退出")
    page.context.clear_cookies()
    page = log_in("committee")
    page.goto(live_server.url + review.get_absolute_url())
    page.click("#review-confirm")
    page.wait_for_selector(".alert-success")
    assert DemocraticReview.objects.get(pk=review.pk).is_confirmed
    assert page.locator("#review-grid-form").count() == 0

    page.goto(live_server.url + members[3].get_absolute_url())
    assert "不合格" in page.locator("#member-reviews").inner_text()
