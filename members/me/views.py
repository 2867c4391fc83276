"""The member's own pages (mobile first), their password change, and the secretary's
pages that issue member logins. Thin: access → selectors/services → template."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import PasswordChangeView
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from branches.access import get_unit_for_user
from branches.converters import year_in_range  # importing registers the path converters
from branches.downloads import file_response
from branches.forms import call_service
from members.access import get_member_for_user
from members.suggestions.models import Suggestion
from members.suggestions.services import suggestion_submit

from . import selectors, services
from .access import get_own_member
from .forms import MySuggestionForm
from .middleware import MUST_CHANGE
from .xlsx import one_time_passwords_xlsx


@login_required
def me_home(request):
    member = get_own_member(request.user)
    today = timezone.localdate()
    committee = selectors.committee_of(member)
    standings = selectors.my_monthly_standings(member=member, committee=committee, year=today.year)
    if not standings:  # January before anything is published: last year's last board
        standings = selectors.my_monthly_standings(member=member, committee=committee, year=today.year - 1)
    return render(
        request,
        "me/home.html",
        {
            "member": member,
            "today": today,
            "points": selectors.my_points(member=member, today=today),
            "latest": standings[0] if standings else None,
            "annual": selectors.my_annual_stars(member=member, committee=committee, year=today.year),
            "training": selectors.my_training(member=member, today=today),
            "birthday": selectors.political_birthday(member=member, today=today),
            "suggestions": Suggestion.objects.filter(proposers=member).order_by("-submitted_on", "-pk")[:5],
        },
    )


@login_required
def me_points(request):
    member = get_own_member(request.user)
    today = timezone.localdate()
    try:
        year = int(request.GET.get("year", today.year))
    except ValueError:
        year = today.year
    if not year_in_range(year) or year > today.year:
        year = today.year
    committee = selectors.committee_of(member)
    return render(
        request,
        "me/points.html",
        {
            "member": member,
            "year": year,
            "years": [y for y in range(today.year, today.year - 5, -1) if year_in_range(y)],
            "points": selectors.my_points(
                member=member, today=today if year == today.year else today.replace(year=year, month=12, day=1)
            ),
            "entries": selectors.my_entries(member=member, year=year),
            "standings": selectors.my_monthly_standings(member=member, committee=committee, year=year),
            "annual": selectors.my_annual_stars(member=member, committee=committee, year=year),
        },
    )


@login_required
def me_board(request):
    member = get_own_member(request.user)
    committee = selectors.committee_of(member)
    return render(
        request,
        "me/board.html",
        {"member": member, "committee": committee, "board": selectors.my_board(committee=committee)},
    )


@login_required
def me_suggest(request):
    member = get_own_member(request.user)
    form = MySuggestionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        suggestion = call_service(
            form,
            suggestion_submit,
            branch=member.branch,
            proposers=[member],
            user=request.user,
            **form.cleaned_data,
        )
        if suggestion is not None:
            messages.success(request, _("Your suggestion was submitted to the branch."))
            return redirect("me:suggest")
    return render(
        request,
        "me/suggest.html",
        {
            "member": member,
            "form": form,
            "suggestions": Suggestion.objects.filter(proposers=member).order_by("-submitted_on", "-pk"),
        },
    )


class PasswordChange(PasswordChangeView):
    """Every user's own password change (Django's view, linked from the user menu); for
    a member login with a one-time password it is also the forced first change (the
    password the secretary printed stops working as such)."""

    template_name = "me/password.html"
    success_url = reverse_lazy("home")

    def get_context_data(self, **kwargs):
        return super().get_context_data(**kwargs, forced=bool(self.request.session.get(MUST_CHANGE)))

    def form_valid(self, form):
        response = super().form_valid(form)  # saves and keeps this session logged in
        services.member_login_password_changed(user=form.user)
        self.request.session.pop(MUST_CHANGE, None)
        messages.success(self.request, _("Your password was changed."))
        return response


me_password = PasswordChange.as_view()


# --- the secretary's side: issuing logins -------------------------------------------------


@login_required
@require_POST
def login_issue(request, pk: int):
    """Issue a login (or a new one-time password) for one member: shown once, here."""
    member = get_member_for_user(request.user, pk, write=True)
    try:
        issued = services.member_login_create(member=member, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(member)
    return render(request, "me/login_issued.html", {"member": member, "issued": [issued]})


@login_required
def branch_logins(request, branch_pk: int):
    """GET: what the sheet will hold; POST: issue the logins and download the sheet."""
    branch = get_unit_for_user(request.user, branch_pk, write=True)
    without = branch.members.filter(left_on__isnull=True, user__isnull=True).order_by("employee_no")
    error = None
    if request.method == "POST":
        try:
            issued = services.member_logins_create_for_branch(branch=branch, user=request.user)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            content = one_time_passwords_xlsx(branch_name=branch.name, issued=issued)
            return file_response(
                content,
                filename=_("%(branch)s member logins.xlsx") % {"branch": branch.name},
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
    return render(
        request,
        "me/branch_logins.html",
        {
            "branch": branch,
            "without": without,
            "with_login": branch.members.filter(left_on__isnull=True, user__isnull=False).count(),
            "error": error,
        },
    )


app_name = "me"

urlpatterns = [
    path("", me_home, name="home"),
    path("points/", me_points, name="points"),
    path("board/", me_board, name="board"),
    path("suggest/", me_suggest, name="suggest"),
    path("password/", me_password, name="password"),
    path("logins/members/<id:pk>/", login_issue, name="login_issue"),
    path("logins/branches/<id:branch_pk>/", branch_logins, name="branch_logins"),
]
