"""Every page has exactly one <h1> (its title for screen readers and for the eye), a
skip link to the main content and the <main id="main"> it points to. The walk is the
crawl of tests/test_crawl.py — every page reachable from "/" for each role — over the
same graded and published month."""

import re
from collections import Counter, deque
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest

from .me.factories import member_login
from .test_crawl import NOT_FOLLOWED, READS_PER_SHAPE, ROLES, Page, published_month, shape  # noqa: F401

pytestmark = pytest.mark.django_db

H1 = re.compile(r"<h1[\s>]")
MAX_PAGES = 1500


def walk(client):
    """(path, html) of every full page reachable from "/" (each shape read twice at most)."""
    seen, queue, reads = {"/"}, deque(["/"]), Counter()
    while queue:
        path = queue.popleft()
        response = client.get(path, follow=True)
        assert len(seen) <= MAX_PAGES
        if response.status_code >= 400 or "text/html" not in response.get("Content-Type", ""):
            continue
        if NOT_FOLLOWED.search(path):
            continue
        reads[shape(path)] += 1
        if reads[shape(path)] > READS_PER_SHAPE:
            continue
        html = response.content.decode()
        yield path, html
        page = Page()
        page.feed(html)
        for href in page.hrefs:
            href = urldefrag(urljoin(path, href))[0]
            parts = urlsplit(href)
            if parts.scheme not in ("", "http") or parts.netloc not in ("", "testserver") or not parts.path:
                continue
            local = parts._replace(scheme="", netloc="").geturl()
            if local not in seen:
                seen.add(local)
                queue.append(local)


@pytest.mark.usefixtures("published_month")
@pytest.mark.parametrize("role", ROLES)
def test_every_page_has_one_h1_and_a_skip_link_to_main(users, member_a, client, role):
    client.force_login(member_login(member_a)[0] if role == "member" else getattr(users, role))
    wrong, pages = [], 0
    for path, html in walk(client):
        if "<html" not in html:
            continue  # a fragment htmx swaps into a page
        pages += 1
        if (n := len(H1.findall(html))) != 1:
            wrong.append(f"{n} <h1> on {path}")
        # The print layouts and the activity room's large screen have no navigation to skip.
        if "pb-navbar" in html and ('href="#main"' not in html or 'id="main"' not in html):
            wrong.append(f"no skip link to #main on {path}")
    assert wrong == [], "\n".join(wrong)
    assert pages >= {"nobody": 1, "member": 5}.get(role, 30)


def test_the_login_page_has_one_h1_and_the_skip_link(client):
    html = client.get("/accounts/login/").content.decode()
    assert len(H1.findall(html)) == 1 and 'href="#main"' in html
