"""The 揭榜 board: challenges a committee posts, the claims branches make with their
pledges, the committee's pick that starts the project."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from branches.pages import service_form_page
from members.models import Member

from .. import selectors, services
from ..access import (
    claimable_branches,
    committees_managed,
    get_challenge_for_user,
    is_committee_of,
    visible_challenges,
)
from ..forms import ChallengeForm, ClaimForm
from ..models import Challenge, ChallengeClaim, ProjectKind
from .common import report_refusal


@login_required
def challenge_board(request):
    challenges = selectors.challenge_board(challenges=visible_challenges(request.user))
    return render(
        request,
        "projects/challenge_board.html",
        {
            "open": [c for c in challenges if c.state == Challenge.State.OPEN],
            "past": [c for c in challenges if c.state != Challenge.State.OPEN],
            "can_post": committees_managed(request.user).exists(),
        },
    )


@login_required
def challenge_create(request):
    committees = committees_managed(request.user).order_by("path")
    if not committees.exists():
        raise PermissionDenied
    kinds = ProjectKind.objects.filter(Q(committee__isnull=True) | Q(committee__in=committees))
    form = ChallengeForm(request.POST or None, committees=committees, kinds=kinds)
    return service_form_page(
        request,
        form,
        service=services.challenge_post,
        user=request.user,
        success=_("The challenge was posted on the board."),
        template="projects/challenge_form.html",
        context={"title": _("Post a challenge")},
    )


def _claim_form(user, challenge: Challenge, data=None) -> ClaimForm:
    branches = claimable_branches(user, challenge)
    members = Member.objects.filter(branch__in=branches, left_on__isnull=True).order_by("branch__path", "name")
    return ClaimForm(data, branches=branches, members=members)


@login_required
def challenge_detail(request, pk: int):
    challenge = get_challenge_for_user(request.user, pk)
    can_pick = is_committee_of(request.user, challenge.committee)
    can_claim = challenge.state == Challenge.State.OPEN and claimable_branches(request.user, challenge).exists()
    project = getattr(challenge, "project", None) if challenge.state == Challenge.State.AWARDED else None
    return render(
        request,
        "projects/challenge_detail.html",
        {
            "challenge": challenge,
            "claims": list(selectors.challenge_claims(challenge=challenge)),
            "can_pick": can_pick and challenge.state == Challenge.State.OPEN,
            "can_close": can_pick and challenge.state == Challenge.State.OPEN,
            "claim_form": _claim_form(request.user, challenge) if can_claim else None,
            "project": project,
        },
    )


@login_required
@require_POST
def challenge_claim(request, pk: int):
    challenge = get_challenge_for_user(request.user, pk, claim=True)
    form = _claim_form(request.user, challenge, request.POST)
    if form.is_valid():
        try:
            services.challenge_claim(challenge=challenge, user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            report_refusal(request, exc)
        else:
            messages.success(request, _("Your claim and pledge were registered."))
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect(challenge)


@login_required
@require_POST
def claim_pick(request, pk: int):
    claim_row = get_object_or_404(ChallengeClaim.objects.select_related("branch", "leader"), pk=pk)
    challenge = get_challenge_for_user(request.user, claim_row.challenge_id, write=True)
    claim_row.challenge = challenge
    try:
        project = services.challenge_pick(claim_row=claim_row, user=request.user)
    except ValidationError as exc:
        report_refusal(request, exc)
        return redirect(challenge)
    messages.success(
        request, _("%(branch)s takes on the challenge: the project is in progress.") % {"branch": claim_row.branch.name}
    )
    return redirect(project)


@login_required
@require_POST
def challenge_close(request, pk: int):
    challenge = get_challenge_for_user(request.user, pk, write=True)
    try:
        services.challenge_close(challenge=challenge, user=request.user)
    except ValidationError as exc:
        report_refusal(request, exc)
    else:
        messages.success(request, _("The challenge was closed."))
    return redirect(challenge)


urlpatterns = [
    path("challenges/", challenge_board, name="challenges"),
    path("challenges/new/", challenge_create, name="challenge_create"),
    path("challenges/<id:pk>/", challenge_detail, name="challenge"),
    path("challenges/<id:pk>/claim/", challenge_claim, name="challenge_claim"),
    path("challenges/<id:pk>/close/", challenge_close, name="challenge_close"),
    path("claims/<id:pk>/pick/", claim_pick, name="claim_pick"),
]
