"""The form for a new rule-set version: the whole scheme of the version it starts from,
pre-filled, in sections (parameters, requirements, scored items, rules).

Field names are the keys the service uses in its ``ValidationError`` — a parameter by
its own name, ``rules-<code>-<field>`` for a rule, ``rules-new<i>-<field>`` for a rule
to add, ``requirements-<i>-<field>`` and ``items-<i>-<field>`` for rows — so each error
lands next to its value; errors about a whole section (``weights``, ``items-<dimension>``
…) are kept in ``section_errors`` for the template to show on that section.

Without JavaScript the form still works: it renders a few blank rows for new rules,
requirements and items (like a formset's extra rows) and a "remove" checkbox per row;
``static/js/rules-form.js`` adds rows from the ``<template>``s and shows live sums. The
form reads back whichever row numbers were posted (at most ``MAX_ROWS`` of each).
"""

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.dates import MONTHS
from django.utils.translation import gettext_lazy as _

from branches.choices import ALWAYS_ENTERED, ActivityKind, AttendanceStatus, Dimension
from branches.forms import validate_month_in_range

from .models import Category, Frequency, MeetingRequirement, Rule, RuleSetVersion, ScoreItem, Source
from .rule_scheme import EDITABLE_FIELDS, GROUP_WEIGHT_FIELDS, WEIGHT_FIELDS, rule_field_key

NEW_RULE_ROWS = 2
NEW_REQUIREMENT_ROWS = 2
NEW_ITEM_ROWS = 2  # per dimension
MAX_ROWS = 60
PREFIX = "__prefix__"  # the row number in the <template> rows, replaced by the script

SMALL = "form-control form-control-sm"
SMALL_SELECT = "form-select form-select-sm"
CHECK = "form-check-input"

# Dimension → its weight field, and the flag that makes a computed one entered.
WEIGHT_OF = dict(zip(Dimension.values, WEIGHT_FIELDS, strict=True))
ENTERED_FLAG = {Dimension.BASICS: "basics_entered", Dimension.MEMBERSHIP: "membership_entered"}


class MonthInput(forms.DateInput):
    input_type = "month"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m", **kwargs)


def _blank_choice(choices) -> list[tuple[str, str]]:
    return [("", "—"), *choices]


def _number(*, max_digits: int = 7, places: int = 2, label=None, **attrs: str) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        max_digits=max_digits,
        decimal_places=places,
        required=False,
        widget=forms.NumberInput(attrs={"class": SMALL, "step": "0.01", **attrs}),
    )


def _check(label, **attrs: str) -> forms.BooleanField:
    return forms.BooleanField(label=label, required=False, widget=forms.CheckboxInput(attrs={"class": CHECK, **attrs}))


# A row's "remove" box: the script greys the row out and leaves it out of the sums.
REMOVE = {"data-row-remove": ""}


def new_rule_fields(key: str) -> dict[str, forms.Field]:
    """The fields of a rule to add, named ``rules-<key>-<field>``."""
    fields = {
        "category": forms.ChoiceField(
            label=_("category"),
            choices=_blank_choice(Category.choices),
            required=False,
            widget=forms.Select(attrs={"class": SMALL_SELECT}),
        ),
        "source": forms.ChoiceField(
            label=_("applies to"),
            choices=Source.choices,
            initial=Source.MANUAL,
            required=False,
            widget=forms.Select(attrs={"class": SMALL_SELECT, "data-rule-source": ""}),
        ),
        "name": forms.CharField(
            label=_("name"), max_length=100, required=False, widget=forms.TextInput(attrs={"class": SMALL})
        ),
        "points_min": _number(label=_("points from")),
        "points_max": _number(label=_("points up to")),
        "monthly_cap": _number(label=_("monthly cap")),
        "evidence_required": _check(_("evidence required")),
        "per_class_hour": _check(_("per class hour")),
        "activity_kinds": forms.MultipleChoiceField(
            label=_("activity kinds"),
            choices=ActivityKind.choices,
            required=False,
            widget=forms.CheckboxSelectMultiple,
        ),
        "attendance_statuses": forms.MultipleChoiceField(
            label=_("attendance statuses"),
            choices=AttendanceStatus.choices,
            required=False,
            widget=forms.CheckboxSelectMultiple,
        ),
    }
    return {rule_field_key(key, name): f for name, f in fields.items()}


def requirement_fields(index: str) -> dict[str, forms.Field]:
    fields = {
        "kind": forms.ChoiceField(
            label=_("activity kind"),
            choices=_blank_choice(ActivityKind.choices),
            required=False,
            widget=forms.Select(attrs={"class": SMALL_SELECT}),
        ),
        "frequency": forms.ChoiceField(
            label=_("how often"),
            choices=_blank_choice(Frequency.choices),
            required=False,
            widget=forms.Select(attrs={"class": SMALL_SELECT}),
        ),
        "per_group": _check(_("once per party group")),
        "due_month": forms.TypedChoiceField(
            label=_("due by month"),
            choices=_blank_choice([(str(m), MONTHS[m]) for m in range(1, 13)]),
            coerce=int,
            empty_value=None,
            required=False,
            widget=forms.Select(attrs={"class": SMALL_SELECT}),
        ),
        "remove": _check(_("remove"), **REMOVE),
    }
    return {f"requirements-{index}-{name}": f for name, f in fields.items()}


def item_fields(index: str) -> dict[str, forms.Field]:
    fields = {
        "dimension": forms.CharField(required=False, widget=forms.HiddenInput(attrs={"data-item-dimension": ""})),
        "code": forms.CharField(required=False, widget=forms.HiddenInput),
        "name": forms.CharField(
            label=_("name"), max_length=200, required=False, widget=forms.TextInput(attrs={"class": SMALL})
        ),
        "max_score": _number(max_digits=5, label=_("maximum score"), **{"data-summed": ""}),
        "fed_by": forms.ChoiceField(
            label=_("scored from"),
            choices=ScoreItem.FedBy.choices,
            required=False,
            widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
        ),
        "remove": _check(_("remove"), **REMOVE),
    }
    return {f"items-{index}-{name}": f for name, f in fields.items()}


def _posted_rows(data: Mapping[str, Any] | None, pattern: str) -> list[int] | None:
    """The row numbers posted for ``pattern`` (``rules-new(\\d+)-``), None when unbound."""
    if data is None:
        return None
    regex = re.compile(pattern)
    return sorted({int(m.group(1)) for key in data if (m := regex.match(key))})[:MAX_ROWS]


# --- rows as the template reads them ---------------------------------------------------------


class _Row:
    names: tuple[str, ...] = ()

    def __init__(self, form: forms.Form, prefix: str):
        self.prefix = prefix
        for name in self.names:
            setattr(self, name, form[f"{prefix}{name}"])
        self.errors = [error for name in self.names for error in getattr(self, name).errors]


class RuleRow(_Row):
    """An existing rule: its values to edit and whether to retire it."""

    names = (*EDITABLE_FIELDS, "retire")

    def __init__(self, form: forms.Form, rule: Rule):
        self.rule = rule
        super().__init__(form, f"rules-{rule.code}-")


class NewRuleRow(_Row):
    names = (
        "category",
        "source",
        "name",
        "points_min",
        "points_max",
        "monthly_cap",
        "evidence_required",
        "per_class_hour",
        "activity_kinds",
        "attendance_statuses",
    )

    def __init__(self, form: forms.Form, key: str):
        self.key = key
        super().__init__(form, f"rules-{key}-")


class RequirementRow(_Row):
    names = ("kind", "frequency", "per_group", "due_month", "remove")

    def __init__(self, form: forms.Form, index: str):
        self.index = index
        super().__init__(form, f"requirements-{index}-")


class ItemRow(_Row):
    names = ("dimension", "code", "name", "max_score", "fed_by", "remove")

    def __init__(self, form: forms.Form, index: str):
        self.index = index
        super().__init__(form, f"items-{index}-")


@dataclass
class DimensionSection:
    """One dimension in the form: its weight, whether the committee enters it, and its
    scored items."""

    dimension: str
    label: str
    weight: forms.BoundField
    entered_flag: forms.BoundField | None
    always_entered: bool
    items: list[ItemRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def has_items(self) -> bool:
        return bool(self.items) and any(row.name.value() or row.code.value() for row in self.items)


class RowTemplates(forms.Form):
    """The blank rows the script copies (one of each), numbered ``__prefix__``."""

    def __init__(self):
        super().__init__()
        self.fields.update(new_rule_fields(f"new{PREFIX}"))
        self.fields.update(requirement_fields(PREFIX))
        self.fields.update(item_fields(PREFIX))

    def new_rule(self) -> NewRuleRow:
        return NewRuleRow(self, f"new{PREFIX}")

    def requirement(self) -> RequirementRow:
        return RequirementRow(self, PREFIX)

    def item(self) -> ItemRow:
        return ItemRow(self, PREFIX)


def parameter_field(name: str) -> forms.Field:
    """A grading parameter's form field, from its model field (label, digits, help)."""
    form_field = RuleSetVersion._meta.get_field(name).formfield()
    if isinstance(form_field, forms.BooleanField):
        form_field.widget.attrs["class"] = CHECK
    else:
        form_field.widget.attrs["class"] = "form-control"
    if name in WEIGHT_FIELDS:
        form_field.widget.attrs["class"] = SMALL
    if name in (*WEIGHT_FIELDS, *GROUP_WEIGHT_FIELDS):
        form_field.widget.attrs["data-summed"] = ""
    return form_field


class RuleVersionForm(forms.Form):
    effective_month = forms.DateField(
        label=_("effective from month"),
        input_formats=["%Y-%m", "%Y-%m-%d"],
        widget=MonthInput(attrs={"class": "form-control"}),
        validators=[validate_month_in_range],
        help_text=_("The new rules apply from the first day of this month; earlier months keep theirs."),
    )
    yearly_training_hours = forms.DecimalField(
        label=_("required training hours a year"),
        max_digits=6,
        decimal_places=1,
        min_value=0,
        widget=forms.NumberInput(attrs={"class": "form-control", "step": "0.5"}),
    )
    note = forms.CharField(
        label=_("note"),
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control"}),
        help_text=_("What changes and why, for the record."),
    )

    # Errors that are about a section rather than one value.
    SECTION_KEYS = ("weights", "group_weights", "rules", "requirements", "score_items")

    def __init__(
        self,
        data=None,
        *,
        base: RuleSetVersion,
        rules: list[Rule],
        requirements: list[MeetingRequirement],
        items: list[ScoreItem],
        effective_month: datetime.date,
        **kwargs,
    ):
        initial: dict[str, Any] = {
            "effective_month": effective_month,
            "yearly_training_hours": base.yearly_training_hours,
            "note": "",
        }
        for name in RuleSetVersion.GRADING_FIELDS:
            initial[name] = getattr(base, name)
        for rule in rules:
            for name in EDITABLE_FIELDS:
                initial[rule_field_key(rule.code, name)] = getattr(rule, name)
        super().__init__(data, initial=initial, **kwargs)
        self.base = base
        self.rules = rules
        self.section_errors: dict[str, list[str]] = {}

        for name in RuleSetVersion.GRADING_FIELDS:
            self.fields[name] = parameter_field(name)
        self._add_rule_fields(rules)

        # Rows: as posted, or the base version's followed by a few blank ones.
        new_rules = _posted_rows(data, r"^rules-new(\d{1,4})-")
        self.new_rule_keys = [f"new{i}" for i in (range(NEW_RULE_ROWS) if new_rules is None else new_rules)]
        for key in self.new_rule_keys:
            self.fields.update(new_rule_fields(key))

        self.requirement_indices = _posted_rows(data, r"^requirements-(\d{1,4})-")
        if self.requirement_indices is None:
            self.requirement_indices = list(range(len(requirements) + NEW_REQUIREMENT_ROWS))
            for i, requirement in enumerate(requirements):
                for name in ("kind", "frequency", "per_group", "due_month"):
                    self.initial[f"requirements-{i}-{name}"] = getattr(requirement, name)
        for i in self.requirement_indices:
            self.fields.update(requirement_fields(str(i)))

        self.item_indices = _posted_rows(data, r"^items-(\d{1,4})-")
        if self.item_indices is None:
            self.item_indices = []
            for i, item in enumerate(items):
                self.item_indices.append(i)
                for name in ("dimension", "code", "name", "max_score", "fed_by"):
                    self.initial[f"items-{i}-{name}"] = getattr(item, name)
            following = len(items)
            for dimension in Dimension.values:
                for _n in range(NEW_ITEM_ROWS):
                    self.item_indices.append(following)
                    self.initial[f"items-{following}-dimension"] = dimension
                    following += 1
        for i in self.item_indices:
            self.fields.update(item_fields(str(i)))

    def _add_rule_fields(self, rules: list[Rule]) -> None:
        number = {"class": SMALL, "step": "0.01"}
        for rule in rules:
            fixed = rule.source == Source.ATTENDANCE
            self.fields[rule_field_key(rule.code, "name")] = forms.CharField(
                label=_("name"), max_length=100, widget=forms.TextInput(attrs={"class": SMALL})
            )
            self.fields[rule_field_key(rule.code, "points_min")] = forms.DecimalField(
                label=_("points from"), max_digits=7, decimal_places=2, widget=forms.NumberInput(attrs=number)
            )
            self.fields[rule_field_key(rule.code, "points_max")] = forms.DecimalField(
                label=_("points up to"),
                max_digits=7,
                decimal_places=2,
                widget=forms.NumberInput(attrs=number | ({"title": _("Fixed: the same as from")} if fixed else {})),
            )
            self.fields[rule_field_key(rule.code, "monthly_cap")] = forms.DecimalField(
                label=_("monthly cap"),
                max_digits=7,
                decimal_places=2,
                required=False,
                widget=forms.NumberInput(attrs=number),
            )
            self.fields[rule_field_key(rule.code, "evidence_required")] = _check(_("evidence required"))
            self.fields[rule_field_key(rule.code, "retire")] = _check(_("retire"), **REMOVE)

    # --- what the template reads ---------------------------------------------------------

    def rows(self) -> list[RuleRow]:
        return [RuleRow(self, rule) for rule in self.rules]

    def new_rule_rows(self) -> list[NewRuleRow]:
        return [NewRuleRow(self, key) for key in self.new_rule_keys]

    def requirement_rows(self) -> list[RequirementRow]:
        return [RequirementRow(self, str(i)) for i in self.requirement_indices]

    def next_requirement_index(self) -> int:
        return max(self.requirement_indices, default=-1) + 1

    def next_item_index(self) -> int:
        return max(self.item_indices, default=-1) + 1

    def next_new_rule_index(self) -> int:
        return max((int(key[3:]) for key in self.new_rule_keys), default=-1) + 1

    def dimensions(self) -> list[DimensionSection]:
        sections = {
            dimension: DimensionSection(
                dimension=dimension,
                label=str(label),
                weight=self[WEIGHT_OF[dimension]],
                entered_flag=self[ENTERED_FLAG[dimension]] if dimension in ENTERED_FLAG else None,
                always_entered=dimension in ALWAYS_ENTERED,
                errors=self.section_errors.get(f"items-{dimension}", []),
            )
            for dimension, label in Dimension.choices
        }
        for i in self.item_indices:
            row = ItemRow(self, str(i))
            section = sections.get(row.dimension.value() or "")
            if section is not None:
                section.items.append(row)
        return list(sections.values())

    def has_errors(self) -> bool:
        return bool(self.errors or self.section_errors)

    def _post_clean(self) -> None:
        super()._post_clean()
        self._mark_invalid()

    def _mark_invalid(self) -> None:
        """Bootstrap's red border on every field with an error."""
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                classes = widget.attrs.get("class", "")
                if "is-invalid" not in classes.split():
                    widget.attrs["class"] = f"{classes} is-invalid".strip()

    # --- into the service and back -----------------------------------------------------------

    def add_service_errors(self, exc: ValidationError) -> None:
        """Put the service's errors next to their fields, on their section, or on top."""
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc)
            return
        for key, errors in exc.error_dict.items():
            if key in self.fields:
                self.add_error(key, errors)
            elif key in self.SECTION_KEYS or key.startswith("items-"):
                self.section_errors.setdefault(key, []).extend(m for e in errors for m in e.messages)
            else:
                self.add_error(None, errors)
        self._mark_invalid()

    def service_kwargs(self) -> dict[str, Any]:
        """The cleaned data in the shape ``rule_set_version_create`` takes."""
        data = self.cleaned_data
        rules: list[dict[str, Any]] = [
            {
                "code": rule.code,
                **{name: data.get(rule_field_key(rule.code, name)) for name in EDITABLE_FIELDS},
                "retire": bool(data.get(rule_field_key(rule.code, "retire"))),
            }
            for rule in self.rules
        ]
        for key in self.new_rule_keys:
            row = {name: data.get(rule_field_key(key, name)) for name in NewRuleRow.names}
            filled = [row[n] for n in ("category", "name", "points_min", "points_max", "monthly_cap")]
            if any(v not in (None, "") for v in filled) or row["activity_kinds"] or row["attendance_statuses"]:
                rules.append({"key": key, **row})
        requirements = []
        for i in self.requirement_indices:
            row = {name: data.get(f"requirements-{i}-{name}") for name in RequirementRow.names}
            if row.pop("remove") or not row["kind"]:
                continue
            requirements.append({"key": str(i), **row})
        items = []
        for i in self.item_indices:
            row = {name: data.get(f"items-{i}-{name}") for name in ItemRow.names}
            if row.pop("remove") or not (row["code"] or row["name"] or row["max_score"] is not None):
                continue
            items.append({"key": str(i), **row})
        return {
            "effective_month": data["effective_month"].replace(day=1),
            "yearly_training_hours": data["yearly_training_hours"],
            "note": data["note"],
            "parameters": {name: data.get(name) for name in RuleSetVersion.GRADING_FIELDS},
            "rules": rules,
            "requirements": requirements,
            "score_items": items,
        }
