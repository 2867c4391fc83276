"""The draft board says nothing of talks: they are owed once the board is published."""

import pytest
from django.urls import reverse

from .. import factories as f
from .test_boards import APRIL, draft, publish

pytestmark = pytest.mark.django_db


def test_the_draft_board_shows_no_missing_talk_before_publication(tree, users, login):
    extra = [f.branch(tree.plant, name=f"第{i}党支部") for i in range(3)]
    draft(tree.plant, APRIL, {tree.branch_a: "60", tree.branch_b: "95", **{b: "70" for b in extra}})
    client = login(users.committee)
    url = reverse("grading:board", args=[tree.plant.pk, APRIL.year, APRIL.month])
    response = client.get(url, {"draft": "1"})
    content = response.content.decode()
    assert any(row.bottom_three for row in response.context["board"])
    assert all(row.talk is None for row in response.context["board"])
    assert "talk-none" not in content and "talk-later" in content
    publish(tree.plant, APRIL)
    published = client.get(url).content.decode()
    assert "talk-none" in published and "talk-later" not in published
