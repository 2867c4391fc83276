"""How a rule-set version differs from the one before it (reads): the parameters that
changed (old → new), and the rules, meeting requirements and scored items added,
changed or retired. Values are given as they read on a page, in the active language.

Rules and items are matched by code (a code means one rule or item for the whole life
of a rule set), requirements by activity kind (one per kind in a version).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils.dates import MONTHS
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from branches.choices import Dimension

from .models import MeetingRequirement, Rule, RuleSetVersion, ScoreItem
from .rule_scheme import YEAR_STAR_FIELDS

# The parameters a version holds, in the order a page lists them.
PARAMETER_FIELDS = ("yearly_training_hours", *RuleSetVersion.GRADING_FIELDS)


@dataclass(frozen=True)
class Change:
    label: str
    old: str
    new: str


@dataclass
class RowChanges:
    """Rows added, changed (new row, old row, what changed) and removed."""

    added: list[Any] = field(default_factory=list)
    changed: list[tuple[Any, Any, list[Change]]] = field(default_factory=list)
    removed: list[Any] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.changed or self.removed)


@dataclass
class VersionChanges:
    version: RuleSetVersion
    previous: RuleSetVersion | None
    parameters: list[Change]
    rules: RowChanges
    requirements: RowChanges
    items: RowChanges

    @property
    def is_empty(self) -> bool:
        return not self.parameters and self.rules.is_empty and self.requirements.is_empty and self.items.is_empty


def number_text(value: Decimal | int) -> str:
    """100, 99.5, -2: no trailing zeros."""
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return str(value)


def yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


def due_month_text(month: int | None) -> str:
    return str(MONTHS[month]) if month in MONTHS else "—"


def parameter_text(name: str, value: Any) -> str:
    """A version's parameter as it reads on a page."""
    if isinstance(RuleSetVersion._meta.get_field(name), models.BooleanField):
        return yes_no(value)
    if value is None:
        return _("twelve times the month's") if name in YEAR_STAR_FIELDS else "—"
    return number_text(value)


def parameter_label(name: str) -> str:
    return capfirst(str(RuleSetVersion._meta.get_field(name).verbose_name))


def _field_label(model: type[models.Model], name: str) -> str:
    return capfirst(str(model._meta.get_field(name).verbose_name))


def _cap_text(cap: Decimal | None) -> str:
    return _("no cap") if cap is None else number_text(cap)


# What is compared for each kind of row: (field, how its value reads).
RULE_FIELDS: list[tuple[str, Callable[[Rule], str]]] = [
    ("name", lambda r: r.name),
    ("category", lambda r: str(r.get_category_display())),
    ("source", lambda r: str(r.get_source_display())),
    ("activity_kinds", lambda r: "、".join(map(str, r.kind_labels())) or "—"),
    ("attendance_statuses", lambda r: "、".join(map(str, r.status_labels())) or "—"),
    ("per_class_hour", lambda r: yes_no(r.per_class_hour)),
    ("points_min", lambda r: number_text(r.points_min)),
    ("points_max", lambda r: number_text(r.points_max)),
    ("monthly_cap", lambda r: _cap_text(r.monthly_cap)),
    ("evidence_required", lambda r: yes_no(r.evidence_required)),
]
REQUIREMENT_FIELDS: list[tuple[str, Callable[[MeetingRequirement], str]]] = [
    ("frequency", lambda r: str(r.get_frequency_display())),
    ("per_group", lambda r: yes_no(r.per_group)),
    ("due_month", lambda r: due_month_text(r.due_month)),
]
ITEM_FIELDS: list[tuple[str, Callable[[ScoreItem], str]]] = [
    ("dimension", lambda i: str(i.get_dimension_display())),
    ("name", lambda i: i.name),
    ("max_score", lambda i: number_text(i.max_score)),
    ("fed_by", lambda i: str(i.get_fed_by_display())),
]


def _row_changes(
    old_rows: Iterable[Any],
    new_rows: Iterable[Any],
    *,
    key: Callable[[Any], str],
    model: type[models.Model],
    fields: list[tuple[str, Callable[[Any], str]]],
) -> RowChanges:
    old = {key(row): row for row in old_rows}
    new = {key(row): row for row in new_rows}
    result = RowChanges()
    for k, row in new.items():
        if k not in old:
            result.added.append(row)
            continue
        changes = [
            Change(_field_label(model, name), text(old[k]), text(row))
            for name, text in fields
            if text(old[k]) != text(row)
        ]
        if changes:
            result.changed.append((row, old[k], changes))
    result.removed = [row for k, row in old.items() if k not in new]
    return result


def previous_version(versions: list[RuleSetVersion], version: RuleSetVersion) -> RuleSetVersion | None:
    """Of ``versions`` (one rule set's, any order), the one in force before ``version``."""
    earlier = [v for v in versions if v.effective_month < version.effective_month]
    return max(earlier, key=lambda v: v.effective_month, default=None)


def version_changes(*, version: RuleSetVersion, previous: RuleSetVersion | None) -> VersionChanges:
    """What ``version`` changed from ``previous`` (None: the first version, all added).
    Three queries: the two versions' rules, requirements and items together."""
    ids = [version.pk] + ([previous.pk] if previous is not None else [])

    def split(rows: Iterable[Any]) -> tuple[list[Any], list[Any]]:
        rows = list(rows)
        return [r for r in rows if r.version_id != version.pk], [r for r in rows if r.version_id == version.pk]

    old_rules, new_rules = split(Rule.objects.filter(version_id__in=ids).order_by("sort_order", "code"))
    old_reqs, new_reqs = split(MeetingRequirement.objects.filter(version_id__in=ids).order_by("sort_order", "pk"))
    board_order = {dimension: i for i, dimension in enumerate(Dimension.values)}
    old_items, new_items = split(
        sorted(
            ScoreItem.objects.filter(version_id__in=ids),
            key=lambda i: (board_order.get(i.dimension, 99), i.sort_order, i.pk),
        )
    )
    parameters = []
    if previous is not None:
        parameters = [
            Change(parameter_label(name), parameter_text(name, getattr(previous, name)), parameter_text(name, value))
            for name in PARAMETER_FIELDS
            if (value := getattr(version, name)) != getattr(previous, name)
        ]
    return VersionChanges(
        version=version,
        previous=previous,
        parameters=parameters,
        rules=_row_changes(old_rules, new_rules, key=lambda r: r.code, model=Rule, fields=RULE_FIELDS),
        requirements=_row_changes(
            old_reqs, new_reqs, key=lambda r: r.kind, model=MeetingRequirement, fields=REQUIREMENT_FIELDS
        ),
        items=_row_changes(old_items, new_items, key=lambda i: i.code, model=ScoreItem, fields=ITEM_FIELDS),
    )
