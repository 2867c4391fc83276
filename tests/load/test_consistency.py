"""``check_consistency`` proves nothing was lost or doubled: a state built through the
services passes every check, and each way of breaking it (raw SQL past the services,
where the append-only trigger allows an INSERT) is named by the check that owns it."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Sum

from branches.activities import services as activities
from branches.activities.models import Attendance
from branches.grading import services as grading
from branches.services import month_close
from members.ledger.models import LedgerEntry, Source
from members.ledger.services import ledger_entry_record, ledger_entry_reverse, rule_version_for
from partybuild.consistency import run_checks

from .. import factories as f
from ..conftest import requires_postgres

pytestmark = pytest.mark.django_db
APRIL = datetime.date(2025, 4, 1)
MAY = datetime.date(2025, 5, 1)


@pytest.fixture
def state(tree, users):
    """Two months of a branch's life through the services: activities with corrected
    attendance (reversals), training per class hour under its cap, a manual award and
    its reversal, a graded month and a closed one."""
    requires_postgres()
    members = [f.MemberFactory(branch=tree.branch_a, group=tree.group_a1) for _ in range(4)]
    meeting = activities.activity_create(
        branch=tree.branch_a, kind="themed_day", title="主题党日", date=datetime.date(2025, 4, 21), user=None
    )
    training = activities.activity_create(
        branch=tree.branch_a,
        kind="training",
        title="专题培训",
        date=datetime.date(2025, 4, 22),
        class_hours=Decimal("6"),
        user=None,
    )
    # A second training the cap (10 points a month) clips to what is left: 4 of 6.
    activities.activity_create(
        branch=tree.branch_a,
        kind="training",
        title="专题培训（二）",
        date=datetime.date(2025, 4, 23),
        class_hours=Decimal("6"),
        user=None,
    )
    rows = list(Attendance.objects.filter(activity=meeting).order_by("pk"))
    activities.attendance_set(attendance=rows[0], status="absent", user=users.secretary)
    activities.attendance_set(attendance=rows[1], status="late", user=users.secretary)
    activities.attendance_set(attendance=rows[1], status="present", user=users.secretary)
    activities.attendance_set(
        attendance=Attendance.objects.filter(activity=training).first(), status="excused", user=users.secretary
    )
    cancelled = activities.activity_create(
        branch=tree.branch_a, kind="committee_meeting", title="支委会", date=datetime.date(2025, 4, 2), user=None
    )
    activities.activity_cancel(activity=cancelled, reason="重复登记", user=None)
    rule = rule_version_for(unit=tree.branch_a, month=APRIL).rules.get(code="deduction")
    manual = ledger_entry_record(
        member=members[0], rule=rule, month=APRIL, points=Decimal("-2"), reason="迟到", user=None
    )
    ledger_entry_reverse(entry=manual, reason="误记", user=None)
    run = grading.grading_run_request(committee=tree.plant, month=APRIL)
    grading.grading_run_execute(run_id=run.pk)
    month_close(committee=tree.plant, month=APRIL, user=users.committee)
    activities.activity_create(
        branch=tree.branch_a, kind="themed_day", title="五月主题党日", date=datetime.date(2025, 5, 21), user=None
    )
    return members


def results() -> dict:
    return {check.name: check for check in run_checks()}


def problems() -> dict[str, int]:
    return {name: check.problems for name, check in results().items() if check.problems}


def insert_copy(entry_id: int, **changes) -> None:
    """INSERT a copy of an entry with some columns changed: raw SQL, past the services
    (the append-only trigger refuses updates and deletes, not inserts)."""
    columns = [
        "member_id",
        "branch_id",
        "month",
        "rule_id",
        "rule_version_id",
        "category",
        "points",
        "source",
        "source_id",
        "source_key",
        "evidence",
        "reason",
        "reverses_id",
        "recorded_by_id",
        "recorded_at",
    ]
    picked = ", ".join(f"%s AS {c}" if c in changes else c for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO ledger_ledgerentry ({', '.join(columns)}) SELECT {picked} FROM ledger_ledgerentry WHERE id = %s",
            [*[changes[c] for c in columns if c in changes], entry_id],
        )


def standing_attendance_entry(points: Decimal | None = None) -> LedgerEntry:
    entries = LedgerEntry.objects.filter(
        source=Source.ATTENDANCE, reverses__isnull=True, reversed_by__isnull=True, month=APRIL
    ).exclude(points=0)
    if points is not None:
        entries = entries.filter(points=points)
    return entries.order_by("pk").first()


def test_a_state_built_through_the_services_is_consistent(state):
    checks = results()
    assert {name: c.problems for name, c in checks.items()} == dict.fromkeys(
        ["attendance", "caps", "reversals", "drafts", "closed_months"], 0
    )
    # It checked something: every attendance, the reversals, the draft's member rows.
    assert checks["attendance"].checked == Attendance.objects.count() > 0
    assert checks["reversals"].checked == LedgerEntry.objects.filter(reverses__isnull=False).count() >= 4
    assert checks["drafts"].checked >= 4
    call_command("check_consistency")


def test_points_posted_twice_are_named(state):
    entry = standing_attendance_entry()
    insert_copy(entry.pk)
    assert set(problems()) >= {"attendance"}
    found = results()["attendance"]
    assert f"attendance {entry.source_id} " in found.examples[0] and "in 2 entries" in found.examples[0]


def test_points_lost_are_named(state):
    # A reversal with no new posting: the attendance stands at nothing.
    entry = standing_attendance_entry(Decimal("2"))
    insert_copy(entry.pk, points=-entry.points, reverses_id=entry.pk)
    assert problems() == {"attendance": 1}


def test_an_attendance_changed_past_the_service_is_named(state):
    entry = standing_attendance_entry(Decimal("2"))
    Attendance.objects.filter(pk=entry.source_id).update(status="absent")  # no reversal, no new points
    assert problems() == {"attendance": 1}
    examples = " | ".join(results()["attendance"].examples)
    # The present rule's 2 points stand where none should, the absent rule's -2 are missing.
    assert "expected nothing, standing 2.00" in examples and "expected -2.00, standing nothing" in examples


def test_points_above_a_cap_are_named(state):
    # A member the second training clipped to 4 (their month at the cap of 10) gets 4 more.
    at_cap = (
        LedgerEntry.objects.filter(rule__code="training_hour")
        .values("member_id")
        .annotate(total=Sum("points"))
        .filter(total=Decimal("10"))
        .values("member_id")
    )
    entry = LedgerEntry.objects.filter(rule__code="training_hour", points=Decimal("4"), member_id__in=at_cap).first()
    insert_copy(entry.pk, source=Source.MANUAL, source_id=None)
    assert problems() == {"caps": 1}


def test_a_reversal_that_does_not_mirror_is_named(state):
    entry = LedgerEntry.objects.filter(source=Source.MANUAL, reverses__isnull=True).first()
    insert_copy(entry.pk, points=Decimal("5"), reverses_id=None)
    copy = LedgerEntry.objects.latest("pk")
    # Reverses the copy with the wrong sign: the books no longer balance.
    insert_copy(copy.pk, points=Decimal("5"), reverses_id=copy.pk)
    found = results()["reversals"]
    assert found.problems == 1 and "points not negated" in found.examples[0]


def test_a_reversal_of_a_reversal_is_named(state):
    reversal = LedgerEntry.objects.filter(source=Source.MANUAL, reverses__isnull=False).first()
    insert_copy(reversal.pk, points=-reversal.points, reverses_id=reversal.pk)
    found = results()["reversals"]
    assert found.problems == 1 and "reverses a reversal" in found.examples[0]


def test_an_original_reversed_twice_is_named(state):
    # The database refuses it (one reversal per entry); without that constraint the check still would.
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT conname FROM pg_constraint WHERE conrelid = 'ledger_ledgerentry'::regclass
               AND contype = 'u' AND conkey = ARRAY[(SELECT attnum FROM pg_attribute
               WHERE attrelid = 'ledger_ledgerentry'::regclass AND attname = 'reverses_id')]::smallint[]"""
        )
        (name,) = cursor.fetchone()
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # flush pending FK checks: ALTER needs none
        cursor.execute(f'ALTER TABLE ledger_ledgerentry DROP CONSTRAINT "{name}"')
    reversal = LedgerEntry.objects.filter(source=Source.MANUAL, reverses__isnull=False).first()
    insert_copy(reversal.pk)
    found = results()["reversals"]
    assert found.problems == 1 and "reversed 2 times" in found.examples[0]


def test_a_draft_that_differs_from_the_ledger_is_named(state):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE grading_memberscore SET total = total + 1 WHERE member_id = %s", [state[0].pk])
    assert problems() == {"drafts": 1}
    with pytest.raises(CommandError, match="drafts"):
        call_command("check_consistency")


def test_a_stale_draft_is_not_compared(state):
    # The ledger moved on after grading (May's activity is another month; an April entry is not).
    entry = standing_attendance_entry(Decimal("2"))
    rule = LedgerEntry.objects.filter(source=Source.MANUAL).first().rule
    with connection.cursor() as cursor:
        cursor.execute("UPDATE branches_committeemonth SET state = 'open'")  # (not through a reopening)
    ledger_entry_record(member=entry.member, rule=rule, month=APRIL, points=Decimal("-1"), reason="迟到", user=None)
    checks = results()
    assert checks["drafts"].problems == 0 and "1 stale" in checks["drafts"].note
    # …but an entry in a closed month, recorded while it was closed, is named.
    assert checks["closed_months"].problems == 1


def test_an_entry_in_a_closed_month_is_named(state):
    entry = LedgerEntry.objects.filter(source=Source.MANUAL, reverses__isnull=True).first()
    insert_copy(entry.pk, points=Decimal("-3"), recorded_at=datetime.datetime.now(datetime.UTC))
    found = results()["closed_months"]
    assert found.problems == 1 and f"member {entry.member_id}" in found.examples[0]
