"""pghistory trackers that also store, in the trigger, what changed.

pghistory's row triggers copy the NEW (or OLD) row into the event table. These add one
column, ``pgh_diff``, computed by the same trigger from OLD and NEW:
``{column: [before, after]}`` for the columns an UPDATE changed, ``[null, value]`` for
every column of an INSERT and ``[value, null]`` for a DELETE. Columns in ``ignored``
(timestamps the row keeps itself) never appear; columns in ``hidden`` (the password
hash) appear as the string ``"hidden"`` when they change and are never copied.

Because the diff is written by PostgreSQL, ``QuerySet.update()`` and raw SQL are
recorded exactly like a model's ``save()``.
"""

import pghistory
import pgtrigger
from pghistory.trigger import Event as EventTrigger


def _array(columns: tuple[str, ...]) -> str:
    # pgtrigger renders the function with str.format: no braces in here.
    return "ARRAY[" + ", ".join(f"'{c}'" for c in columns) + "]::text[]"


def diff_sql(operation: str, *, ignored: tuple[str, ...], hidden: tuple[str, ...]) -> str:
    skip = _array(ignored + hidden)
    if operation == "INSERT":
        return (
            "(SELECT jsonb_object_agg(n.key, jsonb_build_array(NULL, n.value)) "
            f"FROM jsonb_each(to_jsonb(NEW)) AS n WHERE n.key <> ALL ({skip}))"
        )
    if operation == "DELETE":
        return (
            "(SELECT jsonb_object_agg(o.key, jsonb_build_array(o.value, NULL)) "
            f"FROM jsonb_each(to_jsonb(OLD)) AS o WHERE o.key <> ALL ({skip}))"
        )
    return (
        "(SELECT jsonb_object_agg(n.key, CASE WHEN n.key = ANY "
        f"({_array(hidden)}) THEN to_jsonb('hidden'::text) ELSE jsonb_build_array(o.value, n.value) END) "
        "FROM jsonb_each(to_jsonb(NEW)) AS n JOIN jsonb_each(to_jsonb(OLD)) AS o ON o.key = n.key "
        f"WHERE n.value IS DISTINCT FROM o.value AND n.key <> ALL ({_array(ignored)}))"
    )


class DiffTrigger(EventTrigger):
    def __init__(self, *, ignored: tuple[str, ...] = (), hidden: tuple[str, ...] = (), **kwargs):
        self.ignored = tuple(ignored)
        self.hidden = tuple(hidden)
        super().__init__(**kwargs)

    def get_func(self, model):
        sql = super().get_func(model).func
        head = f'INSERT INTO "{self.event_model._meta.db_table}" ('
        values = ") VALUES ("
        if sql.count(head) != 1 or sql.count(values) != 1:  # pragma: no cover - pghistory changed
            raise RuntimeError("Unexpected pghistory trigger SQL; cannot add pgh_diff")
        operation = str(self.operation).upper()
        diff = diff_sql(operation, ignored=self.ignored, hidden=self.hidden)
        sql = sql.replace(head, head + '"pgh_diff", ').replace(values, values + diff + ", ")
        return pgtrigger.Func(sql)


class _DiffMixin:
    def __init__(self, label=None, *, ignored=(), hidden=(), **kwargs):
        self.ignored = tuple(ignored)
        self.hidden = tuple(hidden)
        super().__init__(label, **kwargs)

    def add_event_trigger(self, event_model):
        pgtrigger.register(
            DiffTrigger(
                event_model=event_model,
                label=self.label,
                name=self.trigger_name,
                row=self.row,
                operation=self.operation,
                condition=self.condition,
                level=self.level,
                ignored=self.ignored,
                hidden=self.hidden,
            )
        )(event_model.pgh_tracked_model)


class Insert(_DiffMixin, pghistory.InsertEvent):
    pass


class Update(_DiffMixin, pghistory.UpdateEvent):
    pass


class Delete(_DiffMixin, pghistory.DeleteEvent):
    pass
