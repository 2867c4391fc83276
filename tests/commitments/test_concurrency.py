"""Two saves of one commitment's check at the same moment (a double click, two tabs):
PostgreSQL, two connections.

Without the row lock both read "no check yet", both post +5, and the second dies on the
database's one-check-per-period constraint — a server error for a double click. With the
lock the second waits, sees the first's check, and saves without posting again."""

import threading

import pytest
from django.db import connection

from members.commitments import services
from members.commitments.models import Commitment, CommitmentCheck, Period, Result
from members.ledger.models import LedgerEntry, Source

from ..concurrency import Rendezvous
from ..conftest import requires_postgres


def race(commitment_id: int, monkeypatch) -> list[object]:
    monkeypatch.setattr(services, "_after_check_read", Rendezvous())
    results: list[object] = []

    def save():
        try:
            commitment = Commitment.objects.get(pk=commitment_id)
            results.append(
                services.commitment_check_set(commitment=commitment, period=Period.MID, result=Result.MET, user=None)
            )
        except Exception as exc:  # kept for the assertion rather than lost in the thread
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=save) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def posted(commitment) -> int:
    return LedgerEntry.objects.filter(source=Source.COMMITMENT, source_id=commitment.pk).count()


@pytest.mark.django_db(transaction=True)
def test_without_the_lock_a_double_save_fails_on_the_constraint(branch_year, monkeypatch):
    requires_postgres()
    monkeypatch.setattr(services, "LOCKING", False)
    results = race(branch_year.personal.pk, monkeypatch)
    assert sum(isinstance(r, Exception) for r in results) == 1, results  # the race is real
    assert posted(branch_year.personal) == 1  # the loser's entry went with its transaction


@pytest.mark.django_db(transaction=True)
def test_with_the_lock_the_second_save_waits_and_posts_nothing(branch_year, monkeypatch):
    requires_postgres()
    results = race(branch_year.personal.pk, monkeypatch)
    assert not any(isinstance(r, Exception) for r in results), results
    assert sorted(len(r.posted) for r in results) == [0, 1]
    assert posted(branch_year.personal) == 1
    assert CommitmentCheck.objects.get(commitment=branch_year.personal).result == Result.MET
