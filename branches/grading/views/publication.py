"""Publication (公示) and talks (谈话帮扶) pages: the draft's status and the Publish
button, reopening with a reason, every published version and what changed between
them; the bottom-three branches' talks and which are overdue."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

import branches.converters  # noqa: F401  (registers the <id:>, <year:> and <month:> converters)
from branches.forms import call_service
from branches.models import OrgUnit
from branches.pages import service_form_page
from branches.selectors import committee_months
from branches.services import month_label, month_reopen

from .. import publishing
from ..access import can_manage_grading, get_committee_for_user
from ..forms import PublicationReopenForm, PublishForm, TalkForm
from ..models import Publication
from .inputs import month_or_404

MISSING_SHOWN = 50  # missing branches listed on the publish page
MEMBERS_PAGE_SIZE = 100


@login_required
def publish(request: HttpRequest, committee_pk: int, year: int, month: int) -> HttpResponse:
    committee = get_committee_for_user(request.user, committee_pk, manage=True)
    day = month_or_404(year, month)
    action = request.POST.get("action")
    publish_form = PublishForm(request.POST if action == "publish" else None, prefix="publish")
    reopen_form = PublicationReopenForm(request.POST if action == "reopen" else None, prefix="reopen")
    here = reverse("grading:publish", args=[committee.pk, day.year, day.month])
    if action == "publish" and publish_form.is_valid():
        # Publishing closes the month and makes talks due: the first POST only shows
        # what will happen; the confirmation names the draft (its run) it was shown, so
        # a draft graded again in between is not published unseen.
        status = publishing.draft_status(committee, day)
        confirmed = request.POST.get("confirmed") == "1"
        if confirmed and status.run is not None and request.POST.get("run") != str(status.run.pk):
            messages.warning(request, _("The draft has been graded again since. Check what publishing does now."))
            confirmed = False
        if not confirmed and status.ready:
            return render(
                request,
                "grading/publication_confirm.html",
                {
                    "committee": committee,
                    "month": day,
                    "status": status,
                    "preview": publishing.publish_preview(committee, day, timezone.localdate()),
                    "note": publish_form.cleaned_data["note"],
                },
            )
        # Not ready: the page below says why. Confirmed: the service checks again.
        publication = confirmed and call_service(
            publish_form,
            publishing.board_publish,
            committee=committee,
            month=day,
            user=request.user,
            note=publish_form.cleaned_data["note"],
        )
        if publication:
            messages.success(
                request,
                _("Version %(version)s of %(month)s is published, and the month is closed.")
                % {"version": publication.version, "month": month_label(day)},
            )
            return redirect(here)
    elif action == "reopen" and reopen_form.is_valid():
        reopened = call_service(
            reopen_form,
            month_reopen,
            committee=committee,
            month=day,
            reason=reopen_form.cleaned_data["reason"],
            user=request.user,
        )
        if reopened:
            messages.success(
                request,
                _("%(month)s is open again. Correct it, grade it again and publish a new version.")
                % {"month": month_label(day)},
            )
            return redirect(here)
    status = publishing.draft_status(committee, day)
    return render(
        request,
        "grading/publication_publish.html",
        {
            "committee": committee,
            "month": day,
            "status": status,
            "missing_shown": status.missing[:MISSING_SHOWN],
            "publications": publishing.publications_of(committee=committee, month=day),
            "committee_month": committee_months(committee=committee).filter(month=day).first(),
            "publish_form": publish_form,
            "reopen_form": reopen_form,
        },
    )


@login_required
def publication_changes(request: HttpRequest, pk: int) -> HttpResponse:
    """What a published version changed against the one before it; readable by
    everyone who may see the committee's published boards."""
    publication = Publication.objects.select_related("committee", "published_by").filter(pk=pk).first()
    if publication is None:
        raise Http404
    committee = get_committee_for_user(request.user, publication.committee_id, manage=False)
    previous = publishing.previous_publication(publication=publication)
    diff = publishing.publication_diff(previous, publication)
    show_all = request.GET.get("all") == "1"
    return render(
        request,
        "grading/publication_changes.html",
        {
            "committee": committee,
            "publication": publication,
            "previous": previous,
            "diff": diff,
            "branches": diff.branches if show_all else diff.changed_branches,
            "show_all": show_all,
            "members": Paginator(diff.members, MEMBERS_PAGE_SIZE).get_page(request.GET.get("page")),
            "members_gone": diff.members_gone[:MEMBERS_PAGE_SIZE],
            "can_manage": can_manage_grading(request.user, committee),
        },
    )


@login_required
def talk_create(request: HttpRequest, committee_pk: int, year: int, month: int, branch_pk: int) -> HttpResponse:
    committee = get_committee_for_user(request.user, committee_pk, manage=True)
    day = month_or_404(year, month)
    branch = OrgUnit.objects.filter(pk=branch_pk, kind=OrgUnit.Kind.BRANCH, path__startswith=committee.path).first()
    if branch is None:
        raise Http404
    flagged = next(
        (t for t in publishing.talk_board(committee, timezone.localdate(), month=day) if t.branch.pk == branch.pk),
        None,
    )
    return service_form_page(
        request,
        TalkForm(request.POST or None),
        service=publishing.talk_record,
        committee=committee,
        month=day,
        branch=branch,
        user=request.user,
        success=_("The talk with %(branch)s is recorded.") % {"branch": branch.name},
        redirect_to=reverse("grading:talks", args=[committee.pk]),
        template="grading/talk_form.html",
        context={"committee": committee, "month": day, "branch": branch, "flagged": flagged},
    )


@login_required
def talks(request: HttpRequest, committee_pk: int) -> HttpResponse:
    committee = get_committee_for_user(request.user, committee_pk, manage=True)
    board = publishing.talk_board(committee, timezone.localdate())
    return render(
        request,
        "grading/talk_list.html",
        {
            "committee": committee,
            "board": board,
            "overdue": sum(1 for t in board if t.overdue),
            "due_days": publishing.talk_due_days(),
        },
    )


urlpatterns = [
    path("<id:committee_pk>/<year:year>/<month:month>/publish/", publish, name="publish"),
    path("publications/<id:pk>/changes/", publication_changes, name="publication_changes"),
    path("<id:committee_pk>/<year:year>/<month:month>/talks/<id:branch_pk>/new/", talk_create, name="talk_create"),
    path("<id:committee_pk>/talks/", talks, name="talks"),
]
