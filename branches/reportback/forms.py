from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from branches.forms import CrispyForm, DateInput, MonthField

from .models import Setup

SLOTS = (1, 2, 3)


class SetupForm(forms.Form):
    """The committee's report-back: cycle, scoring, quarter themes, up to three
    categories with their quotas, and each unit's category (or none: not in the pool)."""

    cycle_start = MonthField(label=_("First month of the first cycle"))
    cycle_months = forms.IntegerField(label=_("Months per cycle"), min_value=1, max_value=24, initial=6)
    draw_day = forms.IntegerField(
        label=_("Draw day"),
        min_value=1,
        max_value=28,
        initial=20,
        help_text=_("The scheduled draw runs on this day of the month (or the next morning it can)."),
    )
    scoring = forms.ChoiceField(label=_("Unit score"), choices=Setup.Scoring.choices, initial=Setup.Scoring.TRIMMED)
    theme_q1 = forms.CharField(label=_("Theme of the first quarter"), max_length=100)
    theme_q2 = forms.CharField(label=_("Theme of the second quarter"), max_length=100)
    theme_q3 = forms.CharField(label=_("Theme of the third quarter"), max_length=100)
    theme_q4 = forms.CharField(label=_("Theme of the fourth quarter"), max_length=100)

    def __init__(self, *args, units, category_names: dict[int, str], **kwargs):
        super().__init__(*args, **kwargs)
        for slot in SLOTS:
            self.fields[f"cat{slot}_name"] = forms.CharField(
                label=_("Category %(n)s") % {"n": slot}, max_length=50, required=False
            )
            self.fields[f"cat{slot}_quota"] = forms.IntegerField(
                label=_("Units per month"), min_value=1, max_value=500, required=False
            )
        choices = [("", _("— not in the pool"))] + [
            (str(slot), category_names.get(slot) or _("Category %(n)s") % {"n": slot}) for slot in SLOTS
        ]
        self.units = list(units)
        for unit in self.units:
            self.fields[f"unit_{unit.pk}"] = forms.TypedChoiceField(
                label=unit.name, choices=choices, required=False, coerce=int, empty_value=None
            )

    def category_rows(self):
        return [(self[f"cat{slot}_name"], self[f"cat{slot}_quota"]) for slot in SLOTS]

    def unit_rows(self):
        return [(unit, self[f"unit_{unit.pk}"]) for unit in self.units]


class RedrawForm(CrispyForm):
    submit_label = _("Draw again")
    reason = forms.CharField(label=_("Reason for the redraw"), widget=forms.Textarea(attrs={"rows": 3}))


class SessionForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=DateInput())
    starts_at = forms.TimeField(label=_("Starts at"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    ends_at = forms.TimeField(label=_("Ends at"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    place = forms.CharField(label=_("Place"), max_length=100, required=False)


class PlacementForm(forms.Form):
    session = forms.TypedChoiceField(label=_("Session"), coerce=int)
    order = forms.IntegerField(label=_("Order"), min_value=1, max_value=999)

    def __init__(self, *args, sessions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["session"].choices = [(s.pk, s.number) for s in sessions]


class UploadForm(CrispyForm):
    submit_label = _("Upload")
    file = forms.FileField(label=_("Written report (PDF or photo)"))


class CommentForm(CrispyForm):
    submit_label = _("Add the comment")
    leader = forms.CharField(label=pgettext_lazy("commenting", "Leader"), max_length=50)
    text = forms.CharField(label=_("Comment on the spot (即席点评)"), widget=forms.Textarea(attrs={"rows": 2}))


class AssessForm(forms.Form):
    assessor = forms.CharField(label=_("Assessor"), max_length=50)
    score = forms.DecimalField(label=_("Score"), min_value=0, max_value=100, max_digits=5, decimal_places=2)


class SummaryForm(CrispyForm):
    submit_label = _("Save the summary")
    summary_by = forms.CharField(label=_("Summary comment by"), max_length=50)
    summary = forms.CharField(label=_("Summary comment (综合点评)"), widget=forms.Textarea(attrs={"rows": 3}))
