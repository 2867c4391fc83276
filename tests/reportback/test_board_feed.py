"""A scored item marked as fed by the report-back takes the branch's 月述职 score of the
month, scaled to the item's maximum; a branch that did not report that month has the
item entered by hand. The board's drill-down shows the report-back score and links to it."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from branches.grading import publishing
from branches.reportback import services
from members.ledger.models import ScoreItem
from members.ledger.rule_scheme import scheme_items
from members.ledger.rule_services import version_items

from ..grading.test_entered import enter, enter_items, grade, item, own_version
from .helpers import set_up

pytestmark = pytest.mark.django_db

APRIL = datetime.date(2025, 4, 1)
SHEET = (("org", "组织建设", "40"), ("rules", "制度执行", "30"), ("report", "月述职", "30"))


@pytest.fixture(autouse=True)
def _english(client):
    client.cookies["django_language"] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def fed(tree):
    version = own_version(tree.plant, APRIL, items={"committee_work": SHEET})
    ScoreItem.objects.filter(version=version, code="report").update(fed_by=ScoreItem.FedBy.REPORTBACK)
    setup = set_up(tree.plant, [("生产单位", 1, [tree.branch_a, tree.branch_b])], months=2, start=APRIL)
    draw = services.draw_month(setup=setup, month=APRIL, user=None)
    [report] = draw.reports.all()
    for assessor, score in (("王书记", "90"), ("李区长", "84"), ("张部长", "70"), ("赵主任", "85")):
        services.assessment_set(report=report, assessor=assessor, score=Decimal(score), user=None)
    return version, report


def test_the_board_takes_the_report_back_score_scaled_to_the_item(tree, fed):
    version, report = fed
    drawn = report.unit
    other = tree.branch_b if drawn == tree.branch_a else tree.branch_a
    for branch in (tree.branch_a, tree.branch_b):
        enter_items(branch, version, org="40", rules="30")
        enter(branch, production="80", other="80")
    enter_items(other, version, report="12")  # not drawn in April: entered by hand
    enter_items(drawn, version, report="1")  # typed, but the report-back feeds it: unused

    scores = grade(tree.plant)

    # Trimmed mean: (85 + 84) / 2 = 84.50; the item: 84.50 / 100 × 30 = 25.35.
    assert scores[drawn.pk].committee_work == Decimal("40") + Decimal("30") + Decimal("25.35")
    assert scores[other.pk].committee_work == Decimal("82.00")


def test_a_branch_without_a_report_back_that_month_lacks_the_item_until_entered(tree, fed):
    version, report = fed
    other = tree.branch_b if report.unit == tree.branch_a else tree.branch_a
    branches = publishing.grid_branches(committee=tree.plant, month=APRIL)
    missing = {
        m.branch.pk: [i.code for _d, i in m.cells if i is not None]
        for m in publishing.missing_inputs(committee=tree.plant, month=APRIL, branches=branches)
    }
    assert "report" in missing[other.pk] and "report" not in missing[report.unit_id]


def test_the_drill_down_shows_the_report_back_score_with_a_link(tree, users, fed, client):
    version, report = fed
    grade(tree.plant)
    client.force_login(users.committee)
    response = client.get(
        reverse("grading:explain_branch", args=[tree.plant.pk, 2025, 4, report.unit_id]), {"draft": "1"}
    )
    html = response.content.decode()
    assert "report-back score 84.50" in html
    assert reverse("reportback:report", args=[report.pk]) in html


def test_the_rule_version_form_marks_an_item_as_fed(tree, fed):
    version, _report = fed
    errors: dict = {}
    rows = [
        {"code": i.code, "dimension": i.dimension, "name": i.name, "max_score": i.max_score, "fed_by": i.fed_by}
        for i in version_items(version=version)
    ]
    items = scheme_items(
        rows=rows,
        base_items=version_items(version=version),
        entered=("committee_work",),
        used_codes=set(),
        errors=errors,
    )
    assert not errors
    assert {i.code: i.fed_by for i in items} == {"org": "", "rules": "", "report": "reportback"}
    rows[0]["fed_by"] = "bogus"
    scheme_items(
        rows=rows,
        base_items=version_items(version=version),
        entered=("committee_work",),
        used_codes=set(),
        errors=errors,
    )
    assert any(key.endswith("fed_by") for key in errors)
    assert item(version, "report").fed_by == "reportback"


def test_the_inputs_grid_shows_a_fed_item_read_only_for_the_branch_that_reported(tree, users, fed, client):
    _version, report = fed
    client.force_login(users.committee)
    html = client.get(reverse("grading:inputs", args=[tree.plant.pk, 2025, 4])).content.decode()
    assert html.count("report-back score 84.50") == 1


def test_committee_staff_mark_an_item_fed_in_the_rule_version_form(tree, users, client, time_machine):
    from members.ledger.models import RuleSet

    from ..ledger.test_rules_versions import create, new_version_url, read_form

    time_machine.move_to(datetime.datetime(2025, 4, 15, 10, 0))
    own = create(
        committee=tree.plant, score_items=[{"dimension": "committee_work", "name": "班子团结", "max_score": "100"}]
    ).rule_set
    client.force_login(users.committee)
    data = read_form(client, new_version_url(own))
    assert data["items-0-fed_by"] == ""
    blank = next(
        key.split("-")[1]
        for key, value in data.items()
        if key.endswith("-dimension") and value == "committee_work" and not data[key.replace("dimension", "name")]
    )
    data.update(
        {
            "effective_month": "2025-07",
            "items-0-max_score": "80",
            f"items-{blank}-name": "月述职测评",
            f"items-{blank}-max_score": "20",
            f"items-{blank}-fed_by": "reportback",
        }
    )
    response = client.post(new_version_url(own), data)
    form = response.context and response.context["form"]
    assert response.status_code == 302, form and (form.errors, form.section_errors)
    v2 = RuleSet.objects.get(pk=own.pk).versions.get(number=2)
    assert {i.name: i.fed_by for i in v2.score_items.all()} == {"班子团结": "", "月述职测评": "reportback"}


def test_a_version_that_only_marks_an_item_fed_shows_the_change(tree):
    from members.ledger.rule_diff import version_changes

    from ..ledger.test_rules_versions import create

    first = create(
        committee=tree.plant, score_items=[{"dimension": "committee_work", "name": "月述职测评", "max_score": "100"}]
    )
    [row] = version_items(version=first)
    second = create(
        first.rule_set,
        month=datetime.date(2025, 6, 1),
        score_items=[{"code": row.code, "name": row.name, "max_score": "100", "fed_by": "reportback"}],
    )
    [(_new, _old, changes)] = version_changes(version=second, previous=first).items.changed
    assert [(c.old, c.new) for c in changes] == [("Entered by the committee", "The monthly report-back score")]


def test_a_new_report_back_score_makes_the_draft_stale_where_an_item_is_fed(tree, fed):
    from branches.grading import engine

    _version, report = fed
    before = engine.watermark(committee=tree.plant, month=APRIL)
    services.assessment_set(report=report, assessor="孙书记", score=Decimal("99"), user=None)
    assert engine.watermark(committee=tree.plant, month=APRIL) != before
    assert "reportback" not in engine.watermark(committee=tree.other, month=APRIL)
