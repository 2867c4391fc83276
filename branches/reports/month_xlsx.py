"""The month in Excel (月度积分表): HR's file of one published board — the branch
ranking with its five dimensions, and every member's points by category, total, stars
and rank in the branch, with the employee number (工号) payroll matches on.

Read only from the ``Published*`` rows of one ``Publication`` version, so the file
holds exactly the numbers of the board that version shows (the board reads the same
rows) and stays the same however the draft changes later. A draft has no file: points
decide pay (seed 001), and a file that leaves the system loses any "draft" label the
moment it is copied into a payroll sheet.

Two queries however many members: the branch rows, and the member rows with their rank
in the branch (``RANK() OVER (PARTITION BY branch ORDER BY total DESC)``: equal totals
share a rank, as on the board) and the board's branch order from a subquery. Cells go
through ``safe.write_row`` (a member named ``=1+1`` stays text), with the print layout
of the year-end workbook (``xlsx.Sheet``).
"""

import io

import xlsxwriter
from django.db.models import F, OuterRef, Subquery
from django.db.models.expressions import Window
from django.db.models.functions import Rank
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from branches.grading.boards import DIMENSIONS
from branches.grading.models import Publication, PublishedBranchScore, PublishedMemberScore
from branches.services import month_label
from members.ledger.models import Category

from .xlsx import CHUNK, Sheet, _formats

CATEGORIES = list(Category)  # the columns of MemberColumns, in order


def month_branch_rows(*, publication: Publication):
    """The board's rows of ``publication``, in the board's order. One query."""
    return (
        PublishedBranchScore.objects.filter(publication=publication)
        .select_related("branch")
        .order_by("rank", "branch__name", "branch_id")
    )


def month_member_rows(*, publication: Publication):
    """Every member row of ``publication`` with ``branch_rank`` (rank in the branch) and
    ``board_rank`` (the branch's rank on the board), ordered as the branch sheet, then
    by rank in the branch and employee number. One query."""
    board_rank = PublishedBranchScore.objects.filter(publication=publication, branch=OuterRef("branch_id")).values(
        "rank"
    )[:1]
    return (
        PublishedMemberScore.objects.filter(publication=publication)
        .select_related("member", "branch")
        .annotate(
            board_rank=Subquery(board_rank),
            branch_rank=Window(Rank(), partition_by=[F("branch_id")], order_by=[F("total").desc()]),
        )
        .order_by(
            F("board_rank").asc(nulls_last=True), "branch__name", "branch_id", "branch_rank", "member__employee_no"
        )
    )


def month_xlsx_filename(publication: Publication) -> str:
    return _("%(committee)s %(month)s points, version %(version)s.xlsx") % {
        "committee": publication.committee.name,
        "month": f"{publication.month:%Y-%m}",
        "version": publication.version,
    }


def _branch_sheet(workbook, formats, *, publication: Publication, title: str) -> None:
    columns = [(_("Rank"), 6), (_("code"), 10), (_("Branch"), 24)]
    columns += [(str(d.label), 10) for d in DIMENSIONS]
    columns += [(_("Total"), 9), (_("Bottom three"), 9)]
    sheet = Sheet(workbook, formats, _("Branch ranking"), columns, title=title, freeze_cols=3)
    not_assessed = _("not assessed")
    for row in month_branch_rows(publication=publication):
        values: list = [row.rank, row.branch.code, row.branch.name]
        values += [not_assessed if getattr(row, d.value) is None else getattr(row, d.value) for d in DIMENSIONS]
        values += [row.total, _("Bottom three") if row.bottom_three else ""]
        sheet.write(values)
    sheet.finish()


def _member_sheet(workbook, formats, *, publication: Publication, title: str) -> None:
    columns = [(_("employee number"), 12), (pgettext("person", "name"), 12), (_("Branch"), 22)]
    columns += [(str(c.label), 9) for c in CATEGORIES]
    columns += [(_("Total"), 9), (_("stars"), 6), (_("Rank in the branch"), 8)]
    sheet = Sheet(workbook, formats, _("Member points"), columns, title=title, freeze_cols=2)
    for row in month_member_rows(publication=publication).iterator(chunk_size=CHUNK):
        values: list = [row.member.employee_no, row.member.name, row.branch.name]
        values += [getattr(row, c.value) for c in CATEGORIES]
        values += [row.total, row.stars, row.branch_rank]
        sheet.write(values)
    sheet.finish()


def month_xlsx(*, publication: Publication) -> bytes:
    """The workbook of ``publication`` (its committee loaded), as bytes."""
    title = _("%(committee)s %(month)s, published version %(version)s") % {
        "committee": publication.committee.name,
        "month": month_label(publication.month),
        "version": publication.version,
    }
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, {"constant_memory": True})
    try:
        formats = _formats(workbook)
        _branch_sheet(workbook, formats, publication=publication, title=title)
        _member_sheet(workbook, formats, publication=publication, title=title)
    finally:
        workbook.close()
    return output.getvalue()
