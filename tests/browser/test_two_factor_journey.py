"""A committee staff member turns on two-factor login from the user menu: scans (here:
reads) the secret, confirms with a code from the app, logs out, and logs in again with
password and code. The password alone then leads only to the code step."""

from base64 import b32decode

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def app_code(secret: str, *, step_ahead: int = 0) -> str:
    """What an authenticator app shows for the secret typed in (``step_ahead`` × 30 s later)."""
    return f"{totp(b32decode(secret.replace(' ', '')), drift=step_ahead):06d}"


def test_committee_staff_turn_on_two_factor_and_log_in_with_a_code(users, page, live_server, log_in):
    log_in("committee")
    page.click("#user-menu")
    page.click("#menu-two-factor")
    page.wait_for_selector("#two-factor-off")
    page.click("button[name=start]")
    assert page.locator("#totp-qr svg").is_visible()
    secret = page.locator("#totp-secret").inner_text()
    page.fill("input[name=token]", app_code(secret))
    page.click("#totp-confirm button[type=submit]")
    page.wait_for_selector("#two-factor-on")
    assert TOTPDevice.objects.get(user=users.committee).confirmed

    page.click("#user-menu")
    page.click("nav form[action='/accounts/logout/'] button")
    page.wait_for_url(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "committee")
    page.fill("input[name=password]", "pw-for-tests-123")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/accounts/login/code/")
    # Not logged in yet: any page sends back to the login.
    page.goto(f"{live_server.url}/")
    page.wait_for_url(f"{live_server.url}/accounts/login/?next=/")
    page.goto(f"{live_server.url}/accounts/login/code/")
    # The confirming code was used; the app's next one is accepted (one step of drift).
    page.fill("input[name=token]", app_code(secret, step_ahead=1))
    page.click("#login-code button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.click("#user-menu")
    assert page.locator("#menu-two-factor").is_visible()
