"""The Content-Security-Policy: sent with every kind of response, and no page needs more.

Scripts and styles come from our own static files only, so a rendered page may hold no
inline <script> (a json_script block, type="application/json", is data and is fine),
no on*= handler, no style="" attribute and no <style> block: the browser would refuse
each of them. The journeys in tests/browser check the same in Chromium's console.
"""

import re
from html.parser import HTMLParser
from io import StringIO
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.http import HttpResponse
from django.test import Client
from django.urls import include, path, reverse

from branches.models import OrgUnit

pytestmark = pytest.mark.django_db

EXPECTED_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}


def policy_of(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.status_code} {response.get('Content-Type')}"
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


# A view that fails, for the 500 page: this module doubles as a URLconf.
def _boom(request):
    raise RuntimeError("a bug")


def _ok(request):
    return HttpResponse("ok")


urlpatterns = [path("test-boom/", _boom), path("test-ok/", _ok), path("", include("partybuild.urls"))]


# --- the header on every page type ---------------------------------------------------------


def test_the_policy_allows_scripts_and_styles_from_self_only():
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    assert {name: list(sources) for name, sources in directives.items()} == EXPECTED_POLICY
    assert not any("unsafe" in source for sources in directives.values() for source in sources)


def test_the_login_page_sends_the_policy(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert policy_of(response) == EXPECTED_POLICY


def test_html_pages_send_the_policy(tree, users, login):
    client = login(users.committee)
    for url in (reverse("home"), reverse("branches:unit_detail", args=[tree.plant.pk]), reverse("members:roster")):
        response = client.get(url)
        assert response.status_code == 200, url
        assert policy_of(response) == EXPECTED_POLICY, url


def test_htmx_partials_send_the_policy(tree, users, login):
    response = login(users.committee).get(
        reverse("grading:screen", args=[tree.plant.pk, tree.branch_a.pk]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "<html" not in response.content.decode()  # the panel, not the page
    assert policy_of(response) == EXPECTED_POLICY


def test_error_pages_send_the_policy(tree, users, login, settings):
    client = login(users.secretary)
    forbidden = client.get(reverse("branches:title_award", args=[tree.branch_a.pk]))
    assert forbidden.status_code == 403 and policy_of(forbidden) == EXPECTED_POLICY
    outside = client.get(reverse("branches:unit_detail", args=[tree.branch_x.pk]))
    assert outside.status_code == 404 and policy_of(outside) == EXPECTED_POLICY
    missing = client.get("/no-such-page/")
    assert missing.status_code == 404 and policy_of(missing) == EXPECTED_POLICY

    settings.ROOT_URLCONF = __name__
    failing = Client(raise_request_exception=False)
    response = failing.get("/test-boom/")
    assert response.status_code == 500 and policy_of(response) == EXPECTED_POLICY


def test_plain_responses_send_the_policy(settings, client):
    settings.ROOT_URLCONF = __name__
    assert policy_of(client.get("/test-ok/")) == EXPECTED_POLICY


def test_the_admin_sends_the_policy(users, client):
    users.admin.is_staff = users.admin.is_superuser = True
    users.admin.save()
    client.force_login(users.admin)
    for url in (reverse("admin:index"), reverse("admin:auth_user_changelist"), reverse("admin:login")):
        response = client.get(url)
        assert response.status_code in (200, 302), url
        assert policy_of(response) == EXPECTED_POLICY, url


def test_the_lock_out_page_sends_the_policy(users, client, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(reverse("login"), {"username": "secretary", "password": "wrong"})
    assert response.status_code == 429
    assert policy_of(response) == EXPECTED_POLICY


# --- nothing inline in the pages -------------------------------------------------------------


class InlineFinder(HTMLParser):
    """Collects what the policy would refuse, and the same-site links to follow."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = {name.lower(): value for name, value in attrs}
        for name in names:
            if name.startswith("on") or name.startswith("hx-on"):
                self.problems.append(f"<{tag} {name}=…>: inline event handler")
        if "style" in names:
            self.problems.append(f"<{tag} style={names['style']!r}>: style attribute")
        if tag == "style":
            self.problems.append("<style> block")
        if tag == "script" and not names.get("src") and (names.get("type") or "").lower() != "application/json":
            self.problems.append("<script> without src")
        for name in ("href", "hx-get"):
            if tag in ("a", "div", "form", "section", "tr", "span") and names.get(name):
                self.links.append(names[name])


def inline_problems(html: str) -> tuple[list[str], list[str]]:
    finder = InlineFinder()
    finder.feed(html)
    finder.close()
    return finder.problems, finder.links


def test_the_finder_spots_what_the_policy_refuses():
    problems, _links = inline_problems(
        '<script>alert(1)</script><script src="/a.js"></script><script type="application/json">{}</script>'
        '<button onclick="x()">b</button><div style="width: 3px"></div><style>p{}</style><a hx-on:click="y">a</a>'
    )
    assert problems == [
        "<script> without src",
        "<button onclick=…>: inline event handler",
        "<div style='width: 3px'>: style attribute",
        "<style> block",
        "<a hx-on:click=…>: inline event handler",
    ]


SKIP_PREFIXES = ("/accounts/logout/", "/admin/", "/i18n/", "/static/", "/media/")
# Files, not pages: PDFs, workbooks, downloads, evidence and attachments.
SKIP_FILES = re.compile(r"\.(pdf|xlsx)$|/download/$|/evidence/$|/attachments/\d+/$")
# Pages of one kind (the same path but for its numbers, the same query keys) look alike:
# a few of each are enough, and leave room for every other kind.
PER_KIND = 3


def kind_of(url: str) -> str:
    parts = urlsplit(url)
    keys = sorted({pair.split("=")[0] for pair in parts.query.split("&") if pair})
    return re.sub(r"\d+", "N", parts.path) + "?" + "&".join(keys)


def crawl(client: Client, start: list[str], *, limit: int) -> dict[str, list[str]]:
    """Follow same-site links from ``start`` (breadth first); the problems of each HTML page."""
    queue, seen, found = list(start), set(start), {}
    kinds: dict[str, int] = {}
    while queue and len(found) < limit:
        url = queue.pop(0)
        response = client.get(url)
        if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
            continue
        problems, links = inline_problems(response.content.decode())
        found[url] = problems
        for link in links:
            link = urldefrag(link)[0].replace("&amp;", "&")
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or not link.startswith("/") or link.startswith(SKIP_PREFIXES):
                continue
            if link in seen or SKIP_FILES.search(parts.path) or kinds.get(kind_of(link), 0) >= PER_KIND:
                continue
            seen.add(link)
            kinds[kind_of(link)] = kinds.get(kind_of(link), 0) + 1
            queue.append(link)
    return found


@pytest.fixture
def demo(db):
    """The demo organisation with months of life, grading and a publication."""
    call_command("seed_demo", "--branches", "3", "--members", "30", "--months", "2", stdout=StringIO())
    return OrgUnit.objects.order_by("pk").first()


def test_no_page_of_any_app_holds_inline_scripts_handlers_or_styles(demo):
    visited: dict[str, list[str]] = {}
    for username in ("admin", "committee", "secretary"):
        client = Client()
        client.force_login(get_user_model().objects.get(username=username))
        visited.update(crawl(client, ["/"], limit=250))
    # Every app's pages were reached, so the check covers them all.
    for prefix in ("/org/", "/members/", "/ledger/", "/activities/", "/grading/", "/reports/"):
        assert any(url.startswith(prefix) for url in visited), f"the crawl reached no page under {prefix}"
    bad = {url: problems for url, problems in visited.items() if problems}
    assert bad == {}


def test_the_login_lock_out_and_error_pages_hold_nothing_inline(tree, users, client, settings):
    pages = [client.get(reverse("login")), client.get("/no-such-page/")]
    for _ in range(settings.AXES_FAILURE_LIMIT):
        locked = client.post(reverse("login"), {"username": "secretary", "password": "wrong"})
    pages.append(locked)
    client.force_login(users.secretary)
    pages.append(client.get(reverse("branches:title_award", args=[tree.branch_a.pk])))
    settings.ROOT_URLCONF = __name__
    pages.append(Client(raise_request_exception=False).get("/test-boom/"))
    for response in pages:
        assert inline_problems(response.content.decode())[0] == [], response.status_code


TEMPLATES_DIR = Path(settings.BASE_DIR) / "templates"
# Rendered by WeasyPrint into PDFs on the server: no browser, no policy.
SERVER_SIDE_ONLY = ("reports/pdf_",)


def test_no_template_holds_inline_scripts_handlers_or_styles():
    """Also the templates the crawl does not reach (forms after a POST, empty states)."""
    bad = {}
    for template in sorted(TEMPLATES_DIR.rglob("*.html")):
        name = template.relative_to(TEMPLATES_DIR).as_posix()
        if name.startswith(SERVER_SIDE_ONLY):
            continue
        # Template tags and comments are not HTML; drop them before parsing.
        source = re.sub(r"\{#.*?#\}|\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}", "", template.read_text(), flags=re.S)
        source = re.sub(r"\{[{%].*?[}%]\}", "X", source, flags=re.S)
        problems, _links = inline_problems(source)
        if problems:
            bad[name] = problems
    assert bad == {}
