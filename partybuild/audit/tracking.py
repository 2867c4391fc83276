"""pghistory trackers that also store, in the trigger, what changed.

pghistory's row triggers copy the NEW (or OLD) row into the event table. These add one
column, ``pgh_diff``, computed by the same trigger from OLD and NEW:
``{column: [before, after]}`` for the columns an UPDATE changed, ``[null, value]`` for
every column of an INSERT and ``[value, null]`` for a DELETE. Columns in ``ignored``
(timestamps the row keeps itself) never appear; columns in ``hidden`` (the password
hash) appear as the string ``"hidden"`` when they change and are never copied.

The diff is one ``jsonb_build_object`` term per column, decided when the trigger is
compiled. Because the diff is written by PostgreSQL, ``QuerySet.update()`` and raw SQL are
recorded exactly like a model's ``save()``.
"""

import pghistory
import pgtrigger
from pghistory.trigger import Event as EventTrigger


def _object(pairs: list[tuple[str, str]]) -> str:
    """``jsonb_build_object`` over (key, SQL value) pairs, in chunks under PostgreSQL's
    100-argument limit."""
    chunks = [pairs[i : i + 40] for i in range(0, len(pairs), 40)] or [[]]
    return " || ".join(
        "jsonb_build_object(" + ", ".join(f"'{key}', {value}" for key, value in chunk) + ")" for chunk in chunks
    )


def diff_sql(operation: str, *, columns: list[str], hidden: tuple[str, ...]) -> str:
    """The trigger's ``pgh_diff`` expression, one term per column (no row-to-JSON and no
    join: a few microseconds a row). ``columns`` are those to show; ``hidden`` ones only
    say that they changed."""
    # pgtrigger renders the function with str.format: no braces in here.
    if operation == "INSERT":
        return _object([(c, f'jsonb_build_array(NULL, NEW."{c}")') for c in columns])
    if operation == "DELETE":
        return _object([(c, f'jsonb_build_array(OLD."{c}", NULL)') for c in columns])
    pairs = [
        (c, f'CASE WHEN OLD."{c}" IS DISTINCT FROM NEW."{c}" THEN jsonb_build_array(OLD."{c}", NEW."{c}") END')
        for c in columns
    ] + [(c, f'CASE WHEN OLD."{c}" IS DISTINCT FROM NEW."{c}" THEN to_jsonb(\'hidden\'::text) END') for c in hidden]
    # Unchanged columns are NULL; jsonb_strip_nulls drops them (the arrays keep theirs).
    return f"jsonb_strip_nulls({_object(pairs)})"


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
        tracked = self.event_model.pgh_tracked_model._meta.concrete_model
        skip = set(self.ignored) | set(self.hidden)
        columns = [f.column for f in tracked._meta.concrete_fields if f.column not in skip]
        diff = diff_sql(operation, columns=columns, hidden=self.hidden)
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
