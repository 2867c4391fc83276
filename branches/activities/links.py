"""Who may follow a link to an activity or compliance page: the rules ``branches.links``
asks, each calling ``activities.access`` (and ``branches.access``) as the view does."""

from django.core.exceptions import ObjectDoesNotExist

from branches.access import can_write_unit, get_unit_for_user, writable_branches
from branches.links import granted, passes, rule

from .access import get_activity_for_user
from .models import ActivityAttachment


@rule("activities:list")
def _list(user, **_kwargs) -> bool:
    return True


@rule("activities:create")
def _create(user, **_kwargs) -> bool:
    return writable_branches(user).exists()


@rule("activities:detail")
def _detail(user, *, pk, **_kwargs) -> bool:
    return passes(get_activity_for_user, user, pk)


@rule("activities:edit")
def _edit(user, *, pk, **_kwargs) -> bool:
    activity = granted(get_activity_for_user, user, pk, write=True)
    return activity is not None and not activity.is_cancelled


@rule("activities:cancel")
def _cancel(user, *, pk, **_kwargs) -> bool:
    return passes(get_activity_for_user, user, pk, write=True)


@rule("activities:attendance", "activities:attachment_upload")
def _posts(user, **_kwargs) -> bool:
    return False  # buttons and forms of the activity page, never a link


@rule("activities:attachment")
def _attachment(user, *, pk, **_kwargs) -> bool:
    try:
        activity_id = ActivityAttachment.objects.values_list("activity_id", flat=True).get(pk=pk)
    except ObjectDoesNotExist:
        return False
    return passes(get_activity_for_user, user, activity_id)


@rule("activities:calendar")
def _calendar(user, *, unit_pk, **_kwargs) -> bool:
    return passes(get_unit_for_user, user, unit_pk)


@rule("activities:compliance_matrix", "activities:training_hours")
def _unit_pages(user, *, unit_pk, **_kwargs) -> bool:
    unit = granted(get_unit_for_user, user, unit_pk)
    return unit is not None and not unit.is_group


@rule("activities:compliance_month")
def _compliance_month(user, *, branch_pk, **_kwargs) -> bool:
    branch = granted(get_unit_for_user, user, branch_pk)
    return branch is not None and branch.is_branch


@rule("activities:today_sign_ins")
def _today_sign_ins(user, *, branch_pk, **_kwargs) -> bool:
    branch = granted(get_unit_for_user, user, branch_pk)
    return branch is not None and branch.is_branch and can_write_unit(user, branch)


@rule("activities:qr", "activities:qr_panel", "activities:attendance_rows", "activities:qr_checkin")
def _qr(user, **_kwargs) -> bool:
    return False  # an image, fragments the page polls, and the URL inside the code: never links
