"""Drill: PostgreSQL restarted under traffic.

The app runs under gunicorn (four threads, persistent connections: ``CONN_MAX_AGE`` 60)
against a private PostgreSQL cluster holding a copy of the test database. Four clients
read pages without pause while the cluster is stopped (``-m fast``: the sessions of
requests in flight are terminated), kept down two seconds and started again. Every
answer must be a page or the clean 503 page in Chinese (never a 500 nor a dropped
connection), and once the database is back every request succeeds again without a
restart of the app (``CONN_HEALTH_CHECKS``).
"""

import itertools
import threading
import time

import pytest
import requests
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import InterfaceError, OperationalError
from django.urls import reverse

from branches.models import RoleBinding

from .. import factories as f
from .servers import Gunicorn, PrivatePostgres, app_env, require_postgres, wait_until
from .test_redis_down import PASSWORD, log_in

CHINESE_503 = "系统暂时不可用"
CLIENTS = 4


@pytest.mark.django_db(transaction=True)
def test_postgres_restarted_under_traffic_gives_clean_503s_then_the_app_reconnects_by_itself():
    require_postgres()
    committee = f.committee(code="RESTART")
    branch = f.branch(committee)
    for _ in range(5):
        f.MemberFactory(branch=branch)
    user = f.user_with_role(RoleBinding.Role.COMMITTEE_STAFF, committee, username="staff")
    user.password = PBKDF2PasswordHasher().encode(PASSWORD, "drillsalt", iterations=1000)
    user.save(update_fields=["password"])
    pg = PrivatePostgres()
    web = None
    try:
        phases = {"start": time.monotonic()}
        pg.start()
        phases["cluster"] = time.monotonic()
        pg.copy_of_test_database("drill")
        phases["copy"] = time.monotonic()
        web = Gunicorn(app_env(DATABASE_URL=pg.url("drill"), REDIS_URL="", DATABASE_CONN_MAX_AGE="60"), threads=CLIENTS)
        phases["gunicorn"] = time.monotonic()
        cookies = log_in(web, "staff").cookies.get_dict()
        pages = [web.base + "/", web.base + reverse("branches:unit_detail", args=[branch.pk])]
        answers: list[tuple[float, float, int, str]] = []  # (sent, received, status, body)
        stop = threading.Event()

        def client(n: int) -> None:
            session = web.session(cookies)
            i = n
            while not stop.is_set():
                sent = time.monotonic()
                try:
                    response = session.get(pages[i % len(pages)], timeout=30, allow_redirects=False)
                    answers.append((sent, time.monotonic(), response.status_code, response.text))
                except requests.RequestException as exc:  # a dropped connection: the drill fails
                    answers.append((sent, time.monotonic(), 0, repr(exc)))
                i += 1

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        try:
            # Traffic flows (every client has had pages) before the database goes.
            wait_until(lambda: sum(a[2] == 200 for a in answers) >= 2 * CLIENTS, timeout=60, what="traffic before")
            stopping = time.monotonic()
            pg.stop()
            time.sleep(2)
            pg.start()
            back = time.monotonic()
            # Back by itself: the next requests succeed, on the same gunicorn process.
            wait_until(lambda: len([a for a in answers if a[0] > back]) >= 20, timeout=30, what="traffic after")
        finally:
            stop.set()
            for thread in threads:
                thread.join(30)
        assert web.process.poll() is None
    except BaseException:
        if web is not None:
            print(web.output()[-6000:])
        raise
    finally:
        if web is not None:
            web.stop()
        pg.destroy()

    statuses = {status for *_, status, _ in answers}
    failures = [(status, body[:300]) for *_, status, body in answers if status not in (200, 503)]
    assert not failures, failures
    unavailable = [body for *_, status, body in answers if status == 503]
    assert unavailable, "no request met the restart"
    assert all(CHINESE_503 in body for body in unavailable)
    before = [status for _, received, status, _ in answers if received < stopping]
    after = [status for sent, _, status, _ in answers if sent > back]
    assert before and set(before) == {200}
    assert set(after) == {200}, after
    in_flight = [a for a in answers if a[0] < stopping < a[1] and a[2] == 503]
    print(
        f"\nPostgreSQL restart: {len(answers)} requests, statuses {sorted(statuses)}, "
        f"{len(unavailable)} × 503 ({len(in_flight)} in flight when it stopped), "
        f"down {back - stopping:.2f} s, {len(after)} requests after it came back all 200; setup "
        + ", ".join(f"{b} {phases[b] - phases[a]:.1f} s" for a, b in itertools.pairwise(phases))
    )


# --- the same behaviour, in process --------------------------------------------------------------


@pytest.fixture
def quiet_client(client):
    client.raise_request_exception = False
    return client


def test_a_view_that_loses_the_database_answers_a_clean_503_in_chinese(tree, users, quiet_client, monkeypatch):
    def lost(**kwargs):
        raise InterfaceError("connection already closed")

    monkeypatch.setattr("branches.grading.views.runs.committee_runs", lost)
    quiet_client.force_login(users.committee)
    response = quiet_client.get(reverse("grading:runs", args=[tree.plant.pk]))
    assert response.status_code == 503 and response["Retry-After"] == "10"
    assert CHINESE_503 in response.content.decode()
    assert response["Content-Security-Policy"]  # the outer middleware still applies


def test_a_session_lookup_that_loses_the_database_answers_503_too(tree, users, quiet_client, monkeypatch):
    from django.contrib.sessions.backends.db import SessionStore

    quiet_client.force_login(users.committee)

    def refused(self):
        raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')

    monkeypatch.setattr(SessionStore, "_get_session_from_db", refused)
    response = quiet_client.get(reverse("grading:runs", args=[tree.plant.pk]))
    assert response.status_code == 503 and CHINESE_503 in response.content.decode()


def test_other_errors_stay_server_errors(tree, users, quiet_client, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("branches.grading.views.runs.committee_runs", broken)
    quiet_client.force_login(users.committee)
    assert quiet_client.get(reverse("grading:runs", args=[tree.plant.pk])).status_code == 500
