"""The attendance click under concurrency (PostgreSQL, two connections): its one lock
statement takes the same advisory locks as ``month_assert_open`` and
``lock_member_months``, and two clicks on the same attendance at once take turns, so
the points never double."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import Sum

from branches.activities import services
from branches.activities.models import Attendance, AttendanceChange
from branches.services import month_lock_base
from members.ledger.models import LedgerEntry
from members.ledger.services import member_month_lock_base

from ..concurrency import meet_after
from ..conftest import requires_postgres

DAY = datetime.date(2025, 3, 21)
MARCH = datetime.date(2025, 3, 1)


def advisory_keys() -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT classid::bigint << 32 | objid::bigint FROM pg_locks"
            " WHERE locktype = 'advisory' AND objsubid = 1 AND pid = pg_backend_pid()"
        )
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db(transaction=True)  # so the activity's own locks are released first
def test_the_click_takes_the_months_lock_and_the_members_month_lock(tree, member_a):
    requires_postgres()
    activity = services.activity_create(branch=tree.branch_a, kind="themed_day", title="主题党日", date=DAY, user=None)
    attendance = Attendance.objects.get(activity=activity, member=member_a)
    with transaction.atomic():
        assert not advisory_keys()
        services._lock_click(attendance_pk=attendance.pk, activity=activity)
        taken = advisory_keys()
    assert taken == {
        month_lock_base(MARCH) + (tree.plant.pk << 17),
        member_month_lock_base(MARCH) + (member_a.pk << 17),
    }


@pytest.mark.django_db(transaction=True)
def test_two_clicks_on_one_attendance_at_once_take_turns(tree, member_a, monkeypatch):
    requires_postgres()
    activity = services.activity_create(branch=tree.branch_a, kind="themed_day", title="主题党日", date=DAY, user=None)
    attendance = Attendance.objects.get(activity=activity, member=member_a)
    # Without the locks both would read the same standing entry here.
    meet_after(monkeypatch, services, "attendance_standing_entries")
    errors: list[Exception] = []

    def click(status):
        try:
            services.attendance_set(
                attendance=Attendance(pk=attendance.pk, activity=activity), status=status, user=None
            )
        except Exception as exc:  # surfaced in the assertion rather than lost in the thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=click, args=(status,)) for status in ("absent", "late")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    attendance.refresh_from_db()
    entries = LedgerEntry.objects.filter(source="attendance", source_id=attendance.pk)
    expected = {"absent": Decimal("-2.00"), "late": Decimal("1.00")}[attendance.status]
    assert entries.aggregate(t=Sum("points"))["t"] == expected
    # Each change reversed what stood before it: one entry stands.
    assert entries.filter(reverses__isnull=True, reversed_by__isnull=True).count() == 1
    assert AttendanceChange.objects.filter(attendance=attendance).count() == 2
