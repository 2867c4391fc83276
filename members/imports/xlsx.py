"""A bounded reader for the first sheet of an uploaded .xlsx.

An upload is untrusted, and openpyxl trusts what a workbook says about itself: a
``<dimension ref="A1:XFD8000"/>`` makes its read-only sheets pad every row to 16,384
cells (a 5 KB file took 6.5 s), and it loads every shared string before the first cell
(3 million strings in a 195 KB file took 64 s). So this reader, in this order:

* checks the uncompressed sizes the zip declares, each part and the total, before any
  XML is parsed (``zipfile`` stops a part at its declared size, so it cannot unpack to
  more);
* refuses a shared-string table whose ``count``/``uniqueCount`` says, or whose streaming
  count finds, more strings than a roster could use;
* refuses any DTD (no entity expansion);
* streams the first sheet with expat, never reads ``<dimension>``, keeps only the cells
  of the columns the header asked for, and stops at the row limit.

Everything it reads costs time in proportion to the (capped) bytes of the parts, and
nothing in the file can make it allocate or loop more than that.

It understands what a roster needs: shared, inline and formula-result strings, numbers,
booleans, error values and dates (numbers in a date format, and ``t="d"``). Namespace
prefixes are ignored, so transitional and strict files read alike.
"""

import datetime
import math
import posixpath
import re
import zipfile
from collections.abc import Callable
from typing import IO, Any
from xml.parsers import expat

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MB = 2**20
# A 5,000-row roster in the template is about 3 MB of sheet XML; HR exports with many
# more columns stay well under these. Reading 32 MB of worst-case XML takes ~2 s.
MAX_PART_BYTES = 32 * MB
MAX_TOTAL_BYTES = 64 * MB
# The template's 13 columns × 5,000 rows, plus headers and notes, with room for other
# sheets of the same workbook. Excel keeps one entry per distinct text.
MAX_SHARED_STRINGS = 100_000
# Header names are looked for in the first columns only.
MAX_HEADER_COLUMNS = 256
# XML elements read, in all parts together (a cell is one or two: <c><v>…</v></c>; a
# shared string two: <si><t>…</t></si>). Each costs a call into Python (a million take
# one to three seconds). A 5,000-row roster of the template's 13 columns has under 300,000.
MAX_ELEMENTS = 600_000

DATE_FORMAT_IDS = frozenset(range(14, 23)) | frozenset(range(27, 37)) | {45, 46, 47} | frozenset(range(50, 59))
ESCAPE_RE = re.compile(r"_x([0-9A-Fa-f]{4})_")

Cell = str | int | float | datetime.date | None


class RosterFileError(ValidationError):
    """The upload as a whole cannot be read: not a spreadsheet, no header row, too big."""


def not_an_xlsx() -> RosterFileError:
    return RosterFileError(_("This is not a valid Excel file (.xlsx)."))


class _Stop(Exception):
    """Raised from a handler: the parse has read what it needs."""


def too_complex() -> RosterFileError:
    return RosterFileError(
        _(
            "The workbook holds far more than a roster needs (more than %(max)s XML elements, counting "
            "formatted empty cells). Copy the roster into the template and upload that."
        )
        % {"max": MAX_ELEMENTS}
    )


def _local(name: str) -> str:
    return name.rpartition(":")[2] if ":" in name else name


def _refuse_dtd(*args: Any) -> None:
    raise not_an_xlsx()


def _expat(source: IO[bytes], start: Callable | None, end: Callable | None, text: Callable | None) -> None:
    """Stream ``source`` through expat with the given handlers; a DTD is refused (xlsx
    parts have none, and entities are how XML bombs expand). ``_Stop`` ends quietly."""
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.buffer_size = 65536
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    if start is not None:
        parser.StartElementHandler = start
    if end is not None:
        parser.EndElementHandler = end
    if text is not None:
        parser.CharacterDataHandler = text
    try:
        parser.ParseFile(source)
    except _Stop:
        pass


def _unescaped(match: re.Match) -> str:
    code = int(match.group(1), 16)
    if code == 0:
        return ""  # PostgreSQL text and jsonb cannot hold NUL
    if 0xD800 <= code <= 0xDFFF:
        return "\ufffd"  # a lone surrogate cannot be encoded as UTF-8
    return chr(code)


def _unescape(text: str) -> str:
    """Excel writes control characters as ``_xHHHH_``."""
    return ESCAPE_RE.sub(_unescaped, text) if "_x" in text else text


def _exists(archive: zipfile.ZipFile, name: str | None) -> bool:
    if not name:
        return False
    try:
        archive.getinfo(name)
    except KeyError:
        return False
    return True


# --- the package -----------------------------------------------------------------------


def _open_zip(file: IO[bytes]) -> zipfile.ZipFile:
    if hasattr(file, "seek"):
        file.seek(0)
    try:
        archive = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise not_an_xlsx() from None
    total = 0
    for info in archive.infolist():
        if info.file_size > MAX_PART_BYTES:
            raise RosterFileError(
                _("One part of the workbook (%(part)s) unpacks to more than %(size)s MB; a roster needs far less.")
                % {"part": info.filename[:80], "size": MAX_PART_BYTES // MB}
            )
        total += info.file_size
    if total > MAX_TOTAL_BYTES:
        raise RosterFileError(
            _("The workbook unpacks to more than %(size)s MB; a roster needs far less.")
            % {"size": MAX_TOTAL_BYTES // MB}
        )
    return archive


def _relationships(archive: zipfile.ZipFile, part: str, budget: list[int]) -> dict[str, tuple[str, str]]:
    """Id → (type, target path in the zip) of ``part``'s relationships."""
    folder, name = posixpath.split(part)
    rels_path = posixpath.join(folder, "_rels", name + ".rels")
    if not _exists(archive, rels_path):
        return {}
    found: dict[str, tuple[str, str]] = {}

    def start(tag: str, attrs: dict[str, str]) -> None:
        budget[0] -= 1
        if budget[0] < 0:
            raise too_complex()
        if _local(tag) == "Relationship" and attrs.get("TargetMode") != "External":
            target = attrs.get("Target", "")
            path = target[1:] if target.startswith("/") else posixpath.join(folder, target)
            found[attrs.get("Id", "")] = (attrs.get("Type", ""), posixpath.normpath(path))

    with archive.open(rels_path) as source:
        _expat(source, start, None, None)
    return found


def _workbook(archive: zipfile.ZipFile, budget: list[int]) -> tuple[str, bool, list[str]]:
    """The workbook part, whether it counts dates from 1904, and its sheets' relationship
    ids in tab order."""
    workbook = "xl/workbook.xml"
    for rel_type, target in _relationships(archive, "", budget).values():
        if rel_type.endswith("/officeDocument"):
            workbook = target
    if not _exists(archive, workbook):
        raise not_an_xlsx()
    sheets: list[str] = []
    date1904 = [False]

    def start(tag: str, attrs: dict[str, str]) -> None:
        budget[0] -= 1
        if budget[0] < 0:
            raise too_complex()
        name = _local(tag)
        if name == "sheet":
            # r:id, whatever the prefix is called.
            sheets.extend(v for k, v in attrs.items() if ":" in k and _local(k) == "id")
        elif name == "workbookPr":
            date1904[0] = attrs.get("date1904", "").lower() in ("1", "true")

    with archive.open(workbook) as source:
        _expat(source, start, None, None)
    return workbook, date1904[0], sheets


def _shared_strings(archive: zipfile.ZipFile, path: str | None, budget: list[int]) -> list[str]:
    if not _exists(archive, path):
        return []
    strings: list[str] = []
    parts: list[str] = []
    state = {"si": False, "t": False, "phonetic": 0}

    def refuse() -> None:
        raise RosterFileError(
            _(
                "The workbook holds more than %(max)s different texts, far more than a roster needs. "
                "Copy the roster into the template and upload that."
            )
            % {"max": MAX_SHARED_STRINGS}
        )

    def start(tag: str, attrs: dict[str, str]) -> None:
        budget[0] -= 1
        if budget[0] < 0:
            raise too_complex()
        name = _local(tag)
        if name == "t":
            state["t"] = state["si"] and not state["phonetic"]
        elif name == "si":
            state["si"] = True
            parts.clear()
        elif name == "rPh":
            state["phonetic"] += 1
        elif name == "sst":
            # The declared counts may lie low, never usefully high: believe a high one.
            for key in ("count", "uniqueCount"):
                value = attrs.get(key, "")
                if value.isdigit() and len(value) < 12 and int(value) > MAX_SHARED_STRINGS:
                    refuse()

    def end(tag: str) -> None:
        name = _local(tag)
        if name == "t":
            state["t"] = False
        elif name == "si":
            state["si"] = False
            strings.append(_unescape("".join(parts)))
            if len(strings) > MAX_SHARED_STRINGS:
                refuse()
        elif name == "rPh":
            state["phonetic"] -= 1

    def text(data: str) -> None:
        if state["t"]:
            parts.append(data)

    with archive.open(path) as source:
        _expat(source, start, end, text)
    return strings


def _date_styles(archive: zipfile.ZipFile, path: str | None, budget: list[int]) -> frozenset[int]:
    """Indexes of the cell formats (``s`` of a cell) that show a number as a date."""
    from openpyxl.styles.numbers import is_date_format

    if not _exists(archive, path):
        return frozenset()
    custom: dict[int, str] = {}
    formats: list[int] = []
    in_cell_xfs = [False]

    def start(tag: str, attrs: dict[str, str]) -> None:
        budget[0] -= 1
        if budget[0] < 0:
            raise too_complex()
        name = _local(tag)
        if name == "numFmt" and attrs.get("numFmtId", "").isdigit():
            custom[int(attrs["numFmtId"])] = attrs.get("formatCode", "")
        elif name == "cellXfs":
            in_cell_xfs[0] = True
        elif name == "xf" and in_cell_xfs[0]:
            value = attrs.get("numFmtId", "0")
            formats.append(int(value) if value.isdigit() and len(value) < 6 else 0)

    def end(tag: str) -> None:
        if _local(tag) == "cellXfs":
            raise _Stop

    with archive.open(path) as source:
        _expat(source, start, end, None)
    return frozenset(
        i for i, fmt in enumerate(formats) if (is_date_format(custom[fmt]) if fmt in custom else fmt in DATE_FORMAT_IDS)
    )


# --- the sheet -------------------------------------------------------------------------


def _column_index(letters: str) -> int | None:
    """0 for A … 16383 for XFD; None for anything that is not a column name."""
    if not (0 < len(letters) <= 3 and letters.isascii() and letters.isalpha()):
        return None
    index = 0
    for char in letters.upper():
        index = index * 26 + ord(char) - 64
    return index - 1


class _SheetReader:
    """Expat handlers that turn ``<sheetData>`` into rows of the wanted columns.

    Rows 1 to ``header_rows`` are offered to ``match_header`` (cells of the first
    ``MAX_HEADER_COLUMNS`` columns) until it returns the columns to keep; after that only
    those columns are read, blank rows are skipped, and more than ``max_rows`` data rows
    stop the parse with an error. The handlers run once per XML element, so they are
    kept short, and they spend the workbook's element ``budget``."""

    def __init__(self, *, budget, strings, date_styles, epoch, match_header, header_rows, max_rows, too_many):
        self.budget = budget
        self.strings = strings
        self.date_styles = date_styles
        self.epoch = epoch
        self.match_header = match_header
        self.header_rows = header_rows
        self.max_rows = max_rows
        self.too_many = too_many
        self.columns: dict[int, str] | None = None
        self.rows: list[tuple[int, dict[str, Cell]]] = []
        self.row_number = 0
        self.cells: dict[int, Cell] = {}
        self.column = -1
        self.keep = False  # the current cell is one we want
        self.cell_type = "n"
        self.cell_style = 0
        self.collect = False  # inside the <v> or <is><t> of a kept cell
        self.inline = False
        self.phonetic = 0
        self.text: list[str] = []
        self.letters: dict[str, int | None] = {}  # "AB" → 27, cached

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        budget = self.budget
        budget[0] -= 1
        if budget[0] < 0:
            raise too_complex()
        if ":" in tag:
            tag = tag.rpartition(":")[2]
        if tag == "c":
            ref = attrs.get("r")
            if ref:
                letters = ref.rstrip("0123456789")
                column = self.letters.get(letters, -2)
                if column == -2:
                    column = self.letters[letters] = _column_index(letters) if len(self.letters) < 20000 else None
                self.column = self.column + 1 if column is None else column
            else:
                self.column += 1
            columns = self.columns
            if columns is None:
                self.keep = self.column < MAX_HEADER_COLUMNS
            else:
                self.keep = self.column in columns
            if self.keep:
                self.cell_type = attrs.get("t", "n")
                style = attrs.get("s", "0")
                self.cell_style = int(style) if style.isdigit() and len(style) < 8 else 0
                self.text = []
                self.inline = False
        elif tag == "v":
            self.collect = self.keep and self.cell_type != "inlineStr"
        elif tag == "row":
            ref = attrs.get("r", "")
            self.row_number = int(ref) if ref.isdigit() and len(ref) < 9 else self.row_number + 1
            self.column = -1
            self.cells = {}
            if self.columns is None and self.row_number > self.header_rows:
                raise _Stop  # no header where one must be
        elif tag == "t":
            self.collect = self.keep and self.inline and not self.phonetic
        elif tag == "is":
            self.inline = True
        elif tag == "rPh":
            self.phonetic += 1

    def end(self, tag: str) -> None:
        if ":" in tag:
            tag = tag.rpartition(":")[2]
        if tag == "c":
            if self.keep:
                value = self.value()
                if value is not None:
                    self.cells[self.column] = value
                self.keep = False
        elif tag == "v" or tag == "t":
            self.collect = False
        elif tag == "row":
            self.end_row()
        elif tag == "rPh":
            self.phonetic -= 1
        elif tag == "sheetData":
            raise _Stop  # what follows (merged cells, formatting, …) is not ours

    def data(self, text: str) -> None:
        if self.collect:
            self.text.append(text)

    def end_row(self) -> None:
        if self.columns is None:
            found = self.match_header(self.cells)
            if found:
                self.columns = found
            return
        if not any(v is not None and str(v).strip() for v in self.cells.values()):
            return
        self.rows.append((self.row_number, {self.columns[c]: v for c, v in self.cells.items()}))
        if len(self.rows) > self.max_rows:
            raise self.too_many()

    def value(self) -> Cell:
        raw = "".join(self.text) if self.text else None
        kind = self.cell_type
        if kind == "inlineStr" or kind == "str":
            return _unescape(raw) if raw is not None else None
        if raw is None:
            return None
        if kind == "s":
            if not raw.isdigit() or int(raw) >= len(self.strings):
                raise not_an_xlsx()
            return self.strings[int(raw)]
        if kind == "b":
            return "TRUE" if raw.strip() == "1" else "FALSE"
        if kind == "e":
            return raw
        if kind == "d":
            try:
                return datetime.datetime.fromisoformat(raw.strip()).date()
            except ValueError:
                return raw
        return self.number(raw)

    def number(self, raw: str) -> Cell:
        text = raw.strip()
        try:
            number: int | float = int(text) if text.lstrip("-").isdigit() else float(text)
        except ValueError:  # also more digits than int() takes
            return raw
        if isinstance(number, float) and not math.isfinite(number):
            return raw
        if self.cell_style in self.date_styles:
            from openpyxl.utils.datetime import from_excel

            try:
                moment = from_excel(number, self.epoch)
            except (OverflowError, ValueError):
                return number
            if isinstance(moment, datetime.datetime):
                return moment.date()
        return number


def read_first_sheet(
    file: IO[bytes],
    *,
    match_header: Callable[[dict[int, Cell]], dict[int, str] | None],
    header_rows: int,
    max_rows: int,
    too_many: Callable[[], RosterFileError],
) -> tuple[dict[int, str] | None, list[tuple[int, dict[str, Cell]]]]:
    """The columns ``match_header`` chose (column index → key; None when no row of the
    first ``header_rows`` matched) and the non-blank rows below the header: (Excel row
    number, key → value). Raises ``RosterFileError`` for anything that is not a
    readable, reasonably sized workbook, and ``too_many()`` past ``max_rows`` rows."""
    from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900

    archive = _open_zip(file)
    try:
        budget = [MAX_ELEMENTS]
        workbook, date1904, sheet_ids = _workbook(archive, budget)
        rels = _relationships(archive, workbook, budget)
        by_type = {rel_type.rpartition("/")[2]: target for rel_type, target in rels.values()}
        sheets = [rels[i][1] for i in sheet_ids if i in rels and rels[i][0].endswith("/worksheet")]
        if not sheets or not _exists(archive, sheets[0]):
            raise RosterFileError(_("The workbook has no sheets."))
        reader = _SheetReader(
            budget=budget,
            strings=_shared_strings(archive, by_type.get("sharedStrings"), budget),
            date_styles=_date_styles(archive, by_type.get("styles"), budget),
            epoch=CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900,
            match_header=match_header,
            header_rows=header_rows,
            max_rows=max_rows,
            too_many=too_many,
        )
        with archive.open(sheets[0]) as source:
            _expat(source, reader.start, reader.end, reader.data)
    except RosterFileError:
        raise
    except Exception:  # zip, XML, encoding and corrupt-data errors mean the same to the user
        raise not_an_xlsx() from None
    finally:
        archive.close()
    return reader.columns, reader.rows
