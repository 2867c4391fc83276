"""Committee staff edit their scheme in Chromium: rows added by the script (a scored
sub-item sheet for 班子建设, a requirement, an attendance rule), a rule retired, the live
sums, then the saved version and what it changed."""

import datetime

import pytest

from members.ledger.models import RuleSet
from members.ledger.rule_services import rule_set_version_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_committee_staff_make_a_version_2_with_rows_added_in_the_browser(tree, users, log_in, live_server):
    own = rule_set_version_create(
        rule_set=None,
        committee=tree.plant,
        effective_month=datetime.date(2025, 1, 1),
        note="",
        user=None,
    ).rule_set
    page = log_in("committee")
    page.goto(f"{live_server.url}/ledger/rules/{own.pk}/new-version/")

    # Weights: the live sum follows what is typed.
    weights = page.locator("#weights").locator("xpath=ancestor::*[@data-sum-scope][1]")
    assert weights.locator("[data-sum-total]").inner_text() == "100"
    page.fill("input[name=weight_basics]", "35")
    assert weights.locator("[data-sum-total]").inner_text() == "105"
    page.fill("input[name=weight_basics]", "20")
    page.fill("input[name=weight_committee_work]", "25")
    assert weights.locator("[data-sum-total]").inner_text() == "100"

    # Two scored items for 班子建设, added by the script and summed live.
    section = page.locator("details[data-items-for=committee_work]")
    section.locator("summary").click()
    blank_rows = section.locator("tbody tr").count()
    section.locator("[data-add-row]").click()
    rows = section.locator("tbody tr")
    assert rows.count() == blank_rows + 1
    added = rows.nth(blank_rows)
    assert added.locator("input[data-item-dimension]").input_value() == "committee_work"
    added.locator("input[name$=-name]").fill("班子团结")
    added.locator("input[name$=-max_score]").fill("60")
    rows.nth(0).locator("input[name$=-name]").fill("制度执行")
    rows.nth(0).locator("input[name$=-max_score]").fill("40")
    assert section.locator("[data-sum-total]").inner_text() == "100"

    # A requirement added by the script.
    page.click("[data-add-row=tpl-requirement]")
    requirement = page.locator("#requirement-body tr").last
    requirement.locator("select[name$=-kind]").select_option("training")
    requirement.locator("select[name$=-frequency]").select_option("quarterly")

    # A new attendance rule: its activities appear once the source says attendance.
    page.click("[data-add-row=tpl-new-rule]")
    rule = page.locator("#new-rule-body tr[data-new-rule]").last
    details = page.locator("#new-rule-body tr[data-new-rule-attendance]").last
    assert details.is_hidden()
    rule.locator("select[name$=-category]").select_option("org_life")
    rule.locator("select[name$=-source]").select_option("attendance")
    assert details.is_visible()
    rule.locator("input[name$=-name]").fill("参加组织生活会")
    rule.locator("input[name$=-points_min]").fill("3")
    rule.locator("input[name$=-points_max]").fill("3")
    details.locator("input[value=org_life_meeting]").check()
    details.locator("input[value=present]").check()

    # A rule retired: its row greys out.
    page.check("input[name=rules-suggestion_adopted-retire]")
    assert "pb-row-removed" in page.locator("tr[data-code=suggestion_adopted]").get_attribute("class")

    page.click("#rule-version-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/ledger/rules/{own.pk}/?version=2")

    version = RuleSet.objects.get(pk=own.pk).versions.get(number=2)
    assert (version.weight_basics, version.weight_committee_work) == (20, 25)
    assert {(i.name, i.max_score) for i in version.score_items.all()} == {("班子团结", 60), ("制度执行", 40)}
    assert version.requirements.filter(kind="training", frequency="quarterly").exists()
    assert version.rules.get(code="org_life_1").activity_kinds == ["org_life_meeting"]
    assert not version.rules.filter(code="suggestion_adopted").exists()
    assert "班子团结" in page.locator("#dimensions").inner_text()

    page.click("#changes-link")
    page.wait_for_selector("#rules-retired")
    assert "参加组织生活会" in page.locator("#rules-added").inner_text()
    assert "班子团结" in page.locator("#items-added").inner_text()
