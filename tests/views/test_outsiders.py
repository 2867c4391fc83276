"""Scoping is security: every page that takes an id answers 404 to anyone outside the
object's subtree, exactly as for an id that does not exist."""

import pytest
from django.urls import reverse

from members.models import MemberHonour, MemberRole

pytestmark = pytest.mark.django_db


@pytest.fixture
def objects(tree, member_a):
    role = MemberRole.objects.create(member=member_a, unit=tree.branch_a, role="secretary", started_on="2021-01-01")
    honour = MemberHonour.objects.create(member=member_a, kind="model_post", stars=2, awarded_on="2022-01-01")
    from branches.models import BranchTitle

    title = BranchTitle.objects.create(branch=tree.branch_a, kind="model_branch", awarded_on="2022-01-01")
    return {"role": role, "honour": honour, "title": title}


def object_urls(tree, member, objects):
    """Every URL that names an object of branch A, with the method it is used with."""
    return [
        ("get", reverse("branches:unit_detail", args=[tree.branch_a.pk])),
        ("get", reverse("branches:unit_detail", args=[tree.group_a1.pk])),
        ("get", reverse("branches:unit_edit", args=[tree.branch_a.pk])),
        ("post", reverse("branches:unit_edit", args=[tree.branch_a.pk])),
        ("get", reverse("branches:unit_create", args=[tree.branch_a.pk])),
        ("post", reverse("branches:unit_create", args=[tree.branch_a.pk])),
        ("get", reverse("branches:term_start", args=[tree.branch_a.pk])),
        ("post", reverse("branches:term_start", args=[tree.branch_a.pk])),
        ("get", reverse("branches:title_award", args=[tree.branch_a.pk])),
        ("post", reverse("branches:title_withdraw", args=[tree.branch_a.pk, objects["title"].pk])),
        ("get", reverse("members:detail", args=[member.pk])),
        ("get", reverse("members:edit", args=[member.pk])),
        ("post", reverse("members:edit", args=[member.pk])),
        ("get", reverse("members:transfer", args=[member.pk])),
        ("post", reverse("members:transfer", args=[member.pk])),
        ("get", reverse("members:leave", args=[member.pk])),
        ("post", reverse("members:leave", args=[member.pk])),
        ("get", reverse("members:honour_add", args=[member.pk])),
        ("post", reverse("members:honour_revoke", args=[member.pk, objects["honour"].pk])),
        ("get", reverse("members:committee", args=[tree.branch_a.pk])),
        ("post", reverse("members:committee", args=[tree.branch_a.pk])),
        ("get", reverse("members:group_leader", args=[tree.group_a1.pk])),
        ("post", reverse("members:role_end", args=[objects["role"].pk])),
    ]


@pytest.mark.parametrize("outsider", ["other_secretary", "other_committee", "nobody"])
def test_an_outsider_gets_404_on_every_page_of_another_branch(tree, users, member_a, objects, client, outsider):
    client.force_login(getattr(users, outsider))
    for method, url in object_urls(tree, member_a, objects):
        response = getattr(client, method)(url)
        assert response.status_code == 404, (outsider, method, url, response.status_code)


def test_a_secretary_gets_404_for_the_committee_above_and_a_sibling_branch(tree, users, client):
    client.force_login(users.secretary)
    for unit in (tree.plant, tree.root, tree.branch_b, tree.branch_x):
        assert client.get(reverse("branches:unit_detail", args=[unit.pk])).status_code == 404


def test_an_unknown_id_gives_the_same_404_as_an_outsider(users, client):
    client.force_login(users.admin)
    assert client.get(reverse("members:detail", args=[999999])).status_code == 404
    assert client.get(reverse("branches:unit_detail", args=[999999])).status_code == 404


def test_the_owner_reaches_every_page_of_their_branch(tree, users, member_a, objects, client):
    client.force_login(users.secretary)
    for method, url in object_urls(tree, member_a, objects):
        if method == "get" and "/titles/" not in url:
            assert client.get(url).status_code == 200, url


def test_anonymous_visitors_are_sent_to_the_login_page(tree, member_a, client):
    for url in (reverse("home"), reverse("members:roster"), reverse("members:detail", args=[member_a.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_lists_show_only_what_is_in_scope(tree, users, member_a, member_x, client):
    client.force_login(users.other_secretary)
    roster = client.get(reverse("members:roster")).content.decode()
    assert member_x.name in roster and member_a.name not in roster
    org = client.get(reverse("branches:tree")).content.decode()
    assert tree.branch_x.name in org and tree.branch_a.name not in org
    # Filtering the roster by an out-of-scope branch id shows nothing of it.
    filtered = client.get(reverse("members:roster"), {"branch": tree.branch_a.pk}).content.decode()
    assert member_a.name not in filtered


def test_a_secretary_cannot_create_a_member_in_another_branch(tree, users, client):
    client.force_login(users.secretary)
    response = client.post(
        reverse("members:create"),
        {
            "name": "赵六",
            "gender": "M",
            "birth_date": "1990-01-01",
            "employee_no": "Z1",
            "branch": tree.branch_x.pk,
            "status": "full",
            "joined_on": "2012-07-01",
            "converted_on": "2013-07-01",
            "started_on": "2024-01-01",
        },
    )
    assert response.status_code == 200
    assert "branch" in response.context["form"].errors
    from members.models import Member

    assert not Member.objects.filter(employee_no="Z1").exists()


def test_a_user_without_any_role_cannot_open_the_create_page(users, client):
    client.force_login(users.nobody)
    assert client.get(reverse("members:create")).status_code == 403


def test_a_secretary_cannot_award_titles_or_create_committees(tree, users, client):
    client.force_login(users.secretary)
    assert client.get(reverse("branches:title_award", args=[tree.branch_a.pk])).status_code == 403
    form = client.get(reverse("branches:unit_create", args=[tree.branch_a.pk])).context["form"]
    assert [k for k, _label in form.fields["kind"].choices] == ["group"]


def test_a_secretary_cannot_transfer_into_a_branch_outside_their_scope(tree, users, member_a, client):
    client.force_login(users.secretary)
    response = client.post(
        reverse("members:transfer", args=[member_a.pk]), {"to_branch": tree.branch_x.pk, "on_date": "2025-01-01"}
    )
    assert response.status_code == 200
    assert "to_branch" in response.context["form"].errors
    member_a.refresh_from_db()
    assert member_a.branch == tree.branch_a
