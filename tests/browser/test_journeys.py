"""Journeys through the real UI in headless Chromium."""

import re

import pytest

from members.models import Member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_secretary_edits_a_member_and_cannot_reach_another_branch(
    tree, users, member_a, member_x, log_in, live_server
):
    page = log_in("secretary")
    assert "我的支部" in page.content()

    page.click("text=党员名册")
    page.wait_for_selector("#roster")
    assert page.locator("h1").inner_text().startswith("党员名册")
    rows = page.locator("#roster tbody tr")
    assert rows.count() == 1
    assert member_a.name in rows.first.inner_text()
    assert member_x.name not in page.content()

    page.click(f"text={member_a.name}")
    page.click("text=编辑")
    page.fill("input[name=post]", "连铸主控工")
    page.fill("input[name=phone]", "13912345678")
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(rf".*/members/{member_a.pk}/$"))
    assert "已保存" in page.content()
    assert "连铸主控工" in page.content()
    member_a.refresh_from_db()
    assert (member_a.post, member_a.phone) == ("连铸主控工", "13912345678")

    # Another branch's member by URL: the same 404 as a member that does not exist.
    response = page.goto(f"{live_server.url}/members/{member_x.pk}/")
    assert response.status == 404
    response = page.goto(f"{live_server.url}/members/{member_x.pk}/edit/")
    assert response.status == 404
    assert Member.objects.get(pk=member_x.pk).post == member_x.post


def test_an_invalid_edit_shows_the_error_in_chinese_and_keeps_the_data(tree, users, member_a, log_in, live_server):
    page = log_in("secretary")
    page.goto(f"{live_server.url}/members/{member_a.pk}/edit/")
    page.fill("input[name=joined_on]", "1990-01-01")
    page.click("input[type=submit]")
    assert "18" in page.locator(".invalid-feedback, .alert-danger").first.inner_text()
    member_a.refresh_from_db()
    assert str(member_a.joined_on) == "2010-07-01"
