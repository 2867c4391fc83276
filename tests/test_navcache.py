"""The signed-in navigation is rendered once per user, scope and language and then read
from the cache (partybuild/templatetags/navcache.py, issue 14): it never shows one
user's menu to another, follows a role or language change at once, and puts in each
request's own CSRF token and path."""

import re
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from branches.models import RoleBinding
from partybuild.templatetags import navcache

from . import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_cache")]


def nav(html: str) -> str:
    return html[html.index('id="mainnav"') : html.index("</nav>")]


def test_a_second_page_reads_the_navigation_from_the_cache_with_the_same_queries(users, client):
    client.force_login(users.secretary)
    url = reverse("members:roster")
    client.get(url)  # every cache of the page warm
    with mock.patch.object(navcache.cache, "get", return_value=None), CaptureQueriesContext(connection) as miss:
        first = client.get(url).content.decode()
    with mock.patch.object(navcache.NavCacheNode, "render_nodelist", side_effect=AssertionError("rendered")):
        with CaptureQueriesContext(connection) as hit:
            second = client.get(url).content.decode()
    strip = lambda html: re.sub(r"[A-Za-z0-9]{64}", "", html)  # noqa: E731  (the CSRF tokens)
    assert strip(nav(first)) == strip(nav(second))
    # A page makes the same queries whether its navigation was cached or not.
    assert len(hit) == len(miss)


def test_each_request_gets_its_own_valid_csrf_token_and_path(users, client):
    client.force_login(users.secretary)
    client.get(reverse("home"))  # cached now
    page = client.get(reverse("members:roster") + "?q=x").content.decode()
    menu = nav(page)
    assert "pbnav" not in page  # no placeholder left
    assert 'value="/members/?q=x"' in menu
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', menu).group(1)
    # The token in the cached menu logs out (a POST that needs a valid token).
    client.handler.enforce_csrf_checks = True
    response = client.post(reverse("logout"), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302


def test_two_users_with_the_same_roles_each_see_their_own_name(tree, client):
    one = f.user_with_role(RoleBinding.Role.SECRETARY, tree.branch_a, username="zhang", first_name="张三")
    two = f.user_with_role(RoleBinding.Role.SECRETARY, tree.branch_a, username="lisi", first_name="李四")
    client.force_login(one)
    assert "张三" in nav(client.get(reverse("home")).content.decode())
    client.logout()
    client.force_login(two)
    menu = nav(client.get(reverse("home")).content.decode())
    assert "李四" in menu and "张三" not in menu


def test_a_role_granted_shows_in_the_navigation_at_once(tree, users, client):
    client.force_login(users.secretary)
    assert reverse("audit:events") not in nav(client.get(reverse("home")).content.decode())
    RoleBinding.objects.create(user=users.secretary, role=RoleBinding.Role.ADMIN, unit=None)
    assert reverse("audit:events") in nav(client.get(reverse("home")).content.decode())


def test_a_role_removed_leaves_the_navigation_at_once(tree, users, client):
    client.force_login(users.committee)
    assert reverse("members:roster") in nav(client.get(reverse("home")).content.decode())
    RoleBinding.objects.filter(user=users.committee).delete()
    assert reverse("members:roster") not in nav(client.get(reverse("home")).content.decode())


def test_the_language_is_part_of_the_key(users, client):
    client.force_login(users.secretary)
    chinese = nav(client.get(reverse("home")).content.decode())
    client.cookies["django_language"] = "en"
    english = nav(client.get(reverse("home")).content.decode())
    assert "Log out" in english and "Log out" not in chinese


class FailingCache:
    def get(self, *args, **kwargs):
        raise ConnectionError("redis down")

    set = get


def test_a_cache_that_fails_renders_the_navigation_without_it(users, client):
    client.force_login(users.secretary)
    with mock.patch.object(navcache, "cache", FailingCache()):
        response = client.get(reverse("members:roster"))
    assert response.status_code == 200 and reverse("home") in nav(response.content.decode())
