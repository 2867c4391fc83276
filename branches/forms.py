import datetime

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .converters import FIRST_MONTH, LAST_MONTH, month_in_range
from .models import BranchTitle, OrgUnit
from .services import month_label


class CrispyForm(forms.Form):
    submit_label = _("Save")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", self.submit_label))


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class UnitEditForm(CrispyForm):
    name = forms.CharField(label=_("name"), max_length=100)
    brand = forms.CharField(label=_("party-building brand"), max_length=100, required=False)
    brand_description = forms.CharField(
        label=_("brand description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    sort_order = forms.IntegerField(label=_("sort order"), min_value=0, initial=0)
    tier = forms.ChoiceField(label=_("tier"), choices=[("", "—")] + OrgUnit.Tier.choices, required=False)

    def __init__(self, *args, allow_tier: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not allow_tier:
            del self.fields["tier"]


class UnitCreateForm(CrispyForm):
    kind = forms.ChoiceField(label=_("kind"), choices=OrgUnit.Kind.choices)
    name = forms.CharField(label=_("name"), max_length=100)
    code = forms.SlugField(label=_("code"), max_length=40, help_text=_("Letters, digits, - and _ only; unique."))
    brand = forms.CharField(label=_("party-building brand"), max_length=100, required=False)
    established_on = forms.DateField(label=_("established on"), required=False, widget=DateInput())

    def __init__(self, *args, parent: OrgUnit, allowed_kinds: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k, OrgUnit.Kind(k).label) for k in allowed_kinds]

    def clean_code(self):
        code = self.cleaned_data["code"]
        if OrgUnit.objects.filter(code=code).exists():
            raise forms.ValidationError(_("The code %(code)s is already in use.") % {"code": code})
        return code


class TermStartForm(CrispyForm):
    submit_label = _("Start the new term")
    started_on = forms.DateField(label=_("started on"), widget=DateInput(), initial=timezone.localdate)
    length_years = forms.TypedChoiceField(
        label=_("term length (years)"), choices=[(3, "3"), (4, "4"), (5, "5")], coerce=int, initial=3
    )
    note = forms.CharField(label=_("note"), max_length=200, required=False)


class TitleAwardForm(CrispyForm):
    submit_label = _("Award")
    kind = forms.ChoiceField(label=_("title"), choices=BranchTitle.Kind.choices)
    awarded_on = forms.DateField(label=_("awarded on"), widget=DateInput(), initial=timezone.localdate)


class TitleWithdrawForm(CrispyForm):
    submit_label = _("Withdraw the title")
    withdrawn_on = forms.DateField(label=_("withdrawn on"), widget=DateInput(), initial=timezone.localdate)
    reason = forms.CharField(label=_("reason for withdrawal"), max_length=300)


def call_service(form: forms.Form, service, /, **kwargs):
    """Run a service with the form's data; a ``ValidationError`` it raises lands on the
    form (keyed errors on their fields) and the result is None, so the view re-renders."""
    try:
        return service(**kwargs)
    except forms.ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for field, errors in exc.error_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(None, exc)
        return None


def validate_month_in_range(value: datetime.date | None) -> None:
    """A month the system holds (``branches.converters``): year 1 or 9999 is a typing
    slip, never a month to record or grade."""
    if value and not month_in_range(value):
        raise forms.ValidationError(
            _("Choose a month from %(first)s to %(last)s."),
            code="month_range",
            params={"first": month_label(FIRST_MONTH), "last": month_label(LAST_MONTH)},
        )


class MonthField(forms.DateField):
    """``<input type=month>`` (YYYY-MM), cleaned to the first day of the month."""

    input_formats = ["%Y-%m"]
    default_validators = [validate_month_in_range]

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.DateInput(attrs={"type": "month"}, format="%Y-%m"))
        super().__init__(**kwargs)

    def to_python(self, value):
        day = super().to_python(value)
        return day.replace(day=1) if day else day


class TrackingForm(CrispyForm):
    tracked_from = MonthField(
        label=_("tracked from"),
        required=False,
        help_text=_(
            "The first month the system grades and checks this committee and every unit below it. "
            "Earlier months are not tracked: nothing is required in them and they enter no mean or rate. "
            "Leave empty to inherit from the committee above."
        ),
    )


class MonthCloseForm(CrispyForm):
    submit_label = _("Close the month")
    month = MonthField(label=_("month"))
    reason = forms.CharField(label=_("note"), max_length=300, required=False)


class MonthReopenForm(CrispyForm):
    submit_label = _("Reopen the month")
    month = MonthField(label=_("month"))
    reason = forms.CharField(label=_("reason for reopening"), widget=forms.Textarea(attrs={"rows": 3}))
