"""The attendance click (one htmx POST that sets one member's attendance) stays a fixed,
small number of queries however large the activity (issue 14)."""

import datetime
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.urls import reverse

from branches.activities import services
from members.ledger.models import LedgerEntry

from .. import factories as f

pytestmark = pytest.mark.django_db

DAY = datetime.date(2025, 3, 21)
# 10: session, user, roles · the activity (access) · the locks in one statement (the
# month's shared lock, with its committee looked up inside, and the member's month lock;
# none on SQLite) · the attendance (row-locked, with its member, branch and QR sign-in,
# and whether the month is closed, the points it stands at and the activity's counts) ·
# the standing entries · the version in force (its rules are cached per version) · the
# status with the change on record (one CTE; two statements on SQLite) · the reversal
# and the new entry (one INSERT). A capped rule adds the member's month totals. The same
# status again stops after the attendance: 6. It was 20: a savepoint and its release
# (the service no longer needs one), the committee, its lock and the closed month apart,
# the member's lock apart, the rules read, the change and the status apart, the
# reversal and the new entry apart, the counts and the member link after rendering.
CLICK_QUERIES = 10
SAME_STATUS_QUERIES = 6


def click(client, activity, attendance, status):
    return client.post(
        reverse("activities:attendance", args=[activity.pk, attendance.pk]),
        {"status": status},
        headers={"hx-request": "true"},
    )


def test_the_attendance_click_costs_a_fixed_number_of_queries(tree, users, client, django_assert_max_num_queries):
    for _ in range(150):
        f.MemberFactory(branch=tree.branch_a)
    activity = services.activity_create(branch=tree.branch_a, kind="themed_day", title="大支部", date=DAY, user=None)
    client.force_login(users.secretary)
    attendance = activity.attendances.order_by("pk")[10]
    click(client, activity, attendance, "late")
    with django_assert_max_num_queries(CLICK_QUERIES):
        response = click(client, activity, attendance, "absent")
    html = response.content.decode()
    assert response.status_code == 200 and f'id="att-{attendance.pk}"' in html and "-2.00" in html
    total = LedgerEntry.objects.filter(source="attendance", source_id=attendance.pk).aggregate(t=Sum("points"))["t"]
    assert total == Decimal("-2.00")
    # The same status again changes nothing and costs less.
    with django_assert_max_num_queries(SAME_STATUS_QUERIES):
        assert click(client, activity, attendance, "absent").status_code == 200
