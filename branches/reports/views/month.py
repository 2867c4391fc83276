"""The month in Excel: a published board's XLSX for HR, made in the request (two
queries and one row per member: small enough not to need a report job).

Access as the year-end files: those who manage the committee's grading
(``get_committee_for_user(…, manage=True)``) — the file lists every member's points
with their employee number, more than the board shows a branch secretary. Anyone else
gets 404. Only a published version has a file (``?version=n``; the latest by default):
a draft is a 404 (see ``branches.reports.month_xlsx`` for why).
"""

import datetime

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.urls import path

import branches.converters  # noqa: F401  (registers the <id:>, <year:> and <month:> converters)
from branches.downloads import file_response
from branches.grading.access import get_committee_for_user
from branches.grading.models import Publication

from ..month_xlsx import month_xlsx, month_xlsx_filename

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@login_required
def board_xlsx(request, committee_pk: int, year: int, month: int):
    committee = get_committee_for_user(request.user, committee_pk, manage=True)
    try:
        first = datetime.date(year, month, 1)
    except ValueError:
        raise Http404 from None
    publications = Publication.objects.filter(committee=committee, month=first).order_by("-version")
    if request.GET.get("version"):
        try:
            publications = publications.filter(version=int(request.GET["version"]))
        except ValueError:
            raise Http404 from None
    publication = publications.first()
    if publication is None:
        raise Http404
    publication.committee = committee
    return file_response(
        month_xlsx(publication=publication), filename=month_xlsx_filename(publication), content_type=XLSX
    )


urlpatterns = [
    path("<id:committee_pk>/board/<year:year>/<month:month>.xlsx", board_xlsx, name="board_xlsx"),
]
