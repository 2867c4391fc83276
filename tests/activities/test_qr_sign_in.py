"""QR sign-in (扫码签到): the activity page's code is a signed, expiring token of that
activity; a member who scans it while logged in marks themselves present through the
attendance service (points through the ledger, closed months refused); the secretary's
grid shows the sign-in and can override it."""

import datetime
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from branches.activities import qr
from branches.activities import services as activities
from branches.activities.models import Attendance, QrSignIn
from branches.services import month_close
from members.ledger.models import LedgerEntry, Source

from .. import factories as f
from ..me.factories import member_login

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture
def activity(tree, member_a):
    return activities.activity_create(
        branch=tree.branch_a, kind="themed_day", title="主题党日：重温入党誓词", date=TODAY, user=None
    )


@pytest.fixture
def absent(activity, member_a):
    attendance = Attendance.objects.get(activity=activity, member=member_a)
    return activities.attendance_set(attendance=attendance, status="absent", user=None)


@pytest.fixture
def member_client(member_a, client):
    user, _ = member_login(member_a)
    client.force_login(user)
    return client


def checkin_url(activity, token=None):
    return reverse("activities:qr_checkin", args=[activity.pk, token or qr.qr_token(activity)])


def test_a_token_is_good_for_its_activity_today(activity):
    qr.qr_token_check(token=qr.qr_token(activity), activity=activity, today=TODAY)


def test_a_token_cannot_be_replayed_for_another_activity(activity, tree):
    other = activities.activity_create(branch=tree.branch_a, kind="party_lecture", title="党课", date=TODAY, user=None)
    with pytest.raises(ValidationError, match="另一项活动"):
        qr.qr_token_check(token=qr.qr_token(activity), activity=other, today=TODAY)


def test_a_token_expires(activity):
    token = qr.qr_token(activity)
    later = timezone.now() + qr.MAX_AGE + datetime.timedelta(seconds=1)
    with mock.patch("django.core.signing.time.time", return_value=later.timestamp()):
        with pytest.raises(ValidationError, match="已过期"):
            qr.qr_token_check(token=token, activity=activity, today=TODAY)


def test_a_forged_or_altered_token_is_refused(activity):
    token = qr.qr_token(activity)
    forged = f"{activity.pk + 1}:{token.split(':', 1)[1]}"
    for bad in (forged, token + "x", "abc", ""):
        with pytest.raises(ValidationError):
            qr.qr_token_check(token=bad, activity=activity, today=TODAY)


def test_signing_in_is_open_on_the_day_only(activity):
    with pytest.raises(ValidationError, match="活动当天"):
        qr.qr_token_check(token=qr.qr_token(activity), activity=activity, today=TODAY + datetime.timedelta(days=1))


def test_a_member_scans_and_is_present_with_points_once(member_client, activity, absent, member_a):
    page = member_client.get(checkin_url(activity))
    assert page.status_code == 200 and "主题党日" in page.content.decode()
    attendance = Attendance.objects.get(pk=absent.pk)
    assert attendance.status == "absent"  # GET (a link preview) changes nothing
    done = member_client.post(checkin_url(activity))
    assert done.status_code == 200 and done.context["done"]
    attendance.refresh_from_db()
    assert attendance.status == "present"
    assert QrSignIn.objects.get(attendance=attendance).user == member_a.user
    net = sum(e.points for e in LedgerEntry.objects.filter(source=Source.ATTENDANCE, source_id=attendance.pk))
    # A second scan posts nothing more.
    member_client.post(checkin_url(activity))
    assert QrSignIn.objects.count() == 1
    assert net == sum(e.points for e in LedgerEntry.objects.filter(source=Source.ATTENDANCE, source_id=attendance.pk))


def test_replaying_a_code_on_another_activity_url_is_refused(member_client, activity, tree, member_a):
    other = activities.activity_create(branch=tree.branch_a, kind="party_lecture", title="党课", date=TODAY, user=None)
    attendance = Attendance.objects.get(activity=other, member=member_a)
    activities.attendance_set(attendance=attendance, status="absent", user=None)
    response = member_client.post(checkin_url(other, qr.qr_token(activity)))
    assert response.status_code == 400
    attendance.refresh_from_db()
    assert attendance.status == "absent" and not QrSignIn.objects.exists()


def test_a_member_not_expected_is_refused(client, activity, tree):
    outsider = f.MemberFactory(branch=tree.branch_x)
    user, _ = member_login(outsider)
    client.force_login(user)
    response = client.post(checkin_url(activity))
    assert response.status_code == 400 and "应到名单" in response.context["error"]


def test_a_staff_login_cannot_sign_in_by_code(login, users, activity):
    response = login(users.secretary).post(checkin_url(activity))
    assert response.status_code == 400 and not QrSignIn.objects.exists()


def test_a_closed_month_refuses_the_sign_in_naming_the_month(member_client, activity, absent, tree, users):
    month_close(committee=tree.plant, month=TODAY.replace(day=1), user=users.committee)
    response = member_client.post(checkin_url(activity))
    assert response.status_code == 400
    absent.refresh_from_db()
    assert absent.status == "absent" and not QrSignIn.objects.exists()


def test_anonymous_scanners_are_sent_to_log_in(client, activity):
    response = client.get(checkin_url(activity))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_the_secretary_sees_the_code_and_the_sign_in_in_the_grid(login, users, activity, member_client, absent):
    member_client.post(checkin_url(activity))
    client = login(users.secretary)
    page = client.get(reverse("activities:detail", args=[activity.pk])).content.decode()
    assert reverse("activities:qr", args=[activity.pk]) in page and 'hx-trigger="every 10s"' in page
    svg = client.get(reverse("activities:qr", args=[activity.pk]))
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content
    rows = client.get(reverse("activities:attendance_rows", args=[activity.pk])).content.decode()
    assert "qr-signed" in rows
    # The secretary overrides: the member was in fact late.
    client.post(
        reverse("activities:attendance", args=[activity.pk, absent.pk]), {"status": "late"}, HTTP_HX_REQUEST="true"
    )
    absent.refresh_from_db()
    assert absent.status == "late"


def test_no_code_on_another_day_or_for_an_outsider(login, users, tree):
    past = activities.activity_create(
        branch=tree.branch_a, kind="party_lecture", title="党课", date=TODAY - datetime.timedelta(days=1), user=None
    )
    client = login(users.secretary)
    assert reverse("activities:qr", args=[past.pk]) not in client.get(past.get_absolute_url()).content.decode()
    assert client.get(reverse("activities:qr", args=[past.pk])).status_code == 404
    assert login(users.other_secretary).get(reverse("activities:qr", args=[past.pk])).status_code == 404
    assert login(users.other_secretary).get(reverse("activities:attendance_rows", args=[past.pk])).status_code == 404


def test_the_secretarys_workbench_counts_todays_sign_ins(users, activity, member_client, absent, tree):
    from django.test import Client

    secretary = Client()  # the member keeps the ``client`` fixture's session
    secretary.force_login(users.secretary)
    panel_url = reverse("activities:today_sign_ins", args=[tree.branch_a.pk])

    def counts():
        page = secretary.get(panel_url)
        assert page.status_code == 200
        [row] = page.context["today_activities"]
        return row.signed, row.attended, row.expected

    home = secretary.get("/").content.decode()
    assert f'data-today-activity="{activity.pk}"' in home and f'hx-get="{panel_url}"' in home
    before = counts()
    assert before[0] == 0
    member_client.post(checkin_url(activity))
    assert counts() == (1, before[1] + 1, before[2])


def test_todays_sign_ins_are_the_branchs_writers_only(login, users, activity, member_client, tree):
    url = reverse("activities:today_sign_ins", args=[tree.branch_a.pk])
    for outsider in (users.other_secretary, users.other_committee, users.nobody):
        assert login(outsider).get(url).status_code == 404
    assert member_client.get(url).status_code == 404
    # A party group is no branch: nothing to show there.
    assert login(users.secretary).get(reverse("activities:today_sign_ins", args=[tree.group_a1.pk])).status_code == 404
