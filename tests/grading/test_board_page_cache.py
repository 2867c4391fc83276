"""A published board's whole content (header and body) is kept per scope for viewers
who do not manage the grading (issue 14): a second view reads it without building the
board, every change the header or body shows is a new key, scopes never share a
render, and the access check still runs first."""

import re
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from branches.access import scope_signature, user_scope
from branches.grading import board_cache, boards
from branches.services import month_reopen

from .. import factories as f
from .test_board_cache import board_url, published  # noqa: F401  (the fixture)
from .test_boards import APRIL, draft, publish

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_cache")]


def strip(html: str) -> str:
    return re.sub(r"[A-Za-z0-9]{64}", "", html)  # the per-request CSRF tokens


def test_a_secretarys_second_view_builds_no_board_and_shows_the_same(tree, users, published, login):  # noqa: F811
    client = login(users.secretary)
    first = client.get(board_url(tree.plant)).content.decode()
    with (
        mock.patch.object(boards, "board", side_effect=AssertionError("rendered again")),
        mock.patch.object(boards, "board_head", side_effect=AssertionError("header read again")),
    ):
        second = client.get(board_url(tree.plant))
    assert second.status_code == 200
    body = second.content.decode()
    assert "88.50" in body and 'id="publication-info"' in body
    assert strip(body) == strip(first)


def test_a_cached_page_costs_a_constant_handful_of_queries(tree, users, published, login):  # noqa: F811
    client = login(users.secretary)
    client.get(board_url(tree.plant))
    with CaptureQueriesContext(connection) as queries:
        assert client.get(board_url(tree.plant)).status_code == 200
    # Session, user, scope, the committee, the month's versions with the body's
    # inputs, the bell, and the navigation's board committee.
    assert len(queries) <= 7, [q["sql"][:80] for q in queries]


def test_viewers_of_other_scopes_never_share_a_cached_page(tree, users, published, login, client):  # noqa: F811
    committee = tree.plant
    key = lambda user: board_cache.page_key(  # noqa: E731
        committee=committee,
        month=APRIL,
        version=None,
        today=APRIL,
        print_mode=False,
        all_stars=False,
        scope=scope_signature(user_scope(user)),
    )
    second = f.user_with_role("secretary", tree.branch_b, username="secretary_b")
    assert key(users.secretary) != key(second)
    # A user outside the committee is refused before any cache is read.
    login(users.secretary).get(board_url(committee))
    client.logout()
    client.force_login(users.other_secretary)
    assert client.get(board_url(committee)).status_code == 404


def test_committee_staff_never_get_a_secretarys_cached_page(tree, users, published, login, client):  # noqa: F811
    assert 'id="draft-link"' not in login(users.secretary).get(board_url(tree.plant)).content.decode()
    client.logout()
    client.force_login(users.committee)
    staff = client.get(board_url(tree.plant)).content.decode()
    assert 'id="draft-link"' in staff and 'id="loop"' in staff


def test_a_new_version_is_shown_at_once_in_the_header_and_body(tree, users, published, login):  # noqa: F811
    client = login(users.secretary)
    assert "88.50" in client.get(board_url(tree.plant)).content.decode()
    month_reopen(committee=tree.plant, month=APRIL, reason="更正", user=users.committee)
    draft(tree.plant, APRIL, {tree.branch_a: "77.25", tree.branch_b: "92"})
    publish(tree.plant, APRIL)
    page = client.get(board_url(tree.plant)).content.decode()
    assert "77.25" in page and "88.50" not in page
    assert 'id="versions"' in page  # the header lists both versions now
    old = client.get(board_url(tree.plant, version=1)).content.decode()
    assert "88.50" in old and "77.25" not in old


def test_a_version_not_published_is_still_a_404(tree, users, published, login):  # noqa: F811
    client = login(users.secretary)
    client.get(board_url(tree.plant))
    assert client.get(board_url(tree.plant, version=7)).status_code == 404


def test_a_cache_that_fails_is_a_miss_for_the_page_too(tree, users, published, login):  # noqa: F811
    client = login(users.secretary)
    client.get(board_url(tree.plant))
    with (
        mock.patch.object(board_cache.cache, "get", side_effect=ConnectionError("redis down")),
        mock.patch.object(board_cache.cache, "set", side_effect=ConnectionError("redis down")),
    ):
        response = client.get(board_url(tree.plant))
    assert response.status_code == 200 and "88.50" in response.content.decode()
