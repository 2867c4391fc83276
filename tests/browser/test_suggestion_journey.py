"""Committee staff work through the review queue in the browser: a rejection without a
reason is refused in its row (htmx), an acceptance moves the row on and posts the
proposer's points; the implementation is recorded on the suggestion's page with its
evidence, and the member's ledger links the points back to the suggestion."""

import pytest

from members.ledger.models import LedgerEntry
from members.suggestions.models import State, Suggestion

from ..suggestions.factories import PDF, suggestion

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_suggestion_goes_from_the_queue_to_implemented_and_its_points_link_back(
    tree, users, member_a, log_in, live_server, tmp_path
):
    s = suggestion(tree.branch_a, [member_a], title="优化连铸二冷配水降低铸坯裂纹")
    page = log_in("committee")
    page.goto(f"{live_server.url}/suggestions/review/{tree.plant.pk}/")
    row = f"#suggestion-{s.pk}"

    page.click(f"{row} button[value=reject]")
    alert = page.wait_for_selector(f"{row} [role=alert]")
    assert "请填写原因" in alert.inner_text() and "未作任何更改" in alert.inner_text()
    assert Suggestion.objects.get().state == State.SUBMITTED

    page.click(f"{row} button[value=accept]")
    page.wait_for_selector(f'{row} [data-state="accepted"]')
    assert LedgerEntry.objects.get().member == member_a
    page.click(f"{row} button[value=publish]")
    page.wait_for_selector(f'{row} [data-state="published"]')

    page.click(f"{row} a[href$='#move-implement']")
    evidence = tmp_path / "实施效果确认单.pdf"
    evidence.write_bytes(PDF)
    page.fill("#move-implement input[name=realised_value]", "36.5")
    page.set_input_files("#move-implement input[name=evidence]", str(evidence))
    page.click("#move-implement button[type=submit]")
    page.wait_for_selector('[data-state="implemented"]')
    assert "36.50" in page.locator("#realised").inner_text()
    assert sum(e.points for e in LedgerEntry.objects.all()) == 7

    page.goto(f"{live_server.url}/ledger/members/{member_a.pk}/")
    page.click(f"a[href='/suggestions/{s.pk}/']")
    page.wait_for_url(f"{live_server.url}/suggestions/{s.pk}/")
