"""Pages of the party groups (星级党小组): a committee's group board for a month
(published, a chosen version, or — for committee staff — the draft), the numbers behind
one group's score, the groups' year, and the way in from a branch's page.

Access is the branch boards': ``get_committee_for_user`` for the published boards (and
everything under them), ``?draft=1`` only for those who manage the committee's grading
(a 404 for anyone else). Thin: access → ``group_boards`` selectors → template.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode

from branches.access import user_scope
from branches.converters import MAX_ID
from branches.models import OrgUnit
from branches.selectors import committee_for
from members.access import visible_members
from members.ledger.selectors import add_months

from .. import boards, group_boards
from ..access import get_committee_for_user
from .annual import _year, _years
from .boards import _base, _flag, _mode, _month, _source_query, explained


def _branch_filter(request, committee: OrgUnit) -> OrgUnit | None:
    """``?branch=`` limits the board to one branch of the committee; anything else is a 404."""
    value = request.GET.get("branch", "")
    if not value:
        return None
    try:
        pk = int(value)
    except ValueError:
        raise Http404 from None
    branch = None
    if 0 < pk <= MAX_ID:
        branch = OrgUnit.objects.filter(pk=pk, kind=OrgUnit.Kind.BRANCH, path__startswith=committee.path).first()
    if branch is None:
        raise Http404
    return branch


@login_required
def group_board(request, committee_pk: int, year: int, month: int):
    committee = get_committee_for_user(request.user, committee_pk)
    month_date = _month(year, month)
    manage, draft, version = _mode(request, committee)
    branch = _branch_filter(request, committee)
    order = request.GET.get("order", "rank")
    print_mode = _flag(request, "print")
    board = group_boards.group_board(committee, month_date, draft=draft, version=version, branch=branch, order=order)
    if version is not None and board.source is None:
        raise Http404
    this_month = timezone.localdate().replace(day=1)
    following = add_months(month_date, 1)
    # Month links keep the draft and the branch; order links pin this exact board too.
    keep = {"draft": 1} if draft else {}
    if branch is not None:
        keep["branch"] = branch.pk
    pinned = dict(keep)
    if board.publication is not None:
        pinned = {"version": board.publication.version, **keep}
    context = {
        "committee": committee,
        "month": month_date,
        "previous_month": add_months(month_date, -1),
        "following_month": following if following <= this_month else None,
        "manage": manage,
        "board": board,
        "print_mode": print_mode,
        "base_template": _base(print_mode),
        "month_query": urlencode(keep),
        "pinned_query": urlencode(pinned),
        "source_query": _source_query(board.source) if board.source is not None else "",
        "orders": list(group_boards.ORDER_LABELS.items()),
    }
    if board.source is None and manage:
        context["draft_exists"] = boards.draft_exists(committee=committee, month=month_date)
    return render(request, "grading/groups_board.html", context)


@login_required
def explain_group(request, committee_pk: int, year: int, month: int, group_pk: int):
    committee, month_date, manage, source, group = explained(
        request, committee_pk, year, month, group_pk, OrgUnit.Kind.GROUP
    )
    print_mode = _flag(request, "print")
    explanation = group_boards.group_explanation(source, group)
    if explanation is None:
        raise Http404
    # Ledgers and meetings open for those whose scope holds the group's branch; others
    # (a secretary of another branch under the committee) see the numbers only.
    records_visible = user_scope(request.user).contains(explanation.score.branch)
    ledger_members = (
        set(
            visible_members(request.user)
            .filter(pk__in=[m.member_id for m in explanation.members])
            .values_list("pk", flat=True)
        )
        if records_visible
        else set()
    )
    source_query = _source_query(source)
    return render(
        request,
        "grading/groups_explain.html",
        {
            "committee": committee,
            "month": month_date,
            "month_param": f"{month_date:%Y-%m}",
            "group": group,
            "manage": manage,
            "x": explanation,
            "score": explanation.score,
            "source_query": source_query,
            "board_url": reverse("grading:group_board", args=[committee.pk, month_date.year, month_date.month])
            + "?"
            + source_query,
            "records_visible": records_visible,
            "ledger_members": ledger_members,
            "print_mode": print_mode,
            "base_template": _base(print_mode),
        },
    )


@login_required
def group_year(request, committee_pk: int, year: int):
    committee = get_committee_for_user(request.user, committee_pk)
    year = _year(year)
    page = group_boards.committee_group_year(committee=committee, year=year)
    return render(
        request,
        "grading/groups_year.html",
        {
            "committee": committee,
            "year": year,
            "years": _years(year),
            "page": page,
            "in_progress": year == timezone.localdate().year,
        },
    )


@login_required
def branch_groups(request, branch_pk: int):
    """From a branch's page: its groups on its committee's latest published group board
    (the committee's page that says nothing is published yet, until something is)."""
    branch = OrgUnit.objects.filter(pk=branch_pk, kind=OrgUnit.Kind.BRANCH).first()
    committee = committee_for(unit=branch) if branch is not None else None
    if committee is None:
        raise Http404
    committee = get_committee_for_user(request.user, committee.pk)
    latest = boards.latest_publication(committee=committee)
    if latest is None:
        return redirect("grading:latest_board", committee.pk)
    url = reverse("grading:group_board", args=[committee.pk, latest.month.year, latest.month.month])
    return redirect(f"{url}?{urlencode({'branch': branch.pk})}")


urlpatterns = [
    path("<id:committee_pk>/<year:year>/<month:month>/groups/", group_board, name="group_board"),
    path(
        "<id:committee_pk>/<year:year>/<month:month>/groups/<id:group_pk>/",
        explain_group,
        name="explain_group",
    ),
    path("<id:committee_pk>/year/<year:year>/groups/", group_year, name="group_year"),
    path("branches/<id:branch_pk>/groups/", branch_groups, name="branch_groups"),
]
