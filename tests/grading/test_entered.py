"""The committee's own scheme in the grading (issue 9): dimensions scored by items (细则),
basics and membership entered by the committee, the weights and the bottom-three count
of the version in force, and two versions graded side by side. Every number is worked
out by hand in the comments.

Versions are made with the ORM (``own_version``): a committee's rule set with the rules
and meeting requirements of the version it replaces copied in, and the version's own
fields and scored items set before anything grades with it (a graded version is frozen).

Branches here have no members and hold no activities unless a test says otherwise, so
基础工作 and 党员队伍建设 are computed as 0 and only the entered dimensions count.
"""

import datetime
from decimal import Decimal
from fractions import Fraction

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from branches.activities import services as activities
from branches.grading import engine, publishing, services
from branches.grading.models import BranchScore, ScoreInput
from branches.models import RoleBinding
from members.ledger.models import RuleSet, RuleSetVersion, ScoreItem
from members.ledger.services import rule_version_for

from .. import factories as f

pytestmark = pytest.mark.django_db

APRIL = datetime.date(2025, 4, 1)
MAY = datetime.date(2025, 5, 1)
COMMITTEE_SHEET = (("org", "组织建设", "40"), ("rules", "制度执行", "30"), ("style", "作风建设", "30"))


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def english(client):
    client.cookies["django_language"] = "en"
    return client


# --- helpers -----------------------------------------------------------------------------


def own_version(committee, month, *, items: dict | None = None, **fields) -> RuleSetVersion:
    """A new version of ``committee``'s own rule set from ``month``: what was in force
    copied (rules, requirements), ``fields`` set, and ``items`` — {dimension: ((code,
    name, max), …)} — as its scored items."""
    before = rule_version_for(unit=committee, month=month)
    rule_set, _created = RuleSet.objects.get_or_create(committee=committee, defaults={"name": f"{committee.name}细则"})
    number = rule_set.versions.count() + 1
    copied = {name: getattr(before, name) for name in RuleSetVersion.GRADING_FIELDS}
    version = RuleSetVersion.objects.create(
        rule_set=rule_set, number=number, effective_month=month, **{**copied, **fields}
    )
    for part in (*before.rules.all(), *before.requirements.all()):
        part.pk, part.version = None, version
        part.save()
    for dimension, sheet in (items or {}).items():
        for order, (code, name, top) in enumerate(sheet):
            ScoreItem.objects.create(
                version=version, dimension=dimension, code=code, name=name, max_score=Decimal(top), sort_order=order
            )
    return version


def item(version, code) -> ScoreItem:
    return ScoreItem.objects.get(version=version, code=code)


def enter(branch, month=APRIL, user=None, **scores):
    """Whole dimensions; ``None`` marks one not assessed."""
    for dimension, score in scores.items():
        services.score_input_set(
            branch=branch,
            month=month,
            dimension=dimension,
            score=None if score is None else Decimal(score),
            not_assessed=score is None,
            user=user,
        )


def enter_items(branch, version, month=APRIL, user=None, **scores):
    """Items by code: ``org="35.5"``."""
    for code, score in scores.items():
        scored = item(version, code)
        services.score_input_set(
            branch=branch, month=month, dimension=scored.dimension, score=Decimal(score), user=user, item=scored
        )


def grade(committee, month=APRIL) -> dict[int, BranchScore]:
    run = services.grading_run_request(committee=committee, month=month)
    services.grading_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.state == "succeeded", run.error
    return {s.branch_id: s for s in BranchScore.objects.filter(committee=committee, month=month)}


def messages_of(excinfo) -> str:
    return " ".join(excinfo.value.messages)


def grid_url(committee, month=APRIL):
    return reverse("grading:inputs", args=[committee.pk, month.year, month.month])


def item_url(branch, scored, month=APRIL, *, history=False):
    name = "grading:input_item_history" if history else "grading:input_item_cell"
    return reverse(name, args=[branch.pk, month.year, month.month, scored.pk])


def cell_url(branch, dimension, month=APRIL):
    return reverse("grading:input_cell", args=[branch.pk, month.year, month.month, dimension])


@pytest.fixture
def sheet(tree):
    """PLANT's version from April 2025: 班子建设 scored by three items (40 + 30 + 30)."""
    return own_version(tree.plant, APRIL, items={"committee_work": COMMITTEE_SHEET})


# --- a dimension scored by items ---------------------------------------------------------


def test_a_dimension_scored_by_items_is_their_sum_weighted_by_the_version():
    committee = f.committee()
    a, b = f.branch(committee), f.branch(committee)
    version = own_version(
        committee,
        APRIL,
        weight_basics=Decimal("20"),
        weight_committee_work=Decimal("30"),
        weight_production=Decimal("20"),
        weight_membership=Decimal("20"),
        weight_other=Decimal("10"),
        items={"committee_work": COMMITTEE_SHEET},
    )
    enter_items(a, version, org="35.5", rules="28", style="30")
    enter(a, production="80", other="70")
    enter_items(b, version, org="40", rules="30", style="30")
    enter(b, production="60", other="50")

    scores = grade(committee)

    # A: 班子建设 = 35.50 + 28.00 + 30.00 = 93.50;
    # total = (20 × 0 + 30 × 93.50 + 20 × 80 + 20 × 0 + 10 × 70) ÷ 100 = 5105 ÷ 100 = 51.05.
    # B: 40 + 30 + 30 = 100; (30 × 100 + 20 × 60 + 10 × 50) ÷ 100 = 4700 ÷ 100 = 47.00.
    assert (scores[a.pk].committee_work, scores[a.pk].total, scores[a.pk].rank) == (
        Decimal("93.50"),
        Decimal("51.05"),
        1,
    )
    assert (scores[b.pk].committee_work, scores[b.pk].total, scores[b.pk].rank) == (
        Decimal("100.00"),
        Decimal("47.00"),
        2,
    )
    assert engine.weighted_total(
        scores={"basics": Decimal("0"), "committee_work": Decimal("93.50"), "production": Decimal("80"),
                "membership": Decimal("0"), "other": Decimal("70")},
        version=version,
    ) == Decimal("51.05")  # fmt: skip


def test_each_item_keeps_who_entered_it_and_its_history(tree, users, sheet):
    enter_items(tree.branch_a, sheet, user=users.committee, org="30")
    enter_items(tree.branch_a, sheet, user=users.admin, org="35.5")

    row = ScoreInput.objects.get(branch=tree.branch_a, item=item(sheet, "org"))
    assert (row.dimension, row.score, row.entered_by) == ("committee_work", Decimal("35.50"), users.admin)
    assert list(row.changes.values_list("score", "entered_by")) == [
        (Decimal("35.50"), users.admin.pk),
        (Decimal("30.00"), users.committee.pk),
    ]


@pytest.mark.parametrize("score", ["40.01", "-0.01", "35.555"])
def test_an_item_is_scored_from_0_to_its_maximum_with_two_decimals(tree, sheet, score):
    with pytest.raises(ValidationError) as excinfo:
        enter_items(tree.branch_a, sheet, org=score)
    assert "组织建设 is scored from 0 to 40.00 with at most two decimals." in messages_of(excinfo)
    assert not ScoreInput.objects.exists()


def test_an_item_at_its_maximum_and_at_0_is_a_score(tree, sheet):
    enter_items(tree.branch_a, sheet, org="40", rules="0")
    assert sorted(ScoreInput.objects.values_list("score", flat=True)) == [Decimal("0.00"), Decimal("40.00")]


def test_an_item_of_another_version_is_refused(tree, sheet):
    other = own_version(tree.other, APRIL, items={"committee_work": (("org", "组织建设", "100"),)})
    with pytest.raises(ValidationError) as excinfo:
        enter_items(tree.branch_a, other, org="50")
    assert "组织建设 is not an item of Committee work in the rules in force for April 2025." in messages_of(excinfo)
    assert not ScoreInput.objects.exists()


def test_an_item_of_a_version_not_yet_in_force_is_refused(tree):
    own_version(tree.plant, APRIL)
    later = own_version(tree.plant, MAY, items={"committee_work": COMMITTEE_SHEET})
    with pytest.raises(ValidationError) as excinfo:
        enter_items(tree.branch_a, later, month=APRIL, org="30")
    assert "not an item of Committee work" in messages_of(excinfo)


def test_a_dimension_scored_by_items_takes_no_score_of_its_own(tree, sheet):
    with pytest.raises(ValidationError) as excinfo:
        enter(tree.branch_a, committee_work="80")
    assert "Committee work is scored item by item" in messages_of(excinfo)
    assert not ScoreInput.objects.exists()


def test_an_item_cannot_be_marked_not_assessed_on_its_own(tree, sheet):
    with pytest.raises(ValidationError) as excinfo:
        services.score_input_set(
            branch=tree.branch_a,
            month=APRIL,
            dimension="committee_work",
            score=None,
            not_assessed=True,
            user=None,
            item=item(sheet, "org"),
        )
    assert "not assessed as a whole" in messages_of(excinfo)


def test_a_dimension_marked_not_assessed_as_a_whole_shares_its_weight_and_the_mark_can_be_lifted(tree, sheet):
    enter_items(tree.branch_a, sheet, org="35.5")
    enter(tree.branch_a, committee_work=None, production="80", other="70")
    enter(tree.branch_b, committee_work=None, production="80", other="70")

    scores = grade(tree.plant)
    # 班子建设 not assessed: (30 × 0 + 25 × 80 + 20 × 0 + 10 × 70) ÷ (30 + 25 + 20 + 10) = 2700 ÷ 85 = 31.7647… → 31.76.
    assert (scores[tree.branch_a.pk].committee_work, scores[tree.branch_a.pk].total) == (None, Decimal("31.76"))
    branches = publishing.grid_branches(committee=tree.plant, month=APRIL)
    assert publishing.missing_inputs(committee=tree.plant, month=APRIL, branches=branches) == []

    # Lifting the mark (neither a score nor "not assessed") asks for the items again.
    services.score_input_set(
        branch=tree.branch_a, month=APRIL, dimension="committee_work", score=None, not_assessed=False, user=None
    )
    row = ScoreInput.objects.get(branch=tree.branch_a, dimension="committee_work", item=None)
    assert (row.score, row.not_assessed) == (None, False)
    assert list(row.changes.values_list("score", "not_assessed")) == [(None, False), (None, True)]
    [missing] = publishing.missing_inputs(committee=tree.plant, month=APRIL, branches=branches)
    assert (missing.branch, missing.labels) == (
        tree.branch_a,
        ["Committee work · 制度执行", "Committee work · 作风建设"],
    )
    # Missing items count 0 in the draft: 35.50, so (15 × 35.5 + 25 × 80 + 10 × 70) ÷ 100 = 3232.5 ÷ 100 = 32.33 (half-up).
    assert grade(tree.plant)[tree.branch_a.pk].total == Decimal("32.33")


def test_a_missing_item_blocks_publication_and_the_message_names_branch_and_item(tree, users, sheet):
    for branch in (tree.branch_a, tree.branch_b):
        enter(branch, production="80", other="70")
    enter_items(tree.branch_a, sheet, org="35.5", rules="28", style="30")
    enter_items(tree.branch_b, sheet, org="30", rules="25")
    grade(tree.plant)

    status = publishing.draft_status(tree.plant, APRIL)
    assert status.missing_count == 1
    with pytest.raises(ValidationError) as excinfo:
        publishing.board_publish(committee=tree.plant, month=APRIL, user=users.committee)
    assert "Still missing: 设备党支部 (Committee work · 作风建设)." in messages_of(excinfo)

    enter_items(tree.branch_b, sheet, style="20")
    grade(tree.plant)
    publication = publishing.board_publish(committee=tree.plant, month=APRIL, user=users.committee)
    # B: 30 + 25 + 20 = 75; (15 × 75 + 25 × 80 + 10 × 70) ÷ 100 = 3825 ÷ 100 = 38.25.
    row = publication.branch_scores.get(branch=tree.branch_b)
    assert (row.committee_work, row.total) == (Decimal("75.00"), Decimal("38.25"))


def test_the_publication_page_lists_the_missing_items(tree, users, sheet, login, english):
    enter_items(tree.branch_a, sheet, org="35.5")
    html = login(users.committee).get(reverse("grading:publish", args=[tree.plant.pk, 2025, 4])).content.decode()
    assert "Committee work · 制度执行、Committee work · 作风建设" in html


# --- the grid ----------------------------------------------------------------------------


def test_the_grid_shows_one_input_per_item_up_to_its_maximum(tree, users, sheet, login, english):
    enter_items(tree.branch_a, sheet, user=users.admin, org="35.5")
    html = login(users.committee).get(grid_url(tree.plant)).content.decode()

    for code, name, top in COMMITTEE_SHEET:
        scored = item(sheet, code)
        assert f'{name} <span class="text-muted">(max {top})</span>' in html
        form = html.split(f'<form id="cell-{tree.branch_b.pk}-committee_work-{scored.pk}"')[1].split("</form>")[0]
        assert f'max="{Decimal(top):.2f}"' in form and "not_assessed" not in form
        assert f'hx-post="{item_url(tree.branch_b, scored)}"' in form
    assert 'value="35.50"' in html and item_url(tree.branch_a, item(sheet, "org"), history=True) in html
    # The dimension's own column: the sum so far and the mark for the whole dimension.
    mark = html.split(f'<form id="cell-{tree.branch_a.pk}-committee_work"')[1].split("</form>")[0]
    assert '<span class="sum-value">35.50</span>' in mark and "1 of 3 items entered" in mark
    assert 'name="not_assessed"' in mark and 'name="score"' not in mark
    # 2 branches × (3 items + production + other) = 10 cells, one entered.
    assert "Still missing: 9 cells in 2 branches" in html


def test_an_item_cell_posted_with_htmx_is_saved_and_the_sum_comes_back_with_it(tree, users, sheet, login, english):
    enter_items(tree.branch_a, sheet, org="35.5")
    scored = item(sheet, "rules")
    response = login(users.committee).post(
        item_url(tree.branch_a, scored), {"score": "28"}, headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert html.lstrip().startswith(f'<form id="cell-{tree.branch_a.pk}-committee_work-{scored.pk}"')
    assert "Saved" in html and 'value="28"' in html
    oob = html.split(f'<div id="sum-{tree.branch_a.pk}-committee_work"')[1]
    assert oob.startswith(' class="small text-nowrap pb-item-sum" hx-swap-oob="true">')
    assert '<span class="sum-value">63.50</span>' in oob and "2 of 3 items entered" in oob
    row = ScoreInput.objects.get(item=scored)
    assert (row.branch, row.month, row.score, row.entered_by) == (
        tree.branch_a,
        APRIL,
        Decimal("28.00"),
        users.committee,
    )


def test_an_item_above_its_maximum_comes_back_in_the_cell_and_nothing_is_saved(tree, users, sheet, login, english):
    enter_items(tree.branch_a, sheet, user=users.admin, org="35.5")
    scored = item(sheet, "org")
    response = login(users.committee).post(
        item_url(tree.branch_a, scored), {"score": "40.01"}, headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert response.status_code == 200 and 'role="status"' not in html
    assert 'value="40.01"' in html and "is-invalid" in html
    assert f'aria-describedby="error-{tree.branch_a.pk}-committee_work-{scored.pk}"' in html
    assert "组织建设 is scored from 0 to 40.00 with at most two decimals. Nothing was saved." in html
    assert "Saved value: 35.50" in html
    row = ScoreInput.objects.get(item=scored)
    assert row.score == Decimal("35.50") and row.changes.count() == 1


def test_the_mark_of_a_dimension_scored_by_items_is_posted_to_its_own_cell(tree, users, sheet, login, english):
    client = login(users.committee)
    response = client.post(
        cell_url(tree.branch_a, "committee_work"), {"not_assessed": "1"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert "Saved" in html and "Not assessed as a whole: its items do not count." in html
    assert ScoreInput.objects.get().not_assessed

    refused = client.post(cell_url(tree.branch_a, "committee_work"), {"score": "80"}, headers={"HX-Request": "true"})
    assert "Committee work is scored item by item" in refused.content.decode()
    assert ScoreInput.objects.get().not_assessed  # the mark stays


def test_the_history_of_an_item_lists_every_value(tree, users, sheet, login, english):
    enter_items(tree.branch_a, sheet, user=users.committee, org="30")
    enter_items(tree.branch_a, sheet, user=users.admin, org="35.5")
    html = login(users.committee).get(item_url(tree.branch_a, item(sheet, "org"), history=True)).content.decode()
    assert "Committee work · 组织建设" in html and "from 0 to 40" in html
    assert html.index("35.50") < html.index("30.00") and "admin" in html and "committee" in html


@pytest.mark.parametrize("who", ["other_secretary", "other_committee", "nobody", "secretary"])
def test_outsiders_get_404_on_the_item_pages(tree, users, sheet, login, who):
    client = login(getattr(users, who))
    scored = item(sheet, "org")
    assert (
        client.post(item_url(tree.branch_a, scored), {"score": "30"}, headers={"HX-Request": "true"}).status_code == 404
    )
    assert client.get(item_url(tree.branch_a, scored, history=True)).status_code == 404
    assert not ScoreInput.objects.exists()


def test_an_unknown_item_is_not_found(tree, users, login):
    url = reverse("grading:input_item_cell", args=[tree.branch_a.pk, 2025, 4, 999999])
    assert login(users.committee).post(url, {"score": "30"}).status_code == 404


def _grid_queries(client, committee) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(grid_url(committee)).status_code == 200
    return len(ctx.captured_queries)


def test_the_grid_reads_as_many_queries_however_many_branches_and_items(users, login):
    small, large = f.committee(), f.committee()
    f.branch(small)
    own_version(small, APRIL, items={"other": (("one", "唯一", "100"),)})
    sheet = own_version(
        large,
        APRIL,
        basics_entered=True,
        items={"committee_work": COMMITTEE_SHEET, "other": (("a", "甲", "60"), ("b", "乙", "40"))},
    )
    clerks = [f.UserFactory(username=f"clerk{i}") for i in range(3)]
    branches = [f.branch(large) for _ in range(25)]
    for i, branch in enumerate(branches[:15]):
        enter_items(branch, sheet, user=clerks[i % 3], org="30", rules="20", style="10", a="50", b="30")
        enter(branch, user=clerks[(i + 1) % 3], basics="75", production="66")

    client = login(users.admin)
    assert _grid_queries(client, small) == _grid_queries(client, large)
    html = client.get(grid_url(large)).content.decode()
    assert html.count('<tr id="row-') == 25 and html.count('class="grading-cell"') == 25 * 9


# --- basics and membership entered by the committee ---------------------------------------


def test_basics_entered_by_the_committee_replace_the_computed_value(tree, users, login, english):
    own_version(tree.plant, APRIL, basics_entered=True)
    activities.activity_create(
        branch=tree.branch_a, kind="committee_meeting", title="支委会", date=datetime.date(2025, 4, 10), user=None
    )
    enter(tree.branch_a, user=users.admin, basics="90", committee_work="80", production="70", other="60")
    enter(tree.branch_b, basics="50", committee_work="50", production="50", other="50")

    scores = grade(tree.plant)

    a = scores[tree.branch_a.pk]
    # Basics as entered, not 100 × held ÷ required; membership 0 (no members):
    # (30 × 90 + 15 × 80 + 25 × 70 + 20 × 0 + 10 × 60) ÷ 100 = 6250 ÷ 100 = 62.50.
    assert (a.basics, a.total) == (Decimal("90.00"), Decimal("62.50"))
    assert a.held >= 1 and a.required > a.held  # the computed inputs are kept, for reference
    computed = engine.half_up(Fraction(100 * a.held, a.required))

    html = (
        login(users.committee)
        .get(reverse("grading:explain_branch", args=[tree.plant.pk, 2025, 4, tree.branch_a.pk]), {"draft": "1"})
        .content.decode()
    )
    section = html.split('<section class="card mb-3 entered" id="basics">')[1].split("</section>")[0]
    assert "Basic work: 90.00" in section and "entered by the committee" in section
    assert "Entered value 90.00" in section and "admin" in section
    assert f"the value computed from the records, {computed}, is shown for reference and was not used" in section
    assert 'id="basics-formula"' not in html  # the computed formula does not claim the score


def test_basics_are_entered_in_the_grid_where_the_version_says_so(tree, users, login, english):
    client = login(users.committee)
    refused = client.post(cell_url(tree.branch_a, "basics"), {"score": "80"}, headers={"HX-Request": "true"})
    assert "computed, not entered" in refused.content.decode()

    own_version(tree.plant, APRIL, basics_entered=True, membership_entered=True)
    html = client.get(grid_url(tree.plant)).content.decode()
    assert (
        f'<form id="cell-{tree.branch_a.pk}-basics"' in html
        and f'<form id="cell-{tree.branch_a.pk}-membership"' in html
    )
    assert "Enter Basic work, Committee work, Production and operations, Membership building, Other work from 0" in html
    saved = client.post(cell_url(tree.branch_a, "basics"), {"score": "80"}, headers={"HX-Request": "true"})
    assert "Saved" in saved.content.decode()
    assert ScoreInput.objects.get(dimension="basics").score == Decimal("80.00")


def test_membership_entered_or_not_assessed_replaces_the_computed_value(tree, users):
    own_version(tree.plant, APRIL, membership_entered=True)
    member = f.MemberFactory(branch=tree.branch_a, group=tree.group_a1)
    day = activities.activity_create(
        branch=tree.branch_a, kind="themed_day", title="主题党日", date=datetime.date(2025, 4, 21), user=None
    )
    assert day.attendances.filter(member=member).exists()
    enter(tree.branch_a, membership="40", committee_work="80", production="70", other="60")
    enter(tree.branch_b, membership=None, committee_work="80", production="70", other="60")

    scores = grade(tree.plant)
    a, b = scores[tree.branch_a.pk], scores[tree.branch_b.pk]
    # A: membership 40 entered, though its one member attended (attendance half 100).
    assert (a.membership, a.attendance_half) == (Decimal("40.00"), Decimal("100.0000"))
    # B: membership not assessed: (30 × 0 + 15 × 80 + 25 × 70 + 10 × 60) ÷ 80 = 3550 ÷ 80 = 44.375 → 44.38.
    assert (b.membership, b.total) == (None, Decimal("44.38"))


# --- the bottom three's N -----------------------------------------------------------------


def committee_of(*entered: str, bottom: int):
    """Branches with all three entered dimensions at ``entered[i]``: total = entered ÷ 2."""
    committee = f.committee()
    own_version(committee, APRIL, bottom_three_count=bottom)
    branches = [f.branch(committee) for _ in entered]
    for branch, score in zip(branches, entered, strict=True):
        enter(branch, committee_work=score, production=score, other=score)
    return committee, branches


def ranking(committee, branches):
    scores = grade(committee)
    return [(scores[b.pk].total, scores[b.pk].rank, scores[b.pk].bottom_three) for b in branches]


def test_a_bottom_count_of_two_flags_branches_with_fewer_than_two_strictly_lower_ties_included():
    # Totals 45, 40, 35, 35, 30. Strictly lower: 4, 3, 1, 1, 0 → fewer than 2: the two
    # 35s and the 30 (a tie on the line flags more than two).
    committee, branches = committee_of("90", "80", "70", "70", "60", bottom=2)
    assert ranking(committee, branches) == [
        (Decimal("45.00"), 1, False),
        (Decimal("40.00"), 2, False),
        (Decimal("35.00"), 3, True),
        (Decimal("35.00"), 3, True),
        (Decimal("30.00"), 5, True),
    ]


def test_a_bottom_count_of_two_flags_the_last_two_of_three_branches():
    # Three branches are more than two: 40, 35, 30 → strictly lower 2, 1, 0 → 35 and 30.
    # (Under the default three, a committee of three flags nobody.)
    committee, branches = committee_of("80", "70", "60", bottom=2)
    assert [flag for _total, _rank, flag in ranking(committee, branches)] == [False, True, True]


@pytest.mark.parametrize("entered", [("80", "70"), ("60", "60", "60", "60")])
def test_a_bottom_count_of_two_flags_nobody_among_two_branches_or_when_all_tie(entered):
    committee, branches = committee_of(*entered, bottom=2)
    assert not any(flag for _total, _rank, flag in ranking(committee, branches))


def test_the_board_and_the_explanation_say_the_versions_count(users, login, english):
    committee, branches = committee_of("80", "70", "60", bottom=2)
    grade(committee)
    staff = f.user_with_role(RoleBinding.Role.COMMITTEE_STAFF, committee, username="staff2")
    client = login(staff)
    board = client.get(reverse("grading:board", args=[committee.pk, 2025, 4]), {"draft": "1"}).content.decode()
    assert (
        "The bottom 2: a branch is flagged when fewer than 2 branches have a strictly lower total, unless it ranks "
        "first; none is flagged where 2 branches or fewer are graded." in board
    )
    explain = client.get(
        reverse("grading:explain_branch", args=[committee.pk, 2025, 4, branches[2].pk]), {"draft": "1"}
    ).content.decode()
    assert "Flagged: fewer than 2 branches under the committee have a strictly lower total." in explain
    client.cookies["django_language"] = "zh-hans"
    with translation.override("zh-hans"):
        board = client.get(reverse("grading:board", args=[committee.pk, 2025, 4]), {"draft": "1"}).content.decode()
    assert "后2名" in board


# --- two versions ---------------------------------------------------------------------------


def test_months_graded_under_two_versions_stay_as_they_were_when_regraded():
    committee = f.committee()
    a, b, c, d = (f.branch(committee) for _ in range(4))
    first = own_version(committee, APRIL)
    second = own_version(
        committee,
        MAY,
        weight_basics=Decimal("10"),
        weight_committee_work=Decimal("40"),
        weight_production=Decimal("30"),
        weight_membership=Decimal("10"),
        weight_other=Decimal("10"),
        bottom_three_count=2,
        items={"committee_work": COMMITTEE_SHEET},
    )
    # April (version 1, default weights, the bottom three): totals = entered ÷ 2 = 45, 40, 35, 30;
    # strictly lower 3, 2, 1, 0 → all but the first flagged.
    for branch, score in zip((a, b, c, d), ("90", "80", "70", "60"), strict=True):
        enter(branch, APRIL, committee_work=score, production=score, other=score)
    # May (version 2): 班子建设 by items, weights 10/40/30/10/10, the bottom two.
    # A: 40 + 30 + 30 = 100 → (40 × 100 + 30 × 90 + 10 × 80) ÷ 100 = 7500 ÷ 100 = 75.00
    # B: 30 + 20.5 + 25 = 75.50 → (40 × 75.5 + 30 × 80 + 10 × 70) ÷ 100 = 6120 ÷ 100 = 61.20
    # C: 20 + 20 + 20 = 60 → (40 × 60 + 30 × 60 + 10 × 60) ÷ 100 = 4800 ÷ 100 = 48.00
    # D: 10.25 + 10 + 10 = 30.25 → (40 × 30.25 + 30 × 50 + 10 × 40) ÷ 100 = 3110 ÷ 100 = 31.10
    # Strictly lower 3, 2, 1, 0 → C and D flagged.
    may = {
        a: (("40", "30", "30"), "90", "80"),
        b: (("30", "20.5", "25"), "80", "70"),
        c: (("20", "20", "20"), "60", "60"),
        d: (("10.25", "10", "10"), "50", "40"),
    }
    for branch, ((org, rules, style), production, other) in may.items():
        enter_items(branch, second, MAY, org=org, rules=rules, style=style)
        enter(branch, MAY, production=production, other=other)
    with pytest.raises(ValidationError):
        enter(a, MAY, committee_work="80")  # May's 班子建设 is scored by items

    def board(month):
        scores = grade(committee, month)
        return [(scores[x.pk].committee_work, scores[x.pk].total, scores[x.pk].rank, scores[x.pk].bottom_three)
                for x in (a, b, c, d)]  # fmt: skip

    april, may_board = board(APRIL), board(MAY)
    assert april == [
        (Decimal("90.00"), Decimal("45.00"), 1, False),
        (Decimal("80.00"), Decimal("40.00"), 2, True),
        (Decimal("70.00"), Decimal("35.00"), 3, True),
        (Decimal("60.00"), Decimal("30.00"), 4, True),
    ]
    assert may_board == [
        (Decimal("100.00"), Decimal("75.00"), 1, False),
        (Decimal("75.50"), Decimal("61.20"), 2, False),
        (Decimal("60.00"), Decimal("48.00"), 3, True),
        (Decimal("30.25"), Decimal("31.10"), 4, True),
    ]
    assert board(APRIL) == april and board(MAY) == may_board
    runs = {run.month: run.rule_version for run in committee.grading_runs.filter(state="succeeded")}
    assert runs == {APRIL: first, MAY: second}


# --- the explanation ------------------------------------------------------------------------


def test_the_explanation_lists_the_items_with_their_maximum_score_who_and_when_and_the_sum(
    tree, users, sheet, login, english
):
    users.admin.first_name = "管理员"
    users.admin.save()
    enter_items(tree.branch_a, sheet, user=users.committee, org="30", rules="28", style="30")
    enter_items(tree.branch_a, sheet, user=users.admin, org="35.5")
    for branch in (tree.branch_a, tree.branch_b):
        enter(branch, production="80", other="70")
    enter_items(tree.branch_b, sheet, org="40", rules="30", style="30")
    grade(tree.plant)
    publishing.board_publish(committee=tree.plant, month=APRIL, user=users.committee)

    response = login(users.secretary).get(
        reverse("grading:explain_branch", args=[tree.plant.pk, 2025, 4, tree.branch_a.pk])
    )
    [line] = [line for line in response.context["x"].entered if line.dimension == "committee_work"]
    assert [(i.item.code, i.item.max_score, i.score) for i in line.items] == [
        ("org", Decimal("40.00"), Decimal("35.50")),
        ("rules", Decimal("30.00"), Decimal("28.00")),
        ("style", Decimal("30.00"), Decimal("30.00")),
    ]
    assert (line.value, line.item_sum) == (Decimal("93.50"), Decimal("93.50"))
    html = response.content.decode()
    section = html.split('id="committee_work">')[1].split("</section>")[0]
    org = section.split('data-item="org">')[1].split("</tr>")[0]
    assert "组织建设" in org and "40.00" in org and "35.50" in org and "管理员" in org
    assert "History:" in section and "30.00 (committee," in section  # the item's earlier value and who gave it
    assert '<span class="item-formula">35.50 + 28.00 + 30.00 = 93.50</span>' in section
    assert 'class="text-end item-sum">93.50<' in section
    # The weighted total with the version's weights: (30 × 0 + 15 × 93.5 + 25 × 80 + 20 × 0 + 10 × 70)
    # ÷ 100 = 4102.5 ÷ 100 = 41.025 → 41.03.
    assert 'id="total-formula">4102.5000 ÷ 100 = 41.03<' in html


def test_a_new_version_taking_effect_in_a_graded_month_makes_its_draft_stale(tree):
    for branch in (tree.branch_a, tree.branch_b):
        enter(branch, committee_work="80", production="80", other="80")
    grade(tree.plant)
    assert not publishing.draft_status(tree.plant, APRIL).stale
    own_version(tree.plant, APRIL, weight_other=Decimal("20"), weight_basics=Decimal("20"))
    assert publishing.draft_status(tree.plant, APRIL).stale


# --- the year -------------------------------------------------------------------------------


def test_members_year_stars_use_the_versions_own_year_bands_or_twelve_times_the_month(tree, users, login, english):
    from branches.grading import annual
    from branches.reports import xlsx

    from .test_annual import publish

    # 2023: twelve times the month bands (★5 ≥ 360, ★4 ≥ 288, ★3 ≥ 216, ★2 ≥ 144).
    # 2024: the version's own year bands (★5 ≥ 300, ★4 ≥ 250, ★3 ≥ 200, ★2 ≥ 100).
    own_version(tree.plant, datetime.date(2023, 1, 1))
    own = own_version(
        tree.plant,
        datetime.date(2024, 1, 1),
        year_star5_from=Decimal("300"),
        year_star4_from=Decimal("250"),
        year_star3_from=Decimal("200"),
        year_star2_from=Decimal("100"),
    )
    totals = ("360", "300", "299.99", "250", "249.99", "100", "99.99")
    members = {total: f.MemberFactory(branch=tree.branch_a) for total in totals}
    for year in (2023, 2024):
        publish(
            tree.plant,
            datetime.date(year, 6, 1),
            [(tree.branch_a, "80.00")],
            [(member, tree.branch_a, total) for total, member in members.items()],
        )

    def stars(year):
        rows = annual.member_annual_stars(committee=tree.plant, year=year)
        by_member = {row["member_id"]: row["stars"] for row in rows}
        return [by_member[members[total].pk] for total in totals]

    assert stars(2023) == [5, 4, 4, 3, 3, 1, 1]
    assert stars(2024) == [5, 5, 4, 4, 3, 2, 1]
    assert xlsx._star_bands(own) == [
        (5, Decimal("299.995")),
        (4, Decimal("249.995")),
        (3, Decimal("199.995")),
        (2, Decimal("99.995")),
    ]
    html = login(users.committee).get(reverse("grading:annual_members", args=[tree.plant.pk, 2024])).content.decode()
    assert "★5 ≥ 300.00 · ★4 ≥ 250.00 · ★3 ≥ 200.00 · ★2 ≥ 100.00" in html
    html = login(users.committee).get(reverse("grading:annual_members", args=[tree.plant.pk, 2023])).content.decode()
    assert "★5 ≥ 360.00 · ★4 ≥ 288.00" in html
