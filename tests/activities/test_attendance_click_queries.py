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
# 20: session, user, roles · the activity (access) · savepoint · the attendance (locked,
# with its member and QR sign-in) · the month's committee, lock and state · the change,
# the row · the entries reversed, their members' month lock, the reversal · the rules in
# force (versions with their rule sets, the rules) · the new entry · release · the
# counts, the member links. It was 30: the month asked twice, the lock taken twice, rule
# sets read apart, the attendance read twice and its member and sign-in once more each
# while rendering, the row's points summed again, the navigation's committee for a
# fragment.
CLICK_QUERIES = 20


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
    with django_assert_max_num_queries(CLICK_QUERIES):
        assert click(client, activity, attendance, "absent").status_code == 200
