"""The compliance matrix and the branch-month page: colours, statuses, scoping and query
counts. The clock stands at 15 April 2025: January to March are over, April is running."""

import datetime
import re
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from branches.activities import services
from branches.activities.views import compliance as views

from .. import factories as f

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(datetime.datetime(2025, 4, 15, 10, 0))


def log(branch, kind, day, *, group=None, title="活动"):
    return services.activity_create(branch=branch, kind=kind, title=title, date=day, group=group, user=None)


@pytest.fixture
def activities(tree):
    """Branch B: January met, February half, March nothing, April's two so far.
    Branch A (two groups) logs nothing."""
    return {
        "jan_committee": log(tree.branch_b, "committee_meeting", D(2025, 1, 8), title="一月支委会"),
        "jan_themed": log(tree.branch_b, "themed_day", D(2025, 1, 21), title="一月主题党日"),
        "feb_committee": log(tree.branch_b, "committee_meeting", D(2025, 2, 8), title="二月支委会"),
        "apr_committee": log(tree.branch_b, "committee_meeting", D(2025, 4, 2), title="四月支委会"),
        "apr_themed": log(tree.branch_b, "themed_day", D(2025, 4, 10), title="四月主题党日"),
    }


def matrix_url(unit, **params):
    url = reverse("activities:compliance_matrix", args=[unit.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def month_url(branch, year, month):
    return reverse("activities:compliance_month", args=[branch.pk, year, month])


def row_cells(html: str, branch) -> list[tuple[str, str]]:
    """(CSS classes, state) of each month's cell in a branch's row."""
    row = re.search(rf'<tr data-branch="{branch.pk}">(.*?)</tr>', html, re.S)
    assert row, f"no row for {branch}"
    return re.findall(r'<td class="([^"]*)" data-state="(\w+)"', row.group(1))


def states(html, branch):
    return [state for _classes, state in row_cells(html, branch)]


def test_the_committee_matrix_colours_each_branch_month(tree, users, activities, client):
    young = f.branch(tree.plant, name="新建党支部", code="YOUNG", established_on=D(2025, 4, 1))
    client.force_login(users.committee)
    response = client.get(matrix_url(tree.plant, year=2025))
    assert response.status_code == 200
    html = response.content.decode()
    cells_b = row_cells(html, tree.branch_b)
    assert [s for _c, s in cells_b[:4]] == ["met", "partial", "missing", "met"]
    assert {s for _c, s in cells_b[4:]} == {"not_due"}
    classes = dict((state, c) for c, state in cells_b)
    assert "text-bg-success" in classes["met"]
    assert "text-bg-warning" in classes["partial"]
    assert "text-bg-danger" in classes["missing"]
    assert "bg-secondary-subtle" in classes["not_due"]
    # Branch A logged nothing: red until March, grey from April on (still running).
    assert states(html, tree.branch_a) == ["missing"] * 3 + ["not_due"] * 9
    assert states(html, young) == ["none"] * 3 + ["not_due"] * 9
    # Each cell links to its branch-month page; red cells count what is missing.
    assert f'href="{month_url(tree.branch_b, 2025, 3)}"' in html
    assert "−4</a>" in html and "−1</a>" in html
    assert response.context["branch_total"] == 3
    assert response.context["compliant"] == 1
    assert response.context["with_missing"] == 2
    assert tree.plant.name in html  # the committee heading


def test_the_matrix_shows_another_year_and_ignores_a_year_it_cannot_show(tree, users, activities, client):
    client.force_login(users.committee)
    html = client.get(matrix_url(tree.plant, year=2024)).content.decode()
    assert states(html, tree.branch_b) == ["missing"] * 12
    assert client.get(matrix_url(tree.plant, year=2026)).context["year"] == 2026
    for bad in ("abc", "1999", "2099"):
        assert client.get(matrix_url(tree.plant, year=bad)).context["year"] == 2025


def test_the_matrix_is_paginated_and_grouped_under_committee_headings(tree, users, client, monkeypatch):
    monkeypatch.setattr(views, "BRANCHES_PER_PAGE", 2)
    client.force_login(users.admin)
    first = client.get(matrix_url(tree.root, year=2025))
    second = client.get(matrix_url(tree.root, year=2025, page=2))
    first_html, second_html = first.content.decode(), second.content.decode()
    assert f'data-branch="{tree.branch_a.pk}"' in first_html and f'data-branch="{tree.branch_b.pk}"' in first_html
    assert f'data-branch="{tree.branch_x.pk}"' not in first_html
    assert f'data-branch="{tree.branch_x.pk}"' in second_html
    assert tree.plant.name in first_html and tree.other.name not in first_html
    assert tree.other.name in second_html
    assert second.context["branch_total"] == 3  # the summary counts every page
    assert "page=2" in first_html


def test_a_secretary_sees_their_own_branchs_row(tree, users, activities, client):
    client.force_login(users.secretary)
    response = client.get(matrix_url(tree.branch_a))
    assert response.status_code == 200
    html = response.content.decode()
    assert states(html, tree.branch_a)[:3] == ["missing"] * 3
    assert f'data-branch="{tree.branch_b.pk}"' not in html
    assert "committee-heading" not in html
    assert client.get(month_url(tree.branch_a, 2025, 3)).status_code == 200


def test_the_month_page_lists_each_requirement_its_status_and_the_activities_that_met_it(
    tree, users, activities, client
):
    client.force_login(users.committee)
    html = client.get(month_url(tree.branch_b, 2025, 1)).content.decode()
    assert html.count("requirement-met") == 2
    for activity in (activities["jan_committee"], activities["jan_themed"]):
        assert f'href="{activity.get_absolute_url()}"' in html
        assert activity.title in html
    assert activities["feb_committee"].title not in html

    march = client.get(month_url(tree.branch_b, 2025, 3))
    kinds = [item.requirement.kind for item in march.context["items"]]
    assert kinds == ["committee_meeting", "themed_day", "general_meeting", "party_lecture"]
    html = march.content.decode()
    assert html.count("requirement-missing") == 4
    assert html.count("status-missing text-bg-danger") == 4

    april = client.get(month_url(tree.branch_b, 2025, 4)).content.decode()
    assert april.count("requirement-met") == 2
    assert "requirement-not_due" not in april


def test_the_month_page_shows_what_is_not_yet_due_and_a_group_per_row(tree, users, client):
    log(tree.branch_a, "group_meeting", D(2025, 4, 3), group=tree.group_a2)
    client.force_login(users.secretary)
    response = client.get(month_url(tree.branch_a, 2025, 4))
    html = response.content.decode()
    assert html.count("requirement-not_due") == 3
    assert "status-not_due bg-secondary-subtle" in html
    assert re.search(rf'class="requirement-met" data-kind="group_meeting" data-group="{tree.group_a2.pk}"', html)
    assert tree.group_a1.name in html


@pytest.mark.parametrize(
    "url",
    [
        lambda t: month_url(t.plant, 2025, 3),  # not a branch
        lambda t: month_url(t.branch_a, 2025, 13),
        lambda t: month_url(t.branch_a, 1999, 1),
        lambda t: month_url(t.group_a1, 2025, 3),
        lambda t: matrix_url(t.group_a1),
        lambda t: reverse("activities:training_hours", args=[t.group_a1.pk]),
        lambda t: reverse("activities:compliance_matrix", args=[999999]),
    ],
)
def test_pages_for_what_has_no_compliance_are_not_found(tree, users, client, url):
    client.force_login(users.admin)
    assert client.get(url(tree)).status_code == 404


def every_url(tree):
    """Every page of this module that names the PLANT committee or branch A."""
    return [
        matrix_url(tree.plant),
        matrix_url(tree.plant, year=2024, page=2),
        matrix_url(tree.branch_a),
        month_url(tree.branch_a, 2025, 3),
        reverse("activities:training_hours", args=[tree.plant.pk]),
        reverse("activities:training_hours", args=[tree.branch_a.pk]) + "?year=2024",
    ]


@pytest.mark.parametrize("outsider", ["other_secretary", "other_committee", "nobody"])
def test_an_outsider_gets_404_on_every_compliance_and_training_page(tree, users, activities, client, outsider):
    client.force_login(getattr(users, outsider))
    for url in every_url(tree):
        assert client.get(url).status_code == 404, (outsider, url)


def test_a_secretary_gets_404_for_the_committee_above_and_a_sibling_branch(tree, users, client):
    client.force_login(users.secretary)
    for url in (
        matrix_url(tree.plant),
        matrix_url(tree.branch_b),
        month_url(tree.branch_b, 2025, 3),
        reverse("activities:training_hours", args=[tree.plant.pk]),
        reverse("activities:training_hours", args=[tree.branch_b.pk]),
    ):
        assert client.get(url).status_code == 404, url


def test_the_owner_and_the_committee_reach_every_page(tree, users, activities, client):
    for user, urls in ((users.committee, every_url(tree)), (users.secretary, every_url(tree)[2:4])):
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == 200, (user, url)


def test_anonymous_visitors_are_sent_to_the_login_page(tree, client):
    for url in every_url(tree):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_matrix_query_count_does_not_grow_with_branches_or_months(tree, users, activities, client):
    client.force_login(users.admin)
    few = count_queries(client, matrix_url(tree.root, year=2025))
    for i in range(22):
        branch = f.branch(tree.plant if i % 2 else tree.other, code=f"Q{i}")
        group = f.group(branch, code=f"QG{i}")
        log(branch, "committee_meeting", D(2025, 1 + i % 4, 3))
        log(branch, "group_meeting", D(2025, 2, 3), group=group)
    f.committee(name="车间党委", code="WS", parent=tree.plant)
    many = count_queries(client, matrix_url(tree.root, year=2025))
    assert many == few
    assert count_queries(client, matrix_url(tree.root, year=2024)) == few
    # One branch's row: the same, plus the breadcrumbs' ancestors and the first tracked
    # month set above it (the root has no ancestors to read either from).
    assert count_queries(client, matrix_url(tree.branch_b, year=2025)) == few + 2


def test_the_month_page_query_count_does_not_grow_with_groups_or_activities(tree, users, client):
    client.force_login(users.committee)
    few = count_queries(client, month_url(tree.branch_a, 2025, 3))
    for i in range(5):
        group = f.group(tree.branch_a, code=f"MG{i}")
        log(tree.branch_a, "group_meeting", D(2025, 3, 3 + i), group=group)
        log(tree.branch_a, "general_meeting", D(2025, 1 + i % 3, 10))
    assert count_queries(client, month_url(tree.branch_a, 2025, 3)) == few


def test_the_summary_is_read_from_the_cache_until_an_activity_or_a_unit_changes(tree, users, client):
    """The summary over every branch is cached (``compliance.summary``); logging,
    cancelling an activity or changing a branch counts afresh."""
    young = f.branch(tree.plant, name="三月党支部", code="MARCH", established_on=D(2025, 3, 1))
    client.force_login(users.admin)
    url = matrix_url(tree.root, year=2025)
    with CaptureQueriesContext(connection) as missed:
        first = client.get(url).context["compliant"]
    with CaptureQueriesContext(connection) as hit:
        assert client.get(url).context["compliant"] == first
    # A hit reads the data's version (one query), not every branch's activities and groups.
    assert len(hit) < len(missed)
    # March (the only month it existed in that has ended) is missing: hold all of it.
    held = []
    for item in views.compliance.branch_month_compliance(branch=young, month=D(2025, 3, 1), today=D(2025, 4, 15)):
        held.append(log(young, item.requirement.kind, D(2025, 3, 21)))
    assert held
    response = client.get(url)
    assert response.context["compliant"] == first + 1
    assert states(response.content.decode(), young)[2] == "met"  # the cached rows follow too
    services.activity_cancel(activity=held[0], reason="重复登记", user=None)
    assert client.get(url).context["compliant"] == first
    young.established_on = D(2025, 4, 1)  # nothing of it has ended any more
    young.save()
    assert client.get(url).context["compliant"] == first + 1


def test_the_rows_are_read_from_the_cache_and_follow_a_rename_and_another_language(tree, users, activities, client):
    client.force_login(users.committee)
    url = matrix_url(tree.plant, year=2025)
    first = client.get(url).content.decode()
    with mock.patch.object(views.compliance, "compliance_matrix", side_effect=AssertionError("computed again")):
        second = client.get(url).content.decode()
    strip = lambda html: re.sub(r"[A-Za-z0-9]{64}", "", html)  # noqa: E731  (the CSRF tokens)
    assert strip(second) == strip(first)
    tree.branch_b.name = "改名党支部"
    tree.branch_b.save()
    assert "改名党支部" in client.get(url).content.decode()
    client.cookies["django_language"] = "en"
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    client.cookies["django_language"] = "zh-hans"
    chinese = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()  # and the language back
    assert 'title="All met"' in english and 'title="All met"' not in chinese


def test_a_cached_page_follows_a_branch_moved_under_another_committee(tree, users, activities, client):
    """A move re-writes paths with an ``update()`` that leaves ``updated_at`` alone: the
    cached page is still read afresh, with the branch under its new committee."""
    from branches.services import org_unit_move

    client.force_login(users.admin)
    url = matrix_url(tree.root, year=2025)

    def heading_of(html: str, branch) -> str:
        before = html[: html.index(f'<tr data-branch="{branch.pk}">')]
        return re.findall(r'<tr class="table-light committee-heading"><th colspan="13">([^<]*)</th>', before)[-1]

    assert heading_of(client.get(url).content.decode(), tree.branch_b) == tree.plant.name
    with mock.patch.object(views.compliance, "branches_under", side_effect=AssertionError("listed again")):
        client.get(url)  # a hit lists nothing
    org_unit_move(unit=tree.branch_b, new_parent=tree.other)
    assert heading_of(client.get(url).content.decode(), tree.branch_b) == tree.other.name


def test_each_page_of_the_matrix_is_cached_apart(tree, users, client, monkeypatch):
    monkeypatch.setattr(views, "BRANCHES_PER_PAGE", 2)
    client.force_login(users.admin)
    url = matrix_url(tree.root, year=2025)
    first, second = client.get(url, {"page": 1}), client.get(url, {"page": 2})
    assert first.context["page"].number == 1 and second.context["page"].number == 2
    shown = lambda response: set(re.findall(r'<tr data-branch="(\d+)">', response.content.decode()))  # noqa: E731
    assert shown(first) == {str(tree.branch_a.pk), str(tree.branch_b.pk)}
    assert shown(second) == {str(tree.branch_x.pk)}
    with mock.patch.object(views.compliance, "branches_under", side_effect=AssertionError("listed again")):
        assert shown(client.get(url, {"page": 2})) == shown(second)
        assert shown(client.get(url)) == shown(first)  # no page: the first
    # A page past the end is the last one, and a page that is no number the first, as before.
    assert shown(client.get(url, {"page": 99})) == shown(second)
    assert shown(client.get(url, {"page": "x"})) == shown(first)


def test_a_cached_page_follows_a_rename_that_leaves_the_latest_change_alone(tree, users, client):
    """Two saves within one tick of the clock leave the latest ``updated_at`` as it was:
    the version checksums the names and dates themselves."""
    from branches.models import OrgUnit

    client.force_login(users.admin)
    url = matrix_url(tree.root, year=2025)
    assert tree.branch_a.name in client.get(url).content.decode()
    OrgUnit.objects.filter(pk=tree.branch_a.pk).update(name="新名党支部")
    assert "新名党支部" in client.get(url).content.decode()
    OrgUnit.objects.filter(pk=tree.branch_a.pk).update(dissolved_on=D(2024, 12, 31))
    assert f'<tr data-branch="{tree.branch_a.pk}">' not in client.get(url).content.decode()
