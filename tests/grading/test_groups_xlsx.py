"""The party groups' sheet of the year-end workbook (党小组星级), read back with openpyxl.

PLANT publishes April and May 2025 with the group scores set in each draft before it is
published: A1 90.00 (★5) and 89.99 (★4) → mean 89.995 → 90.00, ★5 for the year; A2
89.99 and 89.98 → mean 89.985 → 89.99, ★4. OTHER publishes April: X1 graded by it.
"""

import openpyxl
import pytest
from django.utils import translation

from branches.reports.xlsx import write_year_xlsx

from .test_groups_pages import MAY, grade_plant
from .test_scenarios import APRIL, enter_all, grade

pytestmark = pytest.mark.django_db

SHEET = 4  # after the summary, compliance, members and talks


def export(tmp_path, committee, language="zh-hans"):
    out = tmp_path / "year.xlsx"
    with translation.override(language):
        write_year_xlsx(out, committee=committee, year=2025)
    return openpyxl.load_workbook(out)


@pytest.fixture
def two_months(tree, member_a):
    grade_plant(tree, scores={tree.group_a1: ("90.00", 5), tree.group_a2: ("89.99", 4)})
    grade_plant(tree, MAY, scores={tree.group_a1: ("89.99", 4), tree.group_a2: ("89.98", 4)})


def by_code(sheet) -> dict[str, list]:
    return {row[0].value: [c.value for c in row] for row in sheet.iter_rows(min_row=2)}


def test_the_sheet_holds_each_groups_months_and_year_stars(tmp_path, tree, two_months):
    workbook = export(tmp_path, tree.plant)
    assert workbook.sheetnames[SHEET] == "党小组星级"
    sheet = workbook.worksheets[SHEET]
    head = [c.value for c in sheet[1]]
    assert head[:3] == ["编码", "党小组", "党支部"]
    assert head[3:5] == ["2025-01得分", "2025-01星级"]
    assert head[-3:] == ["公示月数", "平均得分", "年度星级"]
    rows = by_code(sheet)
    assert set(rows) == {"A1", "A2"}
    a1, a2 = rows["A1"], rows["A2"]
    assert a1[:3] == ["A1", "第一党小组", "连铸作业区党支部"]
    april, may = 3 + 2 * 3, 3 + 2 * 4  # the columns of April's and May's score
    assert a1[april : may + 2] == [90, 5, 89.99, 4]
    assert a1[3:april] == [None] * 6  # January to March: nothing published
    assert a1[-3:] == [2, 90, 5]
    assert a2[april : may + 2] == [89.99, 4, 89.98, 4]
    assert a2[-3:] == [2, 89.99, 4]
    assert sheet.cell(row=2, column=april + 1).number_format == "0.00"
    assert [row[0].value for row in sheet.iter_rows(min_row=2)] == ["A1", "A2"]  # tree order


def test_the_root_committees_sheet_holds_the_groups_of_every_committee_under_it(tmp_path, tree, two_months, member_x):
    enter_all(tree.branch_x, "80")
    grade(tree.other)
    from branches.grading import publishing

    publishing.board_publish(committee=tree.other, month=APRIL, user=None)
    root = by_code(export(tmp_path, tree.root).worksheets[SHEET])
    assert set(root) == {"A1", "A2", "X1"}
    assert root["X1"][2] == "热轧党支部" and root["X1"][-3] == 1
    plant = by_code(export(tmp_path, tree.plant).worksheets[SHEET])
    assert set(plant) == {"A1", "A2"}


def test_the_sheet_prints_like_the_others(tmp_path, tree, two_months):
    sheet = export(tmp_path, tree.plant, language="en").worksheets[SHEET]
    assert sheet.title == "Party group stars"
    assert sheet.page_setup.orientation == "landscape" and int(sheet.page_setup.paperSize) == 9
    assert sheet.print_title_rows == "$1:$1" and sheet.freeze_panes == "C2"
    assert sheet.auto_filter.ref.startswith("A1:")
