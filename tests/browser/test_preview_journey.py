"""Committee staff make a version 2 in Chromium, look at its impact on the last graded
month first, change their mind on a weight, preview again and save."""

import datetime
from decimal import Decimal

import pytest

from branches.grading import services
from branches.grading.models import GradingRun
from members.ledger.models import RuleSet
from members.ledger.rule_services import rule_set_version_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
APRIL = datetime.date(2025, 4, 1)


def test_committee_staff_preview_a_new_versions_impact_then_save_it(tree, users, log_in, live_server):
    own = rule_set_version_create(
        rule_set=None, committee=tree.plant, effective_month=datetime.date(2025, 1, 1), note="", user=None
    ).rule_set
    # April graded: A 90/60/60 → 34.50, B 60/90/60 → 37.50 (no members, no activities).
    for branch, scores in ((tree.branch_a, ("90", "60", "60")), (tree.branch_b, ("60", "90", "60"))):
        for dimension, score in zip(("committee_work", "production", "other"), scores, strict=True):
            services.score_input_set(branch=branch, month=APRIL, dimension=dimension, score=Decimal(score), user=None)
    services.grading_run_execute(run_id=services.grading_run_request(committee=tree.plant, month=APRIL).pk)
    runs = GradingRun.objects.count()

    page = log_in("committee")
    page.goto(f"{live_server.url}/ledger/rules/{own.pk}/new-version/")
    page.fill("input[name=effective_month]", "2025-05")
    page.fill("input[name=weight_committee_work]", "30")
    page.fill("input[name=weight_production]", "10")
    page.click("#preview-impact")
    page.wait_for_selector("#impact-rows")
    # Under 30/10: A 27 + 6 + 6 = 39.00 first, B 18 + 9 + 6 = 33.00 second.
    rows = page.locator("#impact-rows tbody tr")
    assert rows.count() == 2
    assert "39.00" in rows.nth(0).inner_text() and tree.branch_a.name in rows.nth(0).inner_text()
    assert "33.00" in rows.nth(1).inner_text()
    assert "尚未保存" in page.locator("#impact").inner_text()
    # The form came back as typed; nothing was written.
    assert page.input_value("input[name=weight_committee_work]") == "30"
    assert RuleSet.objects.get(pk=own.pk).versions.count() == 1 and GradingRun.objects.count() == runs

    # A second thought, a second preview, then save.
    page.fill("input[name=weight_committee_work]", "25")
    page.fill("input[name=weight_production]", "15")
    page.click("#preview-impact")
    page.wait_for_selector("#impact-rows")
    assert "37.50" in page.locator("#impact-rows tbody tr").nth(0).inner_text()  # A: 22.5 + 9 + 6
    page.click("#rule-version-form button[type=submit]:not(#preview-impact)")
    page.wait_for_url(f"{live_server.url}/ledger/rules/{own.pk}/?version=2")
    version = RuleSet.objects.get(pk=own.pk).versions.get(number=2)
    assert (version.weight_committee_work, version.weight_production) == (25, 15)
