from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Kind


class PreferencesForm(forms.Form):
    emailed = forms.MultipleChoiceField(
        label=_("E-mail me these reminders in the daily digest"),
        choices=Kind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
