"""Pages of the year: the committee's annual roll-up and its confirmations (committee
staff only), and the members' annual stars (everyone who sees the published boards).
Thin: access → selector or service → template."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branches.converters import FIRST_YEAR  # importing registers the path converters
from branches.forms import CrispyForm
from branches.pages import service_form_page

from .. import annual as year_grading
from ..access import can_manage_grading, get_committee_for_user
from ..models import AnnualGrade

MEMBERS_PER_PAGE = 50


class AnnualConfirmForm(CrispyForm):
    submit_label = gettext_lazy("Confirm")
    final_grade = forms.ChoiceField(label=gettext_lazy("confirmed grade"), choices=AnnualGrade.Grade.choices)
    reason = forms.CharField(
        label=gettext_lazy("reason for overriding"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Required when the confirmed grade differs from the proposed one."),
    )
    confirm_tier = forms.BooleanField(
        label=gettext_lazy("Apply the proposed tier to the branch"),
        required=False,
        help_text=gettext_lazy("The tier proposal follows the confirmed grade."),
    )


def _year(year: int) -> int:
    if not FIRST_YEAR <= year <= timezone.localdate().year:
        raise Http404
    return year


def _years(year: int) -> list[int]:
    return [y for y in (year - 1, year + 1) if FIRST_YEAR <= y <= timezone.localdate().year]


@login_required
def annual(request, committee_pk: int, year: int):
    committee = get_committee_for_user(request.user, committee_pk, manage=True)
    year = _year(year)
    if request.method == "POST":
        try:
            grades = year_grading.annual_rollup(committee=committee, year=year, user=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _("The year %(year)s is rolled up: %(count)s branches graded.") % {"year": year, "count": len(grades)},
            )
            withdrawn = [g.branch.name for g in grades if g.confirmation_withdrawn]
            if withdrawn:
                messages.warning(
                    request,
                    _("The numbers changed, so these confirmations were withdrawn — confirm them again: %(branches)s")
                    % {"branches": "、".join(withdrawn)},
                )
        return redirect("grading:annual", committee_pk=committee.pk, year=year)
    grades = list(year_grading.annual_grades(committee=committee, year=year))
    return render(
        request,
        "grading/annual_grades.html",
        {
            "committee": committee,
            "year": year,
            "years": _years(year),
            "grades": grades,
            "confirmed": sum(1 for g in grades if g.final_grade),
            "version": year_grading.annual_version(committee=committee, year=year),
            "rule_month": year_grading.rule_month(year),
        },
    )


@login_required
def annual_confirm(request, grade_pk: int):
    grade = AnnualGrade.objects.select_related("branch", "committee").filter(pk=grade_pk).first()
    if grade is None:
        raise Http404
    committee = get_committee_for_user(request.user, grade.committee_id, manage=True)
    initial = {
        "final_grade": grade.final_grade or grade.proposed_grade,
        "reason": grade.grade_reason,
        "confirm_tier": grade.tier_confirmed,
    }
    form = AnnualConfirmForm(request.POST or None, initial=initial)
    back = reverse("grading:annual", kwargs={"committee_pk": committee.pk, "year": grade.year})
    return service_form_page(
        request,
        form,
        service=year_grading.annual_grade_confirm,
        success=lambda g: _("The annual grade of %(branch)s is confirmed.") % {"branch": g.branch.name},
        template="grading/annual_confirm.html",
        context={"grade": grade, "committee": committee, "back": back},
        redirect_to=back,
        grade=grade,
        user=request.user,
    )


@login_required
def annual_members(request, committee_pk: int, year: int):
    committee = get_committee_for_user(request.user, committee_pk, manage=False)
    year = _year(year)
    branches = {b.pk: b for b in year_grading.annual_member_branches(committee=committee, year=year)}
    try:
        branch = branches.get(int(request.GET.get("branch") or 0))
    except ValueError:
        branch = None
    version = year_grading.annual_version(committee=committee, year=year)
    rows = year_grading.member_annual_stars(committee=committee, year=year, branch=branch, version=version)
    page = Paginator(rows, MEMBERS_PER_PAGE).get_page(request.GET.get("page"))
    last_branch = year_grading.members_last_branch(
        committee=committee, year=year, member_ids=[row["member_id"] for row in page]
    )
    for row in page:
        row["branch"] = branches.get(last_branch.get(row["member_id"]))
    bands = version.year_bands()
    return render(
        request,
        "grading/annual_members.html",
        {
            "committee": committee,
            "year": year,
            "years": _years(year),
            "page": page,
            "branches": list(branches.values()),
            "branch": branch,
            "bands": bands,
            "unqualified_stars": version.review_unqualified_stars,
            "query": urlencode({"branch": branch.pk}) if branch else "",
            "in_progress": year == timezone.localdate().year,
            "can_manage": can_manage_grading(request.user, committee),
        },
    )


urlpatterns = [
    path("<id:committee_pk>/year/<year:year>/", annual, name="annual"),
    path("<id:committee_pk>/year/<year:year>/members/", annual_members, name="annual_members"),
    path("annual/<id:grade_pk>/confirm/", annual_confirm, name="annual_confirm"),
]
