"""Committee staff type a score out of range into the grid: the cell says why in place,
keeps what they typed marked invalid, and still shows the value that is saved."""

import datetime
from decimal import Decimal

import pytest

from branches.grading import services
from branches.grading.models import ScoreInput

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

APRIL = datetime.date(2025, 4, 1)


def test_typing_120_shows_the_message_in_the_cell_and_keeps_the_saved_85(tree, users, log_in, live_server):
    services.score_input_set(
        branch=tree.branch_a, month=APRIL, dimension="production", score=Decimal("85"), user=users.committee
    )
    page = log_in("committee")
    page.goto(f"{live_server.url}/grading/{tree.plant.pk}/2025/4/inputs/")
    cell = f"#cell-{tree.branch_a.pk}-production"

    page.locator(f"{cell} input[name=score]").fill("120")
    page.locator(f"{cell} input[name=score]").press("Tab")

    alert = page.wait_for_selector(f"{cell} [role=alert]", timeout=10_000)
    assert "分数须在0至100之间" in alert.inner_text() and "未保存任何内容" in alert.inner_text()
    box = page.locator(f"{cell} input[name=score]")
    assert box.input_value() == "120" and "is-invalid" in box.get_attribute("class")
    assert "已保存：85.00" in page.locator(f"{cell} .saved-value").inner_text()
    assert ScoreInput.objects.get().score == Decimal("85.00")

    # A good value then saves, in the same cell.
    page.locator(f"{cell} input[name=score]").fill("90")
    page.locator(f"{cell} input[name=score]").press("Tab")
    page.wait_for_selector(f"{cell} [role=status]")
    assert "已保存：90.00" in page.locator(f"{cell} .saved-value").inner_text()
    assert ScoreInput.objects.get().score == Decimal("90.00")
