"""承诺践诺 in the browser: a secretary writes the safety commitment (全员安全承诺), gives it
to every member of the branch at once, checks each copy at mid-year in the grid (each
row saved by htmx, +5 posted); the committee publishes the results (公示), and the
published results page shows the completion to the secretary."""

from decimal import Decimal

import pytest

from members.commitments.models import CheckPublication, Commitment, CommitmentCheck
from members.ledger.models import LedgerEntry, Source

from .. import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

YEAR = 2025
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_a_secretary_gives_the_safety_commitment_to_all_checks_it_and_the_committee_publishes(
    tree, users, member_a, log_in, live_server, page
):
    members = [member_a, *(f.MemberFactory(branch=tree.branch_a, group=tree.group_a2) for _ in range(2))]
    f.MemberFactory(branch=tree.branch_x, group=tree.group_x1)  # another branch: not given it
    base = f"{live_server.url}/commitments/branch/{tree.branch_a.pk}/{YEAR}"

    log_in("secretary")
    page.goto(f"{base}/")
    page.click("#template-add")
    page.fill("#id_text", "全员安全承诺：严守安全操作规程，不违章作业")
    page.select_option("#id_field", "safety")
    page.fill("#id_target_text", "全年零违章")
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/")
    page.click("button[data-give]")
    page.wait_for_selector(".alert-success")
    copies = list(Commitment.objects.filter(template__isnull=False).order_by("pk"))
    assert sorted(c.member_id for c in copies) == sorted(m.pk for m in members)
    assert page.locator("#commitments tbody tr").count() == 3

    # The mid-year grid: each row saves as soon as its result is chosen.
    page.click("a[data-check=mid]")
    page.wait_for_url(f"{base}/check/mid/")
    for commitment in copies:
        cell = f"#check-{commitment.pk}-mid"
        page.select_option(f"{cell} select[name=result]", "met")
        page.wait_for_selector(f"{cell} [role=status]")
        assert "+5" in page.locator(f"{cell} [role=status]").inner_text()
    assert CommitmentCheck.objects.filter(result="met", period="mid").count() == 3
    # Evidence added afterwards (multipart through htmx): saved, and no second +5.
    cell = f"#check-{copies[0].pk}-mid"
    page.set_input_files(
        f"{cell} input[name=evidence]",
        files=[{"name": "安全签字表.pdf", "mimeType": "application/pdf", "buffer": PDF}],
    )
    page.wait_for_selector(f"{cell} a[href$='/evidence/']")
    assert CommitmentCheck.objects.get(commitment=copies[0], period="mid").evidence.name.endswith(".pdf")
    entries = LedgerEntry.objects.filter(source=Source.COMMITMENT, source_key="check:mid")
    assert sorted(entries.values_list("member_id", "points")) == sorted((m.pk, Decimal("5.00")) for m in members)

    # Not published yet: the secretary's results page says so.
    page.goto(f"{base}/results/mid/")
    assert page.locator("#not-published").is_visible()

    page.context.clear_cookies()
    log_in("committee")
    page.goto(f"{base}/results/mid/")
    page.fill("#id_note", "公示期七天")
    page.click("#publish")
    page.wait_for_selector("#published")
    assert CheckPublication.objects.get().published_by == users.committee

    page.context.clear_cookies()
    log_in("secretary")
    page.goto(f"{base}/results/mid/")
    assert page.locator("#completion-rate").inner_text().strip() == "100.0%"
    for member in members:
        assert page.locator("#results").get_by_text(member.name).is_visible()
    # The grid is read-only once published.
    page.goto(f"{base}/check/mid/")
    assert page.locator(f"#check-{copies[0].pk}-mid select[name=result]").is_disabled()
