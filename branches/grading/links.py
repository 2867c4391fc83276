"""Who may follow a link to a grading page: the rules ``branches.links`` asks, each
calling ``grading.access`` as the view does. Published boards are for everyone under
the committee; drafts (``?draft=1``), inputs, runs, publication and talks for those who
manage its grading."""

from branches.links import passes, rule
from branches.models import OrgUnit
from branches.selectors import committee_for
from members.ledger.rule_access import get_committee_to_customise, get_rule_set_for_user

from .access import get_committee_for_user
from .models import AnnualGrade, GradingRun, Publication


def _manages(user, committee_pk) -> bool:
    return passes(get_committee_for_user, user, committee_pk, manage=True)


def _sees(user, committee_pk, query=None) -> bool:
    """The committee's published boards; its draft too when the link asks for it."""
    draft = query is not None and query.get("draft", "") not in ("", "0")
    return passes(get_committee_for_user, user, committee_pk, manage=draft)


def _branch_under(committee_pk, branch_pk) -> bool:
    committee = OrgUnit.objects.filter(pk=committee_pk).only("path").first()
    return (
        committee is not None
        and OrgUnit.objects.filter(pk=branch_pk, kind=OrgUnit.Kind.BRANCH, path__startswith=committee.path).exists()
    )


@rule("grading:runs", "grading:inputs", "grading:publish", "grading:talks", "grading:talk_create", "grading:annual")
def _manage_pages(user, *, committee_pk, **_kwargs) -> bool:
    return _manages(user, committee_pk)


@rule("grading:run_detail", "grading:run_progress")
def _run(user, *, pk, **_kwargs) -> bool:
    committee_pk = GradingRun.objects.filter(pk=pk).values_list("committee_id", flat=True).first()
    return committee_pk is not None and _manages(user, committee_pk)


@rule("grading:input_cell", "grading:input_history", "grading:input_item_cell", "grading:input_item_history")
def _input(user, *, branch_pk, **_kwargs) -> bool:
    branch = OrgUnit.objects.filter(pk=branch_pk, kind=OrgUnit.Kind.BRANCH).first()
    committee = committee_for(unit=branch) if branch is not None else None
    return committee is not None and _manages(user, committee.pk)


@rule("grading:annual_confirm")
def _annual_confirm(user, *, grade_pk, **_kwargs) -> bool:
    committee_pk = AnnualGrade.objects.filter(pk=grade_pk).values_list("committee_id", flat=True).first()
    return committee_pk is not None and _manages(user, committee_pk)


@rule("grading:board", "grading:latest_board", "grading:annual_members", "grading:group_board", "grading:group_year")
def _board(user, *, committee_pk, query, **_kwargs) -> bool:
    return _sees(user, committee_pk, query)


@rule("grading:explain_branch", "grading:screen")
def _branch_board(user, *, committee_pk, branch_pk, query, **_kwargs) -> bool:
    return _sees(user, committee_pk, query) and _branch_under(committee_pk, branch_pk)


@rule("grading:publication_changes")
def _changes(user, *, pk, **_kwargs) -> bool:
    committee_pk = Publication.objects.filter(pk=pk).values_list("committee_id", flat=True).first()
    return committee_pk is not None and _sees(user, committee_pk)


def _group_under(committee_pk, group_pk) -> bool:
    committee = OrgUnit.objects.filter(pk=committee_pk).only("path").first()
    return (
        committee is not None
        and OrgUnit.objects.filter(pk=group_pk, kind=OrgUnit.Kind.GROUP, path__startswith=committee.path).exists()
    )


@rule("grading:explain_group")
def _group_board(user, *, committee_pk, group_pk, query, **_kwargs) -> bool:
    return _sees(user, committee_pk, query) and _group_under(committee_pk, group_pk)


@rule("grading:branch_groups")
def _branch_groups(user, *, branch_pk, **_kwargs) -> bool:
    """The branch's groups on its committee's published group board."""
    branch = OrgUnit.objects.filter(pk=branch_pk, kind=OrgUnit.Kind.BRANCH).first()
    committee = committee_for(unit=branch) if branch is not None else None
    return committee is not None and _sees(user, committee.pk)


@rule("grading:version_preview")
def _version_preview(user, *, pk, **_kwargs) -> bool:
    return passes(get_rule_set_for_user, user, pk, write=True)


@rule("grading:customise_preview")
def _customise_preview(user, *, committee_pk, **_kwargs) -> bool:
    return passes(get_committee_to_customise, user, committee_pk)
