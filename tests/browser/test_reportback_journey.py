"""月述职 in the browser: committee staff set up a pool of 72 units in two categories
(2 streets + 13 district offices a month, a six-month cycle), draw January, replay the
draw and score a session."""

from decimal import Decimal

import pytest

from branches.models import RoleBinding
from branches.reportback.models import Assessment, Draw, Setup

from .. import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_set_up_72_units_draw_replay_and_score_a_session(live_server, log_in):
    district = f.committee(name="大东区委", code="DADONG")
    streets = [f.branch(district, name=f"第{i + 1}街道党工委", code=f"ST{i + 1:02d}") for i in range(12)]
    offices = [f.branch(district, name=f"区直第{i + 1}党组", code=f"OF{i + 1:02d}") for i in range(60)]
    f.user_with_role(RoleBinding.Role.COMMITTEE_STAFF, district, username="district")

    page = log_in("district")
    page.goto(f"{live_server.url}/org/{district.pk}/")
    page.click(f"a[href='/reportback/committee/{district.pk}/']")
    page.click(f"a[href='/reportback/committee/{district.pk}/setup/']")
    page.fill("input[name=cycle_start]", "2026-01")
    page.fill("input[name=cycle_months]", "6")
    page.fill("input[name=cat1_name]", "街道")
    page.fill("input[name=cat1_quota]", "2")
    page.fill("input[name=cat2_name]", "区直单位")
    page.fill("input[name=cat2_quota]", "10")  # too few: 10 × 6 = 60 reaches 60, so fine…
    page.fill("input[name=cat2_quota]", "9")  # …but 9 × 6 = 54 does not
    for unit in streets:
        page.select_option(f"select[name=unit_{unit.pk}]", "1")
    for unit in offices:
        page.select_option(f"select[name=unit_{unit.pk}]", "2")
    page.click("#setup-form button[type=submit]")
    assert "只能覆盖60个单位中的54个" in page.inner_text("main")  # the page speaks Chinese
    assert not Setup.objects.exists()
    page.fill("input[name=cat2_quota]", "13")
    page.click("#setup-form button[type=submit]")
    page.wait_for_selector("#matrix")
    assert page.locator("#matrix tbody tr").count() == 72
    assert "尚有72个单位未述职" in page.inner_text("#left")

    page.click("#matrix thead a >> nth=0")  # January
    page.click("#draw-button")
    page.wait_for_selector("#drawn")
    assert page.locator("#drawn tbody tr").count() == 15
    draw = Draw.objects.get()
    assert sorted(draw.quotas.values()) == [2, 13]

    page.click(f"a[href='/reportback/draw/{draw.pk}/']")
    assert "一致" in page.inner_text("#replay-result") and page.locator(".replay-section .text-bg-danger").count() == 0
    assert draw.seed in page.inner_text("#seed")

    page.go_back()
    page.click("#sessions a >> nth=0")
    page.wait_for_selector("#grid")
    first = page.locator("#grid tbody tr").first
    for assessor, score in (("区委书记", "92"), ("区长", "88"), ("组织部长", "70")):
        row = page.locator("#grid tbody tr").first
        row.locator("input[name=assessor]").fill(assessor)
        row.locator("input[name=score]").fill(score)
        row.locator("button[type=submit]").click()
        page.wait_for_selector("#grid")
    first = page.locator("#grid tbody tr").first
    assert first.locator(".unit-score").inner_text() == "88.00"  # the trimmed mean of three
    assert Assessment.objects.count() == 3 and sorted(Assessment.objects.values_list("score", flat=True)) == [
        Decimal("70"),
        Decimal("88"),
        Decimal("92"),
    ]
    page.goto(f"{live_server.url}/reportback/committee/{district.pk}/")
    assert "尚有57个单位未述职" in page.inner_text("#left")
    assert page.locator("#matrix tbody a[href*='/reportback/report/']").count() == 15
