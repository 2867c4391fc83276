"""Two committee staff click "accept" on the same milestone at the same moment (two
connections, PostgreSQL): the conditional UPDATE lets one move it; the other is refused,
and the points are posted once."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from branches.projects import services
from branches.projects.models import Milestone, ProjectTransition
from members.ledger.models import LedgerEntry, Source

from ..conftest import requires_postgres

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_simultaneous_acceptances_post_once(milestone, users):
    requires_postgres()
    barrier = threading.Barrier(2)
    results: list[object] = []

    def accept():
        try:
            stale = Milestone.objects.select_related("project__branch").get(pk=milestone.pk)
            barrier.wait(timeout=5)
            results.append(services.milestone_accept(milestone=stale, user=users.committee))
        except ValidationError as exc:
            results.append(exc)
        except Exception as exc:  # surfaced in the assertion rather than lost in the thread
            results.append(exc)
            raise
        finally:
            connection.close()

    threads = [threading.Thread(target=accept) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(results) == 2 and len(refused) == 1, results
    # The thread runs in the default language: "现在无法节点验收通过：该记录的状态为“已验收”。"
    assert "已验收" in refused[0].messages[0]
    assert LedgerEntry.objects.filter(source=Source.PROJECT, source_key=f"milestone:{milestone.pk}").count() == 2
    assert ProjectTransition.objects.filter(milestone=milestone, move="milestone_accept").count() == 1
