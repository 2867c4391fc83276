"""The year-end workbook's 攻关项目 sheet and the dossier's projects section, checked
against the database."""

import datetime
from decimal import Decimal

import openpyxl
import pytest
from django.db.models import Sum
from django.utils import timezone, translation

from branches.projects import services
from branches.projects.models import Project, ValueRecord
from branches.reports import pdf
from branches.reports.xlsx import write_year_xlsx

pytestmark = pytest.mark.django_db


@pytest.fixture
def year_projects(project, users, tree, kinds, member_a):
    """Three projects of this year in PLANT: one graded 二等 under the committee's own
    grade names, one in progress with value, one still a draft (not in the report)."""
    today = timezone.localdate()
    this_month = today.replace(day=1)
    last_month = (this_month - datetime.timedelta(days=1)).replace(day=1)
    services.project_grade_names_set(
        committee=tree.plant, grade_1_name="优秀", grade_2_name="良好", grade_3_name="合格"
    )
    if last_month.year == today.year:
        services.value_record_add(project=project, month=last_month, amount=Decimal("30.5"), user=None)
    services.value_record_add(project=project, month=this_month, amount=Decimal("12.25"), user=None)
    graded = services.project_create(
        branch=tree.branch_a,
        kind=kinds["党员先锋工程"],
        title="党员先锋岗创建",
        field="safety",
        year=today.year,
        leader=member_a,
        user=None,
    )
    services.project_submit(project=graded, user=None)
    services.project_approve(project=graded, user=None)
    services.value_record_add(project=graded, month=this_month, amount=Decimal("5"), user=None)
    services.project_conclude(project=graded, user=None, results="零事故")
    services.project_evaluate(project=graded, user=None, grade=2)
    services.project_create(
        branch=tree.branch_a, kind=kinds["挑战项目"], title="尚未申报", field="other", year=today.year, user=None
    )
    return today.year


def value_in_year(project: Project, year: int) -> Decimal:
    return ValueRecord.objects.filter(project=project, month__year=year).aggregate(t=Sum("amount"))["t"]


def test_the_workbook_has_a_projects_sheet_matching_the_database(year_projects, tree, tmp_path):
    out = tmp_path / "year.xlsx"
    with translation.override("zh-hans"):
        write_year_xlsx(out, committee=tree.plant, year=year_projects)
    sheet = openpyxl.load_workbook(out)["攻关项目"]
    rows = {row[3].value: [cell.value for cell in row] for row in sheet.iter_rows(min_row=2)}
    assert set(rows) == {"连铸坯质量攻关", "党员先锋岗创建"}  # not the draft
    for title, row in rows.items():
        project = Project.objects.get(title=title)
        code, branch, kind, _title, leader, state, grade, value = row
        assert (code, branch, kind, leader) == ("BRA", "连铸作业区党支部", project.kind.name, "王建国")
        assert Decimal(str(value)) == value_in_year(project, year_projects)
    assert rows["党员先锋岗创建"][6] == "良好"
    assert rows["连铸坯质量攻关"][6] in ("", None)
    assert rows["连铸坯质量攻关"][5] == "实施中"


def test_the_root_committees_workbook_holds_the_projects_below_it(year_projects, tree, tmp_path):
    out = tmp_path / "root.xlsx"
    write_year_xlsx(out, committee=tree.root, year=year_projects)
    sheet = openpyxl.load_workbook(out).worksheets[-1]
    assert sheet.max_row - 1 == 2


def test_the_dossier_lists_the_branchs_projects_and_their_value(year_projects, tree):
    with translation.override("zh-hans"):
        html = pdf.branch_dossier_html(tree.plant, year_projects, tree.branch_a)
    assert "攻关项目" in html and "连铸坯质量攻关" in html and "良好" in html
    total = ValueRecord.objects.filter(project__branch=tree.branch_a, month__year=year_projects).aggregate(
        t=Sum("amount")
    )["t"]
    assert f'<th class="n" id="projects-value">{total}</th>' in html
    assert "尚未申报" not in html
