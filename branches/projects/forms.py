from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from branches.forms import CrispyForm, DateInput, MonthField
from branches.models import OrgUnit
from members.models import Member

from .models import Project, ProjectField, ProjectKind, ProjectMember

MONEY = {"max_digits": 12, "decimal_places": 2, "min_value": 0}


def _member_label(member: Member) -> str:
    return f"{member.name} · {member.branch.name}"


class ProjectForm(CrispyForm):
    branch = forms.ModelChoiceField(label=_("lead branch"), queryset=OrgUnit.objects.none())
    kind = forms.ModelChoiceField(label=_("kind"), queryset=ProjectKind.objects.none())
    title = forms.CharField(label=pgettext_lazy("project", "title"), max_length=200)
    field = forms.ChoiceField(label=_("field"), choices=ProjectField.choices)
    year = forms.IntegerField(
        label=_("year"), min_value=2000, max_value=2100, initial=lambda: timezone.localdate().year
    )
    leader = forms.ModelChoiceField(label=_("leader"), queryset=Member.objects.none(), required=False)
    co_branches = forms.ModelMultipleChoiceField(
        label=_("co-operating branches"), queryset=OrgUnit.objects.none(), required=False
    )
    description = forms.CharField(label=_("description"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    budget = forms.DecimalField(label=_("budget (10,000 yuan)"), required=False, **MONEY)
    reward = forms.DecimalField(label=_("reward funds (10,000 yuan)"), required=False, **MONEY)

    def __init__(self, *args, branches, kinds, members, co_branches, project=None, **kwargs):
        super().__init__(*args, **kwargs)
        if project is not None:
            del self.fields["branch"]
        else:
            self.fields["branch"].queryset = branches
        self.fields["kind"].queryset = kinds
        self.fields["leader"].queryset = members.select_related("branch")
        self.fields["leader"].label_from_instance = _member_label
        self.fields["co_branches"].queryset = co_branches


class ReasonForm(CrispyForm):
    reason = forms.CharField(label=_("reason"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ConcludeForm(CrispyForm):
    submit_label = _("Conclude with results")
    results = forms.CharField(label=_("results"), widget=forms.Textarea(attrs={"rows": 4}))


class ProjectMemberForm(CrispyForm):
    submit_label = _("Add to the team")
    member = forms.ModelChoiceField(label=_("member"), queryset=Member.objects.none())
    role = forms.ChoiceField(label=_("role"), choices=ProjectMember.Role.choices, initial=ProjectMember.Role.MEMBER)

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members.select_related("branch")
        self.fields["member"].label_from_instance = _member_label


class TargetForm(CrispyForm):
    submit_label = _("Add the target")
    metric = forms.CharField(label=_("metric"), max_length=100)
    unit = forms.CharField(label=pgettext_lazy("measure", "unit"), max_length=20, required=False)
    baseline = forms.DecimalField(label=_("baseline"), max_digits=14, decimal_places=3)
    target = forms.DecimalField(label=_("target"), max_digits=14, decimal_places=3)
    stretch = forms.DecimalField(label=_("stretch target"), max_digits=14, decimal_places=3, required=False)


class MilestoneForm(CrispyForm):
    submit_label = _("Add the milestone")
    title = forms.CharField(label=pgettext_lazy("milestone", "title"), max_length=200)
    due_on = forms.DateField(label=_("due on"), widget=DateInput())


class MilestoneMoveForm(forms.Form):
    move = forms.ChoiceField(choices=[])
    reason = forms.CharField(required=False, max_length=1000)

    def __init__(self, *args, moves, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["move"].choices = [(m.name, m.label) for m in moves]


class ValueRecordForm(CrispyForm):
    submit_label = _("Record the month")
    month = MonthField(label=_("month"), initial=lambda: timezone.localdate().replace(day=1))
    amount = forms.DecimalField(label=_("value created (10,000 yuan)"), max_digits=12, decimal_places=2, min_value=0)
    progress = forms.CharField(label=_("progress this month"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    evidence = forms.FileField(
        label=_("evidence"),
        required=False,
        help_text=_("Photos (JPG, PNG) or PDF, at most 10 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".jpg,.jpeg,.png,.pdf"}),
    )


class ProjectFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("state"), choices=[("", _("All states"))] + Project.State.choices, required=False)
    kind = forms.ModelChoiceField(label=_("kind"), queryset=ProjectKind.objects.none(), required=False)
    branch = forms.ModelChoiceField(label=_("branch"), queryset=OrgUnit.objects.none(), required=False)
    year = forms.IntegerField(label=_("year"), min_value=2000, max_value=2100, required=False)
    overdue = forms.BooleanField(label=_("with overdue milestones"), required=False)

    def __init__(self, *args, kinds, branches, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].queryset = kinds
        self.fields["branch"].queryset = branches
        for name in ("state", "kind", "branch"):
            self.fields[name].widget.attrs["class"] = "form-select form-select-sm"
        self.fields["year"].widget.attrs["class"] = "form-control form-control-sm"
        self.fields["overdue"].widget.attrs["class"] = "form-check-input"


class ChallengeForm(CrispyForm):
    submit_label = _("Post the challenge")
    committee = forms.ModelChoiceField(label=_("party committee"), queryset=OrgUnit.objects.none())
    kind = forms.ModelChoiceField(label=_("kind"), queryset=ProjectKind.objects.none())
    title = forms.CharField(label=pgettext_lazy("project", "title"), max_length=200)
    field = forms.ChoiceField(label=_("field"), choices=ProjectField.choices)
    description = forms.CharField(label=_("description"), widget=forms.Textarea(attrs={"rows": 4}))
    targets = forms.CharField(label=_("targets"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    deadline = forms.DateField(label=_("claims until"), widget=DateInput())
    reward = forms.DecimalField(label=_("reward (10,000 yuan)"), required=False, **MONEY)

    def __init__(self, *args, committees, kinds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["committee"].queryset = committees
        self.fields["kind"].queryset = kinds


class ClaimForm(CrispyForm):
    submit_label = _("Claim the challenge")
    branch = forms.ModelChoiceField(label=_("branch"), queryset=OrgUnit.objects.none())
    leader = forms.ModelChoiceField(
        label=_("leader"),
        queryset=Member.objects.none(),
        required=False,
        help_text=_("The member who claims it, if a member does."),
    )
    pledge = forms.CharField(
        label=_("pledge"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the claimant promises to achieve (军令状)."),
    )
    pledge_by = forms.DateField(label=_("achieved by"), widget=DateInput())

    def __init__(self, *args, branches, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches
        self.fields["leader"].queryset = members.select_related("branch")
        self.fields["leader"].label_from_instance = _member_label


class KindForm(CrispyForm):
    submit_label = _("Add the kind")
    name = forms.CharField(label=_("name"), max_length=50)


class GradeNamesForm(CrispyForm):
    submit_label = _("Save the grade names")
    grade_1_name = forms.CharField(label=_("first grade"), max_length=20)
    grade_2_name = forms.CharField(label=_("second grade"), max_length=20)
    grade_3_name = forms.CharField(label=_("third grade"), max_length=20)
