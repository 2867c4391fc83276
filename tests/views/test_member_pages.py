"""Member pages as a secretary uses them: create, edit, transfer, leave, honours, committee."""

import datetime

import pytest
from django.urls import reverse

from members.models import Member, MemberHonour, MemberRole, Membership

from .. import factories as f

pytestmark = pytest.mark.django_db

NEW_MEMBER = {
    "name": "刘洋",
    "gender": "F",
    "birth_date": "1992-05-06",
    "ethnicity": "汉族",
    "employee_no": "AG900001",
    "phone": "13800138000",
    "post": "点检员",
    "status": "probationary",
    "joined_on": "2025-07-01",
    "converted_on": "",
    "started_on": "2025-07-01",
}


def test_a_secretary_adds_a_member_to_their_branch(tree, users, client):
    client.force_login(users.secretary)
    data = NEW_MEMBER | {"branch": tree.branch_a.pk, "group": tree.group_a2.pk}
    response = client.post(reverse("members:create"), data)
    member = Member.objects.get(employee_no="AG900001")
    assert response.status_code == 302 and response["Location"] == member.get_absolute_url()
    assert (member.branch, member.group, member.status) == (tree.branch_a, tree.group_a2, "probationary")
    period = Membership.objects.get(member=member)
    assert (period.branch, period.started_on, period.ended_on) == (tree.branch_a, datetime.date(2025, 7, 1), None)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"joined_on": "2030-01-01"}, "joined_on"),
        ({"birth_date": "2010-01-01"}, "joined_on"),
        ({"status": "full"}, "converted_on"),
        ({"status": "full", "converted_on": "2025-09-01"}, "converted_on"),
        ({"employee_no": "DUPLICATE"}, "employee_no"),
        ({"group": "GROUP_X"}, "group"),
        ({"phone": "call me"}, "phone"),
        ({"name": ""}, "name"),
    ],
)
def test_invalid_member_data_is_refused_with_a_message_and_nothing_is_written(tree, users, client, change, field):
    f.MemberFactory(branch=tree.branch_a, employee_no="DUPLICATE")
    client.force_login(users.secretary)
    data = NEW_MEMBER | {"branch": tree.branch_a.pk} | change
    if data.get("group") == "GROUP_X":
        data["group"] = tree.group_x1.pk
    before = Member.objects.count()
    response = client.post(reverse("members:create"), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert Member.objects.count() == before


def test_a_group_of_another_branch_in_scope_is_refused(tree, users, client):
    client.force_login(users.committee)
    data = NEW_MEMBER | {"branch": tree.branch_b.pk, "group": tree.group_a1.pk}
    response = client.post(reverse("members:create"), data)
    assert "group" in response.context["form"].errors
    assert not Member.objects.filter(employee_no="AG900001").exists()


def test_editing_a_member_changes_their_data_and_a_group_change_is_recorded(tree, users, member_a, client):
    client.force_login(users.secretary)
    data = {
        "name": "王建国",
        "gender": "M",
        "birth_date": "1985-03-04",
        "employee_no": member_a.employee_no,
        "status": "full",
        "joined_on": "2010-07-01",
        "converted_on": "2011-07-01",
        "post": "班长",
        "group": tree.group_a2.pk,
    }
    response = client.post(reverse("members:edit", args=[member_a.pk]), data)
    assert response.status_code == 302
    member_a.refresh_from_db()
    assert (member_a.post, member_a.group) == ("班长", tree.group_a2)
    periods = list(Membership.objects.filter(member=member_a).order_by("started_on"))
    assert [p.group for p in periods] == [tree.group_a1, tree.group_a2]
    assert periods[0].end_reason == Membership.EndReason.GROUP_CHANGE


def test_a_committee_staffer_transfers_a_member_between_their_branches(tree, users, member_a, client):
    client.force_login(users.committee)
    response = client.post(
        reverse("members:transfer", args=[member_a.pk]),
        {"to_branch": tree.branch_b.pk, "on_date": "2025-03-15", "note": "岗位调整"},
    )
    assert response.status_code == 302
    member_a.refresh_from_db()
    assert member_a.branch == tree.branch_b and member_a.group is None
    old, new = Membership.objects.filter(member=member_a).order_by("started_on")
    assert (old.ended_on, old.end_reason, new.started_on) == (
        datetime.date(2025, 3, 15),
        "transfer",
        datetime.date(2025, 3, 15),
    )
    detail = client.get(member_a.get_absolute_url()).content.decode()
    assert tree.branch_a.name in detail and tree.branch_b.name in detail


def test_a_transfer_dated_before_the_current_period_is_refused(tree, users, member_a, client):
    client.force_login(users.committee)
    response = client.post(
        reverse("members:transfer", args=[member_a.pk]), {"to_branch": tree.branch_b.pk, "on_date": "2019-01-01"}
    )
    assert response.status_code == 200 and response.context["form"].errors
    member_a.refresh_from_db()
    assert member_a.branch == tree.branch_a


def test_leaving_is_recorded_and_the_member_stays_on_record(tree, users, member_a, client):
    client.force_login(users.secretary)
    response = client.post(
        reverse("members:leave", args=[member_a.pk]),
        {"on_date": "2025-06-30", "reason": "transfer_out", "note": "调往外单位"},
    )
    assert response.status_code == 302
    member_a.refresh_from_db()
    assert member_a.left_on == datetime.date(2025, 6, 30)
    roster = client.get(reverse("members:roster")).context["page"].object_list
    assert member_a not in roster
    with_left = client.get(reverse("members:roster"), {"include_left": "on"}).context["page"].object_list
    assert member_a in with_left
    # A member who left can no longer be edited.
    assert client.get(reverse("members:edit", args=[member_a.pk])).status_code == 403


def test_honours_are_awarded_and_revoked_with_a_reason(tree, users, member_a, client):
    client.force_login(users.secretary)
    client.post(
        reverse("members:honour_add", args=[member_a.pk]),
        {"kind": "model_post", "title": "连铸示范岗", "stars": "3", "awarded_on": "2025-01-10"},
    )
    honour = MemberHonour.objects.get(member=member_a)
    assert (honour.stars, honour.title) == (3, "连铸示范岗")
    response = client.post(
        reverse("members:honour_revoke", args=[member_a.pk, honour.pk]), {"revoked_on": "2025-05-01", "reason": ""}
    )
    assert response.status_code == 200
    client.post(
        reverse("members:honour_revoke", args=[member_a.pk, honour.pk]),
        {"revoked_on": "2025-05-01", "reason": "岗位变动"},
    )
    honour.refresh_from_db()
    assert honour.revoked_on == datetime.date(2025, 5, 1) and honour.revoked_reason == "岗位变动"


def test_the_committee_page_appoints_and_ends_roles(tree, users, member_a, client):
    client.force_login(users.secretary)
    url = reverse("members:committee", args=[tree.branch_a.pk])
    response = client.post(url, {"member": member_a.pk, "role": "secretary", "started_on": "2024-01-01"})
    assert response.status_code == 302
    role = MemberRole.objects.get(member=member_a, role="secretary")
    other = f.MemberFactory(branch=tree.branch_a)
    response = client.post(url, {"member": other.pk, "role": "secretary", "started_on": "2024-02-01"})
    assert response.status_code == 200 and response.context["form"].errors
    client.post(reverse("members:role_end", args=[role.pk]), {"ended_on": "2024-12-31"})
    role.refresh_from_db()
    assert role.ended_on == datetime.date(2024, 12, 31)
    assert client.post(url, {"member": other.pk, "role": "secretary", "started_on": "2025-01-01"}).status_code == 302


def test_a_committee_role_is_offered_only_to_members_of_the_branch(tree, users, member_a, member_x, client):
    client.force_login(users.admin)
    response = client.post(
        reverse("members:committee", args=[tree.branch_a.pk]),
        {"member": member_x.pk, "role": "propaganda", "started_on": "2024-01-01"},
    )
    assert "member" in response.context["form"].errors
    assert not MemberRole.objects.exists()


def test_a_group_leader_is_appointed_from_the_group(tree, users, member_a, client):
    client.force_login(users.secretary)
    response = client.post(
        reverse("members:group_leader", args=[tree.group_a1.pk]),
        {"member": member_a.pk, "role": "group_leader", "started_on": "2024-01-01"},
    )
    assert response.status_code == 302
    assert MemberRole.objects.get(role="group_leader").unit == tree.group_a1
