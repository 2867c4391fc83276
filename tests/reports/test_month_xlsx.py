"""The month in Excel: a published board's XLSX, read back with openpyxl and checked
against the board page and the Published* rows; who may download it; that a draft has
none; that its query count does not grow with members; formula-looking text stays text."""

import io
from decimal import Decimal

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from branches.grading.models import BranchScore, MemberScore, PublishedBranchScore, PublishedMemberScore
from members.ledger.models import Category
from tests import factories as f
from tests.grading.test_boards import APRIL, draft, member_draft, publish

pytestmark = pytest.mark.django_db

NOT_ASSESSED = ("不考核", "not assessed")
CATEGORY_VALUES = {"political": "3.50", "training": "2.00", "org_life": "4.00", "exemplary": "1.25", "duty": "5.00"}


def xlsx_url(committee, month=APRIL, **query):
    url = reverse("reports:board_xlsx", args=[committee.pk, month.year, month.month])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def board_url(committee, month=APRIL):
    return reverse("grading:board", args=[committee.pk, month.year, month.month])


@pytest.fixture
def month(tree, member_a):
    """PLANT's April, published twice: branch A 88.50 with production not assessed, B
    92.00; members 王建国 (A), "=1+1" (A, equal total with 王建国) and 赵六 (B). Version 2
    changes A to 90.25. The draft then changes again (never in a file)."""
    member_a.employee_no = "E1001"
    member_a.save()
    injected = f.MemberFactory(branch=tree.branch_a, name="=1+1", employee_no="+E1002")
    member_b = f.MemberFactory(branch=tree.branch_b, name="赵六", employee_no="E2001")
    totals = {member_a: ("16.75", 4), injected: ("16.75", 4), member_b: ("20.00", 5)}
    run = draft(tree.plant, APRIL, {tree.branch_a: "88.5", tree.branch_b: "92"})
    member_draft(tree.plant, APRIL, run, totals)
    MemberScore.objects.filter(committee=tree.plant, month=APRIL).update(
        **{k: Decimal(v) for k, v in CATEGORY_VALUES.items()}, deduction=Decimal("-1.00")
    )
    drafted_a = BranchScore.objects.filter(committee=tree.plant, month=APRIL, branch=tree.branch_a)
    drafted_a.update(production=None)
    first = publish(tree.plant, APRIL)
    drafted_a.update(total=Decimal("90.25"))
    second = publish(tree.plant, APRIL)
    drafted_a.update(total=Decimal("11.11"))
    return {"first": first, "second": second, "a": member_a, "injected": injected, "b": member_b}


def workbook_of(response):
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return openpyxl.load_workbook(io.BytesIO(response.content))


def rows(sheet) -> list[list]:
    return [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]


def test_the_branch_sheet_holds_the_numbers_of_the_board(tree, users, login, month):
    client = login(users.committee)
    board = client.get(board_url(tree.plant)).context["board"]
    sheet = workbook_of(client.get(xlsx_url(tree.plant))).worksheets[0]
    shown = [[row.rank, row.branch.code, row.branch.name, *[v for _, v in row.dimensions], row.total] for row in board]
    got = [row[:9] for row in rows(sheet)]
    expected = [[None if v is None else (float(v) if isinstance(v, Decimal) else v) for v in r] for r in shown]
    # "not assessed" is a label in the file, None on the board.
    assert [[None if v in NOT_ASSESSED else v for v in r] for r in got] == expected
    assert sum(v in NOT_ASSESSED for r in got for v in r) == 1
    # The latest version: A at 90.25, not the draft's 11.11.
    totals = {r[1]: r[8] for r in rows(sheet)}
    assert totals == {"BRA": 90.25, "BRB": 92.0}


def test_sheets_and_headers_are_chinese_under_zh_hans(tree, users, login, month):
    workbook = workbook_of(login(users.committee).get(xlsx_url(tree.plant)))
    assert workbook.sheetnames == ["支部排名", "党员积分"]
    branch_header = [c.value for c in workbook.worksheets[0][1]]
    member_header = [c.value for c in workbook.worksheets[1][1]]
    assert branch_header[:3] == ["排名", "编码", "党支部"] and branch_header[-2] == "合计"
    assert member_header[:3] == ["工号", "姓名", "党支部"] and member_header[-3:] == ["合计", "星级", "支部内排名"]


def test_an_earlier_version_has_its_own_numbers(tree, users, login, month):
    sheet = workbook_of(login(users.committee).get(xlsx_url(tree.plant, version=1))).worksheets[0]
    assert {r[1]: r[8] for r in rows(sheet)} == {"BRA": 88.5, "BRB": 92.0}


def test_the_member_sheet_holds_each_members_published_points_stars_and_rank(tree, users, login, month):
    sheet = workbook_of(login(users.committee).get(xlsx_url(tree.plant))).worksheets[1]
    got = {r[0]: r for r in rows(sheet)}
    db = {
        s.member.employee_no: s
        for s in PublishedMemberScore.objects.filter(publication=month["second"]).select_related("member", "branch")
    }
    assert set(got) == set(db) == {"E1001", "+E1002", "E2001"}
    for number, score in db.items():
        row = got[number]
        assert row[1] == score.member.name and row[2] == score.branch.name
        assert row[3:9] == [float(getattr(score, c.value)) for c in Category]
        assert row[9] == float(score.total) and row[10] == score.stars
    # Equal totals share a rank in the branch; B's only member is first.
    assert [got[n][11] for n in ("E1001", "+E1002", "E2001")] == [1, 1, 1]
    # Branch order as on the board: B (92.00, rank 1) before A.
    assert [r[2] for r in rows(sheet)] == ["设备党支部", "连铸作业区党支部", "连铸作业区党支部"]


def test_rank_in_the_branch_follows_the_total(tree, users, login, month):
    MemberScore.objects.filter(committee=tree.plant, month=APRIL, member=month["injected"]).update(total=Decimal("3"))
    publish(tree.plant, APRIL)  # published rows are append-only: a third version
    sheet = workbook_of(login(users.committee).get(xlsx_url(tree.plant))).worksheets[1]
    assert {r[0]: r[11] for r in rows(sheet)} == {"E1001": 1, "+E1002": 2, "E2001": 1}


def test_a_member_named_like_a_formula_stays_text(tree, users, login, month):
    response = login(users.committee).get(xlsx_url(tree.plant))
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[1]
    cells = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    name = cells["+E1002"][1]
    assert name.value == "=1+1" and name.data_type == "s"
    assert cells["+E1002"][0].data_type == "s"


def test_the_download_is_named_after_the_committee_month_and_version(tree, users, login, month):
    response = login(users.committee).get(xlsx_url(tree.plant))
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and "2025-04" in disposition and disposition.endswith(".xlsx")


def test_the_published_board_offers_the_file_to_committee_staff_only(tree, users, login, month):
    assert 'id="xlsx-link"' in login(users.committee).get(board_url(tree.plant)).content.decode()
    assert 'id="xlsx-link"' not in login(users.secretary).get(board_url(tree.plant)).content.decode()


def test_a_draft_has_no_file(tree, users, login, month):
    client = login(users.committee)
    page = client.get(board_url(tree.plant), {"draft": "1"}).content.decode()
    assert 'id="xlsx-link"' not in page
    # The download reads publications only: the draft parameter changes nothing.
    sheet = workbook_of(client.get(xlsx_url(tree.plant, draft=1))).worksheets[0]
    assert 11.11 not in [r[8] for r in rows(sheet)]


def test_a_month_without_publication_is_404(tree, users, login, month):
    client = login(users.committee)
    assert client.get(xlsx_url(tree.plant, APRIL.replace(month=5))).status_code == 404
    assert client.get(xlsx_url(tree.plant, version=9)).status_code == 404
    assert client.get(xlsx_url(tree.plant, version="x")).status_code == 404


@pytest.mark.parametrize("who", ["secretary", "other_committee", "other_secretary", "nobody"])
def test_anyone_but_the_committees_staff_gets_404(tree, users, login, month, who):
    assert login(getattr(users, who)).get(xlsx_url(tree.plant)).status_code == 404


def test_the_admin_may_download(tree, users, login, month):
    assert login(users.admin).get(xlsx_url(tree.plant)).status_code == 200


def test_anonymous_visitors_are_sent_to_log_in(tree, client, month):
    assert client.get(xlsx_url(tree.plant)).status_code == 302


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_query_count_does_not_grow_with_members_or_branches(tree, users, login, month):
    client = login(users.committee)
    before = _queries(client, xlsx_url(tree.plant))
    publication = month["second"]
    for i in range(5):
        branch = f.branch(tree.plant, name=f"第{i}党支部", code=f"N{i}")
        PublishedBranchScore.objects.create(publication=publication, branch=branch, total=Decimal("50"), rank=3 + i)
        for j in range(4):
            member = f.MemberFactory(branch=branch, name=f"成员{i}{j}")
            PublishedMemberScore.objects.create(publication=publication, member=member, branch=branch, total=j)
    assert _queries(client, xlsx_url(tree.plant)) == before
    assert before <= 8
