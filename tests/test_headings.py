"""Every page has exactly one <h1> (its title for screen readers and for the eye), a
skip link to the main content and the <main id="main"> it points to. The pages behind
a login are checked on the crawl of tests/test_crawl.py — every page reachable from "/"
for each role, over a graded and published month — which reads each of them anyway;
walking them a second time here doubled the suite's longest crawl."""

import re

import pytest

pytestmark = pytest.mark.django_db

H1 = re.compile(r"<h1[\s>]")


def test_the_login_page_has_one_h1_and_the_skip_link(client):
    html = client.get("/accounts/login/").content.decode()
    assert len(H1.findall(html)) == 1 and 'href="#main"' in html
