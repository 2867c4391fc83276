"""The year-end workbook of a committee (年度报表): branch summary, 三会一课 compliance,
members, talks, the party groups' stars (党小组星级), the suggestions' funnel (合理化建议)
and the projects (攻关项目) — one sheet each.

Written with XlsxWriter in constant-memory mode: each row is flushed as soon as the next
one starts, so rows go out in order and memory stays flat however many members there
are. The branches and their published months come from ``selectors.year_selection``,
the selection the PDF reads too (the latest version of each month of every committee
of the subtree), so the root committee's workbook holds every branch and member under
it; Python touches one row per branch and per member, never a ledger entry.

Every sheet is laid out for printing (secretaries print and stamp these): A4
landscape, one page wide, the header row repeated on every page, the committee and
year in the page header and page numbers in the footer.

Headers are translated with ``gettext`` at write time: the task renders them under the
requesting user's language.
"""

import datetime
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

import xlsxwriter
from django.db.models import Count, DecimalField, FloatField, Q, Sum
from django.db.models.functions import Cast
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from branches.activities.compliance import compliance_matrix, member_training_hours
from branches.grading.annual import HALF_CENT
from branches.grading.group_boards import group_year_rows
from branches.grading.models import AnnualGrade, PublishedMemberScore, Talk
from branches.models import OrgUnit
from branches.projects.selectors import grade_label, grade_names_by_committee, year_projects
from members.ledger.models import Category
from members.models import Member, MemberHonour
from members.reviews import selectors as review_selectors
from members.reviews.models import Rating
from members.suggestions.selectors import suggestion_funnel

from .prefetch import Ahead, Later
from .safe import write_row
from .selectors import YearSelection, year_selection

Progress = Callable[[int], None]
SUM_FIELD = DecimalField(max_digits=12, decimal_places=2)
CHUNK = 2000
CATEGORIES = [c.value for c in Category]  # the columns of MemberColumns, in order

# Progress (percent) at the start of each sheet; the members sheet is most of the work.
STEPS = {"summary": 2, "compliance": 20, "members": 30, "talks": 95, "groups": 97, "suggestions": 98, "projects": 99}


# --- selectors -------------------------------------------------------------------------


def member_year_scores(*, publication_ids: list[int]):
    """Per member, ordered by member id: (member id, the year's points by category…, the
    total, the months counted). One ``GROUP BY member``.

    The sums come as floats, which is what a cell holds: a sum of two-decimal points is
    exact in ``numeric`` and cast once by PostgreSQL, so Python builds no ``Decimal``
    for the two million cells of a large workbook."""
    sums = {name: Cast(Sum(name, output_field=SUM_FIELD), FloatField()) for name in [*CATEGORIES, "total"]}
    return (
        PublishedMemberScore.objects.filter(publication_id__in=publication_ids)
        .values("member_id")
        .annotate(**sums, months=Count("pk"))
        .order_by("member_id")
        .values_list("member_id", *sums, "months")
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

A4 = 9  # XlsxWriter's paper code
HEADER_LIMIT = 250  # Excel refuses a page header or footer over 255 characters


def _header_text(text: str) -> str:
    """``text`` as literal text in a page header or footer, where ``&`` starts a code."""
    return text.replace("&", "&&")


class Sheet:
    """A worksheet with a header row, frozen panes, column widths, an autofilter and a
    print layout: A4 landscape, one page wide however many pages tall, the header row
    repeated on every page, ``title`` (committee and year) and the sheet's name in the
    page header, "page n of N" in the footer, printed gridlines."""

    def __init__(
        self, workbook, formats: dict, name: str, columns: list[tuple[str, int]], *, title: str, freeze_cols: int = 0
    ):
        self.ws = workbook.add_worksheet(name[:31])
        self.formats = formats
        self.ncols = len(columns)
        # Constant-memory mode writes rows in order: the header row's height comes first.
        self.ws.set_row(0, 30)
        for col, (header, width) in enumerate(columns):
            self.ws.set_column(col, col, width)
            self.ws.write_string(0, col, header, formats["header"])
        self.ws.freeze_panes(1, freeze_cols)
        self._print_layout(title=title, name=name)
        self.row = 0

    def _print_layout(self, *, title: str, name: str) -> None:
        ws = self.ws
        ws.set_paper(A4)
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(0)
        ws.hide_gridlines(0)  # print the grid: the cells have no borders of their own
        ws.set_margins(left=0.4, right=0.4, top=0.75, bottom=0.6)
        header = f"&L{_header_text(title)}&R{_header_text(name)}"
        ws.set_header(header[:HEADER_LIMIT], {"margin": 0.3})
        # The translation keeps the codes: &P is the page, &N the number of pages.
        ws.set_footer("&C" + _("Page &P of &N"), {"margin": 0.3})

    def write(self, values: list, col_formats: dict | None = None) -> None:
        self.row += 1
        write_row(self.ws, self.row, values, self.formats["cell"], col_formats)

    def finish(self) -> None:
        self.ws.autofilter(0, 0, max(self.row, 1), self.ncols - 1)


def _formats(workbook) -> dict:
    header = workbook.add_format(
        {"bold": True, "bg_color": "#F2DCDB", "border": 1, "text_wrap": True, "valign": "vcenter"}
    )
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


def _summary_sheet(workbook, formats, *, selection: YearSelection, title: str) -> None:
    months = selection.months
    # Narrow month columns (the headers wrap) keep the sheet legible on one page's width.
    columns = [(_("code"), 10), (_("name"), 24), (_("parent unit"), 18), (_("tier"), 8)]
    for month in months:
        columns += [
            (_("%(month)s total") % {"month": f"{month:%Y-%m}"}, 7),
            (_("%(month)s rank") % {"month": f"{month:%Y-%m}"}, 5),
        ]
    columns += [
        (_("Mean monthly total"), 8),
        (_("months published"), 6),
        (_("proposed grade"), 8),
        (_("confirmed grade"), 8),
        (_("months in the bottom three"), 7),
        (_("bottom-three months"), 18),
    ]
    sheet = Sheet(workbook, formats, _("Branch summary"), columns, title=title, freeze_cols=2)
    rows = selection.branches
    parents = dict(OrgUnit.objects.filter(pk__in={r.branch.parent_id for r in rows}).values_list("pk", "name"))
    for row in rows:
        branch, grade = row.branch, row.grade
        values: list = [
            branch.code,
            branch.name,
            parents.get(branch.parent_id, ""),
            _label(OrgUnit.Tier.choices, branch.tier),
        ]
        for month in months:
            score = row.scores.get(month)
            values += [score.total, score.rank] if score else [None, None]
        bottom_months = row.bottom_months
        values += [
            row.mean,
            row.months,
            _label(AnnualGrade.Grade.choices, grade.proposed_grade) if grade else "",
            _label(AnnualGrade.Grade.choices, grade.final_grade) if grade else "",
            row.bottom,
            "、".join(f"{m:%Y-%m}" for m in bottom_months),
        ]
        sheet.write(values)  # ranks and counts are ints: format "0"
    sheet.finish()


def _compliance_sheet(workbook, formats, *, selection: YearSelection, title: str, today) -> None:
    months = selection.months
    columns = [(_("code"), 10), (_("name"), 24)]
    columns += [(f"{month:%Y-%m}", 8) for month in months]
    # Counts of required activities (meetings), not class hours.
    columns += [(_("Requirements met"), 9), (_("Requirements"), 9)]
    sheet = Sheet(workbook, formats, _("Meetings compliance"), columns, title=title, freeze_cols=2)
    branches = [r.branch for r in selection.branches]
    cells = compliance_matrix(branches=branches, months=months, today=today)
    for branch in branches:
        values: list = [branch.code, branch.name]
        met = required = 0
        for month in months:
            cell = cells[(branch.pk, month)]
            met, required = met + cell.met, required + cell.required
            if not cell.tracked:
                values.append(pgettext("not tracked", "n/t"))
            else:
                values.append(f"{cell.met}/{cell.required}" if cell.required else "")
        values += [met, required]
        sheet.write(values)
    sheet.finish()


def _star_bands(version) -> list[tuple[int, Decimal]]:
    """The year's star bands (the version's own, or twelve times the month's), less
    half a cent (see annual)."""
    return [(n, band - HALF_CENT) for n, band in version.year_bands()]


class MemberInputs(NamedTuple):
    """What the members sheet looks up per member, read before its rows are written."""

    hours: dict[int, float]
    honours: dict[int, str]
    ratings: dict[int, str]
    count: int


def _member_inputs(selection: YearSelection) -> MemberInputs:
    members = export_members(committee=selection.committee, publication_ids=selection.publication_ids)
    ids = members.values("pk")
    hours = {pk: float(h) for pk, h in member_training_hours(members=ids, year=selection.year, stream=True).items()}
    # The year's confirmed democratic review: its rating, and for 不合格 the cap on the
    # stars (the version's ``review_unqualified_stars``), as the annual page applies it.
    ratings = review_selectors.confirmed_ratings(year=selection.year, members=ids)
    return MemberInputs(hours=hours, honours=_honours(ids), ratings=ratings, count=members.count() or 1)


def _member_rows(selection: YearSelection):
    """(member id, employee number, name, branch id, branch name, status, the year's
    sums) per member of the workbook, ordered by id: the members' query merged with the
    sums' (both ordered by member), a member without a published month given zeros."""
    publication_ids = selection.publication_ids
    members = export_members(committee=selection.committee, publication_ids=publication_ids)
    scores = member_year_scores(publication_ids=publication_ids).iterator(chunk_size=CHUNK)
    score = next(scores, None)
    nothing = (None, *[0.0] * (len(CATEGORIES) + 1), 0)  # a member without a published month
    rows = members.order_by("pk").values_list("pk", "employee_no", "name", "branch_id", "branch__name", "status")
    for row in rows.iterator(chunk_size=CHUNK):
        pk = row[0]
        while score is not None and score[0] < pk:
            score = next(scores, None)
        yield (*row, score if score is not None and score[0] == pk else nothing)


def _members_sheet(
    workbook, formats, *, selection: YearSelection, title: str, progress: Progress, inputs: Later, rows: Ahead
) -> None:
    category_labels = dict(Category.choices)
    columns = [(_("employee number"), 12), (_("Name"), 10), (_("branch"), 24), (_("status"), 10)]
    columns += [(str(category_labels[c]), 9) for c in CATEGORIES]
    columns += [
        (_("Total points"), 9),
        (_("months counted"), 7),
        (_("Annual stars"), 7),
        (_("Class hours"), 7),
        (_("honours"), 30),
        (pgettext("members sheet", "Democratic review"), 12),
    ]
    sheet = Sheet(workbook, formats, _("Members"), columns, title=title, freeze_cols=2)
    col_formats = {4 + len(CATEGORIES) + 3: formats["hours"]}  # the other numbers: "0.00" or "0"

    # Stars by the bands of the committee that grades the member's branch, as its annual
    # page rates them; a member placed outside the subtree by the requesting committee's.
    grader = {r.branch.pk: r.committee for r in selection.branches}
    bands_of: dict[int | None, list] = {}

    def bands(branch_id: int | None) -> list:
        if branch_id not in bands_of:
            bands_of[branch_id] = _star_bands(selection.star_version(grader.get(branch_id)))
        return bands_of[branch_id]

    hours, honours, ratings, count = inputs.get()
    rating_labels = {key: str(label) for key, label in Rating.choices}
    statuses = {key: str(label) for key, label in Member.Status.choices}

    # Star bands as floats: a total is a sum of cents, each band lies half a cent below
    # a cent, so comparing the doubles decides as the decimals would.
    float_bands: dict[int | None, list[tuple[int, float]]] = {}

    def star_of(branch_id: int | None, total: float) -> int:
        if branch_id not in float_bands:
            float_bands[branch_id] = [(n, float(band)) for n, band in bands(branch_id)]
        return next((s for s, band in float_bands[branch_id] if total >= band), 1)

    write = sheet.write
    for n, (pk, employee_no, name, branch_id, branch_name, status, mine) in enumerate(rows, 1):
        total = mine[-2] or 0.0
        stars = star_of(branch_id, total)
        rating = ratings.get(pk)
        if rating == Rating.UNQUALIFIED:
            stars = min(stars, selection.star_version(grader.get(branch_id)).review_unqualified_stars)
        write(
            [
                employee_no,
                name,
                branch_name,
                statuses.get(status, status),
                *[points or 0.0 for points in mine[1:-1]],
                mine[-1],
                stars,
                hours.get(pk, 0.0),
                honours.get(pk, ""),
                rating_labels.get(rating, rating) if rating else "",
            ],
            col_formats,
        )
        if n % 5000 == 0:
            progress(STEPS["members"] + (STEPS["talks"] - STEPS["members"]) * n // count)
    sheet.finish()


def _talks_sheet(workbook, formats, *, committee, year, title: str) -> None:
    columns = [
        (_("month"), 9),
        (_("code"), 10),
        (_("branch"), 24),
        (_("held on"), 11),
        (_("talk held by"), 12),
        (_("talk held with"), 12),
        (_("notes"), 50),
        (_("agreed actions"), 50),
    ]
    sheet = Sheet(workbook, formats, _("Talks"), columns, title=title, freeze_cols=0)
    # Notes and actions wrap within their columns rather than run off the printed page.
    wrap = {col: {**formats["cell"], "string": formats["wrap"]} for col in (6, 7)}
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
        sheet.write([f"{month:%Y-%m}", code, branch_name, held_on, by, with_, notes, actions], wrap)
    sheet.finish()


def _groups_sheet(workbook, formats, *, selection: YearSelection, title: str) -> None:
    """党小组星级: each party group graded in the year's publications (any committee of
    the subtree), its twelve monthly scores and stars, and its stars for the year — the
    mean of its published monthly scores against the group bands of the version that
    rates its committee's year (the year page's rule, ``group_boards``)."""
    months = selection.months
    columns = [(_("code"), 10), (_("party group"), 16), (_("branch"), 22)]
    for month in months:
        columns += [
            (_("%(month)s score") % {"month": f"{month:%Y-%m}"}, 7),
            (_("%(month)s stars") % {"month": f"{month:%Y-%m}"}, 5),
        ]
    columns += [(_("months published"), 6), (_("Mean score"), 8), (_("Year stars"), 6)]
    sheet = Sheet(workbook, formats, _("Party group stars"), columns, title=title, freeze_cols=2)
    committees = {c.pk: c for c in selection.committees}
    rows = group_year_rows(
        publication_ids=selection.publication_ids,
        version_for=lambda committee_id: selection.star_version(committees.get(committee_id)),
    )
    for row in rows:
        values: list = [row.group.code, row.group.name, row.branch.name]
        for score in row.monthly(months):
            values += [score.score, score.stars] if score else [None, None]
        values += [row.months, row.mean, row.stars]
        sheet.write(values)
    sheet.finish()


def _suggestions_sheet(workbook, formats, *, committee: OrgUnit, year: int, title: str) -> None:
    """合理化建议: the funnel of the suggestions submitted in the year, branch by branch
    under the committee (every branch, a branch without suggestions in zeros), and the
    totals — the page's numbers (``suggestions.selectors.suggestion_funnel``, one query)."""
    columns = [
        (_("code"), 10),
        (_("branch"), 24),
        (_("parent unit"), 18),
        (_("Proposed"), 8),
        (_("Accepted"), 8),
        (_("Rejected"), 8),
        (pgettext("suggestion", "Published"), 8),
        (_("Implemented"), 8),
        (_("Acceptance rate (%)"), 9),
        (_("Expected value (10k yuan)"), 11),
        (_("Realised benefit (10k yuan)"), 11),
    ]
    sheet = Sheet(workbook, formats, _("Suggestions"), columns, title=title, freeze_cols=2)
    funnel = suggestion_funnel(unit=committee, year=year)

    def values(row) -> list:
        share = row.accepted_share
        return [
            row.proposed,
            row.accepted,
            row.rejected,
            row.published,
            row.implemented,
            share if share is not None else None,
            row.expected,
            row.realised,
        ]

    for row in funnel.rows:
        sheet.write([row.unit.code, row.unit.name, row.unit.parent.name if row.unit.parent else "", *values(row)])
    sheet.write(["", _("Total"), "", *values(funnel.total)])
    sheet.finish()


def _projects_sheet(workbook, formats, *, committee: OrgUnit, year: int, title: str) -> None:
    """攻关项目: the projects of the subtree that belong to the year or created value in
    it — kind, title, lead branch, leader, state, grade and the value created in the year."""
    columns = [
        (_("code"), 10),
        (_("branch"), 22),
        (_("kind"), 14),
        (pgettext("project", "title"), 36),
        (_("leader"), 10),
        (_("state"), 10),
        (_("grade"), 8),
        (_("value created in the year (10,000 yuan)"), 12),
    ]
    sheet = Sheet(workbook, formats, pgettext("sheet", "Projects"), columns, title=title, freeze_cols=0)
    projects = list(year_projects(committee=committee, year=year))
    names = grade_names_by_committee(committee_ids={p.committee_id for p in projects})
    for p in projects:
        sheet.write(
            [
                p.branch.code,
                p.branch.name,
                p.kind.name,
                p.title,
                p.leader.name if p.leader else "",
                p.get_state_display(),
                grade_label(p, names),
                p.value_year,
            ]
        )
    sheet.finish()


def write_year_xlsx(
    path,
    *,
    committee: OrgUnit,
    year: int,
    progress: Progress = lambda pct: None,
    today: datetime.date | None = None,
    workbook_class=xlsxwriter.Workbook,
) -> None:
    """Write ``committee``'s year-end workbook for ``year`` to ``path``. (``bench_export``
    gives a ``workbook_class`` that records every cell, to time XlsxWriter alone.)"""
    progress(STEPS["summary"])
    selection = year_selection(committee=committee, year=year)
    title = _("%(committee)s %(year)s year-end report") % {"committee": committee.name, "year": year}
    # The members sheet's reads start now, on their own connections, and run while the
    # sheets before it are written (see prefetch).
    inputs = Later(lambda: _member_inputs(selection))
    rows = Ahead(lambda: _member_rows(selection))
    with rows:  # a failure anywhere stops the reader
        workbook = workbook_class(str(path), {"constant_memory": True})
        try:
            formats = _formats(workbook)
            _summary_sheet(workbook, formats, selection=selection, title=title)
            progress(STEPS["compliance"])
            _compliance_sheet(workbook, formats, selection=selection, title=title, today=today)
            progress(STEPS["members"])
            _members_sheet(
                workbook, formats, selection=selection, title=title, progress=progress, inputs=inputs, rows=rows
            )
            progress(STEPS["talks"])
            _talks_sheet(workbook, formats, committee=committee, year=year, title=title)
            progress(STEPS["groups"])
            _groups_sheet(workbook, formats, selection=selection, title=title)
            progress(STEPS["suggestions"])
            _suggestions_sheet(workbook, formats, committee=committee, year=year, title=title)
            progress(STEPS["projects"])
            _projects_sheet(workbook, formats, committee=committee, year=year, title=title)
        except BaseException:
            # Closing removes XlsxWriter's temporary row files, and writes a workbook that
            # stops where the failure did: it is removed, no half-written file is left.
            workbook.close()
            Path(path).unlink(missing_ok=True)
            raise
        workbook.close()
    progress(100)
