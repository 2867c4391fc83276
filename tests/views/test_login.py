"""Logging in, out, and the throttle on repeated failures."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_user_logs_in_and_lands_on_their_home_page(users, client):
    response = client.post(reverse("login"), {"username": "secretary", "password": "pw-for-tests-123"})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert client.get(reverse("home")).context["user"].username == "secretary"


def test_logins_are_refused_after_repeated_failures_even_with_the_right_password(users, client, settings):
    statuses = [
        client.post(reverse("login"), {"username": "secretary", "password": "wrong"}).status_code
        for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    # The failure that reaches the limit is itself answered with the lock-out page.
    assert statuses == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]
    locked = client.post(reverse("login"), {"username": "secretary", "password": "pw-for-tests-123"})
    assert locked.status_code == 429
    assert "登录失败次数过多" in locked.content.decode()
    assert not client.get(reverse("home")).wsgi_request.user.is_authenticated


def test_failures_for_one_user_do_not_lock_out_another(users, client, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "secretary", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "committee", "password": "pw-for-tests-123"})
    assert response.status_code == 302


def test_logging_out_ends_the_session(users, client):
    client.force_login(users.secretary)
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302


def test_english_can_be_chosen(users, client):
    client.force_login(users.secretary)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "Home" in client.get(reverse("home")).content.decode()


def test_chinese_is_the_default_even_for_an_english_browser(users, client):
    client.force_login(users.secretary)
    page = client.get(reverse("home"), headers={"accept-language": "en-US,en;q=0.9"}).content.decode()
    assert "我的支部" in page
