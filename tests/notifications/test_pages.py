"""The bell, the list, marking read and the e-mail choices: a user's reminders are theirs
alone (anyone else gets a 404, as for one that does not exist)."""

import pytest
from django.urls import reverse

from branches.notifications.models import Kind, Notification, NotificationPreference

pytestmark = pytest.mark.django_db


def remind(user, n: int = 1, *, kind=Kind.CONVERSION_DUE, read=False):
    from django.utils import timezone

    return [
        Notification.objects.create(
            user=user,
            kind=kind,
            subject=f"member:{i}",
            period="2025-05-10",
            title=f"提醒{i}号",
            body="请召开支部大会讨论其转正。",
            url="/members/",
            read_at=timezone.now() if read else None,
        )
        for i in range(n)
    ]


def test_the_bell_shows_the_unread_count_on_every_page(users, login):
    remind(users.secretary, 3)
    remind(users.secretary, 1, kind=Kind.TERM_EXPIRING, read=True)
    html = login(users.secretary).get(reverse("home")).content.decode()
    assert "pb-bell" in html
    assert '<span class="badge text-bg-warning pb-bell-count">3</span>' in html


def test_the_bell_without_unread_shows_no_count(users, login):
    html = login(users.nobody).get(reverse("home")).content.decode()
    assert "pb-bell" in html and "pb-bell-count" not in html


def test_the_bell_costs_one_query_however_many_reminders(users, login, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(users.secretary)
    client.get(reverse("home"))
    with CaptureQueriesContext(connection) as none:
        client.get(reverse("home"))
    remind(users.secretary, 40)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("home"))
    assert len(many) == len(none)
    bell = [q["sql"] for q in many.captured_queries if "notifications_notification" in q["sql"]]
    assert len(bell) == 1 and "COUNT" in bell[0].upper()


def test_the_list_shows_only_ones_own_reminders_unread_first(users, login, django_assert_max_num_queries):
    remind(users.secretary, 30)
    [theirs] = remind(users.other_secretary, 1)
    theirs.title = "别人的"
    theirs.save()
    client = login(users.secretary)
    with django_assert_max_num_queries(12):
        html = client.get(reverse("notifications:list")).content.decode()
    assert html.count("提醒") >= 30 and "别人的" not in html
    assert "pb-unread" in html


def test_marking_one_read(users, login):
    [mine] = remind(users.secretary)
    response = login(users.secretary).post(reverse("notifications:read", args=[mine.pk]))
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.read_at is not None


def test_opening_a_reminder_marks_it_read_and_goes_to_its_page(users, login):
    [mine] = remind(users.secretary)
    response = login(users.secretary).post(reverse("notifications:read", args=[mine.pk]), {"open": "1"})
    assert response.status_code == 302 and response["Location"] == "/members/"


@pytest.mark.parametrize("outsider", ["other_secretary", "committee", "admin", "nobody"])
def test_nobody_else_can_mark_or_open_ones_reminder(users, login, outsider):
    [mine] = remind(users.secretary)
    client = login(getattr(users, outsider))
    assert client.post(reverse("notifications:read", args=[mine.pk])).status_code == 404
    assert client.post(reverse("notifications:read", args=[mine.pk]), {"open": "1"}).status_code == 404
    client.post(reverse("notifications:read_all"))
    mine.refresh_from_db()
    assert mine.read_at is None
    assert "提醒0号" not in client.get(reverse("notifications:list")).content.decode()


def test_marking_read_needs_a_post(users, login):
    [mine] = remind(users.secretary)
    assert login(users.secretary).get(reverse("notifications:read", args=[mine.pk])).status_code == 405


def test_mark_all_read(users, login):
    remind(users.secretary, 5)
    [theirs] = remind(users.other_secretary)
    login(users.secretary).post(reverse("notifications:read_all"))
    assert not Notification.objects.filter(user=users.secretary, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_anonymous_users_are_sent_to_log_in(client, users):
    [mine] = remind(users.secretary)
    for url in (reverse("notifications:list"), reverse("notifications:preferences")):
        assert client.get(url).status_code == 302
    assert client.post(reverse("notifications:read", args=[mine.pk])).status_code == 302
    mine.refresh_from_db()
    assert mine.read_at is None


def test_opting_out_of_a_kind_by_email(users, login):
    client = login(users.secretary)
    page = client.get(reverse("notifications:preferences")).content.decode()
    assert 'value="conversion_due"' in page and "checked" in page
    keep = [k for k in Kind.values if k != Kind.TERM_EXPIRING]
    response = client.post(reverse("notifications:preferences"), {"emailed": keep})
    assert response.status_code == 302
    assert list(
        NotificationPreference.objects.filter(user=users.secretary, email=False).values_list("kind", flat=True)
    ) == [Kind.TERM_EXPIRING]
    client.post(reverse("notifications:preferences"), {"emailed": Kind.values})
    assert not NotificationPreference.objects.filter(user=users.secretary, email=False).exists()
