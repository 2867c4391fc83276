"""Forms of the suggestion pages: entering one for members of a branch, and the fields
a move takes (a reason, the realised benefit and its evidence). The checks that matter
are the services'; they reach the form through ``call_service``."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from branches.forms import CrispyForm, DateInput
from branches.models import OrgUnit
from members.models import Member

from .models import Field


class SuggestionForm(CrispyForm):
    submit_label = _("Enter the suggestion")
    title = forms.CharField(label=pgettext_lazy("suggestion", "title"), max_length=200)
    proposers = forms.ModelMultipleChoiceField(
        label=_("proposers"),
        queryset=Member.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("One or more members of the branch."),
    )
    field = forms.ChoiceField(label=_("field"), choices=Field.choices)
    text = forms.CharField(label=_("suggestion"), widget=forms.Textarea(attrs={"rows": 5}))
    expected_benefit = forms.CharField(
        label=_("expected benefit"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    expected_value = forms.DecimalField(
        label=_("expected value (10k yuan)"), required=False, min_value=0, max_digits=10, decimal_places=2
    )
    submitted_on = forms.DateField(label=_("submitted on"), widget=DateInput(), initial=timezone.localdate)

    def __init__(self, *args, branch: OrgUnit, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["proposers"].queryset = Member.objects.filter(branch=branch, left_on__isnull=True).order_by(
            "name", "pk"
        )


class MoveForm(forms.Form):
    """A move's fields: every move may carry a reason (rejections and undos must);
    the implementation takes the realised benefit and its evidence."""

    reason = forms.CharField(label=_("reason"), required=False, max_length=2000)
    realised_value = forms.DecimalField(
        label=_("realised benefit (10k yuan)"), required=False, min_value=0, max_digits=10, decimal_places=2
    )
    evidence = forms.FileField(label=_("evidence"), required=False)
