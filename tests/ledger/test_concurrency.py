"""Caps hold under concurrency (PostgreSQL, two connections).

First the race is shown happening with the lock switched off: two secretaries award the
same member the month's study task at the same moment, both read "0 so far", both write,
and the member ends above the cap. Then, with the lock, the second waits for the first,
reads its entry and is refused — and no entry is lost.
"""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Sum

from members.ledger import services
from members.ledger.models import LedgerEntry, Rule
from members.models import Member

from ..concurrency import Rendezvous
from ..conftest import requires_postgres

MARCH = datetime.date(2025, 3, 1)


def race(member_id: int, monkeypatch) -> list[object]:
    """Two threads record the capped study task for one member at once; each waits for
    the other right after reading the month's totals, so without a lock both read 0."""
    monkeypatch.setattr(services, "_after_totals_read", Rendezvous())
    results: list[object] = []

    def award():
        try:
            member = Member.objects.select_related("branch").get(pk=member_id)
            rule = services.rule_version_for(unit=member.branch, month=MARCH).rules.get(code="study_task")
            results.append(
                services.ledger_entry_record(
                    member=member, rule=rule, month=MARCH, points=Decimal("3"), reason="学习任务", user=None
                )
            )
        except ValidationError as exc:
            results.append(exc)
        except Exception as exc:  # surfaced in the assertion rather than lost in the thread
            results.append(exc)
            raise
        finally:
            connection.close()

    threads = [threading.Thread(target=award) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def total(member) -> Decimal:
    return LedgerEntry.objects.filter(member=member, month=MARCH).aggregate(t=Sum("points"))["t"] or Decimal("0")


@pytest.mark.django_db(transaction=True)
def test_without_the_lock_two_simultaneous_awards_break_the_cap(tree, member_a, monkeypatch):
    requires_postgres()
    monkeypatch.setattr(services, "LOCKING", False)
    results = race(member_a.pk, monkeypatch)
    assert all(isinstance(r, LedgerEntry) for r in results), results
    assert total(member_a) == Decimal("6.00")  # the cap is 3: the race is real


@pytest.mark.django_db(transaction=True)
def test_with_the_lock_the_second_award_waits_sees_the_first_and_is_refused(tree, member_a, monkeypatch):
    requires_postgres()
    assert services.LOCKING
    results = race(member_a.pk, monkeypatch)
    entries = [r for r in results if isinstance(r, LedgerEntry)]
    refusals = [r for r in results if isinstance(r, ValidationError)]
    assert len(entries) == 1 and len(refusals) == 1
    assert "3" in " ".join(refusals[0].messages)
    assert total(member_a) == Decimal("3.00")
    assert Rule.objects.get(pk=entries[0].rule_id).monthly_cap == Decimal("3.00")
