"""Sessions end after SESSION_IDLE_TIMEOUT without a request; each user changes their
own password (one view, Django's PasswordChangeView, for staff and members alike)."""

import datetime

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-123"
START = datetime.datetime(2026, 3, 2, 1, 0, tzinfo=datetime.UTC)


def login(client, username):
    response = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302


def test_the_default_idle_timeout_is_eight_hours(settings):
    assert settings.SESSION_IDLE_TIMEOUT == 8 * 3600 == settings.SESSION_COOKIE_AGE


def test_a_session_in_use_stays_and_an_idle_one_ends(users, client, settings):
    with time_machine.travel(START, tick=False) as traveller:
        login(client, "secretary")
        assert client.get(reverse("home")).status_code == 200
        # Used every two hours for a working day: still logged in.
        for _ in range(5):
            traveller.shift(datetime.timedelta(hours=2))
            assert client.get(reverse("home")).status_code == 200
        # Then left alone longer than the timeout: the next request is anonymous.
        traveller.shift(datetime.timedelta(hours=8, minutes=2))
        response = client.get(reverse("home"))
        assert response.status_code == 302 and reverse("login") in response.url
        assert SESSION_KEY not in client.session


def test_the_idle_timeout_is_configurable(users, client, settings):
    settings.SESSION_IDLE_TIMEOUT = settings.SESSION_COOKIE_AGE = 30 * 60
    with time_machine.travel(START, tick=False) as traveller:
        login(client, "secretary")
        assert client.get(reverse("home")).status_code == 200
        traveller.shift(datetime.timedelta(minutes=29))
        assert client.get(reverse("home")).status_code == 200
        traveller.shift(datetime.timedelta(minutes=31))
        assert client.get(reverse("home")).status_code == 302


def test_reading_pages_does_not_write_the_session_on_every_request(users, client):
    with time_machine.travel(START, tick=False) as traveller:
        login(client, "secretary")
        client.get(reverse("home"))
        traveller.shift(datetime.timedelta(seconds=10))
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("ledger:ruleset_list"))
        assert not [q for q in queries if "django_session" in q["sql"] and q["sql"].startswith("UPDATE")]


# --- password change --------------------------------------------------------------------


def test_staff_change_their_own_password_from_the_user_menu(users, client):
    login(client, "committee")
    home = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("me:password")}"' in home
    response = client.post(
        reverse("me:password"),
        {"old_password": PASSWORD, "new_password1": "a-new-long-phrase-42", "new_password2": "a-new-long-phrase-42"},
    )
    assert response.status_code == 302 and response.url == reverse("home")
    assert client.get(reverse("home")).status_code == 200  # this session stays logged in
    users.committee.refresh_from_db()
    assert users.committee.check_password("a-new-long-phrase-42")
    client.logout()
    assert client.post(reverse("login"), {"username": "committee", "password": PASSWORD}).status_code == 200
    login_response = client.post(reverse("login"), {"username": "committee", "password": "a-new-long-phrase-42"})
    assert login_response.status_code == 302


def test_a_wrong_old_password_changes_nothing(users, client):
    login(client, "secretary")
    response = client.post(
        reverse("me:password"),
        {"old_password": "wrong", "new_password1": "a-new-long-phrase-42", "new_password2": "a-new-long-phrase-42"},
    )
    assert response.status_code == 200
    users.secretary.refresh_from_db()
    assert users.secretary.check_password(PASSWORD)


def test_two_factor_is_in_the_menu_of_staff_only(users, login):
    assert 'id="menu-two-factor"' in login(users.committee).get(reverse("home")).content.decode()
    assert 'id="menu-two-factor"' not in login(users.secretary).get(reverse("home")).content.decode()
