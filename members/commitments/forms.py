from django import forms
from django.utils.translation import gettext_lazy as _

from branches.forms import CrispyForm, DateInput
from members.models import Member

from .models import Field, Result


class TargetForm(CrispyForm):
    text = forms.CharField(label=_("commitment"), widget=forms.Textarea(attrs={"rows": 3}))
    field = forms.ChoiceField(label=_("field"), choices=Field.choices)
    target_text = forms.CharField(
        label=_("measurable target"), max_length=200, required=False, help_text=_("For example 零违章, 全年无事故.")
    )
    target_value = forms.DecimalField(
        label=_("target value"), max_digits=12, decimal_places=2, required=False, min_value=0
    )
    target_unit = forms.CharField(
        label=_("unit of the target"), max_length=20, required=False, help_text=_("次, 件, 小时 …")
    )
    due_on = forms.DateField(label=_("due on"), required=False, widget=DateInput())


class CommitmentForm(TargetForm):
    member = forms.ModelChoiceField(
        label=_("member"),
        queryset=Member.objects.none(),
        required=False,
        empty_label=_("— the branch's own commitment —"),
    )
    milestones = forms.CharField(
        label=_("milestones"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One a line; a date (YYYY-MM-DD) at the start of a line sets its due date."),
    )
    field_order = ["member", "text", "field", "target_text", "target_value", "target_unit", "due_on", "milestones"]

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members

    def clean_milestones(self):
        rows = []
        for line in self.cleaned_data["milestones"].splitlines():
            line = line.strip()
            if not line:
                continue
            head, _sep, rest = line.partition(" ")
            try:
                due = forms.DateField().clean(head) if rest else None
            except forms.ValidationError:
                due = None
            rows.append((rest.strip(), due) if due else (line, None))
        return rows


class TemplateForm(TargetForm):
    submit_label = _("Save the template")


class MilestoneForm(CrispyForm):
    submit_label = _("Add the milestone")
    title = forms.CharField(label=_("milestone"), max_length=200)
    due_on = forms.DateField(label=_("due on"), required=False, widget=DateInput())


class CheckCellForm(forms.Form):
    result = forms.ChoiceField(label=_("result"), choices=Result.choices)
    note = forms.CharField(label=_("note"), max_length=300, required=False)
    evidence = forms.FileField(label=_("evidence"), required=False)


class PublishForm(CrispyForm):
    submit_label = _("Publish the results")
    note = forms.CharField(label=_("note"), max_length=300, required=False)
