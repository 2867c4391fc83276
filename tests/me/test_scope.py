"""A member's login sees its own pages and nothing else: every URL pattern of the project,
filled with real objects (the member's own included), answers 404 to it — GET and POST —
except the member's pages, leaving, the language switch and the QR sign-in."""

import pytest
from django.urls import reverse

from branches.access import user_scope, visible_units
from members.access import visible_members
from members.me.access import is_member_only

from ..views import test_url_params as walk
from .factories import member_login

fill, patterns, valid_values = walk.fill, walk.patterns, walk.valid_values
world = walk.world  # the fixture: one real object of every kind a URL names

pytestmark = pytest.mark.django_db

# What a member may open, and what each answers to GET (None: any answer below 400).
OWN = {
    "me:home": 200,
    "me:points": 200,
    "me:board": 200,
    "me:suggest": 200,
    "me:password": 200,
    "home": 302,  # to me:home
    "login": 302,  # already logged in
    "logout": None,  # POST only
    "set_language": None,
    "activities:qr_checkin": 400,  # a token that is not a sign-in code: refused, saying why
}


def test_a_member_login_has_no_unit_scope(member_a):
    user, _ = member_login(member_a)
    assert user_scope(user).is_empty and is_member_only(user)
    assert not visible_units(user).exists() and not visible_members(user).exists()


def test_every_other_url_is_404_for_a_member(world, client):
    user, _ = member_login(world.member)
    client.force_login(user)
    client.raise_request_exception = False
    wrong = []
    for route, name in patterns():
        params = [m.group("name") for m in walk.PARAMETER.finditer(route)]
        url = fill(route, valid_values(name, params, world))
        got = client.get(url)
        posted = client.post(url)
        if name == "logout":
            client.force_login(user)
        if name in OWN:
            expected = OWN[name]
            if got.status_code >= 500 or (expected is not None and got.status_code != expected):
                wrong.append((name, url, got.status_code))
            continue
        if got.status_code != 404 or posted.status_code != 404:
            wrong.append((name, url, got.status_code, posted.status_code))
    assert not wrong, "\n".join(map(str, wrong))


def test_the_member_pages_show_no_link_the_member_cannot_follow(member_a, client):
    """Walk every link the member's pages show: each answers below 400."""
    from html.parser import HTMLParser

    class Links(HTMLParser):
        def __init__(self):
            super().__init__()
            self.hrefs = []

        def handle_starttag(self, tag, attrs):
            href = dict(attrs).get("href")
            if tag == "a" and href and href.startswith("/"):
                self.hrefs.append(href)

    user, _ = member_login(member_a)
    client.force_login(user)
    seen = set()
    for name in ("me:home", "me:points", "me:board", "me:suggest", "me:password"):
        parser = Links()
        parser.feed(client.get(reverse(name)).content.decode())
        seen.update(parser.hrefs)
    bad = [(href, client.get(href).status_code) for href in sorted(seen) if client.get(href).status_code >= 400]
    assert not bad, bad
