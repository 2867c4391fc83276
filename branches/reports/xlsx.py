"""The year-end workbook of a committee (年度报表): branch summary, 三会一课 compliance,
members and talks — one sheet each.

Written with XlsxWriter in constant-memory mode: each row is flushed as soon as the next
one starts, so rows go out in order and memory stays flat however many members there
are. The numbers come from SQL aggregates over the *published* months (the latest
version of each committee's month); Python touches one row per branch and per member,
never a ledger entry. A committee's export covers its whole subtree — every committee
under it grades its own branches — so the root committee's workbook holds every member.

Headers are translated with ``gettext`` at write time: the task renders them under the
requesting user's language.
"""

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterator
from decimal import Decimal

import xlsxwriter
from django.db.models import Count, DecimalField, OuterRef, Q, Subquery, Sum
from django.utils.translation import gettext as _

from branches.activities.compliance import branches_under, compliance_matrix, member_training_hours, year_months
from branches.grading.annual import HALF_CENT, MONTHS_IN_YEAR, annual_version
from branches.grading.engine import half_up
from branches.grading.models import AnnualGrade, Publication, PublishedBranchScore, PublishedMemberScore, Talk
from branches.models import OrgUnit
from members.ledger.models import Category
from members.models import Member, MemberHonour

from .safe import write_row

Progress = Callable[[int], None]
SUM_FIELD = DecimalField(max_digits=12, decimal_places=2)
CENT = Decimal("0.01")
CHUNK = 2000
CATEGORIES = [c.value for c in Category]  # the columns of MemberColumns, in order

# Progress (percent) at the start of each sheet; the members sheet is most of the work.
STEPS = {"summary": 2, "compliance": 20, "members": 30, "talks": 95}


# --- selectors -------------------------------------------------------------------------


def year_publications(*, committee: OrgUnit, year: int) -> list[int]:
    """The publications that count for ``year`` in ``committee``'s subtree: the latest
    version of each (committee, month). A few dozen ids at most."""
    newest = (
        Publication.objects.filter(committee_id=OuterRef("committee_id"), month=OuterRef("month"))
        .order_by("-version")
        .values("pk")[:1]
    )
    return list(
        Publication.objects.filter(
            committee__path__startswith=committee.path,
            month__gte=datetime.date(year, 1, 1),
            month__lt=datetime.date(year + 1, 1, 1),
        )
        .filter(pk=Subquery(newest))
        .values_list("pk", flat=True)
    )


def member_year_scores(*, publication_ids: list[int]):
    """Per member, ordered by member id: the year's points by category, the total and the
    months counted. One ``GROUP BY member``."""
    sums = {name: Sum(name, output_field=SUM_FIELD) for name in [*CATEGORIES, "total"]}
    return (
        PublishedMemberScore.objects.filter(publication_id__in=publication_ids)
        .values("member_id")
        .annotate(**sums, months=Count("pk"))
        .order_by("member_id")
    )


def export_members(*, committee: OrgUnit, publication_ids: list[int]):
    """The members of the workbook: placed under the committee now, or counted in one of
    its published months of the year (someone who has since moved or left)."""
    published = PublishedMemberScore.objects.filter(publication_id__in=publication_ids).values("member_id")
    return Member.objects.filter(Q(branch__path__startswith=committee.path) | Q(pk__in=published))


def _honours(members) -> dict[int, str]:
    """Current honours, joined as text per member (few rows: one query)."""
    labels = dict(MemberHonour.Kind.choices)
    result: dict[int, list[str]] = defaultdict(list)
    rows = (
        MemberHonour.objects.filter(member__in=members, revoked_on__isnull=True)
        .order_by("member_id", "awarded_on", "pk")
        .values_list("member_id", "kind", "title", "stars")
    )
    for member_id, kind, title, stars in rows.iterator(chunk_size=CHUNK):
        text = str(labels.get(kind, kind))
        if title:
            text += f"（{title}）"
        if stars:
            text += "★" * stars
        result[member_id].append(text)
    return {member_id: "；".join(texts) for member_id, texts in result.items()}


# --- the workbook ----------------------------------------------------------------------


class Sheet:
    """A worksheet with a header row, frozen panes, column widths and an autofilter."""

    def __init__(self, workbook, formats: dict, name: str, columns: list[tuple[str, int]], freeze_cols: int = 0):
        self.ws = workbook.add_worksheet(name[:31])
        self.formats = formats
        self.ncols = len(columns)
        for col, (header, width) in enumerate(columns):
            self.ws.set_column(col, col, width)
            self.ws.write_string(0, col, header, formats["header"])
        self.ws.freeze_panes(1, freeze_cols)
        self.row = 0

    def write(self, values: list, col_formats: dict | None = None) -> None:
        self.row += 1
        write_row(self.ws, self.row, values, self.formats["cell"], col_formats)

    def finish(self) -> None:
        self.ws.autofilter(0, 0, max(self.row, 1), self.ncols - 1)


def _formats(workbook) -> dict:
    header = workbook.add_format({"bold": True, "bg_color": "#F2DCDB", "border": 1, "text_wrap": True})
    points = workbook.add_format({"num_format": "0.00"})
    whole = workbook.add_format({"num_format": "0"})
    hours = workbook.add_format({"num_format": "0.0"})
    date = workbook.add_format({"num_format": "yyyy-mm-dd"})
    cell = {"number": points, "integer": whole, "date": date}
    return {
        "header": header,
        "cell": cell,
        "hours": {"number": hours, "integer": whole, "date": date},
        "wrap": workbook.add_format({"text_wrap": True, "valign": "top"}),
    }


def _label(choices, value: str) -> str:
    return str(dict(choices).get(value, value)) if value else ""


def _summary_sheet(workbook, formats, *, committee, year, publication_ids, entries) -> None:
    months = year_months(year)
    columns = [(_("code"), 12), (_("name"), 28), (_("parent unit"), 24), (_("tier"), 10)]
    for month in months:
        columns += [
            (_("%(month)s total") % {"month": f"{month:%Y-%m}"}, 10),
            (_("%(month)s rank") % {"month": f"{month:%Y-%m}"}, 8),
        ]
    columns += [
        (_("Mean monthly total"), 12),
        (_("months published"), 10),
        (_("proposed grade"), 12),
        (_("confirmed grade"), 12),
        (_("months in the bottom three"), 12),
        (_("bottom-three months"), 18),
    ]
    sheet = Sheet(workbook, formats, _("Branch summary"), columns, freeze_cols=2)

    scores: dict[int, dict[datetime.date, tuple]] = defaultdict(dict)
    rows = PublishedBranchScore.objects.filter(publication_id__in=publication_ids).values_list(
        "branch_id", "publication__month", "total", "rank", "bottom_three"
    )
    for branch_id, month, total, rank, bottom in rows.iterator(chunk_size=CHUNK):
        scores[branch_id][month] = (total, rank, bottom)
    grades = {
        g.branch_id: g
        for g in AnnualGrade.objects.filter(committee__path__startswith=committee.path, year=year).only(
            "branch_id", "proposed_grade", "final_grade"
        )
    }
    parents = dict(OrgUnit.objects.filter(pk__in={e.branch.parent_id for e in entries}).values_list("pk", "name"))
    for entry in entries:
        branch = entry.branch
        monthly = scores.get(branch.pk, {})
        values: list = [
            branch.code,
            branch.name,
            parents.get(branch.parent_id, ""),
            _label(OrgUnit.Tier.choices, branch.tier),
        ]
        for month in months:
            total, rank, _bottom = monthly.get(month, (None, None, False))
            values += [total, rank]
        published = [m[0] for m in monthly.values()]
        mean = half_up(sum(published, Decimal("0")) / len(published)) if published else None
        bottom_months = sorted(m for m, row in monthly.items() if row[2])
        grade = grades.get(branch.pk)
        values += [
            mean,
            len(published),
            _label(AnnualGrade.Grade.choices, grade.proposed_grade) if grade else "",
            _label(AnnualGrade.Grade.choices, grade.final_grade) if grade else "",
            len(bottom_months),
            "、".join(f"{m:%Y-%m}" for m in bottom_months),
        ]
        sheet.write(values)  # ranks and counts are ints: format "0"
    sheet.finish()


def _compliance_sheet(workbook, formats, *, year, entries, today) -> None:
    months = year_months(year)
    columns = [(_("code"), 12), (_("name"), 28)]
    columns += [(f"{month:%Y-%m}", 9) for month in months]
    columns += [(_("Met"), 8), (_("Required"), 8)]
    sheet = Sheet(workbook, formats, _("Meetings compliance"), columns, freeze_cols=2)
    branches = [e.branch for e in entries]
    cells = compliance_matrix(branches=branches, months=months, today=today)
    for branch in branches:
        values: list = [branch.code, branch.name]
        met = required = 0
        for month in months:
            cell = cells[(branch.pk, month)]
            met, required = met + cell.met, required + cell.required
            values.append(f"{cell.met}/{cell.required}" if cell.required else "")
        values += [met, required]
        sheet.write(values)
    sheet.finish()


def _members_sheet(workbook, formats, *, committee, year, publication_ids, progress: Progress) -> None:
    category_labels = dict(Category.choices)
    columns = [(_("employee number"), 12), (_("Name"), 10), (_("branch"), 28), (_("status"), 10)]
    columns += [(str(category_labels[c]), 10) for c in CATEGORIES]
    columns += [
        (_("Total points"), 10),
        (_("months counted"), 8),
        (_("Annual stars"), 8),
        (_("Class hours"), 8),
        (_("honours"), 30),
    ]
    sheet = Sheet(workbook, formats, _("Members"), columns, freeze_cols=2)
    col_formats = {4 + len(CATEGORIES) + 3: formats["hours"]}  # the other numbers: "0.00" or "0"

    version = annual_version(committee=committee, year=year)
    bands = [
        (n, band * MONTHS_IN_YEAR - HALF_CENT)
        for n, band in (
            (5, version.star5_from),
            (4, version.star4_from),
            (3, version.star3_from),
            (2, version.star2_from),
        )
    ]
    members = export_members(committee=committee, publication_ids=publication_ids)
    ids = members.values("pk")
    hours = member_training_hours(members=ids, year=year)
    honours = _honours(ids)
    statuses = dict(Member.Status.choices)
    count = members.count() or 1

    scores: Iterator[dict] = member_year_scores(publication_ids=publication_ids).iterator(chunk_size=CHUNK)
    score = next(scores, None)
    rows = members.order_by("pk").values_list("pk", "employee_no", "name", "branch__name", "status")
    zero = Decimal("0.00")
    for n, (pk, employee_no, name, branch_name, status) in enumerate(rows.iterator(chunk_size=CHUNK), 1):
        while score is not None and score["member_id"] < pk:
            score = next(scores, None)
        mine = score if score is not None and score["member_id"] == pk else None
        points = [(mine[c] or zero).quantize(CENT) if mine else zero for c in CATEGORIES]
        total = (mine["total"] or zero).quantize(CENT) if mine else zero
        stars = next((s for s, band in bands if total >= band), 1)
        sheet.write(
            [
                employee_no,
                name,
                branch_name,
                _label(statuses, status),
                *points,
                total,
                mine["months"] if mine else 0,
                stars,
                hours.get(pk, Decimal("0.0")),
                honours.get(pk, ""),
            ],
            col_formats,
        )
        if n % 5000 == 0:
            progress(STEPS["members"] + (STEPS["talks"] - STEPS["members"]) * n // count)
    sheet.finish()


def _talks_sheet(workbook, formats, *, committee, year) -> None:
    columns = [
        (_("month"), 10),
        (_("code"), 12),
        (_("branch"), 28),
        (_("held on"), 12),
        (_("talk held by"), 12),
        (_("talk held with"), 12),
        (_("notes"), 50),
        (_("agreed actions"), 50),
    ]
    sheet = Sheet(workbook, formats, _("Talks"), columns, freeze_cols=0)
    talks = (
        Talk.objects.filter(
            committee__path__startswith=committee.path,
            month__gte=datetime.date(year, 1, 1),
            month__lt=datetime.date(year + 1, 1, 1),
        )
        .order_by("month", "branch__name", "held_on", "pk")
        .values_list("month", "branch__code", "branch__name", "held_on", "talked_by", "talked_with", "notes", "actions")
    )
    for month, code, branch_name, held_on, by, with_, notes, actions in talks.iterator(chunk_size=CHUNK):
        sheet.write([f"{month:%Y-%m}", code, branch_name, held_on, by, with_, notes, actions])
    sheet.finish()


def write_year_xlsx(
    path, *, committee: OrgUnit, year: int, progress: Progress = lambda pct: None, today: datetime.date | None = None
) -> None:
    """Write ``committee``'s year-end workbook for ``year`` to ``path``."""
    progress(STEPS["summary"])
    publication_ids = year_publications(committee=committee, year=year)
    entries = branches_under(unit=committee, year=year)
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    try:
        formats = _formats(workbook)
        _summary_sheet(
            workbook, formats, committee=committee, year=year, publication_ids=publication_ids, entries=entries
        )
        progress(STEPS["compliance"])
        _compliance_sheet(workbook, formats, year=year, entries=entries, today=today)
        progress(STEPS["members"])
        _members_sheet(
            workbook, formats, committee=committee, year=year, publication_ids=publication_ids, progress=progress
        )
        progress(STEPS["talks"])
        _talks_sheet(workbook, formats, committee=committee, year=year)
    finally:
        workbook.close()
    progress(100)
