"""The members' month sums (``MemberMonthPoints``) under concurrent posting
(PostgreSQL, two connections): two workflows post to the same members at the same
moment, listed in opposite orders. Each posting takes the members' month locks in one
order before it writes, so the sums' rows are never waited on in a cycle: both postings
go through and both count."""

import datetime
import threading

import pytest
from django.db import connection
from django.db.models import Count, Max, Sum

from members.ledger import services
from members.ledger.models import LedgerEntry, MemberMonthPoints, Rule
from members.models import Member

from .. import factories as f
from ..concurrency import Rendezvous
from ..conftest import requires_postgres

MARCH = datetime.date(2025, 3, 1)


@pytest.mark.django_db(transaction=True)
def test_two_postings_to_the_same_members_at_once_both_count():
    requires_postgres()
    committee = f.committee()
    branch = f.branch(committee)
    ids = [f.MemberFactory(branch=branch).pk for _ in range(6)]
    rule = Rule.objects.filter(
        version=services.rule_version_for(unit=branch, month=MARCH), source__in=services.WORKFLOW_SOURCES
    ).first()
    start = Rendezvous(timeout=5)
    results: list[object] = []

    def post(order, source_id):
        try:
            members = list(Member.objects.select_related("branch").filter(pk__in=order))
            members.sort(key=lambda m: order.index(m.pk))
            start()
            services.ledger_post_source(
                members=members,
                code=rule.code,
                month=MARCH,
                source=rule.source,
                source_id=source_id,
                source_key="race",
                reason="race",
                user=None,
            )
            results.append("posted")
        except Exception as exc:  # surfaced in the assertion rather than lost in the thread
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(ids, 1)), threading.Thread(target=post, args=(ids[::-1], 2))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results == ["posted", "posted"]
    ledger = {
        row["member_id"]: (row["total"], row["n"], row["last"])
        for row in LedgerEntry.objects.filter(month=MARCH)
        .values("member_id")
        .annotate(total=Sum("points"), n=Count("pk"), last=Max("pk"))
    }
    kept = {
        row.member_id: (row.total, row.entries, row.last_entry) for row in MemberMonthPoints.objects.filter(month=MARCH)
    }
    assert kept == ledger
    assert set(kept) == set(ids) and {n for _total, n, _last in kept.values()} == {2}
