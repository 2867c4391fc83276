"""Two-factor login (TOTP, django-otp): administrators and committee staff turn it on
with a code from their app; from then on the password alone logs nobody in."""

import time
from binascii import unhexlify

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from partybuild.accounts import services

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-123"


def code(device: TOTPDevice, *, offset: int = 0) -> str:
    """The code the user's app shows now (``offset`` steps of 30 s away)."""
    return f"{totp(unhexlify(device.key), t0=device.t0, step=device.step, drift=offset):06d}"


def confirmed(user) -> TOTPDevice:
    device = services.totp_device_start(user=user)
    assert services.totp_device_confirm(device=device, token=code(device))
    device.refresh_from_db()
    device.last_t = -1  # as if the confirming code was long ago: the next code may be used
    device.save()
    return device


def logged_in_as(client):
    return client.session.get(SESSION_KEY)


# --- turning it on --------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "committee"])
def test_staff_turn_two_factor_on_by_confirming_a_code(users, client, who, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # no wait after the wrong code below
    user = getattr(users, who)
    client.force_login(user)
    url = reverse("two_factor")
    page = client.get(url)
    assert page.status_code == 200 and b'id="two-factor-off"' in page.content

    client.post(url, {"start": "1"})
    device = TOTPDevice.objects.get(user=user)
    assert not device.confirmed
    page = client.get(url)
    assert b"<svg" in page.content and services.secret_of(device).encode() in page.content

    wrong = client.post(url, {"token": "000000" if code(device) != "000000" else "111111"})
    assert wrong.status_code == 200 and b'id="totp-confirm"' in wrong.content
    device.refresh_from_db()
    assert not device.confirmed

    client.post(url, {"token": code(device)})
    device.refresh_from_db()
    assert device.confirmed
    assert b'id="two-factor-on"' in client.get(url).content


def test_an_unconfirmed_secret_does_not_ask_for_a_code_at_login(users, client):
    services.totp_device_start(user=users.committee)
    response = client.post(reverse("login"), {"username": "committee", "password": PASSWORD})
    assert response.status_code == 302 and response.url == reverse("home")
    assert logged_in_as(client) == str(users.committee.pk)


@pytest.mark.parametrize("who", ["secretary", "nobody"])
def test_others_may_not_turn_it_on(users, login, who):
    client = login(getattr(users, who))
    assert client.get(reverse("two_factor")).status_code == 403
    assert client.post(reverse("two_factor"), {"start": "1"}).status_code == 403
    assert not TOTPDevice.objects.exists()


def test_the_page_needs_a_login(client):
    response = client.get(reverse("two_factor"))
    assert response.status_code == 302 and reverse("login") in response.url


# --- logging in -----------------------------------------------------------------------


def test_with_two_factor_on_the_password_alone_does_not_log_in(users, client):
    confirmed(users.committee)
    response = client.post(reverse("login"), {"username": "committee", "password": PASSWORD})
    assert response.status_code == 302 and response.url == reverse("login_code")
    assert logged_in_as(client) is None
    assert client.get(reverse("home")).status_code == 302  # still anonymous


def test_the_right_code_logs_in_and_goes_where_the_user_was_going(users, client):
    device = confirmed(users.committee)
    target = reverse("ledger:ruleset_list")
    client.post(reverse("login"), {"username": "committee", "password": PASSWORD, "next": target})
    response = client.post(reverse("login_code"), {"token": code(device)})
    assert response.status_code == 302 and response.url == target
    assert logged_in_as(client) == str(users.committee.pk)
    assert client.get(reverse("home")).status_code == 200


def test_a_wrong_code_does_not_log_in_and_five_send_back_to_the_password(users, client, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # the device's own growing delay is tested by django-otp
    device = confirmed(users.committee)
    right = code(device)
    wrong = "000000" if right != "000000" else "111111"
    client.post(reverse("login"), {"username": "committee", "password": PASSWORD})
    for _ in range(4):
        response = client.post(reverse("login_code"), {"token": wrong})
        assert response.status_code == 200 and logged_in_as(client) is None
    response = client.post(reverse("login_code"), {"token": wrong})
    assert response.status_code == 302 and response.url == reverse("login")
    # The pending login is gone: even the right code no longer works without the password.
    response = client.post(reverse("login_code"), {"token": right})
    assert response.status_code == 302 and response.url == reverse("login")
    assert logged_in_as(client) is None


def test_a_code_cannot_be_used_twice(users, client):
    device = confirmed(users.committee)
    client.post(reverse("login"), {"username": "committee", "password": PASSWORD})
    token = code(device)
    client.post(reverse("login_code"), {"token": token})
    client.logout()
    client.post(reverse("login"), {"username": "committee", "password": PASSWORD})
    response = client.post(reverse("login_code"), {"token": token})
    assert logged_in_as(client) is None and response.status_code == 200


def test_the_code_step_expires(users, client, settings):
    device = confirmed(users.committee)
    client.post(reverse("login"), {"username": "committee", "password": PASSWORD})
    session = client.session
    session["partybuild_2fa_pending"]["at"] = int(time.time()) - 301
    session.save()
    response = client.post(reverse("login_code"), {"token": code(device)})
    assert response.status_code == 302 and response.url == reverse("login")
    assert logged_in_as(client) is None


def test_the_code_page_without_a_password_first_goes_back_to_the_login(client):
    response = client.get(reverse("login_code"))
    assert response.status_code == 302 and response.url == reverse("login")


def test_an_administrator_turning_the_device_off_lets_the_password_log_in_again(users, client):
    device = confirmed(users.committee)
    device.confirmed = False  # what the admin's TOTP devices page does (or deleting it)
    device.save()
    response = client.post(reverse("login"), {"username": "committee", "password": PASSWORD})
    assert response.status_code == 302 and response.url == reverse("home")


def test_the_admin_login_is_the_same_login_with_its_code(users, client):
    confirmed(users.admin)
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302 and response.url == reverse("login") + "?next=/admin/"
