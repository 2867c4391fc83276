"""Grading runs in the browser: a committee's runs and a form to grade a month, and one
run's page, whose progress bar polls itself with htmx until the run has finished.

Thin: access → service → enqueue on commit → redirect. The run executes in a Celery
worker (eagerly, before the redirect, when there is no Redis).
"""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

import branches.converters  # noqa: F401  (registers the <id:>, <year:> and <month:> converters)
from branches import jobs
from branches.forms import CrispyForm, MonthField, call_service
from branches.models import OrgUnit
from branches.services import month_label

from .. import services, tasks
from ..access import get_committee_for_user
from ..models import GradingRun

PAGE_SIZE = 50


def last_month() -> datetime.date:
    return (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


class RunStartForm(CrispyForm):
    submit_label = gettext_lazy("Grade the month")
    month = MonthField(label=gettext_lazy("month"), initial=last_month)


def committee_runs(*, committee: OrgUnit) -> QuerySet[GradingRun]:
    """A committee's runs, newest first, with what the list shows in the same query."""
    return GradingRun.objects.filter(committee=committee).select_related("requested_by", "rule_version__rule_set")


def _seconds(run: GradingRun) -> float | None:
    if run.started_at and run.finished_at:
        return (run.finished_at - run.started_at).total_seconds()
    return None


def _percent(run: GradingRun) -> int:
    """How far the run is: the engine writes its progress to the cache as it goes."""
    if run.state == GradingRun.State.SUCCEEDED:
        return 100
    if run.state == GradingRun.State.QUEUED:
        return 0
    return int(cache.get(services.progress_key(run.pk)) or 0)


def _unqueued(run: GradingRun) -> QuerySet[GradingRun]:
    """The run while no worker has claimed it."""
    return GradingRun.objects.filter(pk=run.pk, state=GradingRun.State.QUEUED)


@login_required
def runs(request, committee_pk: int):
    committee = get_committee_for_user(request.user, committee_pk, manage=True)
    form = RunStartForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        run = call_service(
            form,
            services.grading_run_request,
            committee=committee,
            month=form.cleaned_data["month"],
            user=request.user,
            trigger=GradingRun.Trigger.BROWSER,
        )
        if run is not None:
            try:  # the queue down: the run is taken back and the form says so
                jobs.enqueue(tasks.grade_run, run.pk, undo=_unqueued(run).delete)
            except jobs.QueueUnavailable as exc:
                form.add_error(None, exc)
                status = 503
            else:
                messages.success(request, _("Grading of %(month)s has started.") % {"month": month_label(run.month)})
                return redirect("grading:run_detail", pk=run.pk)
    page = Paginator(committee_runs(committee=committee), PAGE_SIZE).get_page(request.GET.get("page"))
    for run in page:
        run.seconds = _seconds(run)
    return render(request, "grading/run_list.html", {"committee": committee, "form": form, "page": page}, status=status)


def _get_run_for_user(user, pk: int) -> tuple[GradingRun, OrgUnit]:
    """The run if the user may manage its committee's grading; 404 otherwise, exactly as
    for a run that does not exist."""
    run = get_object_or_404(GradingRun.objects.select_related("requested_by", "rule_version__rule_set"), pk=pk)
    committee = get_committee_for_user(user, run.committee_id, manage=True)
    run.committee = committee
    run.seconds = _seconds(run)
    return run, committee


@login_required
def run_detail(request, pk: int):
    run, committee = _get_run_for_user(request.user, pk)
    return render(request, "grading/run_detail.html", {"run": run, "committee": committee, "percent": _percent(run)})


@login_required
def run_progress(request, pk: int):
    """The progress block of ``run_detail``; htmx swaps it in every second until the run
    has finished, when the block comes back without its trigger and polling stops."""
    run, committee = _get_run_for_user(request.user, pk)
    return render(request, "grading/run_progress.html", {"run": run, "committee": committee, "percent": _percent(run)})


urlpatterns = [
    path("<id:committee_pk>/runs/", runs, name="runs"),
    path("runs/<id:pk>/", run_detail, name="run_detail"),
    path("runs/<id:pk>/progress/", run_progress, name="run_progress"),
]
