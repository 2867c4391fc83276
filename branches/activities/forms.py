from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from branches.choices import ActivityKind
from branches.forms import CrispyForm, DateInput
from branches.models import OrgUnit


class ActivityForm(CrispyForm):
    branch = forms.ModelChoiceField(label=_("branch"), queryset=OrgUnit.objects.none())
    kind = forms.ChoiceField(label=_("type"), choices=ActivityKind.choices)
    group = forms.ModelChoiceField(
        label=_("party group"),
        queryset=OrgUnit.objects.none(),
        required=False,
        help_text=_("Only for a party group meeting."),
    )
    title = forms.CharField(label=pgettext_lazy("activity", "title"), max_length=200)
    date = forms.DateField(label=_("date"), widget=DateInput(), initial=timezone.localdate)
    place = forms.CharField(label=_("place"), max_length=200, required=False)
    host = forms.CharField(label=_("host"), max_length=100, required=False)
    class_hours = forms.DecimalField(
        label=_("class hours"),
        max_digits=4,
        decimal_places=1,
        required=False,
        help_text=_("For study and training and for Party lectures."),
    )
    minutes = forms.CharField(label=_("minutes"), required=False, widget=forms.Textarea(attrs={"rows": 6}))

    def __init__(self, *args, branches=None, activity=None, **kwargs):
        super().__init__(*args, **kwargs)
        if activity is not None:
            # Type, branch and group decide who was expected: fixed once logged.
            for name in ("branch", "kind", "group"):
                del self.fields[name]
            return
        self.fields["branch"].queryset = branches
        self.fields["group"].queryset = OrgUnit.objects.filter(
            kind=OrgUnit.Kind.GROUP, parent__in=branches.values("pk"), dissolved_on__isnull=True
        ).select_related("parent")
        self.fields["group"].label_from_instance = lambda g: f"{g.parent.name} · {g.name}"


class CancelForm(CrispyForm):
    submit_label = _("Cancel the activity")
    reason = forms.CharField(label=_("reason for cancelling"), max_length=300)


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("photo or PDF"))


class ActivityFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    unit = forms.ModelChoiceField(label=_("unit"), queryset=OrgUnit.objects.none(), required=False)
    kind = forms.ChoiceField(label=_("type"), choices=[("", _("All types")), *ActivityKind.choices], required=False)
    date_from = forms.DateField(label=_("from"), required=False, widget=DateInput())
    date_to = forms.DateField(label=_("until"), required=False, widget=DateInput())
    include_cancelled = forms.BooleanField(label=_("Include cancelled"), required=False)

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units
        for field in self.fields.values():
            if not isinstance(field, forms.BooleanField):
                field.widget.attrs["class"] = "form-control form-control-sm"
        self.fields["kind"].widget.attrs["class"] = "form-select form-select-sm"
        self.fields["unit"].widget.attrs["class"] = "form-select form-select-sm"
