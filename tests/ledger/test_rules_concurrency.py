"""Two people create a version of the same rule set at the same moment (PostgreSQL, two
connections).

Without the row lock both read version 1 as the newest, both pass the "versions only
move forward" check, and the set ends with a version 3 that starts before version 2.
With the lock the second waits, reads the first's version as the newest and is numbered
and checked against it.
"""

import datetime
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection

from members.ledger import rule_services
from members.ledger.models import Rule, RuleSet, RuleSetVersion

from ..conftest import requires_postgres

MAY = datetime.date(2025, 5, 1)
JUNE = datetime.date(2025, 6, 1)


@pytest.fixture
def plant_rules(tree):
    # Built here rather than from the default set: transactional tests flush the
    # migration's data.
    rule_set = RuleSet.objects.create(committee=tree.plant, name="炼钢厂党委积分规则")
    version = RuleSetVersion.objects.create(rule_set=rule_set, number=1, effective_month=datetime.date(2025, 1, 1))
    Rule.objects.create(
        version=version,
        code="study_task",
        name="完成当月政治理论学习任务",
        category="political",
        source="manual",
        points_min=Decimal("3"),
        points_max=Decimal("3"),
        monthly_cap=Decimal("3"),
    )
    return rule_set


def race(rule_set_id: int, monkeypatch) -> list[object]:
    """The first writer (May) pauses after reading the newest version; the second (June)
    starts during the pause."""
    first_has_read = threading.Event()

    def pause():
        if threading.current_thread().name == "may":
            first_has_read.set()
            time.sleep(1)

    monkeypatch.setattr(rule_services, "_after_newest_read", pause)
    results: list[object] = []

    def create(month):
        try:
            results.append(
                rule_services.rule_set_version_create(
                    rule_set=RuleSet.objects.get(pk=rule_set_id),
                    committee=None,
                    effective_month=month,
                    yearly_training_hours=Decimal("40"),
                    note=month.isoformat(),
                    rules=[],
                    user=None,
                )
            )
        except Exception as exc:  # surfaced in the assertion rather than lost in the thread
            results.append(exc)
        finally:
            connection.close()

    may = threading.Thread(target=create, args=(MAY,), name="may")
    june = threading.Thread(target=create, args=(JUNE,), name="june")
    may.start()
    assert first_has_read.wait(timeout=10)
    june.start()
    for thread in (may, june):
        thread.join(timeout=30)
    return results


def versions_by_number(rule_set) -> list[tuple[int, datetime.date]]:
    return list(rule_set.versions.order_by("number").values_list("number", "effective_month"))


@pytest.mark.django_db(transaction=True)
def test_without_the_lock_two_simultaneous_versions_go_backwards(plant_rules, monkeypatch):
    requires_postgres()
    monkeypatch.setattr(rule_services, "LOCKING", False)
    results = race(plant_rules.pk, monkeypatch)
    assert all(isinstance(r, RuleSetVersion) for r in results), results
    # June was written as version 2 while May's writer slept; May then became version 3.
    assert versions_by_number(plant_rules) == [(1, datetime.date(2025, 1, 1)), (2, JUNE), (3, MAY)]


@pytest.mark.django_db(transaction=True)
def test_with_the_lock_the_second_version_waits_and_follows_the_first(plant_rules, monkeypatch):
    requires_postgres()
    assert rule_services.LOCKING
    results = race(plant_rules.pk, monkeypatch)
    assert all(isinstance(r, RuleSetVersion) for r in results), results
    assert versions_by_number(plant_rules) == [(1, datetime.date(2025, 1, 1)), (2, MAY), (3, JUNE)]
    assert plant_rules.versions.get(number=3).rules.get().code == "study_task"
