"""A double submit of the same move posts once (PostgreSQL, two connections).

Two reviewers (or one double click) accept the same suggestion at the same moment. With
a naive check-then-update in place of the claim, both read "submitted", both move it and
both post the adoption points: two sets of entries. With ``branches.workflow.claim`` (a
conditional UPDATE) the second waits for the first's row lock, finds the state gone and
is refused in words; exactly one set of entries exists.
"""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import translation

from members.ledger.models import LedgerEntry, Source
from members.suggestions import services
from members.suggestions.models import State, Suggestion

from .. import factories as f
from ..concurrency import Rendezvous
from ..conftest import requires_postgres
from .factories import suggestion


def naive_claim(queryset, pk, move, *, state_field="state", **changes) -> bool:
    """Read the state, then update unconditionally: the race the claim prevents."""
    ok = queryset.filter(pk=pk).values_list(state_field, flat=True).get() in move.sources
    rendezvous()
    if ok:
        queryset.filter(pk=pk).update(**{state_field: move.target}, **changes)
    return ok


rendezvous: Rendezvous  # a new one for each race


def race(suggestion_id: int) -> list[object]:
    global rendezvous
    rendezvous = Rendezvous()
    results: list[object] = []

    def accept():
        try:
            with translation.override("en"):
                s = Suggestion.objects.select_related("branch").get(pk=suggestion_id)
                rendezvous()  # both hold the suggestion as "submitted" before either moves
                results.append(services.suggestion_accept(suggestion=s, user=None))
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
    return results


def prepare(tree) -> tuple[int, list]:
    members = [f.MemberFactory(branch=tree.branch_a), f.MemberFactory(branch=tree.branch_a)]
    return suggestion(tree.branch_a, members).pk, members


@pytest.mark.django_db(transaction=True)
def test_without_the_claim_a_double_acceptance_posts_twice(tree, monkeypatch):
    requires_postgres()
    pk, members = prepare(tree)
    monkeypatch.setattr(services, "claim", naive_claim)
    results = race(pk)
    assert [type(r) for r in results] == [services.MoveOutcome, services.MoveOutcome]
    assert LedgerEntry.objects.filter(source=Source.SUGGESTION, source_id=pk).count() == 4


@pytest.mark.django_db(transaction=True)
def test_with_the_claim_a_double_acceptance_posts_one_set_and_refuses_the_other(tree):
    requires_postgres()
    pk, members = prepare(tree)
    results = race(pk)
    outcomes = [r for r in results if isinstance(r, services.MoveOutcome)]
    refusals = [r for r in results if isinstance(r, ValidationError)]
    assert len(outcomes) == 1 and len(refusals) == 1, results
    assert refusals[0].messages == ["Accept is not possible now: the record is Accepted (审核通过)."]
    entries = LedgerEntry.objects.filter(source=Source.SUGGESTION, source_id=pk)
    assert sorted(entries.values_list("member_id", flat=True)) == sorted(m.pk for m in members)
    assert all(e.points == Decimal("2") for e in entries)
    assert Suggestion.objects.get(pk=pk).state == State.ACCEPTED
    assert Suggestion.objects.get(pk=pk).transitions.filter(move="accept").count() == 1
