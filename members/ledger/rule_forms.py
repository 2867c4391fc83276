"""The form for a new rule-set version: the version's own fields and one row per rule.

Rule fields are named ``rules-<code>-<field>``, the same keys the service uses in its
``ValidationError``, so ``call_service`` puts each error next to the value it is about.
"""

import datetime
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from branches.forms import validate_month_in_range

from .models import Rule, RuleSetVersion, Source
from .rule_services import EDITABLE_FIELDS, rule_field_key


class MonthInput(forms.DateInput):
    input_type = "month"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m", **kwargs)


class RuleRow:
    """One table row of the form: the rule it starts from and its bound fields."""

    def __init__(self, form: "RuleVersionForm", rule: Rule):
        self.rule = rule
        self.name = form[rule_field_key(rule.code, "name")]
        self.points_min = form[rule_field_key(rule.code, "points_min")]
        self.points_max = form[rule_field_key(rule.code, "points_max")]
        self.monthly_cap = form[rule_field_key(rule.code, "monthly_cap")]
        self.evidence_required = form[rule_field_key(rule.code, "evidence_required")]
        fields = (self.name, self.points_min, self.points_max, self.monthly_cap, self.evidence_required)
        self.errors = [error for field in fields for error in field.errors]


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

    def __init__(self, *args, base: RuleSetVersion, rules: list[Rule], effective_month: datetime.date, **kwargs):
        initial = {
            "effective_month": effective_month,
            "yearly_training_hours": base.yearly_training_hours,
            "note": "",
        }
        for rule in rules:
            for field in EDITABLE_FIELDS:
                initial[rule_field_key(rule.code, field)] = getattr(rule, field)
        super().__init__(*args, initial=initial, **kwargs)
        self.base = base
        self.rules = rules
        number = {"class": "form-control form-control-sm", "step": "0.01"}
        for rule in rules:
            fixed = rule.source == Source.ATTENDANCE
            self.fields[rule_field_key(rule.code, "name")] = forms.CharField(
                label=_("name"), max_length=100, widget=forms.TextInput(attrs={"class": "form-control form-control-sm"})
            )
            self.fields[rule_field_key(rule.code, "points_min")] = forms.DecimalField(
                label=_("points from"),
                max_digits=7,
                decimal_places=2,
                widget=forms.NumberInput(attrs=number),
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
            self.fields[rule_field_key(rule.code, "evidence_required")] = forms.BooleanField(
                label=_("evidence required"),
                required=False,
                widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
            )

    def rows(self) -> list[RuleRow]:
        return [RuleRow(self, rule) for rule in self.rules]

    def service_kwargs(self) -> dict[str, Any]:
        """The cleaned data in the shape ``rule_set_version_create`` takes."""
        data = self.cleaned_data
        return {
            "effective_month": data["effective_month"].replace(day=1),
            "yearly_training_hours": data["yearly_training_hours"],
            "note": data["note"],
            "rules": [
                {"code": rule.code, **{field: data.get(rule_field_key(rule.code, field)) for field in EDITABLE_FIELDS}}
                for rule in self.rules
            ],
        }
