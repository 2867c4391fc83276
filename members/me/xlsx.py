"""The sheet of one-time passwords a secretary hands out: written through the reports'
formula-safe writer (a name or password starting with ``=`` stays text)."""

import io

import xlsxwriter
from django.utils.translation import gettext as _

from branches.reports.safe import write_row

from .services import IssuedLogin


def one_time_passwords_xlsx(*, branch_name: str, issued: list[IssuedLogin]) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet(_("Logins"))
    bold = workbook.add_format({"bold": True})
    text = workbook.add_format({"num_format": "@"})
    write_row(sheet, 0, [branch_name], {"string": bold})
    write_row(
        sheet,
        1,
        [_("Name"), _("Employee number"), _("User name"), _("One-time password")],
        {"string": bold},
    )
    for row, login in enumerate(issued, start=2):
        write_row(
            sheet, row, [login.member.name, login.member.employee_no, login.username, login.password], {"string": text}
        )
    sheet.write_string(
        len(issued) + 3, 0, _("Each password works once: the member chooses their own at the first login.")
    )
    sheet.set_column(0, 3, 18)
    workbook.close()
    return buffer.getvalue()
