"""PDF downloads: a month's published ranking board and a branch's year dossier. They
are small, so they are rendered in the request and streamed at once (the whole year in
one file is a report job: ``branches.reports.tasks``).

Access: the board is for everyone who may see the committee's published boards
(``get_committee_for_user``); a dossier for the committee's staff and for the branch's
own secretary (a scope containing the branch). Anyone else gets 404, as for a committee
or branch that does not exist.
"""

import datetime

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.urls import path
from django.utils.translation import gettext as _

import branches.converters  # noqa: F401  (registers the <id:>, <year:> and <month:> converters)
from branches.access import user_scope
from branches.downloads import file_response
from branches.grading.access import can_manage_grading, get_committee_for_user
from branches.models import OrgUnit

from .. import pdf


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    return file_response(content, filename=filename, content_type="application/pdf")


@login_required
def board_pdf(request, committee_pk: int, year: int, month: int):
    committee = get_committee_for_user(request.user, committee_pk, manage=False)
    try:
        first = datetime.date(year, month, 1)
    except ValueError:
        raise Http404 from None
    version = None
    if request.GET.get("version"):
        try:
            version = int(request.GET["version"])
        except ValueError:
            raise Http404 from None
    html = pdf.board_html(committee, first, version=version)
    if html is None:
        raise Http404
    filename = f"{committee.name}-{first:%Y-%m}-{_('Ranking board')}.pdf"
    return _pdf_response(pdf.render_pdf(html), filename)


def _branch_for_dossier(user, committee_pk: int, branch_pk: int) -> tuple[OrgUnit, OrgUnit]:
    """(committee, branch) when the user manages the committee's grading or the branch
    lies in their scope (its secretary); the branch must sit under the committee."""
    committee = OrgUnit.objects.filter(pk=committee_pk, kind=OrgUnit.Kind.COMMITTEE).first()
    branch = OrgUnit.objects.filter(pk=branch_pk, kind=OrgUnit.Kind.BRANCH).first()
    if committee is None or branch is None or not branch.is_within(committee):
        raise Http404
    if not (can_manage_grading(user, committee) or user_scope(user).contains(branch)):
        raise Http404
    return committee, branch


@login_required
def dossier_pdf(request, committee_pk: int, branch_pk: int, year: int):
    committee, branch = _branch_for_dossier(request.user, committee_pk, branch_pk)
    if not 2000 <= year <= 9999:
        raise Http404
    html = pdf.branch_dossier_html(committee, year, branch)
    filename = f"{branch.name}-{year}-{_('annual grade')}.pdf"
    return _pdf_response(pdf.render_pdf(html), filename)


urlpatterns = [
    path("<id:committee_pk>/board/<year:year>/<month:month>.pdf", board_pdf, name="board_pdf"),
    path("<id:committee_pk>/dossier/<id:branch_pk>/<year:year>.pdf", dossier_pdf, name="dossier_pdf"),
]
