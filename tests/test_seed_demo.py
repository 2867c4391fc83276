"""`seed_demo` builds a consistent organisation: every unit's path is right, every
member passes the same validation a form would apply, and each role can log in."""

from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db.models import Count, Q
from django.test import RequestFactory

from branches.access import user_scope
from branches.models import OrgUnit
from members.models import Member, Membership
from members.services import member_validate

pytestmark = pytest.mark.django_db


def assert_consistent() -> None:
    units = {u.pk: u for u in OrgUnit.objects.all()}
    for unit in units.values():
        parent_path = units[unit.parent_id].path if unit.parent_id else "/"
        assert unit.path == f"{parent_path}{unit.pk}/"
    open_periods = Member.objects.annotate(n=Count("memberships", filter=Q(memberships__ended_on__isnull=True)))
    assert not open_periods.filter(left_on__isnull=True).exclude(n=1).exists()
    assert not open_periods.filter(left_on__isnull=False).exclude(n=0).exists()
    for member in Member.objects.select_related("branch", "group")[:300]:
        member_validate(
            birth_date=member.birth_date,
            joined_on=member.joined_on,
            status=member.status,
            converted_on=member.converted_on,
            branch=member.branch,
            group=member.group,
            employee_no=member.employee_no,
            exclude_pk=member.pk,
        )


def test_the_demo_seeds_a_consistent_tree_and_prints_working_logins():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    text = out.getvalue()
    assert "http://127.0.0.1:8000/" in text and "partybuild-demo" in text
    assert OrgUnit.objects.filter(kind="branch").count() >= 20
    assert Member.objects.count() >= 300
    assert Membership.objects.filter(end_reason="transfer").exists()
    assert Member.objects.filter(left_on__isnull=False).exists()
    assert_consistent()
    request = RequestFactory().post("/accounts/login/")
    roles = {}
    for username in ("admin", "committee", "secretary"):
        user = authenticate(request, username=username, password="partybuild-demo")
        assert user is not None, username
        roles[username] = user_scope(user)
    assert roles["admin"].is_admin
    assert roles["committee"].roles == {"committee_staff"} and roles["secretary"].roles == {"secretary"}


def test_seeding_twice_is_refused_without_reset():
    call_command("seed_demo", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", "--reset", stdout=StringIO())
    assert_consistent()


def test_the_bulk_mode_builds_a_large_tree_consistently():
    call_command("seed_demo", "--branches", "120", "--members", "1200", stdout=StringIO())
    assert OrgUnit.objects.filter(kind="branch").count() == 120
    assert Member.objects.count() >= 1200
    assert_consistent()
