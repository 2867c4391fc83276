"""Login throttling: per user name and address, per address across user names, the
client's address from a trusted proxy header only, and a lock-out page in words."""

import datetime
import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.test import RequestFactory
from django.urls import reverse

from partybuild.templatetags.durations import duration
from partybuild.throttle import client_ip

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-123"
ATTACKER = "203.0.113.7"
ELSEWHERE = "198.51.100.20"


def attempt(client, username, password="wrong", *, address=ATTACKER, **headers):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address, headers=headers
    )


# --- per user name and address ---------------------------------------------------------------


def test_five_failures_lock_that_user_from_that_address(users, client, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    statuses = [attempt(client, "secretary").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    assert attempt(client, "secretary", PASSWORD).status_code == 429
    # The same user from another address, and another user from this one, still get in.
    assert attempt(client, "secretary", PASSWORD, address=ELSEWHERE).status_code == 302
    client.logout()
    assert attempt(client, "committee", PASSWORD).status_code == 302


# --- per address, whatever the user names -----------------------------------------------------


def test_failures_across_twenty_user_names_lock_the_address(users, client, settings):
    assert settings.AXES_IP_FAILURE_LIMIT == 20
    statuses = [attempt(client, f"guess{n}").status_code for n in range(20)]
    # No name failed five times, but the address reached its own limit on the 20th.
    assert statuses == [200] * 19 + [429]
    assert attempt(client, "secretary", PASSWORD).status_code == 429
    assert attempt(client, "someone-new").status_code == 429
    # Another address is not affected.
    assert attempt(client, "secretary", PASSWORD, address=ELSEWHERE).status_code == 302


def test_nineteen_failures_from_one_address_do_not_lock_it(users, client):
    for n in range(19):
        attempt(client, f"guess{n}")
    assert attempt(client, "secretary", PASSWORD).status_code == 302


def test_a_successful_login_does_not_clear_the_address_count(users, client):
    for n in range(19):
        attempt(client, f"guess{n}")
    # An attacker with one valid account logs in between guesses: the address's
    # failures stay, so the next guess locks it.
    assert attempt(client, "secretary", PASSWORD).status_code == 302
    client.logout()
    assert attempt(client, "guess-more").status_code == 429


def test_the_address_limit_is_configurable(users, client, settings):
    settings.AXES_IP_FAILURE_LIMIT = 3
    assert [attempt(client, f"guess{n}").status_code for n in range(3)] == [200, 200, 429]


# --- the client's address -----------------------------------------------------------------------


def test_a_spoofed_forwarded_for_is_ignored_without_a_configured_header(users, client, settings):
    assert settings.CLIENT_IP_HEADER == ""
    # Each attempt claims another address; all come from the same connection.
    statuses = [attempt(client, "secretary", X_FORWARDED_FOR=f"10.9.8.{n}").status_code for n in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    assert attempt(client, "secretary", PASSWORD, X_FORWARDED_FOR="10.0.0.99").status_code == 429


def test_behind_a_proxy_the_right_most_forwarded_address_is_the_client(users, client, settings):
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    # Through the proxy: whatever the client puts left of its real address is ignored.
    statuses = [
        attempt(client, "secretary", address=proxy, X_FORWARDED_FOR=f"1.2.3.{n}, {ATTACKER}").status_code
        for n in range(5)
    ]
    assert statuses == [200, 200, 200, 200, 429]
    assert attempt(client, "secretary", PASSWORD, address=proxy, X_FORWARDED_FOR=ATTACKER).status_code == 429
    # Another client behind the same proxy is a different address.
    assert attempt(client, "secretary", PASSWORD, address=proxy, X_FORWARDED_FOR=ELSEWHERE).status_code == 302


def request_from(remote="10.0.0.2", **headers):
    return RequestFactory().get("/", REMOTE_ADDR=remote, headers=headers)


def test_client_ip_is_the_connection_without_a_header(settings):
    settings.CLIENT_IP_HEADER = ""
    assert client_ip(request_from(X_FORWARDED_FOR="1.1.1.1")) == "10.0.0.2"
    assert client_ip(request_from(X_REAL_IP="1.1.1.1")) == "10.0.0.2"


def test_client_ip_counts_trusted_proxies_from_the_right(settings):
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request_from(X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")) == "203.0.113.7"
    # Two proxies: the inner one appended the outer one's address.
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request_from(X_FORWARDED_FOR="6.6.6.6, 203.0.113.7, 10.0.0.1")) == "203.0.113.7"
    # Fewer entries than proxies: the left-most, added by a trusted proxy.
    assert client_ip(request_from(X_FORWARDED_FOR="203.0.113.7")) == "203.0.113.7"
    # Not through the proxy, or garbage in the header: the connection's address.
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request_from()) == "10.0.0.2"
    assert client_ip(request_from(X_FORWARDED_FOR="6.6.6.6, not-an-address")) == "10.0.0.2"


def test_client_ip_reads_a_single_valued_header(settings):
    settings.CLIENT_IP_HEADER = "X-Real-IP"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request_from(X_REAL_IP="2001:db8::1", X_FORWARDED_FOR="6.6.6.6")) == "2001:db8::1"


def settings_error(**environ) -> str:
    """What importing the settings with these variables says (empty when it succeeds)."""
    env = {**os.environ, "DATABASE_URL": "", **environ}
    result = subprocess.run(
        [sys.executable, "-c", "import partybuild.settings"],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.stderr


def test_a_wrong_proxy_configuration_stops_the_settings_loudly():
    assert settings_error(PARTYBUILD_CLIENT_IP_HEADER="X-Forwarded-For") == ""
    assert "is not a header name" in settings_error(PARTYBUILD_CLIENT_IP_HEADER="X-Forwarded-For: 1.2.3.4")
    assert "PARTYBUILD_TRUSTED_PROXIES must be at least 1" in settings_error(
        PARTYBUILD_CLIENT_IP_HEADER="X-Real-IP", PARTYBUILD_TRUSTED_PROXIES="0"
    )
    assert "AXES_IP_FAILURE_LIMIT must be at least 1" in settings_error(AXES_IP_FAILURE_LIMIT="0")


# --- the lock-out page ------------------------------------------------------------------------------


def locked_page(client) -> str:
    for _ in range(5):
        response = attempt(client, "secretary")
    assert response.status_code == 429
    return response.content.decode().replace("\xa0", " ")


def test_the_lock_out_page_says_how_long_in_words(users, client):
    page = locked_page(client)
    assert "15 分钟" in page
    assert "PT15M" not in page


def test_the_lock_out_page_speaks_english_when_chosen(users, client):
    client.cookies["django_language"] = "en"
    page = locked_page(client)
    assert "Try again in 15 minutes" in page


def test_the_lock_out_page_says_hours(users, client, settings):
    settings.AXES_COOLOFF_TIME = 1
    assert "1 小时" in locked_page(client)


def test_durations_read_as_words():
    assert duration(datetime.timedelta(minutes=90)).replace("\xa0", " ") == "1 小时，30 分钟"
    assert duration(None) == ""
