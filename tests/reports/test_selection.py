"""Both year-end formats read one selection: the same branches with the same monthly
totals as the boards, at every level of the tree (a root committee whose branches are
graded by the committees below it, a plant committee, a committee whose branches sit
under a general branch)."""

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.utils import translation
from pypdf import PdfReader

from branches.grading.boards import board
from branches.grading.models import GradingRun, Publication, PublishedBranchScore
from branches.models import OrgUnit
from branches.reports import pdf
from branches.reports.selectors import year_selection
from branches.reports.xlsx import write_year_xlsx
from tests import factories as f

pytestmark = pytest.mark.django_db
YEAR = 2024


def month(n: int) -> datetime.date:
    return datetime.date(YEAR, n, 1)


def publish(committee, on, branches) -> Publication:
    """``branches`` as (branch, total, rank, bottom three); each call adds the next version."""
    version = Publication.objects.filter(committee=committee, month=on).count() + 1
    run = GradingRun.objects.create(committee=committee, month=on, state=GradingRun.State.SUCCEEDED)
    publication = Publication.objects.create(committee=committee, month=on, version=version, run=run)
    for branch, total, rank, bottom in branches:
        PublishedBranchScore.objects.create(
            publication=publication,
            branch=branch,
            basics=Decimal(total),
            membership=Decimal(total),
            total=Decimal(total),
            rank=rank,
            bottom_three=bottom,
        )
    return publication


@pytest.fixture
def levels(tree):
    """PLANT publishes January (twice: version 2 counts) and February, OTHER January and
    March; MINE (a third committee under the root) grades a branch under a general branch."""
    mine = f.committee(name="矿业公司党委", code="MINE", parent=tree.root)
    general = f.UnitFactory(kind=OrgUnit.Kind.GENERAL_BRANCH, parent=mine, name="选矿党总支", code="GEN")
    branch_g = f.branch(general, name="选矿一党支部", code="BRG")
    publish(tree.plant, month(1), [(tree.branch_a, "10.00", 2, False), (tree.branch_b, "20.00", 1, False)])
    publish(tree.plant, month(1), [(tree.branch_a, "91.50", 1, False), (tree.branch_b, "77.25", 2, False)])
    publish(tree.plant, month(2), [(tree.branch_a, "88.00", 2, False), (tree.branch_b, "89.00", 1, False)])
    publish(tree.other, month(1), [(tree.branch_x, "66.60", 1, False)])
    publish(tree.other, month(3), [(tree.branch_x, "70.00", 1, False)])
    publish(mine, month(2), [(branch_g, "95.00", 1, False)])
    tree.mine, tree.general, tree.branch_g = mine, general, branch_g
    return tree


def xlsx_totals(tmp_path, committee) -> dict:
    """``code → {month: total}`` and ``code → mean`` from the workbook's summary sheet."""
    out = tmp_path / f"{committee.code}.xlsx"
    with translation.override("zh-hans"):
        write_year_xlsx(out, committee=committee, year=YEAR)
    sheet = openpyxl.load_workbook(out).worksheets[0]
    totals, means = {}, {}
    for row in sheet.iter_rows(min_row=2, values_only=True):
        monthly = {month(n): Decimal(str(row[4 + 2 * (n - 1)])) for n in range(1, 13) if row[4 + 2 * (n - 1)]}
        totals[row[0]] = monthly
        means[row[0]] = Decimal(str(row[28])).quantize(Decimal("0.01")) if row[28] is not None else None
    return totals, means


def pdf_totals(committee) -> tuple[dict, dict]:
    """The same from what the PDF renders: each branch's dossier and the summary's means."""
    selection = year_selection(committee=committee, year=YEAR)
    totals = {}
    for row in selection.branches:
        context = pdf.branch_dossier_context(selection, row)
        totals[row.branch.code] = {r.month: r.score.total for r in context["rows"] if r.score}
    means = {r.branch.code: r.mean for r in pdf.summary_rows(committee=committee, year=YEAR, selection=selection)}
    return totals, means


def board_totals(*committees) -> dict:
    """What the committees' published board pages show, month by month."""
    totals: dict = {}
    for committee in committees:
        for n in range(1, 13):
            for row in board(committee, month(n), draft=False).rows:
                totals.setdefault(row.branch.code, {})[month(n)] = row.total
    return totals


def test_the_root_committees_pdf_and_xlsx_list_the_branches_of_its_sub_committees_as_their_boards(tmp_path, levels):
    xlsx, xlsx_means = xlsx_totals(tmp_path, levels.root)
    pdf_, pdf_means = pdf_totals(levels.root)
    boards = board_totals(levels.plant, levels.other, levels.mine)
    assert boards == {
        "BRA": {month(1): Decimal("91.50"), month(2): Decimal("88.00")},
        "BRB": {month(1): Decimal("77.25"), month(2): Decimal("89.00")},
        "BRX": {month(1): Decimal("66.60"), month(3): Decimal("70.00")},
        "BRG": {month(2): Decimal("95.00")},
    }
    assert xlsx == pdf_ == boards
    assert xlsx_means == pdf_means
    assert pdf_means["BRA"] == Decimal("89.75") and pdf_means["BRB"] == Decimal("83.13")


@pytest.mark.parametrize("level", ["plant", "other", "mine"])
def test_every_committee_level_gets_the_same_branches_and_totals_in_both_formats(tmp_path, levels, level):
    committee = getattr(levels, level)
    xlsx, xlsx_means = xlsx_totals(tmp_path, committee)
    pdf_, pdf_means = pdf_totals(committee)
    assert xlsx == pdf_ == board_totals(committee)
    assert xlsx_means == pdf_means


def test_the_root_committees_year_pdf_holds_every_branch_and_its_months(tmp_path, levels):
    out = tmp_path / "root.pdf"
    with translation.override("zh-hans"):
        pdf.write_year_pdf(out, committee=levels.root, year=YEAR, progress=lambda pct: None)
    reader = PdfReader(io.BytesIO(out.read_bytes()))
    # Page 1 is the contents; the summary follows. Names wrap in narrow columns.
    summary = "".join(reader.pages[1].extract_text().split())
    assert "本年度尚无已公示的月份" not in summary
    for name in ("连铸作业区党支部", "设备党支部", "热轧党支部", "选矿一党支部"):
        assert name in summary
    # The committee that grades each branch is named when several do.
    assert "炼钢厂党委" in summary and "热轧厂党委" in summary and "矿业公司党委" in summary
    text = "\n".join(page.extract_text() for page in reader.pages)
    for total in ("91.50", "89.00", "66.60", "70.00", "95.00"):
        assert total in text
    assert "10.00" not in text  # January's first version was replaced


def test_a_branch_moved_out_of_the_committee_keeps_its_published_months_in_both_formats(tmp_path, levels):
    from branches.services import org_unit_move

    org_unit_move(unit=levels.branch_b, new_parent=levels.other)
    xlsx, _ = xlsx_totals(tmp_path, levels.plant)
    pdf_, _ = pdf_totals(levels.plant)
    assert xlsx == pdf_
    assert xlsx["BRB"] == {month(1): Decimal("77.25"), month(2): Decimal("89.00")}


def test_the_selection_reads_a_few_queries_per_committee_that_published(levels, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        selection = year_selection(committee=levels.root, year=YEAR)
    assert {c.code for c in selection.committees} == {"PLANT", "OTHER", "MINE"}
    assert selection.published_months == [month(1), month(2), month(3)]
