"""Who may follow a link to a project or challenge page: the rules ``branches.links``
asks, each calling ``projects.access`` as the view does."""

from django.core.exceptions import ObjectDoesNotExist

from branches.access import writable_branches
from branches.links import granted, passes, rule

from .access import committees_managed, get_challenge_for_user, get_committee_for_user, get_project_for_user
from .models import ValueRecord
from .workflow import EDITABLE


@rule("projects:list", "projects:challenges")
def _lists(user, **_kwargs) -> bool:
    return True


@rule("projects:create")
def _create(user, **_kwargs) -> bool:
    return writable_branches(user).exists()


@rule("projects:challenge_create")
def _challenge_create(user, **_kwargs) -> bool:
    return committees_managed(user).exists()


@rule("projects:detail")
def _detail(user, *, pk, **_kwargs) -> bool:
    return passes(get_project_for_user, user, pk)


@rule("projects:edit")
def _edit(user, *, pk, **_kwargs) -> bool:
    project = granted(get_project_for_user, user, pk, write=True)
    return project is not None and project.state in EDITABLE


@rule("projects:challenge")
def _challenge(user, *, pk, **_kwargs) -> bool:
    return passes(get_challenge_for_user, user, pk)


@rule("projects:evidence")
def _evidence(user, *, pk, **_kwargs) -> bool:
    try:
        record = ValueRecord.objects.only("project_id", "evidence").get(pk=pk)
    except ObjectDoesNotExist:
        return False
    return bool(record.evidence) and passes(get_project_for_user, user, record.project_id)


@rule("projects:queue", "projects:evaluation", "projects:summary", "projects:settings")
def _committee_pages(user, *, committee_pk, **_kwargs) -> bool:
    return passes(get_committee_for_user, user, committee_pk)


@rule(
    "projects:move",
    "projects:team_add",
    "projects:team_remove",
    "projects:target_add",
    "projects:milestone_add",
    "projects:milestone_move",
    "projects:value_add",
    "projects:challenge_claim",
    "projects:challenge_close",
    "projects:claim_pick",
)
def _posts(user, **_kwargs) -> bool:
    return False  # buttons and forms of the pages, never a link
