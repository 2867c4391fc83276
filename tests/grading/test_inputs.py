"""Committee input: 班子建设, 生产经营 and 其他工作 per branch and month — validated, saved
cell by cell with htmx, with who entered what and when; refused in a closed month."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from branches.grading import services
from branches.grading.models import ScoreInput, ScoreInputChange
from branches.services import month_close

from .. import factories as f

pytestmark = pytest.mark.django_db

APRIL = datetime.date(2025, 4, 1)
OUTSIDERS = ["other_secretary", "other_committee", "nobody", "secretary"]


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def english(client):
    """Page text is read in its English msgids, whatever the catalogue says."""
    client.cookies["django_language"] = "en"
    return client


def enter(branch, dimension="production", score="80", *, not_assessed=False, user=None, month=APRIL):
    return services.score_input_set(
        branch=branch,
        month=month,
        dimension=dimension,
        score=Decimal(score) if score is not None else None,
        not_assessed=not_assessed,
        user=user,
    )


def messages_of(excinfo) -> str:
    return " ".join(excinfo.value.messages)


def grid_url(committee, month=APRIL, page=None):
    url = reverse("grading:inputs", args=[committee.pk, month.year, month.month])
    return f"{url}?page={page}" if page else url


def cell_url(branch, dimension="production", month=APRIL):
    return reverse("grading:input_cell", args=[branch.pk, month.year, month.month, dimension])


def history_url(branch, dimension="production", month=APRIL):
    return reverse("grading:input_history", args=[branch.pk, month.year, month.month, dimension])


# --- the service ----------------------------------------------------------------------


def test_a_score_is_kept_with_who_entered_it_and_every_value_in_its_history(tree, users):
    enter(tree.branch_a, score="80", user=users.committee)
    enter(tree.branch_a, score="85.5", user=users.admin)

    row = ScoreInput.objects.get(branch=tree.branch_a, month=APRIL, dimension="production")
    assert (row.score, row.not_assessed, row.entered_by) == (Decimal("85.50"), False, users.admin)
    history = list(ScoreInputChange.objects.filter(score_input=row).values_list("score", "entered_by"))
    assert history == [(Decimal("85.50"), users.admin.pk), (Decimal("80.00"), users.committee.pk)]


@pytest.mark.parametrize("score", ["-0.01", "100.01", "250"])
def test_a_score_outside_0_to_100_is_refused(tree, users, score):
    with pytest.raises(ValidationError) as excinfo:
        enter(tree.branch_a, score=score, user=users.committee)
    assert "from 0 to 100" in messages_of(excinfo)
    assert not ScoreInput.objects.exists()


def test_the_bounds_0_and_100_are_scores(tree, users):
    enter(tree.branch_a, "production", "0", user=users.committee)
    enter(tree.branch_a, "other", "100", user=users.committee)
    assert sorted(ScoreInput.objects.values_list("score", flat=True)) == [Decimal("0.00"), Decimal("100.00")]


def test_a_score_with_more_than_two_decimals_is_refused(tree, users):
    with pytest.raises(ValidationError) as excinfo:
        enter(tree.branch_a, score="80.125", user=users.committee)
    assert "at most two decimals" in messages_of(excinfo)


def test_not_assessed_clears_the_score_and_keeps_the_earlier_value_in_the_history(tree, users):
    enter(tree.branch_a, score="72", user=users.committee)
    enter(tree.branch_a, score="90", not_assessed=True, user=users.committee)

    row = ScoreInput.objects.get()
    assert (row.score, row.not_assessed) == (None, True)
    assert list(row.changes.values_list("score", "not_assessed")) == [(None, True), (Decimal("72.00"), False)]


def test_a_score_needs_a_value_or_not_assessed(tree, users):
    with pytest.raises(ValidationError) as excinfo:
        enter(tree.branch_a, score=None, user=users.committee)
    assert "mark the dimension not assessed" in messages_of(excinfo)


@pytest.mark.parametrize("dimension", ["basics", "membership"])
def test_a_computed_dimension_cannot_be_entered(tree, users, dimension):
    with pytest.raises(ValidationError) as excinfo:
        enter(tree.branch_a, dimension, "80", user=users.committee)
    assert "computed, not entered" in messages_of(excinfo)


def test_a_closed_month_refuses_a_score(tree, users):
    enter(tree.branch_a, score="80", user=users.committee)
    month_close(committee=tree.plant, month=APRIL, user=users.committee)
    with pytest.raises(ValidationError) as excinfo:
        enter(tree.branch_a, score="60", user=users.committee)
    assert "closed" in messages_of(excinfo)
    assert ScoreInput.objects.get().score == Decimal("80.00")


# --- the grid -------------------------------------------------------------------------


def test_the_grid_shows_each_branch_its_scores_who_entered_them_and_what_is_missing(tree, users, login, english):
    users.admin.first_name = "管理员"
    users.admin.save()
    enter(tree.branch_a, "committee_work", "88.5", user=users.admin)
    enter(tree.branch_a, "production", None, not_assessed=True, user=users.admin)

    page = login(users.committee).get(grid_url(tree.plant))

    assert page.status_code == 200
    html = page.content.decode()
    assert f'id="row-{tree.branch_a.pk}"' in html and f'id="row-{tree.branch_b.pk}"' in html
    assert f'id="row-{tree.branch_x.pk}"' not in html  # another committee's branch
    assert 'value="88.50"' in html and "管理员" in html
    assert history_url(tree.branch_a, "committee_work") in html
    # Six cells, two entered (not assessed counts as entered): four missing.
    assert "Still missing: 4 cells in 2 branches" in html


def test_a_score_entered_from_a_shell_shows_without_a_name(tree, users, login, english):
    enter(tree.branch_b, "other", "66", user=None)
    html = login(users.committee).get(grid_url(tree.plant)).content.decode()
    assert 'value="66.00"' in html and "Entered by — at" in html


def test_a_cell_posted_with_htmx_is_saved_and_comes_back_with_a_tick(tree, users, login, english):
    response = login(users.committee).post(
        cell_url(tree.branch_b, "other"), {"score": "77.25"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<form id="cell-{tree.branch_b.pk}-other"')
    assert "Saved" in html and 'value="77.25"' in html and "committee" in html
    row = ScoreInput.objects.get(branch=tree.branch_b, dimension="other")
    assert (row.month, row.score, row.entered_by) == (APRIL, Decimal("77.25"), users.committee)


def test_a_cell_marked_not_assessed_saves_no_score(tree, users, login, english):
    response = login(users.committee).post(
        cell_url(tree.branch_b), {"score": "60", "not_assessed": "1"}, headers={"HX-Request": "true"}
    )

    assert "Saved" in response.content.decode()
    row = ScoreInput.objects.get()
    assert (row.score, row.not_assessed) == (None, True)


@pytest.mark.parametrize(
    ("score", "error"), [("101", "from 0 to 100"), ("9.999", "at most two decimals"), ("abc", "Enter a number")]
)
def test_a_cell_with_a_bad_score_comes_back_with_the_error_and_saves_nothing(tree, users, login, english, score, error):
    enter(tree.branch_a, score="50", user=users.admin)
    response = login(users.committee).post(cell_url(tree.branch_a), {"score": score}, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert response.status_code == 200 and error in html and 'role="status"' not in html
    assert f'value="{score}"' in html  # what was typed stays in the box
    assert ScoreInput.objects.get().score == Decimal("50.00")


def test_120_comes_back_in_the_cell_with_the_message_beside_the_saved_value(tree, users, login, english):
    enter(tree.branch_a, score="85", user=users.committee)
    response = login(users.committee).post(cell_url(tree.branch_a), {"score": "120"}, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert response.status_code == 200  # htmx swaps 2xx answers only
    assert html.lstrip().startswith(f'<form id="cell-{tree.branch_a.pk}-production"')
    # What was typed stays, marked invalid and pointing at the message…
    assert 'value="120"' in html and "is-invalid" in html and 'aria-invalid="true"' in html
    assert f'aria-describedby="error-{tree.branch_a.pk}-production"' in html
    assert "A score runs from 0 to 100 with at most two decimals. Nothing was saved." in html
    # …and what is saved is said in words.
    assert "Saved value: 85.00" in html
    row = ScoreInput.objects.get()
    assert row.score == Decimal("85.00") and row.changes.count() == 1


def test_the_cell_leaves_judging_the_number_to_the_server(tree, users, login):
    """htmx checks a form's constraints (max=100) before it sends; an invalid form is
    not sent and nothing says why. The cell's form is novalidate: the server answers."""
    html = login(users.committee).get(grid_url(tree.plant)).content.decode()
    form = html.split(f'<form id="cell-{tree.branch_a.pk}-production"')[1].split(">")[0]
    assert "novalidate" in form and "hx-post" in form


def test_a_computed_dimension_posted_to_a_cell_is_refused(tree, users, login, english):
    response = login(users.committee).post(
        cell_url(tree.branch_a, "basics"), {"score": "80"}, headers={"HX-Request": "true"}
    )
    assert "computed, not entered" in response.content.decode()
    assert not ScoreInput.objects.exists()


def test_an_unknown_dimension_is_not_found(tree, users, login):
    assert login(users.committee).post(cell_url(tree.branch_a, "charisma"), {"score": "80"}).status_code == 404


def test_a_closed_month_shows_a_read_only_grid_and_refuses_a_posted_cell(tree, users, login, english):
    enter(tree.branch_a, score="80", user=users.committee)
    month_close(committee=tree.plant, month=APRIL, user=users.committee)
    client = login(users.committee)

    html = client.get(grid_url(tree.plant)).content.decode()
    assert "is closed" in html and "hx-post" not in html and " disabled" in html
    response = client.post(cell_url(tree.branch_a), {"score": "10"}, headers={"HX-Request": "true"})
    assert "closed" in response.content.decode() and 'role="status"' not in response.content.decode()
    assert ScoreInput.objects.get().score == Decimal("80.00")


def test_a_cell_posted_without_htmx_redirects_to_the_grid(tree, users, login):
    response = login(users.committee).post(cell_url(tree.branch_a), {"score": "66"})
    assert response.status_code == 302 and response.url == grid_url(tree.plant)
    assert ScoreInput.objects.get().score == Decimal("66.00")


def test_the_history_page_lists_every_value_of_a_cell(tree, users, login, english):
    enter(tree.branch_a, score="61", user=users.committee)
    enter(tree.branch_a, score=None, not_assessed=True, user=users.admin)

    html = login(users.committee).get(history_url(tree.branch_a)).content.decode()

    assert "61.00" in html and "not assessed" in html and "admin" in html and "committee" in html


def test_an_administrator_may_use_the_grid(tree, users, login):
    client = login(users.admin)
    assert client.get(grid_url(tree.plant)).status_code == 200
    assert client.post(cell_url(tree.branch_a), {"score": "70"}, headers={"HX-Request": "true"}).status_code == 200


@pytest.mark.parametrize("who", OUTSIDERS)
def test_outsiders_and_branch_secretaries_get_404_on_the_input_pages(tree, users, login, who):
    client = login(getattr(users, who))
    assert client.get(grid_url(tree.plant)).status_code == 404
    assert client.post(cell_url(tree.branch_a), {"score": "70"}, headers={"HX-Request": "true"}).status_code == 404
    assert client.get(history_url(tree.branch_a)).status_code == 404
    assert not ScoreInput.objects.exists()


def test_a_branch_of_another_committee_is_not_found_for_committee_staff(tree, users, login):
    client = login(users.committee)
    assert client.post(cell_url(tree.branch_x), {"score": "70"}).status_code == 404
    assert client.get(grid_url(tree.other)).status_code == 404


def test_a_month_that_does_not_exist_is_not_found(tree, users, login):
    url = reverse("grading:inputs", args=[tree.plant.pk, 2025, 13])
    assert login(users.committee).get(url).status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(tree, client):
    assert client.get(grid_url(tree.plant)).status_code == 302


def _grid_queries(client, committee, page=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(grid_url(committee, page=page)).status_code == 200
    return len(ctx.captured_queries)


def test_the_grid_query_count_does_not_grow_with_branches_and_it_shows_100_a_page(tree, users, login):
    client = login(users.committee)
    few = _grid_queries(client, tree.plant)

    entrants = [f.UserFactory(username=f"clerk{i}") for i in range(3)]
    branches = [f.branch(tree.plant, code=f"BIG{i:03d}") for i in range(105)]
    for i, branch in enumerate(branches[:40]):
        for dimension in ("committee_work", "production", "other"):
            enter(branch, dimension, str(50 + i % 50), user=entrants[i % 3])

    many = _grid_queries(client, tree.plant)
    assert many == few
    client.cookies["django_language"] = "en"  # the assertion below reads the English text
    first = client.get(grid_url(tree.plant)).content.decode()
    second = client.get(grid_url(tree.plant, page=2)).content.decode()
    assert first.count('<tr id="row-') == 100 and second.count('<tr id="row-') == 7
    # 107 branches × 3 cells, 40 branches complete: 67 × 3 missing.
    assert "Still missing: 201 cells in 67 branches" in first
    assert _grid_queries(client, tree.plant, page=2) == few
