"""Pages of commitments (承诺践诺): a branch's year (commitments, templates), a
commitment, the check grid of a period (one htmx cell per commitment), the results of a
period with their publication (公示), and the committee's completion rates.
Thin: access → selectors or service → template."""

import datetime
import os

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from branches.access import can_write_unit
from branches.converters import FIRST_YEAR, LAST_YEAR  # importing registers the converters
from branches.forms import call_service
from branches.pages import service_form_page, stored_file_response
from branches.selectors import committee_for, month_is_closed
from branches.uploads import content_type_for
from members.ledger.models import LedgerEntry, Source

from . import selectors, services
from .access import (
    can_publish,
    get_branch_for_user,
    get_branch_results_for_user,
    get_check_for_user,
    get_commitment_for_user,
    get_committee_for_user,
    get_milestone_for_user,
    get_template_for_user,
)
from .forms import CheckCellForm, CommitmentForm, MilestoneForm, PublishForm, TargetForm, TemplateForm
from .models import Commitment, CommitmentCheck, Period, Result


def _check_months(branch, year: int) -> dict[str, datetime.date | None]:
    months = {}
    for period in Period.values:
        try:
            months[period] = services.check_month(branch=branch, year=year, period=period)
        except ValidationError:
            months[period] = None  # no rule set in force: the page says so, nothing is checked
    return months


def _year_nav(year: int) -> dict[str, int | None]:
    """The years either side that the URLs hold (none before 2000 or after 2100)."""
    return {
        "prev_year": year - 1 if year > FIRST_YEAR else None,
        "next_year": year + 1 if year < LAST_YEAR else None,
    }


def _period_cards(branch, year: int) -> list[dict]:
    months = _check_months(branch, year)
    publications = selectors.publications_of(branch=branch, year=year)
    return [
        {
            "period": period,
            "month": months[period],
            "publication": publications.get(period),
            "grid_url": reverse(f"commitments:check_{period}", args=[branch.pk, year]),
            "results_name": f"commitments:results_{period}",
        }
        for period in Period
    ]


@login_required
def branch_year(request: HttpRequest, branch_pk: int, year: int) -> HttpResponse:
    branch = get_branch_for_user(request.user, branch_pk)
    commitments = list(selectors.branch_commitments(branch=branch, year=year))
    checks = selectors.checks_by_commitment(commitments=commitments)
    rows = [(c, checks.get((c.pk, Period.MID)), checks.get((c.pk, Period.FINAL))) for c in commitments]
    return render(
        request,
        "commitments/branch_year.html",
        {
            "branch": branch,
            "year": year,
            "rows": rows,
            "templates": selectors.branch_templates(branch=branch, year=year),
            "period_cards": _period_cards(branch, year),
            "can_write": can_write_unit(request.user, branch),
            **_year_nav(year),
        },
    )


@login_required
def commitment_create(request: HttpRequest, branch_pk: int, year: int) -> HttpResponse:
    branch = get_branch_for_user(request.user, branch_pk, write=True)
    members = branch.members.filter(left_on__isnull=True).order_by("employee_no", "name")
    form = CommitmentForm(request.POST or None, members=members)
    return service_form_page(
        request,
        form,
        service=services.commitment_create,
        success=_("The commitment is recorded."),
        template="commitments/commitment_form.html",
        context={"branch": branch, "year": year, "title": _("New commitment")},
        redirect_to=reverse("commitments:branch_year", args=[branch.pk, year]),
        branch=branch,
        year=year,
        user=request.user,
    )


@login_required
def template_create(request: HttpRequest, branch_pk: int, year: int) -> HttpResponse:
    branch = get_branch_for_user(request.user, branch_pk, write=True)
    return service_form_page(
        request,
        TemplateForm(request.POST or None),
        service=services.commitment_template_create,
        success=_("The template is saved: give it to every member from the branch's commitments."),
        template="commitments/commitment_form.html",
        context={"branch": branch, "year": year, "title": _("New template for every member")},
        redirect_to=reverse("commitments:branch_year", args=[branch.pk, year]),
        branch=branch,
        year=year,
        user=request.user,
    )


@login_required
@require_POST
def template_give(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_template_for_user(request.user, pk, write=True)
    made = services.commitment_template_give(template=template, user=request.user)
    if made:
        messages.success(
            request,
            _("%(n)s members were given the commitment %(text)s.") % {"n": made, "text": template.text[:40]},
        )
    else:
        messages.info(request, _("Every member of the branch already has this commitment."))
    return redirect("commitments:branch_year", template.branch_id, template.year)


@login_required
def commitment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    commitment = get_commitment_for_user(request.user, pk)
    checks = {c.period: c for c in commitment.checks.select_related("checked_by")}
    entries = LedgerEntry.objects.filter(source=Source.COMMITMENT, source_id=commitment.pk).select_related(
        "rule", "reverses"
    )
    return render(
        request,
        "commitments/commitment_detail.html",
        {
            "commitment": commitment,
            "milestones": commitment.milestones.all(),
            "check_rows": [(period, checks.get(period.value)) for period in Period],
            "has_checks": bool(checks),
            "entries": entries.order_by("recorded_at", "pk"),
            "can_write": can_write_unit(request.user, commitment.branch),
            "milestone_form": MilestoneForm(),
        },
    )


@login_required
def commitment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    commitment = get_commitment_for_user(request.user, pk, write=True)
    form = TargetForm(
        request.POST or None,
        initial={name: getattr(commitment, name) for name in TargetForm.base_fields},
    )
    return service_form_page(
        request,
        form,
        service=services.commitment_update,
        success=_("The commitment is saved."),
        template="commitments/commitment_form.html",
        context={"branch": commitment.branch, "year": commitment.year, "title": _("Edit the commitment")},
        redirect_to=commitment.get_absolute_url(),
        commitment=commitment,
        user=request.user,
    )


@login_required
@require_POST
def commitment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    commitment = get_commitment_for_user(request.user, pk, write=True)
    try:
        services.commitment_delete(commitment=commitment, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(commitment)
    messages.success(request, _("The commitment is deleted."))
    return redirect("commitments:branch_year", commitment.branch_id, commitment.year)


@login_required
@require_POST
def milestone_add(request: HttpRequest, pk: int) -> HttpResponse:
    commitment = get_commitment_for_user(request.user, pk, write=True)
    form = MilestoneForm(request.POST)
    if form.is_valid() and call_service(
        form, services.commitment_milestone_add, commitment=commitment, user=request.user, **form.cleaned_data
    ):
        messages.success(request, _("The milestone is added."))
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect(commitment)


@login_required
@require_POST
def milestone_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    milestone = get_milestone_for_user(request.user, pk, write=True)
    services.commitment_milestone_set_done(milestone=milestone, done=not milestone.done, user=request.user)
    return redirect(milestone.commitment)


class Cell:
    """One commitment's result cell in the check grid."""

    def __init__(self, commitment: Commitment, period: str, check: CommitmentCheck | None, *, editable: bool):
        self.commitment = commitment
        self.period = period
        self.check = check
        self.editable = editable
        self.result = check.result if check else ""
        self.note = check.note if check else ""
        self.saved = False
        self.error = ""
        self.posted = ""

    @property
    def key(self) -> str:
        return f"{self.commitment.pk}-{self.period}"

    @property
    def url(self) -> str:
        return reverse(f"commitments:check_cell_{self.period}", args=[self.commitment.pk])


def _grid_state(branch, year: int, period: str) -> tuple[datetime.date | None, bool, object]:
    """The check month, whether it is closed, and the period's publication."""
    month = _check_months(branch, year)[period]
    committee = committee_for(unit=branch)
    closed = bool(month and committee and month_is_closed(committee=committee, month=month))
    return month, closed, services.publication_of(branch=branch, year=year, period=period)


@login_required
def check_grid(request: HttpRequest, branch_pk: int, year: int, period: str) -> HttpResponse:
    branch = get_branch_for_user(request.user, branch_pk)
    month, closed, publication = _grid_state(branch, year, period)
    published = bool(publication and publication.is_published)
    editable = can_write_unit(request.user, branch) and month is not None and not closed and not published
    commitments = list(selectors.branch_commitments(branch=branch, year=year))
    checks = selectors.checks_by_commitment(commitments=commitments)
    cells = [Cell(c, period, checks.get((c.pk, period)), editable=editable) for c in commitments]
    return render(
        request,
        "commitments/check_grid.html",
        {
            "branch": branch,
            "year": year,
            "period": Period(period),
            "month": month,
            "closed": closed,
            "publication": publication,
            "cells": cells,
            "summary": selectors.period_summary(branch=branch, year=year, period=period),
            "results": Result.choices,
        },
    )


@login_required
@require_POST
def check_cell(request: HttpRequest, pk: int, period: str) -> HttpResponse:
    """Save one commitment's result; htmx swaps in the cell again, with a tick and the
    points posted, or with why nothing was saved (the saved result kept on show)."""
    commitment = get_commitment_for_user(request.user, pk, write=True)
    form = CheckCellForm(request.POST, request.FILES)
    cell = Cell(commitment, period, None, editable=True)
    if form.is_valid():
        cell.result, cell.note = form.cleaned_data["result"], form.cleaned_data["note"]
        try:
            outcome = services.commitment_check_set(
                commitment=commitment, period=period, user=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            cell.error = " ".join(exc.messages)
        else:
            cell.check, cell.saved = outcome.check, True
            if outcome.posted:
                cell.posted = _("+%(points)s points posted") % {"points": f"{outcome.posted[0].points.normalize():f}"}
            elif outcome.skipped:
                cell.posted = _("No points: %(why)s") % {"why": outcome.skipped[0][1]}
    else:
        cell.result, cell.note = request.POST.get("result", ""), request.POST.get("note", "")
        cell.error = " ".join(e for errors in form.errors.values() for e in errors)
    if cell.error:
        cell.check = CommitmentCheck.objects.filter(commitment=commitment, period=period).first()
        if not request.htmx:
            messages.error(request, cell.error)
    if not request.htmx:
        return redirect(f"commitments:check_{period}", commitment.branch_id, commitment.year)
    return render(request, "commitments/_check_cell.html", {"cell": cell, "results": Result.choices})


@login_required
def evidence(request: HttpRequest, pk: int) -> HttpResponse:
    check = get_check_for_user(request.user, pk)
    name = os.path.basename(check.evidence.name)
    return stored_file_response(check.evidence, filename=name, content_type=content_type_for(name))


@login_required
def results(request: HttpRequest, branch_pk: int, year: int, period: str) -> HttpResponse:
    branch = get_branch_results_for_user(request.user, branch_pk)
    publication = services.publication_of(branch=branch, year=year, period=period)
    published = bool(publication and publication.is_published)
    may_publish = can_publish(request.user, branch)
    rows = []
    if published or may_publish:
        commitments = list(selectors.branch_commitments(branch=branch, year=year))
        checks = selectors.checks_by_commitment(commitments=commitments)
        rows = [(c, checks.get((c.pk, period))) for c in commitments]
    return render(
        request,
        "commitments/results.html",
        {
            "branch": branch,
            "year": year,
            "period": Period(period),
            "month": _check_months(branch, year)[period],
            "publication": publication,
            "published": published,
            "may_publish": may_publish,
            "rows": rows,
            "summary": selectors.period_summary(branch=branch, year=year, period=period),
            "form": PublishForm(),
        },
    )


@login_required
@require_POST
def publish(request: HttpRequest, branch_pk: int, year: int, period: str) -> HttpResponse:
    branch = get_branch_results_for_user(request.user, branch_pk, publish=True)
    form = PublishForm(request.POST)
    if form.is_valid():
        try:
            services.check_publication_publish(
                branch=branch, year=year, period=period, user=request.user, note=form.cleaned_data["note"]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The results are published."))
    return redirect(f"commitments:results_{period}", branch.pk, year)


@login_required
def rates(request: HttpRequest, committee_pk: int, year: int) -> HttpResponse:
    committee = get_committee_for_user(request.user, committee_pk)
    return render(
        request,
        "commitments/rates.html",
        {
            "committee": committee,
            "year": year,
            "rows": selectors.committee_rates(committee=committee, year=year),
            "periods": Period,
            **_year_nav(year),
        },
    )


def _per_period(route: str, view, name: str) -> list:
    """One pattern per period: ``…/mid/`` and ``…/final/``, named ``<name>_mid`` and
    ``<name>_final`` (a period is a word of the path, not a parameter)."""
    return [
        path(route.replace("<period>", period), view, {"period": period}, name=f"{name}_{period}")
        for period in Period.values
    ]


app_name = "commitments"

urlpatterns = [
    path("branch/<id:branch_pk>/<year:year>/", branch_year, name="branch_year"),
    path("branch/<id:branch_pk>/<year:year>/add/", commitment_create, name="create"),
    path("branch/<id:branch_pk>/<year:year>/templates/add/", template_create, name="template_create"),
    path("templates/<id:pk>/give/", template_give, name="template_give"),
    path("<id:pk>/", commitment_detail, name="detail"),
    path("<id:pk>/edit/", commitment_edit, name="edit"),
    path("<id:pk>/delete/", commitment_delete, name="delete"),
    path("<id:pk>/milestones/", milestone_add, name="milestone_add"),
    path("milestones/<id:pk>/toggle/", milestone_toggle, name="milestone_toggle"),
    *_per_period("branch/<id:branch_pk>/<year:year>/check/<period>/", check_grid, "check"),
    *_per_period("<id:pk>/check/<period>/", check_cell, "check_cell"),
    path("checks/<id:pk>/evidence/", evidence, name="evidence"),
    *_per_period("branch/<id:branch_pk>/<year:year>/results/<period>/", results, "results"),
    *_per_period("branch/<id:branch_pk>/<year:year>/results/<period>/publish/", publish, "publish"),
    path("committee/<id:committee_pk>/<year:year>/", rates, name="rates"),
]
