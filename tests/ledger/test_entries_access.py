"""Who sees and corrects which entries, and what a transfer does to that: a member's
ledger follows them to their new branch, and their old branch keeps its own books."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse

from branches.models import RoleBinding
from members.ledger.access import get_entry_for_user, get_ledger_member_for_user, visible_entries
from members.ledger.models import LedgerEntry
from members.ledger.services import ledger_entry_record, rule_version_for
from members.services import member_transfer

from .. import factories as f

pytestmark = pytest.mark.django_db

FEB = datetime.date(2025, 2, 1)
MARCH = datetime.date(2025, 3, 1)


def deduct(member, points: str, month: datetime.date) -> LedgerEntry:
    rule = rule_version_for(unit=member.branch, month=month).rules.get(code="deduction")
    return ledger_entry_record(member=member, rule=rule, month=month, points=Decimal(points), reason="扣分", user=None)


@pytest.fixture
def books(tree, member_a, member_x):
    b_member = f.MemberFactory(branch=tree.branch_b)
    return {
        "a": deduct(member_a, "-1", MARCH),
        "b": deduct(b_member, "-2", MARCH),
        "x": deduct(member_x, "-3", MARCH),
    }


@pytest.mark.parametrize(
    ("user", "sees"),
    [
        ("secretary", {"a"}),
        ("committee", {"a", "b"}),
        ("admin", {"a", "b", "x"}),
        ("other_secretary", {"x"}),
        ("other_committee", {"x"}),
        ("nobody", set()),
    ],
)
def test_each_user_sees_the_entries_of_their_subtree(books, users, user, sees):
    visible = set(visible_entries(getattr(users, user)).values_list("pk", flat=True))
    assert visible == {books[key].pk for key in sees}


def test_an_entry_outside_the_scope_is_a_404_like_a_missing_one(books, users):
    with pytest.raises(Http404):
        get_entry_for_user(users.secretary, books["x"].pk)
    with pytest.raises(Http404):
        get_entry_for_user(users.secretary, 999999)
    with pytest.raises(Http404):
        get_entry_for_user(users.nobody, books["a"].pk)
    assert get_entry_for_user(users.committee, books["b"].pk, write=True) == books["b"]
    assert get_entry_for_user(users.secretary, books["a"].pk, write=True) == books["a"]


@pytest.fixture
def transferred(tree, member_a):
    """Member A earns −1 in February in branch A, moves to branch B on 1 March, earns −2."""
    february = deduct(member_a, "-1", FEB)
    member_transfer(member=member_a, to_branch=tree.branch_b, on_date=MARCH)
    member_a.refresh_from_db()
    march = deduct(member_a, "-2", MARCH)
    secretary_b = f.user_with_role(RoleBinding.Role.SECRETARY, tree.branch_b, username="secretary_b")
    return february, march, secretary_b


def test_the_new_branch_sees_the_whole_ledger_of_a_member_who_transferred_in(transferred, member_a, client):
    february, march, secretary_b = transferred
    client.force_login(secretary_b)
    response = client.get(reverse("ledger:member_ledger", args=[member_a.pk]), {"year": 2025})
    assert response.context["year_total"] == Decimal("-3.00")
    listed = client.get(reverse("ledger:entries"), {"member": member_a.pk, "month": ""})
    assert {e.pk for e in listed.context["page"]} == {february.pk, march.pk}
    assert client.get(reverse("ledger:evidence", args=[february.pk])).status_code == 404  # no file, but visible
    # Reading the old branch's entry is fine; correcting it is the old branch's business.
    assert get_entry_for_user(secretary_b, february.pk) == february
    with pytest.raises(PermissionDenied):
        get_entry_for_user(secretary_b, february.pk, write=True)
    assert client.get(reverse("ledger:reverse", args=[february.pk])).status_code == 403
    entries = {e.pk: e for _t, month in response.context["sections"] for e in month}
    assert not entries[february.pk].can_reverse and entries[march.pk].can_reverse


def test_the_old_branch_keeps_its_own_books_of_a_member_who_left_it(transferred, member_a, users, client):
    february, march, _secretary_b = transferred
    client.force_login(users.secretary)
    assert client.get(reverse("ledger:member_ledger", args=[member_a.pk])).status_code == 404
    member, entries = get_ledger_member_for_user(users.secretary, member_a.pk)
    assert member == member_a and list(entries) == [february]
    listed = client.get(reverse("ledger:entries"), {"member": member_a.pk, "month": ""})
    assert [e.pk for e in listed.context["page"]] == [february.pk]
    assert listed.context["total"] == Decimal("-1.00")
    # The old branch corrects its own entry and comes back to the list, not to a
    # member page it may no longer open.
    response = client.post(reverse("ledger:reverse", args=[february.pk]), {"reason": "录入错误"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("ledger:entries") + f"?member={member_a.pk}")


def test_a_member_with_nothing_on_the_users_books_is_a_404(transferred, member_a, users):
    with pytest.raises(Http404):
        get_ledger_member_for_user(users.other_secretary, member_a.pk)
    with pytest.raises(Http404):
        get_ledger_member_for_user(users.secretary, 999999)
