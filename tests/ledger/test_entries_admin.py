"""The ledger in the Django admin: entries can be read and searched, never added,
changed or deleted there; rule sets are read-mostly."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from members.ledger.models import LedgerEntry, Rule, RuleSetVersion
from members.ledger.services import ledger_entry_record, rule_version_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("root", "root@example.invalid", "pw-for-tests-123")


@pytest.fixture
def entry(member_a):
    month = datetime.date(2025, 3, 1)
    rule = rule_version_for(unit=member_a.branch, month=month).rules.get(code="deduction")
    return ledger_entry_record(member=member_a, rule=rule, month=month, points=Decimal("-2"), reason="扣分", user=None)


def test_the_ledger_admin_lists_and_searches(entry, superuser, client):
    client.force_login(superuser)
    for model in ("ledger/ledgerentry", "ledger/ruleset", "ledger/rulesetversion", "ledger/rule"):
        assert client.get(f"/admin/{model}/", {"q": "王"}).status_code == 200, model
    listed = client.get("/admin/ledger/ledgerentry/", {"q": entry.member.employee_no})
    assert entry.member.name in listed.content.decode()
    assert client.get("/admin/ledger/ledgerentry/", {"category": "deduction", "source": "manual"}).status_code == 200


def test_an_entry_cannot_be_added_changed_or_deleted_in_the_admin(entry, superuser, client):
    client.force_login(superuser)
    change_url = reverse("admin:ledger_ledgerentry_change", args=[entry.pk])
    page = client.get(change_url)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.post(change_url, {"points": "99", "reason": "篡改"}).status_code == 403
    assert client.get(reverse("admin:ledger_ledgerentry_add")).status_code == 403
    assert client.post(reverse("admin:ledger_ledgerentry_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    bulk = client.post(
        reverse("admin:ledger_ledgerentry_changelist"), {"action": "delete_selected", "_selected_action": [entry.pk]}
    )
    assert bulk.status_code == 200  # no such action: the list is shown again
    entry.refresh_from_db()
    assert entry.points == Decimal("-2.00") and LedgerEntry.objects.count() == 1


def test_rules_are_read_only_and_a_version_only_takes_a_note(superuser, client):
    client.force_login(superuser)
    version = RuleSetVersion.objects.get(number=1, rule_set__committee__isnull=True)
    rule = Rule.objects.get(version=version, code="study_task")
    assert client.post(reverse("admin:ledger_rule_change", args=[rule.pk]), {"points_min": "9"}).status_code == 403
    assert client.get(reverse("admin:ledger_rulesetversion_add")).status_code == 403
    response = client.post(reverse("admin:ledger_rulesetversion_change", args=[version.pk]), {"note": "说明"})
    assert response.status_code in (200, 302)
    version.refresh_from_db()
    rule.refresh_from_db()
    assert rule.points_min == Decimal("3.00") and version.effective_month == datetime.date(2000, 1, 1)
