"""Year-end exports: request a report, watch its progress, download the file.

Every page re-checks that the user manages the report's committee
(``get_committee_for_user(…, manage=True)``); anyone else gets 404, as for a report that
does not exist. The download also checks that the file has not expired.
"""

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

import branches.converters  # noqa: F401  (registers the <id:>, <year:> and <month:> converters)
from branches import jobs
from branches.downloads import stored_file_response
from branches.forms import CrispyForm, call_service
from branches.grading.access import get_committee_for_user

from .. import services
from ..models import ReportFile
from ..selectors import latest_published_year
from ..tasks import generate_report


class ExportForm(CrispyForm):
    submit_label = _("Generate")
    year = forms.IntegerField(label=_("year"), min_value=services.FIRST_YEAR)
    format = forms.ChoiceField(label=_("format"), choices=ReportFile.Format.choices, initial=ReportFile.Format.XLSX)


def _get_report_for_user(user, pk: int) -> ReportFile:
    report = ReportFile.objects.select_related("committee", "requested_by").filter(pk=pk).first()
    if report is None:
        raise Http404
    get_committee_for_user(user, report.committee_id, manage=True)
    return report


@login_required
@require_http_methods(["GET", "POST"])
def exports(request, committee_pk: int):
    committee = get_committee_for_user(request.user, committee_pk, manage=True)
    # The year a committee most likely wants: the latest one with a published month.
    year = latest_published_year(committee=committee) or timezone.localdate().year
    form = ExportForm(request.POST or None, initial={"year": year})
    status = 200
    if request.method == "POST" and form.is_valid():
        report = call_service(
            form,
            services.report_request,
            committee=committee,
            year=form.cleaned_data["year"],
            fmt=form.cleaned_data["format"],
            user=request.user,
            language=translation.get_language(),
        )
        if report is not None:
            unqueued = ReportFile.objects.filter(pk=report.pk, state=ReportFile.State.QUEUED)
            try:  # the queue down: the report is taken back and the form says so
                jobs.enqueue(generate_report, report.pk, undo=unqueued.delete)
            except jobs.QueueUnavailable as exc:
                form.add_error(None, exc)
                status = 503
            else:
                return redirect("reports:file", report.pk)
    reports = services.committee_reports(committee=committee)
    return render(
        request, "reports/export_list.html", {"committee": committee, "form": form, "reports": reports}, status=status
    )


@login_required
def file(request, pk: int):
    report = _get_report_for_user(request.user, pk)
    return render(request, "reports/export_file.html", {"report": report, "committee": report.committee})


@login_required
def file_progress(request, pk: int):
    """The progress block of ``file``: htmx swaps it in every second until the job has
    finished, when it comes back without its trigger and polling stops."""
    report = _get_report_for_user(request.user, pk)
    return render(request, "reports/export_progress.html", {"report": report})


@login_required
def download(request, pk: int):
    report = _get_report_for_user(request.user, pk)
    if not services.report_is_available(report):
        return render(
            request, "reports/export_gone.html", {"report": report, "committee": report.committee}, status=404
        )
    return stored_file_response(report.file, filename=report.filename, as_attachment=True)


urlpatterns = [
    path("<id:committee_pk>/", exports, name="exports"),
    path("files/<id:pk>/", file, name="file"),
    path("files/<id:pk>/progress/", file_progress, name="file_progress"),
    path("files/<id:pk>/download/", download, name="download"),
]
