"""Reads of suggestions. The funnel is one ``GROUP BY`` with conditional aggregates;
Python adds the branch rows up (one row per branch)."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, DecimalField, Prefetch, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from branches.models import OrgUnit
from members.ledger.models import LedgerEntry, Source
from members.models import Member

from .models import REACHED_ACCEPTED, REACHED_PUBLISHED, State, Suggestion, SuggestionTransition

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
VALUE = DecimalField(max_digits=12, decimal_places=2)


def with_proposers(suggestions: QuerySet[Suggestion]) -> QuerySet[Suggestion]:
    return suggestions.select_related("branch").prefetch_related(
        Prefetch("proposers", queryset=Member.objects.order_by("name", "pk").only("pk", "name", "branch_id"))
    )


def branch_suggestions(*, branch: OrgUnit, year: int | None = None) -> QuerySet[Suggestion]:
    suggestions = Suggestion.objects.filter(branch=branch)
    if year is not None:
        suggestions = suggestions.filter(submitted_on__year=year)
    return with_proposers(suggestions)


def review_queue(*, unit: OrgUnit, states: tuple[str, ...]) -> QuerySet[Suggestion]:
    """Suggestions of the subtree waiting for a move, oldest first."""
    suggestions = Suggestion.objects.filter(branch__path__startswith=unit.path, state__in=states)
    return with_proposers(suggestions).order_by("submitted_on", "pk")


def suggestion_timeline(*, suggestion: Suggestion) -> QuerySet[SuggestionTransition]:
    return suggestion.transitions.select_related("user").order_by("at", "pk")


def suggestion_entries(*, suggestion: Suggestion) -> QuerySet[LedgerEntry]:
    """The ledger entries the suggestion posted (and their reversals)."""
    return (
        LedgerEntry.objects.filter(source=Source.SUGGESTION, source_id=suggestion.pk)
        .select_related("member", "rule", "recorded_by")
        .order_by("recorded_at", "pk")
    )


@dataclass
class FunnelRow:
    """One branch's (or the total's) suggestions of a year, stage by stage. A stage
    counts every suggestion that reached it or a later one."""

    unit: OrgUnit | None
    proposed: int = 0
    accepted: int = 0
    rejected: int = 0
    published: int = 0
    implemented: int = 0
    expected: Decimal = ZERO
    realised: Decimal = ZERO
    parts: list = field(default_factory=list)

    @property
    def pending(self) -> int:
        return self.proposed - self.accepted - self.rejected

    @staticmethod
    def _share(part: int, whole: int) -> Decimal | None:
        return (Decimal(100) * part / whole).quantize(Decimal("0.1")) if whole else None

    @property
    def accepted_share(self) -> Decimal | None:
        return self._share(self.accepted, self.proposed)

    @property
    def implemented_share(self) -> Decimal | None:
        return self._share(self.implemented, self.proposed)


@dataclass
class Funnel:
    unit: OrgUnit
    year: int
    rows: list[FunnelRow]
    total: FunnelRow


def _in_year(prefix: str, year: int) -> Q:
    return Q(
        **{
            f"{prefix}submitted_on__gte": datetime.date(year, 1, 1),
            f"{prefix}submitted_on__lt": datetime.date(year + 1, 1, 1),
        }
    )


def suggestion_funnel(*, unit: OrgUnit, year: int, branch: OrgUnit | None = None) -> Funnel:
    """提出 → 采纳 → 发布 → 实施 of the suggestions submitted in ``year`` in every branch
    under ``unit`` (or in ``branch`` only), with the expected and realised benefit in
    万元: one query, every branch listed (a branch without suggestions shows zeros;
    a dissolved one only if it had some)."""
    year_q = _in_year("suggestions__", year)

    def count(states=None) -> Count:
        q = year_q if states is None else year_q & Q(suggestions__state__in=states)
        return Count("suggestions", filter=q)

    def total(column: str, q: Q) -> Coalesce:
        return Coalesce(Sum(f"suggestions__{column}", filter=q), Value(ZERO), output_field=VALUE)

    branches = OrgUnit.objects.filter(kind=OrgUnit.Kind.BRANCH, path__startswith=unit.path)
    if branch is not None:
        branches = branches.filter(pk=branch.pk)
    rows = (
        branches.annotate(
            proposed=count(),
            accepted=count(REACHED_ACCEPTED),
            rejected=count([State.REJECTED]),
            published=count(REACHED_PUBLISHED),
            implemented=count([State.IMPLEMENTED]),
            expected=total("expected_value", year_q),
            realised=total("realised_value", year_q & Q(suggestions__state=State.IMPLEMENTED)),
        )
        .filter(Q(dissolved_on__isnull=True) | Q(proposed__gt=0))
        .select_related("parent")
        .order_by("path", "sort_order", "name")
    )
    funnel_rows = []
    all_ = FunnelRow(unit=None)
    for b in rows:
        row = FunnelRow(
            unit=b,
            proposed=b.proposed,
            accepted=b.accepted,
            rejected=b.rejected,
            published=b.published,
            implemented=b.implemented,
            # SQLite sums decimals through floats: back to the column's two places.
            expected=Decimal(b.expected).quantize(CENT),
            realised=Decimal(b.realised).quantize(CENT),
        )
        funnel_rows.append(row)
        for name in ("proposed", "accepted", "rejected", "published", "implemented", "expected", "realised"):
            setattr(all_, name, getattr(all_, name) + getattr(row, name))
    return Funnel(unit=unit, year=year, rows=funnel_rows, total=all_)


def suggestion_years(*, unit: OrgUnit) -> list[int]:
    """The years with suggestions under ``unit``, newest first."""
    dates = Suggestion.objects.filter(branch__path__startswith=unit.path).dates("submitted_on", "year", order="DESC")
    return [d.year for d in dates]
