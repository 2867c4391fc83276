"""The one helper that decides whether a page shows a link: it asks the access function
of the page linked to, renders plain text where the user may not follow, and knows a
rule for every page of the site."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from branches import links

pytestmark = pytest.mark.django_db


def render(template: str, **context) -> str:
    return Template("{% load links %}" + template).render(Context(context))


def test_a_secretary_gets_their_branch_but_not_the_committee_above_it(tree, users):
    assert links.url_if_allowed(users.secretary, tree.branch_a) == tree.branch_a.get_absolute_url()
    assert links.url_if_allowed(users.secretary, tree.plant) is None
    assert links.url_if_allowed(users.committee, tree.plant) == tree.plant.get_absolute_url()


def test_the_tag_renders_plain_text_where_the_user_may_not_follow(tree, users):
    template = '{% link_if_allowed user unit %} | {% link_if_allowed user "branches:months" unit.pk text="月份" %}'
    assert render(template, user=users.secretary, unit=tree.plant) == "炼钢厂党委 | 月份"
    html = render(template, user=users.committee, unit=tree.plant)
    assert html == (
        f'<a href="{tree.plant.get_absolute_url()}">炼钢厂党委</a> | '
        f'<a href="{reverse("branches:months", args=[tree.plant.pk])}">月份</a>'
    )


def test_text_is_escaped_either_way(tree, users):
    html = render("{% link_if_allowed user unit text=t %}", user=users.secretary, unit=tree.plant, t="<b>x</b>")
    assert html == "&lt;b&gt;x&lt;/b&gt;"


def test_the_query_is_part_of_the_question(tree, users):
    board = ("grading:board", tree.plant.pk, 2025, 4)
    assert links.url_if_allowed(users.secretary, *board)
    assert links.url_if_allowed(users.secretary, *board, query="draft=1") is None  # drafts are for staff
    assert links.url_if_allowed(users.committee, *board, query={"draft": 1}).endswith("?draft=1")
    url = render(
        '{% url_if_allowed user "grading:board" c 2025 4 q_version=2 %}', user=users.secretary, c=tree.plant.pk
    )
    assert url.endswith("/2025/4/?version=2")


def test_a_dossier_opens_for_the_branch_and_the_committee_not_for_another_branch(tree, users):
    dossier = ("reports:dossier_pdf", tree.plant.pk, tree.branch_b.pk, 2025)
    assert links.url_if_allowed(users.committee, *dossier)
    assert links.url_if_allowed(users.secretary, "reports:dossier_pdf", tree.plant.pk, tree.branch_a.pk, 2025)
    assert links.url_if_allowed(users.secretary, *dossier) is None


def test_anonymous_visitors_follow_nothing(tree, client):
    from django.contrib.auth.models import AnonymousUser

    assert links.url_if_allowed(AnonymousUser(), tree.branch_a) is None


def test_answers_are_kept_for_the_request(tree, users):
    links.url_if_allowed(users.committee, "branches:months", tree.plant.pk)
    with CaptureQueriesContext(connection) as ctx:
        links.url_if_allowed(users.committee, "branches:months", tree.plant.pk)
    assert len(ctx.captured_queries) == 0


def test_a_page_without_a_rule_is_a_mistake_not_a_link(users, monkeypatch):
    monkeypatch.delitem(links._rules, "branches:months")
    with pytest.raises(ImproperlyConfigured, match="branches:months"):
        links.url_if_allowed(users.admin, "branches:months", 1)


def _names(resolver: URLResolver, prefix: str = ""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _names(pattern, prefix + (f"{pattern.namespace}:" if pattern.namespace else ""))
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield prefix + pattern.name


def test_every_page_of_the_site_has_a_rule():
    """A new page gets its rule in its app's links.py (the Django admin has its own)."""
    names = [name for name in _names(get_resolver()) if not name.startswith("admin:")]
    missing = []
    for name in names:
        try:
            links.rule_for(name)
        except ImproperlyConfigured:
            missing.append(name)
    assert missing == []
