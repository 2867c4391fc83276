"""Pages of the democratic review, its support plans and talks with members. Thin:
access → form → service → redirect."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from branches.access import can_write_unit, get_unit_for_user, user_scope
from branches.forms import call_service
from branches.pages import service_form_page
from branches.workflow import move_named
from members.access import can_write_member, get_member_for_user
from members.ledger.services import rule_version_for

from . import selectors, services
from .access import (
    can_confirm_review,
    can_see_talks_of,
    get_member_talk_for_user,
    get_review_for_user,
    get_review_result_for_user,
    get_support_plan_for_user,
    visible_member_talks,
)
from .forms import (
    FollowUpForm,
    PlanCloseForm,
    ReasonForm,
    ReviewGridForm,
    ReviewStartForm,
    SupportPlanForm,
    TalkDoneForm,
    TalkForm,
)
from .models import MOVES, Rating

# --- the review ------------------------------------------------------------------------


def _branch(user, pk: int, *, write: bool = False):
    branch = get_unit_for_user(user, pk, write=write)
    if not branch.is_branch:
        raise Http404
    return branch


@login_required
def branch_review(request, branch_pk: int, year: int):
    """The branch's review of ``year``: its page if started, else the form to start it."""
    branch = _branch(request.user, branch_pk)
    review = selectors.branch_review(branch=branch, year=year)
    if review is not None:
        return redirect(review)
    can_write = can_write_unit(request.user, branch)
    form = None
    if can_write:
        meetings = selectors.review_meetings(branch=branch, year=year)
        form = ReviewStartForm(request.POST or None, meetings=meetings)
        if request.method == "POST" and form.is_valid():
            review = call_service(
                form,
                services.review_start,
                branch=branch,
                year=year,
                meeting=form.cleaned_data["meeting"],
                user=request.user,
            )
            if review is not None:
                messages.success(request, _("The democratic review of %(year)s is started.") % {"year": year})
                return redirect(review)
    return render(
        request,
        "reviews/review_start.html",
        {"branch": branch, "year": year, "form": form, "years": _years(year)},
    )


def _years(year: int) -> list[int]:
    this = timezone.localdate().year
    return sorted({this - 2, this - 1, this, year})


@login_required
def review_detail(request, pk: int):
    review = get_review_for_user(request.user, pk)
    can_write = can_write_unit(request.user, review.branch)
    rows = selectors.review_grid(review=review)
    scope = user_scope(request.user)
    for row in rows:
        # What the member page's access asks (the member's branch in the scope), without
        # a query per row.
        row.visible = scope.contains(row.member.branch)
    form = None
    if review.is_editable and can_write:
        form = ReviewGridForm(request.POST or None, rows=rows)
        if request.method == "POST":
            if form.is_valid():
                saved = call_service(
                    form, services.review_results_save, review=review, rows=form.result_rows(), user=request.user
                )
                if saved is not None:
                    messages.success(request, _("The results are saved."))
                    return redirect(review)
    elif request.method == "POST":
        get_review_for_user(request.user, pk, write=True)  # 403 for read-only users
    version = rule_version_for(unit=review.branch, month=review.meeting.date.replace(day=1))
    share = version.review_excellent_share
    can_confirm = can_confirm_review(request.user, review.branch)
    return render(
        request,
        "reviews/review_detail.html",
        {
            "review": review,
            "branch": review.branch,
            "rows": form.bound_rows(rows) if form else [(row, None) for row in rows],
            "form": form,
            "counts": [(rating.label, selectors.rating_counts(review=review)[rating.value]) for rating in Rating],
            "share": services.share_text(share),
            "allowed": services.excellent_allowed(members=len(rows), share=share),
            "member_count": len(rows),
            "can_write": can_write,
            "can_confirm": can_confirm,
            "transitions": selectors.review_transitions(review=review),
            "confirmed_by": selectors.user_label(review.confirmed_by),
            "moves": {m.name: m for m in MOVES},
        },
    )


@login_required
@require_POST
def review_submit(request, pk: int):
    review = get_review_for_user(request.user, pk, write=True)
    return _move(request, review, services.review_submit, _("The review is submitted to the committee."))


@login_required
@require_POST
def review_confirm(request, pk: int):
    review = get_review_for_user(request.user, pk, write=True, confirm=True)
    return _move(request, review, services.review_confirm, _("The review is confirmed."))


def _move(request, review, service, success: str):
    try:
        service(review=review, user=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, success)
    return redirect(review)


def _reason_page(request, pk: int, *, service, label: str, success: str):
    review = get_review_for_user(request.user, pk, write=True, confirm=True)
    form = ReasonForm(request.POST or None, submit_label=label)
    return service_form_page(
        request,
        form,
        service=service,
        success=success,
        template="reviews/form.html",
        context={"title": f"{label} · {review}", "back": review.get_absolute_url()},
        redirect_to=review,
        review=review,
        user=request.user,
    )


@login_required
def review_return(request, pk: int):
    return _reason_page(
        request,
        pk,
        service=services.review_return,
        label=str(move_named(MOVES, "return").label),
        success=_("The review is returned to the branch."),
    )


@login_required
def review_reopen(request, pk: int):
    return _reason_page(
        request,
        pk,
        service=services.review_reopen,
        label=str(move_named(MOVES, "reopen").label),
        success=_("The review is reopened: the branch may change its results."),
    )


@login_required
def committee_reviews(request, committee_pk: int, year: int):
    committee = get_unit_for_user(request.user, committee_pk)
    if not committee.is_committee:
        raise Http404
    return render(
        request,
        "reviews/committee_reviews.html",
        {
            "committee": committee,
            "year": year,
            "years": _years(year),
            "rows": selectors.committee_reviews(committee=committee, year=year),
            "ratings": Rating.choices,
            "plans": selectors.committee_plans(committee=committee, year=year),
            "today": timezone.localdate(),
        },
    )


# --- support plans ----------------------------------------------------------------------


@login_required
def plan_create(request, pk: int):
    result = get_review_result_for_user(request.user, pk, write=True)
    branch = result.review.branch
    helpers = selectors.review_members(review=result.review).exclude(pk=result.member_id)
    form = SupportPlanForm(request.POST or None, helpers=helpers)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        plan = call_service(
            form,
            services.support_plan_create,
            result=result,
            helpers=list(data["helpers"]),
            measures=data["measures"],
            review_on=data["review_on"],
            user=request.user,
        )
        if plan is not None:
            messages.success(request, _("The support plan for %(name)s is made.") % {"name": result.member.name})
            return redirect(plan)
    return render(
        request,
        "reviews/form.html",
        {
            "title": _("Support plan for %(name)s") % {"name": result.member.name},
            "help": _("%(name)s was rated %(rating)s in the democratic review of %(branch)s, %(year)s.")
            % {
                "name": result.member.name,
                "rating": result.get_rating_display(),
                "branch": branch.name,
                "year": result.review.year,
            },
            "form": form,
            "back": result.review.get_absolute_url(),
        },
    )


@login_required
def plan_detail(request, pk: int):
    plan = get_support_plan_for_user(request.user, pk)
    can_write = can_write_unit(request.user, plan.result.review.branch)
    form = None
    if plan.is_open and can_write:
        form = FollowUpForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            if call_service(form, services.support_follow_up_add, plan=plan, user=request.user, **form.cleaned_data):
                messages.success(request, _("The follow-up is recorded."))
                return redirect(plan)
    elif request.method == "POST":
        get_support_plan_for_user(request.user, pk, write=True)
    return render(
        request,
        "reviews/plan_detail.html",
        {
            "plan": plan,
            "review": plan.result.review,
            "helpers": plan.helpers.order_by("employee_no"),
            "follow_ups": plan.follow_ups.select_related("recorded_by"),
            "form": form,
            "can_write": can_write,
            "overdue": plan.is_open and plan.review_on < timezone.localdate(),
        },
    )


@login_required
def plan_close(request, pk: int):
    plan = get_support_plan_for_user(request.user, pk, write=True)
    form = PlanCloseForm(request.POST or None)
    return service_form_page(
        request,
        form,
        service=services.support_plan_close,
        success=_("The support plan is closed."),
        template="reviews/form.html",
        context={
            "title": _("Close the support plan of %(name)s") % {"name": plan.member.name},
            "back": plan.get_absolute_url(),
        },
        redirect_to=plan,
        plan=plan,
        user=request.user,
    )


# --- talks with members -------------------------------------------------------------------


def _talk_member(user, pk: int, *, write: bool = False):
    member = get_member_for_user(user, pk, write=write)
    if not can_see_talks_of(user, member):
        raise Http404
    return member


@login_required
def member_talks(request, pk: int):
    member = _talk_member(request.user, pk)
    return render(
        request,
        "reviews/member_talks.html",
        {
            "member": member,
            # Only the talks of a branch the user may read them for: after a transfer the
            # new branch's secretary does not read what the old branch recorded.
            "talks": selectors.member_talks(member=member).filter(pk__in=visible_member_talks(request.user)),
            "can_write": can_write_member(request.user, member),
            "today": timezone.localdate(),
        },
    )


@login_required
def talk_create(request, pk: int):
    member = _talk_member(request.user, pk, write=True)
    form = TalkForm(request.POST or None)
    return service_form_page(
        request,
        form,
        service=services.member_talk_record,
        success=_("The talk with %(name)s is recorded.") % {"name": member.name},
        template="reviews/form.html",
        context={"title": _("Record a talk with %(name)s") % {"name": member.name}, "back": _talks_url(member.pk)},
        member=member,
        user=request.user,
    )


def _talks_url(member_pk: int) -> str:
    return reverse("reviews:member_talks", args=[member_pk])


@login_required
def talk_edit(request, pk: int):
    talk = get_member_talk_for_user(request.user, pk, write=True)
    fields = ("held_on", "kind", "talker_name", "talker_role", "topic", "follow_up", "follow_up_due")
    form = TalkForm(request.POST or None, initial={f: getattr(talk, f) for f in fields})
    return service_form_page(
        request,
        form,
        service=services.member_talk_update,
        success=_("The talk is saved."),
        template="reviews/form.html",
        context={
            "title": _("Edit the talk with %(name)s") % {"name": talk.member.name},
            "back": talk.get_absolute_url(),
        },
        talk=talk,
        user=request.user,
    )


@login_required
def talk_done(request, pk: int):
    talk = get_member_talk_for_user(request.user, pk, write=True)
    form = TalkDoneForm(request.POST or None)
    return service_form_page(
        request,
        form,
        service=services.member_talk_follow_up_done,
        success=_("The follow-up is marked done."),
        template="reviews/form.html",
        context={
            "title": _("Follow-up of the talk with %(name)s") % {"name": talk.member.name},
            "help": talk.follow_up,
            "back": talk.get_absolute_url(),
        },
        redirect_to=talk,
        talk=talk,
        user=request.user,
    )
