"""Reading the audit trail: one page of events across every event table, newest first.

The page is one ``UNION ALL`` of the event tables, each filtered on its own indexes
(``(pgh_created_at, pgh_id)``, ``pgh_obj_id``, ``pgh_context_id``) and ordered by time,
so PostgreSQL merges the tables' index scans and stops after the page (no count of the
whole trail: the page asks for one row more to know whether an older page exists).
Then one query for the page's contexts and one per object type on the page for the
objects' names: a page costs at most 2 + the number of tracked types, whatever its size.
"""

import datetime
import json
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from pghistory.models import Context

from branches.services import month_label

from .models import TRACKED, Tracked

PER_PAGE = 50


@dataclass
class Filters:
    kind: str = ""
    username: str = ""
    since: datetime.date | None = None
    until: datetime.date | None = None
    object_id: int | None = None


@dataclass
class Change:
    field: str
    before: str
    after: str
    hidden: bool = False


@dataclass
class AuditRow:
    tracked: Tracked
    event_id: int
    at: datetime.datetime
    label: str
    object_id: int | None
    context_id: Any
    diff: dict
    context: dict = field(default_factory=dict)
    object_name: str = ""
    changes: list[Change] = field(default_factory=list)

    @property
    def who(self) -> str:
        c = self.context
        return c.get("username") or ""

    @property
    def source(self) -> str:
        """A task's or a command's name, where no request made the change."""
        c = self.context
        if c.get("task"):
            return _("task %(name)s") % {"name": c["task"]}
        if c.get("command"):
            return _("command %(name)s") % {"name": c["command"]}
        return ""


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _select(tracked: Tracked, filters: Filters) -> tuple[str, list]:
    table = tracked.event_model._meta.db_table
    where, params = [], [tracked.key]
    if filters.username:
        where.append("e.pgh_context_id IN (SELECT c.id FROM pghistory_context c WHERE c.metadata ->> 'username' = %s)")
        params.append(filters.username)
    if filters.since:
        where.append("e.pgh_created_at >= %s")
        params.append(_day_start(filters.since))
    if filters.until:
        where.append("e.pgh_created_at < %s")
        params.append(_day_start(filters.until + datetime.timedelta(days=1)))
    if filters.object_id is not None:
        where.append("e.pgh_obj_id = %s")
        params.append(filters.object_id)
    sql = (
        "SELECT %s AS kind, e.pgh_id, e.pgh_created_at, e.pgh_label, CAST(e.pgh_obj_id AS bigint) AS obj_id, "
        f'e.pgh_context_id, e.pgh_diff FROM "{table}" e'
    )
    if where:
        sql += " WHERE " + " AND ".join(where)
    return sql, params


def audit_events(filters: Filters, *, page: int = 1, per_page: int = PER_PAGE) -> tuple[list[AuditRow], bool]:
    """One page of events (newest first) and whether an older page exists."""
    if connection.vendor != "postgresql":
        return [], False
    kinds = [TRACKED[filters.kind]] if filters.kind in TRACKED else list(TRACKED.values())
    parts, params = [], []
    for tracked in kinds:
        sql, part_params = _select(tracked, filters)
        parts.append(f"({sql} ORDER BY e.pgh_created_at DESC, e.pgh_id DESC LIMIT %s)")
        params += [*part_params, page * per_page + 1]
    query = (
        "SELECT * FROM (" + " UNION ALL ".join(parts) + ") AS events"
        " ORDER BY pgh_created_at DESC, pgh_id DESC, kind LIMIT %s OFFSET %s"
    )
    params += [per_page + 1, (page - 1) * per_page]
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        fetched = cursor.fetchall()
    has_older = len(fetched) > per_page
    rows = [
        AuditRow(
            tracked=TRACKED[kind],
            event_id=pgh_id,
            at=at,
            label=label,
            object_id=obj_id,
            context_id=context_id,
            diff=_json(diff),
        )
        for kind, pgh_id, at, label, obj_id, context_id, diff in fetched[:per_page]
    ]
    _attach_contexts(rows)
    _attach_objects(rows)
    for row in rows:
        row.changes = changes(row.tracked, row.diff)
    return rows, has_older


def _json(value) -> dict:
    # Django leaves jsonb from a raw cursor as text.
    if isinstance(value, str | bytes):
        value = json.loads(value)
    return value if isinstance(value, dict) else {}


def _attach_contexts(rows: list[AuditRow]) -> None:
    ids = {row.context_id for row in rows if row.context_id}
    contexts = dict(Context.objects.filter(id__in=ids).values_list("id", "metadata")) if ids else {}
    for row in rows:
        row.context = contexts.get(row.context_id) or {}


def _attach_objects(rows: list[AuditRow]) -> None:
    by_kind: dict[str, set[int]] = {}
    for row in rows:
        if row.object_id is not None:
            by_kind.setdefault(row.tracked.key, set()).add(row.object_id)
    names: dict[tuple[str, int], str] = {}
    for key, ids in by_kind.items():
        tracked = TRACKED[key]
        objects = tracked.model._default_manager.select_related(*tracked.related).in_bulk(ids)
        for pk, obj in objects.items():
            names[key, pk] = object_name(tracked, obj)
    for row in rows:
        row.object_name = names.get((row.tracked.key, row.object_id), "")


def object_name(tracked: Tracked, obj) -> str:
    """What the object is called, months written as the rest of the system writes them."""
    key = tracked.key
    if key == "user_group":
        return f"{obj.user.get_username()} · {obj.group.name}"
    if key == "user_permission":
        return f"{obj.user.get_username()} · {obj.permission.codename}"
    if key == "committee_month":
        return f"{obj.committee} · {month_label(obj.month)}"
    if key == "publication":
        return f"{obj.committee} · {month_label(obj.month)} · v{obj.version}"
    if key == "score_input":
        item = f" · {obj.item.name}" if obj.item_id else ""
        return f"{obj.branch} · {month_label(obj.month)} · {obj.get_dimension_display()}{item}"
    if key == "annual_grade":
        return f"{obj.branch} · {obj.year}"
    if key == "rule_set_version":
        return f"{obj.rule_set} v{obj.number} · {month_label(obj.effective_month)}"
    return str(obj)


def _show(model_field, value) -> str:
    if value is None or value == "":
        return "—"
    if model_field is not None and model_field.choices and not model_field.is_relation:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if model_field is not None and model_field.get_internal_type() == "DateTimeField" and isinstance(value, str):
        try:
            moment = datetime.datetime.fromisoformat(value)
        except ValueError:
            return value
        return date_format(timezone.localtime(moment), "Y-m-d H:i:s")
    if isinstance(value, list | dict):
        return ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
    return str(value)


def changes(tracked: Tracked, diff: dict) -> list[Change]:
    """The diff's fields in the model's order, with their names and readable values."""
    fields = {f.column: f for f in tracked.model._meta.concrete_fields}
    order = {column: i for i, column in enumerate(fields)}
    out = []
    for column in sorted(diff, key=lambda c: order.get(c, len(order))):
        model_field = fields.get(column)
        name = str(model_field.verbose_name) if model_field is not None else column
        value = diff[column]
        if not isinstance(value, list) or len(value) != 2:
            out.append(Change(field=name, before="", after="", hidden=True))
            continue
        out.append(Change(field=name, before=_show(model_field, value[0]), after=_show(model_field, value[1])))
    return out
