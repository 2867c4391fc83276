"""The impact preview of a new rule-set version: the last graded month graded again
under it, side by side with the board as it stands, and nothing written."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from branches.grading import preview, services
from branches.grading.models import BranchScore, GradingRun, MemberScore
from members.ledger.models import MeetingRequirement, RuleSet, RuleSetVersion
from members.ledger.rule_services import rule_set_version_create

from .. import factories as f
from ..ledger.test_rules_pages import form_data

pytestmark = pytest.mark.django_db
APRIL = datetime.date(2025, 4, 1)


def enter(branch, committee_work, production, other, month=APRIL):
    for dimension, score in (("committee_work", committee_work), ("production", production), ("other", other)):
        services.score_input_set(branch=branch, month=month, dimension=dimension, score=Decimal(score), user=None)


def grade(committee, month=APRIL):
    run = services.grading_run_request(committee=committee, month=month)
    services.grading_run_execute(run_id=run.pk)
    return {s.branch_id: s for s in BranchScore.objects.filter(committee=committee, month=month)}


@pytest.fixture
def plant(tree):
    """The plant's four branches, graded in April with the default rules. No members and
    no activities: basics and membership are 0, so the total is 0.15 cw + 0.25 p + 0.10 o.
    A: 90/60/60 → 13.5 + 15 + 6 = 34.50; B: 60/90/60 → 9 + 22.5 + 6 = 37.50;
    C: 80/80/20 → 12 + 20 + 2 = 34.00; D: 50/50/100 → 7.5 + 12.5 + 10 = 30.00."""
    extra = [f.branch(tree.plant, name=n) for n in ("炼钢三支部", "炼钢四支部")]
    branches = [tree.branch_a, tree.branch_b, *extra]
    for branch, scores in zip(
        branches, (("90", "60", "60"), ("60", "90", "60"), ("80", "80", "20"), ("50", "50", "100")), strict=True
    ):
        enter(branch, *scores)
    grade(tree.plant)
    return branches


def customise(committee, **parameters):
    return {
        "rule_set": None,
        "committee": committee,
        "effective_month": APRIL,
        "note": "预览",
        "user": None,
        "parameters": parameters,
    }


def test_the_preview_grades_the_last_month_under_the_new_weights_and_writes_nothing(tree, plant):
    a, b, c, d = plant
    before = {
        "versions": RuleSetVersion.objects.count(),
        "requirements": MeetingRequirement.objects.count(),
        "runs": GradingRun.objects.count(),
        "draft": list(BranchScore.objects.order_by("pk").values_list("pk", "total", "rank", "bottom_three", "run")),
        "members": MemberScore.objects.count(),
    }
    # Production weighs less, committee work more: 30/30/10/20/10.
    # A: 27 + 6 + 6 = 39.00; B: 18 + 9 + 6 = 33.00; C: 24 + 8 + 2 = 34.00; D: 15 + 5 + 10 = 30.00.
    impact = preview.version_impact(
        **customise(tree.plant, weight_committee_work="30", weight_production="10"), graded=tree.plant
    )
    assert impact.month == APRIL and impact.publication_version is None  # compared with the draft
    rows = {row.branch: row for row in impact.rows}
    assert [(rows[x].before.total, rows[x].after.total) for x in plant] == [
        (Decimal("34.50"), Decimal("39.00")),
        (Decimal("37.50"), Decimal("33.00")),
        (Decimal("34.00"), Decimal("34.00")),
        (Decimal("30.00"), Decimal("30.00")),
    ]
    # Ranks before: B 1, A 2, C 3, D 4 (B, C, D in the bottom three of four, never rank 1);
    # after: A 1, C 2, B 3, D 4 — A leaves the bottom group, B enters it.
    assert [(rows[x].before.rank, rows[x].after.rank) for x in plant] == [(2, 1), (1, 3), (3, 2), (4, 4)]
    assert [r.branch for r in impact.entering] == [b] and [r.branch for r in impact.leaving] == [a]
    assert rows[a].rank_change == 1 and rows[b].rank_change == -2 and rows[c].delta == 0
    assert impact.changed == 3
    # Nothing of it was kept.
    assert RuleSetVersion.objects.count() == before["versions"]
    assert MeetingRequirement.objects.count() == before["requirements"]
    assert GradingRun.objects.count() == before["runs"]
    assert (
        list(BranchScore.objects.order_by("pk").values_list("pk", "total", "rank", "bottom_three", "run"))
        == before["draft"]
    )
    assert MemberScore.objects.count() == before["members"] and not RuleSet.objects.filter(committee=tree.plant)


def test_the_preview_matches_the_regrade_it_predicts(tree, plant):
    parameters = {"weight_committee_work": "30", "weight_production": "10", "bottom_three_count": "2"}
    impact = preview.version_impact(**customise(tree.plant, **parameters), graded=tree.plant)
    rule_set_version_create(**customise(tree.plant, **parameters))
    regraded = grade(tree.plant)
    assert [(r.branch.pk, r.after.total, r.after.rank, r.after.bottom_three) for r in impact.rows] == sorted(
        ((s.branch_id, s.total, s.rank, s.bottom_three) for s in regraded.values()), key=lambda row: row[2]
    )


def test_an_invalid_version_is_refused_by_the_preview_as_by_the_save(tree, plant):
    with pytest.raises(ValidationError) as excinfo:
        preview.version_impact(**customise(tree.plant, weight_basics="50"), graded=tree.plant)
    assert "weights" in excinfo.value.message_dict
    assert not RuleSet.objects.filter(committee=tree.plant).exists()


def test_a_committee_that_never_graded_has_nothing_to_preview(tree):
    with pytest.raises(ValidationError) as excinfo:
        preview.version_impact(**customise(tree.plant), graded=tree.plant)
    assert tree.plant.name in " ".join(excinfo.value.messages)


def test_new_scored_items_nobody_entered_count_as_zero_and_are_counted(tree, plant):
    items = [
        {"dimension": "committee_work", "name": "组织建设", "max_score": "60"},
        {"dimension": "committee_work", "name": "作风建设", "max_score": "40"},
    ]
    impact = preview.version_impact(**customise(tree.plant) | {"score_items": items}, graded=tree.plant)
    # Committee work is the sum of two items nobody entered: 0 for every branch.
    # A: 15 + 6 = 21.00 (was 34.50); each branch lacks two cells.
    rows = {row.branch: row for row in impact.rows}
    assert rows[plant[0]].after.total == Decimal("21.00")
    assert impact.missing_cells == 8 and {row.missing_cells for row in impact.rows} == {2}


# --- the page ------------------------------------------------------------------------------


def preview_url(committee):
    return reverse("grading:customise_preview", args=[committee.pk])


def test_the_version_form_offers_the_preview_and_the_page_shows_it_filled_in(tree, plant, users, login):
    client = login(users.committee)
    form_page = client.get(reverse("ledger:ruleset_customise", args=[tree.plant.pk])).content.decode()
    assert f'formaction="{preview_url(tree.plant)}"' in form_page
    default = RuleSet.objects.get(committee__isnull=True)
    data = form_data(default, effective_month="2025-04", weight_committee_work="30", weight_production="10")
    response = client.post(preview_url(tree.plant), data)
    html = response.content.decode()
    assert response.status_code == 200 and 'id="impact-rows"' in html
    assert response.context["impact"].entering[0].branch == plant[1]
    # The same form, as posted, saves to the ledger's page.
    assert f'action="{reverse("ledger:ruleset_customise", args=[tree.plant.pk])}"' in html
    assert 'value="30' in html and not RuleSet.objects.filter(committee=tree.plant).exists()


def test_an_invalid_post_shows_the_errors_and_no_preview(tree, plant, users, login):
    data = form_data(RuleSet.objects.get(committee__isnull=True), effective_month="2025-04", weight_basics="50")
    response = login(users.committee).post(preview_url(tree.plant), data)
    html = response.content.decode()
    assert response.status_code == 200 and 'id="impact-refused"' in html and 'id="impact-rows"' not in html


def test_only_those_who_may_make_the_version_may_preview_it(tree, plant, users, login):
    data = form_data(RuleSet.objects.get(committee__isnull=True), effective_month="2025-04")
    # The committee above a secretary's branch is outside their scope: 404, as for outsiders.
    for outsider in (users.secretary, users.other_committee, users.other_secretary, users.nobody):
        assert login(outsider).post(preview_url(tree.plant), data).status_code == 404
    default = RuleSet.objects.get(committee__isnull=True)
    url = reverse("grading:version_preview", args=[default.pk])
    # Everyone reads the default rules; only the administrator makes (and previews) versions.
    assert login(users.secretary).post(url, data).status_code == 403
    assert login(users.committee).post(url, data).status_code == 403
    assert login(users.admin).get(url).status_code == 405
    response = login(users.admin).post(url, data)
    # The administrator previews the default rules on a committee graded by them.
    assert response.status_code == 200 and response.context["impact"].committee.is_committee
