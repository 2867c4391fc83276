"""Roster import pages: download the template, upload → preview → confirm.

The upload is kept in storage under a random token in the uploader's own folder between
preview and confirm; confirm re-reads and re-checks it (the data may have changed) and
writes all rows in one transaction or shows the preview again."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
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
            services.parse_roster(upload, user=request.user)
        except services.RosterFileError as exc:
            form.add_error("file", exc)
        else:
            token = services.roster_upload_store(user=request.user, file=upload)
            return redirect("members:import_preview", token=token)
    return render(request, "members/import_upload.html", {"form": form})


def _load_rows(request, token: str) -> list[services.RowResult]:
    """Re-read and re-check the user's stored upload against today's data and scope."""
    branches = _require_writable(request.user)
    file = services.roster_upload_open(user=request.user, token=token)
    if file is None:
        raise Http404
    with file:
        try:
            return services.parse_roster(file, branches=branches)
        except services.RosterFileError:
            raise Http404 from None  # it was readable when stored


def _render_preview(request, token: str, rows: list[services.RowResult], *, status: int = 200, error: str = ""):
    return render(
        request,
        "members/import_preview.html",
        {
            "rows": rows,
            "summary": services.roster_summary(rows),
            "has_errors": any(r.status == services.RowResult.ERROR for r in rows),
            "token": token,
            "error": error,
        },
        status=status,
    )


@login_required
def import_preview(request, token: str):
    return _render_preview(request, token, _load_rows(request, token))


@login_required
@require_POST
def import_confirm(request, token: str):
    rows = _load_rows(request, token)
    if any(r.status == services.RowResult.ERROR for r in rows):
        return _render_preview(request, token, rows, status=409)
    try:
        summary = services.roster_import_apply(rows=rows, user=request.user)
    except ValidationError as exc:
        return _render_preview(request, token, rows, status=409, error=" ".join(exc.messages))
    services.roster_upload_discard(user=request.user, token=token)
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
