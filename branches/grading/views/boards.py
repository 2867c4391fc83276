"""Pages of the ranking boards: a committee's month (published, a chosen version, or —
for committee staff — the draft), the explanation behind a branch's numbers, a print
layout and the large screen of a branch's activity room (党建活动室). Thin: access →
``branches.grading.boards`` selectors → template.

Access: ``get_committee_for_user`` (published boards for everyone under the committee);
``?draft=1`` is for those who manage the committee's grading and a 404 for anyone else,
exactly like a committee they may not see.
"""

import datetime

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

import branches.converters  # noqa: F401  (registers the <id:>, <year:> and <month:> converters)
from branches import dataversion
from branches.access import Role, scope_signature, user_scope
from branches.models import OrgUnit
from branches.selectors import is_tracked, tracked_from_of
from branches.services import month_label
from members.access import visible_members
from members.ledger.selectors import add_months

from .. import board_cache, boards
from ..access import can_manage_grading, get_committee_for_user
from ..loop import loop_month
from ..models import Dimension

TOP_MEMBERS = 3
# A group company's board can have thousands of ★5 members: the page lists the first
# ones and says how many there are; ``?stars=all`` lists them all.
STARS_SHOWN = 100
SCREEN_TOP = 10
SCREEN_MEMBERS = 5
SCREEN_REFRESH_SECONDS = 300


def _month(year: int, month: int) -> datetime.date:
    try:
        return datetime.date(year, month, 1)
    except ValueError:
        raise Http404 from None


def _flag(request, name: str) -> bool:
    return request.GET.get(name, "") not in ("", "0")


def _mode(request, committee: OrgUnit) -> tuple[bool, bool, int | None]:
    """(may manage, draft asked for, version asked for). The draft is for committee
    staff only: anyone else asking for it gets a 404."""
    manage = can_manage_grading(request.user, committee)
    draft = _flag(request, "draft")
    if draft and not manage:
        raise Http404
    version = None
    if not draft and request.GET.get("version"):
        try:
            version = int(request.GET["version"])
        except ValueError:
            raise Http404 from None
    return manage, draft, version


def _source_query(source: boards.Source) -> str:
    """The query that pins a link to the same board: the draft or this exact version."""
    if isinstance(source, boards.Draft):
        return urlencode({"draft": 1})
    return urlencode({"version": source.version})


def _base(print_mode: bool) -> str:
    return "grading/board_print_base.html" if print_mode else "base.html"


def _padded(items: list, n: int) -> list:
    """``items`` filled up with None to ``n`` columns."""
    return items + [None] * (n - len(items))


def _dimension_labels() -> list[tuple[str, str]]:
    return [(d.value, d.label) for d in boards.DIMENSIONS]


@login_required
def board(request, committee_pk: int, year: int, month: int):
    committee = get_committee_for_user(request.user, committee_pk)
    month_date = _month(year, month)
    manage, draft, version = _mode(request, committee)
    print_mode = _flag(request, "print")
    all_stars = request.GET.get("stars") == "all"
    today = timezone.localdate()
    page_key = None
    if not draft and not manage:
        # A viewer who does not manage the grading: the header is theirs only through
        # their scope, so the whole content is kept per scope (``board_cache.page_key``).
        scope = user_scope(request.user)
        if not scope.units(Role.COMMITTEE_STAFF):
            page_key = board_cache.page_key(
                committee=committee,
                month=month_date,
                version=version,
                today=today,
                print_mode=print_mode,
                all_stars=all_stars,
                scope=scope_signature(scope),
            )
            page = board_cache.get(page_key) if page_key is not None else None
            if page is not None:
                context = {
                    "committee": committee,
                    "month": month_date,
                    "print_mode": print_mode,
                    "base_template": _base(print_mode),
                    "cached_page": mark_safe(page),
                }
                return render(request, "grading/board_month.html", context)
    if manage:
        # Those who manage the grading: the whole content (header and body) is kept under
        # the data versions of what it read, per viewer (``branches/dataversion.py``): the
        # guided flow's draft status (the inputs' watermark, the missing cells) is read
        # once per change of its inputs, not per request.
        parts = [
            "board",
            board_cache.TEMPLATE_VERSION,
            dataversion.deploy_signature(),
            committee.pk,
            month_date.isoformat(),
            draft,
            version,
            print_mode,
            all_stars,
            today.isoformat(),
            get_language(),
            timezone.get_current_timezone_name(),
            request.user.pk,
            bool(request.user.is_staff),
            bool(request.user.is_superuser),
            scope_signature(user_scope(request.user)),
        ]
        kind, kept = dataversion.cached(
            "grading-board",
            parts,
            lambda: _content(request, committee, month_date, manage, draft, version, today),
            also=("auth_user", "branches_rolebinding", "branches_orgunit"),  # the viewer, the committee
            keep=lambda result: result[0] == "page",
        )
        if kind != "page":
            return render(request, kind, kept)
        context = {
            "committee": committee,
            "month": month_date,
            "print_mode": print_mode,
            "base_template": _base(print_mode),
            "cached_page": mark_safe(kept),
        }
        return render(request, "grading/board_month.html", context)
    kind, context = _content(request, committee, month_date, manage, draft, version, today, page_key=page_key)
    return render(request, kind, context)


def _content(request, committee, month_date, manage, draft, version, today, *, page_key=None):
    """The board's content: ("page", its HTML) for the page's content to keep, or (a
    template, its context) to render."""
    print_mode = _flag(request, "print")
    all_stars = request.GET.get("stars") == "all"
    # A published version never changes, nor does a draft between two grading runs: the
    # body is rendered once per key (see ``board_cache``); the header, the viewer's own,
    # is rendered every time.
    cache_key = cached_body = None
    if draft:
        cache_key = board_cache.draft_key(
            committee_id=committee.pk, month=month_date, today=today, print_mode=print_mode, all_stars=all_stars
        )
        cached_body = board_cache.get(cache_key) if cache_key is not None else None
        if cached_body is not None:
            result = boards.draft_head(committee, month_date)
        else:
            result = boards.board(committee, month_date, draft=True)
    else:
        result = boards.board_head(committee, month_date, version=version)
        if result.source is not None:
            cache_key = board_cache.key(
                publication=result.source, today=today, print_mode=print_mode, all_stars=all_stars
            )
            cached_body = board_cache.get(cache_key)
            if cached_body is None:
                result = boards.board(committee, month_date, draft=False, version=version, today=today)
    from_cache = cached_body is not None
    if version is not None and result.source is None:
        raise Http404
    this_month = today.replace(day=1)
    following = add_months(month_date, 1)
    context = {
        "committee": committee,
        "month": month_date,
        "previous_month": add_months(month_date, -1),
        "following_month": following if following <= this_month else None,
        "manage": manage,
        "board": result,
        "print_mode": print_mode,
        "base_template": _base(print_mode),
    }
    if manage:
        context["draft_month"] = boards.current_draft_month(committee=committee)
        if not print_mode:  # the guided flow of the month (录入评分 → … → 谈话)
            context["loop"] = loop_month(committee=committee, month=month_date, today=today)
    if result.source is None:
        tracked_from = tracked_from_of(unit=committee)
        context["draft_exists"] = manage and boards.draft_exists(committee=committee, month=month_date)
        context["tracked_from"] = tracked_from
        context["tracked"] = is_tracked(tracked_from=tracked_from, month=month_date)
        context["latest"] = boards.latest_publication(committee=committee)
        return "grading/board_unpublished.html", context
    source = result.source
    context["source_query"] = _source_query(source)
    if cached_body is None:
        top = boards.top_members(source, per_branch=TOP_MEMBERS)
        bins = boards.histogram_bins(boards.board_totals(source))
        context.update(
            {
                "dimensions": _dimension_labels(),
                "top_members": [(row.branch, _padded(top.get(row.branch.pk, []), TOP_MEMBERS)) for row in result.rows],
                "stars": boards.star_list(source, limit=None if all_stars else STARS_SHOWN),
                "star_total": boards.star_count(source),
                "all_stars": all_stars,
                "bins": bins,
                "distribution_data": {
                    "title": _("Distribution of totals"),
                    "series": _("Branches"),
                    "labels": [b.label for b in bins],
                    "counts": [b.count for b in bins],
                },
            }
        )
        if cache_key is not None:
            cached_body = render_to_string("grading/_board_month_body.html", context, request=request)
            if result.rows:  # an empty board is not kept: its header would lack the rules
                board_cache.put(cache_key, cached_body)
    if cached_body is not None:
        context["cached_body"] = mark_safe(cached_body)
        if manage:
            header = render_to_string("grading/board_header.html", context, request=request)
            return "page", f"{header}\n\n{cached_body}"
        # Only a board with rows has its body kept (read from the cache or just put):
        # the same holds for the page.
        if page_key is not None and (result.rows or from_cache):
            header = render_to_string("grading/board_header.html", context, request=request)
            page = f"{header}\n\n{cached_body}"
            board_cache.put(page_key, page)
            context["cached_page"] = mark_safe(page)
    return "grading/board_month.html", context


@login_required
def latest_board(request, committee_pk: int):
    """Where 排名榜 in the navigation goes: the committee's latest published board. Until
    something is published, a page that says so and where to go instead; committee
    staff also get the draft they are working on."""
    committee = get_committee_for_user(request.user, committee_pk)
    latest = boards.latest_publication(committee=committee)
    if latest is not None:
        return redirect("grading:board", committee.pk, latest.month.year, latest.month.month)
    manage = can_manage_grading(request.user, committee)
    return render(
        request,
        "grading/board_none.html",
        {
            "committee": committee,
            "manage": manage,
            "draft_month": boards.current_draft_month(committee=committee) if manage else None,
            "work_month": add_months(timezone.localdate().replace(day=1), -1),
        },
    )


def explained(request, committee_pk: int, year: int, month: int, unit_pk: int, kind: str):
    """What an explanation page (a branch's or a group's) starts from: the committee the
    user may see, the month, the mode, the board source asked for and the unit under the
    committee — 404 for any that is missing."""
    committee = get_committee_for_user(request.user, committee_pk)
    month_date = _month(year, month)
    manage, draft, version = _mode(request, committee)
    source = boards.board_source(committee, month_date, draft=draft, version=version)
    if source is None:
        raise Http404
    unit = OrgUnit.objects.filter(pk=unit_pk, kind=kind, path__startswith=committee.path).first()
    if unit is None:
        raise Http404
    return committee, month_date, manage, source, unit


@login_required
def explain_branch(request, committee_pk: int, year: int, month: int, branch_pk: int):
    committee, month_date, manage, source, branch = explained(
        request, committee_pk, year, month, branch_pk, OrgUnit.Kind.BRANCH
    )
    print_mode = _flag(request, "print")
    explanation = boards.branch_explanation(source, branch)
    if explanation is None:
        raise Http404
    history = boards.branch_history(committee, branch, until=month_date)
    # The chart draws published months only: twelve slots with ten empty ones say nothing.
    plotted = [p for p in history if p.total is not None]
    month_param = f"{month_date:%Y-%m}"
    # Ledgers and activities open for those whose scope holds the branch; others (a
    # secretary of another branch under the committee) see the numbers only.
    records_visible = user_scope(request.user).contains(branch)
    # A member's ledger page follows the member: one who has since moved out of the
    # user's scope is reached through the entries of this branch only.
    ledger_members = (
        set(
            visible_members(request.user)
            .filter(pk__in=[m.member_id for m in explanation.members])
            .values_list("pk", flat=True)
        )
        if records_visible
        else set()
    )
    return render(
        request,
        "grading/explain_branch.html",
        {
            "committee": committee,
            "month": month_date,
            "month_param": month_param,
            "branch": branch,
            "manage": manage,
            "x": explanation,
            "score": explanation.score,
            "source_query": _source_query(source),
            "board_url": reverse("grading:board", args=[committee.pk, month_date.year, month_date.month])
            + "?"
            + _source_query(source),
            "records_visible": records_visible,
            "ledger_members": ledger_members,
            "print_mode": print_mode,
            "base_template": _base(print_mode),
            "basics_label": Dimension.BASICS.label,
            "membership_label": Dimension.MEMBERSHIP.label,
            "history": history,
            "history_data": {
                "months": [month_label(p.month) for p in plotted],
                "totals": [p.total for p in plotted],
                "ranks": [p.rank for p in plotted],
                "total_label": _("Total"),
                "rank_label": _("Rank"),
            },
        },
    )


@login_required
def screen(request, committee_pk: int, branch_pk: int):
    committee = get_committee_for_user(request.user, committee_pk)
    branch = OrgUnit.objects.filter(pk=branch_pk, kind=OrgUnit.Kind.BRANCH, path__startswith=committee.path).first()
    if branch is None:
        raise Http404
    context = {
        "committee": committee,
        "branch": branch,
        "refresh_seconds": SCREEN_REFRESH_SECONDS,
        "now": timezone.localtime(),
    }
    latest = boards.latest_publication(committee=committee)
    if latest is not None:
        result = boards.board(committee, latest.month, draft=False, version=latest.version)
        context.update(
            {
                "publication": latest,
                "own": next((row for row in result.rows if row.branch.pk == branch.pk), None),
                "top": result.rows[:SCREEN_TOP],
                "graded": len(result.rows),
                "members": boards.top_members(latest, per_branch=SCREEN_MEMBERS, branch=branch).get(branch.pk, []),
                "stars": boards.star_list(latest, branch=branch),
            }
        )
    # The self-refreshing container asks for itself every few minutes (htmx): only the panel.
    template = "grading/board_screen_panel.html" if request.htmx else "grading/board_screen.html"
    return render(request, template, context)


urlpatterns = [
    path("<id:committee_pk>/board/", latest_board, name="latest_board"),
    path("<id:committee_pk>/<year:year>/<month:month>/", board, name="board"),
    path("<id:committee_pk>/<year:year>/<month:month>/branches/<id:branch_pk>/", explain_branch, name="explain_branch"),
    path("<id:committee_pk>/screen/<id:branch_pk>/", screen, name="screen"),
]
