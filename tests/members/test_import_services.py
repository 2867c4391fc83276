"""Roster import (``members.imports.services``): reading what people type into Excel,
the error matrix, and writing all rows in one transaction or nothing."""

import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone, translation
from openpyxl import Workbook

from members import services as member_services
from members.imports import services
from members.imports.services import COLUMNS, RosterFileError, RowResult
from members.imports.xlsx import MAX_SHARED_STRINGS
from members.models import Member, Membership
from tests import factories as f

D = datetime.date
HEADERS = [c.header for c in COLUMNS]
NEW_ROW = {
    "工号": "AG1001",
    "姓名": "刘洋",
    "性别": "女",
    "出生日期": datetime.datetime(1992, 5, 6),
    "民族": "汉族",
    "联系电话": "13800138000",
    "所在支部编码": "BRA",
    "党小组": "第二党小组",
    "岗位": "点检员",
    "党员类别": "预备党员",
    "入党日期": "2025-07-01",
    "转正日期": None,
    "进入本支部日期": "2025-07-01",
}


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def workbook(rows: list[dict], headers: list[str] = HEADERS, *, title_rows: int = 0) -> io.BytesIO:
    """An .xlsx in memory: optional title rows, the header row, then ``rows`` by header."""
    book = Workbook()
    sheet = book.active
    for i in range(title_rows):
        sheet.append([f"党员名册 {i}"])
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(_plain(h)) for h in headers])
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer


def _plain(header: str) -> str:
    import unicodedata

    return "".join(unicodedata.normalize("NFKC", header).split())


def row_for(member: Member, **changes) -> dict:
    """The roster row that describes ``member`` as stored (so: unchanged)."""
    row = {
        "工号": member.employee_no,
        "姓名": member.name,
        "性别": "男" if member.gender == "M" else "女",
        "出生日期": member.birth_date.isoformat(),
        "民族": member.ethnicity,
        "联系电话": member.phone,
        "所在支部编码": member.branch.code,
        "党小组": member.group.name if member.group else "",
        "岗位": member.post,
        "党员类别": "正式党员" if member.status == "full" else "预备党员",
        "入党日期": member.joined_on.isoformat(),
        "转正日期": member.converted_on.isoformat() if member.converted_on else None,
        "进入本支部日期": None,
    }
    return row | changes


def parse(rows, tree, **kwargs):
    return services.parse_roster(workbook(rows, **kwargs), branches=services.committee_branches(tree.plant))


def write_file(tmp_path, rows) -> str:
    path = tmp_path / "roster.xlsx"
    path.write_bytes(workbook(rows).getvalue())
    return str(path)


def snapshot():
    return (
        list(Member.objects.order_by("pk").values()),
        list(Membership.objects.order_by("pk").values()),
    )


# --- reading ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["2019-07-01", "2019/7/1", "2019.7.1", "2019年7月1日", "２０１９年７月１日", " 2019 / 07 / 01 ", "20190701"]
)
def test_text_dates_in_every_usual_form_are_read(text):
    assert services.parse_date(text) == D(2019, 7, 1)


def test_date_cells_are_read_as_dates():
    assert services.parse_date(datetime.datetime(2019, 7, 1, 0, 0)) == D(2019, 7, 1)
    assert services.parse_date(D(2019, 7, 1)) == D(2019, 7, 1)
    assert services.parse_date(None) is None and services.parse_date("  ") is None


@pytest.mark.parametrize("text", ["2019-13-01", "2019-02-30", "七月一日", "2019", "1/7/2019"])
def test_what_is_not_a_date_is_refused(text):
    with pytest.raises(ValueError):
        services.parse_date(text)


def test_full_width_characters_stray_spaces_and_messy_headers_are_normalised(tree):
    headers = [
        " 工 号",
        "姓\u3000名",
        "性别 ",
        "出生日期",
        "所在支部编码",
        "党小组",
        "党员类别",
        "入党日期",
        "转正日期",
    ]
    row = {
        "工号": " ＡＧ１２３ ",
        "姓名": " 刘 洋 ",
        "性别": " 女",
        "出生日期": "１９９２年５月６日",
        "所在支部编码": "ＢＲＡ",
        "党小组": " 第二党小组 ",
        "党员类别": "正式",
        "入党日期": "2015.7.1",
        "转正日期": "2016/7/1",
    }
    [result] = parse([row], tree, headers=headers, title_rows=2)
    assert result.status == RowResult.NEW, result.errors
    values = result.values
    assert (values["employee_no"], values["name"], values["gender"]) == ("AG123", "刘洋", "F")
    assert (values["birth_date"], values["joined_on"], values["converted_on"]) == (
        D(1992, 5, 6),
        D(2015, 7, 1),
        D(2016, 7, 1),
    )
    assert (values["branch"], values["group"], values["status"]) == (tree.branch_a, tree.group_a2, "full")
    assert result.row == 4  # two title rows, the header, then the data


def test_numeric_cells_for_employee_numbers_and_phones_lose_their_decimal_point(tree):
    [result] = parse([NEW_ROW | {"工号": 1001.0, "联系电话": 13800138000}], tree)
    assert (result.values["employee_no"], result.values["phone"]) == ("1001", "13800138000")


def test_empty_rows_are_skipped_and_the_started_date_defaults_to_today(tree):
    rows = [NEW_ROW | {"进入本支部日期": None}, {}, NEW_ROW | {"工号": "AG1002"}]
    results = parse(rows, tree)
    assert [r.row for r in results] == [2, 4]
    assert results[0].values["started_on"] == timezone.localdate()
    assert results[1].values["started_on"] == D(2025, 7, 1)


@pytest.mark.parametrize(
    "content",
    [b"name,employee\nA,1\n", b"\x00\x01\x02 random bytes \xff" * 20, b"PK\x03\x04 broken zip", b""],
    ids=["csv-renamed", "random-bytes", "broken-zip", "empty"],
)
def test_a_file_that_is_not_a_spreadsheet_gives_one_clear_error_and_writes_nothing(tree, tmp_path, content):
    before = snapshot()
    with pytest.raises(RosterFileError) as exc:
        services.parse_roster(io.BytesIO(content), branches=services.committee_branches(tree.plant))
    assert exc.value.messages == ["This is not a valid Excel file (.xlsx)."]
    path = tmp_path / "roster.xlsx"
    path.write_bytes(content)
    with pytest.raises(CommandError, match="not a valid Excel file"):
        call_command("import_members", str(path), "--committee", "PLANT", stdout=io.StringIO())
    assert snapshot() == before


def test_a_workbook_without_the_header_row_or_with_required_columns_missing_is_refused(tree):
    with pytest.raises(RosterFileError, match="No header row"):
        parse([{"工号": "x"}], tree, headers=["编号", "名字"])
    with pytest.raises(RosterFileError, match="Columns missing: 性别、出生日期"):
        parse([{"工号": "x"}], tree, headers=["工号", "姓名", "所在支部编码", "党员类别", "入党日期"])


# --- the error matrix ------------------------------------------------------------------

MATRIX = {
    "missing name": ({"姓名": "  "}, "姓名: This field is required."),
    "missing branch": ({"所在支部编码": None}, "所在支部编码: This field is required."),
    "bad date": ({"出生日期": "1992-13-45"}, "出生日期: 1992-13-45 is not a date"),
    "bad gender": ({"性别": "未知"}, "未知 is not a gender"),
    "unknown status": ({"党员类别": "积极分子"}, "积极分子 is not a member status"),
    "unknown branch code": ({"所在支部编码": "NOPE"}, "No branch you may import into has the code NOPE."),
    "a committee is not a branch": ({"所在支部编码": "PLANT"}, "No branch you may import into has the code PLANT."),
    "branch outside scope": ({"所在支部编码": "BRX"}, "No branch you may import into has the code BRX."),
    "group not in branch": ({"党小组": "第一党小组", "所在支部编码": "BRB"}, "has no party group named 第一党小组"),
    "employee no of a member outside scope": ({"工号": "OUTSIDER"}, "Employee number OUTSIDER is already in use."),
    "joined before 18": ({"出生日期": "2010-01-01"}, "A member joins the Party at 18 or older."),
    "conversion before one year": (
        {"党员类别": "正式党员", "入党日期": "2024-07-01", "转正日期": "2024-12-01"},
        "Conversion comes at the earliest one year after joining",
    ),
    "full member without conversion": ({"党员类别": "正式党员"}, "A full member has a date of conversion."),
    "joined in the future": ({"入党日期": "2099-01-01"}, "The date of joining cannot be in the future."),
    "bad phone": ({"联系电话": "call me"}, "Enter a phone number"),
}


@pytest.mark.parametrize("case", list(MATRIX))
def test_each_kind_of_bad_row_is_reported_and_nothing_is_written_even_for_the_valid_rows(tree, tmp_path, case):
    f.MemberFactory(branch=tree.branch_x, employee_no="OUTSIDER")
    member = f.MemberFactory(branch=tree.branch_a, group=tree.group_a1)
    change, message = MATRIX[case]
    rows = [NEW_ROW, NEW_ROW | {"工号": "AG2002"} | change, row_for(member, 联系电话="13900000000")]
    results = parse(rows, tree)
    assert [r.status for r in results] == ["new", "error", "changed"]
    assert any(message in error for error in results[1].errors), results[1].errors
    before = snapshot()
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import_members", write_file(tmp_path, rows), "--committee", "PLANT", stdout=io.StringIO())
    with pytest.raises(Exception, match="nothing was imported"):
        services.roster_import_apply(rows=results, user=None)
    assert snapshot() == before


def test_every_problem_of_a_row_is_reported_at_once(tree):
    # The age and conversion rules used to wait until the branch, the group and every
    # date were right, so a user fixed a row only to be told of the next problem.
    row = NEW_ROW | {
        "姓名": "",
        "性别": "未知",
        "出生日期": "2010-01-01",
        "联系电话": "call me",
        "所在支部编码": "NOPE",
        "党小组": "第九党小组",
        "党员类别": "正式党员",
        "转正日期": None,
        "进入本支部日期": "2099-01-01",
    }
    first, _second = parse([row, NEW_ROW], tree)  # and AG1001 twice
    assert sorted(first.errors) == sorted(
        [
            "工号: Employee number AG1001 also appears in row 3.",
            "姓名: This field is required.",
            "性别: 未知 is not a gender; write 男 or 女.",
            "联系电话: Enter a phone number of digits, spaces, + or -.",
            "所在支部编码: No branch you may import into has the code NOPE.",
            "进入本支部日期: The date cannot be in the future.",
            "入党日期: A member joins the Party at 18 or older.",
            "转正日期: A full member has a date of conversion.",
        ]
    )


def test_the_member_rules_run_even_when_the_group_is_unknown_and_an_unreadable_date_is_not_reported_twice(tree):
    row = NEW_ROW | {
        "党小组": "第九党小组",
        "入党日期": "2024-07-01",
        "党员类别": "正式党员",
        "转正日期": "2024-12-01",
        "出生日期": "1992-13-45",
    }
    [result] = parse([row], tree)
    assert sorted(result.errors) == sorted(
        [
            "出生日期: 1992-13-45 is not a date; write it as 2019-07-01 or 2019年7月1日.",
            "党小组: 连铸作业区党支部 has no party group named 第九党小组.",
            "转正日期: Conversion comes at the earliest one year after joining (2025-07-01).",
        ]
    )
    [result] = parse([NEW_ROW | {"党员类别": "正式党员", "转正日期": "2025-13-01"}], tree)
    assert result.errors == ["转正日期: 2025-13-01 is not a date; write it as 2019-07-01 or 2019年7月1日."]


def test_the_row_report_shows_what_the_system_understood(tree):
    member = f.MemberFactory(branch=tree.branch_a, group=tree.group_a1)
    rows = [
        NEW_ROW | {"出生日期": "1992年5月6日", "性别": " 女", "党员类别": "预备", "所在支部编码": "ＢＲＡ"},
        NEW_ROW
        | {"工号": "AG2", "出生日期": "1992-13-45", "性别": "X", "所在支部编码": "NOPE", "党小组": "第一党小组"},
        row_for(member, 岗位="班长"),
    ]
    new, bad, changed = parse(rows, tree)
    assert [c.key for c in new.cells] == [c.key for c in COLUMNS]
    texts = {c.key: c.text for c in new.cells}
    assert texts == {
        "employee_no": "AG1001",
        "name": "刘洋",
        "gender": "Female",
        "birth_date": "1992-05-06",
        "ethnicity": "汉族",
        "phone": "13800138000",
        "branch": "连铸作业区党支部",
        "group": "第二党小组",
        "post": "点检员",
        "status": "Probationary member",
        "joined_on": "2025-07-01",
        "converted_on": "—",
        "started_on": "2025-07-01",
    }
    assert not any(c.flagged for c in new.cells)
    # What could not be read is shown as typed, flagged; the rest as understood.
    shown = {c.key: (c.text, c.flagged) for c in bad.cells}
    assert shown["birth_date"] == ("1992-13-45", True)
    assert shown["gender"] == ("X", True)
    assert shown["branch"] == ("NOPE", True)
    assert shown["group"] == ("第一党小组", False)  # cannot be looked up without a branch
    assert shown["status"] == ("Probationary member", False)
    # A member who stays in their branch does not use the date of entering it.
    assert {c.key: c.text for c in changed.cells}["started_on"] == "—"


@pytest.mark.parametrize("code", ["BRX", "OTHER", "GROUP", "X1", "PLANT", "A1"])
def test_a_code_outside_the_scope_or_not_a_branch_reads_exactly_like_one_that_does_not_exist(tree, users, code):
    def report(typed: str):
        [result] = services.parse_roster(
            workbook([NEW_ROW | {"所在支部编码": typed, "党小组": ""}]), user=users.secretary
        )
        return [e.replace(typed, "<code>") for e in result.errors], [
            (c.key, c.text.replace(typed, "<code>"), c.flagged) for c in result.cells
        ]

    assert report(code) == report("NOSUCH")
    assert report(code)[0] == ["所在支部编码: No branch you may import into has the code <code>."]


def test_an_employee_number_outside_the_scope_gets_the_member_forms_words_and_nothing_more(tree, users):
    f.MemberFactory(branch=tree.branch_x, employee_no="OUT1", name="李红梅")
    gone = f.MemberFactory(branch=tree.branch_x, employee_no="OUT2", name="赵四")
    member_services.member_leave(member=gone, on_date=D(2024, 1, 1), reason="transfer_out")
    results = services.parse_roster(
        workbook([NEW_ROW | {"工号": "OUT1"}, NEW_ROW | {"工号": "OUT2"}]), user=users.secretary
    )
    assert [r.errors for r in results] == [
        ["工号: Employee number OUT1 is already in use."],
        ["工号: Employee number OUT2 is already in use."],
    ]
    # Employee numbers are unique across the installation: the member form says the same.
    with pytest.raises(ValidationError) as exc:
        member_services.member_create(
            **{k: v for k, v in _create_kwargs(tree).items() if k != "employee_no"}, employee_no="OUT1"
        )
    assert exc.value.message_dict["employee_no"] == ["Employee number OUT1 is already in use."]


def _create_kwargs(tree) -> dict:
    return {
        "name": "刘洋",
        "gender": "F",
        "birth_date": D(1992, 5, 6),
        "employee_no": "AG1",
        "branch": tree.branch_a,
        "status": "probationary",
        "joined_on": D(2025, 7, 1),
        "started_on": D(2025, 7, 1),
    }


def test_an_employee_number_twice_in_the_file_marks_both_rows_naming_the_other(tree, tmp_path):
    rows = [NEW_ROW, NEW_ROW | {"工号": "AG9"}, NEW_ROW | {"工号": "ＡＧ１００１"}]
    results = parse(rows, tree)
    assert [r.status for r in results] == ["error", "new", "error"]
    assert "Employee number AG1001 also appears in row 4." in results[0].errors[0]
    assert "Employee number AG1001 also appears in row 2." in results[2].errors[0]
    before = snapshot()
    with pytest.raises(CommandError):
        call_command("import_members", write_file(tmp_path, rows), "--committee", "PLANT", stdout=io.StringIO())
    assert snapshot() == before


def test_a_secretary_may_only_import_into_their_own_branch(tree, users):
    rows = [NEW_ROW, NEW_ROW | {"工号": "AG2", "所在支部编码": "BRB", "党小组": ""}]
    as_secretary = services.parse_roster(workbook(rows), user=users.secretary)
    as_committee = services.parse_roster(workbook(rows), user=users.committee)
    assert [r.status for r in as_secretary] == ["new", "error"]
    assert [r.status for r in as_committee] == ["new", "new"]


def test_a_member_who_left_cannot_be_updated_by_import(tree):
    member = f.MemberFactory(branch=tree.branch_a)
    member_services.member_leave(member=member, on_date=D(2024, 1, 1), reason="transfer_out")
    [result] = parse([row_for(member, 岗位="新岗位")], tree)
    assert result.status == "error" and "has left" in result.errors[0]


# --- writing ---------------------------------------------------------------------------


def test_new_changed_unchanged_and_transferred_rows_are_written_in_one_go(tree, users):
    changed = f.MemberFactory(branch=tree.branch_a, group=tree.group_a1, name="王建国")
    unchanged = f.MemberFactory(branch=tree.branch_b, name="赵敏")
    moving = f.MemberFactory(branch=tree.branch_a, group=tree.group_a1, name="孙磊")
    rows = [
        NEW_ROW,
        row_for(changed, 联系电话="13900000000", 党小组="第二党小组", 岗位=" 班长 "),
        row_for(unchanged, 进入本支部日期="2024-01-01"),
        row_for(moving, 所在支部编码="BRB", 党小组="", 进入本支部日期="2024年3月1日"),
    ]
    results = services.parse_roster(workbook(rows), user=users.committee)
    assert [r.status for r in results] == ["new", "changed", "unchanged", "changed"], [r.errors for r in results]
    assert ("phone", "—", "13900000000") in results[1].changes
    assert ("party group", "第一党小组", "第二党小组") in results[1].changes
    assert ("branch", "连铸作业区党支部", "设备党支部") in results[3].changes

    summary = services.roster_import_apply(rows=results, user=users.committee)

    assert summary == {"new": 1, "changed": 2, "unchanged": 1, "error": 0}
    new = Member.objects.get(employee_no="AG1001")
    assert (new.name, new.gender, new.birth_date, new.branch, new.group) == (
        "刘洋",
        "F",
        D(1992, 5, 6),
        tree.branch_a,
        tree.group_a2,
    )
    assert (new.status, new.joined_on, new.converted_on, new.phone, new.post) == (
        "probationary",
        D(2025, 7, 1),
        None,
        "13800138000",
        "点检员",
    )
    period = Membership.objects.get(member=new)
    assert (period.branch, period.started_on, period.recorded_by) == (tree.branch_a, D(2025, 7, 1), users.committee)
    changed.refresh_from_db()
    assert (changed.phone, changed.group, changed.post) == ("13900000000", tree.group_a2, "班长")
    unchanged_before = Member.objects.filter(pk=unchanged.pk).values("updated_at").get()
    unchanged.refresh_from_db()
    assert unchanged.updated_at == unchanged_before["updated_at"]
    moving.refresh_from_db()
    assert (moving.branch, moving.group) == (tree.branch_b, None)
    old, current = Membership.objects.filter(member=moving).order_by("started_on")
    assert (old.branch, old.ended_on, old.end_reason) == (tree.branch_a, D(2024, 3, 1), "transfer")
    assert (current.branch, current.started_on, current.ended_on) == (tree.branch_b, D(2024, 3, 1), None)


def test_importing_the_same_file_twice_finds_nothing_to_change(tree, users):
    rows = [NEW_ROW, NEW_ROW | {"工号": "AG1002", "姓名": "陈静"}]
    services.roster_import_apply(rows=services.parse_roster(workbook(rows), user=users.secretary), user=None)
    again = services.parse_roster(workbook(rows), user=users.secretary)
    assert [r.status for r in again] == ["unchanged", "unchanged"]


def test_a_transfer_dated_on_or_before_the_current_period_is_an_error_not_a_crash(tree):
    member = f.MemberFactory(branch=tree.branch_a)  # period from 2020-01-01
    [result] = parse([row_for(member, 所在支部编码="BRB", 党小组="", 进入本支部日期="2019-12-31")], tree)
    assert result.status == "error" and "when the current membership began" in result.errors[0]


def _crash_on_third_call(monkeypatch):
    real = member_services.member_create
    calls = []

    def member_create(**kwargs):
        calls.append(kwargs["employee_no"])
        if len(calls) == 3:
            raise RuntimeError("disk on fire")
        return real(**kwargs)

    monkeypatch.setattr(member_services, "member_create", member_create)
    return calls


def test_a_crash_in_the_middle_of_an_import_leaves_nothing_written(tree, users, monkeypatch):
    changed = f.MemberFactory(branch=tree.branch_a)
    rows = [row_for(changed, 岗位="班长")] + [NEW_ROW | {"工号": f"AG{i}"} for i in range(5)]
    results = services.parse_roster(workbook(rows), user=users.secretary)
    assert {r.status for r in results} == {"new", "changed"}
    calls = _crash_on_third_call(monkeypatch)
    before = snapshot()
    with pytest.raises(RuntimeError):
        services.roster_import_apply(rows=results, user=users.secretary)
    assert len(calls) == 3
    assert snapshot() == before


@pytest.mark.django_db(transaction=True)
def test_a_crash_mid_import_from_the_shell_commits_nothing(tree, tmp_path, monkeypatch):
    rows = [NEW_ROW | {"工号": f"AG{i}"} for i in range(5)]
    _crash_on_third_call(monkeypatch)
    with pytest.raises(RuntimeError):
        call_command("import_members", write_file(tmp_path, rows), "--committee", "PLANT", stdout=io.StringIO())
    assert not Member.objects.filter(employee_no__startswith="AG").exists()
    assert not Membership.objects.exists()


# --- the command -----------------------------------------------------------------------


def test_the_command_reports_row_by_row_and_a_dry_run_writes_nothing(tree, users, tmp_path):
    member = f.MemberFactory(branch=tree.branch_a)
    path = write_file(tmp_path, [NEW_ROW, row_for(member, 岗位="班长")])
    out = io.StringIO()
    call_command("import_members", path, "--committee", "PLANT", "--dry-run", stdout=out)
    assert "row 2: 新增 AG1001 刘洋" in out.getvalue()
    assert f"row 3: 变更 {member.employee_no}" in out.getvalue()
    assert "post: 技术员 → 班长" in out.getvalue()
    assert "dry run, nothing was written" in out.getvalue()
    assert not Member.objects.filter(employee_no="AG1001").exists()
    member.refresh_from_db()
    assert member.post == "技术员"

    out = io.StringIO()
    call_command("import_members", path, "--committee", "PLANT", "--user", "committee", stdout=out)
    assert "imported" in out.getvalue()
    new = Member.objects.get(employee_no="AG1001")
    assert Membership.objects.get(member=new).recorded_by == users.committee
    member.refresh_from_db()
    assert member.post == "班长"


def test_the_command_scope_is_the_committee_subtree(tree, tmp_path):
    path = write_file(tmp_path, [NEW_ROW])
    with pytest.raises(CommandError, match="1 with errors"):
        call_command("import_members", path, "--committee", "OTHER", stdout=io.StringIO())
    call_command("import_members", path, "--committee", "GROUP", stdout=io.StringIO())
    assert Member.objects.filter(employee_no="AG1001").exists()


def test_the_command_refuses_unknown_committees_users_and_files(tree, tmp_path):
    path = write_file(tmp_path, [NEW_ROW])
    with pytest.raises(CommandError, match="No unit has the code"):
        call_command("import_members", path, "--committee", "NOPE")
    with pytest.raises(CommandError, match="is not a party committee"):
        call_command("import_members", path, "--committee", "BRA")
    with pytest.raises(CommandError, match="No user is called"):
        call_command("import_members", path, "--committee", "PLANT", "--user", "ghost")
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_members", str(tmp_path / "missing.xlsx"), "--committee", "PLANT")


def test_the_command_reads_the_file_once_with_the_bounded_reader(tree, tmp_path, monkeypatch):
    from members.imports import xlsx

    reads = []
    real = xlsx.read_first_sheet
    monkeypatch.setattr(xlsx, "read_first_sheet", lambda *args, **kwargs: reads.append(1) or real(*args, **kwargs))
    call_command("import_members", write_file(tmp_path, [NEW_ROW]), "--committee", "PLANT", stdout=io.StringIO())
    assert len(reads) == 1
    assert Member.objects.filter(employee_no="AG1001").exists()


def test_the_command_refuses_a_crafted_workbook_quickly(tree, tmp_path, work):
    from .test_import_xlsx import SHEET, STRINGS, dimension_bomb, shared_strings_bomb

    path = tmp_path / "strings.xlsx"
    path.write_bytes(shared_strings_bomb(MAX_SHARED_STRINGS + 10, declared=None))
    with pytest.raises(CommandError, match="different texts"):
        call_command("import_members", str(path), "--committee", "PLANT", stdout=io.StringIO())
    # The bounded reader's work, not a clock: it stopped at the string past the cap.
    assert work.elements[STRINGS] <= 1 + 2 * (MAX_SHARED_STRINGS + 1)
    assert SHEET not in work.parts
    path = tmp_path / "dimension.xlsx"
    path.write_bytes(dimension_bomb())
    out = io.StringIO()
    call_command("import_members", str(path), "--committee", "PLANT", "--dry-run", stdout=out)
    assert work.elements[SHEET] < 8_100  # the sheet's elements once, no padded cells
    assert "1 rows: 1 new" in out.getvalue()
