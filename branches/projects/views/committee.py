"""The committee's project pages: the approval queue, the year-end evaluation grid, the
summary of the year and the settings (kinds, grade names)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.forms import call_service

from .. import selectors, services
from ..access import get_committee_for_user, visible_projects
from ..forms import GradeNamesForm, KindForm, ReasonForm
from ..models import Project


@login_required
def approval_queue(request, committee_pk: int):
    committee = get_committee_for_user(request.user, committee_pk)
    projects, milestones = selectors.approval_queue(committee=committee)
    return render(
        request,
        "projects/approval_queue.html",
        {
            "committee": committee,
            "projects": list(projects),
            "milestones": list(milestones),
            "reason_form": ReasonForm(),
            "year": timezone.localdate().year,
        },
    )


@login_required
def evaluation_grid(request, committee_pk: int, year: int):
    committee = get_committee_for_user(request.user, committee_pk)
    rows = list(selectors.evaluation_rows(committee=committee, year=year))
    return render(
        request,
        "projects/evaluation_grid.html",
        {
            "committee": committee,
            "year": year,
            "rows": rows,
            "grade_names": services.grade_names(committee=committee),
            "waiting": sum(1 for row in rows if row.state == Project.State.CONCLUDED),
        },
    )


@login_required
def project_summary(request, committee_pk: int, year: int):
    committee = get_committee_for_user(request.user, committee_pk)
    projects = visible_projects(request.user).filter(branch__path__startswith=committee.path, year=year)
    by_state = selectors.projects_by_state(projects=projects)
    return render(
        request,
        "projects/summary.html",
        {
            "committee": committee,
            "year": year,
            "by_state": [(Project.State(state).label, state, n) for state, n in by_state.items()],
            "project_count": sum(by_state.values()),
            "by_branch": selectors.value_by_branch(committee=committee, year=year),
            "by_month": selectors.value_by_month(committee=committee, year=year),
            "value_total": selectors.value_of_year(committee=committee, year=year),
        },
    )


@login_required
def project_settings(request, committee_pk: int):
    committee = get_committee_for_user(request.user, committee_pk)
    names = services.grade_names(committee=committee)
    kind_form = KindForm(request.POST if request.POST.get("form") == "kind" else None, prefix="kind")
    grade_form = GradeNamesForm(
        request.POST if request.POST.get("form") == "grades" else None,
        prefix="grades",
        initial={"grade_1_name": names[1], "grade_2_name": names[2], "grade_3_name": names[3]},
    )
    if request.method == "POST":
        form, service = (
            (kind_form, services.project_kind_add)
            if request.POST.get("form") == "kind"
            else (grade_form, services.project_grade_names_set)
        )
        if form.is_valid():
            result = call_service(form, service, committee=committee, user=request.user, **form.cleaned_data)
            if result is not None:
                messages.success(request, _("Saved."))
                return redirect(reverse("projects:settings", args=[committee.pk]))
    return render(
        request,
        "projects/settings.html",
        {
            "committee": committee,
            "kinds": list(selectors.kinds_for(committee=committee).select_related("committee")),
            "kind_form": kind_form,
            "year": timezone.localdate().year,
            "grade_form": grade_form,
        },
    )


urlpatterns = [
    path("committee/<id:committee_pk>/queue/", approval_queue, name="queue"),
    path("committee/<id:committee_pk>/evaluation/<year:year>/", evaluation_grid, name="evaluation"),
    path("committee/<id:committee_pk>/summary/<year:year>/", project_summary, name="summary"),
    path("committee/<id:committee_pk>/settings/", project_settings, name="settings"),
]
