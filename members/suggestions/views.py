"""Suggestion pages: a branch's list and entry form, a suggestion with its timeline and
ledger entries, the committee's review queue (htmx: a refused move shows why in its
row), the funnel (its own page with a year selector, and a panel the committee page
loads). Thin: access → selectors/services → template."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from branches.access import can_manage_structure, can_write_unit, get_unit_for_user, user_scope
from branches.converters import year_in_range  # importing registers the path converters
from branches.models import OrgUnit
from branches.pages import service_form_page, stored_file_response

from . import selectors, services
from .access import can_move_suggestions, get_suggestion_for_user
from .forms import MoveForm, SuggestionForm
from .models import MOVES, NEEDS_REASON, OPEN_STATES, State, Suggestion


def _branch_for(user, pk: int, *, write: bool = False) -> OrgUnit:
    branch = get_unit_for_user(user, pk, write=write)
    if not branch.is_branch:
        raise Http404
    return branch


def _year(value: str | None, default: int) -> int | None:
    """The ``?year=`` of a list: a year the system holds, else ``default``; "all" → None."""
    if value == "all":
        return None
    try:
        year = int(value or "")
    except ValueError:
        return default
    return year if year_in_range(year) else default


@login_required
def branch_list(request, branch_pk: int):
    branch = _branch_for(request.user, branch_pk)
    today = timezone.localdate()
    year = _year(request.GET.get("year"), today.year)
    suggestions = list(selectors.branch_suggestions(branch=branch, year=year))
    years = sorted({*selectors.suggestion_years(unit=branch), today.year}, reverse=True)
    return render(
        request,
        "suggestions/branch_list.html",
        {
            "branch": branch,
            "suggestions": suggestions,
            "year": year,
            "years": years,
            "funnel": selectors.suggestion_funnel(unit=branch, year=year or today.year).total,
            "can_enter": branch.is_active and can_write_unit(request.user, branch),
            "can_move": can_move_suggestions(request.user, branch),
        },
    )


@login_required
def suggestion_create(request, branch_pk: int):
    branch = _branch_for(request.user, branch_pk, write=True)
    if not branch.is_active:
        raise PermissionDenied
    form = SuggestionForm(request.POST or None, branch=branch)
    return service_form_page(
        request,
        form,
        service=services.suggestion_submit,
        branch=branch,
        user=request.user,
        success=_("The suggestion was entered; the committee reviews it."),
        template="suggestions/suggestion_form.html",
        context={"branch": branch, "title": _("Enter a suggestion")},
    )


def _detail_context(request, suggestion: Suggestion, *, failed: str = "", form: MoveForm | None = None) -> dict:
    can_move = can_move_suggestions(request.user, suggestion.branch)
    entries = list(selectors.suggestion_entries(suggestion=suggestion))
    return {
        "suggestion": suggestion,
        "proposers": suggestion.proposers.order_by("name", "pk"),
        "timeline": selectors.suggestion_timeline(suggestion=suggestion),
        "entries": entries,
        "standing": sum((e.points for e in entries), start=selectors.ZERO),
        "moves": suggestion.moves() if can_move else [],
        "needs_reason": NEEDS_REASON,
        "failed": failed,
        "move_form": form,
    }


@login_required
def suggestion_detail(request, pk: int):
    suggestion = get_suggestion_for_user(request.user, pk)
    return render(request, "suggestions/suggestion_detail.html", _detail_context(request, suggestion))


def _run_move(request, suggestion: Suggestion, name: str, form: MoveForm) -> services.MoveOutcome | None:
    """Call the move's service with the form's fields; its refusal lands on the form."""
    data = form.cleaned_data
    kwargs = {"suggestion": suggestion, "user": request.user, "reason": data.get("reason") or ""}
    if name == "implement":
        kwargs |= {"realised_value": data.get("realised_value"), "evidence": data.get("evidence")}
    try:
        return services.MOVE_SERVICES[name](**kwargs)
    except ValidationError as exc:
        for message in exc.messages:
            form.add_error(None, message)
        return None


def _done_message(outcome: services.MoveOutcome, label: str) -> str:
    text = _("%(move)s: done.") % {"move": label}
    if outcome.entries:
        text += " " + _("%(n)s points entries posted.") % {"n": len(outcome.entries)}
    if outcome.reversed:
        text += " " + _("%(n)s points entries reversed.") % {"n": outcome.reversed}
    for member, why in outcome.skipped:
        text += " " + _("%(member)s got no points: %(why)s.") % {"member": member.name, "why": why}
    return text


@login_required
@require_POST
def suggestion_move(request, pk: int):
    """One move, named by the button pressed. From the queue (htmx) the row is swapped
    for the suggestion's new row, or shows why the move was refused; from the
    suggestion's page a refusal shows on the page, a success redirects back to it."""
    suggestion = get_suggestion_for_user(request.user, pk, write=True)
    name = request.POST.get("move", "")
    move = next((m for m in MOVES if m.name == name), None)
    form = MoveForm(request.POST, request.FILES)
    if move is None:
        form.is_valid()
        form.add_error(None, _("Choose one of the moves offered."))
        return render(
            request, "suggestions/suggestion_detail.html", _detail_context(request, suggestion, form=form), status=400
        )
    outcome = _run_move(request, suggestion, name, form) if form.is_valid() else None
    error = " ".join(e for errors in form.errors.values() for e in errors)
    if request.htmx:
        suggestion = get_suggestion_for_user(request.user, pk)
        return render(
            request,
            "suggestions/_queue_row.html",
            {
                "s": selectors.with_proposers(Suggestion.objects.filter(pk=pk)).get(),
                "error": error,
                "done": _done_message(outcome, move.label) if outcome else "",
                "needs_reason": NEEDS_REASON,
            },
        )
    if outcome is None:
        suggestion.refresh_from_db()
        return render(
            request,
            "suggestions/suggestion_detail.html",
            _detail_context(request, suggestion, failed=name, form=form),
            status=200,
        )
    messages.success(request, _done_message(outcome, move.label))
    return redirect(suggestion)


@login_required
def evidence_download(request, pk: int):
    suggestion = get_suggestion_for_user(request.user, pk)
    if not suggestion.evidence:
        raise Http404
    return stored_file_response(
        suggestion.evidence, filename=suggestion.evidence_name, content_type=suggestion.evidence_content_type
    )


def _committee_for(user, pk: int) -> OrgUnit:
    committee = get_unit_for_user(user, pk)
    if not committee.is_committee:
        raise Http404
    return committee


@login_required
def review_queue(request, committee_pk: int):
    committee = _committee_for(request.user, committee_pk)
    if not can_manage_structure(request.user, committee):
        raise PermissionDenied
    state = request.GET.get("state", "")
    states = (state,) if state in OPEN_STATES else OPEN_STATES
    suggestions = list(selectors.review_queue(unit=committee, states=states))
    return render(
        request,
        "suggestions/review_queue.html",
        {
            "committee": committee,
            "suggestions": suggestions,
            "state": state if state in OPEN_STATES else "",
            "states": [(s, State(s).label) for s in OPEN_STATES],
            "needs_reason": NEEDS_REASON,
        },
    )


def _funnel_unit(user, pk: int) -> OrgUnit:
    unit = get_unit_for_user(user, pk)
    if unit.is_group:
        raise Http404
    return unit


@login_required
def funnel(request, unit_pk: int, year: int):
    unit = _funnel_unit(request.user, unit_pk)
    years = sorted({*selectors.suggestion_years(unit=unit), timezone.localdate().year, year}, reverse=True)
    scope = user_scope(request.user)
    result = selectors.suggestion_funnel(unit=unit, year=year)
    return render(
        request,
        "suggestions/funnel.html",
        {
            "unit": unit,
            "year": year,
            "years": years,
            "funnel": result,
            "linked": {row.unit.pk for row in result.rows if scope.contains(row.unit)},
        },
    )


@login_required
def funnel_panel(request, unit_pk: int):
    """The funnel of this year, for the committee page to load into itself."""
    unit = _funnel_unit(request.user, unit_pk)
    year = timezone.localdate().year
    return render(
        request,
        "suggestions/_funnel_panel.html",
        {"unit": unit, "year": year, "total": selectors.suggestion_funnel(unit=unit, year=year).total},
    )


app_name = "suggestions"

urlpatterns = [
    path("branch/<id:branch_pk>/", branch_list, name="branch"),
    path("branch/<id:branch_pk>/new/", suggestion_create, name="create"),
    path("<id:pk>/", suggestion_detail, name="detail"),
    path("<id:pk>/move/", suggestion_move, name="move"),
    path("<id:pk>/evidence/", evidence_download, name="evidence"),
    path("review/<id:committee_pk>/", review_queue, name="queue"),
    path("funnel/<id:unit_pk>/<year:year>/", funnel, name="funnel"),
    path("funnel/<id:unit_pk>/", funnel_panel, name="funnel_panel"),
]
