"""Roster import pages: download the template, upload → preview → confirm.

The upload is read once, when it arrives, and its rows are kept for the uploader under a
random token (``RosterUpload``); preview and confirm check those rows against the data
and scope of the moment (they may have changed) without reading the file again. Confirm
writes all rows in one transaction or shows the preview again."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from branches.access import writable_branches
from branches.downloads import file_response

from . import services
from .forms import RosterUploadForm
from .template import roster_template

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _require_writable(user):
    branches = writable_branches(user)
    if not branches.exists():
        raise PermissionDenied
    return branches


@login_required
def import_template(request):
    branches = _require_writable(request.user)
    content = roster_template(branch=branches.order_by("path").first())
    return file_response(content, filename="党员名册导入模板.xlsx", content_type=XLSX)


@login_required
def import_upload(request):
    _require_writable(request.user)
    form = RosterUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            sheet = services.roster_read(upload)
        except services.RosterFileError as exc:
            form.add_error("file", exc)
        else:
            token = services.roster_upload_store(user=request.user, sheet=sheet, file_name=upload.name or "")
            return redirect("members:import_preview", token=token)
    return render(request, "members/import_upload.html", {"form": form})


def _render_preview(request, token, sheet, rows, *, status: int = 200, error: str = ""):
    return render(
        request,
        "members/import_preview.html",
        {
            "rows": rows,
            "columns": services.roster_columns(sheet),
            "summary": services.roster_summary(rows),
            "has_errors": any(r.status == services.RowResult.ERROR for r in rows),
            "token": token,
            "error": error,
        },
        status=status,
    )


@login_required
def import_preview(request, token: str):
    branches = _require_writable(request.user)
    sheet = services.roster_upload_get(user=request.user, token=token)
    if sheet is None:
        raise Http404
    return _render_preview(request, token, sheet, services.roster_check(sheet, branches=branches))


@login_required
@require_POST
def import_confirm(request, token: str):
    branches = _require_writable(request.user)
    outcome = services.roster_upload_import(user=request.user, token=token, branches=branches)
    if outcome is None:
        raise Http404
    if outcome.summary is None:
        return _render_preview(request, token, outcome.sheet, outcome.rows, status=409, error=outcome.error)
    summary = outcome.summary
    messages.success(
        request,
        _("Roster imported: %(new)s new, %(changed)s changed, %(unchanged)s unchanged.")
        % {"new": summary["new"], "changed": summary["changed"], "unchanged": summary["unchanged"]},
    )
    return redirect(reverse("members:roster"))


urlpatterns = [
    path("import/", import_upload, name="import"),
    path("import/template.xlsx", import_template, name="import_template"),
    path("import/<slug:token>/", import_preview, name="import_preview"),
    path("import/<slug:token>/confirm/", import_confirm, name="import_confirm"),
]
