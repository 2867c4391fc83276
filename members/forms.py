from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from branches.forms import CrispyForm, DateInput
from branches.models import OrgUnit

from .models import Member, MemberHonour, MemberRole, Membership


class MemberForm(CrispyForm):
    """Create and edit. Cross-field rules (dates in order, unique employee number, group
    in branch) are checked by ``members.services.member_validate`` via the view."""

    name = forms.CharField(label=pgettext_lazy("person", "name"), max_length=50)
    gender = forms.ChoiceField(label=_("gender"), choices=Member.Gender.choices)
    birth_date = forms.DateField(label=_("date of birth"), widget=DateInput())
    ethnicity = forms.CharField(label=_("ethnicity"), max_length=20, required=False)
    employee_no = forms.CharField(label=_("employee number"), max_length=30)
    phone = forms.RegexField(
        label=_("phone"),
        regex=r"^[0-9+\- ]{5,20}$",
        required=False,
        error_messages={"invalid": _("Enter a phone number of digits, spaces, + or -.")},
    )
    branch = forms.ModelChoiceField(label=_("branch"), queryset=OrgUnit.objects.none())
    group = forms.ModelChoiceField(label=_("party group"), queryset=OrgUnit.objects.none(), required=False)
    post = forms.CharField(label=_("post"), max_length=100, required=False)
    status = forms.ChoiceField(label=_("status"), choices=Member.Status.choices)
    joined_on = forms.DateField(label=_("date joined the Party"), widget=DateInput())
    converted_on = forms.DateField(label=_("date of conversion to full member"), widget=DateInput(), required=False)
    started_on = forms.DateField(
        label=_("in this branch since"),
        widget=DateInput(),
        initial=timezone.localdate,
        help_text=_("The first day of the member's membership period in this branch."),
    )

    def __init__(self, *args, branches, member: Member | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["employee_no"].widget.attrs["autocomplete"] = "off"
        if member is None:
            self.fields["branch"].queryset = branches
            branch_ids = branches.values("pk")
        else:
            # Placement changes go through the transfer page, which keeps the history.
            del self.fields["branch"]
            del self.fields["started_on"]
            branch_ids = [member.branch_id]
        self.fields["group"].queryset = OrgUnit.objects.filter(
            kind=OrgUnit.Kind.GROUP, parent__in=branch_ids, dissolved_on__isnull=True
        ).select_related("parent")
        self.fields["group"].label_from_instance = lambda g: f"{g.parent.name} · {g.name}" if member is None else g.name

    def clean_employee_no(self):
        return self.cleaned_data["employee_no"].strip()


class TransferForm(CrispyForm):
    submit_label = _("Transfer")
    to_branch = forms.ModelChoiceField(label=_("to branch"), queryset=OrgUnit.objects.none())
    to_group = forms.ModelChoiceField(label=_("party group"), queryset=OrgUnit.objects.none(), required=False)
    on_date = forms.DateField(label=_("effective date"), widget=DateInput(), initial=timezone.localdate)
    note = forms.CharField(label=_("note"), max_length=300, required=False)

    def __init__(self, *args, branches, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_branch"].queryset = branches
        self.fields["to_group"].queryset = OrgUnit.objects.filter(
            kind=OrgUnit.Kind.GROUP, parent__in=branches.values("pk")
        ).select_related("parent")
        self.fields["to_group"].label_from_instance = lambda g: f"{g.parent.name} · {g.name}"


class LeaveForm(CrispyForm):
    submit_label = _("Record leaving")
    on_date = forms.DateField(label=_("left on"), widget=DateInput(), initial=timezone.localdate)
    reason = forms.ChoiceField(
        label=_("reason"),
        choices=[
            (c.value, c.label)
            for c in Membership.EndReason
            if c not in (Membership.EndReason.TRANSFER, Membership.EndReason.GROUP_CHANGE)
        ],
    )
    note = forms.CharField(label=_("note"), max_length=300, required=False)


class RoleAssignForm(CrispyForm):
    submit_label = _("Appoint")
    member = forms.ModelChoiceField(label=_("member"), queryset=Member.objects.none())
    role = forms.ChoiceField(label=_("role"), choices=[(r.value, r.label) for r in MemberRole.COMMITTEE_ROLES])
    started_on = forms.DateField(label=_("from"), widget=DateInput(), initial=timezone.localdate)

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members
        self.fields["member"].label_from_instance = lambda m: f"{m.name} ({m.employee_no})"


class GroupLeaderForm(RoleAssignForm):
    role = forms.ChoiceField(
        label=_("role"), choices=[(MemberRole.Role.GROUP_LEADER.value, MemberRole.Role.GROUP_LEADER.label)]
    )


class RoleEndForm(CrispyForm):
    submit_label = _("End the role")
    ended_on = forms.DateField(label=_("until"), widget=DateInput(), initial=timezone.localdate)


class HonourForm(CrispyForm):
    submit_label = _("Award")
    kind = forms.ChoiceField(label=_("honour"), choices=MemberHonour.Kind.choices)
    title = forms.CharField(label=_("title"), max_length=100, required=False)
    stars = forms.TypedChoiceField(
        label=_("stars"),
        choices=[("", "—")] + [(i, "★" * i) for i in range(1, 6)],
        coerce=int,
        empty_value=None,
        required=False,
    )
    awarded_on = forms.DateField(label=_("awarded on"), widget=DateInput(), initial=timezone.localdate)


class HonourRevokeForm(CrispyForm):
    submit_label = _("Revoke")
    revoked_on = forms.DateField(label=_("revoked on"), widget=DateInput(), initial=timezone.localdate)
    reason = forms.CharField(label=_("reason for revoking"), max_length=300)


class RosterFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    branch = forms.ModelChoiceField(label=_("unit"), queryset=OrgUnit.objects.none(), required=False)
    group = forms.ModelChoiceField(label=_("party group"), queryset=OrgUnit.objects.none(), required=False)
    status = forms.ChoiceField(
        label=_("status"), choices=[("", _("All statuses"))] + Member.Status.choices, required=False
    )
    role = forms.ChoiceField(label=_("role"), choices=[("", _("All roles"))] + MemberRole.Role.choices, required=False)
    include_left = forms.BooleanField(label=_("Include members who left"), required=False)

    def __init__(self, *args, units, groups, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = units
        self.fields["group"].queryset = groups
        for name in ("status", "role"):
            self.fields[name].widget.attrs["class"] = "form-select form-select-sm"
