"""Activity pages as a secretary uses them, and the outsiders who must not."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from branches.activities import services
from branches.activities.models import Activity, ActivityAttachment, Attendance
from branches.services import month_close
from members.ledger.models import LedgerEntry

from .. import factories as f

pytestmark = pytest.mark.django_db

DAY = datetime.date(2025, 3, 21)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def people(tree):
    return [f.MemberFactory(branch=tree.branch_a, group=tree.group_a1) for _ in range(3)]


@pytest.fixture
def activity(tree, people):
    return services.activity_create(branch=tree.branch_a, kind="themed_day", title="主题党日", date=DAY, user=None)


@pytest.fixture
def attachment(activity):
    return services.activity_attachment_add(
        activity=activity, upload=SimpleUploadedFile("会议.pdf", PDF, content_type="application/pdf"), user=None
    )


def test_a_secretary_logs_a_themed_day_and_everyone_is_present(tree, users, people, client):
    client.force_login(users.secretary)
    response = client.post(
        reverse("activities:create"),
        {
            "branch": tree.branch_a.pk,
            "kind": "themed_day",
            "title": "安全生产主题党日",
            "date": "2025-03-21",
            "place": "党建活动室",
        },
    )
    activity = Activity.objects.get(title="安全生产主题党日")
    assert response.status_code == 302 and response["Location"] == activity.get_absolute_url()
    assert activity.attendances.filter(status="present").count() == 3
    page = client.get(activity.get_absolute_url()).content.decode()
    assert "安全生产主题党日" in page and 'data-count="present"' in page


def test_one_click_changes_attendance_and_returns_the_row_and_counts(tree, users, activity, people, client):
    client.force_login(users.secretary)
    attendance = Attendance.objects.get(activity=activity, member=people[0])
    response = client.post(
        reverse("activities:attendance", args=[activity.pk, attendance.pk]),
        {"status": "absent"},
        headers={"hx-request": "true"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="att-{attendance.pk}"' in html and 'hx-swap-oob="true"' in html
    assert "-2.00" in html
    attendance.refresh_from_db()
    assert attendance.status == "absent"
    total = LedgerEntry.objects.filter(member=people[0]).aggregate(t=Sum("points"))["t"]
    assert total == Decimal("-2.00")


def test_the_grid_refuses_changes_in_a_closed_month_with_the_months_name(tree, users, activity, people, client):
    month_close(committee=tree.plant, month=DAY)
    client.force_login(users.secretary)
    attendance = Attendance.objects.get(activity=activity, member=people[0])
    response = client.post(
        reverse("activities:attendance", args=[activity.pk, attendance.pk]),
        {"status": "absent"},
        headers={"hx-request": "true"},
    )
    assert "2025年3月" in response.content.decode()
    attendance.refresh_from_db()
    assert attendance.status == "present"
    page = client.get(activity.get_absolute_url()).content.decode()
    assert "hx-post" not in page


def test_a_click_refused_because_the_month_closed_meanwhile_says_so_in_the_row(tree, users, activity, people, client):
    client.force_login(users.secretary)
    attendance = Attendance.objects.get(activity=activity, member=people[0])
    month_close(committee=tree.plant, month=DAY)  # after the page was opened
    response = client.post(
        reverse("activities:attendance", args=[activity.pk, attendance.pk]),
        {"status": "absent"},
        headers={"hx-request": "true"},
    )

    html = response.content.decode()
    assert response.status_code == 200 and f'<tr id="att-{attendance.pk}"' in html
    alert = html.split('role="alert"')[1].split("</div>")[0]
    assert "2025年3月" in alert and "未保存任何内容" in alert
    # The row shows the status that stands, and no buttons that cannot work.
    assert "hx-post" not in html and "<td>出席</td>" in html
    attendance.refresh_from_db()
    assert attendance.status == "present"


def test_the_attendance_grid_stays_quick_for_a_branch_of_150(tree, users, client):
    for _ in range(150):
        f.MemberFactory(branch=tree.branch_a)
    activity = services.activity_create(branch=tree.branch_a, kind="themed_day", title="大支部", date=DAY, user=None)
    client.force_login(users.secretary)
    with CaptureQueriesContext(connection) as page_queries:
        assert client.get(activity.get_absolute_url()).status_code == 200
    attendance = activity.attendances.first()
    with CaptureQueriesContext(connection) as click_queries:
        client.post(
            reverse("activities:attendance", args=[activity.pk, attendance.pk]),
            {"status": "late"},
            headers={"hx-request": "true"},
        )
    assert len(page_queries) <= 20
    assert len(click_queries) <= 30


def test_the_page_query_count_does_not_grow_with_attendance(tree, users, client):
    f.MemberFactory(branch=tree.branch_b)
    small = services.activity_create(branch=tree.branch_b, kind="themed_day", title="小", date=DAY, user=None)
    for _ in range(20):
        f.MemberFactory(branch=tree.branch_a)
    large = services.activity_create(branch=tree.branch_a, kind="themed_day", title="大", date=DAY, user=None)
    client.force_login(users.committee)

    def count(url):
        with CaptureQueriesContext(connection) as ctx:
            client.get(url)
        return len(ctx)

    assert count(small.get_absolute_url()) == count(large.get_absolute_url())
    few = count(reverse("activities:list"))
    for i in range(10):
        services.activity_create(branch=tree.branch_a, kind="other", title=f"活动{i}", date=DAY, user=None)
    assert count(reverse("activities:list")) == few


def test_editing_and_cancelling_follow_the_ledger(tree, users, activity, people, client):
    client.force_login(users.secretary)
    client.post(reverse("activities:edit", args=[activity.pk]), {"title": "改名后的主题党日", "date": "2025-03-20"})
    activity.refresh_from_db()
    assert (activity.title, activity.date) == ("改名后的主题党日", datetime.date(2025, 3, 20))
    response = client.post(reverse("activities:cancel", args=[activity.pk]), {"reason": ""})
    assert response.status_code == 200
    client.post(reverse("activities:cancel", args=[activity.pk]), {"reason": "录入错误"})
    activity.refresh_from_db()
    assert activity.is_cancelled
    assert LedgerEntry.objects.aggregate(t=Sum("points"))["t"] == 0


def test_attachments_are_checked_stored_and_served_only_in_scope(tree, users, activity, client):
    client.force_login(users.secretary)
    url = reverse("activities:attachment_upload", args=[activity.pk])
    client.post(url, {"file": SimpleUploadedFile("fake.pdf", b"MZ not a pdf")})
    client.post(url, {"file": SimpleUploadedFile("notes.exe", PDF)})
    assert not ActivityAttachment.objects.exists()
    client.post(url, {"file": SimpleUploadedFile("签到表.pdf", PDF)})
    attachment = ActivityAttachment.objects.get()
    response = client.get(reverse("activities:attachment", args=[attachment.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    client.force_login(users.other_secretary)
    assert client.get(reverse("activities:attachment", args=[attachment.pk])).status_code == 404


def test_the_calendar_shows_the_months_activities(tree, users, activity, client):
    client.force_login(users.secretary)
    page = client.get(reverse("activities:calendar", args=[tree.branch_a.pk, 2025, 3])).content.decode()
    assert activity.title in page
    other = client.get(reverse("activities:calendar", args=[tree.branch_a.pk, 2025, 4])).content.decode()
    assert activity.title not in other


def test_the_list_filters_by_type_and_date(tree, users, activity, client):
    services.activity_create(
        branch=tree.branch_a, kind="committee_meeting", title="支委会", date=datetime.date(2025, 2, 3), user=None
    )
    client.force_login(users.secretary)
    listed = client.get(reverse("activities:list"), {"kind": "themed_day"}).context["page"].object_list
    assert [a.title for a in listed] == ["主题党日"]
    listed = client.get(reverse("activities:list"), {"date_to": "2025-02-28"}).context["page"].object_list
    assert [a.title for a in listed] == ["支委会"]


def test_committee_staff_reopen_a_closed_month_with_a_reason(tree, users, client):
    month_close(committee=tree.plant, month=DAY)
    client.force_login(users.committee)
    url = reverse("branches:months", args=[tree.plant.pk])
    response = client.post(url, {"action": "reopen", "reopen-month": "2025-03", "reopen-reason": ""})
    assert response.status_code == 200 and response.context["reopen_form"].errors
    client.post(url, {"action": "reopen", "reopen-month": "2025-03", "reopen-reason": "更正考勤记录"})
    assert "更正考勤记录" in client.get(url).content.decode()
    client.force_login(users.secretary)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("outsider", ["other_secretary", "other_committee", "nobody"])
def test_outsiders_get_404_on_every_activity_page(tree, users, activity, attachment, client, outsider):
    client.force_login(getattr(users, outsider))
    attendance = activity.attendances.first()
    urls = [
        ("get", reverse("activities:detail", args=[activity.pk])),
        ("get", reverse("activities:edit", args=[activity.pk])),
        ("post", reverse("activities:edit", args=[activity.pk])),
        ("get", reverse("activities:cancel", args=[activity.pk])),
        ("post", reverse("activities:cancel", args=[activity.pk])),
        ("post", reverse("activities:attendance", args=[activity.pk, attendance.pk])),
        ("post", reverse("activities:attachment_upload", args=[activity.pk])),
        ("get", reverse("activities:attachment", args=[attachment.pk])),
        ("get", reverse("activities:calendar", args=[tree.branch_a.pk, 2025, 3])),
        ("get", reverse("branches:months", args=[tree.plant.pk])),
        ("post", reverse("branches:months", args=[tree.plant.pk])),
    ]
    for method, url in urls:
        assert getattr(client, method)(url).status_code == 404, (method, url)
    listed = client.get(reverse("activities:list")).context["page"].object_list
    assert activity not in listed


def test_the_page_counts_and_sums_per_rule_what_the_ledger_and_the_counts_say(tree, users, client, activity, people):
    """The page counts the statuses from the grid's rows and folds the points per rule
    from the rows' own GROUP BY: the same as asking the database for each."""
    from django.db.models import Count

    from branches.activities import selectors

    client.force_login(users.secretary)
    rows = list(activity.attendances.order_by("pk"))
    services.attendance_set(attendance=rows[0], status="late", user=users.secretary)
    services.attendance_set(attendance=rows[1], status="absent", user=users.secretary)
    services.attendance_set(attendance=rows[1], status="excused", user=users.secretary)
    services.attendance_set(attendance=rows[2], status="absent", user=users.secretary)
    response = client.get(activity.get_absolute_url())
    assert response.context["counts"] == selectors.attendance_counts(activity=activity)
    expected = list(
        LedgerEntry.objects.filter(source="attendance", source_id__in=[a.pk for a in rows])
        .values("rule__code", "rule__name", "category")
        .annotate(total=Sum("points"), entries=Count("pk"))
        .order_by("rule__code", "rule__name", "category")
    )
    assert response.context["by_rule"] == expected
    assert any(row["total"] < 0 for row in expected)  # the absence's deduction is there


def test_the_page_of_150_attendees_reads_the_ledger_once(tree, users, client):
    for _ in range(150):
        f.MemberFactory(branch=tree.branch_a)
    activity = services.activity_create(branch=tree.branch_a, kind="themed_day", title="大支部", date=DAY, user=None)
    client.force_login(users.secretary)
    client.get(activity.get_absolute_url())
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(activity.get_absolute_url())
    assert response.status_code == 200 and response.content.decode().count('<tr id="att-') == 150
    sql = [q["sql"] for q in ctx.captured_queries]
    # Each row's points and the points per rule from one GROUP BY; the counts by status
    # from the rows themselves (it was 14 queries with a ledger read and a count apart).
    assert sum("ledger_ledgerentry" in s for s in sql) == 1
    assert not any("COUNT(" in s and "activities_attendance" in s for s in sql)
    assert len(sql) <= 12
