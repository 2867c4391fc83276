"""The committee's input grid: the dimensions the rule-set version in force has the
committee enter (班子建设, 生产经营 and 其他工作 by default; 基础工作 and 党员队伍建设 where
the version says so), per branch and month — one cell per dimension, or one per scored
item (细则) where the version splits the dimension, each saved on change with htmx,
with who entered it, when, and its history. A dimension scored by items has a column of
its own: the sum of its items and the "not assessed" mark for the whole dimension."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import get_language
from django.views.decorators.http import require_POST

import branches.converters  # noqa: F401  (registers the <id:>, <year:> and <month:> converters)
from branches.models import OrgUnit
from branches.selectors import committee_for, month_is_closed
from members.ledger.models import ScoreItem

from .. import engine, publishing, services
from ..access import get_committee_for_user
from ..forms import ScoreCellForm
from ..models import Dimension, ScoreInput

HUNDRED = Decimal("100")


def list_separator() -> str:
    """How the language lists words: 班子建设、生产经营 / committee work, production."""
    return "、" if (get_language() or "").startswith("zh") else ", "


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


@dataclass(frozen=True)
class Column:
    """One column of the grid: a dimension scored as a whole, one item of a dimension,
    or (``mark``) an itemised dimension's own column — its sum and "not assessed"."""

    dimension: str
    item: ScoreItem | None = None
    mark: bool = False

    @property
    def label(self) -> str:
        return self.item.name if self.item is not None else str(Dimension(self.dimension).label)


@dataclass(frozen=True)
class Heading:
    """The first header row: a dimension over its columns."""

    dimension: str
    columns: int
    itemised: bool

    @property
    def label(self) -> str:
        return str(Dimension(self.dimension).label)


def grid_columns(scheme: engine.Scheme) -> tuple[list[Heading], list[Column]]:
    headings, columns = [], []
    for dimension in scheme.entered:
        items = scheme.items_of(dimension)
        headings.append(Heading(dimension, len(items) + 1 if items else 1, bool(items)))
        columns += [Column(dimension, item) for item in items]
        columns.append(Column(dimension, mark=bool(items)))
    return headings, columns


@dataclass
class Cell:
    branch: OrgUnit
    dimension: str
    input: ScoreInput | None
    editable: bool
    item: ScoreItem | None = None
    mark: bool = False  # the "not assessed" mark of a dimension scored by items
    score: object = None  # what the number box shows
    not_assessed: bool = False
    saved: bool = False
    error: str = ""
    # For a mark: the sum of the items entered so far, how many, and of how many.
    total: Decimal | None = None
    items_entered: int = 0
    items_count: int = 0
    url: str = ""  # where the cell posts
    history: str = ""  # its history page
    # An item the version feeds from the 月述职 score, for a branch that reported that
    # month: the score comes from there (shown, not typed).
    fed: object = None

    @classmethod
    def of(
        cls, branch: OrgUnit, column: Column, entered: engine.EnteredScores, scheme: engine.Scheme, *, editable: bool
    ) -> "Cell":
        if column.item is not None:
            score_input = entered.by_item.get((branch.pk, column.item.pk))
        else:
            score_input = entered.whole.get((branch.pk, column.dimension))
        cell = cls(
            branch=branch,
            dimension=column.dimension,
            item=column.item,
            mark=column.mark,
            input=score_input,
            editable=editable,
            score=score_input.score if score_input else None,
            not_assessed=score_input.not_assessed if score_input else False,
        )
        if column.mark:
            cell.summarise(entered, scheme)
        elif column.item is not None and (fed := entered.fed_score(branch.pk, column.item)) is not None:
            cell.fed, cell.score, cell.editable = fed, entered.item_score(branch.pk, column.item), False
        return cell

    def summarise(self, entered: engine.EnteredScores, scheme: engine.Scheme) -> None:
        items = scheme.items_of(self.dimension)
        scores = [s for s in (entered.item_score(self.branch.pk, item) for item in items) if s is not None]
        self.items_count, self.items_entered = len(items), len(scores)
        self.total = sum(scores, Decimal("0")) if scores else None

    @property
    def key(self) -> str:
        """What the cell's element ids end with: branch, dimension and item."""
        return f"{self.branch.pk}-{self.dimension}" + (f"-{self.item.pk}" if self.item is not None else "")

    @property
    def label(self) -> str:
        label = str(Dimension(self.dimension).label)
        return f"{label} · {self.item.name}" if self.item is not None else label

    @property
    def max_score(self) -> Decimal:
        return self.item.max_score if self.item is not None else HUNDRED

    @property
    def missing(self) -> bool:
        if self.fed is not None:
            return False
        if self.mark:
            return not self.not_assessed and self.items_entered < self.items_count
        return self.input is None or (self.input.score is None and not self.input.not_assessed)

    def _args(self, month: datetime.date) -> list:
        return [self.branch.pk, month.year, month.month]

    def post_url(self, month: datetime.date) -> str:
        if self.item is not None:
            return reverse("grading:input_item_cell", args=[*self._args(month), self.item.pk])
        return reverse("grading:input_cell", args=[*self._args(month), self.dimension])

    def history_url(self, month: datetime.date) -> str:
        if self.item is not None:
            return reverse("grading:input_item_history", args=[*self._args(month), self.item.pk])
        return reverse("grading:input_history", args=[*self._args(month), self.dimension])


@login_required
def inputs(request: HttpRequest, committee_pk: int, year: int, month: int) -> HttpResponse:
    committee = get_committee_for_user(request.user, committee_pk, manage=True)
    day = month_or_404(year, month)
    scheme = engine.scheme_for(unit=committee, month=day)
    headings, columns = grid_columns(scheme)
    branches = publishing.grid_branches(committee=committee, month=day)
    page = Paginator(branches, publishing.GRID_PAGE_SIZE).get_page(request.GET.get("page"))
    closed = month_is_closed(committee=committee, month=day)
    entered = publishing.input_cells(branch_ids=[b.pk for b in page], month=day, scheme=scheme)
    rows = [
        (branch, [Cell.of(branch, column, entered, scheme, editable=not closed) for column in columns])
        for branch in page
    ]
    for _branch, cells in rows:
        for cell in cells:
            cell.url, cell.history = cell.post_url(day), cell.history_url(day)
    missing = publishing.missing_inputs(committee=committee, month=day, branches=branches, scheme=scheme)
    return render(
        request,
        "grading/inputs_grid.html",
        {
            "committee": committee,
            "month": day,
            "page": page,
            "rows": rows,
            "scheme": scheme,
            "headings": headings,
            "columns": columns,
            "itemised": any(h.itemised for h in headings),
            "entered_labels": list_separator().join(h.label for h in headings),
            "missing_count": sum(len(m.cells) for m in missing),
            "missing_branches": len(missing),
            "closed": closed,
        },
    )


def _save_cell(
    request: HttpRequest,
    branch: OrgUnit,
    committee: OrgUnit,
    day: datetime.date,
    dimension: str,
    item: ScoreItem | None,
) -> HttpResponse:
    """Save one cell; htmx swaps in the cell again, with a tick or the error (the value
    typed kept in the box, the saved one said in words). A cell of a dimension scored
    by items also refreshes that dimension's sum."""
    scheme = engine.scheme_for(unit=branch, month=day)
    mark = item is None and bool(scheme.items_of(dimension))
    form = ScoreCellForm(request.POST)
    cell = Cell(branch=branch, dimension=dimension, input=None, editable=True, item=item, mark=mark)
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
                item=item,
            )
            cell.score, cell.saved = cell.input.score, True
        except ValidationError as exc:
            cell.error = " ".join(exc.messages)
    else:
        cell.score, cell.not_assessed = request.POST.get("score", ""), bool(request.POST.get("not_assessed"))
        cell.error = " ".join(e for errors in form.errors.values() for e in errors)
    if cell.error:
        rows = ScoreInput.objects.filter(branch=branch, month=day)
        cell.input = (
            rows.filter(item=item) if item is not None else rows.filter(dimension=dimension, item=None)
        ).first()
        cell.editable = not month_is_closed(committee=committee, month=day)
        if mark and cell.input is not None:
            cell.not_assessed = cell.input.not_assessed  # the box shows what is saved
    if not request.htmx:
        if cell.error:
            messages.error(request, cell.error)
        return redirect("grading:inputs", committee.pk, day.year, day.month)
    cell.url, cell.history = cell.post_url(day), cell.history_url(day)
    summary = None
    if scheme.items_of(dimension):
        entered = engine.EnteredScores(ScoreInput.objects.filter(branch=branch, month=day, dimension=dimension))
        if mark:
            summary = cell
            cell.summarise(entered, scheme)
        else:
            summary = Cell.of(branch, Column(dimension, mark=True), entered, scheme, editable=False)
    return render(request, "grading/inputs_cell.html", {"cell": cell, "month": day, "summary": summary})


@login_required
@require_POST
def input_cell(request: HttpRequest, branch_pk: int, year: int, month: int, dimension: str) -> HttpResponse:
    branch, committee = branch_for_manager(request.user, branch_pk)
    day = month_or_404(year, month)
    if dimension not in Dimension.values:
        raise Http404
    return _save_cell(request, branch, committee, day, dimension, None)


@login_required
@require_POST
def input_item_cell(request: HttpRequest, branch_pk: int, year: int, month: int, item_pk: int) -> HttpResponse:
    branch, committee = branch_for_manager(request.user, branch_pk)
    day = month_or_404(year, month)
    item = ScoreItem.objects.filter(pk=item_pk).first()
    if item is None:
        raise Http404
    return _save_cell(request, branch, committee, day, item.dimension, item)


def _history(request, committee, branch, day, *, score_input, dimension: str, item: ScoreItem | None):
    return render(
        request,
        "grading/inputs_history.html",
        {
            "committee": committee,
            "branch": branch,
            "month": day,
            "dimension": Dimension(dimension),
            "item": item,
            "changes": publishing.input_history(score_input=score_input) if score_input else [],
            "grid_url": reverse("grading:inputs", args=[committee.pk, day.year, day.month]),
        },
    )


@login_required
def input_history(request: HttpRequest, branch_pk: int, year: int, month: int, dimension: str) -> HttpResponse:
    branch, committee = branch_for_manager(request.user, branch_pk)
    day = month_or_404(year, month)
    if dimension not in Dimension.values:
        raise Http404
    score_input = ScoreInput.objects.filter(branch=branch, month=day, dimension=dimension, item=None).first()
    # A computed dimension has no history, unless an earlier version had it entered.
    if score_input is None and dimension not in engine.scheme_for(unit=branch, month=day).entered:
        raise Http404
    return _history(request, committee, branch, day, score_input=score_input, dimension=dimension, item=None)


@login_required
def input_item_history(request: HttpRequest, branch_pk: int, year: int, month: int, item_pk: int) -> HttpResponse:
    branch, committee = branch_for_manager(request.user, branch_pk)
    day = month_or_404(year, month)
    item = ScoreItem.objects.filter(pk=item_pk).first()
    if item is None:
        raise Http404
    score_input = ScoreInput.objects.filter(branch=branch, month=day, item=item).first()
    return _history(request, committee, branch, day, score_input=score_input, dimension=item.dimension, item=item)


urlpatterns = [
    path("<id:committee_pk>/<year:year>/<month:month>/inputs/", inputs, name="inputs"),
    path("inputs/<id:branch_pk>/<year:year>/<month:month>/<str:dimension>/", input_cell, name="input_cell"),
    path(
        "inputs/<id:branch_pk>/<year:year>/<month:month>/<str:dimension>/history/",
        input_history,
        name="input_history",
    ),
    path(
        "inputs/<id:branch_pk>/<year:year>/<month:month>/items/<id:item_pk>/",
        input_item_cell,
        name="input_item_cell",
    ),
    path(
        "inputs/<id:branch_pk>/<year:year>/<month:month>/items/<id:item_pk>/history/",
        input_item_history,
        name="input_item_history",
    ),
]
