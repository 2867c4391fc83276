"""A secretary sees the bell ring, reads the reminder, follows it to the compliance page,
and turns one kind of e-mail off."""

import datetime
import re

import pytest

from branches.notifications.generators import notifications_generate
from branches.notifications.models import Kind, Notification, NotificationPreference

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_secretary_reads_a_reminder_from_the_bell_and_opts_out_of_one_kind(tree, users, log_in, live_server):
    notifications_generate(today=datetime.date(2025, 4, 25))
    page = log_in("secretary")

    bell = page.locator("a.pb-bell")
    assert bell.locator(".pb-bell-count").inner_text() == "1"
    bell.click()
    page.wait_for_url(re.compile(r".*/reminders/$"))
    assert page.locator("h1").inner_text() == "提醒"
    assert "2025年4月还有" in page.locator("#notifications").inner_text()
    page.click("text=标为已读")
    page.wait_for_url(re.compile(r".*/reminders/$"))
    assert page.locator("a.pb-bell .pb-bell-count").count() == 0
    assert Notification.objects.get(user=users.secretary).read_at is not None

    page.click("#notifications a")
    page.wait_for_url(re.compile(rf".*/activities/compliance/{tree.branch_a.pk}/2025/4/$"))

    page.goto(live_server.url + "/reminders/preferences/")
    page.uncheck(f"input[value={Kind.CONVERSION_DUE}]")
    page.click("main button[type=submit]")
    page.wait_for_selector(".alert-success")
    assert list(
        NotificationPreference.objects.filter(user=users.secretary, email=False).values_list("kind", flat=True)
    ) == [Kind.CONVERSION_DUE]
