"""The committee's input grid: 班子建设, 生产经营 and 其他工作 per branch and month, each
cell saved on change with htmx, with who entered it, when, and its history."""

import datetime
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

import branches.converters  # noqa: F401  (registers the <id:>, <year:> and <month:> converters)
from branches.models import OrgUnit
from branches.selectors import committee_for, month_is_closed

from .. import publishing, services
from ..access import get_committee_for_user
from ..forms import ScoreCellForm
from ..models import ENTERED_DIMENSIONS, Dimension, ScoreInput


def month_or_404(year: int, month: int) -> datetime.date:
    try:
        return publishing.month_of(year, month)
    except ValueError:
        raise Http404 from None


def branch_for_manager(user, branch_pk: int) -> tuple[OrgUnit, OrgUnit]:
    """The branch and its committee, if the user manages the committee's grading; 404 otherwise."""
    branch = OrgUnit.objects.filter(pk=branch_pk, kind=OrgUnit.Kind.BRANCH).first()
    committee = committee_for(unit=branch) if branch else None
    if committee is None:
        raise Http404
    return branch, get_committee_for_user(user, committee.pk, manage=True)


@dataclass
class Cell:
    branch: OrgUnit
    dimension: str
    input: ScoreInput | None
    editable: bool
    score: object = None  # what the number box shows
    not_assessed: bool = False
    saved: bool = False
    error: str = ""

    @classmethod
    def of(cls, branch: OrgUnit, dimension: str, score_input: ScoreInput | None, *, editable: bool) -> "Cell":
        return cls(
            branch=branch,
            dimension=dimension,
            input=score_input,
            editable=editable,
            score=score_input.score if score_input else None,
            not_assessed=score_input.not_assessed if score_input else False,
        )

    @property
    def label(self) -> str:
        return Dimension(self.dimension).label


@login_required
def inputs(request: HttpRequest, committee_pk: int, year: int, month: int) -> HttpResponse:
    committee = get_committee_for_user(request.user, committee_pk, manage=True)
    day = month_or_404(year, month)
    branches = publishing.grid_branches(committee=committee, month=day)
    page = Paginator(branches, publishing.GRID_PAGE_SIZE).get_page(request.GET.get("page"))
    closed = month_is_closed(committee=committee, month=day)
    cells = publishing.input_cells(branch_ids=[b.pk for b in page], month=day)
    rows = [
        (branch, [Cell.of(branch, d, cells.get((branch.pk, d)), editable=not closed) for d in ENTERED_DIMENSIONS])
        for branch in page
    ]
    missing = publishing.missing_inputs(committee=committee, month=day, branches=branches)
    return render(
        request,
        "grading/inputs_grid.html",
        {
            "committee": committee,
            "month": day,
            "page": page,
            "rows": rows,
            "dimensions": [Dimension(d) for d in ENTERED_DIMENSIONS],
            "missing_count": sum(len(m.dimensions) for m in missing),
            "missing_branches": len(missing),
            "closed": closed,
        },
    )


@login_required
@require_POST
def input_cell(request: HttpRequest, branch_pk: int, year: int, month: int, dimension: str) -> HttpResponse:
    """Save one cell; htmx swaps in the cell again, with a tick or the error."""
    branch, committee = branch_for_manager(request.user, branch_pk)
    day = month_or_404(year, month)
    if dimension not in Dimension.values:
        raise Http404
    form = ScoreCellForm(request.POST)
    cell = Cell(branch=branch, dimension=dimension, input=None, editable=True)
    if form.is_valid():
        cell.score, cell.not_assessed = form.cleaned_data["score"], form.cleaned_data["not_assessed"]
        try:
            cell.input = services.score_input_set(
                branch=branch,
                month=day,
                dimension=dimension,
                score=cell.score,
                not_assessed=cell.not_assessed,
                user=request.user,
            )
            cell.score, cell.saved = cell.input.score, True
        except ValidationError as exc:
            cell.error = " ".join(exc.messages)
    else:
        cell.score, cell.not_assessed = request.POST.get("score", ""), bool(request.POST.get("not_assessed"))
        cell.error = " ".join(e for errors in form.errors.values() for e in errors)
    if cell.error:
        cell.input = ScoreInput.objects.filter(branch=branch, month=day, dimension=dimension).first()
        cell.editable = not month_is_closed(committee=committee, month=day)
    if not request.htmx:
        if cell.error:
            messages.error(request, cell.error)
        return redirect("grading:inputs", committee.pk, day.year, day.month)
    return render(request, "grading/inputs_cell.html", {"cell": cell, "month": day})


@login_required
def input_history(request: HttpRequest, branch_pk: int, year: int, month: int, dimension: str) -> HttpResponse:
    branch, committee = branch_for_manager(request.user, branch_pk)
    day = month_or_404(year, month)
    if dimension not in ENTERED_DIMENSIONS:
        raise Http404
    score_input = ScoreInput.objects.filter(branch=branch, month=day, dimension=dimension).first()
    changes = publishing.input_history(score_input=score_input) if score_input else []
    return render(
        request,
        "grading/inputs_history.html",
        {
            "committee": committee,
            "branch": branch,
            "month": day,
            "dimension": Dimension(dimension),
            "changes": changes,
            "grid_url": reverse("grading:inputs", args=[committee.pk, day.year, day.month]),
        },
    )


urlpatterns = [
    path("<id:committee_pk>/<year:year>/<month:month>/inputs/", inputs, name="inputs"),
    path("inputs/<id:branch_pk>/<year:year>/<month:month>/<str:dimension>/", input_cell, name="input_cell"),
    path(
        "inputs/<id:branch_pk>/<year:year>/<month:month>/<str:dimension>/history/",
        input_history,
        name="input_history",
    ),
]
