"""Forms of the ledger pages. They check the shape of the input; the rules of the ledger
(range, cap, evidence, closed months, rule versions) are the service's and reach the form
through ``call_service``."""

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from branches.converters import month_in_range
from branches.forms import CrispyForm, validate_month_in_range

# The attachment checks of activities, reused so evidence and activity photos accept the
# same files. The one import from the app above; a shared upload module would be tidier.
from branches.uploads import MAX_ATTACHMENT_BYTES, check_upload
from members.models import Member

from .models import Category, Rule, Source
from .services import WORKFLOW_SOURCES, rule_version_for

MONTH_FORMAT = "%Y-%m"


class MonthInput(forms.DateInput):
    """``<input type="month">``: the browser's month picker, submitting ``YYYY-MM``."""

    input_type = "month"

    def __init__(self, **kwargs):
        super().__init__(format=MONTH_FORMAT, **kwargs)


class MonthField(forms.DateField):
    """A month as the first day of it."""

    widget = MonthInput
    input_formats = [MONTH_FORMAT]
    default_validators = [validate_month_in_range]

    def to_python(self, value):
        day = super().to_python(value)
        return day.replace(day=1) if day else day


def parse_month(value: str | None) -> datetime.date | None:
    """A ``YYYY-MM`` query parameter as a month the system holds, or None."""
    try:
        month = datetime.datetime.strptime(value or "", MONTH_FORMAT).date()
    except ValueError:
        return None
    return month if month_in_range(month) else None


def this_month() -> datetime.date:
    return timezone.localdate().replace(day=1)


def points_label(rule: Rule) -> str:
    if rule.is_fixed:
        points = f"{rule.points_min:+.2f}"
    else:
        points = _("%(low)s to %(high)s") % {"low": f"{rule.points_min:+.2f}", "high": f"{rule.points_max:+.2f}"}
    if rule.monthly_cap is None:
        return points
    return _("%(points)s, at most %(cap)s a month") % {"points": points, "cap": f"{rule.monthly_cap:.2f}"}


class RuleChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, rule: Rule) -> str:
        label = _("%(name)s (%(points)s)") % {"name": rule.name, "points": points_label(rule)}
        if rule.evidence_required:
            label = _("%(rule)s — evidence required") % {"rule": label}
        return label


class RuleSelect(forms.Select):
    """Each option carries the rule's fixed points, if it has them, for the page's
    script to fill in the points field."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        rule = getattr(value, "instance", None)
        if rule is not None and rule.is_fixed:
            option["attrs"]["data-points"] = f"{rule.points_min:.2f}"
        return option


class EntryRecordForm(CrispyForm):
    """A manual award or deduction. The rules offered are those of the version in force
    for the chosen month, attendance rules left out (attendance posts its own points)."""

    submit_label = _("Record")
    month = MonthField(label=_("month"), initial=this_month)
    rule = RuleChoiceField(label=_("rule"), queryset=Rule.objects.none(), widget=RuleSelect)
    points = forms.DecimalField(
        label=_("points"),
        max_digits=7,
        decimal_places=2,
        required=False,
        help_text=_("Filled in for rules with fixed points; a deduction is negative."),
    )
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    evidence = forms.FileField(label=_("evidence"), required=False)

    def __init__(self, *args, member: Member, refresh_url: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.helper.form_id = "record-form"
        # Set here, not on the field, so the message is translated when the page is shown.
        self.fields["evidence"].help_text = _("A photo (JPG, PNG) or a PDF of at most %(mb)s MB.") % {
            "mb": MAX_ATTACHMENT_BYTES // (1024 * 1024)
        }
        self.version_error: ValidationError | None = None
        month = parse_month(self.data.get("month")) if self.is_bound else None
        month = month or self.initial.get("month") or this_month()
        try:
            version = rule_version_for(unit=member.branch, month=month)
        except ValidationError as exc:
            self.version_error = exc
        else:
            self.fields["rule"].queryset = version.rules.exclude(
                source__in=[Source.ATTENDANCE, *WORKFLOW_SOURCES]
            ).order_by("sort_order", "code")
        if refresh_url:
            # Another month may have another rule set version: reload the rule list.
            self.fields["month"].widget.attrs.update(
                {
                    "hx-get": refresh_url,
                    "hx-trigger": "change",
                    "hx-target": "#record-form",
                    "hx-select": "#record-form",
                    "hx-swap": "outerHTML",
                    # Keep what was typed so far across the reload (not the CSRF token: this is a GET).
                    "hx-include": "#id_points, #id_reason",
                }
            )

    def clean_month(self):
        month = self.cleaned_data["month"]
        if month > this_month():
            raise ValidationError(_("Points are recorded for this month or an earlier one."))
        return month

    def clean_evidence(self):
        evidence = self.cleaned_data.get("evidence")
        if evidence:
            check_upload(evidence)
        return evidence

    def clean(self):
        cleaned = super().clean()
        if self.version_error is not None:
            raise self.version_error
        rule = cleaned.get("rule")
        if rule is not None and cleaned.get("points") is None and "points" not in self.errors:
            if rule.is_fixed:
                cleaned["points"] = rule.points_min
            else:
                self.add_error(
                    "points",
                    _("Enter the points: %(rule)s allows %(low)s to %(high)s.")
                    % {"rule": rule.name, "low": rule.points_min, "high": rule.points_max},
                )
        return cleaned


class EntryReverseForm(CrispyForm):
    submit_label = _("Record the reversal")
    reason = forms.CharField(
        label=_("reason for the correction"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )


class EntryFilterForm(forms.Form):
    """The entry list's filters. Member and branch arrive as ids; the view resolves them
    through the access functions, so an id outside the user's scope is a 404."""

    member = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)
    branch = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)
    month = MonthField(label=_("month"), required=False)
    category = forms.ChoiceField(
        label=_("category"), choices=[("", _("All categories"))] + Category.choices, required=False
    )
    rule = forms.SlugField(label=_("rule code"), max_length=40, required=False)
