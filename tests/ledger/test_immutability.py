"""Nothing can rewrite history: on PostgreSQL the database itself refuses to update or
delete a ledger entry, whichever way the statement arrives, and the application has no
code that tries."""

import datetime
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from members.ledger.models import LedgerEntry
from members.ledger.services import ledger_entry_record, rule_version_for

from ..conftest import requires_postgres

pytestmark = pytest.mark.django_db

MARCH = datetime.date(2025, 3, 1)


@pytest.fixture
def entry(member_a):
    rule = rule_version_for(unit=member_a.branch, month=MARCH).rules.get(code="deduction")
    return ledger_entry_record(
        member=member_a, rule=rule, month=MARCH, points=Decimal("-2"), reason="迟交思想汇报", user=None
    )


def assert_unchanged(entry):
    row = LedgerEntry.objects.filter(pk=entry.pk).values("points", "reason").get()
    assert row == {"points": Decimal("-2.00"), "reason": "迟交思想汇报"}


def refused(statement) -> DatabaseError:
    """Run ``statement`` in its own savepoint; it must fail with a database error."""
    with pytest.raises(DatabaseError) as excinfo, transaction.atomic():
        statement()
    return excinfo.value


def test_an_update_in_sql_is_refused_by_the_database(entry):
    requires_postgres()

    def update():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE ledger_ledgerentry SET points = 99")

    error = refused(update)
    assert "append-only" in str(error) and "UPDATE" in str(error)
    assert_unchanged(entry)


def test_a_delete_in_sql_is_refused_by_the_database(entry):
    requires_postgres()

    def delete():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM ledger_ledgerentry")

    error = refused(delete)
    assert "append-only" in str(error) and "DELETE" in str(error)
    assert_unchanged(entry)


def test_orm_updates_and_deletes_are_refused_too(entry):
    requires_postgres()
    refused(lambda: LedgerEntry.objects.filter(pk=entry.pk).update(points=Decimal("99")))
    refused(lambda: LedgerEntry.objects.filter(pk=entry.pk).delete())
    refused(lambda: LedgerEntry.objects.all().delete())
    assert_unchanged(entry)


def test_saving_an_existing_entry_is_refused(entry):
    requires_postgres()
    entry.points = Decimal("99")
    entry.reason = "篡改"
    refused(entry.save)
    refused(entry.delete)
    assert_unchanged(entry)


def test_the_guard_does_not_stop_new_entries_or_reversals(entry):
    requires_postgres()
    from members.ledger.services import ledger_entry_reverse

    ledger_entry_reverse(entry=entry, reason="录入错误", user=None)
    assert LedgerEntry.objects.count() == 2
    assert_unchanged(entry)


# A statement that names the ledger entry model, its table or its related managers and
# updates or deletes through it; or an entry object saved in place or deleted. Creating
# (create, bulk_create, save(force_insert=True)) is the only write there may be.
NAMES_LEDGER = re.compile(r"LedgerEntry\b|ledger_ledgerentry|\.ledger_entries\b|\.reversed_by\b")
WRITES = re.compile(r"\.(update|delete|bulk_update|update_or_create|get_or_create)\(|\.save\((?!force_insert=True)")
WRITES_AN_ENTRY = re.compile(r"\b(entry|reversal|original)\.(save\((?!force_insert=True)|delete\()")
SQL_WRITE = re.compile(r"(UPDATE|DELETE\s+FROM)\s+ledger_ledgerentry", re.IGNORECASE)


def statements(source: str) -> list[str]:
    """Logical statements, joining the lines of a bracketed expression."""
    result, current, depth = [], [], 0
    for line in source.splitlines():
        stripped = line.split("#", 1)[0]
        current.append(stripped)
        depth += stripped.count("(") + stripped.count("[") - stripped.count(")") - stripped.count("]")
        if depth <= 0:
            result.append(" ".join(current))
            current, depth = [], 0
    return result


def offending(source: str) -> list[str]:
    return [
        statement.strip()
        for statement in statements(source)
        if (NAMES_LEDGER.search(statement) and WRITES.search(statement))
        or WRITES_AN_ENTRY.search(statement)
        or SQL_WRITE.search(statement)
    ]


def test_the_scan_would_catch_an_edit():
    source = """
LedgerEntry.objects.filter(
    pk=1,
).update(points=0)
entry.save()
member.ledger_entries.all().delete()
cursor.execute("DELETE FROM ledger_ledgerentry WHERE id = 1")
LedgerEntry.objects.create(points=1)
reversal.save(force_insert=True)
context.update(entries=page)
"""
    assert len(offending(source)) == 4


def test_no_application_code_updates_or_deletes_an_entry():
    base = Path(settings.BASE_DIR)
    offenders = []
    for package in ("branches", "members", "partybuild"):
        for path in (base / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for statement in offending(path.read_text(encoding="utf-8")):
                offenders.append(f"{path.relative_to(base)}: {statement[:120]}")
    assert offenders == []


def test_the_ledger_services_only_ever_insert():
    source = (Path(settings.BASE_DIR) / "members" / "ledger" / "services.py").read_text(encoding="utf-8")
    assert ".update(" not in source and ".delete(" not in source
    # The one save() of an entry is an explicit INSERT.
    assert re.findall(r"\.save\([^)]*\)", source) == [".save(force_insert=True)"]
