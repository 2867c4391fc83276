"""Reads of the commitments app; counts and rates in SQL."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, F, Prefetch, Q, QuerySet

from branches.models import OrgUnit
from members.models import Member

from .models import CheckPublication, Commitment, CommitmentCheck, CommitmentTemplate, Period, Result


def branch_commitments(*, branch: OrgUnit, year: int) -> QuerySet[Commitment]:
    """A branch's commitments of a year: the branch's own first, then by member."""
    return (
        Commitment.objects.filter(branch=branch, year=year)
        .select_related("member", "template")
        .order_by(F("member").asc(nulls_first=True), "member__employee_no", "member__name", "pk")
    )


def branch_templates(*, branch: OrgUnit, year: int) -> QuerySet[CommitmentTemplate]:
    return CommitmentTemplate.objects.filter(branch=branch, year=year).annotate(copies_count=Count("copies"))


def checks_by_commitment(*, commitments: list[Commitment]) -> dict[tuple[int, str], CommitmentCheck]:
    """Every check of these commitments, by (commitment, period): one query."""
    checks = CommitmentCheck.objects.filter(commitment__in=[c.pk for c in commitments]).select_related("checked_by")
    return {(c.commitment_id, c.period): c for c in checks}


def publications_of(*, branch: OrgUnit, year: int) -> dict[str, CheckPublication]:
    rows = CheckPublication.objects.filter(branch=branch, year=year).select_related("published_by")
    return {p.period: p for p in rows}


def rate(part: int, total: int) -> Decimal | None:
    """A share in per cent with one decimal, half up; None where there is nothing."""
    if not total:
        return None
    return (Decimal(part) * 100 / Decimal(total)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class PeriodSummary:
    total: int
    met: int
    partly: int
    not_met: int

    @property
    def unchecked(self) -> int:
        return self.total - self.met - self.partly - self.not_met

    @property
    def completion(self) -> Decimal | None:
        """The completion rate: the share of commitments met; None before any check."""
        if self.unchecked == self.total:
            return None
        return rate(self.met, self.total)


def _counts(period: str) -> dict:
    return {
        f"{period}_{result}": Count("checks", filter=Q(checks__period=period, checks__result=result))
        for result in Result.values
    }


def _summary(row: dict, period: str) -> PeriodSummary:
    return PeriodSummary(
        total=row["total"],
        met=row[f"{period}_{Result.MET}"],
        partly=row[f"{period}_{Result.PARTLY}"],
        not_met=row[f"{period}_{Result.NOT_MET}"],
    )


def period_summary(*, branch: OrgUnit, year: int, period: str) -> PeriodSummary:
    row = Commitment.objects.filter(branch=branch, year=year).aggregate(
        total=Count("pk", distinct=True), **_counts(period)
    )
    return _summary(row, period)


@dataclass
class BranchRates:
    branch: OrgUnit
    periods: dict[str, PeriodSummary]
    publications: dict[str, CheckPublication]


def committee_rates(*, committee: OrgUnit, year: int) -> list[BranchRates]:
    """Every branch under the committee with its commitments of the year and, per
    period, how many were met, partly met, not met — one aggregate query — and
    whether the period's results are published."""
    branches = list(
        OrgUnit.objects.filter(
            kind=OrgUnit.Kind.BRANCH, path__startswith=committee.path, dissolved_on__isnull=True
        ).order_by("path")
    )
    counts = {
        row["branch"]: row
        for row in Commitment.objects.filter(branch__in=branches, year=year)
        .values("branch")
        .annotate(total=Count("pk", distinct=True), **{k: v for p in Period.values for k, v in _counts(p).items()})
        .order_by()
    }
    publications: dict[int, dict[str, CheckPublication]] = {}
    for publication in CheckPublication.objects.filter(branch__in=branches, year=year):
        publications.setdefault(publication.branch_id, {})[publication.period] = publication
    empty = {"total": 0, **{f"{p}_{r}": 0 for p in Period.values for r in Result.values}}
    return [
        BranchRates(
            branch=branch,
            periods={p: _summary(counts.get(branch.pk, empty), p) for p in Period.values},
            publications=publications.get(branch.pk, {}),
        )
        for branch in branches
    ]


def member_commitments(*, member: Member) -> QuerySet[Commitment]:
    """A member's commitments, the latest year first, with their checks (two queries)."""
    return (
        Commitment.objects.filter(member=member)
        .select_related("branch")
        .prefetch_related(Prefetch("checks", queryset=CommitmentCheck.objects.order_by("period")))
        .order_by("-year", "pk")
    )
