"""Two draws of the same month at once (PostgreSQL, two connections): beat firing twice,
or the scheduled draw and a click. Without the setup's lock both read "not drawn" and
the second dies on the one-standing-draw constraint; with it the second waits, then
returns the first's draw."""

import datetime
import threading

import pytest
from django.db import IntegrityError, connection

from branches.reportback import selectors, services
from branches.reportback.models import Draw, Setup

from .. import factories as f
from ..concurrency import meet_after
from ..conftest import requires_postgres
from .helpers import set_up

JAN = datetime.date(2026, 1, 1)


def prepare() -> int:
    committee = f.committee(code="RACE")
    units = [f.branch(committee, code=f"RACE{i}") for i in range(6)]
    return set_up(committee, [("生产单位", 2, units)], months=3).pk


def race(setup_id: int, monkeypatch) -> list[object]:
    meet_after(monkeypatch, selectors, "standing_draw")
    results: list[object] = []

    def draw():
        try:
            results.append(services.draw_month(setup=Setup.objects.get(pk=setup_id), month=JAN, user=None))
        except IntegrityError as exc:
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=draw) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.django_db(transaction=True)
def test_without_the_lock_two_simultaneous_draws_end_in_a_database_error(monkeypatch):
    requires_postgres()
    setup_id = prepare()
    monkeypatch.setattr(services, "lock_setup", lambda setup: Setup.objects.get(pk=setup.pk))

    results = race(setup_id, monkeypatch)

    assert sorted(type(r).__name__ for r in results) == ["Draw", "IntegrityError"], results
    assert Draw.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_with_the_lock_the_second_draw_waits_and_returns_the_first(monkeypatch):
    requires_postgres()
    setup_id = prepare()

    results = race(setup_id, monkeypatch)

    assert [type(r).__name__ for r in results] == ["Draw", "Draw"], results
    assert results[0].pk == results[1].pk == Draw.objects.get().pk
