"""The year-end workbook, read back with openpyxl and checked against the database."""

import datetime
from decimal import Decimal

import openpyxl
import pytest
from django.db import transaction
from django.db.models import Sum
from django.utils import translation

from branches.activities.models import Activity, Attendance
from branches.choices import ActivityKind, AttendanceStatus
from branches.grading.annual import latest_publications
from branches.grading.models import (
    AnnualGrade,
    GradingRun,
    Publication,
    PublishedBranchScore,
    PublishedMemberScore,
    Talk,
)
from branches.reports.xlsx import write_year_xlsx
from members.models import MemberHonour
from tests import factories as f

YEAR = 2025


def month(n: int) -> datetime.date:
    return datetime.date(YEAR, n, 1)


def publish(committee, on, branches=(), members=(), version=None) -> Publication:
    """``branches`` as (branch, total, rank[, bottom three]); ``members`` as (member, branch, {column: value})."""
    if version is None:
        version = Publication.objects.filter(committee=committee, month=on).count() + 1
    run = GradingRun.objects.create(committee=committee, month=on, state=GradingRun.State.SUCCEEDED)
    publication = Publication.objects.create(committee=committee, month=on, version=version, run=run)
    for row in branches:
        PublishedBranchScore.objects.create(
            publication=publication,
            branch=row[0],
            basics=Decimal(row[1]),
            membership=Decimal(row[1]),
            total=Decimal(row[1]),
            rank=row[2],
            bottom_three=row[3] if len(row) > 3 else False,
        )
    for member, branch, values in members:
        PublishedMemberScore.objects.create(
            publication=publication, member=member, branch=branch, **{k: Decimal(v) for k, v in values.items()}
        )
    return publication


def export(tmp_path, committee, language="zh-hans", year=YEAR):
    out = tmp_path / "year.xlsx"
    seen = []
    with translation.override(language):
        write_year_xlsx(out, committee=committee, year=year, progress=seen.append)
    workbook = openpyxl.load_workbook(out)
    workbook.progress = seen
    return workbook


def rows_by(sheet, column: int = 0) -> dict:
    return {row[column].value: row for row in sheet.iter_rows(min_row=2)}


def header(sheet) -> list:
    return [cell.value for cell in sheet[1]]


@pytest.fixture
def year_data(tree, member_a, member_x):
    member_b = f.MemberFactory(branch=tree.branch_b, name="赵六")
    # March: published twice; only version 2 counts.
    publish(tree.plant, month(3), [(tree.branch_a, "70.00", 2), (tree.branch_b, "80.00", 1)])
    publish(
        tree.plant,
        month(3),
        [(tree.branch_a, "91.25", 1), (tree.branch_b, "88.50", 2, True)],
        [
            (member_a, tree.branch_a, {"political": "3", "org_life": "4", "deduction": "-2", "total": "5"}),
            (member_b, tree.branch_b, {"training": "6", "total": "6"}),
        ],
    )
    publish(
        tree.plant,
        month(4),
        [(tree.branch_a, "85.00", 2, True), (tree.branch_b, "90.00", 1)],
        [(member_a, tree.branch_a, {"political": "3", "exemplary": "9.5", "total": "12.5"})],
    )
    publish(
        tree.other,
        month(4),
        [(tree.branch_x, "77.00", 1)],
        [(member_x, tree.branch_x, {"duty": "5", "total": "5"})],
    )
    AnnualGrade.objects.create(
        committee=tree.plant,
        year=YEAR,
        branch=tree.branch_a,
        months_published=2,
        proposed_grade=AnnualGrade.Grade.ADVANCED,
        final_grade=AnnualGrade.Grade.STANDARD,
    )
    Talk.objects.create(
        committee=tree.plant,
        month=month(4),
        branch=tree.branch_a,
        held_on=datetime.date(YEAR, 5, 6),
        talked_by="党委书记",
        talked_with="支部书记",
        notes='=HYPERLINK("http://evil")',
        actions="加强学习",
    )
    # 三会一课 in January: branch A (two groups) needs 4, holds a committee meeting and a themed day.
    for kind in (ActivityKind.COMMITTEE_MEETING, ActivityKind.THEMED_DAY):
        Activity.objects.create(
            branch=tree.branch_a, kind=kind, title="会", date=datetime.date(YEAR, 1, 15), status=Activity.Status.HELD
        )
    training = Activity.objects.create(
        branch=tree.branch_a,
        kind=ActivityKind.TRAINING,
        title="学习",
        date=datetime.date(YEAR, 2, 10),
        status=Activity.Status.HELD,
        class_hours=Decimal("2.5"),
    )
    Attendance.objects.create(activity=training, member=member_a, status=AttendanceStatus.PRESENT)
    MemberHonour.objects.create(
        member=member_a,
        kind=MemberHonour.Kind.MODEL_POST,
        title="连铸岗",
        stars=3,
        awarded_on=datetime.date(YEAR, 1, 1),
    )
    return member_b


def test_the_branch_summary_holds_each_months_latest_published_total_and_rank(tmp_path, tree, year_data):
    sheet = export(tmp_path, tree.plant).worksheets[0]
    row = rows_by(sheet)["BRA"]
    values = [c.value for c in row]
    march, april = 4 + 2 * 2, 4 + 2 * 3
    assert values[1] == tree.branch_a.name
    assert values[2] == tree.plant.name
    assert values[march : march + 2] == [91.25, 1]
    assert values[april : april + 2] == [85.0, 2]
    assert values[4] is None  # January was not published
    assert values[28] == 88.13  # (91.25 + 85) / 2, half-up
    assert values[29] == 2
    assert row[march].number_format == "0.00"
    assert row[march + 1].number_format == "0"
    branch_b = [c.value for c in rows_by(sheet)["BRB"]]
    assert branch_b[march : march + 2] == [88.5, 2]
    assert branch_b[32] == 1  # bottom three once (March)


def test_the_branch_summary_shows_the_annual_grade_proposed_and_confirmed(tmp_path, tree, year_data):
    sheet = export(tmp_path, tree.plant, language="en").worksheets[0]
    values = [c.value for c in rows_by(sheet)["BRA"]]
    assert values[30:33] == ["Advanced", "Up to standard", 1]


def test_a_committee_export_leaves_out_other_committees_branches(tmp_path, tree, year_data):
    workbook = export(tmp_path, tree.plant)
    assert set(rows_by(workbook.worksheets[0])) == {"BRA", "BRB"}
    branches = {row[2].value for row in workbook.worksheets[2].iter_rows(min_row=2)}
    assert branches == {tree.branch_a.name, tree.branch_b.name}


def test_the_root_committees_export_holds_every_branch_and_member_under_it(tmp_path, tree, year_data, member_x):
    workbook = export(tmp_path, tree.root)
    assert set(rows_by(workbook.worksheets[0])) == {"BRA", "BRB", "BRX"}
    members = rows_by(workbook.worksheets[2])
    assert member_x.employee_no in members
    assert members[member_x.employee_no][8].value == 5  # duty


def test_a_members_points_by_category_and_annual_total_are_the_published_sums(tmp_path, tree, year_data, member_a):
    sheet = export(tmp_path, tree.plant).worksheets[2]
    row = [c.value for c in rows_by(sheet)[member_a.employee_no]]
    # employee no, name, branch, status, political, training, org_life, exemplary, duty, deduction, total, months, stars, hours, honours
    assert row[1:4] == [member_a.name, tree.branch_a.name, "正式党员"]
    assert row[4:11] == [6, 0, 4, 9.5, 0, -2, 17.5]
    assert row[11] == 2
    assert row[12] == 1  # 17.5 is under 12 × 12
    assert row[13] == 2.5
    assert "连铸岗" in row[14] and "★★★" in row[14]
    counted = PublishedMemberScore.objects.filter(
        member=member_a, publication__in=latest_publications(committee=tree.plant, year=YEAR)
    ).aggregate(political=Sum("political"), total=Sum("total"))
    assert Decimal(str(row[4])) == counted["political"]
    assert Decimal(str(row[10])) == counted["total"]


def test_annual_stars_use_twelve_times_the_month_bands(tmp_path, tree, member_a):
    for n in range(1, 13):
        publish(tree.plant, month(n), [(tree.branch_a, "80", 1)], [(member_a, tree.branch_a, {"total": "30"})])
    row = [c.value for c in rows_by(export(tmp_path, tree.plant).worksheets[2])[member_a.employee_no]]
    assert row[10] == 360
    assert row[12] == 5


def test_a_member_without_published_months_is_listed_with_zeros(tmp_path, tree, year_data):
    lonely = f.MemberFactory(branch=tree.branch_b, name="孙七")
    row = [c.value for c in rows_by(export(tmp_path, tree.plant).worksheets[2])[lonely.employee_no]]
    assert row[4:13] == [0, 0, 0, 0, 0, 0, 0, 0, 1]


def test_compliance_shows_met_over_required_per_month(tmp_path, tree, year_data):
    sheet = export(tmp_path, tree.plant).worksheets[1]
    row = [c.value for c in rows_by(sheet)["BRA"]]
    assert row[2] == "2/4"  # January
    assert row[3] == "0/4"  # February: nothing held
    assert row[4] == "0/6"  # March ends a quarter: general meeting and lecture too
    assert row[14] == 2 and row[15] == sum(int(v.split("/")[1]) for v in row[2:14])


def test_the_talks_sheet_lists_each_talk_with_its_date(tmp_path, tree, year_data):
    sheet = export(tmp_path, tree.plant).worksheets[3]
    [row] = list(sheet.iter_rows(min_row=2))
    values = [c.value for c in row]
    assert values[:3] == ["2025-04", "BRA", tree.branch_a.name]
    assert values[3] == datetime.datetime(YEAR, 5, 6)
    assert row[3].number_format == "yyyy-mm-dd"
    assert values[4:6] == ["党委书记", "支部书记"]
    assert values[7] == "加强学习"


def test_formula_looking_text_stays_text(tmp_path, tree, year_data):
    f.MemberFactory(branch=tree.branch_a, name="=SUM(A1)", employee_no="-1", post="+86 138")
    Talk.objects.filter(branch=tree.branch_a).update(talked_by="@admin", talked_with="+8613800000000")
    workbook = export(tmp_path, tree.plant)
    member = rows_by(workbook.worksheets[2])["-1"]
    assert member[0].data_type == "s" and member[0].value == "-1"
    assert member[1].data_type == "s" and member[1].value == "=SUM(A1)"
    [talk] = list(workbook.worksheets[3].iter_rows(min_row=2))
    assert [(c.data_type, c.value) for c in talk[4:7]] == [
        ("s", "@admin"),
        ("s", "+8613800000000"),
        ("s", '=HYPERLINK("http://evil")'),
    ]


def test_headers_are_chinese_under_zh_hans(tmp_path, tree, year_data):
    workbook = export(tmp_path, tree.plant, language="zh-hans")
    assert workbook.sheetnames[2:] == ["党员", "谈话帮扶", "党小组星级", "合理化建议", "攻关项目"]
    assert header(workbook.worksheets[0])[:4] == ["编码", "名称", "上级组织", "三型等级"]
    assert header(workbook.worksheets[2])[:4] == ["工号", "姓名", "党支部", "党员类别"]
    assert "组织生活" in header(workbook.worksheets[2])
    assert header(workbook.worksheets[3])[3:8] == ["谈话日期", "谈话人", "谈话对象", "谈话内容", "整改措施"]


def test_every_sheet_has_a_frozen_header_an_autofilter_and_column_widths(tmp_path, tree, year_data):
    for sheet in export(tmp_path, tree.plant).worksheets:
        assert sheet.freeze_panes in ("A2", "C2")
        assert sheet.auto_filter.ref.startswith("A1:")
        assert sheet.column_dimensions["B"].width > 8


def test_progress_rises_to_100(tmp_path, tree, year_data):
    progress = export(tmp_path, tree.plant).progress
    assert progress == sorted(progress) and progress[-1] == 100


def test_an_empty_year_still_makes_a_valid_workbook(tmp_path, tree):
    workbook = export(tmp_path, tree.plant, year=2020)
    assert len(workbook.worksheets) == 7
    assert set(rows_by(workbook.worksheets[0])) == {"BRA", "BRB"}


def test_the_compliance_totals_are_headed_as_requirements_not_class_hours(tmp_path, tree, year_data):
    workbook = export(tmp_path, tree.plant)
    assert header(workbook.worksheets[1])[14:16] == ["已落实事项数", "应开事项数"]
    for sheet in workbook.worksheets:
        assert "要求学时" not in header(sheet)


def test_every_sheet_prints_on_a4_landscape_one_page_wide_with_its_header_row_on_every_page(tmp_path, tree, year_data):
    workbook = export(tmp_path, tree.plant)
    for sheet in workbook.worksheets:
        setup = sheet.page_setup
        assert setup.orientation == "landscape", sheet.title
        assert int(setup.paperSize) == 9  # A4
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        # One page wide (an absent fitToWidth is OOXML's default, 1), any number of pages tall.
        assert (int(setup.fitToWidth or 1), int(setup.fitToHeight)) == (1, 0)
        assert sheet.print_title_rows == "$1:$1"
        assert sheet.page_margins.left < 0.7 and sheet.page_margins.top >= 0.5
        assert sheet.oddHeader.left.text == "炼钢厂党委2025年度报表"
        assert sheet.oddHeader.right.text == sheet.title
        assert sheet.oddFooter.center.text == "第 &P 页 / 共 &N 页"
        assert sheet.print_options.gridLines


def test_an_ampersand_in_a_committee_name_prints_as_text_in_the_page_header(tmp_path, tree):
    tree.plant.name = "炼钢&轧钢党委"
    tree.plant.save(update_fields=["name"])
    sheet = export(tmp_path, tree.plant).worksheets[0]
    assert sheet.oddHeader.left.text == "炼钢&&轧钢党委2025年度报表"  # "&&" is a literal "&" in a page header


def test_a_workbook_that_fails_half_way_leaves_no_file(tmp_path, tree, year_data, monkeypatch):
    from branches.reports import xlsx

    def crash(*args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(xlsx, "_talks_sheet", crash)
    path = tmp_path / "year.xlsx"
    with pytest.raises(RuntimeError), translation.override("zh-hans"):
        write_year_xlsx(path, committee=tree.plant, year=YEAR)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.django_db(transaction=True)
def test_the_workbook_read_ahead_holds_what_it_holds_when_read_in_place(tmp_path, tree, year_data):
    """The year-end workbook outside a transaction (members' rows, sums, class hours,
    honours and reviews read on threads) equals the one written with every read in
    place, cell for cell, in Chinese."""
    (tmp_path / "ahead").mkdir()
    (tmp_path / "inline").mkdir()
    ahead = export(tmp_path / "ahead", tree.root, language="zh-hans")
    with transaction.atomic():
        inline = export(tmp_path / "inline", tree.root, language="zh-hans")

    def cells(workbook: openpyxl.Workbook) -> list:
        return [[[cell.value for cell in row] for row in sheet.iter_rows()] for sheet in workbook.worksheets]

    assert cells(ahead) == cells(inline)
    members = {row[1]: row for row in cells(ahead)[2]}
    assert members[year_data.name][0] == year_data.employee_no  # a member from the threads' merge
    # The honour's label in the export's language, read on a thread: the same text.
    assert any("连铸岗" in (row[-2] or "") for row in cells(ahead)[2][1:])
