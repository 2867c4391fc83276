"""What a year-end report covers: the one selection both formats read.

A committee's report covers its whole subtree. Every committee grades the branches
whose nearest committee it is, so the months of a root committee's branches are
published by the committees below it: the report reads the publications of *every*
committee of the subtree — of each month its latest version, as the annual roll-up
counts it (``annual.latest_publications``) — and the sums the roll-up uses
(``annual.branch_year_totals``), per grading committee. The XLSX workbook and the PDF
read the same ``YearSelection``, so both list the same branches with the same numbers
at any level of the tree: the root, a plant, a committee whose branches sit under
general branches.

Queries: one for the committees that published in the year, two per such committee
(its latest publications, its branch totals), the subtree's branches, one for the
published branch rows and one for the annual grades. Python touches one row per
branch and month.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet

from branches.activities.compliance import branches_under, year_months
from branches.grading import annual
from branches.grading.engine import half_up
from branches.grading.models import AnnualGrade, Publication, PublishedBranchScore
from branches.models import OrgUnit
from branches.selectors import committee_for, tracked_from_for
from members.ledger.models import RuleSetVersion

ZERO = Decimal("0")
CENT = Decimal("0.01")


@dataclass
class BranchYear:
    """One branch's year as its published boards have it."""

    branch: OrgUnit
    committee: OrgUnit | None  # the committee that grades it (lists it on its boards)
    scores: dict[datetime.date, PublishedBranchScore] = field(default_factory=dict)
    months: int = 0  # months published, as the annual roll-up counts them
    total_sum: Decimal = ZERO
    bottom: int = 0  # months in the bottom three
    grade: AnnualGrade | None = None

    @property
    def mean(self) -> Decimal | None:
        """The mean of the published monthly totals, half-up to cents (as the roll-up)."""
        return half_up(self.total_sum / self.months) if self.months else None

    @property
    def bottom_months(self) -> list[datetime.date]:
        return sorted(month for month, score in self.scores.items() if score.bottom_three)


@dataclass
class YearSelection:
    committee: OrgUnit
    year: int
    committees: list[OrgUnit]  # the committees of the subtree that published in the year
    publication_ids: list[int]
    published_months: list[datetime.date]  # the months at least one of them published
    branches: list[BranchYear]
    _versions: dict[int, RuleSetVersion] = field(default_factory=dict, repr=False)

    @property
    def months(self) -> list[datetime.date]:
        return year_months(self.year)

    @property
    def spans_committees(self) -> bool:
        """Whether more than one committee grades the branches listed."""
        return len({b.committee.pk for b in self.branches if b.committee is not None}) > 1

    def star_version(self, committee: OrgUnit | None) -> RuleSetVersion:
        """The rule set version whose star bands rate the year of ``committee``'s members
        (the requested committee's for a member graded outside the subtree)."""
        unit = committee if committee is not None and committee.is_within(self.committee) else self.committee
        if unit.pk not in self._versions:
            self._versions[unit.pk] = annual.annual_version(committee=unit, year=self.year)
        return self._versions[unit.pk]


def year_committees(*, committee: OrgUnit, year: int) -> QuerySet[OrgUnit]:
    """The committees of ``committee``'s subtree (itself included) with a publication in ``year``."""
    published = Publication.objects.filter(
        committee__path__startswith=committee.path,
        month__gte=datetime.date(year, 1, 1),
        month__lt=datetime.date(year + 1, 1, 1),
    ).values("committee_id")
    return OrgUnit.objects.filter(pk__in=published).order_by("path")


def latest_published_year(*, committee: OrgUnit) -> int | None:
    """The latest year with a publication in ``committee``'s subtree (None: never published)."""
    month = (
        Publication.objects.filter(committee__path__startswith=committee.path)
        .order_by("-month")
        .values_list("month", flat=True)
        .first()
    )
    return month.year if month else None


def year_selection(*, committee: OrgUnit, year: int, branch: OrgUnit | None = None) -> YearSelection:
    """The branches of ``committee``'s year-end report with their published months,
    annual sums and grades. With ``branch``, that branch alone (a dossier)."""
    committees = list(year_committees(committee=committee, year=year))
    tracked_from_for(units=committees)  # one query for all; each committee keeps its answer
    publication_ids: list[int] = []
    months: set[datetime.date] = set()
    totals: dict[int, list] = {}  # branch id → [months, total sum, bottom]
    for grader in committees:
        for pk, month in annual.latest_publications(committee=grader, year=year).values_list("pk", "month"):
            publication_ids.append(pk)
            months.add(month)
        rows = annual.branch_year_totals(committee=grader, year=year)
        for row in rows:
            if branch is not None and row["branch_id"] != branch.pk:
                continue
            # SQLite sums decimals as floats: put the two places back.
            total_sum = Decimal(str(row["total_sum"] or 0)).quantize(CENT)
            mine = totals.setdefault(row["branch_id"], [0, ZERO, 0])
            mine[0], mine[1], mine[2] = mine[0] + row["months"], mine[1] + total_sum, mine[2] + row["bottom"]

    scores = PublishedBranchScore.objects.filter(publication_id__in=publication_ids).select_related("publication")
    grades = AnnualGrade.objects.filter(committee__path__startswith=committee.path, year=year)
    if branch is not None:
        scores, grades = scores.filter(branch=branch), grades.filter(branch=branch)
        entries = [(branch, committee_for(unit=branch))]
    else:
        entries = [(e.branch, e.committee) for e in branches_under(unit=committee, year=year)]

    by_branch: dict[int, dict[datetime.date, PublishedBranchScore]] = {}
    graded_by: dict[int, int] = {}  # branch id → committee of its latest published month
    for score in sorted(scores, key=lambda s: s.publication.month):
        by_branch.setdefault(score.branch_id, {})[score.publication.month] = score
        graded_by[score.branch_id] = score.publication.committee_id

    # A branch on the year's boards that has left the subtree since is still reported.
    listed = {b.pk for b, _c in entries}
    gone = [pk for pk in by_branch if pk not in listed]
    if gone:
        committee_by_pk = {c.pk: c for c in committees}
        entries += [
            (b, committee_by_pk.get(graded_by[b.pk]))
            for b in OrgUnit.objects.filter(pk__in=gone).order_by("sort_order", "name", "pk")
        ]

    grade_of: dict[int, AnnualGrade] = {}
    committee_of = {b.pk: c.pk if c else None for b, c in entries}
    for grade in grades:
        # Graded twice (moved between committees in the year): its committee's grade wins.
        if grade.branch_id not in grade_of or grade.committee_id == committee_of.get(grade.branch_id):
            grade_of[grade.branch_id] = grade

    rows = []
    for unit, grader in entries:
        months_, total_sum, bottom = totals.get(unit.pk, (0, ZERO, 0))
        rows.append(
            BranchYear(
                branch=unit,
                committee=grader,
                scores=by_branch.get(unit.pk, {}),
                months=months_,
                total_sum=total_sum,
                bottom=bottom,
                grade=grade_of.get(unit.pk),
            )
        )
    return YearSelection(
        committee=committee,
        year=year,
        committees=committees,
        publication_ids=publication_ids,
        published_months=sorted(months),
        branches=rows,
    )
