"""Reads of the points ledger. Totals are summed by the database (``GROUP BY``); Python
only arranges the grouped rows — at most months × categories, or members × categories —
and never walks the entries themselves."""

import calendar
import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import F, QuerySet, Sum

from branches.models import OrgUnit
from members.models import Member
from members.selectors import members_of_branch_at

from .models import Category, LedgerEntry

ZERO = Decimal("0.00")
CATEGORIES = list(Category)


def _by_category(totals: dict[str, Decimal]) -> list[tuple[str, Decimal]]:
    """Totals in the categories' fixed order, zero where nothing was recorded."""
    return [(category, totals.get(category, ZERO)) for category in CATEGORIES]


def last_day_of_month(month: datetime.date) -> datetime.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def add_months(month: datetime.date, n: int) -> datetime.date:
    index = month.year * 12 + month.month - 1 + n
    return datetime.date(index // 12, index % 12 + 1, 1)


@dataclass
class MonthTotals:
    month: datetime.date
    categories: list[tuple[str, Decimal]]
    total: Decimal
    running: Decimal


def member_month_totals(*, member: Member, year: int) -> list[MonthTotals]:
    """For each month of ``year`` with entries: the total per category, the month's total
    and the running total of the year up to that month's end. One ``GROUP BY month,
    category``. A member's ledger follows them: entries booked to earlier branches count."""
    rows = (
        LedgerEntry.objects.filter(member=member, month__year=year)
        .values("month", "category")
        .annotate(total=Sum("points"))
        .order_by("month", "category")
    )
    per_month: dict[datetime.date, dict[str, Decimal]] = {}
    for row in rows:
        per_month.setdefault(row["month"], {})[row["category"]] = row["total"] or ZERO
    result = []
    running = ZERO
    # At most twelve months: the running total is a fold over the grouped rows.
    for month in sorted(per_month):
        total = sum(per_month[month].values(), ZERO)
        running += total
        result.append(MonthTotals(month, _by_category(per_month[month]), total, running))
    return result


def member_entries(*, member: Member, year: int) -> QuerySet[LedgerEntry]:
    """The member's entries of ``year`` for the ledger page, with what the page shows of
    each: its rule, who recorded it, and the entry that reverses it, if any."""
    return (
        LedgerEntry.objects.filter(member=member, month__year=year)
        .select_related("rule", "recorded_by", "branch")
        # The reverse side of the one-to-one: the id of the reversing entry, or None.
        .annotate(reversal_pk=F("reversed_by__pk"))
        .order_by("month", "recorded_at", "pk")
    )


def year_category_totals(months: list[MonthTotals]) -> list[tuple[str, Decimal]]:
    """The year's total per category, folded from ``member_month_totals`` (twelve rows)."""
    totals: dict[str, Decimal] = {}
    for month in months:
        for category, total in month.categories:
            totals[category] = totals.get(category, ZERO) + total
    return _by_category(totals)


@dataclass
class MatrixRow:
    member: Member
    categories: list[tuple[str, Decimal]]
    total: Decimal
    # False for a member who left the branch before the month's end but has entries
    # booked to it that month.
    belonged: bool = True


@dataclass
class BranchMonthMatrix:
    month: datetime.date
    rows: list[MatrixRow] = field(default_factory=list)
    column_totals: list[tuple[str, Decimal]] = field(default_factory=list)
    total: Decimal = ZERO


def branch_month_matrix(*, branch: OrgUnit, month: datetime.date) -> BranchMonthMatrix:
    """Members × categories for a branch's month: everyone who belonged to the branch at
    the month's end, plus anyone with entries booked to it that month (a member who
    transferred out mid-month), ordered by total, highest first. Three queries: one
    ``GROUP BY member, category`` of the month's entries, the members at month end, and
    those members by id.

    The ids are fetched first on purpose: ``pk IN (subquery) OR pk IN (subquery)`` made
    PostgreSQL expect most of the member table (75,000 rows of 100,000) and spend ~0.75 s
    compiling JIT code for a page that reads a few hundred rows."""
    month = month.replace(day=1)
    booked = LedgerEntry.objects.filter(branch=branch, month=month)
    cells: dict[int, dict[str, Decimal]] = {}
    for row in booked.values("member_id", "category").annotate(total=Sum("points")).order_by():
        cells.setdefault(row["member_id"], {})[row["category"]] = row["total"] or ZERO
    at_month_end = set(
        members_of_branch_at(branch=branch, on_date=last_day_of_month(month)).values_list("pk", flat=True)
    )
    totals = {member_id: sum(member_cells.values(), ZERO) for member_id, member_cells in cells.items()}
    # Only what the page shows of each member and what decides whether their ledger
    # opens (their branch's path): a branch of 113 members built 340 full model rows.
    members = (
        Member.objects.filter(pk__in=sorted(at_month_end | set(cells)))
        .select_related("branch", "group")
        .only("name", "employee_no", "branch", "group", "branch__path", "branch__kind", "group__name")
    )
    rows = [
        MatrixRow(
            member, _by_category(cells.get(member.pk, {})), totals.get(member.pk, ZERO), member.pk in at_month_end
        )
        for member in members
    ]
    rows.sort(key=lambda row: (-row.total, row.member.employee_no))
    # Column totals from the grouped rows (members × categories of them, not entries).
    columns: dict[str, Decimal] = {}
    for member_cells in cells.values():
        for category, total in member_cells.items():
            columns[category] = columns.get(category, ZERO) + total
    return BranchMonthMatrix(month, rows, _by_category(columns), sum(columns.values(), ZERO))


def entries_filter(
    entries: QuerySet[LedgerEntry],
    *,
    member: Member | None = None,
    branch: OrgUnit | None = None,
    month: datetime.date | None = None,
    category: str = "",
    rule_code: str = "",
) -> QuerySet[LedgerEntry]:
    """``entries`` is already scoped to the user; this narrows it by the list's filters.
    A committee or general branch filters by its whole subtree."""
    if member is not None:
        entries = entries.filter(member=member)
    if branch is not None:
        entries = entries.filter(branch__path__startswith=branch.path)
    if month is not None:
        entries = entries.filter(month=month.replace(day=1))
    if category:
        entries = entries.filter(category=category)
    if rule_code:
        entries = entries.filter(rule__code=rule_code)
    return entries.order_by("-month", "-recorded_at", "-pk")


def entries_for_list(entries: QuerySet[LedgerEntry]) -> QuerySet[LedgerEntry]:
    """What the entry list shows of each entry, fetched with it."""
    return entries.select_related("member", "branch", "rule", "recorded_by").annotate(reversal_pk=F("reversed_by__pk"))


def entries_sum(entries: QuerySet[LedgerEntry]) -> Decimal:
    return entries.aggregate(total=Sum("points"))["total"] or ZERO
