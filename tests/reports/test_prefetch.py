"""Reading ahead on a thread (reports.prefetch) and the workbook written that way."""

import threading

import pytest
from django.db import connection, transaction
from django.utils import translation

from branches.reports import prefetch
from branches.reports.prefetch import Ahead, Later
from members.models import Member


def test_inside_a_transaction_everything_runs_in_the_callers_thread(db):
    here = threading.get_ident()
    with transaction.atomic():
        assert Later(threading.get_ident).get() == here
        assert list(Ahead(lambda: [threading.get_ident()])) == [here]


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_reads_run_on_another_thread_in_the_callers_language():
    assert not connection.in_atomic_block
    here = threading.get_ident()
    with translation.override("en"):
        later = Later(lambda: (threading.get_ident(), translation.get_language(), Member.objects.count()))
        ahead = Ahead(lambda: [(threading.get_ident(), translation.get_language())])
        with ahead:
            assert list(ahead)[0][0] != here
    ident, language, count = later.get()
    assert ident != here and language == "en" and count == 0


@pytest.mark.django_db(transaction=True)
def test_rows_come_in_order_across_chunks(monkeypatch):
    monkeypatch.setattr(prefetch, "CHUNK", 7)
    with Ahead(lambda: iter(range(100))) as rows:
        assert list(rows) == list(range(100))


@pytest.mark.django_db(transaction=True)
def test_a_readers_failure_is_raised_where_the_rows_are_consumed():
    def broken():
        yield 1
        raise RuntimeError("database gone")

    with Ahead(broken) as rows, pytest.raises(RuntimeError, match="database gone"):
        list(rows)
    with pytest.raises(RuntimeError, match="no value"):
        Later(lambda: (_ for _ in ()).throw(RuntimeError("no value"))).get()


@pytest.mark.django_db(transaction=True)
def test_a_writer_that_stops_stops_the_reader(monkeypatch):
    """A consumer that fails after a few rows: closing returns, the reader thread has
    ended (it does not wait forever on a full queue) and read no further than its
    queue allows."""
    monkeypatch.setattr(prefetch, "CHUNK", 10)
    produced = []

    def endless():
        n = 0
        while True:
            produced.append(n)
            yield n
            n += 1

    ahead = Ahead(endless)
    with pytest.raises(ValueError), ahead:
        for n in ahead:
            if n == 25:
                raise ValueError("writer failed")
    assert not ahead._thread.is_alive()
    assert len(produced) <= 10 * (prefetch.AHEAD + 4)
