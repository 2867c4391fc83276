"""Roster import from Excel: read the workbook once, check every row, then write all of
it in one transaction or nothing.

``roster_read`` reads the first sheet of an .xlsx with the bounded reader in ``xlsx``
(only the template's columns, at most ``MAX_ROWS`` rows, sizes checked before parsing)
into a ``RosterSheet`` of raw cells. The upload page keeps that sheet as a
``RosterUpload`` for its uploader; preview and confirm never read the file again.

``roster_check`` normalises what people type into Excel (full-width digits and letters,
stray spaces, dates as date cells or as 2019-07-01, 2019/7/1, 2019.7.1, 2019年7月1日) and
checks each row against the database as it is now and the importer's write scope, and
reports every problem of every row at once: each cell, the rules of
``members.services.member_validate`` (so an import refuses exactly what the member form
refuses; a rule is skipped only when a value it needs is missing or unreadable),
duplicates and scope. ``roster_import_apply`` writes the rows through the member
services.

A code or employee number outside the importer's scope gets the same message as one
that does not exist (branch codes) or is taken (employee numbers, which are unique across
the installation, as the member form says too): the report never tells what lies outside.
"""

import datetime
import re
import secrets
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from typing import IO, Any, NamedTuple

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from branches.access import writable_branches
from branches.models import OrgUnit
from members import services as member_services
from members.models import Member, Membership

from . import xlsx
from .models import RosterUpload
from .xlsx import RosterFileError

MAX_ROWS = 5000
# The header row is looked for in the first rows only (a title or two may come first).
HEADER_ROWS = 10


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool
    label: Any  # lazy translation, for the row report


COLUMNS = (
    Column("employee_no", "工号", True, gettext_lazy("employee number")),
    Column("name", "姓名", True, pgettext_lazy("person", "name")),
    Column("gender", "性别", True, gettext_lazy("gender")),
    Column("birth_date", "出生日期", True, gettext_lazy("date of birth")),
    Column("ethnicity", "民族", False, gettext_lazy("ethnicity")),
    Column("phone", "联系电话", False, gettext_lazy("phone")),
    Column("branch", "所在支部编码", True, gettext_lazy("branch")),
    Column("group", "党小组", False, gettext_lazy("party group")),
    Column("post", "岗位", False, gettext_lazy("post")),
    Column("status", "党员类别", True, gettext_lazy("status")),
    Column("joined_on", "入党日期", True, gettext_lazy("date joined the Party")),
    Column("converted_on", "转正日期", False, gettext_lazy("date of conversion to full member")),
    Column("started_on", "进入本支部日期", False, gettext_lazy("date of entering the branch")),
)
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
# member_validate's error keys → the column they are about.
FIELD_COLUMNS = {"birth_date", "joined_on", "converted_on", "branch", "group", "employee_no"}

GENDERS = {"男": Member.Gender.MALE, "女": Member.Gender.FEMALE}
STATUSES = {
    "预备党员": Member.Status.PROBATIONARY,
    "预备": Member.Status.PROBATIONARY,
    "正式党员": Member.Status.FULL,
    "正式": Member.Status.FULL,
}
MAX_LENGTHS = {"employee_no": 30, "name": 50, "ethnicity": 20, "phone": 20, "post": 100}
PHONE_RE = re.compile(r"^[0-9+\- ]{5,20}$")
DATE_RE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
COMPACT_DATE_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
WHITESPACE_RE = re.compile(r"\s+")
CJK_SPACE_RE = re.compile(r"(?<=[\u3400-\u9fff·])\s+(?=[\u3400-\u9fff·])")
# Fields an update compares and may change (started_on is when a transfer takes effect).
COMPARED = ("name", "gender", "birth_date", "ethnicity", "phone", "branch", "group", "post", "status")
COMPARED += ("joined_on", "converted_on")


class CellView(NamedTuple):
    """One cell of the preview: what the system understood (or, if it could not read the
    cell, what was typed) and whether the cell has an error."""

    key: str
    text: str
    flagged: bool


@dataclass
class RowResult:
    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    ERROR = "error"

    row: int
    status: str = NEW
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    # (column label, old, new) for a "changed" row, as display strings.
    changes: list[tuple[str, str, str]] = field(default_factory=list)
    member: Member | None = None
    # Each cell as typed (normalised text), for cells that could not be understood.
    raw: dict[str, str] = field(default_factory=dict)
    # Columns whose cell could not be read or resolved, and columns with any error.
    unreadable: set[str] = field(default_factory=set)
    flagged: set[str] = field(default_factory=set)
    cells: list[CellView] = field(default_factory=list)

    def error(self, column: str | None, message: str) -> None:
        if column is not None:
            self.flagged.add(column)
            message = _("%(column)s: %(message)s") % {"column": COLUMN_BY_KEY[column].header, "message": message}
        self.errors.append(message)

    def unreadable_cell(self, column: str, message: str) -> None:
        self.unreadable.add(column)
        self.error(column, message)

    @property
    def branch_changes(self) -> bool:
        return self.member is not None and self.values.get("branch") != self.member.branch


# --- normalising what Excel gives us ---------------------------------------------------


def normalise_text(value: Any) -> str:
    """A cell as text: NFKC (full-width digits, letters and spaces become ASCII), numbers
    without a spurious ``.0``, surrounding spaces gone and inner runs collapsed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFKC", str(value))
    return WHITESPACE_RE.sub(" ", text).strip()


def normalise_header(value: Any) -> str:
    return WHITESPACE_RE.sub("", normalise_text(value)).strip("*")


def normalise_code(value: Any) -> str:
    """Employee numbers and unit codes: no spaces anywhere."""
    return WHITESPACE_RE.sub("", normalise_text(value))


def normalise_name(value: Any) -> str:
    """A stray space between two Chinese characters is a typo, not part of the name."""
    return CJK_SPACE_RE.sub("", normalise_text(value))


def parse_date(value: Any) -> datetime.date | None:
    """A date cell, or text such as 2019-07-01, 2019/7/1, 2019.7.1, 2019年7月1日 or 20190701.
    ``None`` for an empty cell; ``ValueError`` for anything else."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = normalise_code(value)
    if not text:
        return None
    match = DATE_RE.match(text) or COMPACT_DATE_RE.match(text)
    if match is None:
        raise ValueError(text)
    year, month, day = (int(part) for part in match.groups())
    return datetime.date(year, month, day)


def _display(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, OrgUnit):
        return value.name
    return str(value)


def display_value(key: str, value: Any) -> str:
    if key == "gender" and value:
        return Member.Gender(value).label
    if key == "status" and value:
        return Member.Status(value).label
    return _display(value)


# --- reading the workbook --------------------------------------------------------------


@dataclass(frozen=True)
class RosterSheet:
    """The template's columns of a roster's data rows, as read from the workbook: what an
    upload keeps. Cells are text, numbers or ISO dates (JSON as it is)."""

    columns: tuple[str, ...]  # column keys found in the header, in template order
    rows: list[tuple[int, list[Any]]]  # (Excel row number, a cell per column)

    def to_json(self) -> tuple[list[str], list[list[Any]]]:
        return list(self.columns), [[number, cells] for number, cells in self.rows]

    @classmethod
    def from_json(cls, columns: list[str], rows: list[list[Any]]) -> "RosterSheet":
        return cls(columns=tuple(columns), rows=[(number, cells) for number, cells in rows])


def _json_cell(value: xlsx.Cell) -> Any:
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _match_header(cells: dict[int, xlsx.Cell]) -> dict[int, str] | None:
    """The template's columns in a row of cells (index → key), if it is the header row:
    it names at least 工号 and 姓名. A column named twice counts where it comes first."""
    wanted = {c.header: c.key for c in COLUMNS}
    found: dict[int, str] = {}
    for index in sorted(cells):
        key = wanted.get(normalise_header(cells[index]))
        if key is not None and key not in found.values():
            found[index] = key
    return found if {"employee_no", "name"} <= set(found.values()) else None


def roster_read(file: IO[bytes]) -> RosterSheet:
    """Read the first sheet of an uploaded roster: the header row (within the first
    ``HEADER_ROWS`` rows), then the template's columns of the non-blank rows below it.
    Raises ``RosterFileError`` for a file that is not a workbook, is too big, has no
    header or misses required columns, or has more than ``MAX_ROWS`` rows."""
    header, rows = xlsx.read_first_sheet(
        file,
        match_header=_match_header,
        header_rows=HEADER_ROWS,
        max_rows=MAX_ROWS,
        too_many=lambda: RosterFileError(_("A roster may have at most %(max)s rows.") % {"max": MAX_ROWS}),
    )
    if header is None:
        raise RosterFileError(
            _("No header row found: the first sheet needs the columns of the template (工号, 姓名, …).")
        )
    present = set(header.values())
    missing = [c.header for c in COLUMNS if c.required and c.key not in present]
    if missing:
        raise RosterFileError(_("Columns missing: %(columns)s.") % {"columns": "、".join(missing)})
    columns = tuple(c.key for c in COLUMNS if c.key in present)
    return RosterSheet(
        columns=columns,
        rows=[(number, [_json_cell(cells.get(key)) for key in columns]) for number, cells in rows],
    )


def roster_columns(sheet: RosterSheet) -> list[Column]:
    """The columns the preview shows: those of the file, and the date of entering the
    branch (it defaults to the day of the import)."""
    return [c for c in COLUMNS if c.key in sheet.columns or c.key == "started_on"]


DATE_KEYS = ("birth_date", "joined_on", "converted_on", "started_on")


def _parse_cells(result: RowResult, cells: dict[str, Any], present: set[str]) -> None:
    """Fill ``result.values`` with cleaned values and report every cell that cannot be
    read. Branch and group stay as text here (resolved against the database later)."""
    values = result.values
    for column in COLUMNS:
        raw = cells.get(column.key)
        result.raw[column.key] = normalise_text(raw)
        if column.key in DATE_KEYS:
            try:
                value = parse_date(raw)
            except ValueError:
                result.unreadable_cell(
                    column.key,
                    _("%(value)s is not a date; write it as 2019-07-01 or 2019年7月1日.")
                    % {"value": normalise_text(raw)},
                )
                value = None
        elif column.key in ("employee_no", "branch"):
            value = normalise_code(raw)
        elif column.key == "name":
            value = normalise_name(raw)
        else:
            value = normalise_text(raw)
        if column.key in present or column.required:
            values[column.key] = value
        if column.required and value in (None, "") and column.key not in result.unreadable:
            result.error(column.key, _("This field is required."))
    for key, limit in MAX_LENGTHS.items():
        if len(values.get(key) or "") > limit:
            result.error(key, _("At most %(max)s characters.") % {"max": limit})
    if values.get("gender"):
        gender = GENDERS.get(values["gender"])
        if gender is None:
            result.unreadable_cell(
                "gender", _("%(value)s is not a gender; write 男 or 女.") % {"value": values["gender"]}
            )
        values["gender"] = gender
    if values.get("status"):
        status = STATUSES.get(values["status"].replace(" ", ""))
        if status is None:
            result.unreadable_cell(
                "status",
                _("%(value)s is not a member status; write 预备党员 or 正式党员.") % {"value": values["status"]},
            )
        values["status"] = status
    if values.get("phone") and not PHONE_RE.match(values["phone"]):
        result.error("phone", _("Enter a phone number of digits, spaces, + or -."))


# --- validation against the database ---------------------------------------------------


def committee_branches(committee: OrgUnit) -> QuerySet[OrgUnit]:
    """The active branches under a committee: what its staff may import into."""
    return OrgUnit.objects.filter(kind=OrgUnit.Kind.BRANCH, dissolved_on__isnull=True, path__startswith=committee.path)


def parse_roster(
    file: IO[bytes],
    *,
    user: AbstractBaseUser | None = None,
    branches: QuerySet[OrgUnit] | None = None,
    today: datetime.date | None = None,
) -> list[RowResult]:
    """Read a workbook and check every row (``roster_read`` then ``roster_check``)."""
    return roster_check(roster_read(file), user=user, branches=branches, today=today)


def roster_check(
    sheet: RosterSheet,
    *,
    user: AbstractBaseUser | None = None,
    branches: QuerySet[OrgUnit] | None = None,
    today: datetime.date | None = None,
) -> list[RowResult]:
    """Check every row of a roster against the database as it is now; writes nothing.
    The scope is ``branches`` (the branches the importer may write to) or, by default,
    ``writable_branches(user)``. Each row gets all its errors, not the first one."""
    today = today or timezone.localdate()
    if branches is None:
        branches = writable_branches(user)
    present = set(sheet.columns)
    results = []
    for number, cells in sheet.rows:
        result = RowResult(row=number)
        _parse_cells(result, dict(zip(sheet.columns, cells, strict=False)), present)
        results.append(result)

    # Only branches in scope are looked up: a code outside it reads as one that does not exist.
    codes = {r.values["branch"] for r in results if r.values.get("branch")}
    units = {u.code: u for u in branches.filter(code__in=codes)}
    groups = {
        (g.parent_id, g.name): g
        for g in OrgUnit.objects.filter(kind=OrgUnit.Kind.GROUP, dissolved_on__isnull=True, parent__in=units.values())
    }
    numbers = defaultdict(list)
    for r in results:
        if r.values.get("employee_no"):
            numbers[r.values["employee_no"]].append(r.row)
    existing = {
        m.employee_no: m for m in Member.objects.filter(employee_no__in=list(numbers)).select_related("branch", "group")
    }
    open_periods = dict(
        Membership.objects.filter(member__in=existing.values(), ended_on__isnull=True).values_list(
            "member_id", "started_on"
        )
    )
    # The branches of the members named in the file that the importer may write to.
    writable_ids = set(branches.filter(pk__in={m.branch_id for m in existing.values()}).values_list("pk", flat=True))

    found = _Found(numbers, existing, writable_ids, units, groups, open_periods, today)
    columns = roster_columns(sheet)
    for r in results:
        _check_row(r, found)
        r.cells = _cell_views(r, columns)
    return results


@dataclass(frozen=True)
class _Found:
    """What the database holds about a roster's codes and numbers, read in a few queries."""

    numbers: dict[str, list[int]]  # employee number → the rows it appears in
    existing: dict[str, Member]  # employee number → member, anywhere
    writable_ids: set[int]  # the branches of those members that the importer may write to
    units: dict[str, OrgUnit]  # code → branch in scope
    groups: dict[tuple[int, str], OrgUnit]  # (branch pk, name) → party group
    open_periods: dict[int, datetime.date]  # member pk → start of the current membership
    today: datetime.date


def _check_row(r: RowResult, found: _Found) -> None:
    values = r.values
    today = found.today
    no = values.get("employee_no")
    if no and len(found.numbers[no]) > 1:
        others = ", ".join(str(n) for n in found.numbers[no] if n != r.row)
        r.error("employee_no", _("Employee number %(no)s also appears in row %(rows)s.") % {"no": no, "rows": others})
    member = found.existing.get(no) if no else None
    if member is not None:
        if member.branch_id not in found.writable_ids:
            # Employee numbers are unique across the installation; the member form says
            # the same. Nothing tells that the member is outside the importer's scope.
            r.error("employee_no", _("Employee number %(no)s is already in use.") % {"no": no})
            member = None
        elif not member.is_active:
            r.error("employee_no", _("%(member)s has left; their record can no longer be edited.") % {"member": member})
            member = None
    r.member = member

    branch = None
    code = values.get("branch")
    if code:
        branch = found.units.get(code)
        if branch is None:
            # The same words for no such unit, a unit that is not a branch, a dissolved
            # branch and a branch outside the scope.
            r.unreadable_cell("branch", _("No branch you may import into has the code %(code)s.") % {"code": code})
    values["branch"] = branch

    group = None
    group_name = values.get("group")
    if group_name and branch is None:
        r.unreadable.add("group")  # cannot be looked up without a branch; shown as typed
    elif group_name:
        group = found.groups.get((branch.pk, group_name))
        if group is None:
            r.unreadable_cell(
                "group",
                _("%(branch)s has no party group named %(group)s.") % {"branch": branch.name, "group": group_name},
            )
    if "group" in values:
        values["group"] = group

    started_on = values.get("started_on")
    if "started_on" not in r.unreadable:
        started_on = started_on or today
        values["started_on"] = started_on
        if started_on > today:
            r.error("started_on", _("The date cannot be in the future."))
        elif values.get("joined_on") and started_on < values["joined_on"] and (member is None or r.branch_changes):
            r.error("started_on", _("A member enters a branch on or after joining the Party."))
        if member is not None and branch is not None and branch != member.branch:
            began = found.open_periods.get(member.pk)
            if began is not None and started_on <= began:
                r.error(
                    "started_on",
                    _("The date must be after %(date)s, when the current membership began.")
                    % {"date": began.isoformat()},
                )

    # The member rules run whatever else is wrong; a rule whose value is missing or
    # unreadable is skipped (that cell has its own message already).
    try:
        member_services.member_validate(
            birth_date=values.get("birth_date"),
            joined_on=values.get("joined_on"),
            status=values.get("status") or None,
            converted_on=values.get("converted_on"),
            branch=branch,
            group=group,
            employee_no=None,  # checked above for all rows in one query
            today=today,
        )
    except ValidationError as exc:
        for key, messages in exc.message_dict.items():
            if key in r.unreadable:
                continue
            column = key if key in FIELD_COLUMNS else None
            for message in messages:
                r.error(column, message)

    if r.errors:
        r.status = RowResult.ERROR
    elif member is None:
        r.status = RowResult.NEW
    else:
        r.changes = _changes(member, values)
        r.status = RowResult.CHANGED if r.changes else RowResult.UNCHANGED


def _cell_views(r: RowResult, columns: list[Column]) -> list[CellView]:
    """What the preview shows of a row: the understood values (dates as dates, categories
    by their names, the branch and group by name), or as typed where unreadable."""
    views = []
    for column in columns:
        key = column.key
        if key in r.unreadable:
            text = r.raw.get(key) or "—"
        elif key == "started_on" and r.member is not None and not r.branch_changes:
            text = "—"  # only a new member or a transfer uses it
        else:
            text = display_value(key, r.values.get(key))
        views.append(CellView(key, text, key in r.flagged))
    return views


def _changes(member: Member, values: dict[str, Any]) -> list[tuple[str, str, str]]:
    """What the row would change; a column absent from the file keeps the current value."""
    changes = []
    for key in COMPARED:
        if key not in values:
            continue
        old = getattr(member, key)
        new = values[key]
        if (old or None) != (new or None):
            label = str(COLUMN_BY_KEY[key].label)
            changes.append((label, display_value(key, old), display_value(key, new)))
    return changes


def roster_summary(rows: list[RowResult]) -> dict[str, int]:
    summary = {RowResult.NEW: 0, RowResult.CHANGED: 0, RowResult.UNCHANGED: 0, RowResult.ERROR: 0}
    for r in rows:
        summary[r.status] += 1
    return summary


# --- writing ---------------------------------------------------------------------------


@transaction.atomic
def roster_import_apply(*, rows: list[RowResult], user: AbstractBaseUser | None) -> dict[str, int]:
    """Write every row, or nothing: new rows through ``member_create``, changed rows
    through ``member_transfer`` (a new branch, on the row's 进入本支部日期) and then
    ``member_update``. Any error rolls the whole import back."""
    if any(r.status == RowResult.ERROR for r in rows):
        raise ValidationError(_("The roster has errors; nothing was imported."))
    for r in rows:
        v = r.values
        try:
            if r.status == RowResult.NEW:
                member_services.member_create(
                    name=v["name"],
                    gender=v["gender"],
                    birth_date=v["birth_date"],
                    employee_no=v["employee_no"],
                    branch=v["branch"],
                    group=v.get("group"),
                    status=v["status"],
                    joined_on=v["joined_on"],
                    converted_on=v.get("converted_on"),
                    started_on=v["started_on"],
                    phone=v.get("phone", ""),
                    ethnicity=v.get("ethnicity", ""),
                    post=v.get("post", ""),
                    user=user,
                )
            elif r.status == RowResult.CHANGED:
                member = Member.objects.get(pk=r.member.pk)
                moves = v["branch"] != member.branch
                group = v["group"] if "group" in v else (None if moves else member.group)
                if moves:
                    member_services.member_transfer(
                        member=member, to_branch=v["branch"], to_group=group, on_date=v["started_on"], user=user
                    )
                    member.refresh_from_db()
                member_services.member_update(
                    member=member,
                    name=v["name"],
                    gender=v["gender"],
                    birth_date=v["birth_date"],
                    employee_no=v["employee_no"],
                    status=v["status"],
                    joined_on=v["joined_on"],
                    converted_on=v.get("converted_on"),
                    group=group,
                    phone=v.get("phone", member.phone),
                    ethnicity=v.get("ethnicity", member.ethnicity),
                    post=v.get("post", member.post),
                    user=user,
                )
        except ValidationError as exc:
            raise ValidationError(
                _("Row %(row)s: %(message)s") % {"row": r.row, "message": " ".join(exc.messages)}
            ) from exc
    return roster_summary(rows)


# --- keeping an upload between preview and confirm -------------------------------------

UPLOAD_MAX_AGE = datetime.timedelta(days=1)
UPLOADS_KEPT_PER_USER = 5


def _uploads_of(user: AbstractBaseUser):
    """The user's uploads that have not expired: nobody else's token finds anything."""
    return RosterUpload.objects.filter(user=user, created_at__gte=timezone.now() - UPLOAD_MAX_AGE)


@transaction.atomic
def roster_upload_store(*, user: AbstractBaseUser, sheet: RosterSheet, file_name: str = "") -> str:
    """Keep a read roster for its uploader under a random token; expired uploads (of
    anyone) and all but the user's latest few go."""
    RosterUpload.objects.filter(created_at__lt=timezone.now() - UPLOAD_MAX_AGE).delete()
    keep = RosterUpload.objects.filter(user=user).order_by("-created_at", "-pk")[: UPLOADS_KEPT_PER_USER - 1]
    RosterUpload.objects.filter(user=user).exclude(pk__in=list(keep.values_list("pk", flat=True))).delete()
    columns, rows = sheet.to_json()
    token = secrets.token_urlsafe(24)
    RosterUpload.objects.create(user=user, token=token, file_name=file_name[:255], columns=columns, rows=rows)
    return token


def roster_upload_get(*, user: AbstractBaseUser, token: str) -> RosterSheet | None:
    """The sheet ``user`` uploaded under ``token``, or None (also for anyone else's)."""
    upload = _uploads_of(user).filter(token=token).first()
    return RosterSheet.from_json(upload.columns, upload.rows) if upload is not None else None


@dataclass
class ImportOutcome:
    """What confirming an upload did: the rows as checked now, and the summary of what
    was written, or None with the rows (and ``error``) when nothing was."""

    sheet: RosterSheet
    rows: list[RowResult]
    summary: dict[str, int] | None = None
    error: str = ""


@transaction.atomic
def roster_upload_import(
    *, user: AbstractBaseUser, token: str, branches: QuerySet[OrgUnit] | None = None
) -> ImportOutcome | None:
    """Check the stored upload again against the database as it is now and, without
    errors, write all of it and forget the upload; None if there is no such upload.
    The upload row stays locked until commit, so two confirms cannot both import."""
    upload = _uploads_of(user).select_for_update().filter(token=token).first()
    if upload is None:
        return None
    sheet = RosterSheet.from_json(upload.columns, upload.rows)
    rows = roster_check(sheet, user=user, branches=branches)
    outcome = ImportOutcome(sheet=sheet, rows=rows)
    if any(r.status == RowResult.ERROR for r in rows):
        return outcome
    try:
        outcome.summary = roster_import_apply(rows=rows, user=user)
    except ValidationError as exc:  # the savepoint of roster_import_apply undid every row
        outcome.error = " ".join(exc.messages)
        return outcome
    upload.delete()
    return outcome
