"""Publishing under concurrency (PostgreSQL, two connections).

Two clicks on Publish at the same moment. With the lock switched off both read an open
month and "no version yet", both insert version 1, and the second dies on the database's
unique constraint — a server error instead of an answer. With the committee month's
advisory lock (the one a grading run holds) the second waits, then sees the month
closed and is refused in words; exactly one version exists either way.
"""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection
from django.utils import translation

from branches.grading import publishing, services
from branches.grading.models import Publication
from branches.models import OrgUnit

from .. import factories as f
from ..concurrency import meet_after
from ..conftest import requires_postgres

APRIL = datetime.date(2025, 4, 1)


def prepare(tree) -> int:
    for code in ("BRC", "BRD"):
        f.branch(tree.plant, code=code)
    for branch in tree.plant.children.filter(kind="branch"):
        for dimension in ("committee_work", "production", "other"):
            services.score_input_set(branch=branch, month=APRIL, dimension=dimension, score=Decimal("80"), user=None)
    run = services.grading_run_request(committee=tree.plant, month=APRIL)
    services.grading_run_execute(run_id=run.pk)
    return tree.plant.pk


def race(committee_id: int, monkeypatch) -> list[object]:
    """Two threads publish at once; each waits for the other right after reading the
    draft's status, so without a lock both read "open, nothing published"."""
    meet_after(monkeypatch, publishing, "draft_status", read=lambda status: status.problems)
    results: list[object] = []

    def publish():
        try:
            committee = OrgUnit.objects.get(pk=committee_id)
            with translation.override("en"):
                results.append(publishing.board_publish(committee=committee, month=APRIL, user=None))
        except (ValidationError, IntegrityError) as exc:
            results.append(exc)
        except Exception as exc:  # surfaced in the assertion rather than lost in the thread
            results.append(exc)
            raise
        finally:
            connection.close()

    threads = [threading.Thread(target=publish) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.django_db(transaction=True)
def test_without_the_lock_two_simultaneous_publications_end_in_a_database_error(tree, monkeypatch):
    requires_postgres()
    committee_id = prepare(tree)
    monkeypatch.setattr(publishing, "lock_committee_month", lambda committee, month: None)

    results = race(committee_id, monkeypatch)

    assert sorted(type(r).__name__ for r in results) == ["IntegrityError", "Publication"], results
    assert Publication.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_with_the_lock_the_second_publication_waits_and_is_refused_in_words(tree, monkeypatch):
    requires_postgres()
    committee_id = prepare(tree)

    results = race(committee_id, monkeypatch)

    assert sorted(type(r).__name__ for r in results) == ["Publication", "ValidationError"], results
    refusal = next(r for r in results if isinstance(r, ValidationError))
    assert "already closed" in " ".join(refusal.messages)
    assert Publication.objects.get().version == 1
