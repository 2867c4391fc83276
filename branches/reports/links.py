"""Who may follow a link to a report: the rules ``branches.links`` asks. Year-end files
and a month's XLSX are for those who manage the committee's grading; a board PDF for everyone who sees the
board; a branch's dossier for the committee's staff and for the branch itself."""

from branches.access import user_scope
from branches.grading.access import can_manage_grading, get_committee_for_user
from branches.links import granted, passes, rule
from branches.models import OrgUnit

from .models import ReportFile


@rule("reports:exports", "reports:board_xlsx")
def _exports(user, *, committee_pk, **_kwargs) -> bool:
    return passes(get_committee_for_user, user, committee_pk, manage=True)


@rule("reports:file", "reports:file_progress", "reports:download")
def _file(user, *, pk, **_kwargs) -> bool:
    committee_pk = ReportFile.objects.filter(pk=pk).values_list("committee_id", flat=True).first()
    return committee_pk is not None and passes(get_committee_for_user, user, committee_pk, manage=True)


@rule("reports:board_pdf")
def _board_pdf(user, *, committee_pk, **_kwargs) -> bool:
    return passes(get_committee_for_user, user, committee_pk)


@rule("reports:dossier_pdf")
def _dossier_pdf(user, *, committee_pk, branch_pk, **_kwargs) -> bool:
    committee = granted(get_committee_for_user, user, committee_pk)
    branch = OrgUnit.objects.filter(pk=branch_pk, kind=OrgUnit.Kind.BRANCH).first()
    if committee is None or branch is None or not branch.is_within(committee):
        return False
    return can_manage_grading(user, committee) or user_scope(user).contains(branch)
