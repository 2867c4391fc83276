"""Activities post points to the ledger, and every change reverses and re-posts."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum

from branches.activities import services
from branches.activities.models import Activity, Attendance, AttendanceChange
from branches.services import month_close, month_reopen
from members.ledger.models import LedgerEntry
from members.models import MemberRole

from .. import factories as f

pytestmark = pytest.mark.django_db

DAY = datetime.date(2025, 3, 21)
MARCH = datetime.date(2025, 3, 1)


def total(member, **filters) -> Decimal:
    return LedgerEntry.objects.filter(member=member, **filters).aggregate(t=Sum("points"))["t"] or Decimal("0")


@pytest.fixture
def people(tree):
    return [f.MemberFactory(branch=tree.branch_a, group=tree.group_a1 if i < 2 else tree.group_a2) for i in range(4)]


def themed_day(tree, user=None, **kwargs):
    return services.activity_create(
        branch=tree.branch_a, kind="themed_day", title="3月主题党日", date=DAY, user=user, **kwargs
    )


def test_a_themed_day_lists_every_member_present_and_posts_two_points_each(tree, people):
    activity = themed_day(tree)
    assert Attendance.objects.filter(activity=activity, status="present").count() == 4
    for member in people:
        assert total(member) == Decimal("2.00")
        entry = LedgerEntry.objects.get(member=member)
        assert (entry.month, entry.rule.code, entry.category, entry.branch) == (
            MARCH,
            "org_present",
            "org_life",
            tree.branch_a,
        )


def test_changing_attendance_reverses_the_old_entry_and_posts_the_new(tree, people, users):
    activity = themed_day(tree)
    attendance = Attendance.objects.get(activity=activity, member=people[0])
    services.attendance_set(attendance=attendance, status="absent", user=users.secretary)
    assert total(people[0]) == Decimal("-2.00")
    entries = list(LedgerEntry.objects.filter(member=people[0]).order_by("pk"))
    assert [e.points for e in entries] == [Decimal("2.00"), Decimal("-2.00"), Decimal("-2.00")]
    assert entries[1].reverses == entries[0] and entries[2].rule.code == "org_absent"
    assert entries[2].category == "deduction"
    services.attendance_set(attendance=attendance, status="excused", user=users.secretary)
    assert total(people[0]) == Decimal("0.00")
    assert AttendanceChange.objects.filter(attendance=attendance).count() == 2


def test_a_party_group_meeting_lists_only_that_groups_members(tree, people):
    activity = services.activity_create(
        branch=tree.branch_a, kind="group_meeting", group=tree.group_a1, title="小组学习", date=DAY, user=None
    )
    assert set(activity.attendances.values_list("member_id", flat=True)) == {people[0].pk, people[1].pk}


def test_a_committee_meeting_lists_only_the_sitting_committee(tree, people):
    MemberRole.objects.create(member=people[3], unit=tree.branch_a, role="secretary", started_on="2024-01-01")
    activity = services.activity_create(
        branch=tree.branch_a, kind="committee_meeting", title="支委会", date=DAY, user=None
    )
    assert list(activity.attendances.values_list("member_id", flat=True)) == [people[3].pk]


def test_training_earns_a_point_per_class_hour_up_to_the_monthly_cap(tree, people):
    for hours in ("4", "4", "4"):
        services.activity_create(
            branch=tree.branch_a, kind="training", title="安全培训", date=DAY, class_hours=Decimal(hours), user=None
        )
    assert total(people[0], rule__code="training_hour") == Decimal("10.00")


def test_editing_class_hours_reposts_the_points(tree, people):
    activity = services.activity_create(
        branch=tree.branch_a, kind="training", title="培训", date=DAY, class_hours=Decimal("2"), user=None
    )
    services.activity_update(activity=activity, title="培训", date=DAY, class_hours=Decimal("3.5"), user=None)
    assert total(people[0]) == Decimal("3.50")


def test_cancelling_an_activity_reverses_its_points_and_keeps_the_record(tree, people):
    activity = themed_day(tree)
    services.activity_cancel(activity=activity, reason="重复录入", user=None)
    activity.refresh_from_db()
    assert activity.is_cancelled and activity.cancelled_reason == "重复录入"
    assert all(total(m) == 0 for m in people)
    assert LedgerEntry.objects.count() == 8


def test_writes_to_a_closed_month_are_refused_naming_the_month(tree, people, users):
    activity = themed_day(tree)
    month_close(committee=tree.plant, month=MARCH, user=users.committee)
    attendance = activity.attendances.first()
    for attempt in (
        lambda: themed_day(tree),
        lambda: services.attendance_set(attendance=attendance, status="absent", user=None),
        lambda: services.activity_cancel(activity=activity, reason="x", user=None),
    ):
        with pytest.raises(ValidationError, match="2025年3月"):
            attempt()
    assert LedgerEntry.objects.count() == 4
    month_reopen(committee=tree.plant, month=MARCH, reason="更正考勤", user=users.committee)
    services.attendance_set(attendance=attendance, status="absent", user=None)


def test_another_committees_closed_month_does_not_block_this_branch(tree, people):
    month_close(committee=tree.other, month=MARCH)
    themed_day(tree)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "group_meeting"}, "group"),
        ({"kind": "group_meeting", "group": "X1"}, "group"),
        ({"kind": "training"}, "class_hours"),
        ({"kind": "themed_day", "class_hours": Decimal("2")}, "class_hours"),
        ({"kind": "themed_day", "date": datetime.date(2099, 1, 1)}, "date"),
    ],
)
def test_invalid_activities_are_refused(tree, people, kwargs, field):
    kwargs = {"title": "x", "date": DAY} | kwargs
    if kwargs.get("group") == "X1":
        kwargs["group"] = tree.group_x1
    with pytest.raises(ValidationError) as excinfo:
        services.activity_create(branch=tree.branch_a, user=None, **kwargs)
    assert field in excinfo.value.error_dict
    assert not LedgerEntry.objects.exists()


def test_a_changed_attendance_is_capped_as_if_its_old_points_were_reversed_first(tree, people):
    first, *_rest = [
        services.activity_create(
            branch=tree.branch_a, kind="training", title="安全培训", date=DAY, class_hours=Decimal("4"), user=None
        )
        for _ in range(3)
    ]
    assert total(people[0], rule__code="training_hour") == Decimal("10.00")  # 4 + 4 + 2: the cap is 10
    attendance = Attendance.objects.get(activity=first, member=people[0])
    # Late earns the class hours too: the 4 reversed make room for the 4 posted again.
    services.attendance_set(attendance=attendance, status="late", user=None)
    assert total(people[0], rule__code="training_hour") == Decimal("10.00")
    services.attendance_set(attendance=attendance, status="absent", user=None)
    assert total(people[0], rule__code="training_hour") == Decimal("6.00")
    services.attendance_set(attendance=attendance, status="present", user=None)
    assert total(people[0], rule__code="training_hour") == Decimal("10.00")
    assert not LedgerEntry.objects.filter(reverses__isnull=False, points__gt=0, rule__code="org_absent").exists()


def test_a_refused_change_leaves_the_callers_transaction_usable(tree, people, users):
    # The service keeps no savepoint: it refuses before writing anything.
    activity = themed_day(tree)
    month_close(committee=tree.plant, month=MARCH, user=users.committee)
    attendance = activity.attendances.first()
    with pytest.raises(ValidationError):
        services.attendance_set(attendance=attendance, status="absent", user=None)
    elsewhere = Activity.objects.create(
        branch=tree.branch_a, kind="themed_day", title="二月", date=DAY.replace(month=2)
    )
    other = Attendance(pk=attendance.pk, activity=elsewhere)
    with pytest.raises(Attendance.DoesNotExist):
        services.attendance_set(attendance=other, status="absent", user=None)
    assert LedgerEntry.objects.count() == 4 and not AttendanceChange.objects.exists()
