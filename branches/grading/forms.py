"""Forms of the grading pages. They parse; the services validate (range, decimals,
dates, who may be talked with) so every page and the shell share one set of rules."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from branches.forms import CrispyForm, DateInput


class ScoreCellForm(forms.Form):
    """One cell of the input grid: a score, or "not assessed"."""

    score = forms.DecimalField(label=_("score"), required=False)
    not_assessed = forms.BooleanField(label=_("not assessed"), required=False)


class PublishForm(CrispyForm):
    submit_label = _("Publish")
    note = forms.CharField(label=_("note"), max_length=300, required=False)


class PublicationReopenForm(CrispyForm):
    submit_label = _("Reopen the month")
    reason = forms.CharField(label=_("reason for reopening"), widget=forms.Textarea(attrs={"rows": 3}))


class TalkForm(CrispyForm):
    submit_label = _("Record the talk")
    held_on = forms.DateField(label=_("held on"), widget=DateInput(), initial=timezone.localdate)
    talked_by = forms.CharField(label=_("talk held by"), max_length=100)
    talked_with = forms.CharField(label=_("talk held with"), max_length=100)
    notes = forms.CharField(label=_("notes"), widget=forms.Textarea(attrs={"rows": 5}))
    actions = forms.CharField(label=_("agreed actions"), widget=forms.Textarea(attrs={"rows": 4}))
