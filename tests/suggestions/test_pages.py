"""The suggestion pages: who sees what (outsiders 404 on every URL, moving without the
right 403), the secretary moving only where the rules allow, the queue's htmx refusal
in place, the funnel's numbers, and query counts that do not grow with the rows."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from members.ledger.models import LedgerEntry
from members.ledger.rule_services import rule_set_version_create
from members.suggestions.models import State, Suggestion

from .. import factories as f
from .factories import evidence, suggestion, through

pytestmark = pytest.mark.django_db
YEAR = timezone.localdate().year


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def s(tree, member_a):
    return suggestion(tree.branch_a, [member_a], title="优化连铸二冷配水降低铸坯裂纹")


def urls(tree, s) -> list[str]:
    return [
        reverse("suggestions:branch", args=[tree.branch_a.pk]),
        reverse("suggestions:create", args=[tree.branch_a.pk]),
        reverse("suggestions:detail", args=[s.pk]),
        reverse("suggestions:evidence", args=[s.pk]),
        reverse("suggestions:queue", args=[tree.plant.pk]),
        reverse("suggestions:funnel", args=[tree.plant.pk, YEAR]),
        reverse("suggestions:funnel_panel", args=[tree.plant.pk]),
    ]


@pytest.mark.parametrize("who", ["other_secretary", "other_committee", "nobody"])
def test_outsiders_get_404_on_every_suggestion_url(tree, users, s, login, who):
    through(s, "implemented")
    client = login(getattr(users, who))
    for url in urls(tree, s):
        assert client.get(url).status_code == 404, url
    response = client.post(reverse("suggestions:move", args=[s.pk]), {"move": "withdraw_implementation", "reason": "x"})
    assert response.status_code == 404
    s.refresh_from_db()
    assert s.state == State.IMPLEMENTED


def test_the_committee_and_the_secretary_see_the_pages(tree, users, s, login):
    through(s, "implemented")
    committee_pages = set(urls(tree, s)[4:])  # the secretary does not see the committee
    for user in (users.committee, users.secretary):
        client = login(user)
        for url in urls(tree, s):
            expected = 404 if user == users.secretary and url in committee_pages else 200
            assert client.get(url).status_code == expected, (user, url)
    branch_funnel = reverse("suggestions:funnel", args=[tree.branch_a.pk, YEAR])
    assert client.get(branch_funnel).context["funnel"].total.implemented == 1


def test_the_secretary_enters_a_suggestion_for_their_members(tree, users, member_a, login):
    other = f.MemberFactory(branch=tree.branch_a, name="赵磊")
    client = login(users.secretary)
    response = client.post(
        reverse("suggestions:create", args=[tree.branch_a.pk]),
        {
            "title": "改进钢包烘烤工艺节约煤气",
            "proposers": [member_a.pk, other.pk],
            "field": "cost",
            "text": "采用蓄热式烘烤器。",
            "expected_benefit": "年节约煤气费用",
            "expected_value": "18.5",
            "submitted_on": timezone.localdate().isoformat(),
        },
    )
    created = Suggestion.objects.get()
    assert response.status_code == 302 and response["Location"] == created.get_absolute_url()
    assert set(created.proposers.all()) == {member_a, other} and created.created_by == users.secretary


def test_a_member_of_another_branch_is_not_offered_as_proposer(tree, users, member_a, member_x, login):
    response = login(users.secretary).post(
        reverse("suggestions:create", args=[tree.branch_a.pk]),
        {"title": "t", "proposers": [member_x.pk], "field": "cost", "text": "x", "submitted_on": "2025-01-02"},
    )
    assert response.status_code == 200 and not Suggestion.objects.exists()


def test_the_secretary_may_not_move_it_on_unless_the_rules_allow(tree, users, s, member_a, login):
    client = login(users.secretary)
    url = reverse("suggestions:move", args=[s.pk])
    assert client.post(url, {"move": "accept"}).status_code == 403
    assert b"move-accept" not in client.get(s.get_absolute_url()).content
    assert not LedgerEntry.objects.exists()
    rule_set_version_create(
        rule_set=None,
        committee=tree.plant,
        effective_month=timezone.localdate().replace(day=1),
        note="支部书记可审核合理化建议",
        user=None,
        parameters={"suggestions_by_secretary": True},
    )
    client = login(users.secretary)  # a new request: the answer is cached per request
    assert b"move-accept" in client.get(s.get_absolute_url()).content
    assert client.post(url, {"move": "accept"}).status_code == 302
    s.refresh_from_db()
    assert s.state == State.ACCEPTED and LedgerEntry.objects.get().member == member_a
    assert s.transitions.get(move="accept").user == users.secretary


def test_moving_it_on_from_the_page_and_a_refusal_shown_there(tree, users, s, member_a, login):
    client = login(users.committee)
    url = reverse("suggestions:move", args=[s.pk])
    response = client.post(url, {"move": "reject"})  # no reason
    assert response.status_code == 200 and b"Give a reason." in response.content
    assert client.post(url, {"move": "accept"}).status_code == 302
    assert client.post(url, {"move": "publish"}).status_code == 302
    response = client.post(url, {"move": "implement", "realised_value": "33.20", "evidence": evidence()})
    assert response.status_code == 302
    s.refresh_from_db()
    assert s.state == State.IMPLEMENTED and s.realised_value == Decimal("33.20")
    page = client.get(s.get_absolute_url()).content.decode()
    assert "33.20" in page and 'id="standing"' in page and "7.00" in page
    download = client.get(reverse("suggestions:evidence", args=[s.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")
    # A move the state no longer allows: refused in words, nothing posted.
    response = client.post(url, {"move": "accept"})
    assert "Accept is not possible now: the record is Implemented (实施)." in response.content.decode()
    assert sum(e.points for e in LedgerEntry.objects.all()) == Decimal("7")


def test_the_queue_refuses_in_place_over_htmx(tree, users, s, login):
    client = login(users.committee)
    url = reverse("suggestions:move", args=[s.pk])
    response = client.post(url, {"move": "reject", "reason": ""}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and f'id="suggestion-{s.pk}"' in html
    assert "Give a reason." in html and "Nothing was changed." in html
    response = client.post(url, {"move": "accept"}, HTTP_HX_REQUEST="true")
    assert 'data-state="accepted"' in response.content.decode()
    response = client.post(url, {"move": "accept"}, HTTP_HX_REQUEST="true")
    assert "Accept is not possible now" in response.content.decode()


def test_a_closed_month_refusal_names_the_month_on_the_page(tree, users, member_a, login):
    from branches.services import month_close

    today = timezone.localdate()
    s = suggestion(tree.branch_a, [member_a], submitted_on=today.replace(day=1))
    month_close(committee=tree.plant, month=today.replace(day=1), user=None, reason="公示")
    response = login(users.committee).post(
        reverse("suggestions:move", args=[s.pk]), {"move": "accept"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert "is closed for" in html and str(today.year) in html
    s.refresh_from_db()
    assert s.state == State.SUBMITTED


def make_funnel(tree):
    """Branch A: 5 proposed, 1 rejected, 1 pending, 3 accepted, 2 published, 1 implemented
    (12.50 万元); branch B: 2 proposed, both implemented (10 + 20.25); last year's
    suggestions do not count."""
    a = [f.MemberFactory(branch=tree.branch_a) for _ in range(2)]
    b = [f.MemberFactory(branch=tree.branch_b)]
    day = timezone.localdate()
    stages = ["rejected", "submitted", "accepted", "published", "implemented"]
    for n, stage in enumerate(stages):
        s = suggestion(tree.branch_a, a[: 1 + n % 2], title=f"建议{n}", submitted_on=day)
        if stage != "submitted":
            through(s, stage)
    for value in ("10", "20.25"):
        through(suggestion(tree.branch_b, b, submitted_on=day), "implemented", value=value)
    suggestion(tree.branch_a, a, submitted_on=datetime.date(YEAR - 1, 6, 1))


def test_the_funnel_counts_each_stage_per_branch_and_in_total(tree, users, login, django_assert_max_num_queries):
    make_funnel(tree)
    client = login(users.committee)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("suggestions:funnel", args=[tree.plant.pk, YEAR]))
    rows = {row.unit.code: row for row in response.context["funnel"].rows}
    got = lambda r: (r.proposed, r.accepted, r.rejected, r.published, r.implemented, r.realised)  # noqa: E731
    assert got(rows["BRA"]) == (5, 3, 1, 2, 1, Decimal("12.50"))
    assert got(rows["BRB"]) == (2, 2, 0, 2, 2, Decimal("30.25"))
    assert got(response.context["funnel"].total) == (7, 5, 1, 4, 3, Decimal("42.75"))
    assert rows["BRA"].pending == 1
    last_year = client.get(reverse("suggestions:funnel", args=[tree.plant.pk, YEAR - 1]))
    assert last_year.context["funnel"].total.proposed == 1
    # The committee page loads the year's funnel into itself.
    assert (
        reverse("suggestions:funnel_panel", args=[tree.plant.pk])
        in client.get(tree.plant.get_absolute_url()).content.decode()
    )
    panel = client.get(reverse("suggestions:funnel_panel", args=[tree.plant.pk])).content.decode()
    assert 'data-stage="proposed">7<' in panel and 'data-stage="implemented">3<' in panel


def test_list_pages_read_a_fixed_number_of_queries(tree, users, login, django_assert_max_num_queries):
    make_funnel(tree)
    client = login(users.committee)
    pages = [
        reverse("suggestions:branch", args=[tree.branch_a.pk]),
        reverse("suggestions:queue", args=[tree.plant.pk]),
        reverse("suggestions:funnel_panel", args=[tree.plant.pk]),
    ]
    counts = {}
    for url in pages:
        with django_assert_max_num_queries(14) as captured:
            assert client.get(url).status_code == 200
        counts[url] = len(captured)
    make_funnel(tree)  # twice the rows
    for url in pages:
        with django_assert_max_num_queries(counts[url]):
            client.get(url)


def test_the_member_ledger_links_suggestion_points_to_the_suggestion(tree, users, s, member_a, login):
    through(s, "accepted")
    page = login(users.committee).get(reverse("ledger:member_ledger", args=[member_a.pk])).content.decode()
    assert f'href="{s.get_absolute_url()}"' in page


def test_the_admin_lists_suggestions_read_only(tree, s, client):
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create_superuser("root", "root@example.invalid", "pw-for-tests-123")
    client.force_login(root)
    assert client.get("/admin/suggestions/suggestion/", {"q": "连铸"}).status_code == 200
    assert client.get(f"/admin/suggestions/suggestion/{s.pk}/change/").status_code == 200
    assert client.get("/admin/suggestions/suggestion/add/").status_code == 403
