"""The year-end reports show the suggestions: the workbook's 合理化建议 sheet (the funnel
by branch with totals and the realised benefit) and a section of each branch's dossier,
both checked against the database."""

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.db.models import Count, Q, Sum
from django.utils import translation
from pypdf import PdfReader

from branches.grading.models import GradingRun, Publication, PublishedBranchScore
from branches.reports import pdf
from branches.reports.xlsx import write_year_xlsx
from members.suggestions.models import Suggestion

from .. import factories as f
from .factories import suggestion, through

pytestmark = pytest.mark.django_db
YEAR = 2025


@pytest.fixture
def suggestions(tree, member_a):
    """Branch A: 4 in 2025 (implemented 12.30 and 7.70, published, rejected) and one in
    2024; branch B: 1 accepted; branch X (another committee): 1 implemented."""
    day = datetime.date(YEAR, 5, 6)
    for stage, value in (("implemented", "12.30"), ("implemented", "7.70"), ("published", None), ("rejected", None)):
        s = suggestion(tree.branch_a, [member_a], submitted_on=day)
        through(s, stage, value=value or "0", on=day)
    suggestion(tree.branch_a, [member_a], submitted_on=datetime.date(YEAR - 1, 12, 30))
    through(suggestion(tree.branch_b, [f.MemberFactory(branch=tree.branch_b)], submitted_on=day), "accepted", on=day)
    x = f.MemberFactory(branch=tree.branch_x)
    through(suggestion(tree.branch_x, [x], submitted_on=day), "implemented", on=day)


def expected(branch) -> tuple:
    """The branch's year straight from the table."""
    row = Suggestion.objects.filter(branch=branch, submitted_on__year=YEAR).aggregate(
        proposed=Count("pk"),
        accepted=Count("pk", filter=Q(state__in=["accepted", "published", "implemented"])),
        rejected=Count("pk", filter=Q(state="rejected")),
        published=Count("pk", filter=Q(state__in=["published", "implemented"])),
        implemented=Count("pk", filter=Q(state="implemented")),
        realised=Sum("realised_value"),
    )
    return (*(row[k] for k in ("proposed", "accepted", "rejected", "published", "implemented")), row["realised"])


def test_the_workbook_has_the_funnel_by_branch_with_totals(tree, suggestions, tmp_path):
    out = tmp_path / "year.xlsx"
    with translation.override("zh-hans"):
        write_year_xlsx(out, committee=tree.plant, year=YEAR)
    workbook = openpyxl.load_workbook(out)
    sheet = workbook["合理化建议"]
    rows = {row[0].value or row[1].value: [c.value for c in row] for row in sheet.iter_rows(min_row=2)}
    assert set(rows) == {"BRA", "BRB", "合计"}
    for branch in (tree.branch_a, tree.branch_b):
        values = rows[branch.code]
        proposed, accepted, rejected, published, implemented, realised = expected(branch)
        assert values[3:8] == [proposed, accepted, rejected, published, implemented]
        assert Decimal(str(values[10])) == (realised or Decimal("0"))
    assert rows["BRA"][3:8] == [4, 3, 1, 3, 2] and Decimal(str(rows["BRA"][10])) == Decimal("20.00")
    assert Decimal(str(rows["BRA"][8])) == Decimal("75.0")  # 3 of 4 accepted
    assert rows["合计"][3:8] == [5, 4, 1, 3, 2] and Decimal(str(rows["合计"][10])) == Decimal("20.00")


def test_the_root_committees_workbook_counts_every_branch_below_it(tree, suggestions, tmp_path):
    out = tmp_path / "year.xlsx"
    with translation.override("zh-hans"):
        write_year_xlsx(out, committee=tree.root, year=YEAR)
    rows = {
        row[0].value or row[1].value: [c.value for c in row]
        for row in openpyxl.load_workbook(out)["合理化建议"].iter_rows(min_row=2)
    }
    assert {"BRA", "BRB", "BRX"} <= set(rows)
    total = rows[next(k for k in rows if k not in ("BRA", "BRB", "BRX"))]
    assert total[3:8] == [6, 5, 1, 4, 3]
    assert (
        Decimal(str(total[10]))
        == Suggestion.objects.filter(submitted_on__year=YEAR).aggregate(s=Sum("realised_value"))["s"]
    )


def test_the_dossier_has_the_branchs_suggestions(tree, suggestions):
    run = GradingRun.objects.create(committee=tree.plant, month=datetime.date(YEAR, 5, 1), state="succeeded")
    publication = Publication.objects.create(committee=tree.plant, month=datetime.date(YEAR, 5, 1), version=1, run=run)
    PublishedBranchScore.objects.create(
        publication=publication, branch=tree.branch_a, basics=Decimal("80"), total=Decimal("80"), rank=1
    )
    with translation.override("zh-hans"):
        html = pdf.branch_dossier_html(tree.plant, YEAR, tree.branch_a)
        reader = PdfReader(io.BytesIO(pdf.render_pdf(html)))
    proposed, accepted, rejected, published, implemented, realised = expected(tree.branch_a)
    assert "合理化建议" in html
    section = html.split('id="suggestion-funnel"')[1].split("</table>")[0]
    cells = [c.split("<")[0] for c in section.split('<td class="n">')[1:]]
    assert cells == [str(proposed), str(accepted), str(rejected), str(published), str(implemented), str(realised)]
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert realised == Decimal("20.00") and "合理化建议" in text and "20.00" in text
    # The suggestions of the year are listed; last year's is not.
    assert html.count("优化高炉布料制度降低焦比") == 4
