"""Pages for 三会一课 compliance and training hours. Thin: look the unit up through
``branches.access`` (404 outside the user's subtree), read through
``branches.activities.compliance``, render."""

import datetime
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from branches.access import get_unit_for_user, user_scope
from branches.converters import FIRST_YEAR, year_in_range  # importing registers the path converters
from branches.models import OrgUnit
from branches.selectors import is_tracked, tracked_from_of, unit_ancestors

from .. import compliance
from ..compliance import BranchEntry, summary

BRANCHES_PER_PAGE = 50


def _unit(request, pk: int, *, branch_only: bool = False) -> OrgUnit:
    """The unit if the user may see it. Party groups have no compliance of their own."""
    unit = get_unit_for_user(request.user, pk)
    if unit.is_group or (branch_only and not unit.is_branch):
        raise Http404
    return unit


def _year(request, *, today: datetime.date, last: int) -> int:
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        return today.year
    return year if FIRST_YEAR <= year <= last else today.year


def _ancestors(request, unit: OrgUnit) -> list[OrgUnit]:
    scope = user_scope(request.user)
    return [a for a in unit_ancestors(unit=unit) if scope.contains(a)]


def _sections(entries: Iterable[BranchEntry], row: Callable[[OrgUnit], Any]) -> list[tuple[OrgUnit | None, list]]:
    """Consecutive entries under the same committee become one section with a heading."""
    sections: list[tuple[OrgUnit | None, list]] = []
    for entry in entries:
        if not sections or sections[-1][0] != entry.committee:
            sections.append((entry.committee, []))
        sections[-1][1].append(row(entry.branch))
    return sections


def _cells_with_urls(branch: OrgUnit, months: list[datetime.date], cells: dict) -> list[tuple]:
    """A row's cells, each with the link to its month page: one ``reverse`` per row, the
    month (the path's last part) put in for each (600 reverses a page were a tenth of it)."""
    last = reverse("activities:compliance_month", args=[branch.pk, months[0].year, 12])
    if not last.endswith("/12/"):  # the path changed shape: one reverse per cell
        return [
            (cells[(branch.pk, m)], reverse("activities:compliance_month", args=[branch.pk, m.year, m.month]))
            for m in months
        ]
    prefix = last[: -len("12/")]
    return [(cells[(branch.pk, m)], f"{prefix}{m.month}/") for m in months]


def _page_number(request) -> int | None:
    """The ``page`` asked for, when it is a plain page number (anything else is left to
    the paginator, and not cached)."""
    page = request.GET.get("page", "1")
    return int(page) if page.isdigit() and len(page) <= 4 else None


def _matrix_page(unit: OrgUnit, *, year: int, months: list, today: datetime.date, page_number, version: tuple) -> dict:
    """What the matrix page shows of ``unit``'s branches: the rendered rows of the page
    asked for, the summary over every branch and the page's place among the pages."""
    entries = compliance.branches_under(unit=unit, year=year)
    # The summary line counts every branch; only this page's branches get their cells.
    # Both are kept in the cache until the data they come from change (``summary``).
    compliant = summary.compliant_count(
        branches=[e.branch for e in entries], months=months, today=today, version=version
    )
    page = Paginator(entries, BRANCHES_PER_PAGE).get_page(page_number)
    rows_key = summary.rows_key(unit=unit, entries=list(page), months=months, today=today, version=version)
    rows_html = summary.get(rows_key)
    if rows_html is None:
        cells = compliance.compliance_matrix(branches=[e.branch for e in page], months=months, today=today)
        sections = _sections(page, lambda branch: (branch, _cells_with_urls(branch, months, cells)))
        rows_html = render_to_string(
            "activities/_compliance_rows.html", {"sections": sections, "unit": unit, "today": today}
        )
        summary.put(rows_key, rows_html)
    return {"rows_html": rows_html, "branch_total": len(entries), "compliant": compliant, "number": page.number}


@login_required
def compliance_matrix(request, unit_pk: int):
    unit = _unit(request, unit_pk)
    today = timezone.localdate()
    year = _year(request, today=today, last=today.year + 1)
    months = compliance.year_months(year)
    version = summary.data_version(months=months)
    page_number = _page_number(request)
    shown = None
    if page_number is not None:
        key = summary.page_key(unit=unit, year=year, today=today, page=page_number, version=version)
        shown = summary.get(key)
    if shown is None:
        shown = _matrix_page(
            unit,
            year=year,
            months=months,
            today=today,
            page_number=page_number or request.GET.get("page"),
            version=version,
        )
        if page_number is not None:
            summary.put(key, shown)
    # The page's place among the pages, from the number of branches alone.
    page = Paginator(range(shown["branch_total"]), BRANCHES_PER_PAGE).get_page(shown["number"])
    context = {
        "unit": unit,
        "ancestors": _ancestors(request, unit),
        "year": year,
        "years": [y for y in (year - 1, year + 1) if FIRST_YEAR <= y <= today.year + 1],
        "months": months,
        "page": page,
        "rows_html": mark_safe(shown["rows_html"]),
        "branch_total": shown["branch_total"],
        "compliant": shown["compliant"],
        "with_missing": shown["branch_total"] - shown["compliant"],
        "today": today,
        "tracked_from": tracked_from_of(unit=unit),
    }
    return render(request, "activities/compliance_matrix.html", context)


@login_required
def compliance_month(request, branch_pk: int, year: int, month: int):
    branch = _unit(request, branch_pk, branch_only=True)
    if not (year_in_range(year) and 1 <= month <= 12):
        raise Http404
    today = timezone.localdate()
    first = datetime.date(year, month, 1)
    previous = (first - datetime.timedelta(days=1)).replace(day=1)
    following = (first + datetime.timedelta(days=31)).replace(day=1)
    items = compliance.branch_month_compliance(branch=branch, month=first, today=today)
    tracked_from = tracked_from_of(unit=branch)
    context = {
        "tracked": is_tracked(tracked_from=tracked_from, month=first),
        "tracked_from": tracked_from,
        "unit": branch,
        "ancestors": _ancestors(request, branch),
        "month": first,
        "items": items,
        "previous": previous if previous.year >= FIRST_YEAR else None,
        "following": following if following.year <= today.year + 1 else None,
        "missing": sum(1 for item in items if item.status == compliance.Status.MISSING),
        "met": sum(1 for item in items if item.status == compliance.Status.MET),
        "today": today,
    }
    return render(request, "activities/compliance_month.html", context)


@login_required
def training_hours(request, unit_pk: int):
    unit = _unit(request, unit_pk)
    today = timezone.localdate()
    year = _year(request, today=today, last=today.year)
    context = {
        "unit": unit,
        "ancestors": _ancestors(request, unit),
        "year": year,
        "years": [y for y in (year - 1, year + 1) if FIRST_YEAR <= y <= today.year],
        "in_progress": year == today.year,
    }
    if unit.is_branch:
        report = compliance.branch_training_report(branch=unit, year=year, today=today)
        return render(request, "activities/training_branch.html", context | {"report": report})
    entries = compliance.branches_under(unit=unit, year=year)
    page = Paginator(entries, BRANCHES_PER_PAGE).get_page(request.GET.get("page"))
    summaries = compliance.committee_training_summary(branches=[e.branch for e in page], year=year, today=today)
    context.update(
        page=page,
        sections=_sections(page, lambda branch: summaries[branch.pk]),
        on_date=compliance.training_reference_date(year=year, today=today),
        branch_total=len(entries),
    )
    return render(request, "activities/training_committee.html", context)


urlpatterns = [
    path("compliance/<id:unit_pk>/", compliance_matrix, name="compliance_matrix"),
    path("compliance/<id:branch_pk>/<year:year>/<month:month>/", compliance_month, name="compliance_month"),
    path("training/<id:unit_pk>/", training_hours, name="training_hours"),
]
