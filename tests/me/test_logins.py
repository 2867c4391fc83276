"""Member logins: issued one by one or for the whole branch (an XLSX of one-time
passwords), the password change forced at the first login."""

import io

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.urls import reverse

from members.me import services
from members.me.models import MemberLogin
from members.me.xlsx import one_time_passwords_xlsx

from .. import factories as f

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_a_login_is_created_with_the_employee_number_and_a_one_time_password(member_a, users):
    issued = services.member_login_create(member=member_a, user=users.secretary)
    member_a.refresh_from_db()
    assert member_a.user.username == member_a.employee_no == issued.username
    assert member_a.user.check_password(issued.password)
    login = MemberLogin.objects.get(user=member_a.user)
    assert login.must_change_password and login.issued_by == users.secretary


def test_issuing_again_replaces_the_one_time_password(member_a):
    first = services.member_login_create(member=member_a, user=None)
    second = services.member_login_create(member=member_a, user=None)
    member_a.refresh_from_db()
    assert User.objects.filter(username=member_a.employee_no).count() == 1
    assert not member_a.user.check_password(first.password)
    assert member_a.user.check_password(second.password)


def test_a_taken_user_name_is_refused_naming_it(member_a):
    f.UserFactory(username=member_a.employee_no)
    with pytest.raises(ValidationError) as excinfo:
        services.member_login_create(member=member_a, user=None)
    assert member_a.employee_no in str(excinfo.value)
    member_a.refresh_from_db()
    assert member_a.user is None


def test_a_login_holding_a_role_is_not_reset_by_the_branch(member_a, users):
    member_a.user = users.secretary
    member_a.save()
    with pytest.raises(ValidationError):
        services.member_login_create(member=member_a, user=users.secretary)
    users.secretary.refresh_from_db()
    assert users.secretary.check_password("pw-for-tests-123")


def test_a_member_who_left_gets_no_login(tree, member_a):
    member_a.left_on = "2024-01-01"
    member_a.save()
    with pytest.raises(ValidationError):
        services.member_login_create(member=member_a, user=None)


def test_the_branch_sheet_holds_every_member_without_a_login_and_their_passwords(tree, users, login, member_a):
    others = [f.MemberFactory(branch=tree.branch_a, name=name) for name in ("=SUM(A1)", "李娜")]
    f.MemberFactory(branch=tree.branch_b)  # another branch: not on the sheet
    services.member_login_create(member=others[1], user=None)  # already has one: kept
    client = login(users.secretary)
    url = reverse("me:branch_logins", args=[tree.branch_a.pk])
    page = client.get(url)
    assert page.status_code == 200 and member_a.name in page.content.decode()
    response = client.post(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = [r for r in sheet.iter_rows(min_row=3, values_only=True) if r[0] and r[2]]
    assert {r[0] for r in rows} == {member_a.name, "=SUM(A1)"}
    # A formula-looking name is text, not a formula.
    cell = next(c for c in sheet["A"] if c.value == "=SUM(A1)")
    assert cell.data_type == "s"
    for _name, employee_no, username, password in rows:
        user = User.objects.get(username=username)
        assert user.member.employee_no == employee_no and user.check_password(password)
    # Issued once: a second POST has nobody left and says so.
    again = client.post(url)
    assert again.status_code == 200 and "error" in again.context and again.context["error"]


def test_the_branch_sheet_is_404_outside_the_scope_and_403_read_only(tree, users, login):
    assert login(users.other_secretary).get(reverse("me:branch_logins", args=[tree.branch_a.pk])).status_code == 404
    # Committee staff may write the branch: they may issue too.
    assert login(users.committee).get(reverse("me:branch_logins", args=[tree.branch_a.pk])).status_code == 200


def test_the_xlsx_writer_keeps_passwords_as_text():
    class M:
        name, employee_no = "王", "00123"

    content = one_time_passwords_xlsx(
        branch_name="支部", issued=[services.IssuedLogin(member=M, username="00123", password="+abc")]
    )
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert [c.value for c in sheet[3]] == ["王", "00123", "00123", "+abc"]


def test_the_secretary_issues_one_login_from_the_member_page(member_a, users, login):
    client = login(users.secretary)
    detail = client.get(member_a.get_absolute_url())
    assert reverse("me:login_issue", args=[member_a.pk]) in detail.content.decode()
    response = client.post(reverse("me:login_issue", args=[member_a.pk]))
    assert response.status_code == 200
    [issued] = response.context["issued"]
    member_a.refresh_from_db()
    assert member_a.user.check_password(issued.password)
    assert issued.password in response.content.decode()


def test_issuing_a_login_is_404_for_an_outsider(member_a, users, login):
    response = login(users.other_secretary).post(reverse("me:login_issue", args=[member_a.pk]))
    assert response.status_code == 404
    member_a.refresh_from_db()
    assert member_a.user is None


def test_the_first_login_must_change_the_one_time_password_then_it_is_gone(member_a, client):
    issued = services.member_login_create(member=member_a, user=None)
    assert client.post(reverse("login"), {"username": issued.username, "password": issued.password}).status_code == 302
    # Every page leads to the password change until it is done.
    for url in ("/", reverse("me:home"), reverse("me:points"), reverse("me:suggest")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == reverse("me:password"), url
    page = client.get(reverse("me:password"))
    assert page.status_code == 200 and page.context["forced"]
    done = client.post(
        reverse("me:password"),
        {"old_password": issued.password, "new_password1": "Hongqi-2025-mine", "new_password2": "Hongqi-2025-mine"},
    )
    assert done.status_code == 302
    assert client.get(reverse("me:home")).status_code == 200
    assert not MemberLogin.objects.get(user__member=member_a).must_change_password
    client.logout()
    # The one-time password works no more; the member's own does, without the detour.
    refused = client.post(reverse("login"), {"username": issued.username, "password": issued.password})
    assert refused.status_code == 200 and refused.context["form"].errors
    client.post(reverse("login"), {"username": issued.username, "password": "Hongqi-2025-mine"})
    assert client.get("/").status_code == 302 and client.get("/")["Location"] == reverse("me:home")


def test_a_password_from_the_branch_sheet_opens_the_password_change_first(tree, users, login, client, member_a):
    sheet = login(users.secretary).post(reverse("me:branch_logins", args=[tree.branch_a.pk]))
    [row] = [
        r
        for r in openpyxl.load_workbook(io.BytesIO(sheet.content)).active.iter_rows(min_row=3, values_only=True)
        if r[2]
    ]
    client.logout()
    client.post(reverse("login"), {"username": row[2], "password": row[3]})
    assert client.get(reverse("me:home"))["Location"] == reverse("me:password")
