"""The bounded workbook reader behind the roster import (``members.imports.xlsx``):
crafted files that made the old reader burn the CPU are refused or read with bounded
work, with a clear message, and only the template's columns of at most ``MAX_ROWS``
rows are read.

The files are written by hand with ``zipfile`` so that the dimension, the shared
strings and the declared sizes are exactly what each test wants. The work is counted,
not timed (a wall clock flakes on a loaded machine): the ``work`` fixture (conftest) records the
parts the reader parses, the bytes it feeds the XML parser and the elements it is
handed, so a test asserts where reading stopped."""

import io
import zipfile

import pytest
from django.utils import translation

from members.imports import services, xlsx
from members.imports.services import COLUMNS, RosterFileError

from .conftest import elements_in

HEADERS = [c.header for c in COLUMNS]
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
SHEET = "xl/worksheets/sheet1.xml"
STRINGS = "xl/sharedStrings.xml"
# expat reads a part 2,048 bytes at a time: a part refused on its first element has been
# read this far at most.
FIRST_READ = 2048


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def _letters(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def header_row(number: int = 1, headers=HEADERS) -> str:
    cells = "".join(_inline(f"{_letters(i)}{number}", h) for i, h in enumerate(headers))
    return f'<row r="{number}">{cells}</row>'


def data_row(number: int, employee_no: str, *, extra: str = "") -> str:
    values = ["", "刘洋", "女", "1992-05-06", "", "", "BRA", "", "", "预备党员", "2025-07-01", "", ""]
    values[0] = employee_no
    cells = "".join(_inline(f"{_letters(i)}{number}", v) for i, v in enumerate(values) if v)
    return f'<row r="{number}">{cells}{extra}</row>'


def sheet_xml(rows: str, *, dimension: str | None = None, prolog: str = "") -> str:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{prolog}'
        f'<worksheet xmlns="{MAIN}" xmlns:r="{DOC_RELS}">{dim}<sheetData>{rows}</sheetData></worksheet>'
    )


def raw_xlsx(sheet: str | bytes, *, shared_strings: str | bytes | None = None, extra: dict | None = None) -> bytes:
    """A minimal .xlsx: content types, relationships, a workbook with one sheet, and
    optionally a shared-string table and any further parts."""
    overrides = [
        ("/xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
        ("/xl/worksheets/sheet1.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"),
    ]
    workbook_rels = [
        ("rId1", f"{DOC_RELS}/worksheet", "worksheets/sheet1.xml"),
    ]
    parts = {"xl/worksheets/sheet1.xml": sheet}
    if shared_strings is not None:
        overrides.append(
            ("/xl/sharedStrings.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml")
        )
        workbook_rels.append(("rId2", f"{DOC_RELS}/sharedStrings", "sharedStrings.xml"))
        parts["xl/sharedStrings.xml"] = shared_strings
    types = "".join(f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in overrides)
    parts["[Content_Types].xml"] = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        f'<Default Extension="xml" ContentType="application/xml"/>{types}</Types>'
    )
    parts["_rels/.rels"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS}">'
        f'<Relationship Id="rId1" Type="{DOC_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    parts["xl/workbook.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{DOC_RELS}">'
        '<sheets><sheet name="党员名册" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    rels = "".join(f'<Relationship Id="{i}" Type="{t}" Target="{target}"/>' for i, t, target in workbook_rels)
    parts["xl/_rels/workbook.xml.rels"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS}">{rels}</Relationships>'
    )
    parts.update(extra or {})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def read(content: bytes):
    """``roster_read`` of the bytes: the sheet or the refusal."""
    try:
        return services.roster_read(io.BytesIO(content))
    except RosterFileError as exc:
        return exc


def dimension_bomb() -> bytes:
    """The issue's 5 KB file: ``<dimension ref="A1:XFD8000"/>`` over 8,000 row elements,
    which made openpyxl pad every row to 16,384 cells (6.5 s)."""
    rows = header_row() + data_row(2, "AG1001") + "<row/>" * 7998
    return raw_xlsx(sheet_xml(rows, dimension="A1:XFD8000"))


def shared_strings_bomb(count: int, *, declared: int | None) -> bytes:
    """A shared-string table of ``count`` (empty) strings, its ``count`` attribute saying
    ``declared`` (or nothing)."""
    attrs = f' count="{declared}" uniqueCount="{declared}"' if declared is not None else ""
    table = f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}"{attrs}>' + "<si><t/></si>" * count + "</sst>"
    return raw_xlsx(sheet_xml(header_row() + data_row(2, "AG1001")), shared_strings=table)


# --- the crafted files of the issue ----------------------------------------------------


def test_a_dimension_claiming_16384_columns_and_8000_rows_is_ignored_and_the_file_reads_quickly(work):
    content = dimension_bomb()
    assert len(content) < 10_000  # the attack is a small file
    sheet = read(content)
    assert sheet.columns == tuple(c.key for c in COLUMNS)
    assert [number for number, _cells in sheet.rows] == [2]
    # Each of the sheet's ~8,060 elements once, not 16,384 padded cells for each row.
    work.assert_bounded_by(content)
    assert work.elements[SHEET] < 8_100


def test_the_sheet_maximum_in_the_dimension_changes_nothing_either(work):
    rows = header_row() + data_row(2, "AG1001") + data_row(1048576, "AG1002")
    content = raw_xlsx(sheet_xml(rows, dimension="A1:XFD1048576"))
    sheet = read(content)
    assert [number for number, _cells in sheet.rows] == [2, 1048576]
    work.assert_bounded_by(content)
    assert work.elements[SHEET] < 100


def test_three_million_shared_strings_are_refused_before_they_are_parsed(work):
    content = shared_strings_bomb(3_000_000, declared=3_000_000)
    assert len(content) < 400_000
    refusal = read(content)
    assert isinstance(refusal, RosterFileError)
    assert "unpacks to more than" in refusal.messages[0] or "different texts" in refusal.messages[0]
    # Refused on the declared sizes, or on the table's first element: never parsed on.
    assert work.bytes[STRINGS] <= FIRST_READ and work.elements[STRINGS] <= 1
    assert SHEET not in work.parts


def test_a_shared_string_count_attribute_above_the_cap_is_refused_at_once(work):
    content = shared_strings_bomb(1000, declared=3_000_000)
    refusal = read(content)
    assert refusal.messages == [
        f"The workbook holds more than {xlsx.MAX_SHARED_STRINGS} different texts, far more than a roster needs. "
        "Copy the roster into the template and upload that."
    ]
    assert work.elements[STRINGS] == 1  # the <sst> that declares the count
    assert work.bytes[STRINGS] <= FIRST_READ
    assert SHEET not in work.parts


@pytest.mark.parametrize("declared", [None, 1], ids=["no-count", "count-lies"])
def test_too_many_shared_strings_are_counted_while_streaming_and_refused(declared, work):
    content = shared_strings_bomb(xlsx.MAX_SHARED_STRINGS + 50_000, declared=declared)
    refusal = read(content)
    assert isinstance(refusal, RosterFileError) and "different texts" in refusal.messages[0]
    # Stopped at the string past the cap (<si><t/> each, after the <sst>), 50,000 before the end.
    assert work.elements[STRINGS] <= 1 + 2 * (xlsx.MAX_SHARED_STRINGS + 1)
    assert SHEET not in work.parts


def test_a_part_that_unpacks_beyond_the_limit_is_refused_before_parsing(work):
    padding = " " * (xlsx.MAX_PART_BYTES + 1)
    sheet = sheet_xml(header_row() + data_row(2, "AG1001")).replace("<sheetData>", padding + "<sheetData>")
    refusal = read(raw_xlsx(sheet))
    assert refusal.messages == [
        "One part of the workbook (xl/worksheets/sheet1.xml) unpacks to more than 32 MB; a roster needs far less."
    ]
    assert work.parts == []


def test_parts_that_together_unpack_beyond_the_limit_are_refused_before_parsing(work):
    big = "<a/>" + " " * (xlsx.MAX_TOTAL_BYTES // 3)
    extra = {f"xl/media/padding{i}.xml": big for i in range(3)}
    refusal = read(raw_xlsx(sheet_xml(header_row() + data_row(2, "AG1001")), extra=extra))
    assert refusal.messages == ["The workbook unpacks to more than 64 MB; a roster needs far less."]
    assert work.parts == []


def test_reading_stops_at_the_row_limit_however_many_rows_follow(work):
    rows = header_row() + "".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>' for n in range(2, 100_002))
    content = raw_xlsx(sheet_xml(rows, dimension="A1:M100001"))
    refusal = read(content)
    assert refusal.messages == ["A roster may have at most 5000 rows."]
    # Stopped after the row past the limit (3 elements a row, 300,000 in the file), about
    # a twentieth into the part.
    assert work.elements[SHEET] <= 3 * (services.MAX_ROWS + 1) + 50
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert work.bytes[SHEET] < archive.getinfo(SHEET).file_size / 10


def test_a_full_roster_of_the_row_limit_is_read(work):
    rows = header_row() + "".join(data_row(n, f"AG{n}") for n in range(2, services.MAX_ROWS + 2))
    content = raw_xlsx(sheet_xml(rows))
    sheet = read(content)
    assert len(sheet.rows) == services.MAX_ROWS
    # Every element of the sheet handed over exactly once: the work is linear in the file.
    work.assert_bounded_by(content)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert work.elements[SHEET] == elements_in(archive.read(SHEET))


def test_only_the_templates_columns_are_read():
    headers = ["序号", *HEADERS, "备注"]
    extra_cells = "".join(_inline(f"{_letters(i)}2", "x" * 50) for i in range(14, 2000))
    rows = header_row(headers=headers) + f'<row r="2">{_inline("A2", "1")}{_inline("B2", "AG1")}{extra_cells}</row>'
    sheet = read(raw_xlsx(sheet_xml(rows)))
    assert sheet.columns == tuple(c.key for c in COLUMNS)
    [(number, cells)] = sheet.rows
    assert number == 2 and cells[0] == "AG1" and len(cells) == len(COLUMNS)


def test_a_doctype_is_refused_so_entities_cannot_expand():
    bomb = '<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    sheet = sheet_xml(header_row() + f'<row r="2">{_inline("A2", "&b;")}</row>', prolog=bomb)
    refusal = read(raw_xlsx(sheet))
    assert refusal.messages == ["This is not a valid Excel file (.xlsx)."]


def test_a_shared_string_index_outside_the_table_is_not_a_valid_file():
    table = f'<sst xmlns="{MAIN}"><si><t>工号</t></si></sst>'
    rows = header_row() + '<row r="2"><c r="A2" t="s"><v>7</v></c></row>'
    refusal = read(raw_xlsx(sheet_xml(rows), shared_strings=table))
    assert refusal.messages == ["This is not a valid Excel file (.xlsx)."]


# --- what the reader understands -------------------------------------------------------


def test_shared_strings_rich_text_phonetics_numbers_booleans_and_escapes_are_read():
    table = (
        f'<sst xmlns="{MAIN}" count="3" uniqueCount="3">'
        "<si><t>工号</t></si>"
        "<si><r><t>姓</t></r><r><rPr/><t>名</t></r><rPh><t>せい</t></rPh></si>"
        "<si><t>A_x0009_B</t></si>"
        "</sst>"
    )
    header = '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
    header += "".join(_inline(f"{_letters(i)}1", h) for i, h in enumerate(HEADERS) if i > 1) + "</row>"
    row = (
        '<row r="2"><c r="A2"><v>1001</v></c><c r="B2" t="s"><v>2</v></c><c r="C2" t="b"><v>1</v></c>'
        '<c r="F2"><v>13800138000</v></c><c r="I2" t="str"><f>A2</f><v>技术员</v></c></row>'
    )
    sheet = read(raw_xlsx(sheet_xml(header + row), shared_strings=table))
    cells = dict(zip(sheet.columns, sheet.rows[0][1], strict=True))
    assert (cells["employee_no"], cells["name"], cells["gender"]) == (1001, "A\tB", "TRUE")
    assert (cells["phone"], cells["post"]) == (13800138000, "技术员")


def test_numbers_in_a_date_format_are_dates_in_both_calendars():
    styles = (
        f'<styleSheet xmlns="{MAIN}"><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"/></numFmts>'
        '<cellXfs count="4"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/><xf numFmtId="31"/></cellXfs></styleSheet>'
    )
    row = '<row r="2"><c r="A2" s="0"><v>33000</v></c><c r="D2" s="1"><v>33000</v></c>'
    row += '<c r="K2" s="2"><v>42186</v></c><c r="L2" s="3"><v>42552.5</v></c><c r="M2" t="d"><v>2024-03-01T00:00:00</v></c></row>'
    content = raw_xlsx(sheet_xml(header_row() + row), extra={"xl/styles.xml": styles})
    content = _with_styles_relation(content)
    sheet = read(content)
    cells = dict(zip(sheet.columns, sheet.rows[0][1], strict=True))
    assert cells["employee_no"] == 33000  # no date format: a number
    assert (cells["birth_date"], cells["joined_on"], cells["converted_on"]) == (
        "1990-05-07",
        "2015-07-01",
        "2016-07-01",
    )
    assert cells["started_on"] == "2024-03-01"


def _with_styles_relation(content: bytes) -> bytes:
    """Add the styles relationship to a ``raw_xlsx`` workbook."""
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    f'<Relationship Id="rId9" Type="{DOC_RELS}/styles" Target="styles.xml"/></Relationships>'.encode(),
                )
            archive.writestr(info.filename, data)
    return buffer.getvalue()


def test_a_title_row_before_the_header_and_rows_without_references_are_read():
    title = f'<row r="1">{_inline("A1", "2026年党员名册")}</row>'
    header = "<row>" + "".join(f'<c t="inlineStr"><is><t>{h}</t></is></c>' for h in HEADERS) + "</row>"
    row = '<row><c t="inlineStr"><is><t>AG7</t></is></c><c t="inlineStr"><is><t>王五</t></is></c></row>'
    sheet = read(raw_xlsx(sheet_xml(title + header + row)))
    assert sheet.rows == [(3, ["AG7", "王五"] + [None] * (len(COLUMNS) - 2))]


def test_a_header_further_down_than_the_tenth_row_is_not_looked_for():
    rows = "".join(f'<row r="{n}">{_inline(f"A{n}", "说明")}</row>' for n in range(1, 11))
    refusal = read(raw_xlsx(sheet_xml(rows + header_row(11) + data_row(12, "AG1"))))
    assert "No header row found" in refusal.messages[0]


def test_escaped_nul_and_lone_surrogates_cannot_reach_the_database():
    table = f'<sst xmlns="{MAIN}"><si><t>A_x0000_B_xD800_C</t></si></sst>'
    rows = header_row() + '<row r="2"><c r="A2" t="s"><v>0</v></c></row>'
    sheet = read(raw_xlsx(sheet_xml(rows), shared_strings=table))
    assert sheet.rows[0][1][0] == "AB\ufffdC"


@pytest.mark.parametrize(
    "make",
    [
        lambda: shared_strings_bomb(10, declared=3_000_000),
        lambda: raw_xlsx(sheet_xml(" " * (xlsx.MAX_PART_BYTES + 1))),
        lambda: raw_xlsx(sheet_xml(""), extra={f"p{i}": " " * (xlsx.MAX_TOTAL_BYTES // 3) for i in range(4)}),
        lambda: raw_xlsx(sheet_xml(header_row() + "".join(data_row(n, f"A{n}") for n in range(2, 5003)))),
        lambda: raw_xlsx(sheet_xml(data_row(1, "x"))),
        lambda: b"PK\x03\x04 not really",
    ],
    ids=["strings", "part", "total", "rows", "no-header", "not-a-zip"],
)
def test_every_refusal_has_a_chinese_message(make):
    content = make()
    with translation.override("zh-hans"):
        refusal = read(content)
    [message] = refusal.messages
    assert any("\u4e00" <= char <= "\u9fff" for char in message), message
    assert not any(word in message for word in ("workbook", "roster", "unpacks", "rows")), message


def test_a_row_of_more_empty_cells_than_the_element_budget_is_refused(work):
    cells = '<c r="ZZ2" s="1"/>' * xlsx.MAX_ELEMENTS
    refusal = read(raw_xlsx(sheet_xml(header_row() + f'<row r="2">{cells}</row>')))
    assert f"more than {xlsx.MAX_ELEMENTS} XML elements" in refusal.messages[0]
    # The worst a file can cost: the budget's elements, in all parts together, and one more.
    assert sum(work.elements.values()) == xlsx.MAX_ELEMENTS + 1


def test_the_element_budget_covers_every_part_read():
    styles = f'<styleSheet xmlns="{MAIN}"><fonts>' + "<font/>" * (xlsx.MAX_ELEMENTS + 1) + "</fonts></styleSheet>"
    content = _with_styles_relation(
        raw_xlsx(sheet_xml(header_row() + data_row(2, "AG1")), extra={"xl/styles.xml": styles})
    )
    refusal = read(content)
    assert "XML elements" in refusal.messages[0]
