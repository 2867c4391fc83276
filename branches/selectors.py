"""Reads of the organisation tree. Subtree queries use the materialised path: one
``LIKE 'prefix%'`` however deep the tree."""

import datetime

from django.db.models import Exists, QuerySet, Subquery

from .models import BranchTerm, BranchTitle, CommitteeMonth, OrgUnit


def unit_subtree(*, unit: OrgUnit, kinds: list[str] | None = None, include_self: bool = True) -> QuerySet[OrgUnit]:
    qs = OrgUnit.objects.filter(path__startswith=unit.path)
    if not include_self:
        qs = qs.exclude(pk=unit.pk)
    if kinds:
        qs = qs.filter(kind__in=kinds)
    return qs


def unit_ancestors(*, unit: OrgUnit) -> list[OrgUnit]:
    """Root first, one query."""
    ids = unit.ancestor_ids()
    by_id = OrgUnit.objects.in_bulk(ids)
    return [by_id[i] for i in ids if i in by_id]


def branch_groups(*, branch: OrgUnit) -> QuerySet[OrgUnit]:
    return OrgUnit.objects.filter(parent=branch, kind=OrgUnit.Kind.GROUP, dissolved_on__isnull=True).order_by(
        "sort_order", "name"
    )


def branch_current_term(*, branch: OrgUnit) -> BranchTerm | None:
    return BranchTerm.objects.filter(branch=branch, closed_on__isnull=True).first()


def branch_active_titles(*, branch: OrgUnit) -> QuerySet[BranchTitle]:
    return BranchTitle.objects.filter(branch=branch, withdrawn_on__isnull=True)


def terms_expiring(*, units: QuerySet[OrgUnit], today: datetime.date, within_days: int) -> QuerySet[BranchTerm]:
    """Open terms of branches among ``units`` that end within ``within_days`` (or have
    already run out without a new term being started): the 换届提醒 list."""
    return (
        BranchTerm.objects.filter(
            branch__in=units.filter(kind=OrgUnit.Kind.BRANCH),
            closed_on__isnull=True,
            ends_on__lte=today + datetime.timedelta(days=within_days),
        )
        .select_related("branch")
        .order_by("ends_on")
    )


def branches_without_term(*, units: QuerySet[OrgUnit]) -> QuerySet[OrgUnit]:
    return units.filter(kind=OrgUnit.Kind.BRANCH, dissolved_on__isnull=True).exclude(terms__closed_on__isnull=True)


def tree_order(units: list[OrgUnit]) -> list[OrgUnit]:
    """Depth-first order with siblings by (sort_order, name).

    The materialised path groups a subtree together, but its ids compare as text
    (``/100/`` before ``/99/``), so sibling order is settled here, in memory, over the
    rows one query already fetched."""
    present = {unit.pk for unit in units}
    children: dict[int | None, list[OrgUnit]] = {}
    for unit in units:
        parent = unit.parent_id if unit.parent_id in present else None
        children.setdefault(parent, []).append(unit)
    ordered: list[OrgUnit] = []
    stack = sorted(children.get(None, []), key=lambda u: (u.sort_order, u.name), reverse=True)
    while stack:
        unit = stack.pop()
        ordered.append(unit)
        stack.extend(sorted(children.get(unit.pk, []), key=lambda u: (u.sort_order, u.name), reverse=True))
    return ordered


def committee_for(*, unit: OrgUnit) -> OrgUnit | None:
    """The nearest party committee at or above ``unit``: the one that grades, ranks and
    closes its months. One query, read off the materialised path."""
    if unit.is_committee:
        return unit
    return OrgUnit.objects.filter(pk__in=unit.ancestor_ids(), kind=OrgUnit.Kind.COMMITTEE).order_by("-depth").first()


def committees_for(*, units: list[OrgUnit]) -> dict[int, OrgUnit | None]:
    """``committee_for`` for many units with one query."""
    ancestor_ids = {i for unit in units for i in unit.ancestor_ids()}
    committees = {u.pk: u for u in OrgUnit.objects.filter(pk__in=ancestor_ids, kind=OrgUnit.Kind.COMMITTEE)}
    result: dict[int, OrgUnit | None] = {}
    for unit in units:
        if unit.is_committee:
            result[unit.pk] = unit
            continue
        result[unit.pk] = next((committees[i] for i in reversed(unit.ancestor_ids()) if i in committees), None)
    return result


TRACKED_CACHE = "_partybuild_tracked_from"


def tracked_from_for(*, units: list[OrgUnit]) -> dict[int, datetime.date | None]:
    """The first tracked month of each unit: the nearest ``tracked_from`` set at or above
    it (None: no committee above it set one, so every month is tracked). One query for
    the ancestors, none when every unit is a committee that set its own."""
    # The answer is kept on each unit object (it lives for one request or task), so the
    # pages and reports that ask about the same committee again ask the database once.
    unknown = [unit for unit in units if TRACKED_CACHE not in unit.__dict__]
    wanted = {i for unit in unknown if unit.tracked_from is None for i in unit.ancestor_ids()}
    starts = dict(
        OrgUnit.objects.filter(pk__in=wanted, tracked_from__isnull=False).values_list("pk", "tracked_from")
        if wanted
        else []
    )
    for unit in unknown:
        if unit.tracked_from is not None:
            unit.__dict__[TRACKED_CACHE] = unit.tracked_from
        else:
            unit.__dict__[TRACKED_CACHE] = next((starts[i] for i in reversed(unit.ancestor_ids()) if i in starts), None)
    return {unit.pk: unit.__dict__[TRACKED_CACHE] for unit in units}


def tracked_from_of(*, unit: OrgUnit) -> datetime.date | None:
    return tracked_from_for(units=[unit])[unit.pk]


def is_tracked(*, tracked_from: datetime.date | None, month: datetime.date) -> bool:
    return tracked_from is None or month >= tracked_from


def month_tracked(*, unit: OrgUnit, month: datetime.date) -> bool:
    """Whether ``month`` is at or after the first tracked month of ``unit``."""
    return is_tracked(tracked_from=tracked_from_of(unit=unit), month=month.replace(day=1))


def tracked_months_in_year(*, tracked_from: datetime.date | None, year: int) -> int:
    """How many months of ``year`` are tracked: 12, fewer in the year tracking began, 0 before."""
    if tracked_from is None or tracked_from.year < year:
        return 12
    return 0 if tracked_from.year > year else 13 - tracked_from.month


def committee_subquery(*, unit: OrgUnit) -> QuerySet[OrgUnit]:
    """``committee_for`` as a subquery (its id), to fold into a statement that needs it."""
    return (
        OrgUnit.objects.filter(pk__in=[*unit.ancestor_ids(), unit.pk], kind=OrgUnit.Kind.COMMITTEE)
        .order_by("-depth")
        .values("pk")[:1]
    )


def month_closed_exists(*, unit: OrgUnit, month: datetime.date) -> Exists:
    """``month_is_closed`` for ``unit``'s committee, as an expression to annotate a
    statement with (False where no committee is above the unit)."""
    return Exists(
        CommitteeMonth.objects.filter(
            committee_id=Subquery(committee_subquery(unit=unit)),
            month=month.replace(day=1),
            state=CommitteeMonth.State.CLOSED,
        )
    )


def month_is_closed(*, committee: OrgUnit, month: datetime.date) -> bool:
    return CommitteeMonth.objects.filter(
        committee=committee, month=month.replace(day=1), state=CommitteeMonth.State.CLOSED
    ).exists()


def committee_months(*, committee: OrgUnit):
    return CommitteeMonth.objects.filter(committee=committee).prefetch_related("events__user").order_by("-month")
