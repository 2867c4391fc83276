from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from branches.forms import CrispyForm
from members.suggestions.models import Field


class MySuggestionForm(CrispyForm):
    """A suggestion the member puts forward themselves: they are its proposer."""

    submit_label = _("Submit the suggestion")
    title = forms.CharField(label=pgettext_lazy("suggestion", "title"), max_length=200)
    field = forms.ChoiceField(label=_("field"), choices=Field.choices)
    text = forms.CharField(label=_("suggestion"), widget=forms.Textarea(attrs={"rows": 5}))
    expected_benefit = forms.CharField(
        label=_("expected benefit"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class IssueLoginForm(forms.Form):
    """A bare POST (the button on the member page, the branch sheet): nothing to fill."""
