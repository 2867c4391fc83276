"""The year-end PDFs: a branch's dossier, the committee's summary, the monthly board.

Each is a Django template rendered to HTML and laid out by WeasyPrint on A4. Chinese is
set in Noto Sans CJK SC (Debian's ``fonts-noto-cjk``, installed by ``.ci/run`` and the
Dockerfile), named explicitly in ``static/css/report-pdf.css`` so no fallback font can
stand in. WeasyPrint runs no JavaScript, so the branch's chart is an inline SVG drawn
here in Python.

Only what was *published* is reported, and of a month republished after a reopening
its latest version (``annual.latest_publications``), as the annual roll-up counts it.
The branches and their months come from ``selectors.year_selection``, the selection the
XLSX workbook reads too, so both formats cover the same branches at any level of the
tree (a root committee's branches are published by the committees below it). The reads
are a fixed number of queries per document; Python touches one row per branch, month or
member.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.contrib.staticfiles import finders
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from branches.activities.compliance import compliance_matrix, member_training_hours
from branches.grading import annual
from branches.grading.boards import DIMENSIONS, board
from branches.grading.models import AnnualGrade, PublishedBranchScore, Talk
from branches.models import BranchTerm, OrgUnit
from branches.projects.selectors import grade_label, grade_names_by_committee, year_projects
from members.reviews import selectors as review_selectors
from members.reviews.models import Rating
from members.suggestions.selectors import branch_suggestions, suggestion_funnel

from .selectors import BranchYear, YearSelection, year_selection

CSS_FILE = "css/report-pdf.css"
BUCKET_WIDTH = 10
ZERO = Decimal("0")
CENT = Decimal("0.01")


# --- rendering ----------------------------------------------------------------------


def _stylesheets():
    from weasyprint import CSS

    path = finders.find(CSS_FILE)
    return [CSS(filename=path)] if path else []


def _base_url() -> str:
    path = finders.find(CSS_FILE)
    return str(Path(path).parent.parent) if path else "."


def _document(html: str, extra=()):
    """``html`` laid out on A4 with the report stylesheet (and ``extra`` sheets)."""
    from weasyprint import HTML

    return HTML(string=html, base_url=_base_url()).render(stylesheets=[*_stylesheets(), *extra])


def render_pdf(html: str) -> bytes:
    """One HTML document as PDF bytes (A4, the report stylesheet)."""
    return _document(html).write_pdf()


def dimension_labels() -> list[tuple[str, str]]:
    return [(d.value, str(d.label)) for d in DIMENSIONS]


# --- the chart ----------------------------------------------------------------------


@dataclass(frozen=True)
class ChartPoint:
    month: datetime.date
    total: Decimal | None  # None: not published that month
    rank: int | None


# The drawing area of the chart, in SVG user units.
CHART_WIDTH, CHART_HEIGHT = 640, 230
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 22, 34
INSET = 20
FONT = "Noto Sans CJK SC"


def _x(index: int, count: int) -> Decimal:
    """Months sit ``INSET`` inside the axes so the labels of the first and last clear them."""
    span = Decimal(CHART_WIDTH - LEFT - RIGHT - 2 * INSET)
    step = span / max(count - 1, 1)
    return (Decimal(LEFT + INSET) + step * index).quantize(Decimal("0.1"))


def _y(value: Decimal) -> Decimal:
    span = Decimal(CHART_HEIGHT - TOP - BOTTOM)
    value = min(max(value, ZERO), Decimal(100))
    return (Decimal(TOP) + span * (Decimal(100) - value) / 100).quantize(Decimal("0.1"))


def score_chart_svg(points: list[ChartPoint]) -> SafeString:
    """An SVG line chart of the monthly totals (0–100), each point labelled with its total
    above and its rank (#n) below; months not published leave a gap in the line."""
    count = len(points)
    grid = format_html_join(
        "",
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#ddd" stroke-width="0.6"/>'
        '<text x="{}" y="{}" font-size="9" text-anchor="end" fill="#555">{}</text>',
        (
            (LEFT, _y(Decimal(v)), CHART_WIDTH - RIGHT, _y(Decimal(v)), LEFT - 5, _y(Decimal(v)) + 3, v)
            for v in range(0, 101, 20)
        ),
    )
    months = format_html_join(
        "",
        '<text x="{}" y="{}" font-size="9" text-anchor="middle" fill="#555">{}</text>',
        ((_x(i, count), CHART_HEIGHT - BOTTOM + 14, p.month.month) for i, p in enumerate(points)),
    )
    # One polyline per run of consecutive published months.
    runs: list[list[str]] = [[]]
    for i, p in enumerate(points):
        if p.total is None:
            runs.append([])
        else:
            runs[-1].append(f"{_x(i, count)},{_y(p.total)}")
    lines = format_html_join(
        "",
        '<polyline points="{}" fill="none" stroke="#c00000" stroke-width="1.8"/>',
        ((" ".join(run),) for run in runs if len(run) > 1),
    )
    dots = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="2.6" fill="#c00000"/>'
        '<text x="{}" y="{}" font-size="8" text-anchor="middle" fill="#333">{}</text>'
        '<text x="{}" y="{}" font-size="7.5" text-anchor="middle" fill="#777">#{}</text>',
        (
            (
                _x(i, count),
                _y(p.total),
                _x(i, count),
                _y(p.total) - 6,
                p.total,
                _x(i, count),
                _y(p.total) + 12,
                p.rank,
            )
            for i, p in enumerate(points)
            if p.total is not None
        ),
    )
    axes = format_html(
        '<line x1="{l}" y1="{t}" x2="{l}" y2="{b}" stroke="#888" stroke-width="0.8"/>'
        '<line x1="{l}" y1="{b}" x2="{r}" y2="{b}" stroke="#888" stroke-width="0.8"/>'
        '<text x="{cx}" y="{h}" font-size="9" text-anchor="middle" fill="#333">{month}</text>'
        '<text x="10" y="{t2}" font-size="9" fill="#333">{total}</text>',
        l=LEFT,
        t=TOP,
        b=CHART_HEIGHT - BOTTOM,
        r=CHART_WIDTH - RIGHT,
        cx=(CHART_WIDTH + LEFT - RIGHT) // 2,
        h=CHART_HEIGHT - 4,
        t2=TOP - 8,
        month=_("Month"),
        total=_("Total"),
    )
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
        'font-family="{font}">{}{}{}{}{}</svg>',
        grid,
        axes,
        months,
        lines,
        dots,
        w=CHART_WIDTH,
        h=CHART_HEIGHT,
        font=FONT,
    )


# --- a branch's dossier -------------------------------------------------------------


@dataclass
class MonthRow:
    month: datetime.date
    score: PublishedBranchScore | None
    met: int
    required: int
    tracked: bool = True

    @property
    def dimensions(self) -> list[Decimal | None]:
        return [getattr(self.score, d.value) for d in DIMENSIONS] if self.score else []


def _grading_committee(selection: YearSelection, row: BranchYear) -> OrgUnit:
    """The committee whose boards list the branch, within the report's subtree."""
    if row.committee is not None and row.committee.is_within(selection.committee):
        return row.committee
    return selection.committee


def branch_dossier_context(selection: YearSelection, row: BranchYear) -> dict:
    branch, year = row.branch, selection.year
    months = selection.months
    cells = compliance_matrix(branches=[branch], months=months)
    rows = []
    for month in months:
        cell = cells.get((branch.pk, month))
        rows.append(
            MonthRow(
                month,
                row.scores.get(month),
                cell.met if cell else 0,
                cell.required if cell else 0,
                cell.tracked if cell else True,
            )
        )
    grader = _grading_committee(selection, row)
    members = list(
        annual.member_annual_stars(
            committee=grader, year=year, branch=branch, version=selection.star_version(row.committee)
        )
    )
    hours = member_training_hours(members=[m["member_id"] for m in members], year=year)
    ratings = review_selectors.confirmed_ratings(year=year, members=[m["member_id"] for m in members])
    rating_labels = dict(Rating.choices)
    for m in members:
        m["review"] = rating_labels.get(ratings.get(m["member_id"]), "")
        # SQLite sums decimals as floats: put the two places back.
        m["year_total"] = Decimal(str(m["year_total"] or 0)).quantize(CENT)
        m["hours"] = hours.get(m["member_id"], Decimal("0.0"))
    year_start, year_end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    term = (
        BranchTerm.objects.filter(branch=branch, started_on__lte=year_end)
        .filter(Q(closed_on__isnull=True) | Q(closed_on__gte=year_start))
        .order_by("-started_on")
        .first()
    )
    talks = list(
        Talk.objects.filter(
            committee__path__startswith=selection.committee.path,
            branch=branch,
            month__gte=year_start,
            month__lte=year_end,
        ).order_by("month", "held_on", "pk")
    )
    chart = score_chart_svg(
        [ChartPoint(r.month, r.score.total if r.score else None, r.score.rank if r.score else None) for r in rows]
    )
    # 合理化建议 submitted in the year: the branch's funnel and the suggestions themselves.
    suggestions_funnel = suggestion_funnel(unit=branch, year=year, branch=branch).total
    projects = list(year_projects(committee=selection.committee, year=year, branch=branch))
    grade_names = grade_names_by_committee(committee_ids={p.committee_id for p in projects})
    for project in projects:
        project.grade_label = grade_label(project, grade_names)
    return {
        "projects": projects,
        "projects_value": sum((p.value_year for p in projects), start=Decimal("0")),
        "committee": grader,
        "report_committee": selection.committee,
        "year": year,
        "branch": branch,
        "term": term,
        "rows": rows,
        "months_published": row.months,
        "bottom_three_months": row.bottom,
        "mean": row.mean,
        "grade": row.grade,
        "members": members,
        "capped_members": sum(1 for m in members if m["capped"]),
        "unqualified_stars": selection.star_version(row.committee).review_unqualified_stars,
        "talks": talks,
        "chart": chart,
        "dimensions": dimension_labels(),
        "compliance_met": sum(r.met for r in rows),
        "compliance_required": sum(r.required for r in rows),
        "untracked_months": sum(1 for r in rows if not r.tracked),
        "suggestions_funnel": suggestions_funnel,
        "suggestions": list(branch_suggestions(branch=branch, year=year)),
    }


def branch_dossier_html(committee: OrgUnit, year: int, branch: OrgUnit) -> str:
    """The dossier of one branch of ``committee``'s report."""
    selection = year_selection(committee=committee, year=year, branch=branch)
    return dossier_html(selection, selection.branches[0])


def dossier_html(selection: YearSelection, row: BranchYear) -> str:
    return render_to_string("reports/pdf_dossier.html", branch_dossier_context(selection, row))


# --- the committee's summary ----------------------------------------------------------


@dataclass
class SummaryRow:
    branch: OrgUnit
    committee: OrgUnit | None = None  # the committee that grades it
    months: int = 0
    mean: Decimal | None = None
    bottom: int = 0
    grade: AnnualGrade | None = None
    rank: int | None = None

    @property
    def grade_label(self) -> str:
        if self.grade is None:
            return ""
        return self.grade.get_final_grade_display() or self.grade.get_proposed_grade_display()

    @property
    def grade_confirmed(self) -> bool:
        return bool(self.grade and self.grade.final_grade)


@dataclass(frozen=True)
class Bucket:
    low: int
    high: int
    count: int

    @property
    def label(self) -> str:
        return f"{self.low}–{self.high}"


def summary_rows(*, committee: OrgUnit, year: int, selection: YearSelection | None = None) -> list[SummaryRow]:
    """Every branch of the year ranked by its annual mean (equal means share a rank);
    branches with no published month come last, unranked."""
    selection = selection or year_selection(committee=committee, year=year)
    rows = [
        SummaryRow(b.branch, b.committee, months=b.months, mean=b.mean, bottom=b.bottom, grade=b.grade)
        for b in selection.branches
    ]
    ranked = sorted((r for r in rows if r.mean is not None), key=lambda r: (-r.mean, r.branch.name, r.branch.pk))
    for position, row in enumerate(ranked, start=1):
        previous = ranked[position - 2] if position > 1 else None
        row.rank = previous.rank if previous is not None and previous.mean == row.mean else position
    return ranked + [r for r in rows if r.mean is None]


def mean_distribution(rows: list[SummaryRow]) -> list[Bucket]:
    """How many branches' annual means fall in each 10-point bin [0, 10), …, [90, 100]."""
    counts = [0] * (100 // BUCKET_WIDTH)
    for row in rows:
        if row.mean is not None:
            counts[min(int(row.mean // BUCKET_WIDTH), len(counts) - 1)] += 1
    return [Bucket(i * BUCKET_WIDTH, (i + 1) * BUCKET_WIDTH, n) for i, n in enumerate(counts)]


def committee_summary_context(committee: OrgUnit, year: int, selection: YearSelection | None = None) -> dict:
    selection = selection or year_selection(committee=committee, year=year)
    rows = summary_rows(committee=committee, year=year, selection=selection)
    grade_counts = {}
    for row in rows:
        if row.grade_label:
            grade_counts[row.grade_label] = grade_counts.get(row.grade_label, 0) + 1
    return {
        "committee": committee,
        "year": year,
        "rows": rows,
        "show_committee": selection.spans_committees,
        "distribution": mean_distribution(rows),
        "grade_counts": sorted(grade_counts.items()),
        "months_published": len(selection.published_months),
    }


def committee_summary_html(committee: OrgUnit, year: int, selection: YearSelection | None = None) -> str:
    return render_to_string("reports/pdf_summary.html", committee_summary_context(committee, year, selection))


# --- the monthly board ----------------------------------------------------------------


def board_html(committee: OrgUnit, month: datetime.date, version: int | None = None) -> str | None:
    """The published board of ``month`` (its latest version unless ``version``), or None
    when nothing was published."""
    result = board(committee, month, draft=False, version=version)
    if result.publication is None or not result.rows:
        return None
    return render_to_string(
        "reports/pdf_board.html",
        {
            "committee": committee,
            "month": result.month,
            "board": result,
            "publication": result.publication,
            "dimensions": dimension_labels(),
        },
    )


# --- the year in one file ---------------------------------------------------------------

# The parts of the year's file carry no page number of their own: each is laid out
# alone, so its counters would restart at 1. The numbers are stamped afterwards, over
# the whole file, once its length is known.
PART_CSS = "@page { @bottom-center { content: none } }"
OVERLAY_PAGES = 100  # page numbers are laid out this many pages at a time
PT_PER_PX = 0.75  # WeasyPrint's PDF points per CSS pixel


@dataclass
class Part:
    """A document of the year's file, laid out and written to ``path``."""

    title: str
    path: Path
    pages: int
    bookmarks: list  # its sections (``pdfjoin.Bookmark``), pages counted from its start


def _marks(nodes) -> list:
    from .pdfjoin import Bookmark

    return [Bookmark(label, page, y, _marks(children)) for label, page, y, children in nodes]


def _part(renderer, html: str, path: Path, title: str) -> Part:
    """Lay ``html`` out in the renderer's process and write it to ``path``."""
    source = path.with_suffix(".html")
    source.write_text(html, encoding="utf-8")
    css = finders.find(CSS_FILE)
    answer = renderer.render(source, path, css_files=[css] if css else [], css_strings=[PART_CSS], base_url=_base_url())
    source.unlink()
    tree = _marks(answer["bookmarks"])
    # The part's own heading is its entry; its sections hang below it.
    sections = [child for node in tree for child in node.children] if len(tree) == 1 else tree
    return Part(title=title, path=path, pages=answer["pages"], bookmarks=sections)


def contents_html(*, committee: OrgUnit, year: int, entries: list[tuple[str, int]]) -> str:
    """The table of contents: each part's title and the page it starts on."""
    return render_to_string("reports/pdf_contents.html", {"committee": committee, "year": year, "entries": entries})


# Where the report stylesheet's ``@bottom-center`` sets the page number: centred in the
# 18 mm bottom margin, 8 pt grey Noto Sans CJK.
NUMBERS_CSS = """
@page { size: A4; margin: 0 }
html, body { margin: 0; }
div { padding-top: 286.6mm; text-align: center; line-height: 1;
      font-family: "Noto Sans CJK SC", sans-serif; font-size: 8pt; color: #555; }
div + div { break-before: page; }
"""


def page_numbers_pdf(renderer, path: Path, *, first: int, last: int, total: int) -> float:
    """Pages ``first``…``last`` of ``total``, blank but for "n / N" where the report's
    footer stands, written to ``path``; returns the pages' width in points."""
    pages = "".join(f"<div>{n} / {total}</div>" for n in range(first, last + 1))
    source = path.with_suffix(".html")
    source.write_text(f"<!DOCTYPE html><html><body>{pages}</body></html>", encoding="utf-8")
    answer = renderer.render(source, path, css_strings=[NUMBERS_CSS])
    source.unlink()
    return answer["width"]


def write_year_pdf(path, *, committee: OrgUnit, year: int, progress: Callable[[int], None]) -> None:
    """One PDF: a table of contents, the committee's summary, then every branch's
    dossier, each starting on a new page — the branches of ``selectors.year_selection``,
    as in the workbook.

    Memory stays bounded whatever the size of the tree: each part is laid out alone, in
    a child process replaced every 50 documents (``pdfworker``: WeasyPrint keeps a
    little memory per document), and written to a temporary file before the next; the
    parts are then streamed into
    ``path`` by ``pdfjoin.PdfJoin``, which holds a few integers a page. Only then, the
    length known, is every page stamped "n / N" (laid out by WeasyPrint,
    ``OVERLAY_PAGES`` at a time) and the contents page written with the page each part
    starts on, so the numbers the contents give are the numbers the pages show. The
    outline (bookmarks) lists the contents, each part and its sections."""
    import tempfile

    from .pdfjoin import Bookmark, PdfJoin
    from .pdfworker import Renderer

    selection = year_selection(committee=committee, year=year)
    steps = len(selection.branches) + 2  # the summary, each branch, writing the file
    with tempfile.TemporaryDirectory(prefix="year-pdf-") as tmp, Renderer() as renderer:
        folder = Path(tmp)
        summary = committee_summary_html(committee, year, selection)
        parts = [_part(renderer, summary, folder / "0.pdf", _("Annual grades"))]
        progress(100 * len(parts) // steps)
        for row in selection.branches:
            html = dossier_html(selection, row)
            parts.append(_part(renderer, html, folder / f"{len(parts)}.pdf", row.branch.name))
            progress(100 * len(parts) // steps)

        # The contents come first: lay them out until their own length is stable.
        contents_path, contents_pages = folder / "contents.pdf", 1
        while True:
            start, entries = contents_pages + 1, []
            for part in parts:
                entries.append((part.title, start))
                start += part.pages
            contents = contents_html(committee=committee, year=year, entries=entries)
            laid_out = _part(renderer, contents, contents_path, "")
            if laid_out.pages == contents_pages:
                break
            contents_pages = laid_out.pages
        total = start - 1

        overlays: dict = {}
        widths: dict[Path, float] = {}

        def stamp(index: int, width: float, height: float):
            overlay = folder / f"numbers-{index // OVERLAY_PAGES}.pdf"
            if overlay not in widths:
                first = index - index % OVERLAY_PAGES + 1
                last = min(first + OVERLAY_PAGES - 1, total)
                widths[overlay] = page_numbers_pdf(renderer, overlay, first=first, last=last, total=total)
            # A page wider than the overlay's (landscape) has its number moved to its centre.
            return join.form(overlay, index % OVERLAY_PAGES, dx=(width - widths[overlay]) / 2, cache=overlays)

        outline = [Bookmark(_("Contents"), 0)]
        try:
            with open(path, "wb") as fh:
                join = PdfJoin(fh)
                join.add_file(contents_path, stamp)
                for part, (title, first) in zip(parts, entries, strict=True):
                    offset = first - 1
                    join.add_file(part.path, stamp)
                    part.path.unlink()
                    outline.append(Bookmark(title, offset, None, _shift(part.bookmarks, offset)))
                title = _("%(committee)s %(year)s year-end report") % {"committee": committee.name, "year": year}
                join.close(outline=outline, title=title)
        except BaseException:
            Path(path).unlink(missing_ok=True)  # no half-joined file
            raise
    progress(100)


def _shift(bookmarks: list, offset: int) -> list:
    for mark in bookmarks:
        mark.page += offset
        _shift(mark.children, offset)
    return bookmarks
