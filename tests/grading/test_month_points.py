"""The members' month sums the grading reads (``MemberMonthPoints``, kept by the
database as entries are inserted) against the ledger itself: after any sequence of
entries, reversals, bulk inserts and transfers, the rows are the month's entries grouped
by (month, member) with the lowest and highest branch booked to, and a regrade after the
changes writes the same drafts (and watermarks) as a first grading of the same data — on
SQLite and PostgreSQL, by the per-member probes and (PostgreSQL) by the whole month at
once."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, Min, Q, Sum
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from branches.grading import engine
from branches.grading.models import BranchScore, GradingRun, GroupScore, MemberScore
from branches.models import OrgUnit
from members.ledger.models import Category, LedgerEntry, MemberMonthPoints, Rule
from members.ledger.services import ledger_entry_reverse, rule_version_for
from members.models import Member
from members.services import member_transfer

from .test_month_pass import APRIL, drafts, grade_together, two_plants

pytestmark = pytest.mark.django_db
MAY = datetime.date(2025, 5, 1)


def from_the_ledger() -> dict:
    """What the rows must hold: the entries grouped by (month, member)."""
    sums = {c: Sum("points", filter=Q(category=c)) for c in Category.values}
    rows = (
        LedgerEntry.objects.values_list("month", "member_id")
        .annotate(low=Min("branch_id"), high=Max("branch_id"), **sums, sum=Sum("points"), n=Count("pk"), last=Max("pk"))
        .order_by()
    )
    cent = Decimal("0.01")
    return {tuple(r[:4]): tuple(Decimal(v or 0).quantize(cent) for v in r[4:11]) + r[11:] for r in rows}


def kept() -> dict:
    columns = [*Category.values, "total"]
    cent = Decimal("0.01")
    return {
        (row.month, row.member_id, row.branch_id, row.other_branch_id): tuple(
            Decimal(getattr(row, c)).quantize(cent) for c in columns
        )
        + (row.entries, row.last_entry)
        for row in MemberMonthPoints.objects.all()
    }


def ledger_of(committee) -> list:
    """[last id, count] of the month's entries booked to the committee's branches,
    counted in the ledger itself."""
    branches = [b.pk for b in engine.graded_branches(committee=committee, month=APRIL)]
    row = LedgerEntry.objects.filter(month=APRIL, branch_id__in=branches).aggregate(last=Max("pk"), n=Count("pk"))
    return [row["last"], row["n"]]


# One step of what happens to a month between two gradings.
STEP = st.one_of(
    st.tuples(
        st.just("award"), st.integers(0, 50), st.integers(0, 5), st.sampled_from(["-5", "-1.25", "0.5", "2", "3.33"])
    ),
    st.tuples(st.just("bulk"), st.integers(0, 50), st.integers(1, 4), st.sampled_from(["1.1", "2", "-0.35"])),
    st.tuples(st.just("reverse"), st.integers(0, 10_000), st.just(0), st.just("0")),
    st.tuples(st.just("transfer"), st.integers(0, 50), st.integers(0, 50), st.just("0")),
    st.tuples(st.just("other month"), st.integers(0, 50), st.integers(0, 5), st.just("4")),
)


def apply(step, members, branches, rules):
    kind, a, b, points = step
    member = members[a % len(members)]
    member.refresh_from_db()
    if kind in ("award", "other month"):
        rule = rules[b % len(rules)]
        LedgerEntry.objects.create(
            member=member,
            branch=member.branch,
            month=APRIL if kind == "award" else MAY,
            rule=rule,
            rule_version=rule.version,
            category=rule.category,
            points=Decimal(points),
            source=rule.source,
            reason="test",
        )
    elif kind == "bulk":
        # One statement of several entries, some of one member: the trigger sums the
        # statement's rows per member before adding them.
        chosen = [members[(a + i * i) % len(members)] for i in range(b + 1)]
        for m in chosen:
            m.refresh_from_db()
        LedgerEntry.objects.bulk_create(
            LedgerEntry(
                member=m,
                branch=m.branch,
                month=APRIL,
                rule=rules[i % len(rules)],
                rule_version=rules[0].version,
                category=rules[i % len(rules)].category,
                points=Decimal(points),
                source=rules[0].source,
                reason="bulk",
            )
            for i, m in enumerate(chosen)
        )
    elif kind == "reverse":
        standing = list(
            LedgerEntry.objects.filter(
                month=APRIL, source="manual", reverses__isnull=True, reversed_by__isnull=True
            ).order_by("pk")
        )
        if standing:
            ledger_entry_reverse(entry=standing[a % len(standing)], reason="test", user=None)
    elif kind == "transfer":
        to = branches[b % len(branches)]
        if to.pk != member.branch_id:
            try:
                member_transfer(member=member, to_branch=to, on_date=datetime.date(2025, 4, 1 + b % 28))
            except ValidationError:
                pass  # a second transfer dated before the first: refused, nothing changes


# Each example grades a month several times: a few examples, not shrunk (a failure prints
# its steps as drawn).
@settings(
    max_examples=10,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(batches=st.lists(st.lists(STEP, min_size=1, max_size=6), min_size=1, max_size=3))
def test_regrades_after_any_changes_write_what_a_first_grading_writes(reading, batches):
    with transaction.atomic():
        root, plants = two_plants()
        committees = [root, *plants]
        members = list(Member.objects.order_by("pk"))
        branches = list(OrgUnit.objects.filter(kind=OrgUnit.Kind.BRANCH).order_by("pk"))
        version = rule_version_for(unit=branches[0], month=APRIL)
        rules = list(Rule.objects.filter(version=version, source="manual").order_by("code"))
        grade_together(committees)
        for batch in batches:
            for step in batch:
                apply(step, members, branches, rules)
            assert kept() == from_the_ledger()
            grade_together(committees)
            regraded = drafts()
            # The marks the runs recorded are the ledger's as it stands (nothing changed since).
            for committee in committees:
                run = GradingRun.objects.filter(committee=committee, month=APRIL).order_by("-pk").first()
                assert run.watermark["ledger"] == ledger_of(committee)
            # Every member's total is their month's entries, read from the ledger itself.
            totals = dict(
                LedgerEntry.objects.filter(month=APRIL)
                .values_list("member_id")
                .annotate(total=Sum("points"))
                .order_by()
            )
            for score in MemberScore.objects.filter(month=APRIL):
                assert score.total == Decimal(totals.get(score.member_id) or 0).quantize(Decimal("0.01"))
            with transaction.atomic():
                MemberScore.objects.all().delete()
                GroupScore.objects.all().delete()
                BranchScore.objects.all().delete()
                grade_together(committees)
                assert drafts() == regraded
                transaction.set_rollback(True)
        transaction.set_rollback(True)
