"""The downloadable roster template: the expected Chinese headers, one example row and a
sheet of notes explaining the values."""

import datetime
import io

import xlsxwriter

from branches.models import OrgUnit

from .services import COLUMNS

NOTES = (
    ("工号", "必填。每名党员唯一；文件中已存在于系统的工号表示更新该党员的信息。"),
    ("姓名", "必填。"),
    ("性别", "必填。填写“男”或“女”。"),
    ("出生日期", "必填。日期格式，如 1990-05-06、1990/5/6、1990.5.6 或 1990年5月6日。"),
    ("民族", "选填，如“汉族”。"),
    ("联系电话", "选填，数字、空格、+ 或 -。"),
    ("所在支部编码", "必填。党支部的编码（见组织架构页面），须在您有权维护的范围内。"),
    ("党小组", "选填。党小组名称，须是该支部下已有的党小组。"),
    ("岗位", "选填。"),
    ("党员类别", "必填。填写“预备党员”或“正式党员”（也可写“预备”“正式”）。"),
    ("入党日期", "必填。年满18周岁后的日期，不晚于今天。"),
    ("转正日期", "正式党员必填，预备党员留空；不早于入党日期满一年。"),
    ("进入本支部日期", "选填，默认为导入当天。新党员从该日起属于本支部；已有党员转入其他支部时，以该日为转接日期。"),
    ("", ""),
    ("说明", "导入前系统会逐行校验，全部无误后方可确认导入；导入要么全部写入，要么一行也不写入。"),
    ("", "已有党员的某列整列不存在时保留原值；该列存在但单元格为空时，视为清空该项。"),
    ("", "全角数字、全角字母和多余的空格会被自动规范化。"),
)


def roster_template(*, branch: OrgUnit | None = None) -> bytes:
    """The template workbook as bytes; the example row uses ``branch``'s code if given."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    header = workbook.add_format({"bold": True, "bg_color": "#C00000", "font_color": "#FFFFFF", "border": 1})
    required = workbook.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1})
    text = workbook.add_format({"num_format": "@"})
    date = workbook.add_format({"num_format": "yyyy-mm-dd"})
    sheet = workbook.add_worksheet("党员名册")
    for col, column in enumerate(COLUMNS):
        sheet.write_string(0, col, column.header, header if column.required else required)
        width = 14 if column.key not in ("branch", "started_on", "converted_on", "joined_on") else 16
        sheet.set_column(col, col, width, date if column.key.endswith(("_date", "_on")) else text)
    example = {
        "employee_no": "AG000123",
        "name": "张三",
        "gender": "男",
        "birth_date": datetime.date(1990, 5, 6),
        "ethnicity": "汉族",
        "phone": "13800138000",
        "branch": branch.code if branch else "BRANCH-CODE",
        "group": "第一党小组",
        "post": "技术员",
        "status": "正式党员",
        "joined_on": datetime.date(2015, 7, 1),
        "converted_on": datetime.date(2016, 7, 1),
        "started_on": None,
    }
    for col, column in enumerate(COLUMNS):
        value = example[column.key]
        if isinstance(value, datetime.date):
            sheet.write_datetime(1, col, datetime.datetime.combine(value, datetime.time()), date)
        elif value is not None:
            sheet.write_string(1, col, value, text)
    sheet.freeze_panes(1, 0)
    notes = workbook.add_worksheet("填写说明")
    notes.set_column(0, 0, 16)
    notes.set_column(1, 1, 90)
    notes.write_string(0, 0, "列", header)
    notes.write_string(0, 1, "填写说明", header)
    for row, (name, note) in enumerate(NOTES, start=1):
        notes.write_string(row, 0, name)
        notes.write_string(row, 1, note)
    workbook.close()
    return buffer.getvalue()
