from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from branches.forms import CrispyForm, DateInput

from .models import MemberTalk, Rating
from .services import ResultRow


class ReviewStartForm(CrispyForm):
    submit_label = _("Start the review")
    # The latest meeting is chosen already: most branches hold one a year.
    meeting = forms.ModelChoiceField(label=_("review meeting"), queryset=None, empty_label=None)

    def __init__(self, *args, meetings, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["meeting"].queryset = meetings


class ReasonForm(CrispyForm):
    reason = forms.CharField(label=_("reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, submit_label=None, **kwargs):
        if submit_label:
            self.submit_label = submit_label
        super().__init__(*args, **kwargs)


class ReviewGridForm(forms.Form):
    """One row of fields per member of the grid: ``rating_<id>``, ``votes_for_<id>``,
    ``votes_cast_<id>``, ``note_<id>``; rendered as a table by the template."""

    def __init__(self, *args, rows, **kwargs):
        super().__init__(*args, **kwargs)
        self.member_ids = []
        choices = [("", "—"), *Rating.choices]
        for row in rows:
            pk, result = row.member.pk, row.result
            self.member_ids.append(pk)
            self.fields[f"rating_{pk}"] = forms.ChoiceField(
                label=pgettext_lazy("review", "rating"),
                choices=choices,
                required=False,
                initial=result.rating if result else "",
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
            )
            self.fields[f"votes_for_{pk}"] = forms.IntegerField(
                label=_("votes for the rating"),
                min_value=0,
                max_value=9999,
                required=False,
                initial=result.votes_for if result else None,
                widget=forms.NumberInput(attrs={"class": "form-control form-control-sm pb-votes"}),
            )
            self.fields[f"votes_cast_{pk}"] = forms.IntegerField(
                label=_("votes cast"),
                min_value=0,
                max_value=9999,
                required=False,
                initial=result.votes_cast if result else None,
                widget=forms.NumberInput(attrs={"class": "form-control form-control-sm pb-votes"}),
            )
            self.fields[f"note_{pk}"] = forms.CharField(
                label=_("note"),
                max_length=300,
                required=False,
                initial=result.note if result else "",
                widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
            )

    def bound_rows(self, rows):
        """(grid row, its four bound fields) for the template."""
        return [
            (row, [self[f"{name}_{row.member.pk}"] for name in ("rating", "votes_for", "votes_cast", "note")])
            for row in rows
        ]

    def result_rows(self) -> list[ResultRow]:
        data = self.cleaned_data
        return [
            ResultRow(
                member_id=pk,
                rating=data[f"rating_{pk}"],
                votes_for=data[f"votes_for_{pk}"],
                votes_cast=data[f"votes_cast_{pk}"],
                note=data[f"note_{pk}"],
            )
            for pk in self.member_ids
        ]


class SupportPlanForm(CrispyForm):
    submit_label = _("Make the support plan")
    helpers = forms.ModelMultipleChoiceField(
        label=_("helpers"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    measures = forms.CharField(label=_("measures"), widget=forms.Textarea(attrs={"rows": 4}))
    review_on = forms.DateField(label=_("review date"), widget=DateInput())

    def __init__(self, *args, helpers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["helpers"].queryset = helpers


class FollowUpForm(CrispyForm):
    submit_label = _("Add the follow-up")
    date = forms.DateField(label=_("date"), widget=DateInput(), initial=timezone.localdate)
    note = forms.CharField(label=_("follow-up"), widget=forms.Textarea(attrs={"rows": 3}))


class PlanCloseForm(CrispyForm):
    submit_label = _("Close the plan")
    closed_on = forms.DateField(label=_("closed on"), widget=DateInput(), initial=timezone.localdate)
    outcome = forms.CharField(label=_("outcome"), widget=forms.Textarea(attrs={"rows": 3}))


class TalkForm(CrispyForm):
    held_on = forms.DateField(label=_("held on"), widget=DateInput(), initial=timezone.localdate)
    kind = forms.ChoiceField(label=_("kind of talk"), choices=MemberTalk.Kind.choices)
    talker_name = forms.CharField(label=_("talk held by"), max_length=50)
    talker_role = forms.CharField(label=_("their role"), max_length=50, required=False)
    topic = forms.CharField(label=_("topic"), widget=forms.Textarea(attrs={"rows": 3}))
    follow_up = forms.CharField(label=_("follow-up"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    follow_up_due = forms.DateField(label=_("follow-up due"), widget=DateInput(), required=False)


class TalkDoneForm(CrispyForm):
    submit_label = _("Mark the follow-up done")
    done_on = forms.DateField(label=_("done on"), widget=DateInput(), initial=timezone.localdate)
