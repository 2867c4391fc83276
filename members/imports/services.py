"""Roster import from Excel: parse and validate every row first, then write all of it in
one transaction or nothing.

``parse_roster`` reads an .xlsx (openpyxl, read-only), matches the Chinese headers,
normalises what people type into Excel (full-width digits and letters, stray spaces,
dates as date cells or as 2019-07-01, 2019/7/1, 2019.7.1, 2019年7月1日) and checks each
row against the database and the uploader's write scope. Member rules come from
``members.services.member_validate``, so an import refuses exactly what the member form
refuses. ``roster_import_apply`` writes the rows through the member services.
"""

import datetime
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from typing import IO, Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branches.access import writable_branches
from branches.models import OrgUnit
from members import services as member_services
from members.models import Member, Membership

MAX_ROWS = 5000


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool
    label: Any  # lazy translation, for the row report


COLUMNS = (
    Column("employee_no", "工号", True, gettext_lazy("employee number")),
    Column("name", "姓名", True, gettext_lazy("name")),
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


class RosterFileError(ValidationError):
    """The upload as a whole cannot be read: not a spreadsheet, no header row, too big."""


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

    def error(self, column: str | None, message: str) -> None:
        if column is not None:
            message = _("%(column)s: %(message)s") % {"column": COLUMN_BY_KEY[column].header, "message": message}
        self.errors.append(message)

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


def _read_rows(file: IO[bytes]) -> tuple[dict[str, int], list[tuple[int, tuple]]]:
    """The header map (column key → index) and the non-empty data rows with their Excel
    row numbers."""
    from openpyxl import load_workbook

    try:
        if hasattr(file, "seek"):
            file.seek(0)
        workbook = load_workbook(file, read_only=True, data_only=True)
    except Exception:  # zip, XML, key and type errors all mean the same to the user
        raise RosterFileError(_("This is not a valid Excel file (.xlsx).")) from None
    try:
        if not workbook.worksheets:
            raise RosterFileError(_("The workbook has no sheets."))
        sheet = workbook.worksheets[0]
        wanted = {c.header: c.key for c in COLUMNS}
        header: dict[str, int] | None = None
        rows: list[tuple[int, tuple]] = []
        try:
            for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
                if header is None:
                    found = {wanted[h]: i for i, h in enumerate(map(normalise_header, cells)) if h in wanted}
                    if "employee_no" in found and "name" in found:
                        header = found
                    elif number >= 10:
                        break
                    continue
                if all(normalise_text(cell) == "" for cell in cells):
                    continue
                rows.append((number, cells))
                if len(rows) > MAX_ROWS:
                    raise RosterFileError(_("A roster may have at most %(max)s rows.") % {"max": MAX_ROWS})
        except RosterFileError:
            raise
        except Exception:
            raise RosterFileError(_("This is not a valid Excel file (.xlsx).")) from None
    finally:
        workbook.close()
    if header is None:
        raise RosterFileError(
            _("No header row found: the first sheet needs the columns of the template (工号, 姓名, …).")
        )
    missing = [c.header for c in COLUMNS if c.required and c.key not in header]
    if missing:
        raise RosterFileError(_("Columns missing: %(columns)s.") % {"columns": "、".join(missing)})
    return header, rows


def _cell(cells: tuple, header: dict[str, int], key: str) -> Any:
    index = header.get(key)
    if index is None or index >= len(cells):
        return None
    return cells[index]


def _parse_cells(result: RowResult, cells: tuple, header: dict[str, int]) -> None:
    """Fill ``result.values`` with cleaned values; errors for what cannot be read.
    Branch and group stay as text here (resolved against the database later)."""
    values = result.values
    for column in COLUMNS:
        raw = _cell(cells, header, column.key)
        if column.key in ("birth_date", "joined_on", "converted_on", "started_on"):
            try:
                value = parse_date(raw)
            except ValueError:
                result.error(
                    column.key,
                    _("%(value)s is not a date; write it as 2019-07-01 or 2019年7月1日.")
                    % {"value": normalise_text(raw)},
                )
                value = None
                values[column.key + "_invalid"] = True
        elif column.key in ("employee_no", "branch", "phone"):
            value = normalise_code(raw) if column.key != "phone" else normalise_text(raw)
        elif column.key == "name":
            value = normalise_name(raw)
        else:
            value = normalise_text(raw)
        if column.key in header or column.required:
            values[column.key] = value
        if column.required and value in (None, "") and not values.get(column.key + "_invalid"):
            result.error(column.key, _("This field is required."))
    for key, limit in MAX_LENGTHS.items():
        if len(values.get(key) or "") > limit:
            result.error(key, _("At most %(max)s characters.") % {"max": limit})
    if values.get("gender"):
        gender = GENDERS.get(values["gender"])
        if gender is None:
            result.error("gender", _("%(value)s is not a gender; write 男 or 女.") % {"value": values["gender"]})
        values["gender"] = gender
    if values.get("status"):
        status = STATUSES.get(values["status"].replace(" ", ""))
        if status is None:
            result.error(
                "status",
                _("%(value)s is not a member status; write 预备党员 or 正式党员.") % {"value": values["status"]},
            )
        values["status"] = status
    if values.get("phone") and not PHONE_RE.match(values["phone"]):
        result.error("phone", _("Enter a phone number of digits, spaces, + or -."))
    for key in [k for k in values if k.endswith("_invalid")]:
        del values[key]


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
    """Read and check every row of the roster; writes nothing. The scope is ``branches``
    (the branches the importer may write to) or, by default, ``writable_branches(user)``.
    Raises ``RosterFileError`` when the file as a whole cannot be read."""
    today = today or timezone.localdate()
    if branches is None:
        branches = writable_branches(user)
    header, raw_rows = _read_rows(file)
    results = []
    for number, cells in raw_rows:
        result = RowResult(row=number)
        _parse_cells(result, cells, header)
        results.append(result)

    writable_ids = set(branches.values_list("pk", flat=True))
    codes = {r.values["branch"] for r in results if r.values.get("branch")}
    units = {u.code: u for u in OrgUnit.objects.filter(code__in=codes)}
    groups = {
        (g.parent_id, g.name): g
        for g in OrgUnit.objects.filter(
            kind=OrgUnit.Kind.GROUP, dissolved_on__isnull=True, parent__in=[u for u in units.values() if u.is_branch]
        )
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

    for r in results:
        values = r.values
        no = values.get("employee_no")
        if no and len(numbers[no]) > 1:
            others = ", ".join(str(n) for n in numbers[no] if n != r.row)
            r.error(
                "employee_no", _("Employee number %(no)s also appears in row %(rows)s.") % {"no": no, "rows": others}
            )
        member = existing.get(no) if no else None
        if member is not None:
            if member.branch_id not in writable_ids:
                r.error("employee_no", _("Employee number %(no)s belongs to a member outside your scope.") % {"no": no})
                member = None
            elif not member.is_active:
                r.error(
                    "employee_no", _("%(member)s has left; their record can no longer be edited.") % {"member": member}
                )
                member = None
        r.member = member

        branch = None
        code = values.get("branch")
        if code:
            unit = units.get(code)
            if unit is None:
                r.error("branch", _("No unit has the code %(code)s.") % {"code": code})
            elif not unit.is_branch:
                r.error("branch", _("%(unit)s (%(code)s) is not a party branch.") % {"unit": unit.name, "code": code})
            elif unit.pk not in writable_ids:
                r.error("branch", _("Branch %(code)s is outside your scope.") % {"code": code})
            else:
                branch = unit
        values["branch"] = branch

        group = None
        group_name = values.get("group")
        if group_name and branch is not None:
            group = groups.get((branch.pk, group_name))
            if group is None:
                r.error(
                    "group",
                    _("%(branch)s has no party group named %(group)s.") % {"branch": branch.name, "group": group_name},
                )
        if "group" in values:
            values["group"] = group

        started_on = values.get("started_on") or today
        values["started_on"] = started_on
        if started_on > today:
            r.error("started_on", _("The date cannot be in the future."))
        elif values.get("joined_on") and started_on < values["joined_on"] and (member is None or r.branch_changes):
            r.error("started_on", _("A member enters a branch on or after joining the Party."))
        if member is not None and branch is not None and branch != member.branch:
            began = open_periods.get(member.pk)
            if began is not None and started_on <= began:
                r.error(
                    "started_on",
                    _("The date must be after %(date)s, when the current membership began.")
                    % {"date": began.isoformat()},
                )

        if (
            branch is not None
            and all(values.get(k) for k in ("birth_date", "joined_on", "status", "employee_no"))
            and (not group_name or group is not None)
        ):
            try:
                member_services.member_validate(
                    birth_date=values["birth_date"],
                    joined_on=values["joined_on"],
                    status=values["status"],
                    converted_on=values.get("converted_on"),
                    branch=branch,
                    group=group,
                    employee_no=no,
                    exclude_pk=r.member.pk if r.member else (existing[no].pk if no in existing else None),
                    today=today,
                )
            except ValidationError as exc:
                for key, messages in exc.message_dict.items():
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
    return results


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

UPLOAD_DIR = "roster-imports"
UPLOAD_MAX_AGE = datetime.timedelta(days=1)
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def _upload_path(user_pk: int, token: str) -> str:
    return f"{UPLOAD_DIR}/{user_pk}/{token}.xlsx"


def roster_upload_store(*, user: AbstractBaseUser, file: IO[bytes]) -> str:
    """Keep the uploaded file under a random token in the uploader's own folder (so a
    token is worthless to anyone else); uploads older than a day are removed."""
    import secrets

    from django.core.files.base import File
    from django.core.files.storage import default_storage

    roster_uploads_purge(user=user)
    token = secrets.token_urlsafe(24)
    if hasattr(file, "seek"):
        file.seek(0)
    default_storage.save(_upload_path(user.pk, token), File(file))
    return token


def roster_upload_open(*, user: AbstractBaseUser, token: str) -> IO[bytes] | None:
    """The stored upload of ``user`` under ``token``, or None (also for anyone else's)."""
    from django.core.files.storage import default_storage

    if not TOKEN_RE.match(token):
        return None
    path = _upload_path(user.pk, token)
    if not default_storage.exists(path):
        return None
    return default_storage.open(path, "rb")


def roster_upload_discard(*, user: AbstractBaseUser, token: str) -> None:
    from django.core.files.storage import default_storage

    if TOKEN_RE.match(token):
        default_storage.delete(_upload_path(user.pk, token))


def roster_uploads_purge(*, user: AbstractBaseUser) -> None:
    from django.core.files.storage import default_storage

    folder = f"{UPLOAD_DIR}/{user.pk}"
    try:
        _dirs, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return
    cutoff = timezone.now() - UPLOAD_MAX_AGE
    for name in files:
        path = f"{folder}/{name}"
        try:
            if default_storage.get_modified_time(path) < cutoff:
                default_storage.delete(path)
        except (FileNotFoundError, NotImplementedError):
            continue
